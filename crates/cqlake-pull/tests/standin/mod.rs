//! A stand-in for Microsoft Graph and its sign-in service, on 127.0.0.1, for the tests of
//! `cqlake pull`: the token endpoint (client secret, or a PS256 client assertion it verifies),
//! the call-record list with its `startDateTime` filter and 60-item pages, Get with 60 inline
//! sessions and chains of session pages, 130 inline participants and participant pages,
//! records that answer 404 a number of times before they are ready, versions bumped between
//! runs, throttling (429 with a fractional `Retry-After`), 503 and 504, tokens revoked mid-run,
//! and a next link to another host. Every request is logged with its time, path, status and
//! whether it carried a token.
//!
//! A plain HTTP/1.1 server on std threads (one per connection, keep-alive), so the tests need no
//! web framework.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

pub const TENANT: &str = "contoso.onmicrosoft.com";
pub const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
pub const SECRET: &str = "s3cr3t-value-never-printed";
pub const SESSIONS_INLINE: usize = 60;
pub const PARTICIPANTS_INLINE: usize = 130;
pub const PAGE: usize = 60;

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    /// The `Authorization` header, if any.
    pub auth: Option<String>,
    pub client_request_id: Option<String>,
}

/// What the stand-in serves and how it misbehaves.
#[derive(Default)]
pub struct State {
    /// Full call records (with `sessions` and `participants_v2`), by id.
    pub records: BTreeMap<String, Value>,
    /// Records that answer 404 this many more times before they are served.
    pub not_ready: HashMap<String, u32>,
    /// The RSA public key (PKCS#1 DER) whose PS256 assertions are accepted, and the
    /// certificate thumbprint (`x5t#S256`) they must name.
    pub assertion_key: Option<(Vec<u8>, String)>,
    /// Every `throttle_every`-th Graph request answers 429 with `Retry-After: retry_after`.
    pub throttle_every: Option<u64>,
    pub retry_after: String,
    /// These request numbers (1-based, Graph requests only) answer 503 / 504.
    pub fail_503: Vec<u64>,
    pub fail_504: Vec<u64>,
    /// Tokens stop working after this many Graph requests (they must be fetched again).
    pub revoke_tokens_at: Option<u64>,
    /// The listing's first next link points here instead (another host).
    pub foreign_next_link: Option<String>,
    /// Rows of `getPstnCalls` and `getDirectRoutingCalls` (each with a `startDateTime` or
    /// `startDateTime`-like field the window filters on).
    pub pstn: Vec<Value>,
    pub direct_routing: Vec<Value>,
    /// Rows of the beta logs `getSmsLog`, `getPstnBlockedUsersLog` and
    /// `getPstnOnlineMeetingDialoutReport` (filtered on `sentDateTime` / `blockDateTime`; the
    /// dial-out report's rows have no time and are all served).
    pub sms: Vec<Value>,
    pub blocked_users: Vec<Value>,
    pub dialout: Vec<Value>,
    /// Recordings by organizer, in the order they were made: a delta round serves those from
    /// its token on, two a page.
    pub recordings: BTreeMap<String, Vec<Value>>,
    /// Delta tokens answer `410 Gone` (`syncStateNotFound`): the sync state expired.
    pub delta_expired: bool,
    /// Requests so far.
    pub log: Vec<Seen>,
    graph_requests: u64,
    tokens: HashMap<String, Instant>,
    token_seq: u64,
    pub tokens_issued: u64,
    pub assertions_verified: u64,
}

pub struct StandIn {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
}

impl StandIn {
    pub fn start() -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            retry_after: "0.2".into(),
            ..State::default()
        }));
        let s = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || serve(conn, addr, &s));
            }
        });
        StandIn { addr, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn add(&self, record: Value) {
        let id = record["id"].as_str().unwrap().to_string();
        self.state.lock().unwrap().records.insert(id, record);
    }

    pub fn log(&self) -> Vec<Seen> {
        self.state.lock().unwrap().log.clone()
    }

    /// Graph requests (not sign-in) whose path starts with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.log()
            .iter()
            .filter(|r| r.path.starts_with(prefix))
            .count()
    }
}

fn serve(conn: TcpStream, addr: SocketAddr, state: &Mutex<State>) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone stream"));
    let mut conn = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return;
        };
        let (method, target) = (method.to_string(), target.to_string());
        let mut headers: HashMap<String, String> = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (target.clone(), String::new()),
        };
        let path = percent_decode(&path);
        let query = percent_decode(&query);
        let (status, extra, out) = {
            let mut st = state.lock().unwrap();
            let r = handle(&mut st, addr, &method, &path, &query, &headers, &body);
            st.log.push(Seen {
                at: Instant::now(),
                method: method.clone(),
                path: path.clone(),
                query: query.clone(),
                status: r.0,
                auth: headers.get("authorization").cloned(),
                client_request_id: headers.get("client-request-id").cloned(),
            });
            r
        };
        let reason = match status {
            200 => "OK",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            406 => "Not Acceptable",
            429 => "Too Many Requests",
            503 => "Service Unavailable",
            504 => "Gateway Timeout",
            _ => "Status",
        };
        let mut head = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nrequest-id: rq-{}\r\n",
            out.len(),
            state.lock().unwrap().log.len()
        );
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        if conn.write_all(head.as_bytes()).is_err() || conn.write_all(&out).is_err() {
            return;
        }
    }
}

type Reply = (u16, Vec<(String, String)>, Vec<u8>);

fn reply(status: u16, body: Value) -> Reply {
    (status, Vec::new(), body.to_string().into_bytes())
}

fn graph_error(status: u16, code: &str, message: &str) -> Reply {
    reply(
        status,
        json!({"error": {"code": code, "message": message,
            "innerError": {"date": "2026-12-01T00:00:00", "request-id": "inner-rq", "client-request-id": "c"}}}),
    )
}

fn handle(
    st: &mut State,
    addr: SocketAddr,
    method: &str,
    path: &str,
    query: &str,
    headers: &HashMap<String, String>,
    body: &[u8],
) -> Reply {
    if method == "POST" && path == format!("/{TENANT}/oauth2/v2.0/token") {
        return token(st, addr, body);
    }
    if method != "GET" {
        return graph_error(405, "MethodNotAllowed", "GET only");
    }
    st.graph_requests += 1;
    let n = st.graph_requests;
    // The token first: Graph checks it before anything else.
    let auth = headers
        .get("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .map(str::to_string);
    if st.revoke_tokens_at == Some(n) {
        st.tokens.clear();
    }
    match auth.and_then(|t| st.tokens.get(&t).copied()) {
        Some(exp) if exp > Instant::now() => {}
        _ => {
            return graph_error(
                401,
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
            );
        }
    }
    if st.throttle_every.is_some_and(|k| n.is_multiple_of(k)) {
        let mut r = graph_error(429, "TooManyRequests", "Too many requests");
        r.1.push(("retry-after".into(), st.retry_after.clone()));
        return r;
    }
    if st.fail_503.contains(&n) {
        return graph_error(503, "ServiceUnavailable", "try later");
    }
    if st.fail_504.contains(&n) {
        return graph_error(504, "GatewayTimeout", "try later");
    }
    let base = format!("http://{addr}");
    let params = parse_query(query);
    if path == "/v1.0/communications/callRecords" {
        return list(st, &base, &params);
    }
    for (version, name, rows, row_type, next_key) in [
        (
            "v1.0",
            "getPstnCalls",
            &st.pstn,
            "pstnCallLogRow",
            "@odata.nextLink",
        ),
        // This function spells its next link `@odata.NextLink` (so does Graph, at times).
        (
            "v1.0",
            "getDirectRoutingCalls",
            &st.direct_routing,
            "directRoutingLogRow",
            "@odata.NextLink",
        ),
        ("beta", "getSmsLog", &st.sms, "smsLogRow", "@odata.nextLink"),
        (
            "beta",
            "getPstnBlockedUsersLog",
            &st.blocked_users,
            "pstnBlockedUsersLogRow",
            "@odata.nextLink",
        ),
        (
            "beta",
            "getPstnOnlineMeetingDialoutReport",
            &st.dialout,
            "pstnOnlineMeetingDialoutReport",
            "@odata.nextLink",
        ),
    ] {
        if let Some(args) = path
            .strip_prefix(&format!("/{version}/communications/callRecords/{name}("))
            .and_then(|a| a.strip_suffix(')'))
        {
            return log_page(
                &base, version, name, args, rows, row_type, next_key, &params,
            );
        }
    }
    if let Some(rest) = path.strip_prefix("/v1.0/users/") {
        return recordings_page(st, &base, path, rest, &params);
    }
    if let Some(rest) = path.strip_prefix("/v1.0/communications/callRecords(") {
        // `callRecords('ID')/sessions` or `/participants_v2` pages.
        let (id, what) = rest.split_once(")/").unwrap_or((rest, ""));
        let id = id.trim_matches('\'');
        let skip: usize = params
            .get("$skiptoken")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let Some(rec) = st.records.get(id) else {
            return graph_error(404, "NotFound", "no such record");
        };
        return match what {
            "sessions" => page_of(&base, id, rec, "sessions", skip, PAGE, "?$expand=segments&"),
            "participants_v2" => page_of(&base, id, rec, "participants_v2", skip, PAGE, "?"),
            _ => graph_error(400, "BadRequest", "unknown segment"),
        };
    }
    if let Some(id) = path.strip_prefix("/v1.0/communications/callRecords/") {
        if let Some(left) = st.not_ready.get_mut(id)
            && *left > 0
        {
            *left -= 1;
            return graph_error(404, "NotFound", "The requested resource does not exist.");
        }
        let Some(rec) = st.records.get(id) else {
            return graph_error(404, "NotFound", "The requested resource does not exist.");
        };
        // Graph keeps 30 days: older records are gone.
        let start = cqlake_schema::calendar::parse_timestamp_us(
            rec["startDateTime"].as_str().unwrap_or(""),
        )
        .unwrap_or(0);
        if start < now_us() - 30 * 86_400_000_000 {
            return graph_error(404, "NotFound", "The requested resource does not exist.");
        }
        let expand = params.get("$expand").cloned().unwrap_or_default();
        let mut out = rec.clone();
        let o = out.as_object_mut().unwrap();
        let sessions = o.remove("sessions").unwrap_or(json!([]));
        let people = o.remove("participants_v2").unwrap_or(json!([]));
        if expand == "sessions($expand=segments)" {
            let all = sessions.as_array().unwrap();
            o.insert(
                "sessions".into(),
                json!(all[..all.len().min(SESSIONS_INLINE)]),
            );
            if all.len() > SESSIONS_INLINE {
                o.insert(
                    "sessions@odata.nextLink".into(),
                    json!(format!("{base}/v1.0/communications/callRecords('{id}')/sessions?$expand=segments&$skiptoken={SESSIONS_INLINE}")),
                );
            }
        } else if expand == "participants_v2" {
            let all = people.as_array().unwrap();
            o.insert(
                "participants_v2".into(),
                json!(all[..all.len().min(PARTICIPANTS_INLINE)]),
            );
            if all.len() > PARTICIPANTS_INLINE {
                o.insert(
                    "participants_v2@odata.nextLink".into(),
                    json!(format!("{base}/v1.0/communications/callRecords('{id}')/participants_v2?$skiptoken={PARTICIPANTS_INLINE}")),
                );
            }
        } else if !expand.is_empty() {
            return graph_error(400, "BadRequest", "one relation per $expand");
        }
        return (200, Vec::new(), out.to_string().into_bytes());
    }
    graph_error(404, "NotFound", "no such path")
}

fn page_of(
    base: &str,
    id: &str,
    rec: &Value,
    name: &str,
    skip: usize,
    n: usize,
    next_query: &str,
) -> Reply {
    let all = rec[name].as_array().cloned().unwrap_or_default();
    let end = (skip + n).min(all.len());
    let mut page = json!({
        "@odata.context": format!("{base}/v1.0/$metadata#communications/callRecords('{id}')/{name}"),
        "value": all[skip.min(all.len())..end],
    });
    if end < all.len() {
        page["@odata.nextLink"] = json!(format!(
            "{base}/v1.0/communications/callRecords('{id}')/{name}{next_query}$skiptoken={end}"
        ));
    }
    reply(200, page)
}

const LOG_PAGE: usize = 1_000;

#[allow(clippy::too_many_arguments)]
fn log_page(
    base: &str,
    version: &str,
    name: &str,
    args: &str,
    rows: &[Value],
    row_type: &str,
    next_key: &str,
    params: &HashMap<String, String>,
) -> Reply {
    let mut from = None;
    let mut to = None;
    for a in args.split(',') {
        match a.split_once('=') {
            Some(("fromDateTime", v)) => from = cqlake_schema::calendar::parse_timestamp_us(v),
            Some(("toDateTime", v)) => to = cqlake_schema::calendar::parse_timestamp_us(v),
            _ => return graph_error(400, "BadRequest", "fromDateTime and toDateTime"),
        }
    }
    let (Some(from), Some(to)) = (from, to) else {
        return graph_error(400, "BadRequest", "fromDateTime and toDateTime");
    };
    if to - from > 90 * 86_400_000_000 {
        return graph_error(406, "NotAcceptable", "The date range is more than 90 days.");
    }
    // The row's time; a row without one (the dial-out report's) is always served.
    let ts = |r: &Value| {
        ["startDateTime", "sentDateTime", "blockDateTime"]
            .iter()
            .find_map(|k| r[*k].as_str())
            .and_then(cqlake_schema::calendar::parse_timestamp_us)
    };
    let matching: Vec<&Value> = rows
        .iter()
        .filter(|r| ts(r).is_none_or(|t| t >= from && t <= to))
        .collect();
    let skip: usize = params
        .get("$skip")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let end = (skip + LOG_PAGE).min(matching.len());
    let mut page = json!({
        "@odata.context": format!("{base}/{version}/$metadata#Collection(microsoft.graph.callRecords.{row_type})"),
        "@odata.count": end - skip.min(end),
        "value": matching[skip.min(matching.len())..end],
    });
    if end < matching.len() {
        page[next_key] = json!(format!(
            "{base}/{version}/communications/callRecords/{name}({args})?$skip={end}"
        ));
    }
    reply(200, page)
}

const RECORDINGS_PAGE: usize = 2;

/// A page of `/users/{org}/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{org}',
/// startDateTime=…)/delta`: a round starts at the delta token's position (0 without one), two
/// recordings a page, `skipToken` within a round, a `deltaToken` at its end.
fn recordings_page(
    st: &State,
    base: &str,
    path: &str,
    rest: &str,
    params: &HashMap<String, String>,
) -> Reply {
    let Some((org, call)) = rest.split_once("/onlineMeetings/getAllRecordings(") else {
        return graph_error(404, "NotFound", "no such path");
    };
    if !call.ends_with(")/delta")
        || !call.contains(&format!("meetingOrganizerUserId='{org}'"))
        || !call.contains("startDateTime=")
    {
        return graph_error(
            400,
            "BadRequest",
            "getAllRecordings(meetingOrganizerUserId, startDateTime)/delta",
        );
    }
    let all = st.recordings.get(org).cloned().unwrap_or_default();
    let at: usize = if let Some(d) = params.get("deltaToken") {
        if st.delta_expired {
            return graph_error(410, "syncStateNotFound", "The sync state has expired.");
        }
        d.parse().unwrap_or(0)
    } else {
        params
            .get("skipToken")
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    let end = (at + RECORDINGS_PAGE).min(all.len());
    let mut page = json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(callRecording)",
        "value": all[at.min(all.len())..end],
    });
    if end < all.len() {
        page["@odata.nextLink"] = json!(format!("{base}{path}?skipToken={end}"));
    } else {
        page["@odata.deltaLink"] = json!(format!("{base}{path}?deltaToken={}", all.len()));
    }
    reply(200, page)
}

/// A recording `id` of a meeting organized by `org`, made at `at_us`.
pub fn recording(id: &str, org: &str, at_us: i64) -> Value {
    let t = cqlake_schema::calendar::format_timestamp_us;
    json!({
        "@odata.type": "#microsoft.graph.callRecording", "id": id, "meetingId": format!("m-{id}"),
        "callId": format!("c-{id}"), "contentCorrelationId": format!("cc-{id}"),
        "createdDateTime": t(at_us), "endDateTime": t(at_us + 600_000_000),
        "recordingContentUrl": format!("https://graph.microsoft.com/v1.0/users/{org}/onlineMeetings/m-{id}/recordings/{id}/content"),
        "meetingOrganizer": {"application": null, "device": null,
            "user": {"@odata.type": "#microsoft.graph.teamworkUserIdentity", "id": org, "displayName": null,
                "userIdentityType": "aadUser", "tenantId": "a1d286db-6149-4b3d-95ad-23c9e1bf6853"}}
    })
}

/// A PSTN call log row of user `user` at `start_us`.
pub fn pstn_row(id: &str, start_us: i64, user: &str) -> Value {
    let t = cqlake_schema::calendar::format_timestamp_us;
    json!({
        "id": id, "callId": format!("{id}-call"), "userId": user, "userPrincipalName": format!("{user}@contoso.com"),
        "userDisplayName": user, "startDateTime": t(start_us), "endDateTime": t(start_us + 60_000_000),
        "duration": 60, "charge": 0.05, "callType": "user_out", "currency": "USD",
        "calleeNumber": "+14255550100", "usageCountryCode": "US", "tenantCountryCode": "US",
        "connectionCharge": 0.0, "callerNumber": "+14255550199", "destinationContext": null,
        "destinationName": "United States", "conferenceId": null, "licenseCapability": "MCOPSTN1",
        "inventoryType": "Subscriber", "operator": "Microsoft", "callDurationSource": "microsoft"
    })
}

/// A direct-routing log row at `start_us`.
pub fn direct_row(id: &str, start_us: i64) -> Value {
    let t = cqlake_schema::calendar::format_timestamp_us;
    json!({
        "id": id, "correlationId": format!("{id}-corr"), "userId": "u1", "userPrincipalName": "u1@contoso.com",
        "userDisplayName": "U 1", "startDateTime": t(start_us), "inviteDateTime": t(start_us),
        "failureDateTime": null, "endDateTime": t(start_us + 30_000_000), "duration": 30,
        "callType": "ByotIn", "successfulCall": true, "callerNumber": "+14255550101",
        "calleeNumber": "+14255550102", "mediaPathLocation": "USWE", "signalingLocation": "USWE",
        "finalSipCode": 0, "callEndSubReason": 540000, "finalSipCodePhrase": "BYE",
        "trunkFullyQualifiedDomainName": "sbc.contoso.com", "mediaBypassEnabled": false
    })
}

fn list(st: &mut State, base: &str, params: &HashMap<String, String>) -> Reply {
    let filter = params.get("$filter").cloned().unwrap_or_default();
    let mut ge = None;
    let mut lt = None;
    for clause in filter.split(" and ") {
        let w: Vec<&str> = clause.split_whitespace().collect();
        if w.len() != 3 || w[0] != "startDateTime" {
            return graph_error(400, "BadRequest", "only startDateTime can be filtered");
        }
        let t = w[2].to_string();
        match w[1] {
            "ge" => ge = Some(t),
            "lt" => lt = Some(t),
            _ => return graph_error(400, "BadRequest", "ge and lt only here"),
        }
    }
    // Graph keeps 30 days: older records are not listed.
    let oldest = now_us() - 30 * 86_400_000_000;
    let ts = |s: &str| cqlake_schema::calendar::parse_timestamp_us(s).unwrap_or(0);
    let matching: Vec<Value> = st
        .records
        .values()
        .filter(|r| {
            let s = ts(r["startDateTime"].as_str().unwrap_or(""));
            s >= oldest
                && ge.as_ref().is_none_or(|g| s >= ts(g))
                && lt.as_ref().is_none_or(|l| s < ts(l))
        })
        .map(|r| {
            json!({
                "id": r["id"], "version": r["version"],
                "lastModifiedDateTime": r["lastModifiedDateTime"],
                "startDateTime": r["startDateTime"], "endDateTime": r["endDateTime"],
                "type": r["type"], "modalities": r["modalities"],
            })
        })
        .collect();
    let skip: usize = params
        .get("$skiptoken")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let end = (skip + PAGE).min(matching.len());
    let mut page = json!({
        "@odata.context": format!("{base}/v1.0/$metadata#communications/callRecords"),
        "value": matching[skip.min(matching.len())..end],
    });
    if end < matching.len() {
        let next = match st.foreign_next_link.take() {
            Some(f) => f,
            None => format!(
                "{base}/v1.0/communications/callRecords?$filter={}&$skiptoken={end}",
                filter.replace(' ', "%20")
            ),
        };
        page["@odata.nextLink"] = json!(next);
    }
    reply(200, page)
}

fn token(st: &mut State, addr: SocketAddr, body: &[u8]) -> Reply {
    let form = parse_query(&String::from_utf8_lossy(body).replace('+', " "));
    let bad = |code: &str, d: &str| {
        reply(
            400,
            json!({"error": code, "error_description": d, "trace_id": "t", "correlation_id": "c"}),
        )
    };
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return bad(
            "unauthorized_client",
            "AADSTS700016: Application not found in the directory.",
        );
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return bad("unsupported_grant_type", "AADSTS70003: grant_type");
    }
    if form.get("scope").map(String::as_str) != Some(&format!("http://{addr}/.default")) {
        return bad(
            "invalid_scope",
            "AADSTS1002012: The provided value for scope is not valid.",
        );
    }
    let ok = if let Some(s) = form.get("client_secret") {
        s == SECRET
    } else if let Some(a) = form.get("client_assertion") {
        let want_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
        form.get("client_assertion_type").map(String::as_str) == Some(want_type)
            && verify_assertion(st, addr, a)
    } else {
        false
    };
    if !ok {
        return bad(
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided.",
        );
    }
    st.token_seq += 1;
    st.tokens_issued += 1;
    let t = format!("tok-{}-{}", st.token_seq, now_us());
    st.tokens
        .insert(t.clone(), Instant::now() + Duration::from_secs(3599));
    reply(
        200,
        json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": t}),
    )
}

fn verify_assertion(st: &mut State, addr: SocketAddr, jwt: &str) -> bool {
    let Some((key, thumbprint)) = st.assertion_key.clone() else {
        return false;
    };
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return false;
    }
    let dec = |s: &str| URL_SAFE_NO_PAD.decode(s).ok();
    let (Some(h), Some(c), Some(sig)) = (dec(parts[0]), dec(parts[1]), dec(parts[2])) else {
        return false;
    };
    let (Ok(h), Ok(c)) = (
        serde_json::from_slice::<Value>(&h),
        serde_json::from_slice::<Value>(&c),
    ) else {
        return false;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let aud = format!("http://{addr}/{TENANT}/oauth2/v2.0/token");
    let (nbf, exp) = (
        c["nbf"].as_i64().unwrap_or(0),
        c["exp"].as_i64().unwrap_or(0),
    );
    let claims_ok = h["alg"] == "PS256"
        && h["x5t#S256"] == thumbprint.as_str()
        && c["aud"] == aud.as_str()
        && c["iss"] == CLIENT_ID
        && c["sub"] == CLIENT_ID
        && c["jti"].as_str().is_some_and(|j| j.len() >= 16)
        && nbf <= now + 60
        && exp > now
        && exp - nbf <= 600;
    let signed = format!("{}.{}", parts[0], parts[1]);
    let sig_ok =
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PSS_2048_8192_SHA256, &key)
            .verify(signed.as_bytes(), &sig)
            .is_ok();
    if claims_ok && sig_ok {
        st.assertions_verified += 1;
    }
    claims_ok && sig_ok
}

fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

/// A call record starting `start_us`, with `sessions` sessions (one segment, one audio stream
/// each) and `participants` participants, `version` and a last modification.
pub fn record(
    id: &str,
    start_us: i64,
    version: i64,
    sessions: usize,
    participants: usize,
) -> Value {
    let t = cqlake_schema::calendar::format_timestamp_us;
    let start = t(start_us);
    let end = t(start_us + 600_000_000);
    let sessions: Vec<Value> = (0..sessions)
        .map(|i| {
            json!({
                "id": format!("{id}-s{i}"), "modalities": ["audio"],
                "startDateTime": start, "endDateTime": end,
                "caller": {"@odata.type": "#microsoft.graph.callRecords.participantEndpoint",
                           "identity": {"user": {"id": format!("u{i}"), "displayName": format!("User {i}")}}},
                "callee": {"@odata.type": "#microsoft.graph.callRecords.participantEndpoint"},
                "segments": [{"id": format!("{id}-g{i}"), "startDateTime": start, "endDateTime": end,
                    "media": [{"label": "main-audio", "streams": [
                        {"streamId": "1", "streamDirection": "callerToCallee",
                         "averageJitter": format!("PT0.0{}S", i % 9 + 1)}]}]}]
            })
        })
        .collect();
    let people: Vec<Value> = (0..participants)
        .map(|i| json!({"id": format!("p{i}"), "identity": {"user": {"id": format!("p{i}"), "displayName": format!("Person {i}")}}}))
        .collect();
    json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#communications/callRecords/$entity",
        "id": id, "version": version, "type": "groupCall", "modalities": ["audio"],
        "lastModifiedDateTime": t(start_us + 3_600_000_000 + version * 1_000_000),
        "startDateTime": start, "endDateTime": end,
        "organizer_v2": {"id": "p0", "identity": {"user": {"id": "p0", "displayName": "Person 0"}}},
        "sessions": sessions, "participants_v2": people,
    })
}
