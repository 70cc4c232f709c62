//! `cqlake pull` against the Graph stand-in (`crates/cqlake-pull/tests/standin/`): the lake it
//! makes equals what `cqlake convert` makes of the same records served as files; a second run
//! over an unchanged window gets no record again; a newer version is got; a record not ready
//! is pending, then got; throttling and a revoked token are survived; a next link to another
//! host stops the run without sending it the token; the secret is never printed.

#[path = "../../cqlake-pull/tests/standin/mod.rs"]
mod standin;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use standin::{CLIENT_ID, SECRET, StandIn, TENANT, now_us, record};

use crate::common::{Moto, convert, lake_content, lake_content_at, query, write};

fn pull(g: &StandIn, lake: &Path, extra: &[&str]) -> Output {
    pull_to(g, &lake.display().to_string(), extra, &[])
}

/// [`pull`] into the lake named `lake` (a directory or a URL), with more environment `env`.
fn pull_to(g: &StandIn, lake: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut args = vec![
        "pull".to_string(),
        "--lake".into(),
        lake.to_string(),
        "--graph-url".into(),
        g.url(),
        "--login-url".into(),
        g.url(),
        "--tenant".into(),
        TENANT.into(),
        "--client-id".into(),
        CLIENT_ID.into(),
        "--kinds".into(),
        "call-records".into(),
        "--json".into(),
        "--threads".into(),
        "2".into(),
    ];
    if extra.contains(&"--kinds") {
        let at = args.iter().position(|a| a == "--kinds").unwrap();
        args.drain(at..at + 2);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    Command::new(env!("CARGO_BIN_EXE_cqlake"))
        .args(&args)
        .env("CQLAKE_CLIENT_SECRET", SECRET)
        .envs(env.iter().copied())
        .output()
        .expect("cqlake runs")
}

fn summary(out: &Output) -> Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}: {stderr} {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON summary ({e}): {stderr}"))
}

/// A record whose first session id is repeated (an auto attendant, then a queue).
fn repeated(id: &str, start: i64) -> Value {
    let mut r = record(id, start, 2, 3, 4);
    let s = r["sessions"].as_array_mut().unwrap();
    let mut again = s[0].clone();
    again["callee"] = json!({"userAgent": {"@odata.type": "#microsoft.graph.callRecords.serviceUserAgent",
        "role": "skypeForBusinessCallQueues"}});
    s.insert(1, again);
    r
}

fn corpus(g: &StandIn) -> Vec<Value> {
    let day = 86_400_000_000i64;
    let base = now_us() - 2 * day;
    let mut all = vec![
        record("big-125", base, 3, 125, 140),
        record("exactly-61", base + 1_000_000, 1, 61, 2),
        repeated("repeated", base + 2_000_000),
    ];
    // Enough calls for two listing pages on one day, and some on the next.
    for i in 0..70 {
        all.push(record(
            &format!("c{i:03}"),
            base + (i % 2) * day + i * 10_000_000,
            1,
            2,
            3,
        ));
    }
    for r in &all {
        g.add(r.clone());
    }
    all
}

fn as_files(dir: &Path, records: &[Value]) -> std::path::PathBuf {
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    write(dir, "records.ndjson", text.as_bytes())
}

#[test]
fn pull_lands_every_record_whole_and_a_second_run_gets_none_again() {
    let g = StandIn::start();
    let records = corpus(&g);
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let out = pull(&g, &lake, &["--days", "3"]);
    let s = summary(&out);
    let n = records.len() as u64;
    assert_eq!(s["pull"]["listed"], n, "{s}");
    assert_eq!(s["pull"]["fetched"], n);
    assert_eq!(s["call_records"], n);
    assert_eq!(s["rejected"], 0);
    // The same records as files, converted: the same lake.
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let f = as_files(&files, &records);
    let other = dir.path().join("converted");
    assert_eq!(convert(&[&f], &other).0, 0);
    assert_eq!(lake_content(&lake), lake_content(&other));
    assert_eq!(
        query(
            &lake,
            "SELECT count(*) FROM sessions WHERE call_id = 'big-125'"
        ),
        [["125"]]
    );
    assert_eq!(
        query(
            &lake,
            "SELECT count(*) FROM participants WHERE call_id = 'big-125'"
        ),
        [["140"]]
    );
    assert_eq!(
        query(
            &lake,
            "SELECT session_occurrence FROM sessions WHERE session_id = 'repeated-s0' ORDER BY 1"
        ),
        [["0"], ["1"]]
    );
    // Nothing secret in what was printed.
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !printed.contains(SECRET) && !printed.contains("tok-"),
        "{printed}"
    );

    // A second run over the unchanged window lists, and gets no record again.
    let gets_before = g.count("/v1.0/communications/callRecords/");
    let s = summary(&pull(&g, &lake, &["--days", "3"]));
    assert_eq!(s["pull"]["fetched"], 0, "{s}");
    assert_eq!(s["pull"]["unchanged"], n);
    assert_eq!(g.count("/v1.0/communications/callRecords/"), gets_before);
    assert_eq!(lake_content(&lake), lake_content(&other));
}

#[test]
fn a_newer_version_is_got_and_a_record_not_ready_waits_for_the_next_run() {
    let g = StandIn::start();
    let start = now_us() - 86_400_000_000;
    g.add(record("a", start, 1, 2, 2));
    g.add(record("late", start + 1_000_000, 1, 2, 2));
    g.state.lock().unwrap().not_ready.insert("late".into(), 1);
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let s = summary(&pull(&g, &lake, &["--days", "2"]));
    assert_eq!(
        (s["pull"]["fetched"].as_u64(), s["pull"]["pending"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(s["pull"]["pending_ids"], json!(["late"]));
    // Graph publishes the late one, and a version 2 of `a` with a third session.
    g.add(record("a", start, 2, 3, 2));
    let s = summary(&pull(&g, &lake, &["--days", "2"]));
    assert_eq!(
        (s["pull"]["fetched"].as_u64(), s["pull"]["pending"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(
        query(&lake, "SELECT call_id, version FROM calls ORDER BY 1"),
        [["a", "2"], ["late", "1"]]
    );
    assert_eq!(
        query(&lake, "SELECT count(*) FROM sessions WHERE call_id = 'a'"),
        [["3"]]
    );
}

#[test]
fn throttling_and_a_revoked_token_are_survived() {
    let g = StandIn::start();
    let records = corpus(&g);
    {
        let mut st = g.state.lock().unwrap();
        st.throttle_every = Some(7);
        st.retry_after = "0.15".into();
        st.fail_503 = vec![3];
        st.revoke_tokens_at = Some(20);
    }
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let s = summary(&pull(&g, &lake, &["--days", "3"]));
    assert_eq!(s["pull"]["fetched"], records.len() as u64, "{s}");
    assert!(s["pull"]["throttled"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(s["pull"]["tokens"], 2);
    assert_eq!(g.state.lock().unwrap().tokens_issued, 2);
}

#[test]
fn a_next_link_to_another_host_stops_the_run_without_the_token() {
    let g = StandIn::start();
    let other = StandIn::start();
    let start = now_us() - 86_400_000_000;
    for i in 0..61 {
        g.add(record(&format!("c{i:02}"), start + i * 1_000_000, 1, 1, 1));
    }
    g.state.lock().unwrap().foreign_next_link = Some(format!(
        "{}/v1.0/communications/callRecords?$skiptoken=60",
        other.url()
    ));
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let out = pull(&g, &lake, &["--days", "3", "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&other.addr.to_string()), "{stderr}");
    assert!(other.log().is_empty(), "the other host was called");
    // The failed run is in the state, with its reason; the window did not advance.
    let (text, st) = status(&lake, &[]);
    assert_eq!(st["runs"][0]["complete"], false, "{st}");
    let error = st["runs"][0]["error"].as_str().unwrap();
    assert!(error.contains(&other.addr.to_string()), "{error}");
    assert!(text.contains("failed"), "{text}");
    assert!(st["windows"].as_object().unwrap().is_empty(), "{st}");
}

#[test]
fn a_wrong_secret_fails_with_the_reason_and_exit_2() {
    let g = StandIn::start();
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let mut args: Vec<String> = [
        "pull",
        "--lake",
        &lake.display().to_string(),
        "--graph-url",
        &g.url(),
        "--login-url",
        &g.url(),
        "--tenant",
        TENANT,
        "--client-id",
        CLIENT_ID,
        "--kinds",
        "call-records",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push("--quiet".into());
    let out = Command::new(env!("CARGO_BIN_EXE_cqlake"))
        .args(&args)
        .env("CQLAKE_CLIENT_SECRET", "not-the-secret-42")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("AADSTS7000215"), "{stderr}");
    assert!(!stderr.contains("not-the-secret-42"), "{stderr}");
}

#[test]
fn pstn_and_direct_routing_logs_are_pulled_in_90_day_pieces() {
    let g = StandIn::start();
    let day = 86_400_000_000i64;
    let now = now_us();
    {
        let mut st = g.state.lock().unwrap();
        // 1,500 PSTN calls over the last 100 days (two pieces, two pages in the first), and 10
        // direct-routing calls.
        st.pstn = (0..1_500)
            .map(|i| standin::pstn_row(&format!("p{i}"), now - 100 * day + i * 5_000_000_000, "u1"))
            .collect();
        st.direct_routing = (0..10)
            .map(|i| standin::direct_row(&format!("d{i}"), now - 95 * day + i * day))
            .collect();
    }
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let out = pull(
        &g,
        &lake,
        &["--days", "120", "--kinds", "pstn,direct-routing"],
    );
    let s = summary(&out);
    assert_eq!(s["pull"]["logs"]["getPstnCalls"]["rows"], 1_500, "{s}");
    assert_eq!(
        s["pull"]["logs"]["getDirectRoutingCalls"]["rows"], 10,
        "{s}"
    );
    assert_eq!(s["rejected"], 0);
    assert_eq!(query(&lake, "SELECT count(*) FROM pstn_calls"), [["1500"]]);
    assert_eq!(
        query(&lake, "SELECT count(*) FROM direct_routing_calls"),
        [["10"]]
    );
    // No request asked for more than 90 days (the stand-in answers 406 to those).
    assert!(g.log().iter().all(|r| r.status != 406));
    assert!(g.count("/v1.0/communications/callRecords/getPstnCalls(") >= 3);
    // Again: the rows merge by id, nothing doubles.
    summary(&pull(
        &g,
        &lake,
        &["--days", "120", "--kinds", "pstn,direct-routing"],
    ));
    assert_eq!(query(&lake, "SELECT count(*) FROM pstn_calls"), [["1500"]]);
}

#[test]
fn the_archive_rebuilds_the_same_lake() {
    let g = StandIn::start();
    corpus(&g);
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let archive = dir.path().join("archive");
    let archive_arg = archive.display().to_string();
    let s = summary(&pull(
        &g,
        &lake,
        &["--days", "3", "--archive", &archive_arg],
    ));
    assert_eq!(s["rejected"], 0, "{s}");
    let files: Vec<_> = std::fs::read_dir(&archive)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with(".ndjson.gz"), "{files:?}");
    // Nothing secret in the archive.
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::MultiGzDecoder::new(
            std::fs::File::open(archive.join(&files[0])).unwrap(),
        ),
        &mut text,
    )
    .unwrap();
    assert!(!text.contains(SECRET) && !text.contains("tok-"));
    let rebuilt = dir.path().join("rebuilt");
    let (code, s) = convert(&[&archive], &rebuilt);
    assert_eq!(code, 0, "{s}");
    let (mut a, mut b) = (lake_content(&rebuilt), lake_content(&lake));
    // Participants of a follow-up page are numbered within their page (`participant_index`),
    // those of a record pulled whole within the whole list: compare them without it.
    for c in [&mut a, &mut b] {
        let parts = &mut c[1];
        for row in parts.iter_mut() {
            row.remove(3);
        }
        parts.sort();
    }
    for (t, (ta, tb)) in crate::common::tables().zip(a.iter().zip(&b)) {
        assert_eq!(ta.len(), tb.len(), "{t}: rows");
        for (ra, rb) in ta.iter().zip(tb) {
            let diff: Vec<_> = (0..ra.len())
                .filter(|&i| ra[i] != rb[i])
                .map(|i| (i, &ra[i], &rb[i]))
                .collect();
            assert!(diff.is_empty(), "{t}: {} {:?}", ra[0], diff);
        }
    }
}

fn status(lake: &Path, extra: &[&str]) -> (String, Value) {
    let run = |json: bool| {
        let mut args = vec!["pull", "--status", "--lake"];
        let l = lake.display().to_string();
        args.push(&l);
        args.extend(extra);
        if json {
            args.push("--json");
        }
        let out = Command::new(env!("CARGO_BIN_EXE_cqlake"))
            .args(&args)
            .env_remove("CQLAKE_TENANT_ID")
            .env_remove("CQLAKE_CLIENT_ID")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let text = run(false);
    let json = serde_json::from_str(&run(true)).unwrap();
    (text, json)
}

fn gets_of(g: &StandIn, id: &str) -> usize {
    g.count(&format!("/v1.0/communications/callRecords/{id}"))
}

#[test]
fn a_pending_record_is_asked_for_by_id_then_given_up_past_30_days() {
    let g = StandIn::start();
    let day = 86_400_000_000i64;
    let now = now_us();
    g.add(record("late", now - day, 1, 2, 2));
    g.add(record("never", now - day + 1_000_000, 1, 2, 2));
    {
        let mut st = g.state.lock().unwrap();
        st.not_ready.insert("late".into(), 1);
        st.not_ready.insert("never".into(), 1_000);
    }
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let s = summary(&pull(&g, &lake, &["--days", "2"]));
    assert_eq!(s["pull"]["pending_ids"], json!(["late", "never"]), "{s}");
    let (text, st) = status(&lake, &[]);
    assert_eq!(st["pending"].as_array().unwrap().len(), 2, "{st}");
    assert!(text.contains("pending call records: 2"), "{text}");
    assert!(text.contains("late"), "{text}");

    // The next run's window (today only) does not list them: they are asked for by id.
    let today = cqlake_schema::calendar::format_date(now.div_euclid(day));
    let s = summary(&pull(&g, &lake, &["--from", &today, "--to", &today]));
    assert_eq!(s["pull"]["listed"], 0, "{s}");
    assert_eq!(s["pull"]["retried"], 2, "{s}");
    assert_eq!(s["pull"]["fetched"], 1, "{s}");
    assert_eq!(s["pull"]["pending_ids"], json!(["never"]), "{s}");
    assert_eq!(
        query(&lake, "SELECT call_id FROM calls ORDER BY 1"),
        [["late"]]
    );
    assert_eq!(
        query(
            &lake,
            "SELECT key, status, attempts FROM pull_state WHERE kind = 'record' ORDER BY 1"
        ),
        [["late", "fetched", "2"], ["never", "pending", "2"]]
    );

    // 31 days on, `never` is past Graph's 30 days: given up, and not asked for again.
    let later = cqlake_schema::calendar::format_timestamp_us(now + 31 * day);
    let asked = gets_of(&g, "never");
    let s = summary(&pull(&g, &lake, &["--days", "1", "--now", &later]));
    assert_eq!(s["pull"]["given_up_ids"], json!(["never"]), "{s}");
    assert_eq!(s["pull"]["pending_ids"], json!([]), "{s}");
    assert_eq!(gets_of(&g, "never"), asked);
    let (text, st) = status(&lake, &["--now", &later]);
    assert_eq!(st["given_up"], 1, "{st}");
    assert_eq!(st["pending"], json!([]));
    assert_eq!(st["runs"].as_array().unwrap().len(), 3);
    assert!(text.contains("given up so far: 1"), "{text}");
}

#[test]
fn a_run_without_a_window_starts_three_days_before_the_last_ones_end() {
    let g = StandIn::start();
    let day = 86_400_000_000i64;
    let t0 = (now_us() / 1_000_000) * 1_000_000;
    let ts = cqlake_schema::calendar::format_timestamp_us;
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let s = summary(&pull(&g, &lake, &["--now", &ts(t0)]));
    assert_eq!(
        s["pull"]["window"],
        json!([ts(t0 - 30 * day), ts(t0)]),
        "{s}"
    );
    let s = summary(&pull(&g, &lake, &["--now", &ts(t0 + day)]));
    assert_eq!(
        s["pull"]["window"],
        json!([ts(t0 - 3 * day), ts(t0 + day)]),
        "{s}"
    );
    // An explicit older window does not move the next start back.
    summary(&pull(
        &g,
        &lake,
        &["--days", "10", "--now", &ts(t0 - 5 * day)],
    ));
    let (text, st) = status(&lake, &["--now", &ts(t0 + 2 * day)]);
    assert_eq!(
        st["windows"]["call-records"]["next_from"],
        ts(t0 - 2 * day),
        "{st}"
    );
    assert!(
        text.contains(&format!(
            "call-records: pulled up to {}; the next run starts at {}",
            ts(t0 + day),
            ts(t0 - 2 * day)
        )),
        "{text}"
    );
    // Every listing request of the second run asked for days from its window only.
    assert!(
        g.log()
            .iter()
            .filter(|r| r.path == "/v1.0/communications/callRecords")
            .all(|r| r.query.contains("startDateTime"))
    );
}

#[test]
fn recordings_resume_from_the_delta_link_and_start_over_when_it_expired() {
    let g = StandIn::start();
    let now = now_us();
    let hour = 3_600_000_000i64;
    {
        let mut st = g.state.lock().unwrap();
        st.recordings.insert(
            "org-1".into(),
            (0..3)
                .map(|i| standin::recording(&format!("r1-{i}"), "org-1", now - (10 - i) * hour))
                .collect(),
        );
        st.recordings.insert(
            "org-2".into(),
            vec![standin::recording("r2-0", "org-2", now - 5 * hour)],
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let orgs = write(
        dir.path(),
        "organizers.txt",
        b"# who\norg-1\n\norg-2  # sales\n",
    );
    let orgs = orgs.display().to_string();
    let args = [
        "--kinds",
        "recordings",
        "--recordings-organizers",
        &orgs,
        "--days",
        "2",
    ];
    let s = summary(&pull(&g, &lake, &args));
    assert_eq!(s["pull"]["recordings"]["org-1"]["recordings"], 3, "{s}");
    assert_eq!(s["pull"]["recordings"]["org-1"]["pages"], 2, "{s}");
    assert_eq!(s["pull"]["recordings"]["org-2"]["recordings"], 1, "{s}");
    assert_eq!(s["rejected"], 0);
    assert_eq!(query(&lake, "SELECT count(*) FROM recordings"), [["4"]]);
    assert_eq!(
        query(
            &lake,
            "SELECT organizer_user_id, round_complete FROM sync_state ORDER BY 1"
        ),
        [["org-1", "true"], ["org-2", "true"]]
    );

    // Two more recordings: the next run resumes from the delta link and reads only those.
    {
        let mut st = g.state.lock().unwrap();
        let r = st.recordings.get_mut("org-1").unwrap();
        r.push(standin::recording("r1-3", "org-1", now - hour));
        r.push(standin::recording("r1-4", "org-1", now));
    }
    let fresh = |g: &StandIn| {
        g.log()
            .iter()
            .filter(|r| r.path.starts_with("/v1.0/users/org-1/") && r.query.is_empty())
            .count()
    };
    let s = summary(&pull(&g, &lake, &args));
    assert_eq!(s["pull"]["recordings"]["org-1"]["recordings"], 2, "{s}");
    assert_eq!(s["pull"]["recordings"]["org-1"]["restarted"], false);
    assert_eq!(s["pull"]["recordings"]["org-2"]["recordings"], 0, "{s}");
    assert_eq!(fresh(&g), 1, "one full round only");
    assert!(g.log().iter().any(|r| r.query == "deltaToken=3"));
    assert_eq!(query(&lake, "SELECT count(*) FROM recordings"), [["6"]]);

    // The sync state expired (410 syncStateNotFound): a full round, no recording doubled.
    g.state.lock().unwrap().delta_expired = true;
    let s = summary(&pull(&g, &lake, &args));
    assert_eq!(s["pull"]["recordings"]["org-1"]["restarted"], true, "{s}");
    assert_eq!(s["pull"]["recordings"]["org-1"]["recordings"], 5, "{s}");
    assert_eq!(fresh(&g), 2);
    assert!(g.log().iter().any(|r| r.status == 410));
    assert_eq!(query(&lake, "SELECT count(*) FROM recordings"), [["6"]]);
    let (text, _) = status(&lake, &[]);
    assert!(
        text.contains("recordings of org-1: round complete"),
        "{text}"
    );

    // Without the organizers file, recordings are refused with the reason.
    let out = pull(&g, &lake, &["--kinds", "recordings"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--recordings-organizers"));
}

#[test]
fn the_beta_logs_are_pulled_from_beta() {
    let g = StandIn::start();
    let now = now_us();
    let t = cqlake_schema::calendar::format_timestamp_us;
    {
        let mut st = g.state.lock().unwrap();
        st.sms = (0..3)
            .map(|i| json!({"id": format!("sms{i}"), "smsId": format!("x{i}"), "userId": "u1",
                "sentDateTime": t(now - (i + 1) * 3_600_000_000), "smsType": "outbound", "smsUnits": 1,
                "sourceNumber": "+14255550100", "destinationNumber": "+14255550101",
                "callCharge": 0.01, "currency": "USD"}))
            .collect();
        st.blocked_users = (0..2)
            .map(|i| json!({"userId": format!("u{i}"), "userPrincipalName": format!("u{i}@contoso.com"),
                "blockDateTime": t(now - 7_200_000_000), "blockReason": "fraud", "userBlockMode": "blocked"}))
            .collect();
        st.dialout = vec![
            json!({"userId": "u1", "usageLocation": "US", "destinationContext": "Domestic", "currency": "USD",
                "totalCalls": 3, "totalCallSeconds": 120, "totalCallCharge": 0.3}),
            json!({"userId": "u2", "usageLocation": "DE", "destinationContext": "International", "currency": "EUR",
                "totalCalls": 1, "totalCallSeconds": 60, "totalCallCharge": 0.2}),
        ];
    }
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let s = summary(&pull(
        &g,
        &lake,
        &["--days", "2", "--kinds", "sms,blocked-users,dialout"],
    ));
    assert_eq!(s["pull"]["logs"]["getSmsLog"]["rows"], 3, "{s}");
    assert_eq!(s["rejected"], 0, "{s}");
    assert_eq!(query(&lake, "SELECT count(*) FROM sms_logs"), [["3"]]);
    assert_eq!(
        query(&lake, "SELECT count(*) FROM pstn_blocked_users"),
        [["2"]]
    );
    assert_eq!(
        query(&lake, "SELECT count(*) FROM pstn_dialout_report"),
        [["2"]]
    );
    assert!(g.count("/beta/communications/callRecords/getSmsLog(") >= 1);
    assert_eq!(g.count("/v1.0/communications/callRecords/getSmsLog("), 0);
}

/// The figures of a pull of 5,000 calls over five days from the stand-in with throttling on
/// (every 25th request answers 429 with `Retry-After: 0.5`), at the default client rate limits,
/// then of a second run over the same window. A measurement, not a timed test: it checks that
/// every record landed and that the second run got none, and prints requests and seconds.
/// `cargo test -p cqlake-cli --features crash-points --test tests -- --ignored --nocapture pull::measure`
#[test]
#[ignore]
#[allow(clippy::print_stdout)] // a measurement: its figures are its output
fn measure_a_window_of_5000_calls_with_throttling() {
    let g = StandIn::start();
    let day = 86_400_000_000i64;
    let base = now_us() - 5 * day;
    for i in 0..5_000i64 {
        // Most calls are small; every 100th is a meeting with 75 sessions and 150 participants.
        let (sessions, people) = if i % 100 == 0 { (75, 150) } else { (3, 4) };
        g.add(record(
            &format!("m{i:05}"),
            base + i * (5 * day / 5_000),
            1,
            sessions,
            people,
        ));
    }
    {
        let mut st = g.state.lock().unwrap();
        st.throttle_every = Some(25);
        st.retry_after = "0.5".into();
    }
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    for run in 1..=2 {
        let before = g.log().len();
        let started = std::time::Instant::now();
        let s = summary(&pull(&g, &lake, &["--days", "6"]));
        let secs = started.elapsed().as_secs_f64();
        let p = &s["pull"];
        println!(
            "run {run}: {secs:.1} s; listed {}, fetched {}, unchanged {}; requests {} (stand-in saw {}), throttled {}, retries {}, waited {} s; call records converted {}",
            p["listed"],
            p["fetched"],
            p["unchanged"],
            p["requests"],
            g.log().len() - before,
            p["throttled"],
            p["retries"],
            p["waited_seconds"],
            s["call_records"]
        );
        if run == 1 {
            assert_eq!(p["fetched"], 5_000);
        } else {
            assert_eq!(p["fetched"], 0);
        }
    }
    assert_eq!(query(&lake, "SELECT count(*) FROM calls"), [["5000"]]);
}

#[test]
fn pull_into_a_lake_on_s3_lands_what_a_local_pull_lands_and_keeps_its_state_there() {
    let g = StandIn::start();
    corpus(&g);
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let env = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "cqlake-test"),
        ("AWS_SECRET_ACCESS_KEY", "s3-secret-of-the-test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("local");
    let s = summary(&pull(&g, &local, &["--days", "3"]));
    let n = s["pull"]["fetched"].as_u64().unwrap();
    assert!(n > 0, "{s}");

    let url = "s3://lakes/pulled";
    let out = pull_to(&g, url, &["--days", "3"], &env);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!printed.contains("s3-secret-of-the-test"), "{printed}");
    assert_eq!(summary(&out)["pull"]["fetched"], n);
    // The pull state is in the bucket: a second run gets nothing again.
    let again = summary(&pull_to(&g, url, &["--days", "3"], &env));
    assert_eq!(again["pull"]["fetched"], 0, "{again}");
    assert_eq!(again["pull"]["unchanged"], n);
    assert!(!Path::new("s3:").exists());

    // The same rows as the local pull's, read back in this process.
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3-secret-of-the-test").unwrap();
    let mut lake = cqlake_lake::LakeLocation::parse(url).unwrap();
    for o in [
        format!("aws_endpoint={endpoint}"),
        "aws_allow_http=true".into(),
        "aws_access_key_id=cqlake-test".into(),
        format!("aws_secret_access_key=@{}", secret.display()),
        "aws_region=us-east-1".into(),
    ] {
        lake = lake.with_option(&o).unwrap();
    }
    assert_eq!(lake_content_at(&lake), lake_content(&local));
}

#[test]
fn a_pseudonymised_pull_stores_tokens_and_resumes_recordings_with_the_organizers_id() {
    const KEY: &str = "a pseudonym key for the pull test, 40 bytes";
    let g = StandIn::start();
    corpus(&g);
    let now = now_us();
    let hour = 3_600_000_000i64;
    g.state.lock().unwrap().recordings.insert(
        "org-1".into(),
        (0..3)
            .map(|i| standin::recording(&format!("r1-{i}"), "org-1", now - (10 - i) * hour))
            .collect(),
    );
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let orgs = write(dir.path(), "organizers.txt", b"org-1\n");
    let orgs = orgs.display().to_string();
    let args = [
        "--kinds",
        "call-records,recordings",
        "--recordings-organizers",
        &orgs,
        "--days",
        "3",
        "--pseudonymise",
    ];
    let key = [("CQLAKE_PSEUDONYM_KEY", KEY)];
    let l = lake.display().to_string();
    let s = summary(&pull_to(&g, &l, &args, &key));
    assert_eq!(s["pull"]["recordings"]["org-1"]["recordings"], 3, "{s}");
    // Tokens where the people were: the organizer, the participants, the callers.
    assert_eq!(
        query(
            &lake,
            "SELECT count(*) FROM participants WHERE NOT starts_with(identity_user_id, 'psn_') \
             OR NOT starts_with(identity_user_display_name, 'psn_')"
        ),
        [["0"]]
    );
    assert_eq!(
        query(
            &lake,
            "SELECT count(*) FROM sessions WHERE caller_identity_user_id IN ('u0', 'u1')"
        ),
        [["0"]]
    );
    let sync = query(
        &lake,
        "SELECT organizer_user_id, resume_link FROM sync_state",
    );
    assert_eq!(sync.len(), 1, "{sync:?}");
    assert!(sync[0][0].starts_with("psn_"), "{sync:?}");
    assert!(
        !sync[0][1].contains("org-1") && sync[0][1].contains(&sync[0][0]),
        "{sync:?}"
    );
    // The next run resumes from the stored delta link, with the organizer's id put back.
    g.state
        .lock()
        .unwrap()
        .recordings
        .get_mut("org-1")
        .unwrap()
        .push(standin::recording("r1-3", "org-1", now - hour));
    let s = summary(&pull_to(&g, &l, &args, &key));
    assert_eq!(s["pull"]["recordings"]["org-1"]["recordings"], 1, "{s}");
    assert_eq!(s["pull"]["recordings"]["org-1"]["restarted"], false, "{s}");
    let full_rounds = g
        .log()
        .iter()
        .filter(|r| r.path.starts_with("/v1.0/users/org-1/") && r.query.is_empty())
        .count();
    assert_eq!(full_rounds, 1, "the second run resumed");
    assert!(
        g.log()
            .iter()
            .any(|r| r.path.starts_with("/v1.0/users/org-1/") && r.query.starts_with("deltaToken"))
    );
    assert!(
        !g.log().iter().any(|r| r.path.contains("psn_")),
        "no token was sent to Graph"
    );
    // Without the key, the lake refuses the pull.
    let out = pull_to(&g, &l, &args[..6], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is pseudonymised"));
}

#[test]
fn forget_also_erases_the_person_from_a_pull_archive_kept_in_the_lake() {
    let g = StandIn::start();
    corpus(&g);
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let archive = lake.join("_archive");
    let a = archive.display().to_string();
    summary(&pull(&g, &lake, &["--days", "3", "--archive", &a]));
    let answers = || -> Vec<Value> {
        use std::io::BufRead;
        let mut out = Vec::new();
        for e in std::fs::read_dir(&archive).unwrap().flatten() {
            let f = std::fs::File::open(e.path()).unwrap();
            let r = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(f));
            out.extend(
                r.lines()
                    .map(|l| serde_json::from_str(&l.unwrap()).unwrap()),
            );
        }
        out
    };
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
            Value::Object(m) => m.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    let all = |answers: &[Value]| {
        let mut out = Vec::new();
        answers.iter().for_each(|v| strings(v, &mut out));
        out
    };
    let before = all(&answers());
    assert!(before.iter().any(|s| s == "u1") && before.iter().any(|s| s == "User 1"));
    let out = Command::new(env!("CARGO_BIN_EXE_cqlake"))
        .args([
            "forget",
            "--lake",
            &lake.display().to_string(),
            "--user",
            "u1",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(s["archive_lines"].as_u64().unwrap() > 0, "{s}");
    let after = all(&answers());
    assert!(
        !after.iter().any(|s| s == "u1" || s == "User 1"),
        "u1 is still archived"
    );
    // Everyone else is still there, and the lake lost u1 too.
    assert!(after.iter().any(|s| s == "u0") && after.iter().any(|s| s == "User 0"));
    assert!(after.iter().any(|s| s == "big-125"));
    assert_eq!(
        query(
            &lake,
            "SELECT count(*) FROM sessions WHERE caller_identity_user_id = 'u1' OR caller_identity_user_display_name = 'User 1'"
        ),
        [["0"]]
    );
    assert_ne!(
        query(
            &lake,
            "SELECT count(*) FROM sessions WHERE caller_identity_user_id = 'u0'"
        ),
        [["0"]]
    );
}
