//! Deciding which rows of a group of batches win: the pure part of the upsert, with no I/O.

use std::collections::HashMap;

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{Int64Type, TimestampMicrosecondType};
use cqlake_ingest::flatten::FlatBatch;
use cqlake_schema::TableId;

/// What orders two records of one call: `version`, then `lastModifiedDateTime` (µs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CallKey {
    /// The call record's `version` (null sorts first).
    pub version: Option<i64>,
    /// Its `lastModifiedDateTime` in µs (null sorts first).
    pub last_modified: Option<i64>,
}

/// The rows of a group of batches to write, per table, and the calls they replace.
#[derive(Debug, Default)]
pub struct Selection {
    /// Rows to write, per table (in [`TableId::ALL`] order).
    pub rows: Vec<Vec<RecordBatch>>,
    /// Call ids whose existing rows must be replaced, per table.
    pub replace_calls: Vec<Vec<String>>,
    /// Session ids (from follow-up pages) whose existing rows must be replaced, per table.
    pub replace_sessions: Vec<Vec<String>>,
    /// Calls in the group that lost to a newer or equal record already in the lake.
    pub stale_calls: u64,
    /// Calls in the group that lost to a newer record of the same group.
    pub superseded_calls: u64,
}

/// The `(call_id, key)` of every row of `calls` in `batch`.
pub fn call_keys(batch: &RecordBatch) -> Vec<(String, CallKey)> {
    let t = TableId::Calls.table();
    let ids = batch.column(0).as_string::<i32>();
    let ver = batch
        .column(t.column_index("version").expect("version"))
        .as_primitive::<Int64Type>();
    let lm = batch
        .column(
            t.column_index("last_modified_date_time")
                .expect("last_modified_date_time"),
        )
        .as_primitive::<TimestampMicrosecondType>();
    (0..batch.num_rows())
        .map(|r| {
            let key = CallKey {
                version: ver.is_valid(r).then(|| ver.value(r)),
                last_modified: lm.is_valid(r).then(|| lm.value(r)),
            };
            (ids.value(r).to_string(), key)
        })
        .collect()
}

/// Which tables a record speaks for: `calls` always, `participants` when it carried them, the
/// session family when it carried its sessions.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Call,
    Participants,
    Sessions,
}

fn family(t: TableId) -> Family {
    match t {
        TableId::Calls => Family::Call,
        TableId::Participants => Family::Participants,
        _ => Family::Sessions,
    }
}

/// Picks, for every call in `group` and every table, the winning record against `existing` (the
/// keys the lake holds), and returns the rows to write.
///
/// The highest key (`version`, then `lastModifiedDateTime`) wins. Records with the same key are
/// views of the same call (a basic record, one with `$expand=sessions`, one with
/// `participants_v2`): for each table, the last of them that carried that table's data wins.
/// A call whose key is not above the lake's is left alone. Sessions of follow-up pages are added
/// when neither a call record of the group nor the lake (`known_sessions`) has them already.
pub fn select(
    group: &[FlatBatch],
    existing: &HashMap<String, CallKey>,
    known_sessions: &std::collections::HashSet<String>,
) -> Selection {
    // Best key per call, then per family the last (batch, row) with that key covering it.
    let mut best: HashMap<String, CallKey> = HashMap::new();
    let keys: Vec<Vec<(String, CallKey)>> =
        group.iter().map(|fb| call_keys(&fb.batches[0])).collect();
    let mut records = 0u64;
    for ks in &keys {
        for (id, key) in ks {
            records += 1;
            let e = best.entry(id.clone()).or_insert(*key);
            if *key > *e {
                *e = *key;
            }
        }
    }
    // Among records of the best key, the one latest in the input wins each family.
    let mut winner: HashMap<(&str, u8), (usize, usize, u64)> = HashMap::new();
    for (b, ks) in keys.iter().enumerate() {
        for (r, (id, key)) in ks.iter().enumerate() {
            if *key != best[id] {
                continue;
            }
            let cov = &group[b].coverage[r];
            let covers = [true, cov.participants, cov.sessions];
            for (f, covered) in [Family::Call, Family::Participants, Family::Sessions]
                .into_iter()
                .zip(covers)
            {
                if !covered {
                    continue;
                }
                let slot = winner
                    .entry((id.as_str(), f as u8))
                    .or_insert((b, r, cov.order));
                if cov.order >= slot.2 {
                    *slot = (b, r, cov.order);
                }
            }
        }
    }
    let mut stale = 0;
    let superseded = records - best.len() as u64;
    // keep[family][b][r]: this record's rows of that family are written.
    let mut keep: Vec<Vec<Vec<bool>>> = (0..3)
        .map(|_| {
            group
                .iter()
                .map(|fb| vec![false; fb.batches[0].num_rows()])
                .collect()
        })
        .collect();
    let mut replace_calls: Vec<Vec<String>> = vec![Vec::new(); 6];
    for (id, key) in &best {
        let newer = match existing.get(id) {
            Some(old) if *old >= *key => {
                stale += 1;
                false
            }
            _ => true,
        };
        if !newer {
            continue;
        }
        let in_lake = existing.contains_key(id);
        for (f, tables) in [
            (Family::Call, &[TableId::Calls][..]),
            (Family::Participants, &[TableId::Participants][..]),
            (
                Family::Sessions,
                &[
                    TableId::Sessions,
                    TableId::Segments,
                    TableId::Media,
                    TableId::Streams,
                ][..],
            ),
        ] {
            if let Some(&(b, r, _)) = winner.get(&(id.as_str(), f as u8)) {
                keep[f as usize][b][r] = true;
                if in_lake {
                    for t in tables {
                        replace_calls[t.index()].push(id.clone());
                    }
                }
            }
        }
    }
    // Sessions of follow-up pages: a session a winning call record carries itself wins over page
    // copies; among page copies, the last batch that has it wins.
    let sessions_t = TableId::Sessions.index();
    let mut from_calls: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut last_page_batch: HashMap<String, usize> = HashMap::new();
    for (b, fb) in group.iter().enumerate() {
        let sid = fb.batches[sessions_t].column(2).as_string::<i32>();
        for (r, &cr) in fb.call_rows[sessions_t].iter().enumerate() {
            if cr == u32::MAX {
                last_page_batch.insert(sid.value(r).to_string(), b);
            } else if keep[Family::Sessions as usize][b][cr as usize] {
                from_calls.insert(sid.value(r).to_string());
            }
        }
    }
    let mut rows: Vec<Vec<RecordBatch>> = vec![Vec::new(); 6];
    let replace_sessions: Vec<Vec<String>> = vec![Vec::new(); 6];
    for (b, fb) in group.iter().enumerate() {
        for t in TableId::ALL {
            let batch = &fb.batches[t.index()];
            if batch.num_rows() == 0 {
                continue;
            }
            let fam = family(t) as usize;
            let has_sid = fam == Family::Sessions as usize;
            let sid = has_sid.then(|| batch.column(2).as_string::<i32>());
            let mut mask = Vec::with_capacity(batch.num_rows());
            for (r, &cr) in fb.call_rows[t.index()].iter().enumerate() {
                let k = if cr != u32::MAX {
                    keep[fam][b][cr as usize]
                } else if let Some(sid) = sid {
                    // A row of a follow-up page: it replaces the rows of its session.
                    let s = sid.value(r);
                    !from_calls.contains(s)
                        && !known_sessions.contains(s)
                        && last_page_batch.get(s) == Some(&b)
                } else {
                    true
                };
                mask.push(Some(k));
            }
            let mask: BooleanArray = mask.into_iter().collect();
            let kept = if mask.true_count() == batch.num_rows() {
                batch.clone()
            } else {
                filter_record_batch(batch, &mask).expect("mask matches the batch")
            };
            if kept.num_rows() > 0 {
                rows[t.index()].push(kept);
            }
        }
    }
    for v in &mut replace_calls {
        v.sort();
    }
    Selection {
        rows,
        replace_calls,
        replace_sessions,
        stale_calls: stale,
        superseded_calls: superseded,
    }
}
