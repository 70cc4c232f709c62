//! Plain Parquet output: the lake's layout (one directory per table, partitioned by
//! `call_start_date` in `name=value` directories, zstd), without a log.

use std::collections::HashSet;
use std::path::PathBuf;

use cqlake_schema::TableId;
use cqlake_schema::batch::FlatBatch;

use crate::encode::{RowGroup, encode};
use crate::files::{DataFiles, Target};
use crate::plan::{CallRows, select};
use crate::{Error, Result};

/// Writes flattened batches as plain Parquet files under
/// `<out>/<table>/call_start_date=YYYY-MM-DD/part-*.parquet` (Hive-style partitions, which
/// DuckDB, Polars, pyarrow and Spark read as a column).
///
/// Within a run, the newest record of each call wins among the records of one batch; a plain
/// Parquet export has no log to replace earlier files with, so use the Delta lake for repeated,
/// overlapping exports.
pub struct ParquetWriter {
    files: DataFiles<()>,
    rows: [u64; 6],
    side: crate::side::SideTables,
}

/// A batch encoded for a [`ParquetWriter`] (see [`ParquetWriter::prepare`]).
pub struct PreparedRows {
    row_groups: Vec<RowGroup>,
}

impl ParquetWriter {
    /// Creates `<out>/<table>/` directories; fails if a table directory already holds files.
    pub fn create(out: impl Into<PathBuf>) -> Result<Self> {
        let root = out.into();
        for t in TableId::ALL {
            let dir = root.join(t.name());
            let io = |e| Error::Io {
                path: dir.display().to_string(),
                source: e,
            };
            std::fs::create_dir_all(&dir).map_err(io)?;
            if std::fs::read_dir(&dir).map_err(io)?.next().is_some() {
                return Err(io(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "directory is not empty; choose a new --out",
                )));
            }
        }
        let run_id = std::process::id().to_string();
        Ok(ParquetWriter {
            side: crate::side::SideTables::parquet(root.clone()),
            files: DataFiles::new(Target::Local(root), run_id, |_| ()),
            rows: [0; 6],
        })
    }

    /// Keeps the newest record of each call in `batch` and encodes its rows; runs anywhere (the
    /// pipeline's workers).
    pub fn prepare(batch: impl Into<FlatBatch>) -> Result<PreparedRows> {
        let batch = batch.into();
        let sel = select(
            std::slice::from_ref(&batch),
            &CallRows::default(),
            &HashSet::new(),
            &Default::default(),
            &Default::default(),
        )?;
        let mut row_groups = Vec::new();
        for t in TableId::ALL {
            for b in &sel.rows[t.index()] {
                if b.num_rows() > 0 {
                    row_groups.extend(encode(t, b)?);
                }
            }
        }
        Ok(PreparedRows { row_groups })
    }

    /// Writes a prepared batch.
    pub fn push_prepared(&mut self, p: PreparedRows) -> Result<()> {
        for rg in p.row_groups {
            self.rows[rg.table.index()] += rg.rows as u64;
            self.files.append(rg)?;
        }
        self.files.tick()
    }

    /// Prepares and writes one batch.
    pub fn push(&mut self, batch: FlatBatch) -> Result<()> {
        self.push_prepared(Self::prepare(batch)?)
    }

    /// Adds rows of the side tables: each is written, one row per key, to one file
    /// `<out>/<table>/part-*.parquet` at [`ParquetWriter::finish`].
    pub fn push_side(&mut self, batch: cqlake_schema::batch::SideBatch) -> Result<()> {
        futures::executor::block_on(self.side.push(batch))
    }

    /// Closes every file; returns rows written per call table and per side table.
    pub fn finish(mut self) -> Result<([u64; 6], [u64; cqlake_schema::SideTable::ALL.len()])> {
        self.files.close_all()?;
        futures::executor::block_on(self.side.finish())?;
        Ok((self.rows, self.side.rows))
    }
}
