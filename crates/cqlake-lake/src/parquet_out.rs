//! Plain Parquet output: one directory per table, one file per table, no log.

use std::collections::HashSet;
use std::fs::File;
use std::path::PathBuf;

use cqlake_ingest::flatten::FlatBatch;
use cqlake_schema::TableId;
use parquet::arrow::ArrowWriter;

use crate::plan::{CallRows, select};
use crate::{Error, Result, writer_properties};

/// Writes flattened batches as plain Parquet files under `<out>/<table>/part-NNNNN.parquet`.
///
/// Within a run, the newest record of each call wins among the batches written together; a
/// plain Parquet export has no log to replace earlier files with, so use the Delta lake for
/// repeated, overlapping exports.
pub struct ParquetWriter {
    root: PathBuf,
    writers: Vec<Option<ArrowWriter<File>>>,
    rows: [u64; 6],
}

impl ParquetWriter {
    /// Creates `<out>/<table>/` directories; fails if a table directory already holds files.
    pub fn create(out: impl Into<PathBuf>) -> Result<Self> {
        let root = out.into();
        for t in TableId::ALL {
            let dir = root.join(t.name());
            std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
                path: dir.display().to_string(),
                source: e,
            })?;
            let busy = std::fs::read_dir(&dir)
                .map_err(|e| Error::Io {
                    path: dir.display().to_string(),
                    source: e,
                })?
                .next()
                .is_some();
            if busy {
                return Err(Error::Io {
                    path: dir.display().to_string(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        "directory is not empty; choose a new --out",
                    ),
                });
            }
        }
        Ok(ParquetWriter {
            root,
            writers: (0..6).map(|_| None).collect(),
            rows: [0; 6],
        })
    }

    /// Writes one batch.
    pub fn push(&mut self, batch: FlatBatch) -> Result<()> {
        let sel = select(
            std::slice::from_ref(&batch),
            &CallRows::default(),
            &HashSet::new(),
            &HashSet::new(),
        )?;
        for t in TableId::ALL {
            for b in &sel.rows[t.index()] {
                let w = match &mut self.writers[t.index()] {
                    Some(w) => w,
                    slot => {
                        let path = self.root.join(t.name()).join("part-00000.parquet");
                        let f = File::create(&path).map_err(|e| Error::Io {
                            path: path.display().to_string(),
                            source: e,
                        })?;
                        let w =
                            ArrowWriter::try_new(f, t.table().schema(), Some(writer_properties()))
                                .map_err(|e| Error::Parquet {
                                    path: path.display().to_string(),
                                    source: e,
                                })?;
                        slot.insert(w)
                    }
                };
                w.write(b).map_err(|e| Error::Parquet {
                    path: t.name().into(),
                    source: e,
                })?;
                self.rows[t.index()] += b.num_rows() as u64;
            }
        }
        Ok(())
    }

    /// Closes every file; returns rows written per table.
    pub fn finish(mut self) -> Result<[u64; 6]> {
        for t in TableId::ALL {
            if let Some(w) = self.writers[t.index()].take() {
                w.close().map_err(|e| Error::Parquet {
                    path: t.name().into(),
                    source: e,
                })?;
            }
        }
        Ok(self.rows)
    }
}
