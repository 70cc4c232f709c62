//! Data files being written: one open Parquet file per table and partition date, to which
//! encoded row groups are appended. A file is closed after [`MAX_ROW_GROUPS_PER_FILE`] row
//! groups, when it has been idle for [`IDLE_BATCHES`] batches, or when the caller closes them
//! all; what a closed file becomes (a Delta `add` action, a count) is the caller's choice.
//!
//! On a local disk a file is written where it stays. For a lake on an object store it is
//! written to a scratch directory on the local disk (never to the bucket) and, once closed,
//! uploaded in the background (multipart, parts in parallel) while the workers go on;
//! [`DataFiles::uploaded`] waits for every upload before the files are committed.

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use deltalake::ObjectStore;
use deltalake::logstore::object_store::ObjectStoreExt;

use cqlake_schema::{PARTITION_COLUMN, TableId};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::writer::SerializedFileWriter;

use crate::encode::{RowGroup, file_properties, file_schema};
use crate::scratch::Scratch;
use crate::{Error, Result};

/// Row groups after which a data file is closed and another begun (a file holds the metadata
/// of its row groups, for every column, until it is closed).
pub(crate) const MAX_ROW_GROUPS_PER_FILE: usize = 16;

/// Batches after which a data file no row group was appended to is closed.
pub(crate) const IDLE_BATCHES: u64 = 32;

/// A closed data file.
pub(crate) struct Closed<'a> {
    /// Its table.
    pub table: TableId,
    /// Path relative to the table's directory.
    pub rel: String,
    /// Its partition date.
    pub date: i32,
    /// Bytes.
    pub size: i64,
    /// Its footer.
    pub meta: &'a ParquetMetaData,
}

struct OpenFile {
    writer: SerializedFileWriter<File>,
    date: i32,
    rel: String,
    path: PathBuf,
    row_groups: usize,
    /// The batch clock when a row group was last appended.
    used: u64,
}

/// Where data files go.
pub(crate) enum Target {
    /// Under this lake directory.
    Local(PathBuf),
    /// Into this store (rooted at the lake), through files in `scratch`.
    Remote {
        /// The lake's store.
        store: Arc<dyn ObjectStore>,
        /// The lake, for messages.
        lake: String,
        /// The local scratch directory (removed when dropped).
        scratch: Scratch,
        /// Uploads under way.
        uploads: tokio::task::JoinSet<Result<()>>,
        /// Permits for [`UPLOADS_AT_ONCE`] uploads at a time.
        permits: Arc<tokio::sync::Semaphore>,
    },
}

impl Target {
    /// Files bound for `store` (rooted at the lake `lake`), written first under `scratch`.
    pub(crate) fn remote(store: Arc<dyn ObjectStore>, lake: String, scratch: Scratch) -> Target {
        Target::Remote {
            store,
            lake,
            scratch,
            uploads: tokio::task::JoinSet::new(),
            permits: Arc::new(tokio::sync::Semaphore::new(UPLOADS_AT_ONCE)),
        }
    }
}

/// Files uploaded at once (each holding up to [`UPLOAD_PARTS_IN_FLIGHT`] parts, or one whole
/// small file, in memory).
const UPLOADS_AT_ONCE: usize = 4;

/// Parts of a multipart upload (and the size below which a file is put in one request).
pub(crate) const UPLOAD_PART_BYTES: usize = 16 << 20;

/// Parts of one file uploaded at once.
const UPLOAD_PARTS_IN_FLIGHT: usize = 4;

/// Uploads the local file `from` to `to` in `store` and removes it.
pub(crate) async fn upload(
    store: Arc<dyn ObjectStore>,
    from: PathBuf,
    to: deltalake::Path,
    lake: String,
) -> Result<()> {
    use tokio::io::AsyncReadExt;
    let io = |e| Error::Io {
        path: from.display().to_string(),
        source: e,
    };
    let store_err = |e| Error::Store {
        location: format!("{lake}{to}"),
        source: e,
    };
    let size = tokio::fs::metadata(&from).await.map_err(io)?.len() as usize;
    if size <= UPLOAD_PART_BYTES {
        let bytes = tokio::fs::read(&from).await.map_err(io)?;
        store.put(&to, bytes.into()).await.map_err(store_err)?;
    } else {
        let up = store.put_multipart(&to).await.map_err(store_err)?;
        let mut w = deltalake::logstore::object_store::WriteMultipart::new_with_chunk_size(
            up,
            UPLOAD_PART_BYTES,
        );
        let mut f = tokio::fs::File::open(&from).await.map_err(io)?;
        loop {
            let mut buf = vec![0; UPLOAD_PART_BYTES];
            let mut n = 0;
            while n < buf.len() {
                let r = f.read(&mut buf[n..]).await.map_err(io)?;
                if r == 0 {
                    break;
                }
                n += r;
            }
            if n == 0 {
                break;
            }
            buf.truncate(n);
            w.wait_for_capacity(UPLOAD_PARTS_IN_FLIGHT)
                .await
                .map_err(store_err)?;
            w.put(buf.into());
        }
        w.finish().await.map_err(store_err)?;
    }
    crate::crash::point(|| "after uploading a data file".to_string());
    tokio::fs::remove_file(&from).await.map_err(io)?;
    Ok(())
}

/// See the [module documentation](self). `T` is what a closed file is kept as.
pub(crate) struct DataFiles<T> {
    target: Target,
    run_id: String,
    open: HashMap<(TableId, i32), OpenFile>,
    closed: Vec<T>,
    on_close: fn(&Closed<'_>) -> T,
    made: u64,
    clock: u64,
    open_bytes: usize,
}

impl<T> DataFiles<T> {
    /// Files under `<lake>/<table>/call_start_date=<date>/`, named after `run_id`.
    pub(crate) fn new(target: Target, run_id: String, on_close: fn(&Closed<'_>) -> T) -> Self {
        DataFiles {
            target,
            run_id,
            open: HashMap::new(),
            closed: Vec::new(),
            on_close,
            made: 0,
            clock: 0,
            open_bytes: 0,
        }
    }

    /// The local scratch directory of files bound for an object store.
    pub(crate) fn scratch(&self) -> Option<&std::path::Path> {
        match &self.target {
            Target::Local(_) => None,
            Target::Remote { scratch, .. } => Some(scratch.path()),
        }
    }

    /// Encoded bytes appended to files still open.
    pub(crate) fn open_bytes(&self) -> usize {
        self.open_bytes
    }

    /// Files open.
    pub(crate) fn open_files(&self) -> usize {
        self.open.len()
    }

    /// Whether nothing is open or waiting.
    pub(crate) fn is_empty(&self) -> bool {
        self.open.is_empty() && self.closed.is_empty()
    }

    /// Appends a row group to its table and date's file.
    pub(crate) fn append(&mut self, rg: RowGroup) -> Result<()> {
        let key = (rg.table, rg.date);
        if !self.open.contains_key(&key) {
            let f = self.create(rg.table, rg.date)?;
            self.open.insert(key, f);
        }
        let f = self.open.get_mut(&key).expect("opened above");
        let perr = |e| Error::Parquet {
            path: f.path.display().to_string(),
            source: e,
        };
        let mut w = f.writer.next_row_group().map_err(perr)?;
        for c in rg.chunks {
            c.append_to_row_group(&mut w).map_err(perr)?;
        }
        w.close().map_err(perr)?;
        f.row_groups += 1;
        f.used = self.clock;
        self.open_bytes += rg.bytes;
        if f.row_groups >= MAX_ROW_GROUPS_PER_FILE {
            let f = self.open.remove(&key).expect("open");
            self.close(rg.table, f)?;
        }
        Ok(())
    }

    /// Counts a batch; closes the files that have been idle for [`IDLE_BATCHES`].
    pub(crate) fn tick(&mut self) -> Result<()> {
        self.clock += 1;
        if !self.clock.is_multiple_of(IDLE_BATCHES) {
            return Ok(());
        }
        let now = self.clock;
        let idle: Vec<(TableId, i32)> = self
            .open
            .iter()
            .filter(|(_, f)| now - f.used > IDLE_BATCHES)
            .map(|(k, _)| *k)
            .collect();
        for key in idle {
            let f = self.open.remove(&key).expect("open");
            self.close(key.0, f)?;
        }
        Ok(())
    }

    /// Closes the open file of table `t` and partition `date`, if there is one (it is kept
    /// until [`close_all`](Self::close_all)).
    pub(crate) fn close_partition(&mut self, t: TableId, date: i32) -> Result<()> {
        match self.open.remove(&(t, date)) {
            Some(f) => self.close(t, f),
            None => Ok(()),
        }
    }

    /// Waits for the uploads of the files closed so far (none on a local disk); the first
    /// failed upload's error.
    pub(crate) async fn uploaded(&mut self) -> Result<()> {
        if let Target::Remote { uploads, .. } = &mut self.target {
            while let Some(r) = uploads.join_next().await {
                r.map_err(|e| Error::Io {
                    path: "(upload)".into(),
                    source: std::io::Error::other(e),
                })??;
            }
        }
        Ok(())
    }

    /// Closes every open file and hands over all closed since the last call.
    pub(crate) fn close_all(&mut self) -> Result<Vec<T>> {
        let open: Vec<_> = self.open.drain().collect();
        for ((t, _), f) in open {
            self.close(t, f)?;
        }
        self.open_bytes = 0;
        Ok(std::mem::take(&mut self.closed))
    }

    fn close(&mut self, table: TableId, f: OpenFile) -> Result<()> {
        let meta = f.writer.close().map_err(|e| Error::Parquet {
            path: f.path.display().to_string(),
            source: e,
        })?;
        let size = std::fs::metadata(&f.path)
            .map_err(|e| Error::Io {
                path: f.path.display().to_string(),
                source: e,
            })?
            .len() as i64;
        crate::crash::point(|| format!("after closing a {} data file", table.name()));
        if let Target::Remote {
            store,
            lake,
            uploads,
            permits,
            ..
        } = &mut self.target
        {
            let to = deltalake::Path::from(format!("{}/{}", table.name(), f.rel));
            let (store, from, lake, permits) =
                (store.clone(), f.path.clone(), lake.clone(), permits.clone());
            uploads.spawn(async move {
                let _permit = permits.acquire_owned().await.expect("never closed");
                upload(store, from, to, lake).await
            });
        }
        self.closed.push((self.on_close)(&Closed {
            table,
            rel: f.rel,
            date: f.date,
            size,
            meta: &meta,
        }));
        Ok(())
    }

    fn create(&mut self, t: TableId, date: i32) -> Result<OpenFile> {
        let rel = format!(
            "{PARTITION_COLUMN}={}/part-{:05}-{}.zstd.parquet",
            crate::date_string(date),
            self.made,
            self.run_id
        );
        self.made += 1;
        let root = match &self.target {
            Target::Local(root) => root,
            Target::Remote { scratch, .. } => scratch.path(),
        };
        let path = root.join(t.name()).join(&rel);
        let io = |p: &std::path::Path, e| Error::Io {
            path: p.display().to_string(),
            source: e,
        };
        let dir = path.parent().expect("a partition directory");
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let file = File::create(&path).map_err(|e| io(&path, e))?;
        let perr = |e| Error::Parquet {
            path: path.display().to_string(),
            source: e,
        };
        let (writer, _) = parquet::arrow::ArrowWriter::try_new(
            file,
            file_schema(t).arrow.clone(),
            Some(file_properties()),
        )
        .map_err(perr)?
        .into_serialized_writer()
        .map_err(perr)?;
        Ok(OpenFile {
            writer,
            date,
            rel,
            path,
            row_groups: 0,
            used: self.clock,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::logstore::object_store::memory::InMemory;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn small_files_are_put_whole_and_large_ones_in_parts_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        // Sizes around the part size: one request, exactly one part, parts and a tail.
        for (i, size) in [0, 1000, UPLOAD_PART_BYTES, 2 * UPLOAD_PART_BYTES + 12345]
            .into_iter()
            .enumerate()
        {
            let data: Vec<u8> = (0..size).map(|j| (j * 31 + i) as u8).collect();
            let from = dir.path().join(format!("f{i}"));
            std::fs::write(&from, &data).unwrap();
            let to = deltalake::Path::from(format!("t/f{i}.parquet"));
            upload(store.clone(), from.clone(), to.clone(), "mem://".into())
                .await
                .unwrap();
            let got = store.get(&to).await.unwrap().bytes().await.unwrap();
            assert_eq!(got.len(), size);
            assert!(got == data, "file {i} differs");
            assert!(!from.exists(), "the local copy is removed");
        }
    }
}
