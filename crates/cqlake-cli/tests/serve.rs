//! `cqlake serve`'s API from outside: a report's rows equal `cqlake report NAME --format json`
//! byte for byte; the quality view's daily rows equal the `daily` report's; the other views and
//! their filters answer what SQL over the lake answers; errors are JSON with a status; a convert that ends while it runs is seen by the next request; binding beyond
//! loopback needs the password, which is never printed; with `--cluster`, the rollups and the
//! reports computed by a cluster's executors answer as locally. (The page itself is tested in
//! a real browser by `tests/browser/`.)

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::common::{convert, cqlake, csv, sample};

/// A running `cqlake serve`, killed when dropped.
struct Serve {
    child: Child,
    url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(lake: &Path, extra: &[&str], password: Option<&str>) -> Serve {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cqlake"));
    cmd.args([
        "serve",
        "--lake",
        &lake.display().to_string(),
        "--port",
        "0",
    ])
    .args(extra)
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .env_remove("CQLAKE_SERVE_PASSWORD");
    if let Some(p) = password {
        cmd.env("CQLAKE_SERVE_PASSWORD", p);
    }
    let mut child = cmd.spawn().expect("cqlake serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_string();
    Serve { child, url }
}

/// GETs `url` (with `auth` as basic credentials): status, headers, body.
fn get(url: &str, auth: Option<(&str, &str)>) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut r = reqwest::Client::new().get(url);
        if let Some((u, p)) = auth {
            r = r.basic_auth(u, Some(p));
        }
        let a = r.send().await.unwrap();
        let status = a.status().as_u16();
        let headers = a.headers().clone();
        (status, headers, a.bytes().await.unwrap().to_vec())
    })
}

fn json(url: &str) -> Value {
    let (status, _, body) = get(url, None);
    assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

fn sample_lake(dir: &Path) -> std::path::PathBuf {
    let lake = dir.join("lake");
    let inputs = [sample("generated"), sample("graph-docs"), sample("logs")];
    let inputs: Vec<&Path> = inputs.iter().map(|p| p.as_path()).collect();
    assert_eq!(convert(&inputs, &lake).0, 0);
    lake
}

#[test]
fn every_report_answers_what_the_cli_prints() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path());
    let buildings =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sql/tests/sample-buildings.csv");
    let b = buildings.display().to_string();
    let s = serve(&lake, &["--buildings", &b, "--rules", "cqd-2021"], None);
    let listed = json(&format!("{}/api/reports", s.url));
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    let cli = String::from_utf8(cqlake(&["report", "--list"]).stdout).unwrap();
    let cli_names: Vec<&str> = cli
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, cli_names);
    assert!(
        listed[0]["description"].as_str().unwrap().len() > 20,
        "{listed}"
    );
    let l = lake.display().to_string();
    for name in &names {
        for (query, args) in [
            ("", vec!["--rules", "cqd-2021"]),
            (
                "?from=2024-05-02&to=2024-05-20&rules=cqd-classic",
                vec![
                    "--from",
                    "2024-05-02",
                    "--to",
                    "2024-05-20",
                    "--rules",
                    "cqd-classic",
                ],
            ),
        ] {
            let (status, headers, body) =
                get(&format!("{}/api/reports/{name}{query}", s.url), None);
            assert_eq!(status, 200, "{name}: {}", String::from_utf8_lossy(&body));
            assert_eq!(headers["content-type"], "application/json");
            let mut cli_args = vec![
                "report",
                name,
                "--lake",
                &l,
                "--format",
                "json",
                "--buildings",
                &b,
            ];
            cli_args.extend(args);
            let out = cqlake(&cli_args);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&body),
                String::from_utf8_lossy(&out.stdout),
                "{name}{query}"
            );
        }
    }
}

#[test]
fn the_quality_view_by_day_is_the_daily_report() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path());
    let s = serve(&lake, &[], None);
    let view = json(&format!("{}/api/views/quality?grain=day", s.url));
    assert_eq!(
        view["columns"],
        serde_json::json!([
            "period",
            "media_kind",
            "good",
            "poor",
            "unclassified",
            "poor_rate"
        ])
    );
    assert!(view["sql"].as_str().unwrap().contains("stream_rollup"));
    assert_eq!(view["filters"], "all calls, rules cqd-classic");
    let daily = json(&format!("{}/api/reports/daily", s.url));
    let mut from_view: Vec<Value> = view["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| ["audio", "video", "vbss"].contains(&r["media_kind"].as_str().unwrap()))
        .map(|r| {
            serde_json::json!([
                r["period"],
                r["media_kind"],
                r["good"],
                r["poor"],
                r["unclassified"],
                r["poor_rate"]
            ])
        })
        .collect();
    let mut from_report: Vec<Value> = daily
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            serde_json::json!([
                r["day"],
                r["media_kind"],
                r["good"],
                r["poor"],
                r["unclassified"],
                r["poor_rate"]
            ])
        })
        .collect();
    from_view.sort_by_key(|v| v.to_string());
    from_report.sort_by_key(|v| v.to_string());
    assert!(!from_view.is_empty());
    assert_eq!(from_view, from_report);
    // A media kind and a call narrow the rows; the filters are said in words.
    let audio = json(&format!("{}/api/views/quality?kind=audio&grain=day", s.url));
    assert!(
        audio["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["media_kind"] == "audio")
    );
    assert_eq!(
        audio["filters"],
        "all calls, audio streams, rules cqd-classic"
    );
    let views = json(&format!("{}/api/views", s.url));
    assert_eq!(views[0]["name"], "quality");
}

/// `cqlake sql QUERY` over `lake` (with the sample building file) as CSV rows.
fn sql_rows(lake: &Path, query: &str) -> Vec<Vec<String>> {
    let b = buildings().display().to_string();
    crate::common::csv(lake, &["sql", query, "--buildings", &b])
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn buildings() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sql/tests/sample-buildings.csv")
}

/// A view's rows, as `columns` of each row in text (numbers as JSON writes them).
fn view_rows(url: &str, columns: &[&str]) -> Vec<Vec<String>> {
    let v = json(url);
    let mut rows: Vec<Vec<String>> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            columns
                .iter()
                .map(|c| match &r[*c] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn the_views_and_their_filters_answer_what_sql_answers() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path());
    let b = buildings().display().to_string();
    let s = serve(&lake, &["--buildings", &b], None);
    // Every view answers, unfiltered and under every filter at once.
    let views = json(&format!("{}/api/views", s.url));
    let all = "from=2024-01-01&to=2030-12-31&kind=audio&building=Paris%20Office&network=wired\
        &client=windows&by=platform&find=a&grain=day&rules=cqd-2021";
    for v in views.as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        for query in ["", all] {
            let got = json(&format!("{}/api/views/{name}?{query}", s.url));
            assert_eq!(got["view"], name);
            assert!(got["rows"].is_array(), "{name}?{query}");
        }
    }
    // The breakdown by connection type is the count over stream_sides.
    let mut by_sql = sql_rows(
        &lake,
        "SELECT coalesce(rx_connection_type, '(unknown)'), \
            sum(CASE WHEN classification = 'good' THEN 1 ELSE 0 END), \
            sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) \
         FROM stream_sides WHERE media_kind = 'audio' AND classification <> 'unclassified' \
         GROUP BY 1",
    );
    by_sql.sort();
    let by_view = view_rows(
        &format!(
            "{}/api/views/breakdown?by=connection_type&kind=audio",
            s.url
        ),
        &["connection_type", "good", "poor"],
    );
    assert!(by_view.len() >= 2, "{by_view:?}");
    assert_eq!(by_view, by_sql);
    // A building narrows the quality trend to the streams the buildings report counts there.
    let report = csv(&lake, &["report", "buildings", "--buildings", &b]);
    let munich = report
        .lines()
        .find(|l| l.starts_with("Munich Office,"))
        .expect("Munich in the buildings report");
    let cells: Vec<&str> = munich.split(',').collect();
    let (streams, poor): (i64, i64) = (cells[5].parse().unwrap(), cells[6].parse().unwrap());
    let trend = json(&format!(
        "{}/api/views/quality?kind=audio&building=Munich%20Office",
        s.url
    ));
    let sum = |c: &str| -> i64 {
        trend["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[c].as_i64().unwrap())
            .sum()
    };
    assert_eq!((sum("good") + sum("poor"), sum("poor")), (streams, poor));
    assert!(poor > 0);
    // The subnets of a building are the ones the building file places there.
    let subnets = view_rows(
        &format!("{}/api/views/poor-subnets?building=Paris%20Office", s.url),
        &["subnet"],
    );
    assert!(!subnets.is_empty());
    assert!(
        subnets.iter().all(|r| r[0].starts_with("10.37.")),
        "{subnets:?}"
    );
    // A user narrows the calls to the ones they took part in (as the sessions say).
    let users = json(&format!("{}/api/views/poor-users", s.url));
    let user = users["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["user_id"].as_str().unwrap())
        .find(|u| *u != "(no user)")
        .expect("a user with streams")
        .to_string();
    let theirs: std::collections::BTreeSet<String> = sql_rows(
        &lake,
        &format!(
            "SELECT DISTINCT call_id FROM sessions \
             WHERE caller_identity_user_id = '{user}' OR callee_identity_user_id = '{user}'"
        ),
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect();
    let calls = |q: &str| -> std::collections::BTreeSet<String> {
        view_rows(&format!("{}/api/views/user-calls{q}", s.url), &["call_id"])
            .into_iter()
            .map(|r| r[0].clone())
            .collect()
    };
    let (every, of_user) = (calls(""), calls(&format!("?user={user}")));
    assert!(!of_user.is_empty());
    assert!(of_user.is_subset(&theirs), "{of_user:?} not in {theirs:?}");
    assert!(of_user.len() < every.len());
    // On a user's page, the breakdowns count the streams of their own sessions (sent or
    // received), as the same count over stream_sides does.
    let mut by_sql = sql_rows(
        &lake,
        &format!(
            "SELECT coalesce(rx_connection_type, '(unknown)'), \
                sum(CASE WHEN classification = 'good' THEN 1 ELSE 0 END), \
                sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) \
             FROM stream_sides WHERE classification <> 'unclassified' \
                AND (session_caller_identity_user_id = '{user}' \
                    OR session_callee_identity_user_id = '{user}') \
             GROUP BY 1"
        ),
    );
    by_sql.sort();
    let by_view = view_rows(
        &format!(
            "{}/api/views/breakdown?by=connection_type&user={user}",
            s.url
        ),
        &["connection_type", "good", "poor"],
    );
    assert!(!by_view.is_empty());
    assert_eq!(by_view, by_sql);
    // A call narrows its streams to that call.
    let call = of_user.iter().next().unwrap();
    let streams = json(&format!("{}/api/views/call-streams?call={call}", s.url));
    let n = sql_rows(
        &lake,
        &format!("SELECT count(*) FROM stream_sides WHERE call_id = '{call}'"),
    )[0][0]
        .parse::<usize>()
        .unwrap();
    assert_eq!(streams["rows"].as_array().unwrap().len(), n);
    // A view says which filters it cannot apply.
    let reliability = json(&format!(
        "{}/api/views/reliability?building=Paris%20Office",
        s.url
    ));
    assert_eq!(reliability["unused"], serde_json::json!(["building"]));
}

/// What the rollup views answer: the audio breakdown by platform, the audio trend by day, the
/// reliability trend by day and the measured poor rate of rated sessions.
#[derive(Debug, PartialEq)]
struct Rolled {
    platforms: Vec<Vec<String>>,
    days: Vec<Vec<String>>,
    reliability: Vec<Vec<String>>,
    rated: Vec<Vec<String>>,
    users: Vec<Vec<String>>,
}

/// The rollup views as the server answers them, and the server's use of its rollups.
fn rollup_views(s: &Serve) -> (Rolled, Vec<Value>) {
    let mut used = Vec::new();
    let mut rows = |path: &str, columns: &[&str]| {
        let url = format!("{}/api/views/{path}", s.url);
        used.push(json(&url)["rollup"].clone());
        view_rows(&url, columns)
    };
    let rolled = Rolled {
        platforms: rows(
            "breakdown?by=platform&kind=audio",
            &["platform", "good", "poor"],
        ),
        days: rows(
            "quality?kind=audio&grain=day",
            &["period", "good", "poor", "unclassified"],
        ),
        reliability: rows(
            "reliability?grain=day",
            &["period", "sessions", "setup_failures", "drops"],
        ),
        rated: rows(
            "feedback-measured",
            &["rating", "sessions", "streams", "poor"],
        ),
        users: rows(
            "poor-users?kind=audio",
            &["user_id", "display_name", "good", "poor", "due_to_jitter"],
        ),
    };
    (rolled, used)
}

/// The same as SQL over the raw tables and `stream_sides` answers them.
fn rollup_views_by_sql(lake: &Path) -> Rolled {
    let counts = "sum(CASE WHEN classification = 'good' THEN 1 ELSE 0 END), \
        sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END)";
    let sorted = |query: &str| {
        let mut rows = sql_rows(lake, query);
        rows.sort();
        rows
    };
    Rolled {
        platforms: sorted(&format!(
            "SELECT coalesce(rx_platform, '(unknown)'), {counts} FROM stream_sides \
             WHERE media_kind = 'audio' AND classification <> 'unclassified' GROUP BY 1"
        )),
        days: sorted(&format!(
            "SELECT CAST(call_start_date AS VARCHAR), {counts}, \
                sum(CASE WHEN classification = 'unclassified' THEN 1 ELSE 0 END) \
             FROM stream_sides WHERE media_kind = 'audio' GROUP BY 1"
        )),
        // One row per call and session id; failed at setup by its own or a segment's stage.
        reliability: sorted(
            "SELECT CAST(day AS VARCHAR), count(*), sum(CASE WHEN setup THEN 1 ELSE 0 END), \
                sum(CASE WHEN midcall AND NOT setup THEN 1 ELSE 0 END) \
             FROM (SELECT min(x.call_start_date) AS day, \
                    bool_or(coalesce(x.failure_info_stage = 'callSetup', false) \
                        OR coalesce(s.failure_info_stage = 'callSetup', false)) AS setup, \
                    bool_or(coalesce(x.failure_info_stage = 'midcall', false) \
                        OR coalesce(s.failure_info_stage = 'midcall', false)) AS midcall \
                FROM sessions x LEFT JOIN segments s \
                    ON s.call_id = x.call_id AND s.session_id = x.session_id \
                GROUP BY x.call_id, x.session_id) \
             GROUP BY 1",
        ),
        rated: sorted(
            "SELECT CASE WHEN rated_poor THEN 'rated bad or poor' ELSE 'rated fair or better' END, \
                count(DISTINCT session_id), count(*), \
                sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) \
             FROM rated_audio_streams GROUP BY 1",
        ),
        // (A missing display name is JSON's null in the view's rows.)
        users: sorted(
            "SELECT user_id, display_name, good, poor, jitter FROM ( \
                SELECT coalesce(rx_user_id, '(no user)') AS user_id, \
                    coalesce(max(rx_user_name), 'null') AS display_name, \
                    sum(CASE WHEN classification = 'good' THEN 1 ELSE 0 END) AS good, \
                    sum(CASE WHEN classification = 'poor' THEN 1 ELSE 0 END) AS poor, \
                    sum(CASE WHEN array_has(poor_reasons, 'jitter') THEN 1 ELSE 0 END) AS jitter \
                FROM stream_sides \
                WHERE media_kind = 'audio' AND classification <> 'unclassified' \
                GROUP BY 1 ORDER BY poor DESC, good + poor DESC, user_id LIMIT 50)",
        ),
    }
}

#[test]
fn the_rollup_kept_in_memory_follows_converts_and_upserts() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    assert_eq!(convert(&[&sample("generated")], &lake).0, 0);
    let s = serve(&lake, &[], None);
    let dates = |used: &[Value]| -> Vec<u64> {
        used.iter()
            .map(|u| {
                assert_eq!(u["cached"], true, "{u}");
                u["computed_dates"].as_u64().unwrap()
            })
            .collect()
    };
    // A rule set's first request computes every date (the default rule set's is computed when
    // the server starts), the next none; they answer what SQL answers.
    let first = json(&format!(
        "{}/api/views/quality?kind=audio&rules=cqd-2021",
        s.url
    ));
    let all_dates = first["rollup"]["computed_dates"].as_u64().unwrap();
    let (rolled, used) = rollup_views(&s);
    assert!(all_dates >= rolled.days.len() as u64 && rolled.days.len() > 10);
    assert!(rolled.platforms.len() > 2 && rolled.rated.len() == 2);
    let failures = |r: &Rolled| -> (i64, i64) {
        r.reliability.iter().fold((0, 0), |(s, d), row| {
            (
                s + row[2].parse::<i64>().unwrap(),
                d + row[3].parse::<i64>().unwrap(),
            )
        })
    };
    let (setup, drops) = failures(&rolled);
    assert!(setup > 0 && drops > 0, "{:?}", rolled.reliability);
    // The quality trend reads the rollup the breakdown brought up to date.
    assert_eq!(dates(&used)[1], 0, "{used:?}");
    assert_eq!(rolled, rollup_views_by_sql(&lake));
    // A convert of a new day's calls: that day alone is computed again, in each rollup.
    let v1 = crate::common::write(
        dir.path(),
        "v1.ndjson",
        format!(
            "{}\n{}\n",
            crate::convert::call("rollup-a", 1, "PT0.010S"),
            crate::convert::call("rollup-b", 1, "PT0.010S")
        )
        .as_bytes(),
    );
    // A user's views read the days the user rollup kept in memory gives: u1, not in the lake
    // yet, has no calls; once converted, theirs are found though the rollup was kept from
    // before.
    let u1_calls = || {
        view_rows(
            &format!("{}/api/views/user-calls?user=u1", s.url),
            &["call_id"],
        )
    };
    assert_eq!(u1_calls(), Vec::<Vec<String>>::new());
    assert_eq!(convert(&[&v1], &lake).0, 0);
    assert_eq!(u1_calls(), [["rollup-a"], ["rollup-b"]]);
    let (rolled, used) = rollup_views(&s);
    assert_eq!(dates(&used), [1, 0, 1, 1, 1]);
    let sessions_then = rolled.reliability.clone();
    assert_eq!(rolled, rollup_views_by_sql(&lake));
    let good_then = rolled
        .days
        .iter()
        .find(|d| d[0] == "2024-05-01")
        .unwrap()
        .clone();
    // A newer version of one of them, now poor (jitter 45 ms): again that day alone, the
    // stream moved from good to poor, and no session was counted twice.
    let v2 = crate::common::write(
        dir.path(),
        "v2.ndjson",
        format!("{}\n", crate::convert::call("rollup-a", 3, "PT0.045S")).as_bytes(),
    );
    assert_eq!(convert(&[&v2], &lake).0, 0);
    let (rolled, used) = rollup_views(&s);
    assert_eq!(dates(&used), [1, 0, 1, 1, 1]);
    let good_now = rolled
        .days
        .iter()
        .find(|d| d[0] == "2024-05-01")
        .unwrap()
        .clone();
    let n = |row: &[String], i: usize| row[i].parse::<i64>().unwrap();
    assert_eq!(
        (n(&good_now, 1), n(&good_now, 2)),
        (n(&good_then, 1) - 1, n(&good_then, 2) + 1),
        "{good_then:?} → {good_now:?}"
    );
    assert_eq!(rolled.reliability, sessions_then);
    assert_eq!(rolled, rollup_views_by_sql(&lake));
    // Each rule set has its own, brought up to date when asked for (the new day and the
    // upsert's day are one date); a user's views compute theirs.
    let other = json(&format!(
        "{}/api/views/quality?kind=audio&rules=cqd-2021",
        s.url
    ));
    assert_eq!(other["rollup"]["computed_dates"], 1);
    let user = json(&format!("{}/api/views/quality?user=u1", s.url));
    assert_eq!(user["rollup"], Value::Null);
}

#[test]
fn a_report_as_a_page_holds_its_rows_and_sql_cannot_be_one() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    assert_eq!(convert(&[&sample("graph-docs")], &lake).0, 0);
    let l = lake.display().to_string();
    let page = cqlake(&["report", "summary", "--lake", &l, "--format", "html"]);
    assert!(
        page.status.success(),
        "{}",
        String::from_utf8_lossy(&page.stderr)
    );
    let page = String::from_utf8(page.stdout).unwrap();
    assert!(page.starts_with("<!doctype html>"));
    let start = page.find(r#"id="report">"#).unwrap() + 12;
    let end = start + page[start..].find("</script>").unwrap();
    let data: Value = serde_json::from_str(&page[start..end]).unwrap();
    let rows: Value = serde_json::from_slice(
        &cqlake(&["report", "summary", "--lake", &l, "--format", "json"]).stdout,
    )
    .unwrap();
    assert_eq!(data["rows"], rows);
    assert_eq!(data["name"], "summary");
    let out = cqlake(&["sql", "SELECT 1", "--lake", &l, "--format", "html"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("report"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn errors_are_json_with_their_status() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path());
    let s = serve(&lake, &[], None);
    for (path, status, says) in [
        ("/api/reports/nope", 404, "no such report"),
        ("/api/views/nope", 404, "no such view"),
        ("/api/nothing", 404, "no such endpoint"),
        ("/api/reports/summary?from=2024-02-30", 400, "not a date"),
        ("/api/reports/summary?kind=audio", 400, "unknown parameter"),
        ("/api/views/quality?grain=week", 400, "day or month"),
        (
            "/api/views/quality?call=x'%20OR%20'1'='1",
            400,
            "not a call id",
        ),
        ("/api/reports/buildings", 400, "--buildings"),
        ("/assets/nope.js", 404, "no such file"),
    ] {
        let (got, headers, body) = get(&format!("{}{path}", s.url), None);
        assert_eq!(got, status, "{path}");
        assert_eq!(headers["content-type"], "application/json", "{path}");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["status"], status);
        assert!(v["error"].as_str().unwrap().contains(says), "{path}: {v}");
    }
    // The page and its assets come from the server itself.
    let (status, headers, body) = get(&format!("{}/quality?from=2024-05-01", s.url), None);
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("/assets/echarts.min.js"));
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'self'")
    );
    let (status, _, body) = get(&format!("{}/assets/echarts.min.js", s.url), None);
    assert_eq!(status, 200);
    assert!(body.len() > 500_000);
}

#[test]
fn a_convert_that_ends_while_it_serves_is_seen_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    assert_eq!(convert(&[&sample("graph-docs")], &lake).0, 0);
    let s = serve(&lake, &[], None);
    let calls = |s: &Serve| {
        json(&format!("{}/api/reports/summary", s.url))[0]["value"]
            .as_f64()
            .unwrap()
    };
    let before = calls(&s);
    assert_eq!(convert(&[&sample("generated")], &lake).0, 0);
    assert!(calls(&s) > before, "the new calls are not seen");
}

#[test]
fn beyond_loopback_the_password_is_required_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    assert_eq!(convert(&[&sample("graph-docs")], &lake).0, 0);
    let l = lake.display().to_string();
    // No password: refused, with the reason.
    let out = Command::new(env!("CARGO_BIN_EXE_cqlake"))
        .args(["serve", "--lake", &l, "--port", "0", "--bind", "0.0.0.0"])
        .env_remove("CQLAKE_SERVE_PASSWORD")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("CQLAKE_SERVE_PASSWORD"), "{stderr}");
    // With one: every request needs it.
    let secret = "correct horse battery staple";
    // (On loopback too, once a password is set.)
    let mut s = serve(&lake, &[], Some(secret));
    let local = s.url.clone();
    let (status, headers, _) = get(&format!("{local}/api/reports"), None);
    assert_eq!(status, 401);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert_eq!(get(&format!("{local}/"), Some(("cqlake", "wrong"))).0, 401);
    assert_eq!(
        get(&format!("{local}/api/reports"), Some(("admin", secret))).0,
        401
    );
    assert_eq!(
        get(&format!("{local}/api/reports"), Some(("cqlake", secret))).0,
        200
    );
    let _ = s.child.kill();
    let mut printed = String::new();
    if let Some(mut e) = s.child.stderr.take() {
        std::io::Read::read_to_string(&mut e, &mut printed).unwrap();
    }
    assert!(!printed.contains(secret));
    assert!(!s.url.contains(secret));
}

#[test]
fn on_a_cluster_the_rollups_and_the_reports_answer_as_locally() {
    use crate::cluster::{executor, files_under, scheduler};
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path());
    let (_scheduler, cluster) = scheduler(&[]);
    let works = [dir.path().join("work-1"), dir.path().join("work-2")];
    let _executors: Vec<_> = works
        .iter()
        .map(|w| executor(&cluster, w, |_| ()))
        .collect();
    let local = serve(&lake, &[], None);
    let remote = serve(&lake, &["--cluster", &cluster], None);
    let (expected, _) = rollup_views(&local);
    let (got, used) = rollup_views(&remote);
    assert!(used.iter().all(|u| u["cached"] == true), "{used:?}");
    assert_eq!(got, expected);
    // The rollups were computed by the executors: their stages' shuffle files are there.
    let written: usize = works.iter().map(|w| files_under(w)).sum();
    assert!(
        written > 0,
        "no shuffle file: the rollups were computed here"
    );
    let rows = |base: &str, report: &str| {
        let v = json(&format!("{base}/api/reports/{report}?rules=cqd-2021"));
        let mut rows: Vec<String> = v.as_array().unwrap().iter().map(Value::to_string).collect();
        rows.sort();
        rows
    };
    for report in ["summary", "networks", "daily"] {
        let expected = rows(&local.url, report);
        assert!(!expected.is_empty(), "{report} has rows");
        assert_eq!(rows(&remote.url, report), expected, "{report}");
    }
}
