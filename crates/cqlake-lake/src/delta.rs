//! The Delta Lake side: opening and creating tables, committing groups atomically across
//! tables, recovering from a killed run, and registering a consistent snapshot for SQL.
//!
//! Delta Lake has no transaction across tables, so a group is made atomic by its last commit:
//! every commit of a group carries the group's id in its commit info (`cqlake.group`), and the
//! group's final commit, to `calls`, records the version every other table reached
//! (`cqlake.versions`). A table that is ahead of the versions the latest `calls` commit records
//! holds the commits of a group that never finished: [`LakeWriter::open`] restores it to the
//! recorded version (Delta's `RESTORE`), and [`register_lake`](crate::register_lake) reads every table at the recorded
//! versions, so readers never see half a group.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::datatypes::SchemaRef;
use cqlake_schema::batch::FlatBatch;
use cqlake_schema::{PARTITION_COLUMN, TableId};
use datafusion::logical_expr::{Expr, col};
use deltalake::DeltaTable;
use deltalake::kernel::Action;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::protocol::DeltaOperation;
use deltalake::protocol::SaveMode;
use deltalake::writer::{DeltaWriter, RecordBatchWriter};

use crate::encode::RowGroup;
use crate::files::{DataFiles, Target};
use crate::group::{GROUP_KEY, VERSIONS_KEY, recorded_versions};
use crate::index::KeyIndex;
use crate::lease::LakeLock;
use crate::plan::{CallRows, Replace, recontext, select};
use crate::predicate::{in_calls, in_dates, replace_predicate, str_list};
use crate::prepare::{NewRows, Prepared, Preparer, prepare_claimed};
use crate::scratch::Scratch;
use crate::table::{delta_err, open_tables, scan};
use crate::{LakeLocation, Result, writer_properties};

/// The default amount of Arrow data (not counting all-null columns) gathered before a group is
/// committed.
pub const DEFAULT_GROUP_BYTES: usize = 128 * 1024 * 1024;

/// The bytes of `batch`'s columns that hold values (all-null columns share one buffer).
fn data_bytes(batch: &RecordBatch) -> usize {
    batch
        .columns()
        .iter()
        .filter(|c| c.null_count() < c.len())
        .map(|c| c.get_array_memory_size())
        .sum()
}

/// The default amount of encoded Parquet held in open data files before they are committed.
pub const DEFAULT_COMMIT_BYTES: usize = 1024 * 1024 * 1024;

/// The most data files open at once (one per table and partition date) before a commit closes
/// them.
pub const MAX_OPEN_FILES: usize = 600;

/// Columns of a data file with statistics in its `add` action (Delta Lake's default
/// `dataSkippingNumIndexedCols`).
const INDEXED_COLUMNS: usize = 32;

/// The lock file that keeps two writers out of one lake.
pub const LOCK_FILE: &str = "_cqlake.lock";

/// What a [`LakeWriter`] did.
#[derive(Debug, Default, Clone)]
pub struct WriteStats {
    /// Rows written, per table (including rows rewritten to refresh their call context).
    pub rows: [u64; 6],
    /// Calls whose rows replaced an older version already in the lake.
    pub replaced_calls: u64,
    /// Calls not written because the lake already had the same or a newer version.
    pub stale_calls: u64,
    /// Calls not written because a newer version came in the same run.
    pub superseded_calls: u64,
    /// Sessions of follow-up pages written before their call record was in the lake (they have
    /// no `call_*` context until it is).
    pub orphan_records: u64,
    /// Commit groups written.
    pub groups: u64,
    /// Tables restored at open because a killed run had left a group unfinished.
    pub recovered_tables: u64,
    /// Rows committed to each side table (in [`cqlake_schema::SideTable::ALL`] order): each
    /// flush merges its rows by key, so a key that comes again in a later flush of the same run
    /// is written (and counted) again.
    pub side_rows: [u64; cqlake_schema::SideTable::ALL.len()],
    /// What the lake's retention (see [`crate::set_retention`]) removed at the end of the run.
    pub purged: Option<crate::PurgeStats>,
}

/// Applies flattened batches to a Delta lake. See the [crate documentation](crate).
///
/// Batches first go through a [`Preparer`] (in the pipeline's workers): the rows of calls new
/// to the lake and to the run are encoded there into Parquet row groups, which the writer
/// appends to one open data file per table and partition date; the rest (newer versions of
/// calls already written, rows of follow-up pages) go down the group path, decided against
/// the lake at the next commit. A commit closes the open files and appends them, then applies
/// the group path, and finishes with a `calls` commit that records every table's version.
pub struct LakeWriter {
    pub(crate) lake: LakeLocation,
    lock: Option<LakeLock>,
    pub(crate) tables: Vec<Option<DeltaTable>>,
    index: Arc<KeyIndex>,
    rt: tokio::runtime::Handle,
    /// Data files being written; closed ones become `add` actions.
    pub(crate) files: DataFiles<(TableId, Action)>,
    commit_bytes: usize,
    /// Batches for the group path, with the claim sequence they came with.
    pending: Vec<(u64, FlatBatch)>,
    group_bytes: usize,
    /// Claim sequences received: all below `next_seq`, and these above it.
    next_seq: u64,
    received: BTreeSet<u64>,
    pub(crate) run_id: String,
    stats: WriteStats,
    /// The follow-up page records this run wrote, by input position.
    pages_written: crate::plan::PageOrders,
    /// The side tables' rows.
    side: crate::side::SideTables,
    /// The tables of an earlier layout (only for a writer opened to maintain the lake): the
    /// next optimize rewrites them.
    pub(crate) outdated: Vec<TableId>,
}

impl LakeWriter {
    /// Opens the lake at `root`, creating it and its tables where missing. Takes the lake's
    /// lock (a second writer gets [`Error::Busy`]) and rolls back a group that a killed run left
    /// unfinished. Must be called within a Tokio runtime, which preparing batches uses to read
    /// the lake's keys.
    pub async fn open(lake: impl Into<LakeLocation>) -> Result<Self> {
        Self::open_as(lake, &crate::Personal::Raw).await
    }

    /// [`LakeWriter::open`] for a writer of `personal` values: a lake that holds the other kind
    /// (raw values or pseudonyms), or pseudonyms under another key, is refused with
    /// [`Error::Personal`]; a new lake is marked pseudonymised (see [`crate::Personal`]).
    pub async fn open_as(
        lake: impl Into<LakeLocation>,
        personal: &crate::Personal,
    ) -> Result<Self> {
        Self::open_with(lake.into(), personal, false).await
    }

    /// [`LakeWriter::open_as`] for maintenance ([`optimize`](Self::optimize),
    /// [`vacuum`](Self::vacuum)), which also opens a lake whose tables have the layout of an
    /// earlier cqlake (a `streams` made before it was narrowed): `optimize` migrates them. Every other writer
    /// refuses such a lake with [`Error::Layout`].
    pub async fn open_to_maintain(
        lake: impl Into<LakeLocation>,
        personal: &crate::Personal,
    ) -> Result<Self> {
        Self::open_with(lake.into(), personal, true).await
    }

    async fn open_with(
        lake: LakeLocation,
        personal: &crate::Personal,
        maintain: bool,
    ) -> Result<Self> {
        let run_id = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let lock = LakeLock::acquire(&lake, &run_id).await?;
        crate::personal::check_or_mark(&lake, personal).await?;
        let mut tables = open_tables(&lake).await?;
        let mut outdated = Vec::new();
        for t in TableId::ALL {
            let extra = crate::layout::extra_columns(&tables[t.index()], t)?;
            if !extra.is_empty() {
                if !maintain {
                    return Err(crate::layout::outdated(&lake, t, extra.len()));
                }
                outdated.push(t);
            }
        }
        let mut stats = WriteStats::default();
        let recorded = recorded_versions(&tables[0]).await?;
        for t in TableId::ALL {
            let i = t.index();
            // Before any group finished, a table's base is its creation (version 0).
            let base = recorded[i].unwrap_or(0);
            if tables[i].version().is_some_and(|v| v > base) {
                let table = tables[i].clone();
                tables[i] = table
                    .restore()
                    .with_version_to_restore(base)
                    .await
                    .map_err(delta_err(t))?
                    .0;
                crate::crash::point(|| format!("after restoring {}", t.name()));
                stats.recovered_tables += 1;
            }
        }
        let index = Arc::new(KeyIndex::new(tables.clone()));
        let target = match lake.as_local() {
            Some(root) => Target::Local(root.to_path_buf()),
            None => Target::remote(
                lake.store()?,
                lake.url().to_string(),
                Scratch::new("upload")?,
            ),
        };
        let mut writer = LakeWriter {
            lake: lake.clone(),
            lock: Some(lock),
            tables: tables.into_iter().map(Some).collect(),
            index,
            rt: tokio::runtime::Handle::current(),
            files: DataFiles::new(target, run_id.clone(), |c| {
                (
                    c.table,
                    Action::Add(crate::stats::add_action(
                        c.rel.clone(),
                        c.size,
                        PARTITION_COLUMN,
                        Some(c.date),
                        c.meta,
                        INDEXED_COLUMNS,
                    )),
                )
            }),
            commit_bytes: DEFAULT_COMMIT_BYTES,
            pending: Vec::new(),
            group_bytes: DEFAULT_GROUP_BYTES,
            next_seq: 0,
            received: BTreeSet::new(),
            run_id,
            stats,
            pages_written: Default::default(),
            side: crate::side::SideTables::delta(lake),
            outdated,
        };
        if writer.stats.recovered_tables > 0 {
            // The restores are commits too: record them as a finished (empty) group.
            let id = format!("{}-recovery", writer.run_id);
            writer
                .write(
                    TableId::Calls,
                    Vec::new(),
                    &mut Replace::default(),
                    &id,
                    true,
                )
                .await?;
        }
        Ok(writer)
    }

    /// What a group's last commit records: the version of every table, `calls` at the version
    /// that commit will have.
    fn versions(&self) -> serde_json::Map<String, serde_json::Value> {
        TableId::ALL
            .into_iter()
            .map(|t| {
                let v = self.table(t).version().unwrap_or(0);
                let v = if t == TableId::Calls { v + 1 } else { v };
                (t.name().into(), v.into())
            })
            .collect()
    }

    /// A [`Preparer`] for batches to push to this writer.
    pub fn preparer(&self) -> Preparer {
        Preparer {
            index: self.index.clone(),
            rt: self.rt.clone(),
        }
    }

    /// Encoded Parquet held in open data files before they are committed. Default
    /// [`DEFAULT_COMMIT_BYTES`].
    pub fn with_commit_bytes(mut self, bytes: usize) -> Self {
        self.commit_bytes = bytes.max(1);
        self
    }

    /// Arrow bytes gathered before a group is committed. Default [`DEFAULT_GROUP_BYTES`]. Larger
    /// groups mean fewer, larger files and commits, and more memory.
    pub fn with_group_bytes(mut self, bytes: usize) -> Self {
        self.group_bytes = bytes.max(1);
        self
    }

    /// Where the lake is.
    pub fn location(&self) -> &LakeLocation {
        &self.lake
    }

    /// Fails if this writer lost the lake's lock (see [`crate::lease`]).
    pub(crate) fn check_lock(&self) -> Result<()> {
        self.lock.as_ref().map_or(Ok(()), LakeLock::check)
    }

    /// Tables restored at open (a killed run's unfinished group rolled back).
    pub fn recovered_tables(&self) -> u64 {
        self.stats.recovered_tables
    }

    /// Prepares and adds a batch (see [`Preparer::prepare`]); commits when enough is gathered.
    pub async fn push(&mut self, batch: FlatBatch) -> Result<()> {
        let claim = self.index.claim(&batch).await?;
        let p = prepare_claimed(batch.into(), claim)?;
        self.push_prepared(p).await
    }

    /// Adds a prepared batch: appends its row groups to the open data files, keeps its other
    /// rows for the group path; commits when enough is gathered.
    pub async fn push_prepared(&mut self, p: Prepared) -> Result<()> {
        self.received.insert(p.seq);
        while self.received.remove(&self.next_seq) {
            self.next_seq += 1;
        }
        self.stats.stale_calls += p.stale;
        self.stats.superseded_calls += p.superseded;
        if let Some(d) = p.deferred {
            self.pending.push((p.seq, d));
        }
        self.append_row_groups(p.row_groups).await
    }

    /// Appends rows that are known to be new to the lake, without looking up their calls (a
    /// bulk load: the caller guarantees that no call of `rows` is in the lake or elsewhere in
    /// the run). They are committed like the rows of new calls, in whole groups.
    pub async fn push_new_rows(&mut self, rows: NewRows) -> Result<()> {
        self.append_row_groups(rows.row_groups).await
    }

    /// Appends encoded row groups to the open data files; commits when enough is gathered.
    async fn append_row_groups(&mut self, row_groups: Vec<RowGroup>) -> Result<()> {
        for rg in row_groups {
            self.stats.rows[rg.table.index()] += rg.rows as u64;
            self.files.append(rg)?;
        }
        self.files.tick()?;
        let ready: usize = self
            .pending
            .iter()
            .filter(|(seq, _)| *seq < self.next_seq)
            .map(|(_, b)| b.batches.iter().map(data_bytes).sum::<usize>())
            .sum();
        if ready >= self.group_bytes
            || self.files.open_bytes() >= self.commit_bytes
            || self.files.open_files() >= MAX_OPEN_FILES
        {
            self.commit().await?;
        }
        Ok(())
    }

    /// Commits what is pending and returns the totals. Every prepared batch must have been
    /// pushed. A lake that keeps a retention then has what fell out of it purged.
    pub async fn finish(mut self) -> Result<WriteStats> {
        self.commit().await?;
        self.check_lock()?;
        self.side.finish().await?;
        self.stats.side_rows = self.side.rows;
        if let Some(days) = crate::retention(&self.lake).await? {
            self.stats.purged = Some(self.purge_before(crate::days_ago(days)).await?);
        }
        self.release().await?;
        Ok(self.stats)
    }

    /// Releases the lake's lock (dropping the writer does too, without waiting).
    pub(crate) async fn release(&mut self) -> Result<()> {
        match self.lock.take() {
            Some(l) => l.release().await,
            None => Ok(()),
        }
    }

    /// Adds rows of the side tables; they are merged into the lake by key (a table at a time,
    /// once it holds [`crate::SIDE_FLUSH_ROWS`] rows, and the rest at [`LakeWriter::finish`]).
    pub async fn push_side(&mut self, batch: cqlake_schema::batch::SideBatch) -> Result<()> {
        self.check_lock()?;
        self.side.push(batch).await
    }

    /// Closes the open data files and appends them, one commit per table, `calls` last; that
    /// commit finishes the group when `finish_group`.
    async fn commit_files(&mut self, group_id: &str, finish_group: bool) -> Result<()> {
        let closed = self.files.close_all()?;
        if closed.is_empty() {
            return Ok(());
        }
        let mut adds: Vec<Vec<Action>> = vec![Vec::new(); 6];
        for (t, add) in closed {
            adds[t.index()].push(add);
        }
        let order = [
            TableId::Streams,
            TableId::Media,
            TableId::Segments,
            TableId::Sessions,
            TableId::Participants,
            TableId::Calls,
        ];
        for t in order {
            let adds = std::mem::take(&mut adds[t.index()]);
            let last = t == TableId::Calls;
            if adds.is_empty() && !(last && finish_group) {
                continue;
            }
            self.commit_adds(t, adds, group_id, last && finish_group)
                .await?;
        }
        Ok(())
    }

    pub(crate) fn table(&self, t: TableId) -> &DeltaTable {
        self.tables[t.index()].as_ref().expect("table open")
    }

    async fn scan_table(
        &self,
        t: TableId,
        filter: Expr,
        columns: Option<&[&str]>,
    ) -> Result<Vec<RecordBatch>> {
        scan(self.table(t), t, filter, columns).await
    }

    /// The lake's `calls` rows of the calls in `group` and of the calls its follow-up page rows
    /// belong to, and the calls that have rows in the lake but no `calls` row (orphans).
    async fn lookup(&self, group: &[FlatBatch]) -> Result<(CallRows, HashSet<String>)> {
        let mut ids: HashSet<&str> = HashSet::new();
        let mut page_ids: BTreeSet<&str> = BTreeSet::new();
        let mut dates: BTreeSet<i32> = BTreeSet::new();
        // Calls of participants pages, whose rows do not say when the call started.
        let mut undated: BTreeSet<&str> = BTreeSet::new();
        for fb in group {
            for t in TableId::ALL {
                let b = &fb.batches[t.index()];
                let c = b.column(0).as_string::<i32>();
                let d = b.column(1).as_primitive::<arrow::datatypes::Date32Type>();
                for (r, &cr) in fb.call_rows[t.index()].iter().enumerate() {
                    if t == TableId::Calls || cr == u32::MAX {
                        ids.insert(c.value(r));
                        if cr == u32::MAX {
                            page_ids.insert(c.value(r));
                        }
                        let day = d.value(r);
                        if t == TableId::Participants {
                            undated.insert(c.value(r));
                            continue;
                        }
                        // A page row's date is its own start date: its call may have started
                        // up to MAX_CALL_DAYS before.
                        let back = if t == TableId::Calls {
                            1
                        } else {
                            crate::plan::MAX_CALL_DAYS
                        };
                        dates.extend(day - back..=day);
                    }
                }
            }
        }
        if ids.is_empty() {
            return Ok((CallRows::default(), HashSet::new()));
        }
        // The run knows where most calls start; the rest are looked for in every partition.
        let mut unknown = BTreeSet::new();
        for id in undated {
            match self.index.date_of(id).await {
                Some(d) => {
                    dates.insert(d);
                }
                None => {
                    unknown.insert(id);
                }
            }
        }
        // Keys of the calls in the touched partitions, matched here rather than with an IN list
        // (planning a list of thousands of ids costs more than reading five columns).
        let key_cols = [
            "call_id",
            PARTITION_COLUMN,
            "version",
            "last_modified_date_time",
            "end_date_time",
        ];
        let schema = TableId::Calls.table().schema();
        let mut found = Vec::new();
        for b in self
            .scan_table(TableId::Calls, in_dates(&dates), Some(&key_cols))
            .await?
        {
            let c = b.column(0).as_string::<i32>();
            let mask: BooleanArray = (0..b.num_rows())
                .map(|r| Some(ids.contains(c.value(r))))
                .collect();
            let hit = filter_record_batch(&b, &mask)?;
            if hit.num_rows() > 0 {
                found.push(widen(&hit, &schema)?);
            }
        }
        if !unknown.is_empty() {
            let all = col("call_id").in_list(str_list(unknown.iter().copied()), false);
            for b in self
                .scan_table(TableId::Calls, all, Some(&key_cols))
                .await?
            {
                let d = b.column(1).as_primitive::<arrow::datatypes::Date32Type>();
                dates.extend(d.values().iter().copied());
                found.push(widen(&b, &schema)?);
            }
        }
        // Whole rows only for calls whose follow-up pages need their context (a call record of
        // the group may lose to the lake's, so the group's own copy is not enough).
        let known = CallRows::new(&found)?;
        let page_only: BTreeSet<&str> = page_ids
            .iter()
            .copied()
            .filter(|id| known.row(id).is_some())
            .collect();
        if !page_only.is_empty() {
            found.extend(
                self.scan_table(TableId::Calls, in_calls(&page_only, &dates), None)
                    .await?,
            );
        }
        let lake = CallRows::new(&found)?;
        // Calls new to `calls` whose sessions or participants came earlier, in follow-up pages.
        let new: HashSet<&str> = ids
            .iter()
            .copied()
            .filter(|id| lake.row(id).is_none())
            .collect();
        let mut orphans = HashSet::new();
        if !new.is_empty() {
            let mut later = dates.clone();
            for d in &dates {
                later.extend(*d..=*d + crate::plan::MAX_CALL_DAYS);
            }
            for (t, d) in [
                (TableId::Sessions, later),
                (TableId::Participants, BTreeSet::from([0])),
            ] {
                for b in self.scan_table(t, in_dates(&d), Some(&["call_id"])).await? {
                    let c = b.column(0).as_string::<i32>();
                    orphans.extend(
                        (0..c.len())
                            .map(|r| c.value(r))
                            .filter(|id| new.contains(id))
                            .map(String::from),
                    );
                }
            }
        }
        Ok((lake, orphans))
    }

    /// Commits a group: the open data files, then the group path for the pending batches
    /// whose earlier claims have all arrived, then `calls` with every table's version.
    async fn commit(&mut self) -> Result<()> {
        let next = self.next_seq;
        let (group, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(seq, _)| *seq < next);
        self.pending = later;
        if self.files.is_empty() && group.is_empty() {
            return Ok(());
        }
        self.check_lock()?;
        let group_id = format!("{}-{}", self.run_id, self.stats.groups);
        self.stats.groups += 1;
        self.commit_files(&group_id, group.is_empty()).await?;
        if group.is_empty() {
            return Ok(());
        }
        let group: Vec<FlatBatch> = group.into_iter().map(|(_, b)| b).collect();
        let (lake, orphans) = self.lookup(&group).await?;
        // Calls this run wrote earlier: a record with the same key adds what their copy
        // lacked, and rows of follow-up pages yield to a copy that carried all of them.
        let ids: BTreeSet<&str> = group
            .iter()
            .flat_map(|fb| fb.batches.iter())
            .flat_map(|b| b.column(0).as_string::<i32>().iter().flatten())
            .collect();
        let written = self.index.written(ids).await;
        let mut sel = select(&group, &lake, &orphans, &written, &self.pages_written)?;
        self.index.wrote(&std::mem::take(&mut sel.written)).await;
        crate::plan::merge_page_orders(
            &mut self.pages_written,
            std::mem::take(&mut sel.pages_written),
        );
        drop(group);
        drop(lake);
        self.stats.stale_calls += sel.stale_calls;
        self.stats.superseded_calls += sel.superseded_calls;
        self.stats.replaced_calls += sel.replaced_calls;
        self.stats.orphan_records += sel.orphan_records;

        // Rows the group keeps but whose call context (or partition) changes: read, refresh,
        // rewrite with the call.
        for t in TableId::ALL.into_iter().skip(1) {
            let i = t.index();
            let ids: BTreeSet<&str> = sel.recontext[i].iter().map(String::as_str).collect();
            if ids.is_empty() {
                continue;
            }
            let old = scan(
                self.table(t),
                t,
                in_calls(&ids, &sel.replace[i].dates),
                None,
            )
            .await?;
            for b in &old {
                let kept = recontext(t, b, &sel.replace[i], &sel.current)?;
                if kept.num_rows() > 0 {
                    sel.rows[i].push(kept);
                }
            }
            sel.replace[i]
                .calls
                .extend(ids.into_iter().map(String::from));
        }

        let order = [
            TableId::Streams,
            TableId::Media,
            TableId::Segments,
            TableId::Sessions,
            TableId::Participants,
        ];
        for t in order {
            let i = t.index();
            let rows = std::mem::take(&mut sel.rows[i]);
            let n = self
                .write(t, rows, &mut sel.replace[i], &group_id, false)
                .await?;
            self.stats.rows[i] += n;
        }
        // `calls` last, always (even with nothing to write): this commit finishes the group.
        let rows = std::mem::take(&mut sel.rows[0]);
        let n = self
            .write(TableId::Calls, rows, &mut sel.replace[0], &group_id, true)
            .await?;
        self.stats.rows[0] += n;
        Ok(())
    }

    /// Writes `rows` to table `t`: those that replace existing rows with one `replaceWhere`
    /// commit, the rest with an append. `finish_group`, for `calls`, makes the last commit
    /// carry every table's version (and makes it happen even with nothing to write). Returns
    /// the rows written.
    async fn write(
        &mut self,
        t: TableId,
        rows: Vec<RecordBatch>,
        replace: &mut Replace,
        group_id: &str,
        finish_group: bool,
    ) -> Result<u64> {
        let total: usize = rows.iter().map(RecordBatch::num_rows).sum();
        let (mut replacing, mut appending) = (Vec::new(), Vec::new());
        if replace.is_empty() {
            appending = rows;
        } else {
            for b in rows {
                let m = replace.matches(t, &b);
                let dates = b.column(1).as_primitive::<arrow::datatypes::Date32Type>();
                for (r, hit) in m.iter().enumerate() {
                    if *hit {
                        replace.dates.insert(dates.value(r));
                    }
                }
                let hit: BooleanArray = m.iter().map(|x| Some(*x)).collect();
                let miss = arrow::compute::not(&hit)?;
                let h = filter_record_batch(&b, &hit)?;
                if h.num_rows() > 0 {
                    replacing.push(h);
                }
                let a = filter_record_batch(&b, &miss)?;
                if a.num_rows() > 0 {
                    appending.push(a);
                }
            }
        }
        let do_replace = !replace.is_empty();
        let do_append = !appending.is_empty() || (finish_group && !do_replace);
        if do_replace {
            let props = self.commit_properties(group_id, finish_group && !do_append);
            let table = self.tables[t.index()].take().expect("table open");
            let batches = if replacing.is_empty() {
                vec![RecordBatch::new_empty(t.table().schema())]
            } else {
                replacing
            };
            crate::crash::point(|| format!("before replacing rows of {}", t.name()));
            let written = table
                .write(batches)
                .with_partition_columns([PARTITION_COLUMN])
                .with_writer_properties(writer_properties())
                .with_save_mode(SaveMode::Overwrite)
                .with_replace_where(replace_predicate(t, replace))
                .with_commit_properties(props)
                .await
                .map_err(delta_err(t))?;
            crate::crash::point(|| format!("after replacing rows of {}", t.name()));
            self.tables[t.index()] = Some(written);
        }
        if do_append {
            self.append(t, appending, group_id, finish_group).await?;
        }
        Ok(total as u64)
    }

    /// Every commit names its group; the group's last commit also carries the versions.
    pub(crate) fn commit_properties(&self, group_id: &str, finish_group: bool) -> CommitProperties {
        let mut m = vec![(GROUP_KEY.to_string(), serde_json::json!(group_id))];
        if finish_group {
            m.push((
                VERSIONS_KEY.to_string(),
                serde_json::Value::Object(self.versions()),
            ));
        }
        CommitProperties::default().with_metadata(m)
    }

    /// Appends `rows` to table `t` in one commit, writing one partition (date) at a time so
    /// that one Parquet writer is open at once, whatever the number of dates.
    async fn append(
        &mut self,
        t: TableId,
        rows: Vec<RecordBatch>,
        group_id: &str,
        finish_group: bool,
    ) -> Result<()> {
        let schema = t.table().schema();
        let all_null: Vec<&str> = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(c, f)| {
                f.is_nullable()
                    && rows
                        .iter()
                        .all(|b| b.column(*c).null_count() == b.num_rows())
            })
            .map(|(_, f)| f.name().as_str())
            .collect();
        let props = crate::writer_properties_for(all_null.iter().copied());
        let mut by_date: BTreeMap<i32, Vec<RecordBatch>> = BTreeMap::new();
        for b in rows {
            split_by_date(b, &mut by_date)?;
        }
        let table = self.tables[t.index()].as_mut().expect("table open");
        let de = delta_err(t);
        let mut adds = Vec::new();
        if !by_date.is_empty() {
            let mut w = RecordBatchWriter::for_table(table)
                .map_err(&de)?
                .with_writer_properties(props);
            while let Some((_, batches)) = by_date.pop_first() {
                for b in batches {
                    w.write(b).await.map_err(&de)?;
                }
                adds.extend(w.flush().await.map_err(&de)?.into_iter().map(Action::Add));
            }
        }
        self.commit_adds(t, adds, group_id, finish_group).await
    }

    /// Commits `adds` to table `t` as one append.
    async fn commit_adds(
        &mut self,
        t: TableId,
        adds: Vec<Action>,
        group_id: &str,
        finish_group: bool,
    ) -> Result<()> {
        let operation = DeltaOperation::Write {
            mode: SaveMode::Append,
            partition_by: Some(vec![PARTITION_COLUMN.to_string()]),
            predicate: None,
        };
        self.commit_actions(t, adds, operation, group_id, finish_group)
            .await
    }

    /// Commits `actions` to table `t` as `operation` of group `group_id`, and reloads the
    /// table.
    pub(crate) async fn commit_actions(
        &mut self,
        t: TableId,
        actions: Vec<Action>,
        operation: DeltaOperation,
        group_id: &str,
        finish_group: bool,
    ) -> Result<()> {
        // The data files the actions add are all in place, and the lake is still ours.
        self.files.uploaded().await?;
        self.check_lock()?;
        let commit = self.commit_properties(group_id, finish_group);
        let table = self.tables[t.index()].as_mut().expect("table open");
        let de = delta_err(t);
        crate::crash::point(|| format!("before committing to {}", t.name()));
        CommitBuilder::from(commit)
            .with_actions(actions)
            .build(
                Some(table.snapshot().map_err(&de)?),
                table.log_store(),
                operation,
            )
            .await
            .map_err(&de)?;
        crate::crash::point(|| format!("after committing to {}", t.name()));
        table.load().await.map_err(&de)?;
        Ok(())
    }
}

/// The call tables in the order a group commits them: `calls` last, its commit finishing the
/// group.
pub(crate) fn calls_last() -> impl Iterator<Item = TableId> {
    TableId::ALL
        .into_iter()
        .filter(|t| *t != TableId::Calls)
        .chain([TableId::Calls])
}

/// Splits `batch` by its partition date into `out`.
fn split_by_date(batch: RecordBatch, out: &mut BTreeMap<i32, Vec<RecordBatch>>) -> Result<()> {
    let dates = batch
        .column(1)
        .as_primitive::<arrow::datatypes::Date32Type>();
    let values = dates.values();
    let Some(&first) = values.first() else {
        return Ok(());
    };
    if values.iter().all(|d| *d == first) {
        out.entry(first).or_default().push(batch);
        return Ok(());
    }
    let mut rows: BTreeMap<i32, Vec<u32>> = BTreeMap::new();
    for (r, d) in values.iter().enumerate() {
        rows.entry(*d).or_default().push(r as u32);
    }
    for (d, idx) in rows {
        let idx = arrow::array::UInt32Array::from(idx);
        out.entry(d)
            .or_default()
            .push(arrow::compute::take_record_batch(&batch, &idx)?);
    }
    Ok(())
}

/// A batch of some columns of a table, widened to the table's `schema` with null columns.
fn widen(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .map(|f| match batch.schema().index_of(f.name()) {
            Ok(i) => batch.column(i).clone(),
            Err(_) => arrow::array::new_null_array(f.data_type(), batch.num_rows()),
        })
        .collect();
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use cqlake_ingest::decode::{Decoder, PageKind};
    use cqlake_ingest::frame::FrameKind;
    use datafusion::prelude::SessionContext;
    use std::fs::File;
    use std::path::Path;

    fn flat(ids: &[&str]) -> FlatBatch {
        let mut d = Decoder::new();
        for (n, id) in ids.iter().enumerate() {
            d.flattener.set_order(n as u64);
            let doc = format!(
                r#"{{"id":"{id}","version":1,"startDateTime":"2024-05-01T10:00:00Z","sessions":[{{"id":"s-{id}","startDateTime":"2024-05-01T10:00:00Z","segments":[{{"id":"g-{id}","media":[{{"label":"main-audio","streams":[{{"streamId":"1"}}]}}]}}]}}]}}"#
            );
            d.decode(doc.as_bytes(), &FrameKind::Document, &PageKind::Unknown);
        }
        d.flattener.finish()
    }

    async fn count(lake: &Path, table: &str) -> String {
        let ctx = SessionContext::new();
        crate::register_lake(&ctx, &lake.into()).await.unwrap();
        let b = ctx
            .sql(&format!("SELECT count(*) AS n FROM {table}"))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        arrow::util::pretty::pretty_format_batches(&b)
            .unwrap()
            .to_string()
            .lines()
            .nth(3)
            .unwrap()
            .trim_matches(|c| c == '|' || c == ' ')
            .to_string()
    }

    /// Appends the `t` rows of `ids` to table `t` outside any group, as a killed run leaves
    /// them.
    async fn append_outside_a_group(lake: &Path, t: TableId, ids: &[&str]) {
        let table = open_tables(&lake.into()).await.unwrap().remove(t.index());
        table
            .write(vec![flat(ids).batches[t.index()].clone()])
            .with_partition_columns([PARTITION_COLUMN])
            .with_save_mode(SaveMode::Append)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn calls_rows_committed_without_their_group_are_rolled_back_too() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = LakeWriter::open(dir.path()).await.unwrap();
        w.push(flat(&["a"])).await.unwrap();
        w.finish().await.unwrap();
        // A run killed after appending its new calls but before the commit that finishes its
        // group (the group path had work after the appends).
        append_outside_a_group(dir.path(), TableId::Calls, &["b"]).await;
        assert_eq!(
            count(dir.path(), "calls").await,
            "1",
            "readers see finished groups"
        );
        let w = LakeWriter::open(dir.path()).await.unwrap();
        assert_eq!(w.recovered_tables(), 1);
        drop(w);
        let mut w = LakeWriter::open(dir.path()).await.unwrap();
        w.push(flat(&["b"])).await.unwrap();
        let stats = w.finish().await.unwrap();
        // `b` is new again (not stale against the rolled-back row), and whole.
        assert_eq!(stats.rows[TableId::Streams.index()], 1);
        assert_eq!(count(dir.path(), "calls").await, "2");
        assert_eq!(count(dir.path(), "streams").await, "2");
    }

    #[tokio::test]
    async fn a_data_file_is_closed_after_its_row_group_limit_and_the_rest_go_to_another() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = LakeWriter::open(dir.path()).await.unwrap();
        let n = crate::files::MAX_ROW_GROUPS_PER_FILE + 4;
        for i in 0..n {
            // One call per batch: one row group per batch and table, all on one date.
            w.push(flat(&[&format!("c{i}")])).await.unwrap();
        }
        let stats = w.finish().await.unwrap();
        assert_eq!(stats.rows[TableId::Streams.index()], n as u64);
        let files: Vec<_> =
            std::fs::read_dir(dir.path().join("streams/call_start_date=2024-05-01"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
        assert_eq!(files.len(), 2, "{files:?}");
        let mut groups: Vec<usize> = files
            .iter()
            .map(|f| {
                parquet::file::reader::SerializedFileReader::new(File::open(f).unwrap())
                    .map(|r| parquet::file::reader::FileReader::metadata(&r).num_row_groups())
                    .unwrap()
            })
            .collect();
        groups.sort();
        assert_eq!(groups, vec![4, crate::files::MAX_ROW_GROUPS_PER_FILE]);
        assert_eq!(count(dir.path(), "streams").await, n.to_string());
    }

    #[tokio::test]
    async fn the_last_finished_group_is_found_behind_many_unfinished_commits() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = LakeWriter::open(dir.path()).await.unwrap();
        w.push(flat(&["a"])).await.unwrap();
        w.finish().await.unwrap();
        // More commits to `calls` than the recent ones read first, none finishing a group.
        for i in 0..crate::group::RECENT_COMMITS + 2 {
            append_outside_a_group(dir.path(), TableId::Calls, &[&format!("x{i}")]).await;
        }
        assert_eq!(count(dir.path(), "calls").await, "1");
        let w = LakeWriter::open(dir.path()).await.unwrap();
        assert_eq!(w.recovered_tables(), 1);
        drop(w);
        assert_eq!(count(dir.path(), "calls").await, "1");
    }

    #[tokio::test]
    async fn a_second_writer_is_refused_while_the_first_holds_the_lake() {
        let dir = tempfile::tempdir().unwrap();
        let first = LakeWriter::open(dir.path()).await.unwrap();
        let err = LakeWriter::open(dir.path()).await.err().expect("busy");
        assert!(matches!(err, Error::Busy(_)), "{err}");
        assert!(err.to_string().contains("retry"), "{err}");
        drop(first);
        LakeWriter::open(dir.path()).await.expect("free again");
    }

    #[tokio::test]
    async fn an_unfinished_group_is_invisible_to_readers_and_rolled_back_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = LakeWriter::open(dir.path()).await.unwrap();
        w.push(flat(&["a"])).await.unwrap();
        w.finish().await.unwrap();
        assert_eq!(count(dir.path(), "streams").await, "1");
        // A run killed after writing its streams but before its `calls` commit.
        append_outside_a_group(dir.path(), TableId::Streams, &["b", "c"]).await;
        // Readers see the last finished group only.
        assert_eq!(count(dir.path(), "streams").await, "1");
        let w = LakeWriter::open(dir.path()).await.unwrap();
        assert_eq!(w.recovered_tables(), 1);
        drop(w);
        // The table itself is back at the finished state, so the re-run converges.
        let streams = open_tables(&dir.path().into())
            .await
            .unwrap()
            .remove(TableId::Streams.index());
        let ctx = SessionContext::new();
        streams.update_datafusion_session(&ctx.state()).unwrap();
        let n = ctx
            .read_table(streams.table_provider().await.unwrap())
            .unwrap()
            .count()
            .await
            .unwrap();
        assert_eq!(n, 1);
        let mut w = LakeWriter::open(dir.path()).await.unwrap();
        assert_eq!(w.recovered_tables(), 0);
        w.push(flat(&["b", "c"])).await.unwrap();
        let stats = w.finish().await.unwrap();
        assert_eq!(stats.rows[TableId::Streams.index()], 2);
        assert_eq!(count(dir.path(), "streams").await, "3");
        assert_eq!(count(dir.path(), "calls").await, "3");
    }
}
