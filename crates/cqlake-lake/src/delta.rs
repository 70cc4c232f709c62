//! The Delta Lake side: opening and creating tables, committing groups, registering for SQL.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Date32Type, Int64Type, TimestampMicrosecondType};
use cqlake_ingest::flatten::FlatBatch;
use cqlake_schema::{PARTITION_COLUMN, TableId};
use datafusion::logical_expr::{Expr, col, lit};
use datafusion::prelude::SessionContext;
use deltalake::DeltaTable;
use deltalake::protocol::SaveMode;

use crate::plan::{CallKey, select};
use crate::{Error, Result, writer_properties};

/// The default amount of Arrow data gathered before a group is committed.
pub const DEFAULT_GROUP_BYTES: usize = 96 * 1024 * 1024;

/// What a [`LakeWriter`] did.
#[derive(Debug, Default, Clone)]
pub struct WriteStats {
    /// Rows written, per table.
    pub rows: [u64; 6],
    /// Calls whose rows replaced older versions already in the lake.
    pub replaced_calls: u64,
    /// Calls not written because the lake already had the same or a newer version.
    pub stale_calls: u64,
    /// Calls not written because a newer version came in the same run.
    pub superseded_calls: u64,
    /// Commit groups written.
    pub groups: u64,
}

fn table_url(root: &Path, t: TableId) -> Result<url::Url> {
    let dir = root.join(t.name());
    std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
        path: dir.display().to_string(),
        source: e,
    })?;
    let dir = dir.canonicalize().map_err(|e| Error::Io {
        path: dir.display().to_string(),
        source: e,
    })?;
    deltalake::ensure_table_uri(dir.to_string_lossy()).map_err(|e| Error::Delta {
        table: t.name().into(),
        source: e,
    })
}

/// Opens (creating where missing) the six tables of the lake at `root`.
pub async fn open_tables(root: &Path) -> Result<Vec<DeltaTable>> {
    let mut out = Vec::with_capacity(6);
    for t in TableId::ALL {
        let url = table_url(root, t)?;
        let delta_err = |e| Error::Delta {
            table: t.name().into(),
            source: e,
        };
        let mut table = DeltaTable::try_from_url(url).await.map_err(delta_err)?;
        if table.version().is_none() {
            let empty = RecordBatch::new_empty(t.table().schema());
            table = table
                .write(vec![empty])
                .with_save_mode(SaveMode::Append)
                .with_partition_columns([PARTITION_COLUMN])
                .with_table_name(t.name())
                .await
                .map_err(delta_err)?;
        }
        out.push(table);
    }
    Ok(out)
}

/// Registers every table of the lake at `root` in `ctx` under its name.
pub async fn register_lake(ctx: &SessionContext, root: &Path) -> Result<()> {
    for t in TableId::ALL {
        let url = table_url(root, t)?;
        let delta_err = |e| Error::Delta {
            table: t.name().into(),
            source: e,
        };
        let table = deltalake::open_table(url).await.map_err(delta_err)?;
        table
            .update_datafusion_session(&ctx.state())
            .map_err(delta_err)?;
        let provider = table.table_provider().await.map_err(|e| Error::Query {
            table: t.name().into(),
            source: e,
        })?;
        ctx.register_table(t.name(), provider)
            .map_err(|e| Error::Query {
                table: t.name().into(),
                source: e,
            })?;
    }
    Ok(())
}

/// Applies flattened batches to a Delta lake. See the [crate documentation](crate).
pub struct LakeWriter {
    root: PathBuf,
    tables: Vec<Option<DeltaTable>>,
    pending: Vec<FlatBatch>,
    pending_bytes: usize,
    group_bytes: usize,
    stats: WriteStats,
}

impl LakeWriter {
    /// Opens the lake at `root`, creating it and its tables where missing.
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|e| Error::Io {
            path: root.display().to_string(),
            source: e,
        })?;
        let tables = open_tables(&root).await?.into_iter().map(Some).collect();
        Ok(LakeWriter {
            root,
            tables,
            pending: Vec::new(),
            pending_bytes: 0,
            group_bytes: DEFAULT_GROUP_BYTES,
            stats: WriteStats::default(),
        })
    }

    /// Arrow bytes gathered before a group is committed. Default [`DEFAULT_GROUP_BYTES`]. Larger
    /// groups mean fewer, larger files and commits, and more memory.
    pub fn with_group_bytes(mut self, bytes: usize) -> Self {
        self.group_bytes = bytes.max(1);
        self
    }

    /// The lake's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Adds a batch; commits a group when enough data is gathered.
    pub async fn push(&mut self, batch: FlatBatch) -> Result<()> {
        self.pending_bytes += batch
            .batches
            .iter()
            .map(RecordBatch::get_array_memory_size)
            .sum::<usize>();
        self.pending.push(batch);
        if self.pending_bytes >= self.group_bytes {
            self.commit().await?;
        }
        Ok(())
    }

    /// Commits what is pending and returns the totals.
    pub async fn finish(mut self) -> Result<WriteStats> {
        self.commit().await?;
        Ok(self.stats)
    }

    async fn existing_keys(
        &self,
        ids: &BTreeSet<&str>,
    ) -> Result<(HashMap<String, CallKey>, BTreeSet<i32>)> {
        let mut keys = HashMap::new();
        let mut dates = BTreeSet::new();
        let calls = self.tables[0].as_ref().expect("table open");
        if ids.is_empty() || calls.version().unwrap_or(0) == 0 {
            return Ok((keys, dates));
        }
        let batches = scan_in(
            calls,
            TableId::Calls,
            "call_id",
            ids,
            &[
                "call_id",
                "version",
                "last_modified_date_time",
                PARTITION_COLUMN,
            ],
        )
        .await?;
        for b in batches {
            // Delta scans return strings as Utf8View and may wrap partition values: cast back.
            let cast =
                |i: usize, dt: &arrow::datatypes::DataType| arrow::compute::cast(b.column(i), dt);
            let (c0, c3) = (
                cast(0, &arrow::datatypes::DataType::Utf8)?,
                cast(3, &arrow::datatypes::DataType::Date32)?,
            );
            let id = c0.as_string::<i32>();
            let v = b.column(1).as_primitive::<Int64Type>();
            let lm = b.column(2).as_primitive::<TimestampMicrosecondType>();
            let d = c3.as_primitive::<Date32Type>();
            for r in 0..b.num_rows() {
                let k = CallKey {
                    version: v.is_valid(r).then(|| v.value(r)),
                    last_modified: lm.is_valid(r).then(|| lm.value(r)),
                };
                keys.insert(id.value(r).to_string(), k);
                dates.insert(d.value(r));
            }
        }
        Ok((keys, dates))
    }

    /// Which of `ids` the `sessions` table already holds.
    async fn known_sessions(
        &self,
        ids: &BTreeSet<&str>,
    ) -> Result<std::collections::HashSet<String>> {
        let mut out = std::collections::HashSet::new();
        let sessions = self.tables[TableId::Sessions.index()]
            .as_ref()
            .expect("table open");
        if ids.is_empty() || sessions.version().unwrap_or(0) == 0 {
            return Ok(out);
        }
        let batches = scan_in(
            sessions,
            TableId::Sessions,
            "session_id",
            ids,
            &["session_id"],
        )
        .await?;
        for b in batches {
            let c = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8)?;
            let c = c.as_string::<i32>();
            out.extend((0..c.len()).map(|r| c.value(r).to_string()));
        }
        Ok(out)
    }

    /// Commits the pending group: children first, `calls` last.
    async fn commit(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let group = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        let ids: BTreeSet<&str> = group
            .iter()
            .flat_map(|fb| {
                let c = fb.batches[0].column(0).as_string::<i32>();
                (0..c.len()).map(move |r| c.value(r))
            })
            .collect();
        let (existing, old_dates) = self.existing_keys(&ids).await?;
        drop(ids);
        let page_sessions: BTreeSet<&str> = group
            .iter()
            .flat_map(|fb| {
                let t = TableId::Sessions.index();
                let c = fb.batches[t].column(2).as_string::<i32>();
                fb.call_rows[t]
                    .iter()
                    .enumerate()
                    .filter(|(_, cr)| **cr == u32::MAX)
                    .map(move |(r, _)| c.value(r))
            })
            .collect();
        let known = self.known_sessions(&page_sessions).await?;
        drop(page_sessions);
        let sel = select(&group, &existing, &known);
        drop(group);
        self.stats.stale_calls += sel.stale_calls;
        self.stats.superseded_calls += sel.superseded_calls;
        self.stats.replaced_calls += sel.replace_calls[0].len() as u64;
        self.stats.groups += 1;
        let order = [
            TableId::Streams,
            TableId::Media,
            TableId::Segments,
            TableId::Sessions,
            TableId::Participants,
            TableId::Calls,
        ];
        for t in order {
            let i = t.index();
            let rows = &sel.rows[i];
            let n: usize = rows.iter().map(RecordBatch::num_rows).sum();
            let replace = !sel.replace_calls[i].is_empty() || !sel.replace_sessions[i].is_empty();
            if n == 0 && !replace {
                continue;
            }
            let table = self.tables[i].take().expect("table open");
            let delta_err = |e| Error::Delta {
                table: t.name().into(),
                source: e,
            };
            let builder = table
                .write(if n == 0 {
                    vec![RecordBatch::new_empty(t.table().schema())]
                } else {
                    rows.clone()
                })
                .with_partition_columns([PARTITION_COLUMN])
                .with_writer_properties(writer_properties());
            let builder = if replace {
                builder
                    .with_save_mode(SaveMode::Overwrite)
                    .with_replace_where(replace_predicate(
                        t,
                        rows,
                        &sel.replace_calls[i],
                        &sel.replace_sessions[i],
                        &old_dates,
                    ))
            } else {
                builder.with_save_mode(SaveMode::Append)
            };
            let table = builder.await.map_err(delta_err)?;
            self.tables[i] = Some(table);
            self.stats.rows[i] += n as u64;
        }
        Ok(())
    }
}

/// The rows of `table` whose `column` is in `ids`, projected to `columns`.
async fn scan_in(
    table: &DeltaTable,
    t: TableId,
    column: &str,
    ids: &BTreeSet<&str>,
    columns: &[&str],
) -> Result<Vec<RecordBatch>> {
    let q = |e| Error::Query {
        table: t.name().into(),
        source: e,
    };
    let ctx = SessionContext::new();
    table
        .update_datafusion_session(&ctx.state())
        .map_err(|e| Error::Delta {
            table: t.name().into(),
            source: e,
        })?;
    let df = ctx
        .read_table(table.table_provider().await.map_err(q)?)
        .map_err(q)?;
    let list: Vec<Expr> = ids.iter().map(|s| lit(*s)).collect();
    df.filter(col(column).in_list(list, false))
        .map_err(q)?
        .select_columns(columns)
        .map_err(q)?
        .collect()
        .await
        .map_err(q)
}

/// `call_start_date IN (dates) AND (call_id IN (calls) OR session_id IN (sessions))`, where the
/// call ids are those replaced and those of every row written (except rows of follow-up pages,
/// which replace only their own sessions), so every written row matches it.
fn replace_predicate(
    t: TableId,
    rows: &[RecordBatch],
    calls: &[String],
    sessions: &[String],
    old_dates: &BTreeSet<i32>,
) -> Expr {
    let mut dates = old_dates.clone();
    let mut call_ids: BTreeSet<&str> = calls.iter().map(String::as_str).collect();
    let page_sessions: BTreeSet<&str> = sessions.iter().map(String::as_str).collect();
    for b in rows {
        let ids = b.column(0).as_string::<i32>();
        let d = b.column(1).as_primitive::<Date32Type>();
        let sid = (t != TableId::Calls && t != TableId::Participants)
            .then(|| b.column(2).as_string::<i32>());
        for r in 0..b.num_rows() {
            dates.insert(d.value(r));
            let from_page = sid.is_some_and(|s| page_sessions.contains(s.value(r)));
            if !from_page {
                call_ids.insert(ids.value(r));
            }
        }
    }
    let date_list: Vec<Expr> = dates
        .iter()
        .map(|d| lit(datafusion::scalar::ScalarValue::Date32(Some(*d))))
        .collect();
    let mut which = Expr::Literal(datafusion::scalar::ScalarValue::Boolean(Some(false)), None);
    if !call_ids.is_empty() {
        which = col("call_id").in_list(call_ids.iter().map(|s| lit(*s)).collect(), false);
    }
    if !page_sessions.is_empty() {
        which = which
            .or(col("session_id").in_list(page_sessions.iter().map(|s| lit(*s)).collect(), false));
    }
    col(PARTITION_COLUMN).in_list(date_list, false).and(which)
}
