//! Deciding which rows of a group of batches win: the pure part of the upsert, with no I/O.
//!
//! The rules, per call:
//! - the record with the highest key (`version`, then `lastModifiedDateTime`) wins; records with
//!   the same key are views of one call (a basic record, a `$expand=sessions` one, a
//!   `participants_v2` one) and each table takes the latest of them (in input order) that carried
//!   its data;
//! - a winning record replaces, in each table it speaks for, every row the lake holds for the
//!   call — except that a record that says more sessions (participants) follow
//!   (`sessions@odata.nextLink`, `participants_v2@odata.nextLink`) replaces only the sessions
//!   (participants) it carries, keeping the rest;
//! - rows of follow-up pages (sessions, participants) carry no version: they replace the lake's
//!   copy of the same session (participant), take their call's partition date and `call_*`
//!   context from the call's current row, and yield to a copy that a winning record carries
//!   or that an earlier group of the same run wrote from a later input position; a session id
//!   repeated in the pages (its occurrences, see [`Key::SessionOccurrence`]) keeps every
//!   occurrence in `sessions` and `segments`, each replacing the lake's copy of that
//!   occurrence, and the media and streams of its last occurrence;
//! - when only a call's `calls` row changes, its other rows keep their data but their `call_*`
//!   context (and, if the call's start date moved, their partition) is refreshed
//!   ([`Selection::recontext`], applied with [`with_call_context`]).

use std::collections::{BTreeSet, HashMap, HashSet};

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Date32Array, RecordBatch, UInt32Array};
use arrow::compute::{filter_record_batch, interleave, take};
use arrow::datatypes::{Date32Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow::error::ArrowError;
use cqlake_schema::batch::{FlatBatch, PAGE_ROW};
use cqlake_schema::{ColumnRole, Key, TableId};

/// How many days after its start a call's rows may lie in (sessions of follow-up pages are
/// partitioned by their own start date when their call is unknown).
pub const MAX_CALL_DAYS: i32 = 7;

/// What orders two records of one call: `version`, then `lastModifiedDateTime` (µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CallKey {
    /// The call record's `version` (null sorts first).
    pub version: Option<i64>,
    /// Its `lastModifiedDateTime` in µs (null sorts first).
    pub last_modified: Option<i64>,
}

/// Rows of the `calls` table, by call id.
#[derive(Debug, Default, Clone)]
pub struct CallRows {
    batch: Option<RecordBatch>,
    index: HashMap<String, u32>,
}

impl CallRows {
    /// Indexes `batches` (in the `calls` schema); a later row of the same call wins.
    pub fn new(batches: &[RecordBatch]) -> Result<Self, ArrowError> {
        if batches.iter().all(|b| b.num_rows() == 0) {
            return Ok(CallRows::default());
        }
        let batch = arrow::compute::concat_batches(&TableId::Calls.table().schema(), batches)?;
        let ids = batch.column(0).as_string::<i32>();
        let index = (0..batch.num_rows())
            .map(|r| (ids.value(r).to_string(), r as u32))
            .collect();
        Ok(CallRows {
            batch: Some(batch),
            index,
        })
    }

    /// Number of calls.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The row of call `id`.
    pub fn row(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// The key of call `id`.
    pub fn key(&self, id: &str) -> Option<CallKey> {
        let (b, r) = (self.batch.as_ref()?, self.row(id)? as usize);
        Some(key_at(b, r))
    }

    /// The partition date of call `id`.
    pub fn date(&self, id: &str) -> Option<i32> {
        let (b, r) = (self.batch.as_ref()?, self.row(id)? as usize);
        Some(b.column(1).as_primitive::<Date32Type>().value(r))
    }

    /// The dates call `id`'s rows may lie in: from its start date to the date of its
    /// `endDateTime`, at most [`MAX_CALL_DAYS`] days.
    pub fn dates(&self, id: &str) -> Vec<i32> {
        let (Some(b), Some(r)) = (self.batch.as_ref(), self.row(id)) else {
            return Vec::new();
        };
        let start = b.column(1).as_primitive::<Date32Type>().value(r as usize);
        let t = TableId::Calls.table();
        let end = b
            .column(t.column_index("end_date_time").expect("end_date_time"))
            .as_primitive::<TimestampMicrosecondType>();
        let end_date = if end.is_valid(r as usize) {
            end.value(r as usize).div_euclid(86_400_000_000) as i32
        } else {
            start
        };
        (start..=end_date.clamp(start, start + MAX_CALL_DAYS)).collect()
    }
}

fn key_at(batch: &RecordBatch, r: usize) -> CallKey {
    let t = TableId::Calls.table();
    let ver = batch
        .column(t.column_index("version").expect("version"))
        .as_primitive::<Int64Type>();
    let lm = batch
        .column(
            t.column_index("last_modified_date_time")
                .expect("last_modified_date_time"),
        )
        .as_primitive::<TimestampMicrosecondType>();
    CallKey {
        version: ver.is_valid(r).then(|| ver.value(r)),
        last_modified: lm.is_valid(r).then(|| lm.value(r)),
    }
}

/// Which rows of a table the rows written with it replace: rows of the listed calls, sessions
/// or participants, in the listed partitions.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Replace {
    /// Every row of these calls.
    pub calls: BTreeSet<String>,
    /// Rows of these sessions (tables with a `session_id`), as (call id, session id).
    pub sessions: BTreeSet<(String, String)>,
    /// Rows of these occurrences of a session (tables with a `session_occurrence`), as (call
    /// id, session id, occurrence).
    pub occurrences: BTreeSet<(String, String, i32)>,
    /// Rows of these participants (the `participants` table), as (call id, participant id):
    /// a participant id names a person, who takes part in many calls.
    pub participants: BTreeSet<(String, String)>,
    /// The partitions (`call_start_date`, days since the epoch) where they may lie.
    pub dates: BTreeSet<i32>,
}

impl Replace {
    /// True when nothing is replaced.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
            && self.sessions.is_empty()
            && self.occurrences.is_empty()
            && self.participants.is_empty()
    }

    /// For each row of `batch` (of table `t`), whether it belongs to a replaced call, session or
    /// participant.
    pub fn matches(&self, t: TableId, batch: &RecordBatch) -> Vec<bool> {
        let ids = batch.column(0).as_string::<i32>();
        let sid = session_col(t).map(|c| batch.column(c).as_string::<i32>());
        let occ = occurrence_col(t).map(|c| batch.column(c).as_primitive::<Int32Type>());
        let pid = (t == TableId::Participants).then(|| batch.column(4).as_string::<i32>());
        let pair = |set: &BTreeSet<(String, String)>, r: usize, c: &arrow::array::StringArray| {
            // Allocation-free lookup of (call, id) would need a borrowed tuple; sets are small.
            c.is_valid(r) && set.contains(&(ids.value(r).to_string(), c.value(r).to_string()))
        };
        (0..batch.num_rows())
            .map(|r| {
                self.calls.contains(ids.value(r))
                    || (!self.sessions.is_empty()
                        && sid.is_some_and(|s| pair(&self.sessions, r, s)))
                    || (!self.occurrences.is_empty()
                        && sid.zip(occ).is_some_and(|(s, o)| {
                            self.occurrences.contains(&(
                                ids.value(r).to_string(),
                                s.value(r).to_string(),
                                o.value(r),
                            ))
                        }))
                    || (!self.participants.is_empty()
                        && pid.is_some_and(|p| pair(&self.participants, r, p)))
            })
            .collect()
    }
}

/// The column index of `session_id` in table `t`, if it has one.
fn session_col(t: TableId) -> Option<usize> {
    t.table().key_index(Key::SessionId)
}

/// The column index of `session_occurrence` in table `t`, if it has one.
fn occurrence_col(t: TableId) -> Option<usize> {
    t.table().key_index(Key::SessionOccurrence)
}

/// The rows of a group of batches to write, per table, and what they replace.
#[derive(Debug, Default)]
pub struct Selection {
    /// What the selection writes of each call, by family (for a run's later records of the
    /// same calls).
    pub written: HashMap<String, Written>,
    /// Rows to write, per table (in [`TableId::ALL`] order).
    pub rows: Vec<Vec<RecordBatch>>,
    /// What the written rows replace, per table.
    pub replace: Vec<Replace>,
    /// The current `calls` row of every call that page rows or [`Selection::recontext`] refer to.
    pub current: CallRows,
    /// Calls already in the lake whose `calls` row this group changes while some of their other
    /// rows stay: those rows must be read back, passed through [`with_call_context`] and
    /// rewritten. Per table (in [`TableId::ALL`] order), the call ids.
    pub recontext: Vec<BTreeSet<String>>,
    /// Calls in the group that lost to a newer or equal record already in the lake.
    pub stale_calls: u64,
    /// Calls in the group that lost to a newer record of the same group.
    pub superseded_calls: u64,
    /// Calls whose rows replaced an older version in the lake.
    pub replaced_calls: u64,
    /// Records of follow-up pages (sessions, participants) whose call is neither in the group
    /// nor in the lake: written without `call_*` context, partitioned by their own start date
    /// (participants: the epoch day), they wait for their call record.
    pub orphan_records: u64,
    /// The page records (sessions, participants) this selection writes, with their input
    /// positions: add them to the run's [`PageOrders`] for its later groups.
    pub pages_written: PageOrders,
}

/// For each record of a follow-up page a run has written (table index, call id, session or
/// participant id, occurrence), its input position. Pages carry no version, so a run's groups
/// must apply them in input order: a copy from an earlier position that comes in a later group
/// (workers hand batches on in any order) yields to the one written already. The occurrence is
/// that of a session's rows in `sessions` and `segments`, or [`ALL_OCCURRENCES`] for its media
/// and streams (which come from its last occurrence) and for participants.
pub type PageOrders = HashMap<(usize, String, String, i32), u64>;

/// See [`PageOrders`].
pub const ALL_OCCURRENCES: i32 = -1;

/// Adds the page records a group wrote (`from`) to a run's (`into`): the later input position
/// of each.
pub fn merge_page_orders(into: &mut PageOrders, from: PageOrders) {
    for (k, o) in from {
        let e = into.entry(k).or_insert(o);
        *e = (*e).max(o);
    }
}

/// Which tables a record speaks for: `calls` always, `participants` when it carried them, the
/// session family when it carried its sessions.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Family {
    Call = 0,
    Participants = 1,
    Sessions = 2,
}

fn family(t: TableId) -> Family {
    match t {
        TableId::Calls => Family::Call,
        TableId::Participants => Family::Participants,
        _ => Family::Sessions,
    }
}

fn tables_of(f: Family) -> &'static [TableId] {
    match f {
        Family::Call => &[TableId::Calls],
        Family::Participants => &[TableId::Participants],
        Family::Sessions => &[
            TableId::Sessions,
            TableId::Segments,
            TableId::Media,
            TableId::Streams,
        ],
    }
}

/// Picks, for every call in `group` and every table, the winning rows against `lake` (the
/// `calls` rows the lake holds for the group's calls); `orphans` are calls the lake has rows of
/// (from follow-up pages) but no `calls` row yet; `written` are calls whose lake copy this run
/// wrote, with the tables that copy carried: a record with the same key is another view of the
/// call, which adds the tables the copy lacked (and is otherwise stale), and rows of follow-up
/// pages yield to a copy that carried all of its sessions (participants), as they do to a
/// record of the same group, and to a copy from a later input position that an earlier group of
/// the run wrote (`pages_written`). See the [module documentation](self).
pub fn select(
    group: &[FlatBatch],
    lake: &CallRows,
    orphans: &HashSet<String>,
    written: &HashMap<String, Written>,
    pages_written: &PageOrders,
) -> Result<Selection, ArrowError> {
    let calls_t = TableId::Calls.index();
    // Best key per call, then per family the latest record with that key covering it.
    let mut best: HashMap<&str, CallKey> = HashMap::new();
    let mut records = 0u64;
    for fb in group {
        let b = &fb.batches[calls_t];
        let ids = b.column(0).as_string::<i32>();
        for r in 0..b.num_rows() {
            records += 1;
            let key = key_at(b, r);
            let e = best.entry(ids.value(r)).or_insert(key);
            *e = (*e).max(key);
        }
    }
    let mut winner: HashMap<(&str, Family), (usize, usize, u64)> = HashMap::new();
    for (b, fb) in group.iter().enumerate() {
        let batch = &fb.batches[calls_t];
        let ids = batch.column(0).as_string::<i32>();
        for r in 0..batch.num_rows() {
            let id = ids.value(r);
            if key_at(batch, r) != best[id] {
                continue;
            }
            let cov = &fb.coverage[r];
            for (f, covered) in [
                (Family::Call, true),
                (Family::Participants, cov.participants),
                (Family::Sessions, cov.sessions),
            ] {
                if covered {
                    let slot = winner.entry((id, f)).or_insert((b, r, cov.order));
                    if cov.order >= slot.2 {
                        *slot = (b, r, cov.order);
                    }
                }
            }
        }
    }

    let mut sel = Selection {
        rows: vec![Vec::new(); 6],
        replace: vec![Replace::default(); 6],
        recontext: vec![BTreeSet::new(); 6],
        superseded_calls: records - best.len() as u64,
        ..Selection::default()
    };
    // keep[family][batch][row of calls]: that record's rows of the family are written.
    let mut keep: Vec<Vec<Vec<bool>>> = (0..3)
        .map(|_| {
            group
                .iter()
                .map(|fb| vec![false; fb.batches[calls_t].num_rows()])
                .collect()
        })
        .collect();
    // Calls whose session family is replaced only session by session.
    let mut partial: HashSet<&str> = HashSet::new();
    // Calls whose participants are replaced only participant by participant.
    let mut partial_participants: HashSet<&str> = HashSet::new();
    // Calls whose lake `calls` row stays while other families are written.
    let mut call_kept: HashSet<&str> = HashSet::new();
    // Where the current `calls` row of a call comes from: a group record or the lake.
    let mut fresh: HashMap<&str, (usize, usize)> = HashMap::new();
    for (&id, &key) in &best {
        // A copy this run wrote with the same key is another view of the call: per table
        // family, the record later in the input wins, whichever was applied first.
        let merging = written.get(id).filter(|_| lake.key(id) == Some(key));
        if merging.is_none() && lake.key(id).is_some_and(|old| old >= key) {
            sel.stale_calls += 1;
            continue;
        }
        if let Some(w) = merging {
            for f in [Family::Call, Family::Participants, Family::Sessions] {
                if let Some(&(_, _, o)) = winner.get(&(id, f))
                    && w.orders[f as usize].is_some_and(|lo| lo >= o)
                {
                    winner.remove(&(id, f));
                }
            }
            if !winner.contains_key(&(id, Family::Call)) {
                // The lake's calls row stays; the other families (if any) are written below
                // as for any call already in the lake.
                match winner
                    .get(&(id, Family::Sessions))
                    .or_else(|| winner.get(&(id, Family::Participants)))
                {
                    Some(&(b, r, _)) => {
                        winner.insert((id, Family::Call), (b, r, 0));
                        call_kept.insert(id);
                    }
                    None => continue,
                }
            }
        }
        let in_lake = lake.row(id).is_some();
        // Rows of the call may be in the lake without its `calls` row: follow-up pages that
        // came before it.
        let has_rows = in_lake || orphans.contains(id);
        sel.replaced_calls += u64::from(in_lake);
        let (cb, cr) = {
            let &(b, r, _) = &winner[&(id, Family::Call)];
            (b, r)
        };
        if !call_kept.contains(id) {
            fresh.insert(id, (cb, cr));
        }
        // What of the call this selection writes, by family.
        let mut w = Written::default();
        for f in [Family::Call, Family::Participants, Family::Sessions] {
            if let Some(&(b, r, o)) = winner.get(&(id, f))
                && !(f == Family::Call && call_kept.contains(id))
            {
                let c = &group[b].coverage[r];
                w.orders[f as usize] = Some(o);
                w.complete[f as usize] = match f {
                    Family::Call => true,
                    Family::Participants => c.participants && !c.participants_next_link,
                    Family::Sessions => c.sessions && !c.sessions_next_link,
                };
            }
        }
        sel.written.insert(id.to_string(), w);
        if !has_rows {
            for f in [Family::Call, Family::Participants, Family::Sessions] {
                if let Some(&(b, r, _)) = winner.get(&(id, f)) {
                    keep[f as usize][b][r] = true;
                }
            }
            continue;
        }
        let new_date = group[cb].batches[calls_t]
            .column(1)
            .as_primitive::<Date32Type>()
            .value(cr);
        // Where the call's rows may lie now.
        let mut old_dates = if in_lake {
            lake.dates(id)
        } else {
            CallRows::new(&[group[cb].batches[calls_t].slice(cr, 1)])?.dates(id)
        };
        old_dates.push(0); // participants of follow-up pages whose call was unknown
        let moved = !in_lake || lake.date(id) != Some(new_date);
        for f in [Family::Call, Family::Participants, Family::Sessions] {
            let whole = match winner.get(&(id, f)) {
                Some(_) if f == Family::Call && call_kept.contains(id) => false,
                Some(&(b, r, _)) => {
                    keep[f as usize][b][r] = true;
                    // A record that says more follow (`@odata.nextLink`) replaces only the
                    // sessions (participants) it carries: the rest come, or came, in pages.
                    let cov = &group[b].coverage[r];
                    match f {
                        Family::Sessions if cov.sessions_next_link => {
                            partial.insert(id);
                            false
                        }
                        Family::Participants if cov.participants_next_link => {
                            partial_participants.insert(id);
                            false
                        }
                        _ => true,
                    }
                }
                None => false,
            };
            for t in tables_of(f) {
                let rep = &mut sel.replace[t.index()];
                rep.dates.extend(old_dates.iter().copied());
                if whole {
                    rep.calls.insert(id.to_string());
                } else if (moved || *t == TableId::Streams) && *t != TableId::Calls {
                    // Rows this group does not rewrite keep stale `call_*` context (streams),
                    // or a stale partition if the start date moved (every table).
                    sel.recontext[t.index()].insert(id.to_string());
                }
            }
        }
    }

    // Rows of follow-up pages: the latest copy of each session (participant) in the group, unless
    // a winning record carries it.
    let sessions_t = TableId::Sessions.index();
    let parts_t = TableId::Participants.index();
    let mut from_records: HashSet<(&str, &str)> = HashSet::new();
    // The latest input position of each page record: per occurrence of a session, and per
    // session (its last occurrence, whose media and streams are kept) or participant.
    let mut page_latest: HashMap<(usize, &str, &str, i32), u64> = HashMap::new();
    for (b, fb) in group.iter().enumerate() {
        for (t, id_col) in [(sessions_t, 2), (parts_t, 4)] {
            let batch = &fb.batches[t];
            let calls = batch.column(0).as_string::<i32>();
            let ids = batch.column(id_col).as_string::<i32>();
            let occ = occurrence_col(TableId::ALL[t])
                .map(|c| batch.column(c).as_primitive::<Int32Type>());
            let fam = family(TableId::ALL[t]) as usize;
            for (r, &cr) in fb.call_rows[t].iter().enumerate() {
                if ids.is_null(r) {
                    continue;
                }
                let k = (calls.value(r), ids.value(r));
                if cr == PAGE_ROW {
                    let order = fb.orders[t][r];
                    let mut keys = vec![(t, k.0, k.1, ALL_OCCURRENCES)];
                    keys.extend(occ.map(|o| (t, k.0, k.1, o.value(r))));
                    for key in keys {
                        let o = page_latest.entry(key).or_insert(0);
                        *o = (*o).max(order);
                    }
                } else if keep[fam][b][cr as usize] {
                    from_records.insert(k);
                }
            }
        }
    }

    // Which calls need their current row: those of page rows and of recontext.
    let mut wanted: BTreeSet<&str> = BTreeSet::new();
    for fb in group {
        for t in 1..6 {
            let ids = fb.batches[t].column(0).as_string::<i32>();
            for (r, &cr) in fb.call_rows[t].iter().enumerate() {
                if cr == PAGE_ROW {
                    wanted.insert(ids.value(r));
                }
            }
        }
    }
    for set in &sel.recontext {
        wanted.extend(set.iter().map(String::as_str));
    }
    sel.current = current_rows(group, lake, &fresh, &wanted)?;

    let mut orphans: HashSet<(usize, &str, &str)> = HashSet::new();
    for (b, fb) in group.iter().enumerate() {
        for t in TableId::ALL {
            let ti = t.index();
            let batch = &fb.batches[ti];
            if batch.num_rows() == 0 {
                continue;
            }
            let fam = family(t) as usize;
            let calls = batch.column(0).as_string::<i32>();
            let dates = batch.column(1).as_primitive::<Date32Type>();
            // The column that identifies a page row's record (session or participant).
            let rec_col = match t {
                TableId::Participants => Some(4),
                _ => session_col(t),
            };
            let recs = rec_col.map(|c| batch.column(c).as_string::<i32>());
            let occs = occurrence_col(t).map(|c| batch.column(c).as_primitive::<Int32Type>());
            let page_table = if t == TableId::Participants {
                parts_t
            } else {
                sessions_t
            };
            let mut pages = false;
            let mut mask = Vec::with_capacity(batch.num_rows());
            for (r, &cr) in fb.call_rows[ti].iter().enumerate() {
                let call = calls.value(r);
                let k = if cr != PAGE_ROW {
                    let k = keep[fam][b][cr as usize];
                    if k && fam == Family::Sessions as usize && partial.contains(call) {
                        let s = recs.expect("session id").value(r);
                        sel.replace[ti]
                            .sessions
                            .insert((call.to_string(), s.to_string()));
                    }
                    if k && t == TableId::Participants
                        && partial_participants.contains(call)
                        && let Some(p) = recs.filter(|c| c.is_valid(r)).map(|c| c.value(r))
                    {
                        sel.replace[ti]
                            .participants
                            .insert((call.to_string(), p.to_string()));
                    }
                    k
                } else {
                    pages = true;
                    match recs.filter(|c| c.is_valid(r)).map(|c| c.value(r)) {
                        // A page participant without an id can only be added.
                        None => true,
                        Some(rec) => {
                            // Sessions and segments: this occurrence's latest copy; media and
                            // streams: the session's latest (its last occurrence's).
                            let occurrence = occs.map_or(ALL_OCCURRENCES, |o| o.value(r));
                            let latest = page_latest.get(&(page_table, call, rec, occurrence));
                            let carried = written
                                .get(call)
                                .is_some_and(|w| w.complete[family(t) as usize]);
                            let order = fb.orders[ti][r];
                            let page_key =
                                (page_table, call.to_string(), rec.to_string(), occurrence);
                            let later_written =
                                pages_written.get(&page_key).is_some_and(|&o| o > order);
                            let k = latest == Some(&order)
                                && !from_records.contains(&(call, rec))
                                && !carried
                                && !later_written;
                            if k && ti == page_table {
                                if occurrence != ALL_OCCURRENCES {
                                    let all = (
                                        page_key.0,
                                        page_key.1.clone(),
                                        page_key.2.clone(),
                                        ALL_OCCURRENCES,
                                    );
                                    let e = sel.pages_written.entry(all).or_insert(order);
                                    *e = (*e).max(order);
                                }
                                sel.pages_written.insert(page_key, order);
                            }
                            if k {
                                let rep = &mut sel.replace[ti];
                                if t == TableId::Participants {
                                    rep.participants.insert((call.to_string(), rec.to_string()));
                                    // Written before their call was known: at the epoch.
                                    rep.dates.insert(0);
                                } else if occurrence != ALL_OCCURRENCES {
                                    rep.occurrences.insert((
                                        call.to_string(),
                                        rec.to_string(),
                                        occurrence,
                                    ));
                                } else {
                                    rep.sessions.insert((call.to_string(), rec.to_string()));
                                }
                                rep.dates.insert(dates.value(r));
                                rep.dates.extend(sel.current.dates(call));
                                if sel.current.row(call).is_none() && ti == page_table {
                                    orphans.insert((ti, call, rec));
                                }
                            }
                            k
                        }
                    }
                };
                mask.push(k);
            }
            let mask = BooleanArray::from(mask);
            let mut kept = if mask.true_count() == batch.num_rows() {
                batch.clone()
            } else {
                filter_record_batch(batch, &mask)?
            };
            if pages && kept.num_rows() > 0 {
                kept = with_call_context(t, &kept, &sel.current)?;
            }
            if kept.num_rows() > 0 {
                sel.rows[ti].push(kept);
            }
        }
    }
    sel.orphan_records = orphans.len() as u64;
    Ok(sel)
}

/// The current `calls` row of each call in `wanted`: the group's winning record when it is new,
/// else the lake's row.
fn current_rows(
    group: &[FlatBatch],
    lake: &CallRows,
    fresh: &HashMap<&str, (usize, usize)>,
    wanted: &BTreeSet<&str>,
) -> Result<CallRows, ArrowError> {
    if wanted.is_empty() {
        return Ok(CallRows::default());
    }
    let calls_t = TableId::Calls.index();
    // Sources: the lake's batch (0), then the group's `calls` batches (1..).
    let mut sources: Vec<&RecordBatch> = Vec::with_capacity(group.len() + 1);
    let lake_batch = lake
        .batch
        .clone()
        .unwrap_or_else(|| RecordBatch::new_empty(TableId::Calls.table().schema()));
    sources.push(&lake_batch);
    sources.extend(group.iter().map(|fb| &fb.batches[calls_t]));
    let mut picks: Vec<(usize, usize)> = Vec::new();
    for id in wanted {
        if let Some(&(b, r)) = fresh.get(id) {
            picks.push((b + 1, r));
        } else if let Some(r) = lake.row(id) {
            picks.push((0, r as usize));
        }
    }
    if picks.is_empty() {
        return Ok(CallRows::default());
    }
    let columns = (0..lake_batch.num_columns())
        .map(|c| {
            let arrays: Vec<&dyn Array> = sources.iter().map(|s| s.column(c).as_ref()).collect();
            interleave(&arrays, &picks)
        })
        .collect::<Result<Vec<ArrayRef>, _>>()?;
    let batch = RecordBatch::try_new(TableId::Calls.table().schema(), columns)?;
    CallRows::new(&[batch])
}

/// Refreshes the call-derived columns of `batch` (rows of table `t`) from `calls`: the partition
/// date of every row whose call is there, and, in `streams`, every `call_*` context column.
/// Rows whose call is not in `calls` are left as they are.
pub fn with_call_context(
    t: TableId,
    batch: &RecordBatch,
    calls: &CallRows,
) -> Result<RecordBatch, ArrowError> {
    let Some(cb) = &calls.batch else {
        return Ok(batch.clone());
    };
    let ids = batch.column(0).as_string::<i32>();
    let idx: UInt32Array = (0..batch.num_rows())
        .map(|r| calls.row(ids.value(r)))
        .collect();
    if idx.null_count() == idx.len() {
        return Ok(batch.clone());
    }
    let mut columns = batch.columns().to_vec();
    let old = batch.column(1).as_primitive::<Date32Type>();
    let new = cb.column(1).as_primitive::<Date32Type>();
    let dates: Date32Array = (0..batch.num_rows())
        .map(|r| {
            Some(if idx.is_valid(r) {
                new.value(idx.value(r) as usize)
            } else {
                old.value(r)
            })
        })
        .collect();
    columns[1] = std::sync::Arc::new(dates);
    if t == TableId::Streams {
        let table = t.table();
        let all_known = idx.null_count() == 0;
        for (c, def) in table.columns.iter().enumerate() {
            if let ColumnRole::Context {
                table: TableId::Calls,
                column,
            } = def.role
            {
                let taken = take(cb.column(column).as_ref(), &idx, None)?;
                columns[c] = if all_known {
                    taken
                } else {
                    // Keep what an orphan row has (null) where the call is unknown.
                    let known = arrow::compute::is_not_null(&idx)?;
                    arrow::compute::kernels::zip::zip(&known, &taken, &batch.column(c))?
                };
            }
        }
    }
    RecordBatch::try_new(batch.schema(), columns)
}

/// The rows of `batch` (read back from table `t` for calls in [`Selection::recontext`]) that
/// the group does not rewrite, with their call context refreshed from `calls`.
pub fn recontext(
    t: TableId,
    batch: &RecordBatch,
    replace: &Replace,
    calls: &CallRows,
) -> Result<RecordBatch, ArrowError> {
    let replaced = replace.matches(t, batch);
    let mask: BooleanArray = replaced.iter().map(|m| Some(!m)).collect();
    let kept = filter_record_batch(batch, &mask)?;
    with_call_context(t, &kept, calls)
}

/// What a run wrote of a call, by table family (calls; participants; sessions with their
/// segments, media and streams): the input position of the record each family came from, and
/// whether that record carried all of the family (no `@odata.nextLink` for more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Written {
    /// Input position of the record whose rows are in the lake, per family (`None`: none).
    pub orders: [Option<u64>; 3],
    /// That record carried all of the family's rows.
    pub complete: [bool; 3],
}

impl Written {
    /// What a record with `coverage` wrote.
    pub fn of(c: &cqlake_schema::batch::CallCoverage) -> Written {
        let o = Some(c.order);
        Written {
            orders: [o, o.filter(|_| c.participants), o.filter(|_| c.sessions)],
            complete: [
                true,
                c.participants && !c.participants_next_link,
                c.sessions && !c.sessions_next_link,
            ],
        }
    }

    /// Adds what a later write of the same call replaced.
    pub fn update(&mut self, w: &Written) {
        for f in 0..3 {
            if w.orders[f].is_some() {
                self.orders[f] = w.orders[f];
                self.complete[f] = w.complete[f];
            }
        }
    }
}
