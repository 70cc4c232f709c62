//! The side tables in the lake: one unpartitioned Delta table each (or one Parquet file each in
//! a plain Parquet export), merged by key.
//!
//! Rows gather in memory up to [`SIDE_FLUSH_ROWS`] per table; a flush reads the lake's rows with
//! the same first key value, decides one row per key with the table's [`Merge`] rule, and writes
//! them back with one `replaceWhere` commit (`first key IN (…)`), so converting a page again, or
//! a later sync round that repeats a recording, never duplicates a row.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray, UInt32Array,
};
use arrow::compute::{concat_batches, take_record_batch};
use arrow::datatypes::{Int64Type, TimestampMicrosecondType};
use arrow::row::{RowConverter, SortField};
use cqlake_schema::batch::SideBatch;
use cqlake_schema::{Merge, SideTable, UTC};
use datafusion::logical_expr::{Expr, col, lit};
use datafusion::prelude::SessionContext;
use deltalake::DeltaTable;
use deltalake::protocol::SaveMode;

use crate::predicate::balanced_or;
use crate::{Error, LakeLocation, Result, writer_properties};

/// Rows of one side table gathered before they are merged into the lake.
pub const SIDE_FLUSH_ROWS: usize = 256 * 1024;

/// Rows of one side table not merged yet, with their input positions.
#[derive(Default)]
struct Pending {
    batches: Vec<RecordBatch>,
    orders: Vec<u64>,
    rows: usize,
}

/// Where side tables go.
enum Target {
    Delta(Vec<Option<DeltaTable>>),
    Parquet,
}

/// Gathers side-table rows and merges them into the lake. See the [module documentation](self).
pub(crate) struct SideTables {
    lake: LakeLocation,
    target: Target,
    pending: Vec<Pending>,
    /// Rows written per table (after merging).
    pub(crate) rows: [u64; SideTable::ALL.len()],
    /// See [`REPLACE_KEYS`].
    replace_keys: usize,
}

pub(crate) fn delta_err(t: SideTable) -> impl Fn(deltalake::DeltaTableError) -> Error {
    crate::table::delta_err_of(t.name())
}

fn query_err(t: SideTable) -> impl Fn(datafusion::error::DataFusionError) -> Error {
    crate::table::query_err_of(t.name())
}

/// Opens side table `t` of the lake, creating it (empty) where missing.
pub(crate) async fn open_side_table(lake: &LakeLocation, t: SideTable) -> Result<DeltaTable> {
    let table = crate::table::try_load(lake, t.name()).await?;
    if table.version().is_some() {
        return Ok(table);
    }
    table
        .write(vec![RecordBatch::new_empty(t.def().schema())])
        .with_save_mode(SaveMode::Append)
        .with_table_name(t.name())
        .await
        .map_err(delta_err(t))
}

/// Registers every side table of the lake in `ctx`; a table the lake does not have yet (a lake
/// written before it existed) is registered empty.
pub async fn register_side_tables(ctx: &SessionContext, lake: &LakeLocation) -> Result<()> {
    register_side_tables_as(ctx, lake, crate::read::Providers::Delta).await
}

/// [`register_side_tables`] with the table providers of `providers`.
pub(crate) async fn register_side_tables_as(
    ctx: &SessionContext,
    lake: &LakeLocation,
    providers: crate::read::Providers,
) -> Result<()> {
    use crate::read::Providers;
    for t in SideTable::ALL {
        let q = query_err(t);
        let provider: Arc<dyn datafusion::catalog::TableProvider> =
            if crate::table::has_table(lake, t.name()).await? {
                let table = crate::table::load(lake, t.name(), None).await?;
                crate::read::provider(ctx, lake, t.name(), &table, providers).await?
            } else {
                match providers {
                    Providers::Delta => Arc::new(
                        datafusion::datasource::MemTable::try_new(t.def().schema(), vec![vec![]])
                            .map_err(&q)?,
                    ),
                    Providers::Files => Arc::new(
                        crate::FileTable::new(t.name(), "file:///", t.def().schema(), None, vec![])
                            .map_err(&q)?,
                    ),
                }
            };
        ctx.register_table(t.name(), provider).map_err(&q)?;
    }
    Ok(())
}

impl SideTables {
    /// Side tables of the Delta lake (opened, or created, at the first rows).
    pub(crate) fn delta(lake: LakeLocation) -> Self {
        SideTables {
            lake,
            target: Target::Delta((0..SideTable::ALL.len()).map(|_| None).collect()),
            pending: (0..SideTable::ALL.len())
                .map(|_| Pending::default())
                .collect(),
            rows: [0; SideTable::ALL.len()],
            replace_keys: REPLACE_KEYS,
        }
    }

    /// Side tables written as one Parquet file each under `<root>/<table>/` at the end of the
    /// run.
    pub(crate) fn parquet(root: PathBuf) -> Self {
        SideTables {
            target: Target::Parquet,
            ..Self::delta(LakeLocation::local(root))
        }
    }

    /// Adds rows; merges a table into the lake once it holds [`SIDE_FLUSH_ROWS`] (a Parquet
    /// export keeps everything for the end).
    pub(crate) async fn push(&mut self, batch: SideBatch) -> Result<()> {
        for t in SideTable::ALL {
            let b = &batch.batches[t.index()];
            if b.num_rows() == 0 {
                continue;
            }
            let p = &mut self.pending[t.index()];
            p.rows += b.num_rows();
            p.batches.push(b.clone());
            p.orders.extend_from_slice(&batch.orders[t.index()]);
            if p.rows >= SIDE_FLUSH_ROWS && matches!(self.target, Target::Delta(_)) {
                self.flush(t).await?;
            }
        }
        Ok(())
    }

    /// Merges every table's pending rows into the lake.
    pub(crate) async fn finish(&mut self) -> Result<()> {
        for t in SideTable::ALL {
            self.flush(t).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, t: SideTable) -> Result<()> {
        let p = std::mem::take(&mut self.pending[t.index()]);
        if p.rows == 0 {
            return Ok(());
        }
        let def = t.def();
        let new = concat_batches(&def.schema(), &p.batches)?;
        match &mut self.target {
            Target::Parquet => {
                let merged = merge(t, None, &new, &p.orders)?;
                let root = self.lake.as_local().expect("a Parquet export is local");
                let dir = root.join(t.name());
                std::fs::create_dir_all(&dir).map_err(crate::table::io_err(&dir))?;
                let path = dir.join(format!("part-{}.parquet", std::process::id()));
                let file = std::fs::File::create(&path).map_err(crate::table::io_err(&path))?;
                let perr = |source| Error::Parquet {
                    path: path.display().to_string(),
                    source,
                };
                let mut w = parquet::arrow::ArrowWriter::try_new(
                    file,
                    def.schema(),
                    Some(writer_properties()),
                )
                .map_err(perr)?;
                w.write(&merged).map_err(perr)?;
                w.close().map_err(perr)?;
                self.rows[t.index()] += merged.num_rows() as u64;
            }
            Target::Delta(tables) => {
                let table = match tables[t.index()].take() {
                    Some(table) => table,
                    None => open_side_table(&self.lake, t).await?,
                };
                let (table, rows) =
                    merge_into(table, t, &new, &p.orders, self.replace_keys).await?;
                tables[t.index()] = Some(table);
                self.rows[t.index()] += rows;
            }
        }
        Ok(())
    }
}

/// Keys the lake already holds, up to which a merge replaces only their rows (`replaceWhere`
/// on the first key column); beyond it the table is rewritten whole.
const REPLACE_KEYS: usize = 10_000;

/// Merges `new` (input positions `orders`) into side table `t`: rows whose key is new to the
/// lake are appended (one commit); rows whose key it holds are merged with the lake's and
/// replace them (a second commit). Returns the table and the rows written.
async fn merge_into(
    table: DeltaTable,
    t: SideTable,
    new: &RecordBatch,
    orders: &[u64],
    replace_keys: usize,
) -> Result<(DeltaTable, u64)> {
    let def = t.def();
    let first = def.columns[def.key[0]].name.as_str();
    // One row per key within the run first.
    let run = merge(t, None, new, orders)?;
    let run_keys = run.column(def.key[0]).as_string::<i32>().clone();
    let wanted: std::collections::HashSet<&str> = run_keys.iter().flatten().collect();
    let run_nulls = run_keys.null_count() > 0;
    let mut matched: std::collections::BTreeSet<String> = Default::default();
    let mut null_matched = false;
    for k in scan_keys(&table, t, first).await? {
        match k {
            Some(k) if wanted.contains(k.as_str()) => {
                matched.insert(k);
            }
            None if run_nulls => null_matched = true,
            _ => {}
        }
    }
    let old: BooleanArray = run_keys
        .iter()
        .map(|k| {
            Some(match k {
                Some(k) => matched.contains(k),
                None => null_matched,
            })
        })
        .collect();
    let fresh = arrow::compute::filter_record_batch(&run, &arrow::compute::not(&old)?)?;
    let touched = arrow::compute::filter_record_batch(&run, &old)?;
    let mut table = table;
    let mut written = 0;
    if fresh.num_rows() > 0 {
        written += fresh.num_rows() as u64;
        table = table
            .write(vec![fresh])
            .with_writer_properties(writer_properties())
            .with_save_mode(SaveMode::Append)
            .await
            .map_err(delta_err(t))?;
    }
    if touched.num_rows() > 0 {
        let orders = vec![0; touched.num_rows()];
        let predicate = (matched.len() <= replace_keys).then(|| {
            let values: Vec<&String> = matched.iter().collect();
            let mut terms: Vec<Expr> = values
                .chunks(16)
                .map(|c| col(first).in_list(c.iter().map(|v| lit(v.as_str())).collect(), false))
                .collect();
            if null_matched {
                terms.push(col(first).is_null());
            }
            balanced_or(terms)
        });
        let existing = scan(&table, t, predicate.clone().unwrap_or(lit(true))).await?;
        let result = merge(t, Some(existing), &touched, &orders)?;
        written += touched.num_rows() as u64;
        let w = table
            .write(vec![result])
            .with_writer_properties(writer_properties())
            .with_save_mode(SaveMode::Overwrite);
        table = match predicate {
            Some(p) => w.with_replace_where(p),
            None => w,
        }
        .await
        .map_err(delta_err(t))?;
    }
    Ok((table, written))
}

/// Every value of column `name` of side table `t`.
async fn scan_keys(table: &DeltaTable, t: SideTable, name: &str) -> Result<Vec<Option<String>>> {
    let mut out = Vec::new();
    for b in scan_columns(table, t, lit(true), &[name]).await? {
        out.extend(
            b.column(0)
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_string)),
        );
    }
    Ok(out)
}

/// The rows of side table `t` that match `filter`.
async fn scan(table: &DeltaTable, t: SideTable, filter: Expr) -> Result<RecordBatch> {
    let schema = t.def().schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let batches = scan_columns(table, t, filter, &names).await?;
    Ok(concat_batches(&schema, &batches)?)
}

/// Columns `names` of the rows of side table `t` that match `filter`, in the table's types.
async fn scan_columns(
    table: &DeltaTable,
    t: SideTable,
    filter: Expr,
    names: &[&str],
) -> Result<Vec<RecordBatch>> {
    let schema = t.def().schema();
    let target: arrow::datatypes::SchemaRef = Arc::new(
        schema.project(
            &names
                .iter()
                .map(|n| schema.index_of(n))
                .collect::<std::result::Result<Vec<_>, _>>()?,
        )?,
    );
    if table.version().unwrap_or(0) == 0 {
        return Ok(Vec::new());
    }
    let q = query_err(t);
    let ctx = SessionContext::new();
    table
        .update_datafusion_session(&ctx.state())
        .map_err(delta_err(t))?;
    let provider = table.table_provider().await.map_err(&q)?;
    let batches = ctx
        .read_table(provider)
        .map_err(&q)?
        .filter(filter)
        .map_err(&q)?
        .select_columns(names)
        .map_err(&q)?
        .collect()
        .await
        .map_err(&q)?;
    batches
        .iter()
        .map(|b| crate::table::conform(b, &target))
        .collect()
}

/// How far along an operation status is (`notStarted` < `running` < `completed`, `failed`).
fn status_rank(s: Option<&str>) -> u8 {
    match s.map(str::to_ascii_lowercase).as_deref() {
        Some("completed") | Some("failed") => 3,
        Some("running") => 2,
        Some("notstarted") => 1,
        _ => 0,
    }
}

/// One row per key of `existing` (rows already in the lake) and `new` (with input positions
/// `orders`), by the table's [`Merge`] rule. The lake's rows count as older than every new row.
pub fn merge(
    t: SideTable,
    existing: Option<RecordBatch>,
    new: &RecordBatch,
    orders: &[u64],
) -> Result<RecordBatch> {
    let def = t.def();
    let schema = def.schema();
    let old_rows = existing.as_ref().map_or(0, |b| b.num_rows());
    let all = match existing {
        Some(e) if e.num_rows() > 0 => concat_batches(&schema, &[e, new.clone()])?,
        _ => new.clone(),
    };
    // Position of every row: the lake's first (0), then the new rows in input order.
    let order: Vec<u64> = std::iter::repeat_n(0, old_rows)
        .chain(orders.iter().map(|o| o + 1))
        .collect();
    let converter = RowConverter::new(
        def.key
            .iter()
            .map(|&k| SortField::new(schema.field(k).data_type().clone()))
            .collect(),
    )?;
    let key_cols: Vec<ArrayRef> = def.key.iter().map(|&k| all.column(k).clone()).collect();
    let keys = converter.convert_columns(&key_cols)?;
    let mut groups: HashMap<arrow::row::Row<'_>, Vec<u32>> = HashMap::new();
    let mut first_seen: Vec<arrow::row::Row<'_>> = Vec::new();
    for r in 0..all.num_rows() {
        let k = keys.row(r);
        let g = groups.entry(k).or_default();
        if g.is_empty() {
            first_seen.push(k);
        }
        g.push(r as u32);
    }
    if t.merge() == Merge::Sync {
        return fold_sync(&all, &order, first_seen.iter().map(|k| &groups[k]));
    }
    let status = def
        .column_index("status")
        .map(|c| all.column(c).as_string::<i32>().clone());
    let winners: Vec<u32> = first_seen
        .iter()
        .map(|k| {
            *groups[k]
                .iter()
                .max_by_key(|&&r| {
                    let rank = match (&status, t.merge()) {
                        (Some(s), Merge::Status) => {
                            status_rank(s.is_valid(r as usize).then(|| s.value(r as usize)))
                        }
                        _ => 0,
                    };
                    (rank, order[r as usize])
                })
                .expect("a group has rows")
        })
        .collect();
    Ok(take_record_batch(&all, &UInt32Array::from(winners))?)
}

/// `sync_state`: the rows of each query folded into one (see [`Merge::Sync`]).
fn fold_sync<'a>(
    all: &RecordBatch,
    order: &[u64],
    groups: impl Iterator<Item = &'a Vec<u32>>,
) -> Result<RecordBatch> {
    let def = SideTable::SyncState.def();
    let s = |name: &str| {
        all.column(def.column_index(name).expect("a sync_state column"))
            .as_string::<i32>()
            .clone()
    };
    let ts = |name: &str| {
        all.column(def.column_index(name).expect("a sync_state column"))
            .as_primitive::<TimestampMicrosecondType>()
            .clone()
    };
    let int = |name: &str| {
        all.column(def.column_index(name).expect("a sync_state column"))
            .as_primitive::<Int64Type>()
            .clone()
    };
    let (query, organizer) = (s("query"), s("organizer_user_id"));
    let (delta, delta_at, delta_src) = (
        s("delta_link"),
        ts("delta_link_seen_at"),
        s("delta_link_source"),
    );
    let (next, next_at, next_src) = (
        s("next_link"),
        ts("next_link_seen_at"),
        s("next_link_source"),
    );
    let (pages, recs) = (int("pages"), int("recordings"));
    let get = |a: &StringArray, r: usize| a.is_valid(r).then(|| a.value(r).to_string());
    let at = |a: &TimestampMicrosecondArray, r: usize| a.is_valid(r).then(|| a.value(r));

    #[derive(Default)]
    struct Link {
        link: Option<String>,
        at: Option<(i64, u64)>,
        source: Option<String>,
    }
    let mut out_query = Vec::new();
    let mut out_org = Vec::new();
    let mut out_resume = Vec::new();
    let mut out_complete = Vec::new();
    let mut out_delta: Vec<Link> = Vec::new();
    let mut out_next: Vec<Link> = Vec::new();
    let mut out_pages = Vec::new();
    let mut out_recs = Vec::new();
    for rows in groups {
        let mut rows = rows.clone();
        rows.sort_by_key(|&r| order[r as usize]);
        let (mut d, mut n) = (Link::default(), Link::default());
        let (mut org, mut p, mut rc) = (None, 0i64, 0i64);
        for &r in &rows {
            let r = r as usize;
            org = get(&organizer, r).or(org);
            p += pages.value(r);
            rc += recs.value(r);
            for (link, when, src, slot) in [
                (&delta, &delta_at, &delta_src, &mut d),
                (&next, &next_at, &next_src, &mut n),
            ] {
                if let Some(l) = get(link, r) {
                    let key = (at(when, r).unwrap_or(i64::MIN), order[r]);
                    if slot.at.is_none_or(|a| key >= a) {
                        *slot = Link {
                            link: Some(l),
                            at: Some(key),
                            source: get(src, r),
                        };
                    }
                }
            }
        }
        let complete = match (d.at, n.at) {
            (Some(da), Some(na)) => da >= na,
            (Some(_), None) => true,
            _ => false,
        };
        out_query.push(query.value(rows[0] as usize).to_string());
        out_org.push(org);
        out_resume.push(if complete {
            d.link.clone()
        } else {
            n.link.clone()
        });
        out_complete.push(Some(complete));
        out_pages.push(p);
        out_recs.push(rc);
        out_delta.push(d);
        out_next.push(n);
    }
    let links = |v: &[Link]| -> [ArrayRef; 3] {
        [
            Arc::new(StringArray::from_iter(v.iter().map(|l| l.link.as_deref()))),
            Arc::new(
                TimestampMicrosecondArray::from_iter(
                    v.iter()
                        .map(|l| l.at.map(|a| a.0).filter(|a| *a != i64::MIN)),
                )
                .with_timezone(UTC),
            ),
            Arc::new(StringArray::from_iter(
                v.iter().map(|l| l.source.as_deref()),
            )),
        ]
    };
    let [dl, dat, dsrc] = links(&out_delta);
    let [nl, nat, nsrc] = links(&out_next);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(out_query)),
        Arc::new(StringArray::from(out_org)),
        Arc::new(StringArray::from(out_resume)),
        Arc::new(BooleanArray::from(out_complete)),
        dl,
        dat,
        dsrc,
        nl,
        nat,
        nsrc,
        Arc::new(Int64Array::from(out_pages)),
        Arc::new(Int64Array::from(out_recs)),
    ];
    Ok(RecordBatch::try_new(def.schema(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqlake_ingest::decode::{Decoder, PageKind};
    use cqlake_ingest::frame::FrameKind;
    use std::path::Path;

    /// PSTN rows `(id, seconds)` as a side batch.
    fn pstn(rows: &[(&str, u32)]) -> SideBatch {
        let mut d = Decoder::new();
        for (n, (id, secs)) in rows.iter().enumerate() {
            d.side.set_order(n as u64);
            let doc = format!(
                r##"{{"@odata.type":"#microsoft.graph.callRecords.pstnCallLogRow","id":"{id}","duration":{secs},"charge":0.5}}"##
            );
            d.decode(doc.as_bytes(), &FrameKind::Document, &PageKind::Unknown);
        }
        d.side.finish()
    }

    async fn content(root: &Path) -> Vec<(String, f64)> {
        let table = open_side_table(&root.into(), SideTable::PstnCalls)
            .await
            .unwrap();
        let b = scan(&table, SideTable::PstnCalls, lit(true)).await.unwrap();
        let def = SideTable::PstnCalls.def();
        let ids = b.column(def.column_index("id").unwrap()).as_string::<i32>();
        let ms = b
            .column(def.column_index("duration_ms").unwrap())
            .as_primitive::<arrow::datatypes::Float64Type>();
        let mut out: Vec<(String, f64)> = (0..b.num_rows())
            .map(|r| (ids.value(r).to_string(), ms.value(r)))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    #[tokio::test]
    async fn new_keys_append_known_keys_replace_by_key_or_by_rewriting_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SideTables::delta(dir.path().into());
        s.replace_keys = 1;
        s.push(pstn(&[("a", 1), ("b", 2), ("c", 3), ("a", 4)]))
            .await
            .unwrap();
        s.finish().await.unwrap();
        // Within the run the later `a` won.
        assert_eq!(
            content(dir.path()).await,
            vec![
                ("a".into(), 4000.0),
                ("b".into(), 2000.0),
                ("c".into(), 3000.0)
            ]
        );
        // Two known keys (more than `replace_keys`): the table is rewritten; `d` is appended.
        s.push(pstn(&[("b", 20), ("c", 30), ("d", 40)]))
            .await
            .unwrap();
        s.finish().await.unwrap();
        assert_eq!(
            content(dir.path()).await,
            vec![
                ("a".into(), 4000.0),
                ("b".into(), 20000.0),
                ("c".into(), 30000.0),
                ("d".into(), 40000.0)
            ]
        );
        // One known key: replaced by key.
        s.push(pstn(&[("a", 7)])).await.unwrap();
        s.finish().await.unwrap();
        assert_eq!(content(dir.path()).await[0], ("a".into(), 7000.0));
        assert_eq!(content(dir.path()).await.len(), 4);
        assert_eq!(s.rows[SideTable::PstnCalls.index()], 3 + 3 + 1);
    }

    #[test]
    fn a_late_running_status_never_hides_a_completed_one() {
        // A late `running` never hides a `completed`.
        let mut d = Decoder::new();
        for (n, st) in ["completed", "running"].iter().enumerate() {
            d.side.set_order(n as u64);
            let doc = format!(
                r##"{{"@odata.type":"#microsoft.graph.recordOperation","id":"o","status":"{st}"}}"##
            );
            d.decode(doc.as_bytes(), &FrameKind::Document, &PageKind::Unknown);
        }
        let b = d.side.finish();
        let t = SideTable::RecordOperations;
        let m = merge(t, None, &b.batches[t.index()], &b.orders[t.index()]).unwrap();
        let status = m
            .column(t.def().column_index("status").unwrap())
            .as_string::<i32>();
        assert_eq!((m.num_rows(), status.value(0)), (1, "completed"));
    }
}
