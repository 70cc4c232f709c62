//! Seeded documents of the side tables: recordings delta rounds, record operations and their
//! notifications, PSTN / direct-routing / SMS / blocked-users / dial-out log pages, and
//! callRecords change notifications, in the shapes Graph sends them.
//!
//! [`SideGenerator::documents`] returns the documents (one JSON text each) and, as ground truth,
//! what the lake must hold after converting them ([`SideTruth`]): the rows of each side table
//! once repeats merged, and sums to compare exactly.

use cqlake_schema::SideTable;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::random::Rng;

/// Which documents to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SideKind {
    /// Recordings delta query pages: a full round, then an incremental round that repeats some.
    Recordings,
    /// `recordOperation` responses (`running`) and the `commsNotifications` that end them.
    RecordOperations,
    /// `getPstnCalls` pages.
    Pstn,
    /// `getDirectRoutingCalls` pages.
    DirectRouting,
    /// `getSmsLog` pages (beta).
    Sms,
    /// `getPstnBlockedUsersLog` pages (beta).
    BlockedUsers,
    /// `getPstnOnlineMeetingDialoutReport` pages (beta).
    Dialout,
    /// Webhook payloads of a `/communications/callRecords` subscription.
    Notifications,
}

impl SideKind {
    /// Every kind.
    pub const ALL: [SideKind; 8] = [
        SideKind::Recordings,
        SideKind::RecordOperations,
        SideKind::Pstn,
        SideKind::DirectRouting,
        SideKind::Sms,
        SideKind::BlockedUsers,
        SideKind::Dialout,
        SideKind::Notifications,
    ];

    /// The table its documents land in.
    pub fn table(self) -> SideTable {
        match self {
            SideKind::Recordings => SideTable::Recordings,
            SideKind::RecordOperations => SideTable::RecordOperations,
            SideKind::Pstn => SideTable::PstnCalls,
            SideKind::DirectRouting => SideTable::DirectRoutingCalls,
            SideKind::Sms => SideTable::SmsLogs,
            SideKind::BlockedUsers => SideTable::PstnBlockedUsers,
            SideKind::Dialout => SideTable::PstnDialoutReport,
            SideKind::Notifications => SideTable::Notifications,
        }
    }

    fn salt(self) -> u64 {
        0x5eed_0000 + self as u64
    }
}

/// What the lake must hold after converting a [`SideGenerator`]'s documents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SideTruth {
    /// Rows per side table (in [`SideTable::ALL`] order) once repeats merged.
    pub rows: [u64; SideTable::ALL.len()],
    /// Objects written (repeats included): what convert counts as converted.
    pub objects: u64,
    /// Secrets written (access tokens, client states): what convert counts as redacted.
    pub secrets: u64,
    /// The sum of the distinct rows' durations in seconds (PSTN, direct routing, dial-out).
    pub seconds: i64,
    /// The sum of the distinct rows' charges in ten-thousandths (PSTN `charge`, SMS
    /// `callCharge`, dial-out `totalCallCharge`).
    pub charge_1e4: i64,
    /// Rows whose outcome is a failure (direct-routing calls not successful, record operations
    /// that failed).
    pub failed: u64,
}

/// Draws side-table documents. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct SideGenerator {
    seed: u64,
    rows: u64,
    page_rows: u64,
}

const USERS: [(&str, &str, &str); 4] = [
    (
        "db03c14b-06eb-4189-939b-7cbf3a20ba27",
        "richard.malk@contoso.com",
        "Richard Malk",
    ),
    (
        "3b7a2c1e-5f4d-4e2a-9c8b-1a2b3c4d5e6f",
        "ann.lee@contoso.com",
        "Ann Lee",
    ),
    (
        "8b081ef6-4792-4def-b2c9-c363a1bf41d5",
        "nora.diaz@contoso.com",
        "Nora Diaz",
    ),
    (
        "5d2e8f90-1a3b-4c5d-8e7f-9a0b1c2d3e4f",
        "li.wei@contoso.com",
        "Li Wei",
    ),
];
const V1: &str =
    "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.callRecords.";
const BETA: &str =
    "https://graph.microsoft.com/beta/$metadata#Collection(microsoft.graph.callRecords.";

fn guid(rng: &mut Rng) -> String {
    let a = rng.u64();
    let b = rng.u64();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

/// `2024-05-DDTHH:MM:SSZ` for second `s` of May 2024.
fn time(s: u64) -> String {
    let s = s % (31 * 86_400);
    format!(
        "2024-05-{:02}T{:02}:{:02}:{:02}Z",
        1 + s / 86_400,
        s / 3600 % 24,
        s / 60 % 60,
        s % 60
    )
}

/// A charge in ten-thousandths as a JSON number with four decimals.
fn money(c: i64) -> Value {
    let text = format!("{}.{:04}", c / 10_000, c % 10_000);
    serde_json::from_str(&text).expect("a decimal number")
}

fn page(context: String, rows: Vec<Value>, next: Option<String>) -> Value {
    let mut p = json!({"@odata.context": context, "@odata.count": rows.len(), "value": rows});
    if let Some(n) = next {
        p["@odata.nextLink"] = Value::String(n);
    }
    p
}

impl SideGenerator {
    /// `rows` distinct objects of each kind from `seed`, `page_rows` to a page.
    pub fn new(seed: u64, rows: u64) -> Self {
        SideGenerator {
            seed,
            rows,
            page_rows: 100,
        }
    }

    /// Objects per collection page (default 100).
    pub fn with_page_rows(mut self, n: u64) -> Self {
        self.page_rows = n.max(1);
        self
    }

    fn rng(&self, kind: SideKind) -> Rng {
        Rng(ChaCha8Rng::seed_from_u64(self.seed ^ kind.salt()))
    }

    /// The documents of `kind` (compact JSON, one per element) and what the lake must hold.
    pub fn documents(&self, kind: SideKind) -> (Vec<String>, SideTruth) {
        let mut rng = self.rng(kind);
        let mut t = SideTruth::default();
        let docs = match kind {
            SideKind::Recordings => self.recordings(&mut rng, &mut t),
            SideKind::RecordOperations => self.record_operations(&mut rng, &mut t),
            SideKind::Notifications => self.notifications(&mut rng, &mut t),
            _ => {
                let rows: Vec<Value> = (0..self.rows)
                    .map(|i| self.log_row(kind, &mut rng, i, &mut t))
                    .collect();
                t.objects += rows.len() as u64;
                t.rows[kind.table().index()] = rows.len() as u64;
                let (ctx, function) = match kind {
                    SideKind::Pstn => (format!("{V1}pstnCallLogRow)"), "getPstnCalls"),
                    SideKind::DirectRouting => {
                        (format!("{V1}directRoutingLogRow)"), "getDirectRoutingCalls")
                    }
                    SideKind::Sms => (format!("{BETA}smsLogRow)"), "getSmsLog"),
                    SideKind::BlockedUsers => (
                        format!("{BETA}pstnBlockedUsersLogRow)"),
                        "getPstnBlockedUsersLog",
                    ),
                    _ => (
                        format!("{BETA}pstnOnlineMeetingDialoutReport)"),
                        "getPstnOnlineMeetingDialoutReport",
                    ),
                };
                self.pages(rows, &ctx, |skip| {
                    format!("https://graph.microsoft.com/v1.0/communications/callRecords/{function}(fromDateTime=2024-05-01,toDateTime=2024-06-01)?$skip={skip}")
                })
            }
        };
        (docs.iter().map(Value::to_string).collect(), t)
    }

    /// `rows` in pages of `page_rows`, each but the last with the `@odata.nextLink` `next(skip)`.
    fn pages(&self, rows: Vec<Value>, ctx: &str, next: impl Fn(u64) -> String) -> Vec<Value> {
        let n = rows.len() as u64;
        let mut out = Vec::new();
        let mut rows = rows.into_iter();
        let mut done = 0;
        loop {
            let chunk: Vec<Value> = rows.by_ref().take(self.page_rows as usize).collect();
            done += chunk.len() as u64;
            let more = done < n;
            out.push(page(ctx.to_string(), chunk, more.then(|| next(done))));
            if !more {
                return out;
            }
        }
    }

    fn log_row(&self, kind: SideKind, rng: &mut Rng, i: u64, t: &mut SideTruth) -> Value {
        let (uid, upn, name) = USERS[rng.below(USERS.len() as u64) as usize];
        let start = rng.below(30 * 86_400);
        let id = guid(rng);
        match kind {
            SideKind::Pstn => {
                let secs = rng.range(5, 3600) as i64;
                let intl = rng.chance(0.3);
                let charge = if rng.chance(0.4) {
                    0
                } else {
                    rng.range(1, 30_000) as i64
                };
                t.seconds += secs;
                t.charge_1e4 += charge;
                json!({"id": id, "callId": format!("{}_{}@61.221.3.176", 1_835_317_186 + i, rng.u32()),
                    "userId": uid, "userPrincipalName": upn, "userDisplayName": name,
                    "startDateTime": time(start), "endDateTime": time(start + secs as u64),
                    "duration": secs, "charge": money(charge), "callType": if rng.chance(0.6) { "user_out" } else { "user_in" },
                    "currency": "USD", "calleeNumber": "+1234567890", "usageCountryCode": "US", "tenantCountryCode": "US",
                    "connectionCharge": money(0), "callerNumber": "+0123456789",
                    "destinationContext": if intl { "International" } else { "Domestic" },
                    "destinationName": if intl { "United Kingdom" } else { "United States" }, "conferenceId": null,
                    "licenseCapability": "MCOPSTNU", "inventoryType": "Subscriber", "operator": "Microsoft",
                    "callDurationSource": "microsoft"})
            }
            SideKind::DirectRouting => {
                let ok = rng.chance(0.8);
                let secs = if ok { rng.range(1, 3600) as i64 } else { 0 };
                let (code, sub, phrase) = if ok {
                    (0, 540000, "BYE")
                } else {
                    *[
                        (503, 560503, "Service Unavailable"),
                        (404, 560404, "Not Found"),
                        (487, 540487, "Request Terminated"),
                        (408, 560408, "Request Timeout"),
                    ]
                    .get(rng.below(4) as usize)
                    .expect("four codes")
                };
                t.seconds += secs;
                t.failed += u64::from(!ok);
                json!({"id": id, "correlationId": guid(rng), "userId": uid, "userPrincipalName": upn,
                    "userDisplayName": name, "startDateTime": time(start + 4), "inviteDateTime": time(start),
                    "failureDateTime": if ok { "0001-01-01T00:00:00Z".to_string() } else { time(start + 4) },
                    "endDateTime": time(start + 4 + secs as u64), "duration": secs,
                    "callType": if rng.chance(0.5) { "ByotIn" } else { "ByotOut" }, "successfulCall": ok,
                    "callerNumber": "+12345678***", "calleeNumber": "+01234567***", "mediaPathLocation": "USWE",
                    "signalingLocation": "EUNO", "finalSipCode": code, "callEndSubReason": sub,
                    "finalSipCodePhrase": phrase,
                    "trunkFullyQualifiedDomainName": format!("sbc{}.contoso.com", 1 + rng.below(3)),
                    "mediaBypassEnabled": rng.chance(0.5)})
            }
            SideKind::Sms => {
                let units = rng.range(1, 3) as i64;
                let charge = units * 400;
                t.charge_1e4 += charge;
                json!({"id": id, "userId": uid, "userPrincipalName": upn, "userDisplayName": name,
                    "sentDateTime": time(start), "smsId": format!("SMS-{i}"), "smsType": "outbound", "smsUnits": units,
                    "sourceNumber": "+14255550100", "destinationNumber": "+442079460000",
                    "destinationContext": "International", "destinationName": "United Kingdom",
                    "callCharge": money(charge), "currency": "USD", "licenseCapability": "MCOPSTNU",
                    "tenantCountryCode": "US", "userCountryCode": "US", "otherPartyCountryCode": "GB",
                    "administrativeUnitInfos": [{"id": "au-sales"}]})
            }
            SideKind::BlockedUsers => {
                json!({"blockDateTime": time(i * 3600 + rng.below(3600)), "blockReason": "Suspicious international calls",
                    "remediationId": format!("r-{i}"), "userBlockMode": if rng.chance(0.7) { "blocked" } else { "unblocked" },
                    "userDisplayName": name, "userId": uid, "userPrincipalName": upn, "userTelephoneNumber": "+1 425 555 0100"})
            }
            _ => {
                let secs = rng.range(60, 36_000) as i64;
                let charge = rng.range(0, 90_000) as i64;
                t.seconds += secs;
                t.charge_1e4 += charge;
                // A distinct user per row, so that no two rows are identical.
                json!({"userId": format!("{uid}-{i}"), "userPrincipalName": upn, "userDisplayName": name,
                    "usageLocation": "US", "destinationContext": if rng.chance(0.5) { "Domestic" } else { "International" },
                    "currency": "USD", "totalCalls": rng.range(1, 40), "totalCallSeconds": secs,
                    "totalCallCharge": money(charge)})
            }
        }
    }

    /// A full round of pages with `@odata.nextLink` ending in an `@odata.deltaLink`, then an
    /// incremental round: new recordings and, Graph being at-least-once, some repeated.
    fn recordings(&self, rng: &mut Rng, t: &mut SideTruth) -> Vec<Value> {
        let (uid, _, _) = USERS[2];
        let base = format!(
            "https://graph.microsoft.com/v1.0/users({uid})/onlineMeetings/getAllRecordings(meetingOrganizerUserId='{uid}')/delta"
        );
        let recording = |rng: &mut Rng, i: u64| {
            let meeting = format!("MSo{}", guid(rng).replace('-', ""));
            let id = format!("VjIj{}{:06}", guid(rng).replace('-', ""), i);
            let created = rng.below(30 * 86_400);
            json!({"@odata.type": "#microsoft.graph.callRecording", "id": id, "meetingId": meeting,
                "callId": guid(rng), "contentCorrelationId": guid(rng),
                "createdDateTime": time(created), "endDateTime": time(created + rng.range(60, 7200)),
                "recordingContentUrl": format!("https://graph.microsoft.com/v1.0/users/{uid}/onlineMeetings/{meeting}/recordings/{id}/content"),
                "meetingOrganizer": {"application": null, "device": null,
                    "user": {"@odata.type": "#microsoft.graph.teamworkUserIdentity", "id": uid, "displayName": null,
                        "userIdentityType": "aadUser", "tenantId": "a1d286db-6149-4b3d-95ad-23c9e1bf6853"}}})
        };
        let first = self.rows - self.rows / 4;
        let round1: Vec<Value> = (0..first).map(|i| recording(rng, i)).collect();
        let mut round2: Vec<Value> = (first..self.rows).map(|i| recording(rng, i)).collect();
        let repeats = (round1.len() as u64).min(3);
        round2.extend(round1.iter().take(repeats as usize).cloned());
        t.objects = round1.len() as u64 + round2.len() as u64;
        t.rows[SideTable::Recordings.index()] = self.rows;
        t.rows[SideTable::SyncState.index()] = 1;
        let ctx =
            "https://graph.microsoft.com/v1.0/$metadata#Collection(callRecording)".to_string();
        let mut docs = Vec::new();
        for (round, rows) in [round1, round2].into_iter().enumerate() {
            let mut pages = self.pages(rows, &ctx, |skip| {
                format!("{base}?skipToken=round{round}-{skip}")
            });
            let last = pages.last_mut().expect("a round has a page");
            last["@odata.deltaLink"] = Value::String(format!("{base}?deltaToken=round{round}"));
            docs.extend(pages);
        }
        docs
    }

    /// Each operation's `running` response, then the notification that ends it (`completed`
    /// with a recording location and access token, or `failed` with a result); one in five
    /// notifications comes twice.
    fn record_operations(&self, rng: &mut Rng, t: &mut SideTruth) -> Vec<Value> {
        let mut docs = Vec::new();
        for i in 0..self.rows {
            let call = guid(rng).replace('-', "").to_uppercase();
            let op = guid(rng);
            let context = guid(rng);
            docs.push(json!({"@odata.type": "#microsoft.graph.recordOperation", "id": op, "status": "running",
                "completionReason": null, "resultInfo": null, "recordingLocation": null, "clientContext": context}));
            let failed = rng.chance(0.25);
            let mut data = json!({"@odata.type": "#microsoft.graph.recordOperation",
                "@odata.id": format!("/communications/calls/{call}/operations/{op}"), "@odata.etag": format!("W/\"{i}\""),
                "id": op, "clientContext": context});
            if failed {
                let (reason, code, sub) = *[
                    ("initialSilenceTimeout", 400, 8522),
                    ("mediaReceiveTimeout", 500, 8524),
                    ("playBeepFailed", 500, 8510),
                ]
                .get(rng.below(3) as usize)
                .expect("three reasons");
                data["status"] = json!("failed");
                data["completionReason"] = json!(reason);
                data["resultInfo"] = json!({"@odata.type": "#microsoft.graph.resultInfo", "code": code, "subcode": sub, "message": "Action failed"});
                t.failed += 1;
            } else {
                let reason = if rng.chance(0.5) {
                    "stopToneDetected"
                } else {
                    "maxRecordDurationReached"
                };
                data["status"] = json!("completed");
                data["completionReason"] = json!(reason);
                data["recordingLocation"] = json!(format!("https://file.location/{op}"));
                data["recordingAccessToken"] = json!("<access-token>");
            }
            let copies = if rng.chance(0.2) { 2 } else { 1 };
            for _ in 0..copies {
                docs.push(json!({"@odata.type": "#microsoft.graph.commsNotifications", "value": [
                    {"@odata.type": "#microsoft.graph.commsNotification", "changeType": "deleted",
                     "resourceUrl": format!("/communications/calls/{call}/operations/{op}"), "resourceData": data.clone()}]}));
                t.objects += 1;
                t.secrets += u64::from(!failed);
            }
            t.objects += 1;
        }
        t.rows[SideTable::RecordOperations.index()] = self.rows;
        docs
    }

    /// Payloads of up to `page_rows` notifications: each call announced `created`, one in three
    /// `updated` too, and one payload in ten delivered twice.
    fn notifications(&self, rng: &mut Rng, t: &mut SideTruth) -> Vec<Value> {
        let sub = guid(rng);
        let mut items = Vec::new();
        for _ in 0..self.rows {
            let call = guid(rng);
            let mut kinds = vec!["created"];
            if rng.chance(0.33) {
                kinds.push("updated");
            }
            for ct in kinds {
                items.push(json!({"subscriptionId": sub, "clientState": "secretClientValue", "changeType": ct,
                    "resource": format!("communications/callRecords/{call}"),
                    "subscriptionExpirationDateTime": "2024-06-01T00:00:00Z",
                    "resourceData": {"@odata.type": "#microsoft.graph.callrecord",
                        "@odata.id": format!("communications/callRecords/{call}"), "id": call},
                    "tenantId": "dc368399-474c-4d40-900c-6265431fd81f"}));
            }
        }
        t.rows[SideTable::Notifications.index()] = items.len() as u64;
        let mut docs = Vec::new();
        for chunk in items.chunks(self.page_rows as usize) {
            let copies = if rng.chance(0.1) { 2 } else { 1 };
            for _ in 0..copies {
                docs.push(json!({"value": chunk}));
                t.objects += chunk.len() as u64;
                t.secrets += chunk.len() as u64;
            }
        }
        docs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqlake_ingest::decode::{Decoder, Outcome, PageKind, odata_context, page_kind};
    use cqlake_ingest::frame::{FrameKind, Framer};

    #[test]
    fn every_kind_decodes_into_its_table_with_the_counts_the_truth_gives() {
        let g = SideGenerator::new(11, 23).with_page_rows(7);
        for kind in SideKind::ALL {
            let (docs, truth) = g.documents(kind);
            let mut d = Decoder::new();
            let mut framer = Framer::new();
            let (mut made, mut redacted) = (0u64, 0u64);
            let mut page = PageKind::Unknown;
            let mut on = |f: cqlake_ingest::frame::Frame<'_>| {
                if let FrameKind::PageStart { .. } = f.kind {
                    page = page_kind(odata_context(f.bytes).as_deref());
                    return;
                }
                match d.decode(f.bytes, &f.kind, &page) {
                    Outcome::Side { table, redacted: r } => {
                        assert_eq!(table, kind.table());
                        made += 1;
                        redacted += u64::from(r);
                    }
                    Outcome::PageEnd { .. } => page = PageKind::Unknown,
                    other => panic!("{kind:?}: {other:?}"),
                }
            };
            for doc in &docs {
                framer.push(doc.as_bytes(), &mut on);
                framer.push(b"\n", &mut on);
            }
            framer.finish(&mut on);
            assert_eq!(made, truth.objects, "{kind:?}");
            assert_eq!(redacted, truth.secrets, "{kind:?}");
            assert!(truth.rows[kind.table().index()] > 0, "{kind:?}");
            let batch = d.side.finish();
            assert_eq!(batch.rows_of(kind.table()) as u64, made, "{kind:?}");
        }
    }
}
