//! Rows of the side tables ([`SideTable`]): recordings, record operations, PSTN, direct-routing
//! and SMS logs, change notifications, and the sync state of recordings delta queries.
//!
//! Each object is walked with the plan of its table like a call record's objects are (the same
//! checks, the same `extra` for undeclared keys, the same roll-back of a bad object), after the
//! table's derived columns are set from the document around it. Secrets (a record operation's
//! `recordingAccessToken`, a notification's `clientState`) are never stored: the row says one
//! was there, and the outcome counts it as redacted.

use std::sync::Arc;

use arrow::array::RecordBatch;
use cqlake_schema::batch::SideBatch;
use cqlake_schema::{SideTable, side_tables};
use simd_json::{Node, StaticNode};

use crate::rows::{Path, RecordError, Res, TableBuf, err};
use crate::tape::{describe, is_annotation, members};

/// A value for a derived column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DerivedValue<'a> {
    /// Utf8.
    Str(&'a str),
    /// Boolean.
    Bool(bool),
    /// Int64.
    Int(i64),
    /// Timestamp in µs since the Unix epoch, UTC.
    Timestamp(i64),
}

/// The keys of an object that are secrets: never stored, counted as redacted, and their
/// presence noted in the derived column named.
fn secret(t: SideTable, key: &str) -> Option<&'static str> {
    match (t, key) {
        (SideTable::RecordOperations, "recordingAccessToken") => {
            Some("recording_access_token_redacted")
        }
        (SideTable::Notifications, "clientState") => Some("client_state_redacted"),
        _ => None,
    }
}

/// Side-table rows under construction. See the [module documentation](self).
pub struct SideRows {
    bufs: Vec<TableBuf>,
    source: Arc<str>,
    seen_at: i64,
    order: u64,
}

impl Default for SideRows {
    fn default() -> Self {
        Self::new()
    }
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

impl SideRows {
    /// Empty buffers; the source is unnamed and seen now.
    pub fn new() -> Self {
        SideRows {
            bufs: side_tables()
                .iter()
                .map(|d| TableBuf::with_columns(&d.columns, d.extra.unwrap_or(usize::MAX)))
                .collect(),
            source: Arc::from(""),
            seen_at: now_us(),
            order: 0,
        }
    }

    /// Names the input the next documents come from, and when it was exported (µs since the
    /// epoch: its file's modification time), for the `sync_state` rows.
    pub fn set_source(&mut self, source: Arc<str>, seen_at_us: Option<i64>) {
        self.source = source;
        self.seen_at = seen_at_us.unwrap_or_else(now_us);
    }

    /// Sets the input position recorded with the next rows (a later row wins over an earlier
    /// one with the same key).
    pub fn set_order(&mut self, order: u64) {
        self.order = order;
    }

    /// Rows held in every table.
    pub fn rows(&self) -> usize {
        self.bufs.iter().map(|b| b.rows).sum()
    }

    /// Appends a row of table `t` from the object at `i` of `nodes`, with the derived columns
    /// `derived` (name, value). Returns how many secrets were left
    /// out. On error nothing of the object is kept.
    pub fn push_object(
        &mut self,
        t: SideTable,
        nodes: &[Node<'_>],
        i: usize,
        derived: &[(&str, DerivedValue<'_>)],
    ) -> Result<u32, RecordError> {
        let order = self.order;
        let def = t.def();
        let plan = def.plan.as_ref().expect("a side table with a Graph type");
        let root = Path::root();
        if !matches!(nodes[i], Node::Object { .. }) {
            return Err(err(
                &root,
                format!(
                    "a {} must be an object, not {}",
                    plan.group.graph_type,
                    describe(&nodes[i])
                ),
            ));
        }
        let buf = &mut self.bufs[t.index()];
        let mark = buf.rows;
        let r = (|| -> Res<u32> {
            set_derived(buf, t, derived)?;
            let mut redacted = 0;
            let mut hint = 0;
            for (k, v) in members(nodes, i) {
                let path = root.key(k);
                if let Some(flag) = secret(t, k) {
                    if !matches!(nodes[v], Node::Static(StaticNode::Null)) {
                        redacted += 1;
                        set_derived(buf, t, &[(flag, DerivedValue::Bool(true))])?;
                    }
                    continue;
                }
                if is_annotation(k) && plan.group.prop(k).is_none() {
                    continue;
                }
                if t == SideTable::RecordOperations
                    && k == "recordingLocation"
                    && matches!(nodes[v], Node::String(_))
                {
                    set_derived(
                        buf,
                        t,
                        &[("recording_location_given", DerivedValue::Bool(true))],
                    )?;
                }
                buf.member(plan, nodes, i, k, v, &path, &mut hint)?;
            }
            // Flags (the non-null derived booleans) not set above are false.
            for (c, col) in def.columns.iter().enumerate() {
                if col.role == cqlake_schema::ColumnRole::Derived
                    && !col.nullable
                    && col.data_type == arrow::datatypes::DataType::Boolean
                {
                    let cb = &mut buf.cols[c];
                    if cb.len() <= buf.rows {
                        cb.pad(buf.rows);
                        cb.push_bool(false);
                    }
                }
            }
            Ok(redacted)
        })();
        match r {
            Ok(n) => {
                buf.order.push(order);
                buf.call_row.push(u32::MAX);
                buf.close_row();
                Ok(n)
            }
            Err(e) => {
                buf.truncate(mark);
                Err(e)
            }
        }
    }

    /// Appends a `sync_state` row for one page of a recordings delta query: its `@odata.nextLink`
    /// or `@odata.deltaLink` and how many recordings it held, seen in the current source.
    pub fn push_sync_page(
        &mut self,
        next_link: Option<&str>,
        delta_link: Option<&str>,
        recordings: u64,
    ) {
        let order = self.order;
        let Some(link) = delta_link.or(next_link) else {
            return;
        };
        let query = query_of(link);
        let organizer = organizer_of(link);
        let source = self.source.clone();
        let at = DerivedValue::Timestamp(self.seen_at);
        let mut d: Vec<(&str, DerivedValue<'_>)> = vec![
            ("query", DerivedValue::Str(&query)),
            ("pages", DerivedValue::Int(1)),
            ("recordings", DerivedValue::Int(recordings as i64)),
        ];
        if let Some(o) = organizer.as_deref() {
            d.push(("organizer_user_id", DerivedValue::Str(o)));
        }
        match delta_link {
            Some(l) => d.extend([
                ("delta_link", DerivedValue::Str(l)),
                ("delta_link_seen_at", at),
                ("delta_link_source", DerivedValue::Str(&source)),
                ("resume_link", DerivedValue::Str(l)),
                ("round_complete", DerivedValue::Bool(true)),
            ]),
            None => d.extend([
                ("next_link", DerivedValue::Str(link)),
                ("next_link_seen_at", at),
                ("next_link_source", DerivedValue::Str(&source)),
                ("resume_link", DerivedValue::Str(link)),
                ("round_complete", DerivedValue::Bool(false)),
            ]),
        }
        let buf = &mut self.bufs[SideTable::SyncState.index()];
        set_derived(buf, SideTable::SyncState, &d).expect("sync_state columns are distinct");
        buf.order.push(order);
        buf.call_row.push(u32::MAX);
        buf.rows += 1;
    }

    /// Keys written twice with the same value in the objects walked since the last call (each
    /// taken as one value), and resets the count.
    pub fn take_repeated_keys(&mut self) -> u64 {
        self.bufs.iter_mut().map(TableBuf::take_repeated).sum()
    }

    /// Builds the batches of every row held and empties the buffers.
    pub fn finish(&mut self) -> SideBatch {
        let mut batches = Vec::with_capacity(self.bufs.len());
        let mut orders = Vec::with_capacity(self.bufs.len());
        for (def, buf) in side_tables().iter().zip(&mut self.bufs) {
            let rows = buf.rows;
            let arrays = buf
                .cols
                .iter_mut()
                .zip(&def.columns)
                .map(|(c, col)| {
                    c.pad(rows);
                    c.finish(&col.data_type)
                })
                .collect();
            batches.push(
                RecordBatch::try_new(def.schema(), arrays).expect("side batch matches its schema"),
            );
            orders.push(std::mem::take(&mut buf.order));
            buf.call_row.clear();
            buf.rows_taken();
            buf.rows = 0;
        }
        SideBatch { batches, orders }
    }
}

/// Sets derived columns of the open row of `buf` (table `t`).
fn set_derived(buf: &mut TableBuf, t: SideTable, values: &[(&str, DerivedValue<'_>)]) -> Res {
    let def = t.def();
    for (name, v) in values {
        let c = def
            .column_index(name)
            .unwrap_or_else(|| panic!("{}: no derived column {name}", def.name()));
        let row = buf.rows;
        let cb = &mut buf.cols[c];
        if cb.len() > row {
            return Err(err(&Path::root(), format!("duplicate value for {name}")));
        }
        cb.pad(row);
        match *v {
            DerivedValue::Str(s) => cb.push_str(s),
            DerivedValue::Bool(b) => cb.push_bool(b),
            DerivedValue::Int(n) | DerivedValue::Timestamp(n) => cb.push_i64(n),
        }
    }
    Ok(())
}

/// A delta link without its state token (`skipToken`, `$skiptoken`, `deltaToken`,
/// `$deltatoken`): what identifies the query across its pages and rounds.
pub fn query_of(link: &str) -> String {
    let Some((base, params)) = link.split_once('?') else {
        return link.to_string();
    };
    let kept: Vec<&str> = params
        .split('&')
        .filter(|p| {
            let name = p.split('=').next().unwrap_or("").to_ascii_lowercase();
            !matches!(name.trim_start_matches('$'), "skiptoken" | "deltatoken")
        })
        .collect();
    if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    }
}

/// The `meetingOrganizerUserId='…'` of a recordings query link.
pub fn organizer_of(link: &str) -> Option<String> {
    let key = "meetingOrganizerUserId=";
    let at = link.find(key)? + key.len();
    let rest = link[at..].trim_start_matches(['\'', '"']);
    let end = rest.find(['\'', '"', ',', ')'])?;
    Some(rest[..end].to_string()).filter(|s| !s.is_empty())
}

/// The call id in `/communications/calls/{id}/operations/{op}` (or `/app/calls/…`).
pub fn call_id_of_operation(url: &str) -> Option<&str> {
    let at = url.find("/calls/")? + "/calls/".len();
    let rest = &url[at..];
    let end = rest.find('/').unwrap_or(rest.len());
    Some(&rest[..end]).filter(|s| !s.is_empty())
}

/// The call record id in `communications/callRecords/{id}` (also `callRecords('{id}')`).
pub fn call_id_of_record(resource: &str) -> Option<&str> {
    let lower = resource.to_ascii_lowercase();
    let at = lower.find("callrecords")? + "callrecords".len();
    let rest = &resource[at..];
    let rest = rest.strip_prefix('/').or_else(|| rest.strip_prefix("('"))?;
    let end = rest.find(['/', '\'', '?']).unwrap_or(rest.len());
    Some(&rest[..end]).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links() {
        let l = "https://graph.microsoft.com/v1.0/users({userId})/onlineMeetings/getAllRecordings(meetingOrganizerUserId='8b08',startDateTime=2023-01-01T00:00:00Z)/delta?skipToken={deltaToken1}&$top=5";
        assert_eq!(
            query_of(l),
            "https://graph.microsoft.com/v1.0/users({userId})/onlineMeetings/getAllRecordings(meetingOrganizerUserId='8b08',startDateTime=2023-01-01T00:00:00Z)/delta?$top=5"
        );
        assert_eq!(organizer_of(l).as_deref(), Some("8b08"));
        assert_eq!(
            query_of("https://x/delta?$deltatoken=abc"),
            "https://x/delta"
        );
        assert_eq!(organizer_of("https://x/delta"), None);
        assert_eq!(
            call_id_of_operation("/communications/calls/57DAB8B1/operations/0FE0623F"),
            Some("57DAB8B1")
        );
        assert_eq!(call_id_of_operation("/communications/x"), None);
        assert_eq!(
            call_id_of_record("communications/callRecords/2f1a1100-b174"),
            Some("2f1a1100-b174")
        );
        assert_eq!(
            call_id_of_record("communications/callRecords('abc')"),
            Some("abc")
        );
        assert_eq!(call_id_of_record("communications/callRecords"), None);
    }
}
