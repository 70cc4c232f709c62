//! The keys of the calls a run may touch, shared by the workers that prepare batches: which
//! calls are new to the lake (their rows are encoded and appended as they come) and which need
//! the group path (a newer or equal version of a call the lake or the run already has, calls
//! with follow-up pages). Stale records are dropped here.
//!
//! The lake's keys are read lazily, one partition date at a time, from the snapshot the run
//! started from; the run's own calls are added as they are claimed. Ids are kept as 64-bit
//! hashes: a collision can only make a new call look known, which sends it down the group
//! path, where ids are compared exactly.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Date32Type, Int64Type, TimestampMicrosecondType};
use cqlake_schema::batch::FlatBatch;
use cqlake_schema::{PARTITION_COLUMN, TableId};
use deltalake::DeltaTable;

use crate::Result;
use crate::plan::{CallKey, MAX_CALL_DAYS, Written};

/// What becomes of one call record of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// New to the lake and to the run: its rows are appended as they are.
    New,
    /// The lake or the run has a newer version (or the lake the same one).
    Stale {
        /// The newer version came in this run.
        superseded: bool,
    },
    /// Decided against the lake at the next commit (the group path).
    Group {
        /// The run already has a record with the same key (another view of the call: basic,
        /// `$expand=sessions`, `participants_v2`): it adds the tables that first copy lacked,
        /// whatever order the two were claimed in (see [`KeyIndex::written`]).
        same_key: bool,
    },
}

/// A batch's place in the order of claims, and the decision for each of its `calls` rows.
pub(crate) struct Claim {
    pub seq: u64,
    pub decisions: Vec<Decision>,
}

#[derive(Clone, Copy)]
struct Entry {
    key: CallKey,
    in_run: bool,
    /// The partition date of the call's winning record.
    date: i32,
    /// What the run wrote of the call (at its current key), once it is in the lake.
    written: Option<Written>,
}

#[derive(Default)]
struct State {
    next_seq: u64,
    calls: HashMap<u64, Entry>,
    /// Calls with rows of follow-up pages, in the lake or in this run.
    paged: HashSet<u64>,
    calls_dates: HashSet<i32>,
    sessions_dates: HashSet<i32>,
    participants_loaded: bool,
}

/// See the [module documentation](self).
pub(crate) struct KeyIndex {
    state: tokio::sync::Mutex<State>,
    /// The lake's tables as the run found them.
    lake: Vec<DeltaTable>,
    /// Whether the lake held any call before the run.
    empty: bool,
    hasher: std::collections::hash_map::RandomState,
}

impl KeyIndex {
    pub(crate) fn new(lake: Vec<DeltaTable>) -> Self {
        let empty = lake.iter().all(|t| t.version().unwrap_or(0) == 0);
        KeyIndex {
            state: tokio::sync::Mutex::new(State::default()),
            lake,
            empty,
            hasher: Default::default(),
        }
    }

    fn hash(&self, id: &str) -> u64 {
        self.hasher.hash_one(id)
    }

    /// Decides every call record of `batch` and records them as the run's.
    pub(crate) async fn claim(&self, batch: &FlatBatch) -> Result<Claim> {
        let calls = &batch.batches[TableId::Calls.index()];
        let t = TableId::Calls.table();
        let ids = calls.column(0).as_string::<i32>();
        let dates = calls.column(1).as_primitive::<Date32Type>();
        let ver = calls
            .column(t.column_index("version").expect("version"))
            .as_primitive::<Int64Type>();
        let lm = calls
            .column(
                t.column_index("last_modified_date_time")
                    .expect("last_modified_date_time"),
            )
            .as_primitive::<TimestampMicrosecondType>();
        let mut st = self.state.lock().await;
        let seq = st.next_seq;
        st.next_seq += 1;
        if !self.empty {
            let mut need: Vec<i32> = dates.values().to_vec();
            need.sort_unstable();
            need.dedup();
            for d in need {
                self.load(&mut st, d).await?;
            }
        }
        let mut decisions = Vec::with_capacity(calls.num_rows());
        for r in 0..calls.num_rows() {
            let h = self.hash(ids.value(r));
            let key = CallKey {
                version: ver.is_valid(r).then(|| ver.value(r)),
                last_modified: lm.is_valid(r).then(|| lm.value(r)),
            };
            let d = match st.calls.get(&h).copied() {
                Some(e) if key < e.key => Decision::Stale {
                    superseded: e.in_run,
                },
                Some(e) if key == e.key && !e.in_run => Decision::Stale { superseded: false },
                Some(e) if key == e.key => Decision::Group { same_key: true },
                Some(_) => Decision::Group { same_key: false },
                None if st.paged.contains(&h) => Decision::Group { same_key: false },
                None => Decision::New,
            };
            if matches!(d, Decision::New | Decision::Group { same_key: false }) {
                // A new call's rows are in the lake before any later record of it is applied.
                let written = (d == Decision::New)
                    .then(|| batch.coverage.get(r).map(Written::of))
                    .flatten();
                let date = dates.value(r);
                st.calls.insert(
                    h,
                    Entry {
                        key,
                        in_run: true,
                        date,
                        written,
                    },
                );
            }
            decisions.push(d);
        }
        // Rows of follow-up pages: their calls go down the group path from now on.
        for (ti, rows) in batch.call_rows.iter().enumerate() {
            if !rows.contains(&u32::MAX) {
                continue;
            }
            let c = batch.batches[ti].column(0).as_string::<i32>();
            for (r, cr) in rows.iter().enumerate() {
                if *cr == u32::MAX {
                    let h = self.hash(c.value(r));
                    st.paged.insert(h);
                }
            }
        }
        Ok(Claim { seq, decisions })
    }

    /// The calls among `ids` whose lake copy this run wrote, with what it wrote.
    pub(crate) async fn written<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> HashMap<String, Written> {
        let st = self.state.lock().await;
        ids.into_iter()
            .filter_map(|id| {
                let e = st.calls.get(&self.hash(id))?;
                Some((id.to_string(), e.written?))
            })
            .collect()
    }

    /// Records what the group path wrote of these calls.
    pub(crate) async fn wrote(&self, calls: &HashMap<String, Written>) {
        let mut st = self.state.lock().await;
        for (id, w) in calls {
            if let Some(e) = st.calls.get_mut(&self.hash(id)) {
                match &mut e.written {
                    Some(old) => old.update(w),
                    None => e.written = Some(*w),
                }
            }
        }
    }

    /// The partition date of call `id`, if the run has claimed it or read its key.
    pub(crate) async fn date_of(&self, id: &str) -> Option<i32> {
        let st = self.state.lock().await;
        st.calls.get(&self.hash(id)).map(|e| e.date)
    }

    /// Reads the lake's keys for calls that may share an id with a call starting on `date`:
    /// `calls` on the day before, the day and the day after; sessions (of follow-up pages
    /// whose call is not in `calls`) up to [`MAX_CALL_DAYS`] after; participants of follow-up
    /// pages whose call was unknown (day 0).
    async fn load(&self, st: &mut State, date: i32) -> Result<()> {
        let calls: Vec<i32> = (date - 1..=date + 1)
            .filter(|d| !st.calls_dates.contains(d))
            .collect();
        let sessions: Vec<i32> = (date..=date + MAX_CALL_DAYS)
            .filter(|d| !st.sessions_dates.contains(d))
            .collect();
        if !calls.is_empty() {
            let cols = [
                "call_id",
                "version",
                "last_modified_date_time",
                PARTITION_COLUMN,
            ];
            let batches = crate::table::scan(
                &self.lake[TableId::Calls.index()],
                TableId::Calls,
                in_dates(&calls),
                Some(&cols),
            )
            .await?;
            for b in batches {
                let ids = b.column(0).as_string::<i32>();
                let ver = b.column(1).as_primitive::<Int64Type>();
                let lm = b.column(2).as_primitive::<TimestampMicrosecondType>();
                let day = b.column(3).as_primitive::<Date32Type>();
                for r in 0..b.num_rows() {
                    let e = Entry {
                        written: None,
                        key: CallKey {
                            version: ver.is_valid(r).then(|| ver.value(r)),
                            last_modified: lm.is_valid(r).then(|| lm.value(r)),
                        },
                        in_run: false,
                        date: day.value(r),
                    };
                    let slot = st.calls.entry(self.hash(ids.value(r))).or_insert(e);
                    if e.key > slot.key {
                        *slot = e;
                    }
                }
            }
            st.calls_dates.extend(calls);
        }
        let mut paged = Vec::new();
        if !sessions.is_empty() {
            paged.push((TableId::Sessions, sessions.clone()));
            st.sessions_dates.extend(sessions);
        }
        if !st.participants_loaded {
            paged.push((TableId::Participants, vec![0]));
            st.participants_loaded = true;
        }
        for (t, dates) in paged {
            let batches = crate::table::scan(
                &self.lake[t.index()],
                t,
                in_dates(&dates),
                Some(&["call_id"]),
            )
            .await?;
            for b in batches {
                let ids = b.column(0).as_string::<i32>();
                for r in 0..b.num_rows() {
                    let h = self.hash(ids.value(r));
                    st.paged.insert(h);
                }
            }
        }
        Ok(())
    }
}

fn in_dates(dates: &[i32]) -> datafusion::logical_expr::Expr {
    crate::predicate::dates_predicate(dates.iter().copied())
}
