//! Decoding: recognising what a framed document is, parsing it with simd-json and handing it
//! to the [`Flattener`].

use simd_json::{Buffers, Node, Tape};

use cqlake_schema::SideTable;

use crate::flatten::{Flattener, Record};
use crate::frame::FrameKind;
use crate::rows::RecordError;
use crate::side::{DerivedValue, SideRows, call_id_of_operation, call_id_of_record};
use crate::tape::{find_str, members};
use crate::values::parse_timestamp_us;

/// Where decoded records go: the flattener of a call's partition date, or the one for rows of
/// follow-up pages (whose call and date are not known here).
pub trait Route {
    /// The flattener for a call record that starts on `date` (days since the Unix epoch), or
    /// for one whose start date is missing or invalid (`None`; flattening rejects it). `None`
    /// back sets the record aside, unflattened ([`Outcome::Deferred`]).
    fn call(&mut self, date: Option<i32>) -> Option<&mut Flattener>;
    /// The flattener for sessions and participants of follow-up pages.
    fn page(&mut self) -> &mut Flattener;
    /// The rows of the side tables (recordings, logs, notifications).
    fn side(&mut self) -> &mut SideRows;
}

/// Every record to one flattener.
struct Single<'a>(&'a mut Flattener, &'a mut SideRows);

impl Route for Single<'_> {
    fn call(&mut self, _: Option<i32>) -> Option<&mut Flattener> {
        Some(self.0)
    }
    fn page(&mut self) -> &mut Flattener {
        self.0
    }
    fn side(&mut self) -> &mut SideRows {
        self.1
    }
}

/// The partition date of the call record at the root of `nodes`, from its `startDateTime`.
fn call_date(nodes: &[Node<'_>]) -> Option<i32> {
    let us = find_str(nodes, 0, "startDateTime").and_then(parse_timestamp_us)?;
    Some(us.div_euclid(86_400_000_000) as i32)
}

/// What the items of a collection page are, from its `@odata.context`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageKind {
    /// A page of callRecords (`…/callRecords`, `Collection(…callRecord)`).
    CallRecords,
    /// A List-sessions page or a `sessions@odata.nextLink` follow-up page of call `call_id`.
    Sessions {
        /// The call the sessions belong to (only named in `@odata.context`).
        call_id: String,
    },
    /// A `participants_v2` page of call `call_id`.
    Participants {
        /// The call the participants belong to.
        call_id: String,
    },
    /// A page of a side table's objects (recordings, PSTN / direct-routing / SMS log rows, …).
    Side(SideTable),
    /// A page with no `@odata.context` before its `value`: items are recognised by shape.
    Unknown,
    /// A page of something that is not call-record data (named by its context).
    Other(String),
}

/// Extracts the value of `"@odata.context"` from the start of a document (a page prefix).
pub fn odata_context(prefix: &[u8]) -> Option<String> {
    let v = string_after_key(prefix, b"\"@odata.context\"", usize::MAX)?;
    Some(String::from_utf8_lossy(v).into_owned())
}

/// The bytes of the string value (up to `max` bytes, escapes left as they are) that follows the
/// first occurrence of `key` (with its quotes) in `bytes`, found without parsing.
pub(crate) fn string_after_key<'a>(bytes: &'a [u8], key: &[u8], max: usize) -> Option<&'a [u8]> {
    let at = memchr::memmem::find(bytes, key)? + key.len();
    let rest = &bytes[at..];
    let colon = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    if rest[colon] != b':' {
        return None;
    }
    let rest = &rest[colon + 1..];
    let q = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    if rest[q] != b'"' {
        return None;
    }
    let rest = &rest[q + 1..];
    let end = memchr::memchr(b'"', &rest[..rest.len().min(max)])?;
    Some(&rest[..end])
}

/// The kind of page an `@odata.context` names.
pub fn page_kind(context: Option<&str>) -> PageKind {
    let Some(ctx) = context else {
        return PageKind::Unknown;
    };
    if let Some(t) = side_table_of_context(ctx) {
        return PageKind::Side(t);
    }
    if let Some(id) = call_id_in_context(ctx, "sessions") {
        return PageKind::Sessions { call_id: id };
    }
    if let Some(id) = call_id_in_context(ctx, "participants_v2") {
        return PageKind::Participants { call_id: id };
    }
    // `callRecords/sessions` (no id): a page of sessions whose call is not named. Its items
    // are rejected with that reason (see `no_call`).
    for (what, kind) in [
        (
            "/sessions",
            PageKind::Sessions {
                call_id: String::new(),
            },
        ),
        (
            "/participants_v2",
            PageKind::Participants {
                call_id: String::new(),
            },
        ),
    ] {
        if ctx.contains(&format!("callRecords{what}"))
            || ctx.contains(&format!("callRecords(){what}"))
        {
            return kind;
        }
    }
    if ctx.contains("callRecords") || ctx.contains("callRecord)") {
        return PageKind::CallRecords;
    }
    let name = ctx.rsplit('#').next().unwrap_or(ctx);
    PageKind::Other(name.to_string())
}

/// The side table whose objects an `@odata.context` (or `@odata.type`) names.
fn side_table_of_context(ctx: &str) -> Option<SideTable> {
    const NAMES: [(&str, SideTable); 12] = [
        ("pstnCallLogRow", SideTable::PstnCalls),
        ("getPstnCalls", SideTable::PstnCalls),
        ("directRoutingLogRow", SideTable::DirectRoutingCalls),
        ("getDirectRoutingCalls", SideTable::DirectRoutingCalls),
        ("smsLogRow", SideTable::SmsLogs),
        ("getSmsLog", SideTable::SmsLogs),
        ("pstnBlockedUsersLogRow", SideTable::PstnBlockedUsers),
        ("getPstnBlockedUsersLog", SideTable::PstnBlockedUsers),
        (
            "pstnOnlineMeetingDialoutReport",
            SideTable::PstnDialoutReport,
        ),
        (
            "getPstnOnlineMeetingDialoutReport",
            SideTable::PstnDialoutReport,
        ),
        ("callRecording", SideTable::Recordings),
        ("getAllRecordings", SideTable::Recordings),
    ];
    NAMES
        .iter()
        .find(|(n, _)| ctx.contains(n))
        .map(|(_, t)| *t)
        .or_else(|| {
            // `…/onlineMeetings('…')/recordings` (List recordings of a meeting).
            let path = ctx.rsplit('#').next().unwrap_or(ctx);
            (path.ends_with("/recordings") || path.contains("/recordings/$entity"))
                .then_some(SideTable::Recordings)
        })
}

/// `…callRecords('ID')/sessions…` → `ID` (for `what` = `sessions`).
fn call_id_in_context(ctx: &str, what: &str) -> Option<String> {
    let start = ctx.find("callRecords('")? + "callRecords('".len();
    let end = start + ctx[start..].find("')")?;
    let after = &ctx[end + 2..];
    let next = after.strip_prefix('/')?;
    if next.starts_with(what)
        && !next[what.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
    {
        Some(ctx[start..end].to_string())
    } else {
        None
    }
}

/// What became of one framed unit.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A call record was flattened.
    Call,
    /// A call record starting on `date` was set aside unflattened: the route had no flattener
    /// for its date (see [`Route::call`]).
    Deferred {
        /// Its partition date.
        date: i32,
    },
    /// A record without `startDateTime` was flattened: its participants and sessions, as rows
    /// of follow-up pages (see [`Flattener::push_call`]).
    PartialCall,
    /// A session of a follow-up / List-sessions page was flattened.
    Session,
    /// A participant of a follow-up page was flattened.
    Participant,
    /// The end of a page: whether it had an `@odata.nextLink`.
    PageEnd {
        /// The page says more pages follow.
        next_link: bool,
    },
    /// A row of a side table was made.
    Side {
        /// The table.
        table: SideTable,
        /// Secrets left out of it (access tokens, client states).
        redacted: u32,
    },
    /// Not call-record data; the name says what it is.
    NotCallRecord(String),
    /// A bad record: nothing of it was kept.
    Rejected(Rejection),
}

/// Why a unit was rejected, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// Byte offset of the error relative to the unit's first byte (when known).
    pub at: Option<usize>,
    /// JSON path (when the unit parsed).
    pub path: Option<String>,
    /// What was wrong.
    pub error: String,
}

impl From<RecordError> for Rejection {
    fn from(e: RecordError) -> Self {
        Rejection {
            at: None,
            path: Some(e.path),
            error: e.message,
        }
    }
}

/// Parses framed units and flattens them, reusing its parse buffers.
pub struct Decoder {
    buffers: Buffers,
    tape: Option<Tape<'static>>,
    scratch: Vec<u8>,
    /// The flattened rows so far.
    pub flattener: Flattener,
    /// The side-table rows so far.
    pub side: SideRows,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder with empty buffers. It parses at most the framer's default depth
    /// ([`crate::frame::DEFAULT_MAX_DEPTH`]), so a deeper unchecked line ([`crate::frame::Frame::checked`])
    /// fails to parse and is framed again, to be rejected as the scan rejects it.
    pub fn new() -> Self {
        Decoder {
            buffers: Buffers::with_max_depth(128, crate::frame::DEFAULT_MAX_DEPTH),
            tape: Some(Tape::null().reset()),
            scratch: Vec::new(),
            flattener: Flattener::new(),
            side: SideRows::new(),
        }
    }

    /// Decodes one unit framed as `kind` into [`Decoder::flattener`]; `page` is the kind of
    /// the page it belongs to.
    pub fn decode(&mut self, bytes: &[u8], kind: &FrameKind, page: &PageKind) -> Outcome {
        let Decoder {
            buffers,
            tape,
            scratch,
            flattener,
            side,
        } = self;
        parse_and_dispatch(
            buffers,
            tape,
            scratch,
            bytes,
            Where {
                kind,
                page,
                occurrence: 0,
            },
            &mut Single(flattener, side),
        )
    }

    /// Decodes one unit framed as `kind`, handing each record to the flattener `route` picks
    /// ([`Decoder::flattener`] is not used). `occurrence` is the number the reader gave a
    /// sessions page's item ([`crate::SessionOccurrences`]); [`Decoder::decode`] gives 0.
    pub fn decode_routed(
        &mut self,
        bytes: &[u8],
        kind: &FrameKind,
        page: &PageKind,
        occurrence: u32,
        route: &mut dyn Route,
    ) -> Outcome {
        parse_and_dispatch(
            &mut self.buffers,
            &mut self.tape,
            &mut self.scratch,
            bytes,
            Where {
                kind,
                page,
                occurrence,
            },
            route,
        )
    }
}

/// Where a unit stands in its input: how it was framed, the kind of its page, and (for an item
/// of a sessions page) the occurrence of its session id.
#[derive(Clone, Copy)]
struct Where<'a> {
    kind: &'a FrameKind,
    page: &'a PageKind,
    occurrence: u32,
}

fn parse_and_dispatch(
    buffers: &mut Buffers,
    tape_slot: &mut Option<Tape<'static>>,
    scratch: &mut Vec<u8>,
    bytes: &[u8],
    at: Where<'_>,
    route: &mut dyn Route,
) -> Outcome {
    // The parser unescapes in place and reads past the end: a padded copy, parsed without
    // the second copy `fill_tape` would make.
    scratch.clear();
    scratch.extend_from_slice(bytes);
    scratch.resize(bytes.len() + simd_json::INPUT_PADDING, 0);
    let mut tape = tape_slot
        .take()
        .expect("tape is returned after every use")
        .reset();
    let outcome = match simd_json::fill_tape_padded(scratch, bytes.len(), buffers, &mut tape) {
        Err(e) => Outcome::Rejected(Rejection {
            at: Some(e.index()),
            path: None,
            error: format!("invalid JSON: {:?}", e.error()),
        }),
        Ok(()) => dispatch(route, &tape.0, at),
    };
    *tape_slot = Some(tape.reset());
    outcome
}

fn dispatch(route: &mut dyn Route, nodes: &[Node<'_>], at: Where<'_>) -> Outcome {
    let Where {
        kind,
        page,
        occurrence,
    } = at;
    let result = |r: Result<(), RecordError>, ok: Outcome| match r {
        Ok(()) => ok,
        Err(e) => Outcome::Rejected(e.into()),
    };
    match kind {
        FrameKind::PageEnd { items, .. } => {
            let object = matches!(nodes.first(), Some(Node::Object { .. }));
            let next = object
                .then(|| find_str(nodes, 0, "@odata.nextLink"))
                .flatten();
            if *page == PageKind::Side(SideTable::Recordings) && object {
                let delta = find_str(nodes, 0, "@odata.deltaLink");
                route.side().push_sync_page(next, delta, *items);
            }
            Outcome::PageEnd {
                next_link: next.is_some(),
            }
        }
        FrameKind::PageItem { index, .. } => match page {
            PageKind::Sessions { call_id } | PageKind::Participants { call_id }
                if call_id.is_empty() =>
            {
                no_call()
            }
            PageKind::CallRecords => push_call(route, nodes),
            PageKind::Sessions { call_id } => result(
                route.page().push_session(nodes, call_id, occurrence),
                Outcome::Session,
            ),
            PageKind::Participants { call_id } => result(
                route
                    .page()
                    .push_participant(nodes, call_id, *index as usize, None),
                Outcome::Participant,
            ),
            PageKind::Side(t) => side_item(route, *t, nodes),
            PageKind::Other(name) => Outcome::NotCallRecord(name.clone()),
            PageKind::Unknown => by_shape(route, nodes),
        },
        _ => {
            // A whole document or an element of a top-level array.
            match nodes.first() {
                Some(Node::Object { .. }) => {}
                Some(Node::Array { .. }) => {
                    return Outcome::Rejected(Rejection {
                        at: None,
                        path: Some("$".into()),
                        error: "a nested JSON array is not a call record".into(),
                    });
                }
                _ => {
                    return Outcome::Rejected(Rejection {
                        at: None,
                        path: Some("$".into()),
                        error: "a JSON scalar is not a call record".into(),
                    });
                }
            }
            match find_str(nodes, 0, "@odata.context") {
                Some(ctx) => match page_kind(Some(ctx)) {
                    PageKind::Sessions { call_id } | PageKind::Participants { call_id }
                        if call_id.is_empty() =>
                    {
                        no_call()
                    }
                    PageKind::Sessions { call_id } => result(
                        route.page().push_session(nodes, &call_id, 0),
                        Outcome::Session,
                    ),
                    PageKind::Participants { call_id } => result(
                        route.page().push_participant(nodes, &call_id, 0, None),
                        Outcome::Participant,
                    ),
                    PageKind::CallRecords => push_call(route, nodes),
                    PageKind::Side(t) => side_item(route, t, nodes),
                    PageKind::Other(name) => Outcome::NotCallRecord(name),
                    PageKind::Unknown => by_shape(route, nodes),
                },
                None => by_shape(route, nodes),
            }
        }
    }
}

/// A session or participant of a page whose `@odata.context` names no call record.
fn no_call() -> Outcome {
    Outcome::Rejected(Rejection {
        at: None,
        path: Some("$".into()),
        error: "the page's @odata.context names no call record (callRecords('ID')/…), so this item cannot be placed in a call"
            .into(),
    })
}

const CALL_KEYS: [&str; 9] = [
    "version",
    "type",
    "modalities",
    "lastModifiedDateTime",
    "sessions",
    "organizer",
    "organizer_v2",
    "participants",
    "participants_v2",
];

/// Flattens a call record, or sets it aside when the route has no flattener for its date.
fn push_call(route: &mut dyn Route, nodes: &[Node<'_>]) -> Outcome {
    let date = call_date(nodes);
    match (route.call(date), date) {
        (Some(fl), _) => match fl.push_call(nodes) {
            Ok(Record::Call) => Outcome::Call,
            Ok(Record::Partial) => Outcome::PartialCall,
            Err(e) => Outcome::Rejected(e.into()),
        },
        (None, Some(date)) => Outcome::Deferred { date },
        // A route that defers even undated records: reject here what flattening would.
        (None, None) => Outcome::Rejected(Rejection {
            at: None,
            path: Some("$.startDateTime".into()),
            error: "the call record has no valid startDateTime (the lake is partitioned by it)"
                .into(),
        }),
    }
}

/// Recognises an object with no `@odata.context` by its keys.
fn by_shape(route: &mut dyn Route, nodes: &[Node<'_>]) -> Outcome {
    if !matches!(nodes.first(), Some(Node::Object { .. })) {
        return Outcome::Rejected(Rejection {
            at: None,
            path: Some("$".into()),
            error: "not a JSON object".into(),
        });
    }
    let keys: Vec<&str> = object_keys(nodes);
    let has = |k: &str| keys.contains(&k);
    if let Some(t) = side_table_of_shape(nodes, &keys) {
        return side_item(route, t, nodes);
    }
    if has("subscriptionId") && (has("changeType") || has("lifecycleEvent")) {
        return Outcome::NotCallRecord(match find_str(nodes, 0, "resource") {
            Some(r) => format!("change notification for {}", resource_kind(r)),
            None => "change notification".into(),
        });
    }
    if has("changeType") && has("notificationUrl") {
        return Outcome::NotCallRecord("subscription".into());
    }
    let session_like = has("segments") || (has("caller") && has("callee"));
    if !session_like && CALL_KEYS.iter().any(|k| has(k)) {
        return push_call(route, nodes);
    }
    if session_like {
        return Outcome::Rejected(Rejection {
            at: None,
            path: Some("$".into()),
            error: "a session with no call id: its page's @odata.context (callRecords('ID')/sessions) was not saved with it"
                .into(),
        });
    }
    if let Some(t) = find_str(nodes, 0, "@odata.type") {
        return Outcome::NotCallRecord(t.trim_start_matches('#').to_string());
    }
    let mut name = String::from("JSON object with keys ");
    for (i, k) in keys.iter().take(5).enumerate() {
        if i > 0 {
            name.push_str(", ");
        }
        name.push_str(k);
    }
    Outcome::NotCallRecord(name)
}

/// The side table an object with no `@odata.context` belongs to, by its `@odata.type` or by
/// keys only its type has.
fn side_table_of_shape(nodes: &[Node<'_>], keys: &[&str]) -> Option<SideTable> {
    let has = |k: &str| keys.contains(&k);
    let ty = find_str(nodes, 0, "@odata.type").unwrap_or("");
    if ty.ends_with("commsNotification") || (has("resourceUrl") && has("resourceData")) {
        return Some(SideTable::RecordOperations);
    }
    if ty.ends_with("recordOperation") {
        return Some(SideTable::RecordOperations);
    }
    if let Some(t) = (!ty.is_empty())
        .then(|| side_table_of_context(ty))
        .flatten()
    {
        return Some(t);
    }
    if has("subscriptionId") && (has("changeType") || has("lifecycleEvent")) {
        let about_calls = match find_str(nodes, 0, "resource") {
            Some(r) => r.to_ascii_lowercase().contains("callrecords"),
            None => has("lifecycleEvent"),
        };
        return about_calls.then_some(SideTable::Notifications);
    }
    let signatures: [(&[&str], SideTable); 6] = [
        (
            &["meetingOrganizer", "recordingContentUrl"],
            SideTable::Recordings,
        ),
        (
            &["callDurationSource", "licenseCapability"],
            SideTable::PstnCalls,
        ),
        (
            &["trunkFullyQualifiedDomainName", "finalSipCode"],
            SideTable::DirectRoutingCalls,
        ),
        (&["smsId", "smsType"], SideTable::SmsLogs),
        (
            &["blockDateTime", "userBlockMode"],
            SideTable::PstnBlockedUsers,
        ),
        (
            &["totalCallCharge", "totalCallSeconds"],
            SideTable::PstnDialoutReport,
        ),
    ];
    signatures
        .iter()
        .find(|(ks, _)| ks.iter().any(|k| has(k)))
        .map(|(_, t)| *t)
}

/// `communications/presences/…` → `communications/presences`: what a notification is about.
fn resource_kind(resource: &str) -> String {
    resource
        .trim_start_matches('/')
        .split(['/', '(', '?'])
        .take(2)
        .collect::<Vec<_>>()
        .join("/")
}

/// A row of side table `t` from the object at the root of `nodes`.
fn side_item(route: &mut dyn Route, t: SideTable, nodes: &[Node<'_>]) -> Outcome {
    let side = route.side();
    let made = |r: Result<u32, RecordError>| match r {
        Ok(redacted) => Outcome::Side { table: t, redacted },
        Err(e) => Outcome::Rejected(e.into()),
    };
    match t {
        SideTable::RecordOperations => {
            // A commsNotification carries the operation in its resourceData.
            let data = members(nodes, 0).find(|(k, _)| *k == "resourceData");
            let url = find_str(nodes, 0, "resourceUrl");
            let Some((_, data)) =
                data.filter(|_| url.is_some() || find_str(nodes, 0, "changeType").is_some())
            else {
                let call = find_str(nodes, 0, "@odata.id").and_then(call_id_of_operation);
                let mut d = Vec::new();
                if let Some(c) = call {
                    d.push(("call_id", DerivedValue::Str(c)));
                }
                return made(side.push_object(t, nodes, 0, &d));
            };
            let inner = match nodes[data] {
                Node::Object { .. } => find_str(nodes, data, "@odata.type"),
                _ => None,
            };
            if let Some(ty) = inner.filter(|ty| !ty.ends_with("recordOperation")) {
                return Outcome::NotCallRecord(format!(
                    "commsNotification of {}",
                    ty.trim_start_matches('#')
                ));
            }
            let mut d = Vec::new();
            if let Some(u) = url {
                d.push(("resource_url", DerivedValue::Str(u)));
            }
            if let Some(c) = url
                .or_else(|| find_str(nodes, data, "@odata.id"))
                .and_then(call_id_of_operation)
            {
                d.push(("call_id", DerivedValue::Str(c)));
            }
            if let Some(ct) = find_str(nodes, 0, "changeType") {
                d.push(("change_type", DerivedValue::Str(ct)));
            }
            made(side.push_object(t, nodes, data, &d))
        }
        SideTable::Notifications => {
            let call = find_str(nodes, 0, "resource")
                .and_then(call_id_of_record)
                .or_else(|| {
                    members(nodes, 0)
                        .find(|(k, _)| *k == "resourceData")
                        .and_then(|(_, v)| find_str(nodes, v, "id"))
                });
            let mut d = Vec::new();
            if let Some(c) = call {
                d.push(("call_id", DerivedValue::Str(c)));
            }
            made(side.push_object(t, nodes, 0, &d))
        }
        _ => made(side.push_object(t, nodes, 0, &[])),
    }
}

fn object_keys<'a>(nodes: &[Node<'a>]) -> Vec<&'a str> {
    let Some(Node::Object { len, .. }) = nodes.first() else {
        return Vec::new();
    };
    let mut keys = Vec::with_capacity(*len);
    let mut at = 1;
    for _ in 0..*len {
        if let Node::String(k) = nodes[at] {
            keys.push(k);
        }
        let v = at + 1;
        at = v + match nodes[v] {
            Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
            _ => 1,
        };
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts() {
        assert_eq!(
            page_kind(Some(
                "https://graph.microsoft.com/beta/$metadata#communications/callRecords('e523d2ed-2966-4b6b-925b-754a88034cc5')/sessions"
            )),
            PageKind::Sessions {
                call_id: "e523d2ed-2966-4b6b-925b-754a88034cc5".into()
            }
        );
        assert_eq!(
            page_kind(Some(
                "https://graph.microsoft.com/v1.0/$metadata#communications/callRecords('x')/participants_v2"
            )),
            PageKind::Participants {
                call_id: "x".into()
            }
        );
        assert_eq!(
            page_kind(Some(
                "https://graph.microsoft.com/v1.0/$metadata#communications/callRecords"
            )),
            PageKind::CallRecords
        );
        assert_eq!(
            page_kind(Some(
                "https://graph.microsoft.com/v1.0/$metadata#Collection(callRecording)"
            )),
            PageKind::Side(SideTable::Recordings)
        );
        // The log rows' namespace is callRecords, but they are not call records.
        for (ty, t) in [
            ("pstnCallLogRow", SideTable::PstnCalls),
            ("directRoutingLogRow", SideTable::DirectRoutingCalls),
            ("smsLogRow", SideTable::SmsLogs),
            ("pstnBlockedUsersLogRow", SideTable::PstnBlockedUsers),
            (
                "pstnOnlineMeetingDialoutReport",
                SideTable::PstnDialoutReport,
            ),
        ] {
            assert_eq!(
                page_kind(Some(&format!(
                    "https://graph.microsoft.com/beta/$metadata#Collection(microsoft.graph.callRecords.{ty})"
                ))),
                PageKind::Side(t)
            );
        }
        assert_eq!(
            page_kind(Some(
                "https://graph.microsoft.com/v1.0/$metadata#users('x')/onlineMeetings('y')/recordings"
            )),
            PageKind::Side(SideTable::Recordings)
        );
        assert_eq!(
            page_kind(Some("https://graph.microsoft.com/v1.0/$metadata#users")),
            PageKind::Other("users".into())
        );
        assert_eq!(
            odata_context(br#"{ "@odata.context" : "abc", "value": ["#).as_deref(),
            Some("abc")
        );
    }
}
