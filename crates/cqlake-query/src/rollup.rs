//! `stream_rollup` kept in memory between queries, for a long-running reader (`cqlake serve`).
//!
//! The view counts streams by day and every dashboard dimension; computed from the streams it
//! reads every stream of the lake, seconds on tens of millions. A [`RollupCache`] computes it
//! once per rule set and keeps its rows with the lake's state (the data files of each date). A
//! later query over a lake whose files changed — a convert, a pull, an optimize — recomputes
//! the dates whose files differ and keeps the rest: data files are immutable, so a date whose
//! files are the same has the same rows. The rows are therefore always the view's over the files
//! the query reads.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, Date32Array, RecordBatch};
use arrow::datatypes::SchemaRef;
use cqlake_schema::TableId;
use datafusion::datasource::MemTable;

use crate::{Engine, Error, LakeState, Result, RuleSet};

/// The column of the rollup's dates.
const DAY: &str = "day";

/// The rollup of each rule set, with the lake state it was computed at.
#[derive(Debug, Default)]
pub struct RollupCache {
    entries: tokio::sync::Mutex<HashMap<RuleSet, Entry>>,
}

#[derive(Debug, Clone)]
struct Entry {
    state: LakeState,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

/// What [`RollupCache::apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollupUse {
    /// The engine reads the cached rollup; `computed` dates were computed for it (none when the
    /// lake had not changed; every date the first time).
    Cached {
        /// The dates computed (`YYYY-MM-DD`; empty for null dates).
        computed: BTreeSet<String>,
    },
    /// The engine computes the view itself: the lake is not versioned (a Parquet export), or a
    /// group finished between the engine's opening and the cache's.
    Computed,
}

impl RollupCache {
    /// An empty cache.
    pub fn new() -> RollupCache {
        RollupCache::default()
    }

    /// Makes `engine` read `stream_rollup` (and the views over it) from the cache, after bringing
    /// the cache up to date with the files `engine` reads. `unfiltered` opens an engine over the
    /// same lake with the same rule set and building file but no date or call filter: the cache
    /// computes dates with it. The cached rollup holds every date, so the caller narrows by `day`
    /// itself.
    pub async fn apply<F, Fut>(&self, engine: &Engine, unfiltered: F) -> Result<RollupUse>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Engine>>,
    {
        let wanted = engine.lake_state();
        if !wanted.is_known() {
            return Ok(RollupUse::Computed);
        }
        let mut entries = self.entries.lock().await;
        let rules = engine.rules();
        let mut computed = BTreeSet::new();
        let stale = entries.get(&rules).is_none_or(|e| e.state != *wanted);
        if stale {
            let source = unfiltered().await?;
            let state = source.lake_state().clone();
            let entry = match entries.get(&rules) {
                Some(old) => {
                    computed = old.state.changed_dates(&state, TableId::Streams);
                    let fresh = source.sql(&rollup_of(&computed)).await?;
                    Entry {
                        schema: fresh.schema.clone(),
                        batches: merge(old, &computed, fresh.batches)?,
                        state,
                    }
                }
                None => {
                    let all = source.sql("SELECT * FROM stream_rollup").await?;
                    computed = state
                        .files_by_date(TableId::Streams)
                        .map(|d| d.keys().cloned().collect())
                        .unwrap_or_default();
                    Entry {
                        schema: all.schema,
                        batches: all.batches,
                        state,
                    }
                }
            };
            entries.insert(rules, entry);
        }
        let entry = &entries[&rules];
        if entry.state != *wanted {
            return Ok(RollupUse::Computed);
        }
        let table = MemTable::try_new(entry.schema.clone(), vec![entry.batches.clone()])?;
        engine.use_stream_rollup(Arc::new(table)).await?;
        Ok(RollupUse::Cached { computed })
    }
}

/// The query of the rollup's rows of `dates` (the empty string for null dates).
fn rollup_of(dates: &BTreeSet<String>) -> String {
    let mut conditions: Vec<String> = Vec::new();
    let days: Vec<String> = dates
        .iter()
        .filter(|d| cqlake_schema::calendar::parse_date(d).is_some())
        .map(|d| format!("DATE '{d}'"))
        .collect();
    if !days.is_empty() {
        conditions.push(format!("{DAY} IN ({})", days.join(", ")));
    }
    if dates.contains("") {
        conditions.push(format!("{DAY} IS NULL"));
    }
    if conditions.is_empty() {
        conditions.push("FALSE".into());
    }
    format!(
        "SELECT * FROM stream_rollup WHERE {}",
        conditions.join(" OR ")
    )
}

/// `old`'s rows of the dates not in `dates`, then `fresh` (the rows of those dates).
fn merge(
    old: &Entry,
    dates: &BTreeSet<String>,
    fresh: Vec<RecordBatch>,
) -> Result<Vec<RecordBatch>> {
    let days: BTreeSet<i32> = dates
        .iter()
        .filter_map(|d| cqlake_schema::calendar::parse_date(d))
        .collect();
    let nulls = dates.contains("");
    let mut out = Vec::with_capacity(old.batches.len() + fresh.len());
    for batch in &old.batches {
        let column = batch
            .column_by_name(DAY)
            .and_then(|c| c.as_any().downcast_ref::<Date32Array>())
            .ok_or_else(|| Error::Plan("stream_rollup: no DATE column `day`".into()))?;
        let keep: BooleanArray = (0..column.len())
            .map(|i| {
                Some(if column.is_null(i) {
                    !nulls
                } else {
                    !days.contains(&column.value(i))
                })
            })
            .collect();
        let kept = arrow::compute::filter_record_batch(batch, &keep)?;
        if kept.num_rows() > 0 {
            out.push(kept);
        }
    }
    out.extend(fresh.into_iter().filter(|b| b.num_rows() > 0));
    Ok(out)
}
