//! Writing the model as Graph JSON: a small, fast JSON writer over a reused `Vec<u8>` (numbers
//! through `itoa` and `ryu`, no serde in the hot path) and one function per Graph type.
//!
//! Keys are written in the order Graph's example responses use, annotations (`@odata.context`,
//! `sessions@odata.nextLink`) where a standalone Graph response carries them.

use super::model::*;

/// Whitespace of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// No whitespace at all (one record per line in NDJSON).
    #[default]
    Compact,
    /// Four-space indentation and `": "`, as Graph's documentation prints responses.
    Pretty,
}

const SPACES: &[u8; 128] = &[b' '; 128];

/// Appends JSON to a `Vec<u8>`. Keys and array elements get their separators from [`key`] and
/// [`elem`]; values never write separators, so a value can follow either.
///
/// [`key`]: JsonWriter::key
/// [`elem`]: JsonWriter::elem
///
/// ```
/// use cqlake_gen::json::{JsonWriter, Style};
/// let mut out = Vec::new();
/// let mut w = JsonWriter::new(&mut out, Style::Compact);
/// w.begin_object();
/// w.key("a");
/// w.f64(0.5);
/// w.key("b");
/// w.begin_array();
/// w.elem();
/// w.str("x\"y");
/// w.end_array();
/// w.end_object();
/// assert_eq!(out, br#"{"a":0.5,"b":["x\"y"]}"#);
/// ```
#[derive(Debug)]
pub struct JsonWriter<'a> {
    out: &'a mut Vec<u8>,
    pretty: bool,
    depth: usize,
    comma: bool,
}

impl<'a> JsonWriter<'a> {
    /// A writer appending to `out`.
    pub fn new(out: &'a mut Vec<u8>, style: Style) -> Self {
        JsonWriter {
            out,
            pretty: style == Style::Pretty,
            depth: 0,
            comma: false,
        }
    }

    /// Starts at indentation level `depth` (pretty style), for values nested in a document
    /// written by hand.
    pub fn with_depth(mut self, depth: usize) -> Self {
        self.depth = depth;
        self
    }

    /// The bytes written so far.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// True when nothing was written to the buffer.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// Appends bytes as they are (the caller keeps the JSON valid).
    pub fn raw_bytes(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    #[inline]
    fn newline(&mut self) {
        self.out.push(b'\n');
        let mut n = self.depth * 4;
        while n > 0 {
            let k = n.min(SPACES.len());
            self.out.extend_from_slice(&SPACES[..k]);
            n -= k;
        }
    }

    #[inline]
    fn sep(&mut self) {
        if self.comma {
            self.out.push(b',');
        }
        if self.pretty {
            self.newline();
        }
    }

    /// Writes an object key (with the separator before it).
    #[inline]
    pub fn key(&mut self, k: &str) {
        self.sep();
        self.out.push(b'"');
        self.out.extend_from_slice(k.as_bytes());
        self.out
            .extend_from_slice(if self.pretty { b"\": " } else { b"\":" });
    }

    /// Starts an array element (writes the separator before it).
    #[inline]
    pub fn elem(&mut self) {
        self.sep();
    }

    /// `{`.
    #[inline]
    pub fn begin_object(&mut self) {
        self.out.push(b'{');
        self.depth += 1;
        self.comma = false;
    }

    /// `}`.
    #[inline]
    pub fn end_object(&mut self) {
        self.depth -= 1;
        if self.pretty && self.comma {
            self.newline();
        }
        self.out.push(b'}');
        self.comma = true;
    }

    /// `[`.
    #[inline]
    pub fn begin_array(&mut self) {
        self.out.push(b'[');
        self.depth += 1;
        self.comma = false;
    }

    /// `]`.
    #[inline]
    pub fn end_array(&mut self) {
        self.depth -= 1;
        if self.pretty && self.comma {
            self.newline();
        }
        self.out.push(b']');
        self.comma = true;
    }

    /// A string value, escaped.
    #[inline]
    pub fn str(&mut self, s: &str) {
        self.out.push(b'"');
        let b = s.as_bytes();
        if b.iter().all(|&c| c >= 0x20 && c != b'"' && c != b'\\') {
            self.out.extend_from_slice(b);
        } else {
            for &c in b {
                match c {
                    b'"' => self.out.extend_from_slice(b"\\\""),
                    b'\\' => self.out.extend_from_slice(b"\\\\"),
                    b'\n' => self.out.extend_from_slice(b"\\n"),
                    b'\r' => self.out.extend_from_slice(b"\\r"),
                    b'\t' => self.out.extend_from_slice(b"\\t"),
                    c if c < 0x20 => {
                        const HEX: &[u8; 16] = b"0123456789abcdef";
                        self.out.extend_from_slice(b"\\u00");
                        self.out.push(HEX[(c >> 4) as usize]);
                        self.out.push(HEX[(c & 0xF) as usize]);
                    }
                    c => self.out.push(c),
                }
            }
        }
        self.out.push(b'"');
        self.comma = true;
    }

    /// A value given as JSON text, written verbatim.
    pub fn raw_value(&mut self, json: &str) {
        self.out.extend_from_slice(json.as_bytes());
        self.comma = true;
    }

    /// An integer.
    #[inline]
    pub fn i64(&mut self, v: i64) {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        self.comma = true;
    }

    /// A number: integral values as integers (`0`, `1`, as Graph prints them), others in the
    /// shortest form that reads back to the same `f64` (ryu). Not-finite values become `null`.
    #[inline]
    pub fn f64(&mut self, v: f64) {
        if !v.is_finite() {
            self.out.extend_from_slice(b"null");
        } else if v.fract() == 0.0 && v.abs() < 1e15 {
            self.out
                .extend_from_slice(itoa::Buffer::new().format(v as i64).as_bytes());
        } else {
            self.out
                .extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
        }
        self.comma = true;
    }

    /// `true` / `false`.
    #[inline]
    pub fn bool(&mut self, v: bool) {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        self.comma = true;
    }

    /// `null`.
    #[inline]
    pub fn null(&mut self) {
        self.out.extend_from_slice(b"null");
        self.comma = true;
    }

    /// A timestamp string with seven fractional digits.
    #[inline]
    pub fn timestamp(&mut self, t: Timestamp) {
        self.out.push(b'"');
        t.write_to(self.out);
        self.out.push(b'"');
        self.comma = true;
    }

    /// An ISO-8601 duration string.
    #[inline]
    pub fn millis(&mut self, d: Millis) {
        self.out.push(b'"');
        d.write_to(self.out);
        self.out.push(b'"');
        self.comma = true;
    }

    /// A GUID string.
    #[inline]
    pub fn guid(&mut self, g: Guid) {
        self.out.push(b'"');
        g.write_to(self.out);
        self.out.push(b'"');
        self.comma = true;
    }

    // Optional properties: `Some` is written, `None` is left out or written as `null`.

    #[inline]
    fn none(&mut self, k: &str, nulls: Nulls) {
        if nulls == Nulls::Write {
            self.key(k);
            self.null();
        }
    }

    /// `"k": "v"` for `Some`, and per `nulls` for `None`.
    #[inline]
    pub fn opt_str(&mut self, k: &str, v: &Option<Text>, nulls: Nulls) {
        match v {
            Some(s) => {
                self.key(k);
                self.str(s);
            }
            None => self.none(k, nulls),
        }
    }

    /// An optional integer property.
    #[inline]
    pub fn opt_i64(&mut self, k: &str, v: Option<i64>, nulls: Nulls) {
        match v {
            Some(x) => {
                self.key(k);
                self.i64(x);
            }
            None => self.none(k, nulls),
        }
    }

    /// An optional 32-bit integer property.
    #[inline]
    pub fn opt_i32(&mut self, k: &str, v: Option<i32>, nulls: Nulls) {
        self.opt_i64(k, v.map(i64::from), nulls);
    }

    /// An optional number property.
    #[inline]
    pub fn opt_f64(&mut self, k: &str, v: Option<f64>, nulls: Nulls) {
        match v {
            Some(x) => {
                self.key(k);
                self.f64(x);
            }
            None => self.none(k, nulls),
        }
    }

    /// An optional boolean property.
    #[inline]
    pub fn opt_bool(&mut self, k: &str, v: Option<bool>, nulls: Nulls) {
        match v {
            Some(x) => {
                self.key(k);
                self.bool(x);
            }
            None => self.none(k, nulls),
        }
    }

    /// An optional duration property.
    #[inline]
    pub fn opt_millis(&mut self, k: &str, v: Option<Millis>, nulls: Nulls) {
        match v {
            Some(x) => {
                self.key(k);
                self.millis(x);
            }
            None => self.none(k, nulls),
        }
    }

    /// An optional timestamp property.
    #[inline]
    pub fn opt_timestamp(&mut self, k: &str, v: Option<Timestamp>, nulls: Nulls) {
        match v {
            Some(x) => {
                self.key(k);
                self.timestamp(x);
            }
            None => self.none(k, nulls),
        }
    }

    /// Writes an object key that may need escaping (open-type keys).
    pub fn key_escaped(&mut self, k: &str) {
        self.sep();
        self.str(k);
        self.out
            .extend_from_slice(if self.pretty { b": " } else { b":" });
    }

    fn extras(&mut self, extra: &[Extra]) {
        for e in extra {
            self.key_escaped(&e.key);
            self.raw_value(&e.json);
        }
    }

    fn str_list(&mut self, k: &str, v: &[Text]) {
        self.key(k);
        self.begin_array();
        for s in v {
            self.elem();
            self.str(s);
        }
        self.end_array();
    }
}

/// What a call document carries besides the record itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallDoc {
    /// Write the annotations of a standalone `GET callRecords/{id}?$expand=…` response:
    /// `@odata.context`, `organizer_v2@odata.context`, `participants_v2@odata.context`,
    /// `sessions@odata.context` and `segments@odata.context`.
    pub annotations: bool,
    /// Write at most this many sessions, with `sessions@odata.nextLink` when more follow.
    pub max_sessions: Option<usize>,
    /// Write at most this many `participants_v2`, with `participants_v2@odata.nextLink` when
    /// more follow.
    pub max_participants: Option<usize>,
}

/// The `@odata.context` of a follow-up page of a call's `sessions`.
pub fn sessions_context(call: &CallModel) -> String {
    format!(
        "{}/$metadata#communications/callRecords('{}')/sessions",
        call.api.root(),
        call.id
    )
}

/// The `@odata.context` of a follow-up page of a call's `participants_v2`.
pub fn participants_context(call: &CallModel) -> String {
    format!(
        "{}/$metadata#communications/callRecords('{}')/participants_v2",
        call.api.root(),
        call.id
    )
}

/// The `@odata.nextLink` to a call's sessions from position `skip` on.
pub fn sessions_next_link(call: &CallModel, skip: usize) -> String {
    format!(
        "{}/communications/callRecords('{}')/sessions?$expand=segments&$skiptoken={skip}",
        call.api.root(),
        call.id
    )
}

/// The `@odata.nextLink` to a call's `participants_v2` from position `skip` on.
pub fn participants_next_link(call: &CallModel, skip: usize) -> String {
    format!(
        "{}/communications/callRecords('{}')/participants_v2?$skiptoken={skip}",
        call.api.root(),
        call.id
    )
}

/// A call record as one JSON document: compact, or pretty with the annotations of a
/// `GET callRecords/{id}?$expand=…` response. Every session is inline.
///
/// ```
/// use cqlake_gen::{Generator, json::{self, Style}};
/// let call = Generator::new(1).call(0);
/// let text = json::to_vec(&call, Style::Compact);
/// let back: serde_json::Value = serde_json::from_slice(&text).unwrap();
/// assert_eq!(back["id"], call.id.to_string());
/// ```
pub fn to_vec(call: &CallModel, style: Style) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 * 1024);
    let doc = CallDoc {
        annotations: style == Style::Pretty,
        ..CallDoc::default()
    };
    write_call(&mut JsonWriter::new(&mut out, style), call, &doc);
    out
}

/// Writes a call record as one JSON object (a document or an element).
pub fn write_call(w: &mut JsonWriter<'_>, call: &CallModel, doc: &CallDoc) {
    let o = Nulls::Omit;
    let root = call.api.root();
    w.begin_object();
    if doc.annotations {
        w.key("@odata.context");
        let ctx = if call.participants_v2.is_some() {
            "/$metadata#communications/callRecords(sessions(segments()),participants_v2())/$entity"
        } else {
            "/$metadata#communications/callRecords(sessions(segments()))/$entity"
        };
        w.str(&format!("{root}{ctx}"));
    }
    w.key("version");
    w.i64(call.version);
    w.key("type");
    w.str(&call.call_type);
    w.str_list("modalities", &call.modalities);
    w.key("lastModifiedDateTime");
    w.timestamp(call.last_modified);
    w.key("startDateTime");
    w.timestamp(call.start);
    w.key("endDateTime");
    w.timestamp(call.end);
    w.key("id");
    w.guid(call.id);
    w.opt_str("joinWebUrl", &call.join_web_url, o);
    if let Some(org) = &call.organizer {
        w.key("organizer");
        write_identity_set(w, org);
    }
    if let Some(ps) = &call.participants {
        w.key("participants");
        w.begin_array();
        for p in ps {
            w.elem();
            write_identity_set(w, p);
        }
        w.end_array();
    }
    if let Some(org) = &call.organizer_v2 {
        if doc.annotations {
            w.key("organizer_v2@odata.context");
            w.str(&format!(
                "{root}/$metadata#communications/callRecords('{}')/organizer_v2/$entity",
                call.id
            ));
        }
        w.key("organizer_v2");
        write_participant(w, org);
    }
    if let Some(ps) = &call.participants_v2 {
        if doc.annotations {
            w.key("participants_v2@odata.context");
            w.str(&participants_context(call));
        }
        let n = doc.max_participants.map_or(ps.len(), |m| m.min(ps.len()));
        if n < ps.len() {
            w.key("participants_v2@odata.nextLink");
            w.str(&participants_next_link(call, n));
        }
        w.key("participants_v2");
        w.begin_array();
        for p in &ps[..n] {
            w.elem();
            write_participant(w, p);
        }
        w.end_array();
    }
    if doc.annotations {
        w.key("sessions@odata.context");
        w.str(&format!(
            "{root}/$metadata#communications/callRecords('{}')/sessions(segments())",
            call.id
        ));
    }
    let n = doc
        .max_sessions
        .map_or(call.sessions.len(), |m| m.min(call.sessions.len()));
    w.key("sessions");
    w.begin_array();
    for s in &call.sessions[..n] {
        w.elem();
        let seg_ctx = doc.annotations.then_some(call);
        write_session(w, s, false, seg_ctx);
    }
    w.end_array();
    if n < call.sessions.len() {
        w.key("sessions@odata.nextLink");
        w.str(&sessions_next_link(call, n));
    }
    w.extras(&call.extra);
    w.end_object();
}

/// Writes a follow-up page of `call`'s sessions (`{"@odata.context": …, "value": [...]}`), with
/// `@odata.nextLink` pointing at position `next` when more pages follow.
pub fn write_sessions_page(
    w: &mut JsonWriter<'_>,
    call: &CallModel,
    sessions: &[Session],
    next: Option<usize>,
) {
    w.begin_object();
    w.key("@odata.context");
    w.str(&sessions_context(call));
    w.key("value");
    w.begin_array();
    for s in sessions {
        w.elem();
        write_session(w, s, true, None);
    }
    w.end_array();
    if let Some(skip) = next {
        w.key("@odata.nextLink");
        w.str(&sessions_next_link(call, skip));
    }
    w.end_object();
}

/// Writes a follow-up page of `call`'s `participants_v2`, like [`write_sessions_page`].
pub fn write_participants_page(
    w: &mut JsonWriter<'_>,
    call: &CallModel,
    participants: &[Participant],
    next: Option<usize>,
) {
    w.begin_object();
    w.key("@odata.context");
    w.str(&participants_context(call));
    w.key("value");
    w.begin_array();
    for p in participants {
        w.elem();
        write_participant(w, p);
    }
    w.end_array();
    if let Some(skip) = next {
        w.key("@odata.nextLink");
        w.str(&participants_next_link(call, skip));
    }
    w.end_object();
}

/// Writes a session with its segments. `id_first` puts `id` first, as List-sessions pages do;
/// `segments_context` (the call) adds `segments@odata.context`.
pub fn write_session(
    w: &mut JsonWriter<'_>,
    s: &Session,
    id_first: bool,
    segments_context: Option<&CallModel>,
) {
    let o = Nulls::Omit;
    w.begin_object();
    if id_first {
        w.key("id");
        w.guid(s.id);
    }
    w.str_list("modalities", &s.modalities);
    w.key("startDateTime");
    w.timestamp(s.start);
    w.key("endDateTime");
    w.timestamp(s.end);
    if !id_first {
        w.key("id");
        w.guid(s.id);
    }
    w.opt_bool("isTest", s.is_test, o);
    if let Some(f) = &s.failure_info {
        w.key("failureInfo");
        write_failure(w, f);
    }
    if let Some(e) = &s.caller {
        w.key("caller");
        write_endpoint(w, e);
    }
    if let Some(e) = &s.callee {
        w.key("callee");
        write_endpoint(w, e);
    }
    if let Some(call) = segments_context {
        w.key("segments@odata.context");
        w.str(&format!(
            "{}/$metadata#communications/callRecords('{}')/sessions('{}')/segments",
            call.api.root(),
            call.id,
            s.id
        ));
    }
    w.key("segments");
    w.begin_array();
    for g in &s.segments {
        w.elem();
        write_segment(w, g);
    }
    w.end_array();
    w.extras(&s.extra);
    w.end_object();
}

/// Writes a segment with its media.
pub fn write_segment(w: &mut JsonWriter<'_>, g: &Segment) {
    w.begin_object();
    w.key("startDateTime");
    w.timestamp(g.start);
    w.key("endDateTime");
    w.timestamp(g.end);
    w.key("id");
    w.guid(g.id);
    if let Some(f) = &g.failure_info {
        w.key("failureInfo");
        write_failure(w, f);
    }
    if let Some(e) = &g.caller {
        w.key("caller");
        write_endpoint(w, e);
    }
    if let Some(e) = &g.callee {
        w.key("callee");
        write_endpoint(w, e);
    }
    w.key("media");
    w.begin_array();
    for m in &g.media {
        w.elem();
        write_media(w, m);
    }
    w.end_array();
    w.extras(&g.extra);
    w.end_object();
}

fn write_failure(w: &mut JsonWriter<'_>, f: &FailureInfo) {
    w.begin_object();
    w.key("stage");
    w.str(&f.stage);
    w.opt_str("reason", &f.reason, Nulls::Omit);
    w.end_object();
}

/// Writes an endpoint.
pub fn write_endpoint(w: &mut JsonWriter<'_>, e: &Endpoint) {
    let o = Nulls::Omit;
    w.begin_object();
    w.opt_str("@odata.type", &e.odata_type, o);
    w.opt_str("name", &e.name, o);
    if let Some(ua) = &e.user_agent {
        w.key("userAgent");
        w.begin_object();
        w.opt_str("@odata.type", &ua.odata_type, o);
        w.opt_str("headerValue", &ua.header_value, o);
        w.opt_str("applicationVersion", &ua.application_version, o);
        w.opt_str("platform", &ua.platform, o);
        w.opt_str("productFamily", &ua.product_family, o);
        w.opt_str("azureADAppId", &ua.azure_ad_app_id, o);
        w.opt_str("communicationServiceId", &ua.communication_service_id, o);
        w.opt_str("role", &ua.role, o);
        w.end_object();
    }
    if let Some(set) = &e.identity {
        w.key("identity");
        write_identity_set(w, set);
    }
    if let Some(id) = &e.associated_identity {
        w.key("associatedIdentity");
        write_identity(w, id);
    }
    if let Some(f) = &e.feedback {
        w.key("feedback");
        w.begin_object();
        w.key("rating");
        w.str(&f.rating);
        w.opt_str("text", &f.text, o);
        if let Some(tokens) = &f.tokens {
            w.key("tokens");
            w.begin_object();
            for (k, v) in tokens {
                w.key_escaped(k);
                w.bool(*v);
            }
            w.end_object();
        }
        w.end_object();
    }
    w.opt_i32("cpuCoresCount", e.cpu_cores_count, o);
    w.opt_str("cpuName", &e.cpu_name, o);
    w.opt_i32("cpuProcessorSpeedInMhz", e.cpu_processor_speed_in_mhz, o);
    w.extras(&e.extra);
    w.end_object();
}

/// Writes an identity set.
pub fn write_identity_set(w: &mut JsonWriter<'_>, s: &IdentitySet) {
    w.begin_object();
    w.opt_str("@odata.type", &s.odata_type, Nulls::Omit);
    w.opt_str("endpointType", &s.endpoint_type, Nulls::Omit);
    for (k, v) in [
        ("user", &s.user),
        ("application", &s.application),
        ("device", &s.device),
        ("applicationInstance", &s.application_instance),
        ("assertedIdentity", &s.asserted_identity),
        (
            "azureCommunicationServicesUser",
            &s.azure_communication_services_user,
        ),
        ("encrypted", &s.encrypted),
        ("guest", &s.guest),
        ("onPremises", &s.on_premises),
        ("phone", &s.phone),
    ] {
        if let Some(id) = v {
            w.key(k);
            write_identity(w, id);
        }
    }
    w.extras(&s.extra);
    w.end_object();
}

/// Writes an identity.
pub fn write_identity(w: &mut JsonWriter<'_>, i: &Identity) {
    let o = Nulls::Omit;
    w.begin_object();
    w.opt_str("@odata.type", &i.odata_type, o);
    w.opt_str("id", &i.id, o);
    w.opt_str("displayName", &i.display_name, o);
    w.opt_str("tenantId", &i.tenant_id, o);
    w.opt_str("userPrincipalName", &i.user_principal_name, o);
    w.opt_str("ipAddress", &i.ip_address, o);
    w.opt_str("email", &i.email, o);
    w.opt_str(
        "azureCommunicationServicesResourceId",
        &i.azure_communication_services_resource_id,
        o,
    );
    w.opt_bool("hidden", i.hidden, o);
    w.opt_str("applicationType", &i.application_type, o);
    w.extras(&i.extra);
    w.end_object();
}

/// Writes a participant (`participants_v2` entry or `organizer_v2`).
pub fn write_participant(w: &mut JsonWriter<'_>, p: &Participant) {
    w.begin_object();
    w.opt_str("id", &p.id, Nulls::Omit);
    if let Some(set) = &p.identity {
        w.key("identity");
        write_identity_set(w, set);
    }
    if let Some(units) = &p.administrative_unit_infos {
        w.key("administrativeUnitInfos");
        w.begin_array();
        for id in units {
            w.elem();
            w.begin_object();
            w.key("id");
            w.str(id);
            w.end_object();
        }
        w.end_array();
    }
    w.extras(&p.extra);
    w.end_object();
}

/// Writes a media entry with its streams.
pub fn write_media(w: &mut JsonWriter<'_>, m: &Media) {
    w.begin_object();
    w.opt_str("label", &m.label, Nulls::Omit);
    if let Some(n) = &m.caller_network {
        w.key("callerNetwork");
        write_network(w, n);
    }
    if let Some(n) = &m.callee_network {
        w.key("calleeNetwork");
        write_network(w, n);
    }
    if let Some(d) = &m.caller_device {
        w.key("callerDevice");
        write_device(w, d);
    }
    if let Some(d) = &m.callee_device {
        w.key("calleeDevice");
        write_device(w, d);
    }
    w.key("streams");
    w.begin_array();
    for s in &m.streams {
        w.elem();
        write_stream(w, s);
    }
    w.end_array();
    w.extras(&m.extra);
    w.end_object();
}

/// Writes a networkInfo.
pub fn write_network(w: &mut JsonWriter<'_>, n: &NetworkInfo) {
    let z = n.nulls;
    w.begin_object();
    w.opt_str("ipAddress", &n.ip_address, z);
    w.opt_str("subnet", &n.subnet, z);
    w.opt_i64("linkSpeed", n.link_speed, z);
    w.opt_str("connectionType", &n.connection_type, z);
    w.opt_i32("port", n.port, z);
    w.opt_str("reflexiveIPAddress", &n.reflexive_ip_address, z);
    w.opt_str("relayIPAddress", &n.relay_ip_address, z);
    w.opt_i32("relayPort", n.relay_port, z);
    w.opt_str("macAddress", &n.mac_address, z);
    w.opt_str("dnsSuffix", &n.dns_suffix, z);
    w.opt_str("networkTransportProtocol", &n.network_transport_protocol, z);
    w.opt_str("wifiMicrosoftDriver", &n.wifi_microsoft_driver, z);
    w.opt_str(
        "wifiMicrosoftDriverVersion",
        &n.wifi_microsoft_driver_version,
        z,
    );
    w.opt_str("wifiVendorDriver", &n.wifi_vendor_driver, z);
    w.opt_str("wifiVendorDriverVersion", &n.wifi_vendor_driver_version, z);
    w.opt_i32("wifiChannel", n.wifi_channel, z);
    w.opt_str("wifiBand", &n.wifi_band, z);
    w.opt_str("wifiRadioType", &n.wifi_radio_type, z);
    w.opt_i32("wifiSignalStrength", n.wifi_signal_strength, z);
    w.opt_i32("wifiBatteryCharge", n.wifi_battery_charge, z);
    w.opt_str(
        "basicServiceSetIdentifier",
        &n.basic_service_set_identifier,
        z,
    );
    w.opt_f64("sentQualityEventRatio", n.sent_quality_event_ratio, z);
    w.opt_f64(
        "receivedQualityEventRatio",
        n.received_quality_event_ratio,
        z,
    );
    w.opt_f64("delayEventRatio", n.delay_event_ratio, z);
    w.opt_f64("bandwidthLowEventRatio", n.bandwidth_low_event_ratio, z);
    match &n.trace_route_hops {
        Some(hops) => {
            w.key("traceRouteHops");
            w.begin_array();
            for h in hops {
                w.elem();
                w.begin_object();
                w.opt_i32("hopCount", h.hop_count, Nulls::Omit);
                w.opt_str("ipAddress", &h.ip_address, Nulls::Omit);
                w.opt_millis("roundTripTime", h.round_trip_time, Nulls::Omit);
                w.end_object();
            }
            w.end_array();
        }
        // A non-nullable collection: Graph sends it empty.
        None if z == Nulls::Write => {
            w.key("traceRouteHops");
            w.begin_array();
            w.end_array();
        }
        None => {}
    }
    w.extras(&n.extra);
    w.end_object();
}

/// Writes a deviceInfo.
pub fn write_device(w: &mut JsonWriter<'_>, d: &DeviceInfo) {
    let z = d.nulls;
    w.begin_object();
    w.opt_str("captureDeviceName", &d.capture_device_name, z);
    w.opt_str("captureDeviceDriver", &d.capture_device_driver, z);
    w.opt_str("renderDeviceName", &d.render_device_name, z);
    w.opt_str("renderDeviceDriver", &d.render_device_driver, z);
    w.opt_i32("sentSignalLevel", d.sent_signal_level, z);
    w.opt_i32("receivedSignalLevel", d.received_signal_level, z);
    w.opt_i32("sentNoiseLevel", d.sent_noise_level, z);
    w.opt_i32("receivedNoiseLevel", d.received_noise_level, z);
    w.opt_f64(
        "initialSignalLevelRootMeanSquare",
        d.initial_signal_level_root_mean_square,
        z,
    );
    w.opt_f64(
        "captureNotFunctioningEventRatio",
        d.capture_not_functioning_event_ratio,
        z,
    );
    w.opt_f64(
        "renderNotFunctioningEventRatio",
        d.render_not_functioning_event_ratio,
        z,
    );
    w.opt_f64("cpuInsufficentEventRatio", d.cpu_insufficent_event_ratio, z);
    w.opt_f64("deviceClippingEventRatio", d.device_clipping_event_ratio, z);
    w.opt_f64("deviceGlitchEventRatio", d.device_glitch_event_ratio, z);
    w.opt_i32("howlingEventCount", d.howling_event_count, z);
    w.opt_f64(
        "lowSpeechLevelEventRatio",
        d.low_speech_level_event_ratio,
        z,
    );
    w.opt_f64(
        "lowSpeechToNoiseEventRatio",
        d.low_speech_to_noise_event_ratio,
        z,
    );
    w.opt_f64("micGlitchRate", d.mic_glitch_rate, z);
    w.opt_f64("speakerGlitchRate", d.speaker_glitch_rate, z);
    w.opt_f64("renderMuteEventRatio", d.render_mute_event_ratio, z);
    w.opt_f64(
        "renderZeroVolumeEventRatio",
        d.render_zero_volume_event_ratio,
        z,
    );
    w.end_object();
}

/// Writes a mediaStream.
pub fn write_stream(w: &mut JsonWriter<'_>, s: &MediaStream) {
    let z = s.nulls;
    w.begin_object();
    w.opt_str("streamId", &s.stream_id, z);
    w.opt_str("streamDirection", &s.stream_direction, z);
    w.opt_timestamp("startDateTime", s.start, z);
    w.opt_timestamp("endDateTime", s.end, z);
    w.opt_str("audioCodec", &s.audio_codec, z);
    w.opt_str("videoCodec", &s.video_codec, z);
    w.opt_f64("averageAudioDegradation", s.average_audio_degradation, z);
    w.opt_millis("averageJitter", s.average_jitter, z);
    w.opt_millis("maxJitter", s.max_jitter, z);
    w.opt_f64("averagePacketLossRate", s.average_packet_loss_rate, z);
    w.opt_f64("maxPacketLossRate", s.max_packet_loss_rate, z);
    w.opt_f64(
        "averageRatioOfConcealedSamples",
        s.average_ratio_of_concealed_samples,
        z,
    );
    w.opt_f64(
        "maxRatioOfConcealedSamples",
        s.max_ratio_of_concealed_samples,
        z,
    );
    w.opt_millis("averageRoundTripTime", s.average_round_trip_time, z);
    w.opt_millis("maxRoundTripTime", s.max_round_trip_time, z);
    w.opt_i64("packetUtilization", s.packet_utilization, z);
    w.opt_i64("averageBandwidthEstimate", s.average_bandwidth_estimate, z);
    w.opt_bool("wasMediaBypassed", s.was_media_bypassed, z);
    w.opt_millis(
        "averageAudioNetworkJitter",
        s.average_audio_network_jitter,
        z,
    );
    w.opt_millis("maxAudioNetworkJitter", s.max_audio_network_jitter, z);
    w.opt_bool(
        "isAudioForwardErrorCorrectionUsed",
        s.is_audio_forward_error_correction_used,
        z,
    );
    w.opt_f64(
        "postForwardErrorCorrectionPacketLossRate",
        s.post_forward_error_correction_packet_loss_rate,
        z,
    );
    w.opt_f64(
        "averageVideoFrameLossPercentage",
        s.average_video_frame_loss_percentage,
        z,
    );
    w.opt_f64("averageVideoFrameRate", s.average_video_frame_rate, z);
    w.opt_f64("averageReceivedFrameRate", s.average_received_frame_rate, z);
    w.opt_f64(
        "averageVideoPacketLossRate",
        s.average_video_packet_loss_rate,
        z,
    );
    w.opt_f64("lowFrameRateRatio", s.low_frame_rate_ratio, z);
    w.opt_f64(
        "lowVideoProcessingCapabilityRatio",
        s.low_video_processing_capability_ratio,
        z,
    );
    w.opt_millis("averageFreezeDuration", s.average_freeze_duration, z);
    w.opt_millis("rmsFreezeDuration", s.rms_freeze_duration, z);
    w.extras(&s.extra);
    w.end_object();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_pretty_nesting() {
        let mut out = Vec::new();
        let mut w = JsonWriter::new(&mut out, Style::Pretty);
        w.begin_object();
        w.key("a");
        w.begin_array();
        w.elem();
        w.i64(1);
        w.elem();
        w.begin_object();
        w.end_object();
        w.end_array();
        w.key("b");
        w.begin_array();
        w.end_array();
        w.key("c");
        w.f64(1.25e-7);
        w.end_object();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n    \"a\": [\n        1,\n        {}\n    ],\n    \"b\": [],\n    \"c\": 1.25e-7\n}"
        );
    }

    #[test]
    fn numbers_round_trip_and_strings_escape() {
        for v in [0.0, 1.0, 0.1, 0.07, 0.01381693, 4294967295.0, 1e-9, 123.456] {
            let mut out = Vec::new();
            JsonWriter::new(&mut out, Style::Compact).f64(v);
            let back: f64 = serde_json::from_slice(&out).unwrap();
            assert_eq!(back, v, "{}", String::from_utf8_lossy(&out));
        }
        let mut out = Vec::new();
        JsonWriter::new(&mut out, Style::Compact).str("a\"b\\c\nd\u{1}é");
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, "a\"b\\c\nd\u{1}é");
    }
}
