//! What `cqlake pull` remembers between runs, as the rows of the lake's `pull_state` table
//! ([`SideTable::PullState`]): how far each kind of data is pulled (the next run's default
//! window), the call records that answered 404 (fetched again next time, given up once past
//! Graph's 30 days), and one row per run with its counts.
//!
//! The caller reads the table (`SELECT * FROM pull_state`) into [`PullState::from_batches`],
//! updates the state as the run goes, and writes [`PullState::to_batch`] (the rows that changed)
//! in the run's lake group.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Int64Type};
use cqlake_schema::SideTable;
use cqlake_schema::batch::SideBatch;

use crate::records::{Listed, RecordKey};
use crate::{Error, Result};

const DAY_US: i64 = 86_400_000_000;

/// How long Graph keeps a call record: older ones are neither listed nor got.
pub const RETENTION_US: i64 = 30 * DAY_US;

/// How far before the end of the last complete window a run starts by default: records change
/// (a higher version) hours or days after their call.
pub const OVERLAP_US: i64 = 3 * DAY_US;

/// The window of a first run.
pub const FIRST_WINDOW_US: i64 = 30 * DAY_US;

/// Where a call record that answered 404 stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStatus {
    /// Not got yet: asked for again next run.
    Pending,
    /// Got on a later run.
    Fetched,
    /// Past Graph's 30 days and never got.
    GivenUp,
}

impl RecordStatus {
    /// The `status` value.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Pending => "pending",
            RecordStatus::Fetched => "fetched",
            RecordStatus::GivenUp => "given_up",
        }
    }

    fn parse(s: &str) -> Option<RecordStatus> {
        Some(match s {
            "pending" => RecordStatus::Pending,
            "fetched" => RecordStatus::Fetched,
            "given_up" => RecordStatus::GivenUp,
            _ => return None,
        })
    }
}

/// A call record that answered 404 at least once.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRecord {
    /// Where it stands.
    pub status: RecordStatus,
    /// Its `startDateTime` as listed (µs).
    pub call_start_us: Option<i64>,
    /// Its version and last modification as listed.
    pub key: RecordKey,
    /// When it first answered 404 (µs).
    pub first_seen_us: i64,
    /// When it was last asked for (µs).
    pub last_attempt_us: i64,
    /// How many runs asked for it.
    pub attempts: i64,
}

/// One run of `cqlake pull`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Run {
    /// When it started (µs).
    pub started_us: i64,
    /// When it ended (µs).
    pub ended_us: i64,
    /// The call records' window.
    pub window: (i64, i64),
    /// Whether every kind asked for was pulled to the end.
    pub complete: bool,
    /// Call records listed.
    pub listed: u64,
    /// Call records got.
    pub fetched: u64,
    /// Call records listed with the lake's version.
    pub unchanged: u64,
    /// Call records that answered 404.
    pub pending: u64,
    /// Pending records given up.
    pub given_up: u64,
    /// Rows of the PSTN-type logs.
    pub log_rows: u64,
    /// Recordings read.
    pub recordings: u64,
    /// Graph requests.
    pub requests: u64,
    /// Answers 429.
    pub throttled: u64,
    /// Why it stopped, if it failed.
    pub error: Option<String>,
}

/// The state of the pulls of one lake.
#[derive(Debug, Clone, Default)]
pub struct PullState {
    /// For each kind (`call-records`, `pstn`, …): the start of the last complete window and the
    /// latest end pulled completely (µs).
    pub windows: BTreeMap<String, (i64, i64)>,
    /// The call records that answered 404, by id.
    pub records: BTreeMap<String, PendingRecord>,
    /// The runs, oldest first.
    pub runs: Vec<Run>,
    changed_windows: BTreeSet<String>,
    changed_records: BTreeSet<String>,
    new_runs: Vec<Run>,
}

impl PullState {
    /// The state in `batches`: rows of `pull_state` (any column order; strings as Utf8 or
    /// Utf8View, timestamps as timestamps or integers of µs).
    pub fn from_batches(batches: &[RecordBatch]) -> Result<PullState> {
        let mut st = PullState::default();
        for b in batches {
            let cols = Columns::of(b)?;
            for r in 0..b.num_rows() {
                let (Some(key), Some(kind)) = (cols.str("key", r), cols.str("kind", r)) else {
                    continue;
                };
                let int = |n: &str| cols.int(n, r);
                match kind.as_str() {
                    "window" => {
                        if let (Some(f), Some(t)) = (int("window_from"), int("window_to")) {
                            st.windows.insert(key, (f, t));
                        }
                    }
                    "record" => {
                        let status = cols
                            .str("status", r)
                            .and_then(|s| RecordStatus::parse(&s))
                            .unwrap_or(RecordStatus::Pending);
                        st.records.insert(
                            key,
                            PendingRecord {
                                status,
                                call_start_us: int("call_start"),
                                key: RecordKey {
                                    version: int("version"),
                                    last_modified_us: int("last_modified"),
                                },
                                first_seen_us: int("first_seen").unwrap_or(0),
                                last_attempt_us: int("last_attempt").unwrap_or(0),
                                attempts: int("attempts").unwrap_or(0),
                            },
                        );
                    }
                    "run" => {
                        let u = |n: &str| int(n).unwrap_or(0).max(0) as u64;
                        st.runs.push(Run {
                            started_us: key
                                .parse()
                                .ok()
                                .or_else(|| cqlake_schema::calendar::parse_timestamp_us(&key))
                                .unwrap_or(0),
                            ended_us: int("last_attempt").unwrap_or(0),
                            window: (
                                int("window_from").unwrap_or(0),
                                int("window_to").unwrap_or(0),
                            ),
                            complete: cols.str("status", r).as_deref() == Some("complete"),
                            listed: u("listed"),
                            fetched: u("fetched"),
                            unchanged: u("unchanged"),
                            pending: u("pending"),
                            given_up: u("given_up"),
                            log_rows: u("log_rows"),
                            recordings: u("recordings"),
                            requests: u("requests"),
                            throttled: u("throttled"),
                            error: cols.str("error", r),
                        });
                    }
                    _ => {}
                }
            }
        }
        st.runs.sort_by_key(|r| r.started_us);
        Ok(st)
    }

    /// The default window of `kind` at `now_us`: from 3 days before the end of its last
    /// complete window (30 days back the first time) to now; for call records never further
    /// back than Graph keeps them.
    pub fn default_window(&self, kind: &str, now_us: i64) -> (i64, i64) {
        let from = match self.windows.get(kind) {
            Some(&(_, to)) => (to - OVERLAP_US).min(now_us),
            None => now_us - FIRST_WINDOW_US,
        };
        let from = if kind == "call-records" {
            from.max(now_us - RETENTION_US)
        } else {
            from
        };
        (from, now_us)
    }

    /// Marks `kind` pulled over `[from_us, to_us)`: its window end moves forward (never back:
    /// an explicit older window does not undo a later one).
    pub fn complete_window(&mut self, kind: &str, from_us: i64, to_us: i64) {
        let to = self
            .windows
            .get(kind)
            .map_or(to_us, |&(_, old)| old.max(to_us));
        self.windows.insert(kind.to_string(), (from_us, to));
        self.changed_windows.insert(kind.to_string());
    }

    /// The pending records still within Graph's 30 days at `now_us` (to get again), and
    /// marks the others given up, returning their ids.
    pub fn due(&mut self, now_us: i64) -> (Vec<Listed>, Vec<String>) {
        let mut again = Vec::new();
        let mut given_up = Vec::new();
        for (id, r) in &mut self.records {
            if r.status != RecordStatus::Pending {
                continue;
            }
            // Without a listed start, the record is kept 30 days from when it was first seen.
            let start = r.call_start_us.unwrap_or(r.first_seen_us);
            if start < now_us - RETENTION_US {
                r.status = RecordStatus::GivenUp;
                given_up.push(id.clone());
                self.changed_records.insert(id.clone());
            } else {
                again.push(Listed {
                    id: id.clone(),
                    key: r.key,
                    start_us: r.call_start_us,
                });
            }
        }
        (again, given_up)
    }

    /// Call record `listed` answered 404 at `now_us`.
    pub fn pending(&mut self, listed: &Listed, now_us: i64) {
        let r = self
            .records
            .entry(listed.id.clone())
            .or_insert(PendingRecord {
                status: RecordStatus::Pending,
                call_start_us: listed.start_us,
                key: listed.key,
                first_seen_us: now_us,
                last_attempt_us: now_us,
                attempts: 0,
            });
        r.status = RecordStatus::Pending;
        r.call_start_us = listed.start_us.or(r.call_start_us);
        r.key = r.key.max(listed.key);
        r.last_attempt_us = now_us;
        r.attempts += 1;
        self.changed_records.insert(listed.id.clone());
    }

    /// Call record `id` was got at `now_us`: if it had been pending, it is no more.
    pub fn fetched(&mut self, id: &str, now_us: i64) {
        if let Some(r) = self.records.get_mut(id)
            && r.status != RecordStatus::Fetched
        {
            r.status = RecordStatus::Fetched;
            r.last_attempt_us = now_us;
            r.attempts += 1;
            self.changed_records.insert(id.to_string());
        }
    }

    /// Adds a run.
    pub fn add_run(&mut self, run: Run) {
        self.runs.push(run.clone());
        self.new_runs.push(run);
    }

    /// The records pending now.
    pub fn pending_ids(&self) -> Vec<&str> {
        self.records
            .iter()
            .filter(|(_, r)| r.status == RecordStatus::Pending)
            .map(|(id, _)| id.as_str())
            .collect()
    }

    /// The rows that changed since [`PullState::from_batches`], as a batch of the side tables
    /// (every other table empty).
    pub fn to_batch(&self) -> Result<SideBatch> {
        let def = SideTable::PullState.def();
        let mut rows: Vec<Row> = Vec::new();
        for kind in &self.changed_windows {
            let (f, t) = self.windows[kind];
            rows.push(Row {
                key: kind.clone(),
                kind: "window",
                ints: vec![("window_from", Some(f)), ("window_to", Some(t))],
                strs: vec![],
            });
        }
        for id in &self.changed_records {
            let r = &self.records[id];
            rows.push(Row {
                key: id.clone(),
                kind: "record",
                strs: vec![("status", Some(r.status.as_str().to_string()))],
                ints: vec![
                    ("call_start", r.call_start_us),
                    ("version", r.key.version),
                    ("last_modified", r.key.last_modified_us),
                    ("first_seen", Some(r.first_seen_us)),
                    ("last_attempt", Some(r.last_attempt_us)),
                    ("attempts", Some(r.attempts)),
                ],
            });
        }
        for run in &self.new_runs {
            let n = |v: u64| Some(v as i64);
            rows.push(Row {
                key: cqlake_schema::calendar::format_timestamp_us(run.started_us),
                kind: "run",
                strs: vec![
                    (
                        "status",
                        Some(if run.complete { "complete" } else { "failed" }.to_string()),
                    ),
                    ("error", run.error.clone()),
                ],
                ints: vec![
                    ("last_attempt", Some(run.ended_us)),
                    ("window_from", Some(run.window.0)),
                    ("window_to", Some(run.window.1)),
                    ("listed", n(run.listed)),
                    ("fetched", n(run.fetched)),
                    ("unchanged", n(run.unchanged)),
                    ("pending", n(run.pending)),
                    ("given_up", n(run.given_up)),
                    ("log_rows", n(run.log_rows)),
                    ("recordings", n(run.recordings)),
                    ("requests", n(run.requests)),
                    ("throttled", n(run.throttled)),
                ],
            });
        }
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(def.columns.len());
        for c in &def.columns {
            let name = c.name.as_str();
            let a: ArrayRef = match c.data_type {
                DataType::Utf8 => Arc::new(StringArray::from_iter(rows.iter().map(|r| {
                    match name {
                        "key" => Some(r.key.clone()),
                        "kind" => Some(r.kind.to_string()),
                        _ => r
                            .strs
                            .iter()
                            .find(|(n, _)| *n == name)
                            .and_then(|(_, v)| v.clone()),
                    }
                }))),
                DataType::Int64 => {
                    Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.int(name))))
                }
                DataType::Timestamp(_, _) => Arc::new(
                    TimestampMicrosecondArray::from_iter(rows.iter().map(|r| r.int(name)))
                        .with_timezone(cqlake_schema::UTC),
                ),
                ref other => {
                    return Err(Error::Config(format!(
                        "pull_state.{name}: no writer for {other}"
                    )));
                }
            };
            arrays.push(a);
        }
        let batch = RecordBatch::try_new(def.schema(), arrays)
            .map_err(|e| Error::Config(format!("pull_state rows: {e}")))?;
        let mut batches = Vec::new();
        let mut orders = Vec::new();
        for t in SideTable::ALL {
            if t == SideTable::PullState {
                orders.push((0..batch.num_rows() as u64).collect());
                batches.push(batch.clone());
            } else {
                orders.push(Vec::new());
                batches.push(RecordBatch::new_empty(t.def().schema()));
            }
        }
        Ok(SideBatch { batches, orders })
    }
}

struct Row {
    key: String,
    kind: &'static str,
    strs: Vec<(&'static str, Option<String>)>,
    ints: Vec<(&'static str, Option<i64>)>,
}

impl Row {
    fn int(&self, name: &str) -> Option<i64> {
        self.ints
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| *v)
    }
}

/// The columns of a `pull_state` batch, cast to Utf8 and Int64.
struct Columns {
    by_name: BTreeMap<String, ArrayRef>,
}

impl Columns {
    fn of(b: &RecordBatch) -> Result<Columns> {
        let def = SideTable::PullState.def();
        let mut by_name = BTreeMap::new();
        for (i, f) in b.schema().fields().iter().enumerate() {
            let Some(c) = def.column_index(f.name()) else {
                continue;
            };
            let to = match def.columns[c].data_type {
                DataType::Utf8 => DataType::Utf8,
                _ => DataType::Int64,
            };
            let a = arrow::compute::cast(b.column(i), &to)
                .map_err(|e| Error::Config(format!("pull_state.{}: {e}", f.name())))?;
            by_name.insert(f.name().clone(), a);
        }
        Ok(Columns { by_name })
    }

    fn str(&self, name: &str, r: usize) -> Option<String> {
        let a = self.by_name.get(name)?.as_string::<i32>();
        a.is_valid(r).then(|| a.value(r).to_string())
    }

    fn int(&self, name: &str, r: usize) -> Option<i64> {
        let a = self.by_name.get(name)?.as_primitive::<Int64Type>();
        a.is_valid(r).then(|| a.value(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(id: &str, start: i64) -> Listed {
        Listed {
            id: id.into(),
            key: RecordKey {
                version: Some(1),
                last_modified_us: Some(start + 1),
            },
            start_us: Some(start),
        }
    }

    #[test]
    fn the_state_goes_through_its_table_and_back() {
        let now = 100 * DAY_US;
        let mut st = PullState::default();
        st.complete_window("call-records", now - 30 * DAY_US, now);
        st.pending(&listed("a", now - DAY_US), now);
        st.pending(&listed("b", now - 2 * DAY_US), now);
        st.fetched("b", now + 5);
        st.fetched("never-pending", now);
        st.add_run(Run {
            started_us: now - 10,
            ended_us: now,
            window: (now - 30 * DAY_US, now),
            complete: true,
            listed: 7,
            pending: 2,
            ..Run::default()
        });
        let b = st.to_batch().unwrap();
        let rows = &b.batches[SideTable::PullState.index()];
        assert_eq!(rows.num_rows(), 1 + 2 + 1);
        assert_eq!(b.rows(), 4, "other tables are empty");
        let back = PullState::from_batches(std::slice::from_ref(rows)).unwrap();
        assert_eq!(back.windows, st.windows);
        assert_eq!(back.records, st.records);
        assert_eq!(back.runs, st.runs);
        assert_eq!(back.pending_ids(), vec!["a"]);
        assert_eq!(back.records["b"].status, RecordStatus::Fetched);
        assert_eq!(back.records["b"].attempts, 2);
        // Read back, nothing changed: nothing to write.
        assert_eq!(back.to_batch().unwrap().rows(), 0);
    }

    #[test]
    fn windows_start_three_days_back_within_graphs_thirty() {
        let now = 100 * DAY_US;
        let mut st = PullState::default();
        assert_eq!(
            st.default_window("call-records", now),
            (now - 30 * DAY_US, now)
        );
        st.complete_window("call-records", now - 5 * DAY_US, now - DAY_US);
        st.complete_window("pstn", now - 200 * DAY_US, now - 60 * DAY_US);
        st.complete_window("call-records", now - 50 * DAY_US, now - 40 * DAY_US);
        // An older explicit window does not move the end back.
        assert_eq!(st.windows["call-records"].1, now - DAY_US);
        assert_eq!(
            st.default_window("call-records", now),
            (now - 4 * DAY_US, now)
        );
        // Logs are kept longer than call records: no 30-day floor.
        assert_eq!(st.default_window("pstn", now), (now - 63 * DAY_US, now));
        st.windows
            .insert("call-records".into(), (0, now - 90 * DAY_US));
        assert_eq!(st.default_window("call-records", now).0, now - 30 * DAY_US);
    }

    #[test]
    fn pending_records_are_due_until_past_thirty_days() {
        let now = 100 * DAY_US;
        let mut st = PullState::default();
        st.pending(&listed("young", now - 29 * DAY_US), now - 29 * DAY_US);
        st.pending(&listed("old", now - 31 * DAY_US), now - 31 * DAY_US);
        st.pending(&listed("got", now - DAY_US), now - DAY_US);
        st.fetched("got", now);
        let (again, given_up) = st.due(now);
        assert_eq!(
            again.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
            ["young"]
        );
        assert_eq!(given_up, ["old"]);
        assert_eq!(st.records["old"].status, RecordStatus::GivenUp);
        // Given up once: not again.
        assert!(st.due(now).1.is_empty());
    }
}
