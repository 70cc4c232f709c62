//! Rollups kept in memory between queries, for a long-running reader (`cqlake serve`).
//!
//! A rollup view counts rows by day and the dimensions the dashboard groups and filters by
//! (`stream_rollup`, `session_rollup`, `rated_rollup`, `user_rollup`, `receiver_rollup`; see
//! [`ROLLUPS`]);
//! computed from the raw tables it reads every row of the lake, seconds on tens of millions of
//! streams. A [`RollupCache`] computes each once (per rule set, for those that classify streams) and keeps
//! its rows with the lake's state (the data files of each date). A later query over a lake whose
//! files changed — a convert, a pull, an optimize — recomputes the dates whose files of the
//! view's tables differ and keeps the rest: data files are immutable, so a date whose files are
//! the same has the same rows. The rows are therefore always the view's over the files the query
//! reads.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, Date32Array, RecordBatch};
use arrow::datatypes::SchemaRef;
use cqlake_schema::TableId;
use datafusion::datasource::MemTable;

use crate::{Engine, Error, LakeState, Result, RuleSet};

/// The column of every rollup's dates.
const DAY: &str = "day";

/// A view a [`RollupCache`] can keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rollup {
    /// The view's name.
    pub name: &'static str,
    /// The tables it is computed from: a date is recomputed when their files of it change.
    sources: &'static [TableId],
    /// Whether its rows depend on the rule set (it classifies streams).
    classifies: bool,
    /// The views over it (name and query over the cached rows), registered again when it is
    /// cached.
    readers: &'static [(&'static str, &'static str)],
}

/// The rollups, each a view of `sql/views/` with a DATE column `day` (the call's start).
pub const ROLLUPS: [Rollup; 5] = [
    Rollup {
        name: "stream_rollup",
        sources: &[TableId::Streams],
        classifies: true,
        readers: &[
            (
                "receiving_subnets",
                include_str!("../../../sql/views/receiving_subnets_rollup.sql"),
            ),
            (
                "subnet_buildings",
                include_str!("../../../sql/views/subnet_buildings.sql"),
            ),
        ],
    },
    Rollup {
        name: "session_rollup",
        sources: &[TableId::Sessions, TableId::Segments],
        classifies: false,
        readers: &[],
    },
    Rollup {
        name: "rated_rollup",
        sources: &[TableId::Streams],
        classifies: true,
        readers: &[],
    },
    Rollup {
        name: "user_rollup",
        sources: &[TableId::Sessions],
        classifies: false,
        readers: &[],
    },
    Rollup {
        name: "receiver_rollup",
        sources: &[TableId::Streams],
        classifies: true,
        readers: &[],
    },
];

impl Rollup {
    /// The rollup called `name`, if there is one.
    pub fn named(name: &str) -> Option<Rollup> {
        ROLLUPS.into_iter().find(|r| r.name == name)
    }
}

impl Rollup {
    /// The rollups `sql` reads, directly or through the views over them (a plain search for
    /// their names: a rollup named in a comment is computed too, which costs time, not rows).
    pub fn read_by(sql: &str) -> Vec<Rollup> {
        ROLLUPS
            .into_iter()
            .filter(|r| sql.contains(r.name) || r.readers.iter().any(|(v, _)| sql.contains(v)))
            .collect()
    }

    /// The views over it (name and query), which read the cached rows when it is cached.
    pub(crate) fn readers(&self) -> &'static [(&'static str, &'static str)] {
        self.readers
    }

    /// The dates whose rows differ between lake states `a` and `b`.
    fn changed_dates(&self, a: &LakeState, b: &LakeState) -> BTreeSet<String> {
        self.sources
            .iter()
            .flat_map(|t| a.changed_dates(b, *t))
            .collect()
    }

    /// Every date of `state`'s source tables.
    fn dates(&self, state: &LakeState) -> BTreeSet<String> {
        self.sources
            .iter()
            .filter_map(|t| state.files_by_date(*t))
            .flat_map(|d| d.keys().cloned())
            .collect()
    }
}

/// The rollups kept, each with the lake state it was computed at.
#[derive(Debug, Default)]
pub struct RollupCache {
    slots: std::sync::Mutex<HashMap<(&'static str, Option<RuleSet>), Slot>>,
}

/// A rollup's rows, once computed; locked while they are brought up to date.
type Slot = Arc<tokio::sync::Mutex<Option<Entry>>>;

#[derive(Debug, Clone)]
struct Entry {
    state: LakeState,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

/// What [`RollupCache::apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollupUse {
    /// The engine reads the cached rollups; `computed` dates were computed for them (none when
    /// the lake had not changed; every date the first time).
    Cached {
        /// The dates computed (`YYYY-MM-DD`; empty for null dates).
        computed: BTreeSet<String>,
    },
    /// The engine computes the views itself: the lake is not versioned (a Parquet export), or
    /// a group finished between the engine's opening and the cache's.
    Computed,
}

impl RollupCache {
    /// An empty cache.
    pub fn new() -> RollupCache {
        RollupCache::default()
    }

    /// Makes `engine` read `rollups` (and the views over them) from the cache, after bringing
    /// the cache up to date with the files `engine` reads. `unfiltered` opens an engine over the
    /// same lake with the same rule set and building file but no date or call filter: the cache
    /// computes dates with it (opened once, and only when a rollup is out of date). A cached
    /// rollup holds every date, so the caller narrows by `day` itself.
    pub async fn apply<F, Fut>(
        &self,
        engine: &Engine,
        rollups: &[Rollup],
        unfiltered: F,
    ) -> Result<RollupUse>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Engine>>,
    {
        let wanted = engine.lake_state();
        if !wanted.is_known() {
            return Ok(RollupUse::Computed);
        }
        let key = |r: &Rollup| (r.name, r.classifies.then(|| engine.rules()));
        let mut computed = BTreeSet::new();
        let mut unfiltered = Some(unfiltered);
        let mut source: Option<Engine> = None;
        let mut tables = Vec::with_capacity(rollups.len());
        for r in rollups {
            // One lock per rollup and rule set: a request waits only for the rollups it reads.
            let slot = {
                let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
                slots.entry(key(r)).or_default().clone()
            };
            let mut slot = slot.lock().await;
            if slot.as_ref().is_none_or(|e| e.state != *wanted) {
                if source.is_none() {
                    let open = unfiltered.take().expect("opened once");
                    source = Some(open().await?);
                }
                let source = source.as_ref().expect("opened above");
                let state = source.lake_state().clone();
                let entry = match slot.as_ref() {
                    Some(old) => {
                        let dates = r.changed_dates(&old.state, &state);
                        let fresh = source.sql(&rows_of(r.name, &dates)).await?;
                        computed.extend(dates.iter().cloned());
                        Entry {
                            schema: schema_of(&fresh),
                            batches: merge(old, &dates, fresh.batches)?,
                            state,
                        }
                    }
                    None => {
                        let all = source.sql(&format!("SELECT * FROM {}", r.name)).await?;
                        computed.extend(r.dates(&state));
                        Entry {
                            schema: schema_of(&all),
                            batches: all.batches,
                            state,
                        }
                    }
                };
                *slot = Some(entry);
            }
            let entry = slot.as_ref().expect("filled above");
            if entry.state != *wanted {
                return Ok(RollupUse::Computed);
            }
            let table = MemTable::try_new(entry.schema.clone(), vec![entry.batches.clone()])?;
            tables.push((r, table));
        }
        for (r, table) in tables {
            engine.use_rollup(r, Arc::new(table)).await?;
        }
        Ok(RollupUse::Cached { computed })
    }
}

impl RollupCache {
    /// The rows kept of `rollup` (for `rules`, if it classifies streams) and the lake state
    /// they are the view's over, if it has been computed: read without opening the lake. The
    /// caller checks the state against the engine it opens (a group may have finished since).
    pub async fn peek(
        &self,
        rollup: &Rollup,
        rules: RuleSet,
    ) -> Option<(LakeState, Vec<RecordBatch>)> {
        let slot = {
            let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots
                .get(&(rollup.name, rollup.classifies.then_some(rules)))
                .cloned()
        }?;
        let slot = slot.lock().await;
        slot.as_ref().map(|e| (e.state.clone(), e.batches.clone()))
    }
}

/// The schema of `rows`' batches (the plan's may differ from it in nullability, which a memory
/// table refuses).
fn schema_of(rows: &crate::Rows) -> SchemaRef {
    rows.batches
        .first()
        .map_or_else(|| rows.schema.clone(), |b| b.schema())
}

/// The query of the rows of `view` of `dates` (the empty string for null dates).
fn rows_of(view: &str, dates: &BTreeSet<String>) -> String {
    let condition = crate::dates_condition(DAY, dates.iter().map(String::as_str));
    format!("SELECT * FROM {view} WHERE {condition}")
}

/// The condition that `column` (a DATE) is one of `dates` (`YYYY-MM-DD`; the empty string for
/// null, anything else matches nothing): `FALSE` for none.
pub fn dates_condition<'a>(column: &str, dates: impl IntoIterator<Item = &'a str>) -> String {
    let mut days = BTreeSet::new();
    let mut null = false;
    for d in dates {
        if d.is_empty() {
            null = true;
        } else if cqlake_schema::calendar::parse_date(d).is_some() {
            days.insert(d);
        }
    }
    let mut conditions: Vec<String> = Vec::new();
    if !days.is_empty() {
        let days: Vec<String> = days.iter().map(|d| format!("DATE '{d}'")).collect();
        conditions.push(format!("{column} IN ({})", days.join(", ")));
    }
    if null {
        conditions.push(format!("{column} IS NULL"));
    }
    if conditions.is_empty() {
        return "FALSE".into();
    }
    conditions.join(" OR ")
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
            .ok_or_else(|| Error::Plan(format!("a rollup has no DATE column `{DAY}`")))?;
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
