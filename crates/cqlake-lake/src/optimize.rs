//! Compaction (`cqlake optimize`): rewrites the data files of each partition date into as few
//! files and row groups as the lake's layout allows.
//!
//! Convert writes a row group per worker batch (a few thousand streams), and every daily run
//! adds files to the dates it touches. A query then pays per column chunk (a decompression
//! context, page headers, statistics) and per file (a footer of every column chunk): the
//! `streams` table has 202 columns. Compaction packs a partition's row groups, in their order,
//! into row groups of up to [`ROW_GROUP_ROWS`] rows and files of up to
//! [`MAX_ROW_GROUPS_PER_FILE`] row groups, one column at a time (the memory of one column of
//! one row group), and commits each table's new files in place of the old ones (Delta's
//! `OPTIMIZE`, `dataChange` false) as one group, `calls` last: a run killed part-way is rolled
//! back like a convert. Readers of the lake see the same rows before and after.
//!
//! The replaced files stay on disk for readers of older snapshots, as Delta Lake leaves them;
//! [`LakeWriter::vacuum`] deletes them.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::array::{ArrayRef, Date32Array};
use cqlake_schema::{PARTITION_COLUMN, SideTable, TableId};
use deltalake::kernel::Action;
use deltalake::protocol::DeltaOperation;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

use crate::delta::LakeWriter;
use crate::encode::{RowGroup, encode_columns, file_schema};
use crate::erase::TableEdit;
use crate::files::MAX_ROW_GROUPS_PER_FILE;
use crate::side::open_side_table;
use crate::table::{delta_err, delta_err_of, io_err};
use crate::{Error, LakeLocation, ROW_GROUP_ROWS, Result, writer_properties};
use deltalake::DeltaTable;
use deltalake::logstore::object_store::ObjectStoreExt;

/// Settings of [`LakeWriter::optimize`].
#[derive(Debug, Clone)]
pub struct Optimize {
    from: Option<i32>,
    to: Option<i32>,
    threads: usize,
}

impl Default for Optimize {
    fn default() -> Self {
        Optimize {
            from: None,
            to: None,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

impl Optimize {
    /// Every partition of every table, with one thread per CPU.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only partitions dated `from` or later (days since the Unix epoch). Default: no bound.
    pub fn with_from(mut self, from: Option<i32>) -> Self {
        self.from = from;
        self
    }

    /// Only partitions dated `to` or earlier (days since the Unix epoch). Default: no bound.
    pub fn with_to(mut self, to: Option<i32>) -> Self {
        self.to = to;
        self
    }

    /// Partitions rewritten at once. Default: the number of CPUs.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    fn covers(&self, date: i32) -> bool {
        self.from.is_none_or(|f| date >= f) && self.to.is_none_or(|t| date <= t)
    }
}

/// What [`LakeWriter::optimize`] did, over all tables.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OptimizeStats {
    /// Partitions (a table's date) rewritten.
    pub rewritten: u64,
    /// Partitions looked at and left alone: already as compact as the layout allows.
    pub compact: u64,
    /// Data files replaced.
    pub files_removed: u64,
    /// Data files written.
    pub files_added: u64,
    /// Row groups in the replaced files.
    pub row_groups_before: u64,
    /// Row groups in the files written.
    pub row_groups_after: u64,
    /// Rows rewritten.
    pub rows: u64,
    /// Bytes of the replaced files.
    pub bytes_before: u64,
    /// Bytes of the files written.
    pub bytes_after: u64,
    /// Data files of the side tables replaced (bin-packed by Delta's OPTIMIZE).
    pub side_files_removed: u64,
    /// Data files of the side tables written.
    pub side_files_added: u64,
    /// Tables migrated from the layout of an earlier cqlake (every file rewritten, the schema
    /// narrowed).
    pub migrated: Vec<&'static str>,
}

/// One partition's live data files.
pub(crate) struct Partition {
    table: TableId,
    date: i32,
    /// Whether the table has the layout of an earlier cqlake (more columns than the schema):
    /// its files are read by column name and rewritten however compact they are.
    migrate: bool,
    /// Absolute paths, in the log's order.
    pub(crate) files: Vec<PathBuf>,
}

/// Bytes of data files an optimize of a lake on an object store fetches at once (at least one
/// partition).
const FETCH_BYTES: i64 = 1 << 30;

/// Local copies of data files, deleted when dropped.
struct Fetched(Vec<PathBuf>);

impl Drop for Fetched {
    fn drop(&mut self) {
        for f in &self.0 {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// A partition rewritten by a worker.
pub(crate) struct Rewritten {
    /// Row groups it had.
    pub(crate) before: u64,
    /// Row groups it has.
    pub(crate) after: u64,
    /// Rows it holds.
    pub(crate) rows: u64,
    /// Rows an edit changed.
    pub(crate) changed: u64,
}

/// Every listed data file of a table: its size and the `remove` action that replaces it.
pub(crate) type Listed = std::collections::HashMap<PathBuf, (i64, deltalake::kernel::Remove)>;

/// The row groups of a partition's files, in order: (file, row group, rows).
type SourceGroups = Vec<(usize, usize, usize)>;

/// Packs row groups, in order, into runs of at most [`ROW_GROUP_ROWS`] rows (a row group
/// already larger stays alone).
fn pack(groups: &SourceGroups) -> Vec<SourceGroups> {
    let mut out: Vec<SourceGroups> = Vec::new();
    let mut rows = 0;
    for &g in groups {
        match out.last_mut() {
            Some(run) if rows + g.2 <= ROW_GROUP_ROWS => {
                run.push(g);
                rows += g.2;
            }
            _ => {
                out.push(vec![g]);
                rows = g.2;
            }
        }
    }
    out
}

/// A partition's source file: its path, its metadata, and for a file of an earlier layout
/// the file's column of each column of the table's file schema (by name).
type Source = (PathBuf, ArrowReaderMetadata, Option<Vec<Option<usize>>>);

/// Column `i` (of table `t`'s schema) of the rows of `run`, read from `sources`.
fn read_column(
    t: TableId,
    date: i32,
    sources: &[Source],
    run: &SourceGroups,
    rows: usize,
    i: usize,
) -> Result<ArrayRef> {
    let fs = file_schema(t);
    if i == fs.partition {
        return Ok(std::sync::Arc::new(Date32Array::from(vec![date; rows])));
    }
    let j = if i < fs.partition { i } else { i - 1 };
    let mut parts: Vec<ArrayRef> = Vec::new();
    // The run's row groups, file by file.
    for same_file in run.chunk_by(|x, y| x.0 == y.0) {
        let (path, meta, by_name) = &sources[same_file[0].0];
        let perr = |e| Error::Parquet {
            path: path.display().to_string(),
            source: e,
        };
        let root = match by_name {
            None => j,
            Some(roots) => match roots[j] {
                Some(root) => root,
                None => {
                    let n = same_file.iter().map(|g| g.2).sum();
                    let field = fs.arrow.field(j);
                    parts.push(arrow::array::new_null_array(field.data_type(), n));
                    continue;
                }
            },
        };
        let file = File::open(path).map_err(io_err(path))?;
        let mask = ProjectionMask::roots(meta.parquet_schema(), [root]);
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone())
            .with_projection(mask)
            .with_row_groups(same_file.iter().map(|g| g.1).collect())
            .with_batch_size(rows.max(1))
            .build()
            .map_err(perr)?;
        for b in reader {
            parts.push(b?.column(0).clone());
        }
    }
    if parts.len() == 1 {
        return Ok(parts.pop().expect("one part"));
    }
    let refs: Vec<&dyn arrow::array::Array> = parts.iter().map(|a| a.as_ref()).collect();
    Ok(arrow::compute::concat(&refs)?)
}

/// Rewrites `p` into compact row groups handed to `send`, in order. Without an edit, `None`
/// when the partition is already compact; with one, `None` when the edit changes none of its
/// rows (nothing was sent either way).
fn rewrite(
    p: &Partition,
    send: &dyn Fn(RowGroup) -> Result<()>,
    edit: Option<&TableEdit>,
) -> Result<Option<Rewritten>> {
    let fs = file_schema(p.table);
    // A file of an earlier layout has other columns: read as it is, its columns found by name.
    let options = match p.migrate {
        false => ArrowReaderOptions::new().with_schema(fs.arrow.clone()),
        true => ArrowReaderOptions::new(),
    };
    let mut sources: Vec<Source> = Vec::with_capacity(p.files.len());
    let mut groups: SourceGroups = Vec::new();
    for (f, path) in p.files.iter().enumerate() {
        let file = File::open(path).map_err(io_err(path))?;
        let meta =
            ArrowReaderMetadata::load(&file, options.clone()).map_err(|e| Error::Parquet {
                path: path.display().to_string(),
                source: e,
            })?;
        for (g, rg) in meta.metadata().row_groups().iter().enumerate() {
            groups.push((f, g, rg.num_rows() as usize));
        }
        // A column the file lacks is null; one of another type is an error, never dropped.
        let by_name = match p.migrate {
            false => None,
            true => {
                let own = meta.schema();
                let mut roots = Vec::with_capacity(fs.arrow.fields().len());
                for field in fs.arrow.fields() {
                    let k = own.index_of(field.name()).ok();
                    if let Some(k) = k
                        && own.field(k).data_type() != field.data_type()
                    {
                        return Err(Error::Location(format!(
                            "{}: column {} is {}, the table's schema says {}; the file is \
                             left as it is",
                            path.display(),
                            field.name(),
                            own.field(k).data_type(),
                            field.data_type()
                        )));
                    }
                    roots.push(k);
                }
                Some(roots)
            }
        };
        sources.push((path.clone(), meta, by_name));
    }
    let runs = pack(&groups);
    let read = |run: &SourceGroups, rows: usize, i: usize| {
        read_column(p.table, p.date, &sources, run, rows, i)
    };
    match edit {
        None => {
            let files_after = runs.len().div_ceil(MAX_ROW_GROUPS_PER_FILE);
            if !p.migrate && runs.len() == groups.len() && files_after >= p.files.len() {
                return Ok(None);
            }
        }
        Some(edit) => {
            // A first pass reads only what decides whether anything changes.
            let mut changes = false;
            'runs: for run in &runs {
                let rows: usize = run.iter().map(|g| g.2).sum();
                let re = edit.run(rows, &|i| read(run, rows, i))?;
                if re.nulls_any() {
                    changes = true;
                    break;
                }
                for i in edit.inputs() {
                    let (_, changed) = re.apply(i, read(run, rows, i)?)?;
                    if changed.is_some_and(|c| c.true_count() > 0) {
                        changes = true;
                        break 'runs;
                    }
                }
            }
            if !changes {
                return Ok(None);
            }
        }
    }
    let mut rows_total = 0;
    let mut changed_total = 0;
    for run in &runs {
        let rows: usize = run.iter().map(|g| g.2).sum();
        let rg = match edit {
            None => encode_columns(p.table, fs, p.date, rows, &|i| read(run, rows, i))?,
            Some(edit) => {
                let re = edit.run(rows, &|i| read(run, rows, i))?;
                let changed = std::cell::RefCell::new(vec![false; rows]);
                let rg = encode_columns(p.table, fs, p.date, rows, &|i| {
                    let (a, c) = re.apply(i, read(run, rows, i)?)?;
                    if let Some(c) = c {
                        let mut all = changed.borrow_mut();
                        for (r, hit) in c.iter().enumerate() {
                            all[r] |= hit == Some(true);
                        }
                    }
                    Ok(a)
                })?;
                changed_total += changed.borrow().iter().filter(|c| **c).count() as u64;
                rg
            }
        };
        send(rg)?;
        rows_total += rows as u64;
    }
    Ok(Some(Rewritten {
        before: groups.len() as u64,
        after: runs.len() as u64,
        rows: rows_total,
        changed: changed_total,
    }))
}

/// A date as `YYYY-MM-DD` (a partition value), as days since the Unix epoch; `None` when it is
/// not one.
pub(crate) fn parse_date(value: &str) -> Option<i32> {
    use arrow::array::{Array, AsArray};
    let days = arrow::compute::cast(
        &arrow::array::StringArray::from(vec![value]),
        &arrow::datatypes::DataType::Date32,
    )
    .ok()?;
    let days = days.as_primitive::<arrow::datatypes::Date32Type>();
    (!days.is_null(0)).then(|| days.value(0))
}

impl LakeWriter {
    /// Compacts the lake's data files (see [the module](self)): every partition of every table
    /// within `settings`' dates whose rows fit in fewer row groups or files. Commits one
    /// group, `calls` last; nothing when every partition is already compact.
    pub async fn optimize(mut self, settings: &Optimize) -> Result<OptimizeStats> {
        let group_id = format!("{}-optimize", self.run_id);
        let mut stats = OptimizeStats::default();
        let mut committed = false;
        // `calls` last: its commit finishes the group.
        for t in crate::delta::calls_last() {
            let (partitions, mut removes) = self.partitions(t, settings)?;
            let done = self
                .rewrite_all(t, &partitions, &removes, settings.threads, None)
                .await?;
            let mut actions = Vec::new();
            for (p, r) in partitions.iter().zip(done) {
                match r {
                    None => stats.compact += 1,
                    Some(r) => {
                        stats.rewritten += 1;
                        stats.row_groups_before += r.before;
                        stats.row_groups_after += r.after;
                        stats.rows += r.rows;
                        for f in &p.files {
                            let (size, remove) = removes.remove(f).expect("listed");
                            stats.files_removed += 1;
                            stats.bytes_before += size as u64;
                            actions.push(Action::Remove(remove));
                        }
                    }
                }
            }
            for (table, add) in self.files.close_all()? {
                debug_assert_eq!(table, t);
                if let Action::Add(a) = &add {
                    stats.files_added += 1;
                    stats.bytes_after += a.size as u64;
                }
                actions.push(add);
            }
            let migrate = self.outdated.contains(&t);
            if migrate {
                // Every file was rewritten in the current layout: the schema follows.
                actions.push(crate::layout::narrowed_metadata(self.table(t), t)?);
                stats.migrated.push(t.name());
            }
            let finish = t == TableId::Calls;
            if actions.is_empty() && !(finish && committed) {
                continue;
            }
            let operation = DeltaOperation::Optimize {
                predicate: None,
                target_size: (ROW_GROUP_ROWS * MAX_ROW_GROUPS_PER_FILE) as i64,
            };
            self.commit_actions(t, actions, operation, &group_id, finish)
                .await?;
            if migrate {
                self.outdated.retain(|x| *x != t);
            }
            committed = true;
        }
        (stats.side_files_removed, stats.side_files_added) =
            optimize_side_tables(&self.lake).await?;
        self.release().await?;
        Ok(stats)
    }

    /// Rewrites `partitions` of table `t` (see [`rewrite`]) on `threads` workers. On an object
    /// store, the files of a few partitions at a time are fetched to the scratch directory,
    /// rewritten from there and deleted.
    pub(crate) async fn rewrite_all(
        &mut self,
        t: TableId,
        partitions: &[Partition],
        removes: &Listed,
        threads: usize,
        edit: Option<&TableEdit>,
    ) -> Result<Vec<Option<Rewritten>>> {
        let mut done = Vec::with_capacity(partitions.len());
        let mut rest = partitions;
        while !rest.is_empty() {
            let mut n = 0;
            let mut bytes = 0;
            while n < rest.len() && (n == 0 || bytes < FETCH_BYTES) {
                bytes += rest[n].files.iter().map(|f| removes[f].0).sum::<i64>();
                n += 1;
            }
            let (chunk, later) = rest.split_at(n);
            rest = later;
            let fetched = self.fetch(t, chunk).await?;
            done.extend(self.rewrite_partitions(chunk, threads, edit)?);
            drop(fetched);
        }
        Ok(done)
    }

    /// Where the data files of table `t` are read from: the table's directory, or on an
    /// object store the directory in the scratch space they are fetched to.
    fn data_dir(&self, t: TableId) -> PathBuf {
        match (self.lake.as_local(), self.files.scratch()) {
            (Some(root), _) => root.join(t.name()),
            (None, Some(scratch)) => scratch.join("fetched").join(t.name()),
            (None, None) => unreachable!("a remote lake's writer has a scratch directory"),
        }
    }

    /// Fetches the files of `partitions` (of table `t`) from the object store to
    /// [`data_dir`](Self::data_dir), several at once; nothing on a local disk. The files are
    /// deleted when the returned guard is dropped.
    async fn fetch(&self, t: TableId, partitions: &[Partition]) -> Result<Fetched> {
        use futures::StreamExt;
        if self.lake.as_local().is_some() {
            return Ok(Fetched(Vec::new()));
        }
        let store = self.lake.store()?;
        let dir = self.data_dir(t);
        let paths: Vec<PathBuf> = partitions
            .iter()
            .flat_map(|p| p.files.iter().cloned())
            .collect();
        let guard = Fetched(paths.clone());
        let lake = self.lake.url().to_string();
        let mut fetches = futures::stream::iter(paths.into_iter().map(|path| {
            let store = store.clone();
            let rel = path
                .strip_prefix(&dir)
                .expect("under the table's directory")
                .to_string_lossy()
                .into_owned();
            let key = deltalake::Path::from(format!("{}/{rel}", t.name()));
            let lake = lake.clone();
            async move {
                let store_err = |e| Error::Store {
                    location: format!("{lake}{key}"),
                    source: e,
                };
                let bytes = store
                    .get(&key)
                    .await
                    .map_err(store_err)?
                    .bytes()
                    .await
                    .map_err(store_err)?;
                let parent = path.parent().expect("a partition directory");
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(io_err(parent))?;
                tokio::fs::write(&path, bytes)
                    .await
                    .map_err(io_err(&path))?;
                Ok::<_, Error>(())
            }
        }))
        .buffer_unordered(8);
        while let Some(r) = fetches.next().await {
            r?;
        }
        Ok(guard)
    }

    /// The partitions of table `t` within `settings`' dates, and every listed file's size and
    /// `remove` action.
    pub(crate) fn partitions(
        &self,
        t: TableId,
        settings: &Optimize,
    ) -> Result<(Vec<Partition>, Listed)> {
        let table = self.table(t);
        let snapshot = table.snapshot().map_err(delta_err(t))?;
        let dir = self.data_dir(t);
        let migrate = self.outdated.contains(&t);
        let mut by_date: std::collections::BTreeMap<i32, Vec<PathBuf>> = Default::default();
        let mut removes = std::collections::HashMap::new();
        for f in snapshot.log_data().iter() {
            let date = f
                .partition_values_map()
                .get(PARTITION_COLUMN)
                .and_then(|v| v.as_deref().and_then(parse_date));
            // A table of an earlier layout is migrated whole, whatever the dates asked for.
            let Some(date) = date.filter(|d| migrate || settings.covers(*d)) else {
                continue;
            };
            let path = dir.join(f.path().as_ref());
            removes.insert(path.clone(), (f.size(), f.remove_action(false)));
            by_date.entry(date).or_default().push(path);
        }
        let partitions = by_date
            .into_iter()
            .map(|(date, files)| Partition {
                table: t,
                date,
                migrate,
                files,
            })
            .collect();
        Ok((partitions, removes))
    }

    /// Rewrites `partitions` on `threads` workers, appending their row groups to this writer's
    /// data files in each partition's order; what each partition became.
    fn rewrite_partitions(
        &mut self,
        partitions: &[Partition],
        threads: usize,
        edit: Option<&TableEdit>,
    ) -> Result<Vec<Option<Rewritten>>> {
        enum Msg {
            Group(RowGroup),
            Done(usize, Result<Option<Rewritten>>),
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(threads);
        let mut results: Vec<Option<Result<Option<Rewritten>>>> =
            partitions.iter().map(|_| None).collect();
        let files = &mut self.files;
        std::thread::scope(|s| -> Result<()> {
            for _ in 0..threads.min(partitions.len()) {
                let tx = tx.clone();
                let next = &next;
                s.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(p) = partitions.get(i) else { break };
                        let send = |rg| {
                            tx.send(Msg::Group(rg)).map_err(|_| Error::Io {
                                path: p.files[0].display().to_string(),
                                source: std::io::Error::other("the writer stopped"),
                            })
                        };
                        let r = rewrite(p, &send, edit);
                        let failed = r.is_err();
                        if tx.send(Msg::Done(i, r)).is_err() || failed {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            for msg in rx {
                match msg {
                    Msg::Group(rg) => files.append(rg)?,
                    Msg::Done(i, r) => {
                        // The partition's last file holds its row groups' metadata until closed.
                        files.close_partition(partitions[i].table, partitions[i].date)?;
                        let failed = r.is_err();
                        results[i] = Some(r);
                        if failed {
                            // Stop handing out partitions; the workers finish theirs.
                            next.store(partitions.len(), std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                }
            }
            Ok(())
        })?;
        results.into_iter().map(|r| r.unwrap_or(Ok(None))).collect()
    }
}

/// What [`LakeWriter::vacuum`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VacuumStats {
    /// Data files deleted.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Data files kept although no longer listed: removed (or, unknown to the log, modified)
    /// within the retention period.
    pub retained: u64,
    /// Delta log files deleted (after an erasure: the versions before a checkpoint of now).
    pub log_files: u64,
}

/// Writes a checkpoint of `table`'s current version and deletes its log files before it (commits
/// and older checkpoints); how many.
async fn truncate_log(table: &DeltaTable, name: &'static str) -> Result<u64> {
    let Some(version) = table.version() else {
        return Ok(0);
    };
    if version == 0 {
        return Ok(0);
    }
    let de = delta_err_of(name);
    deltalake::checkpoints::create_checkpoint(table, None)
        .await
        .map_err(&de)?;
    let now_ms = chrono_now_ms();
    let n = deltalake::checkpoints::cleanup_expired_logs_for(
        version as _,
        table.log_store().as_ref(),
        now_ms,
        None,
    )
    .await
    .map_err(&de)?;
    Ok(n as u64)
}

/// Now, in milliseconds since the Unix epoch.
fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A table's data files as its log knows them.
pub(crate) struct LoggedFiles {
    /// The table directory.
    pub(crate) dir: PathBuf,
    /// The files the current version lists.
    pub(crate) listed: std::collections::HashSet<PathBuf>,
    /// The files the log records as removed (`remove` actions still in the log), with the time of
    /// their removal in milliseconds since the epoch (the latest, if removed more than once).
    pub(crate) removed: std::collections::HashMap<PathBuf, i64>,
}

impl LoggedFiles {
    /// The listed and removed files of `table`, whose directory is `dir` and name `name`.
    pub(crate) async fn of(table: &DeltaTable, dir: PathBuf, name: &'static str) -> Result<Self> {
        use futures::TryStreamExt;
        let snapshot = table.snapshot().map_err(delta_err_of(name))?;
        let listed = snapshot
            .log_data()
            .iter()
            .map(|f| dir.join(f.path().as_ref()))
            .collect();
        let log_store = table.log_store();
        let mut removed = std::collections::HashMap::new();
        let mut tombstones = snapshot.all_tombstones(log_store.as_ref());
        while let Some(t) = tombstones.try_next().await.map_err(delta_err_of(name))? {
            let when = t.deletion_timestamp().unwrap_or(0);
            let at = removed.entry(dir.join(t.path().as_ref())).or_insert(when);
            *at = (*at).max(when);
        }
        Ok(LoggedFiles {
            dir,
            listed,
            removed,
        })
    }
}

impl LakeWriter {
    /// Deletes the data files of every table that the table's current version does not list,
    /// by Delta's rule: a file the log records as removed (replaced by compaction or an update)
    /// is deleted once its removal is more than `retain` old, whenever it was written, so that a
    /// reader of any snapshot younger than `retain` still finds its files; a file the log does not
    /// know (written by a killed run and never committed) once it was last modified more than
    /// `retain` ago. The lake's lock, which this writer holds, keeps a convert from writing files
    /// meanwhile. Makes no commit.
    pub async fn vacuum(mut self, retain: std::time::Duration) -> Result<VacuumStats> {
        let mut stats = VacuumStats::default();
        let cutoff = std::time::SystemTime::now()
            .checked_sub(retain)
            .unwrap_or(std::time::UNIX_EPOCH);
        let cutoff_ms = cutoff
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        // Paths are the files' absolute paths on a local disk, and their keys in the store
        // (relative to the lake) on an object store.
        let root = self
            .lake
            .as_local()
            .map_or_else(PathBuf::new, Path::to_path_buf);
        let mut tables = Vec::new();
        for t in TableId::ALL {
            let dir = root.join(t.name());
            tables.push(LoggedFiles::of(self.table(t), dir, t.name()).await?);
        }
        tables.extend(side_logged_files(&self.lake, &root).await?);
        // Files an erasure (`forget`) replaced go whatever the retention.
        let erased: std::collections::HashSet<PathBuf> = crate::erase::erased_files(&self.lake)
            .await?
            .into_iter()
            .map(|p| root.join(p))
            .collect();
        for files in tables {
            for (path, size, modified) in self.data_files(&files.dir).await? {
                let parquet = path.extension().is_some_and(|e| e == "parquet");
                if !parquet || files.listed.contains(&path) {
                    continue;
                }
                let expired = erased.contains(&path)
                    || match files.removed.get(&path) {
                        Some(&removed_ms) => removed_ms <= cutoff_ms,
                        None => modified <= cutoff,
                    };
                if !expired {
                    stats.retained += 1;
                    continue;
                }
                self.delete(&path).await?;
                stats.files += 1;
                stats.bytes += size;
            }
        }
        if !erased.is_empty() {
            // The logs of the versions before the erasure list the replaced files with their
            // column statistics: every table's log starts again from a checkpoint of now.
            for t in TableId::ALL {
                stats.log_files += truncate_log(self.table(t), t.name()).await?;
            }
            for s in SideTable::ALL {
                if crate::table::has_table(&self.lake, s.name()).await? {
                    let table = open_side_table(&self.lake, s).await?;
                    stats.log_files += truncate_log(&table, s.name()).await?;
                }
            }
            crate::erase::record_erased(&self.lake, None).await?;
        }
        self.release().await?;
        Ok(stats)
    }
}

impl LakeWriter {
    /// Every file under the table directory `dir` outside its `_delta_log`: path, size and
    /// time of last modification.
    async fn data_files(&self, dir: &Path) -> Result<Vec<(PathBuf, u64, std::time::SystemTime)>> {
        let mut out = Vec::new();
        if self.lake.as_local().is_none() {
            use futures::TryStreamExt;
            let store = self.lake.store()?;
            let prefix = deltalake::Path::from(dir.to_string_lossy().as_ref());
            let mut list = store.list(Some(&prefix));
            while let Some(m) = list.try_next().await.map_err(|e| Error::Store {
                location: self.lake.join(&dir.to_string_lossy()).to_string(),
                source: e,
            })? {
                let key = m.location.to_string();
                if key.split('/').any(|part| part == "_delta_log") {
                    continue;
                }
                let modified = std::time::UNIX_EPOCH
                    + std::time::Duration::from_millis(
                        m.last_modified.timestamp_millis().max(0) as u64
                    );
                out.push((PathBuf::from(key), m.size, modified));
            }
            return Ok(out);
        }
        if !dir.is_dir() {
            return Ok(out);
        }
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).map_err(io_err(&d))? {
                let entry = entry.map_err(io_err(&d))?;
                let path = entry.path();
                let meta = entry.metadata().map_err(io_err(&path))?;
                if meta.is_dir() {
                    if entry.file_name() != "_delta_log" {
                        stack.push(path);
                    }
                    continue;
                }
                let modified = meta.modified().map_err(io_err(&path))?;
                out.push((path, meta.len(), modified));
            }
        }
        Ok(out)
    }

    /// Deletes the data file at `path` (see [`data_files`](Self::data_files)).
    async fn delete(&self, path: &Path) -> Result<()> {
        if self.lake.as_local().is_some() {
            return std::fs::remove_file(path).map_err(io_err(path));
        }
        let key = deltalake::Path::from(path.to_string_lossy().as_ref());
        self.lake
            .store()?
            .delete(&key)
            .await
            .map_err(|e| Error::Store {
                location: format!("{}{key}", self.lake.url()),
                source: e,
            })
    }
}

/// Compacts the data files of every side table (Delta's OPTIMIZE: small files bin-packed into
/// files of up to its target size). Returns the files removed and added.
pub(crate) async fn optimize_side_tables(lake: &LakeLocation) -> Result<(u64, u64)> {
    let (mut removed, mut added) = (0, 0);
    for t in SideTable::ALL {
        if !crate::table::has_table(lake, t.name()).await? {
            continue;
        }
        let table = open_side_table(lake, t).await?;
        let (_, metrics) = table
            .optimize()
            .with_writer_properties(writer_properties())
            .await
            .map_err(crate::side::delta_err(t))?;
        removed += metrics.num_files_removed;
        added += metrics.num_files_added;
    }
    Ok((removed, added))
}

/// Every side table's directory (under `root`: the lake's directory, or the empty path for
/// keys in its store) with its listed and removed data files.
pub(crate) async fn side_logged_files(
    lake: &LakeLocation,
    root: &Path,
) -> Result<Vec<LoggedFiles>> {
    let mut out = Vec::new();
    for t in SideTable::ALL {
        let dir = root.join(t.name());
        if !crate::table::has_table(lake, t.name()).await? {
            continue;
        }
        let table = open_side_table(lake, t).await?;
        out.push(LoggedFiles::of(&table, dir, t.name()).await?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::register_lake;
    use cqlake_ingest::decode::{Decoder, PageKind};
    use cqlake_ingest::frame::FrameKind;
    use cqlake_schema::batch::FlatBatch;
    use datafusion::prelude::SessionContext;
    use std::collections::BTreeMap;
    use std::path::Path;

    /// Calls `ids` at `version`, on 2024-05-01 (even numbers) and 2024-05-02 (odd), each with
    /// two sessions of an audio and a video stream.
    fn calls(ids: &[usize], version: u32) -> FlatBatch {
        let mut d = Decoder::new();
        for (n, id) in ids.iter().enumerate() {
            d.flattener.set_order(n as u64);
            let day = 1 + id % 2;
            let jitter = id * 7 % 50;
            let doc = format!(
                r#"{{"id":"c{id}","version":{version},"type":"groupCall","startDateTime":"2024-05-0{day}T10:00:00Z","endDateTime":"2024-05-0{day}T10:30:00Z","sessions":[{{"id":"s{id}a","startDateTime":"2024-05-0{day}T10:00:00Z","segments":[{{"id":"g{id}a","media":[{{"label":"main-audio","streams":[{{"streamId":"1","streamDirection":"callerToCallee","averageJitter":"PT0.0{jitter}S"}},{{"streamId":"2","streamDirection":"calleeToCaller","averagePacketLossRate":0.{id}}}]}}]}}]}},{{"id":"s{id}b","segments":[{{"id":"g{id}b","media":[{{"label":"main-video","streams":[{{"streamId":"3","averageVideoFrameRate":{id}.5}}]}}]}}]}}]}}"#
            );
            d.decode(doc.as_bytes(), &FrameKind::Document, &PageKind::Unknown);
        }
        d.flattener.finish()
    }

    /// The result of `sql` over the lake, as a text table.
    async fn query(lake: &Path, sql: &str) -> String {
        let ctx = SessionContext::new();
        register_lake(&ctx, &lake.into()).await.unwrap();
        let b = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        arrow::util::pretty::pretty_format_batches(&b)
            .unwrap()
            .to_string()
    }

    /// Every row of every table, as sorted text lines.
    async fn dump(lake: &Path) -> Vec<String> {
        let mut out = Vec::new();
        for t in TableId::ALL {
            let text = query(lake, &format!("SELECT * FROM {}", t.name())).await;
            let mut lines: Vec<String> = text
                .lines()
                .skip(3)
                .filter(|l| l.starts_with('|'))
                .map(|l| format!("{}: {l}", t.name()))
                .collect();
            lines.sort();
            out.extend(lines);
        }
        out
    }

    /// Live (files, row groups) of each partition of `t`, by date.
    async fn live(lake: &Path, t: TableId) -> BTreeMap<String, (usize, usize)> {
        let table = crate::open_tables(&lake.into())
            .await
            .unwrap()
            .remove(t.index());
        let mut out: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for f in table.snapshot().unwrap().log_data().iter() {
            let date = f.partition_values_map()[PARTITION_COLUMN].clone().unwrap();
            let file = File::open(lake.join(t.name()).join(f.path().as_ref())).unwrap();
            let groups = parquet::file::metadata::ParquetMetaDataReader::new()
                .parse_and_finish(&file)
                .unwrap()
                .num_row_groups();
            let e = out.entry(date).or_default();
            e.0 += 1;
            e.1 += groups;
        }
        out
    }

    /// Parquet files under table `t`'s directory.
    fn on_disk(lake: &Path, t: TableId) -> usize {
        let mut n = 0;
        for d in std::fs::read_dir(lake.join(t.name())).unwrap() {
            let d = d.unwrap().path();
            if d.is_dir() && !d.ends_with("_delta_log") {
                n += std::fs::read_dir(&d).unwrap().count();
            }
        }
        n
    }

    /// A lake of 40 calls, each its own row group, plus 2 calls updated through the group
    /// path (deltalake's writer, a replaced file).
    async fn fragmented(lake: &Path) {
        let mut w = LakeWriter::open(lake).await.unwrap();
        for id in 0..40 {
            // One call per batch: one row group per batch and table.
            w.push(calls(&[id], 1)).await.unwrap();
        }
        w.finish().await.unwrap();
        let mut w = LakeWriter::open(lake).await.unwrap();
        w.push(calls(&[3, 4], 2)).await.unwrap();
        w.finish().await.unwrap();
    }

    #[tokio::test]
    async fn optimize_packs_each_date_into_one_row_group_and_keeps_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path();
        fragmented(lake).await;
        let before = dump(lake).await;
        assert_eq!(
            before.iter().filter(|l| l.starts_with("streams:")).count(),
            120
        );
        let streams = live(lake, TableId::Streams).await;
        assert_eq!(streams.len(), 2);
        assert!(
            streams.values().all(|(f, g)| *f > 1 && *g > 2),
            "{streams:?}"
        );
        let mut fragmented_partitions = 0;
        for t in TableId::ALL {
            let l = live(lake, t).await;
            fragmented_partitions += l.values().filter(|(f, g)| *f > 1 || *g > 1).count() as u64;
        }

        let w = LakeWriter::open(lake).await.unwrap();
        let s = w.optimize(&Optimize::new().with_threads(2)).await.unwrap();
        assert_eq!(s.rewritten, fragmented_partitions, "{s:?}");
        assert_eq!(
            (s.files_added, s.row_groups_after),
            (s.rewritten, s.rewritten),
            "{s:?}"
        );
        assert_eq!(s.rows, 120 + 80 + 80 + 80 + 40, "{s:?}");
        for t in TableId::ALL {
            let l = live(lake, t).await;
            assert!(l.values().all(|p| *p == (1, 1)), "{}: {l:?}", t.name());
        }
        assert_eq!(dump(lake).await, before);

        // A later writer rolls nothing back, and a second run finds nothing to do and commits
        // nothing.
        let w = LakeWriter::open(lake).await.unwrap();
        assert_eq!(w.recovered_tables(), 0);
        let versions = open_versions(lake).await;
        let again = w.optimize(&Optimize::new()).await.unwrap();
        assert_eq!(
            (again.rewritten, again.compact),
            (0, s.rewritten + s.compact)
        );
        assert_eq!(open_versions(lake).await, versions);

        // The replaced files stay until vacuumed past their retention; then only the listed
        // files are left.
        assert!(on_disk(lake, TableId::Streams) > 2);
        let w = LakeWriter::open(lake).await.unwrap();
        let kept = w
            .vacuum(std::time::Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(kept.files, 0, "{kept:?}");
        assert!(kept.retained >= s.files_removed, "{kept:?}");
        let w = LakeWriter::open(lake).await.unwrap();
        let v = w.vacuum(std::time::Duration::ZERO).await.unwrap();
        assert_eq!(v.files, kept.retained, "{v:?}");
        for t in TableId::ALL {
            let listed: usize = live(lake, t).await.values().map(|p| p.0).sum();
            assert_eq!(on_disk(lake, t), listed, "{}", t.name());
        }
        assert_eq!(dump(lake).await, before);
    }

    /// Sets the modification time of every Parquet file under `dir` to `when`.
    fn age_files(dir: &Path, when: std::time::SystemTime) -> usize {
        let mut n = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                n += age_files(&path, when);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                File::options()
                    .write(true)
                    .open(&path)
                    .unwrap()
                    .set_modified(when)
                    .unwrap();
                n += 1;
            }
        }
        n
    }

    #[tokio::test]
    async fn vacuum_keeps_files_removed_within_the_retention_however_old_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path();
        fragmented(lake).await;
        // Written ten days ago, replaced by today's optimize: removed today.
        let ten_days_ago =
            std::time::SystemTime::now() - std::time::Duration::from_secs(10 * 86_400);
        assert!(age_files(lake, ten_days_ago) > 0);
        let previous = open_versions(lake).await;
        let w = LakeWriter::open(lake).await.unwrap();
        let s = w.optimize(&Optimize::new()).await.unwrap();
        assert!(s.files_removed > 0, "{s:?}");
        assert_ne!(open_versions(lake).await, previous);

        let week = std::time::Duration::from_secs(168 * 3600);
        let w = LakeWriter::open(lake).await.unwrap();
        let v = w.vacuum(week).await.unwrap();
        assert_eq!(v.files, 0, "{v:?}");
        // Optimize's and the earlier update's replaced files.
        assert!(v.retained >= s.files_removed, "{v:?}");
        let removed = v.retained;

        // A reader still on the snapshot before optimize finds and reads every file it lists.
        let mut read = 0;
        for (mut table, version) in crate::open_tables(&lake.into())
            .await
            .unwrap()
            .into_iter()
            .zip(previous)
        {
            table.load_version(version.unwrap()).await.unwrap();
            let name = table.table_url().to_file_path().unwrap();
            for f in table.snapshot().unwrap().log_data().iter() {
                let file = File::open(name.join(f.path().as_ref())).unwrap();
                let meta = parquet::file::metadata::ParquetMetaDataReader::new()
                    .parse_and_finish(&file)
                    .unwrap();
                read += meta.file_metadata().num_rows();
            }
        }
        assert_eq!(read as u64, s.rows, "rows the old snapshot lists");

        // An untracked file (a killed run's) ten days old goes; the removed ones go once their
        // removal is past the retention.
        let stray = lake.join("calls/call_start_date=2024-05-01/part-stray.parquet");
        std::fs::write(&stray, b"not listed").unwrap();
        age_files(&lake.join("calls"), ten_days_ago);
        let w = LakeWriter::open(lake).await.unwrap();
        let v = w.vacuum(week).await.unwrap();
        assert_eq!((v.files, v.retained), (1, removed), "{v:?}");
        assert!(!stray.exists());
        let w = LakeWriter::open(lake).await.unwrap();
        let v = w.vacuum(std::time::Duration::ZERO).await.unwrap();
        assert_eq!((v.files, v.retained), (removed, 0), "{v:?}");
    }

    #[tokio::test]
    async fn optimize_rewrites_only_the_dates_asked_for_and_updates_still_apply_after() {
        let dir = tempfile::tempdir().unwrap();
        let lake = dir.path();
        fragmented(lake).await;
        let before = live(lake, TableId::Streams).await;
        let day2 = parse_date("2024-05-02");
        let w = LakeWriter::open(lake).await.unwrap();
        let s = w
            .optimize(&Optimize::new().with_from(day2).with_to(day2))
            .await
            .unwrap();
        assert!(s.rewritten >= 4, "{s:?}");
        let after = live(lake, TableId::Streams).await;
        assert_eq!(after["2024-05-01"], before["2024-05-01"]);
        assert_eq!(after["2024-05-02"], (1, 1));

        // A newer version of a compacted call replaces its rows in the compacted file.
        let mut w = LakeWriter::open(lake).await.unwrap();
        w.push(calls(&[5], 3)).await.unwrap();
        w.finish().await.unwrap();
        let text = query(
            lake,
            "SELECT count(*) AS n, max(version) AS v FROM calls WHERE call_id = 'c5'",
        )
        .await;
        assert_eq!(text.lines().nth(3).unwrap(), "| 1 | 3 |", "{text}");
        let rows = dump(lake).await;
        assert_eq!(
            rows.iter().filter(|l| l.starts_with("streams:")).count(),
            120
        );
    }

    async fn open_versions(lake: &Path) -> Vec<Option<u64>> {
        crate::open_tables(&lake.into())
            .await
            .unwrap()
            .iter()
            .map(|t| t.version())
            .collect()
    }
}
