//! Follow-up pages (`sessions@odata.nextLink`, List-sessions) merge into their call, in any order
//! and across runs, without duplicates; a newer call version refreshes the `call_*` context of
//! the rows it does not carry.

use crate::common::{convert, query, write};

const CTX: &str = "https://graph.microsoft.com/v1.0/$metadata#communications/callRecords";

/// A session with one segment, one audio media and one stream whose jitter is `jitter`.
fn session(id: &str, start: &str, jitter: &str) -> String {
    format!(
        r#"{{"id":"{id}","modalities":["audio"],"startDateTime":"{start}","endDateTime":"{start}","caller":{{"userAgent":{{"platform":"windows"}}}},"callee":{{}},"segments":[{{"id":"g-{id}","startDateTime":"{start}","endDateTime":"{start}","media":[{{"label":"main-audio","streams":[{{"streamId":"st-{id}","streamDirection":"callerToCallee","averageJitter":"{jitter}"}}]}}]}}]}}"#
    )
}

/// Call `c1` (started 2024-05-01 23:50) carrying `sessions`, with a next link when `more`.
fn call(version: i64, sessions: &[String], more: bool) -> String {
    let next = if more {
        format!(r#","sessions@odata.nextLink":"{CTX}('c1')/sessions?$skiptoken=x""#)
    } else {
        String::new()
    };
    let sessions = if sessions.is_empty() {
        String::new()
    } else {
        format!(r#","sessions":[{}]{next}"#, sessions.join(","))
    };
    format!(
        r#"{{"@odata.context":"{CTX}/$entity","id":"c1","version":{version},"type":"groupCall","modalities":["audio"],"lastModifiedDateTime":"2024-05-02T01:00:00Z","startDateTime":"2024-05-01T23:50:00Z","endDateTime":"2024-05-02T00:40:00Z"{sessions}}}"#
    )
}

/// A follow-up sessions page of call `c1`.
fn page(sessions: &[String]) -> String {
    format!(
        "{{\n\"@odata.context\": \"{CTX}('c1')/sessions\",\n\"value\": [\n{}\n]\n}}\n",
        sessions.join(",\n")
    )
}

fn s1() -> String {
    session("s1", "2024-05-01T23:51:00Z", "PT0.01S")
}

/// Starts after midnight: its own date is not its call's.
fn s2() -> String {
    session("s2", "2024-05-02T00:10:00Z", "PT0.02S")
}

const STREAMS: &str = "SELECT stream_id, call_type, call_version, CAST(call_start_date AS VARCHAR), average_jitter_ms FROM streams ORDER BY stream_id";

fn both_streams(version: &str) -> Vec<Vec<String>> {
    [("st-s1", "10.0"), ("st-s2", "20.0")]
        .iter()
        .map(|(id, j)| {
            [*id, "groupCall", version, "2024-05-01", *j]
                .iter()
                .map(|s| s.to_string())
                .collect()
        })
        .collect()
}

#[test]
fn a_follow_up_page_merges_into_its_call_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let a = write(dir.path(), "a.json", call(1, &[s1()], true).as_bytes());
    let b = write(dir.path(), "b.json", page(&[s2()]).as_bytes());
    let (code, s) = convert(&[&a, &b], &lake);
    assert_eq!(code, 0, "{s}");
    assert_eq!(
        (s["call_records"].as_u64(), s["page_sessions"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(s["orphan_records"], 0);
    assert_eq!(query(&lake, STREAMS), both_streams("1"));
    assert_eq!(
        query(
            &lake,
            "SELECT session_id, CAST(call_start_date AS VARCHAR) FROM sessions ORDER BY 1"
        ),
        vec![vec!["s1", "2024-05-01"], vec!["s2", "2024-05-01"]]
    );
    // Converting both again changes nothing.
    let (_, s) = convert(&[&a, &b], &lake);
    assert_eq!(s["stale_calls"], 1);
    assert_eq!(query(&lake, STREAMS), both_streams("1"));
}

#[test]
fn pages_before_their_call_are_merged_when_it_arrives_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    // A List-sessions page with every session comes first, in a run of its own.
    let p = write(dir.path(), "p.json", page(&[s1(), s2()]).as_bytes());
    let (code, s) = convert(&[&p], &lake);
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["orphan_records"], 2);
    assert_eq!(
        query(&lake, "SELECT count(*), count(call_type) FROM streams"),
        vec![vec!["2", "0"]]
    );
    // Then the call, carrying the first session and a next link.
    let c = write(dir.path(), "c.json", call(1, &[s1()], true).as_bytes());
    let (code, s) = convert(&[&c], &lake);
    assert_eq!(code, 0, "{s}");
    assert_eq!(query(&lake, STREAMS), both_streams("1"));
    assert_eq!(
        query(&lake, "SELECT count(*) FROM sessions"),
        vec![vec!["2"]]
    );
    assert_eq!(
        query(&lake, "SELECT count(*) FROM segments"),
        vec![vec!["2"]]
    );
    // And the page once more: still one row per stream.
    convert(&[&p], &lake);
    assert_eq!(query(&lake, STREAMS), both_streams("1"));
}

#[test]
fn a_newer_version_without_sessions_refreshes_the_context_of_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let v1 = write(
        dir.path(),
        "v1.json",
        call(1, &[s1(), s2()], false).as_bytes(),
    );
    assert_eq!(convert(&[&v1], &lake).0, 0);
    let v2 = write(dir.path(), "v2.json", call(2, &[], false).as_bytes());
    let (code, s) = convert(&[&v2], &lake);
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["replaced_calls"], 1);
    assert_eq!(query(&lake, STREAMS), both_streams("2"));
    assert_eq!(query(&lake, "SELECT version FROM calls"), vec![vec!["2"]]);
}

#[test]
fn a_newer_version_with_a_next_link_keeps_the_sessions_of_its_pages() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let a = write(dir.path(), "a.json", call(1, &[s1()], true).as_bytes());
    let b = write(dir.path(), "b.json", page(&[s2()]).as_bytes());
    assert_eq!(convert(&[&a, &b], &lake).0, 0);
    // Version 2 carries a changed first session and says more follow: s2 stays, refreshed.
    let s1b = session("s1", "2024-05-01T23:51:00Z", "PT0.05S");
    let v2 = write(dir.path(), "v2.json", call(2, &[s1b], true).as_bytes());
    let (code, s) = convert(&[&v2], &lake);
    assert_eq!(code, 0, "{s}");
    let mut want = both_streams("2");
    want[0][4] = "50.0".into();
    assert_eq!(query(&lake, STREAMS), want);
    assert_eq!(
        query(&lake, "SELECT count(*) FROM sessions"),
        vec![vec!["2"]]
    );
}

/// A call `id` on 2024-05-01 with participants `people` (ids; `None` for one with no id) in
/// `participants_v2` and a next link.
fn call_with_people(id: &str, people: &[Option<&str>]) -> String {
    let people: Vec<String> = people
        .iter()
        .map(|p| match p {
            Some(p) => format!(r#"{{"id":"{p}","identity":{{"user":{{"id":"{p}"}}}}}}"#),
            None => r#"{"identity":{"user":{"displayName":"no id"}}}"#.to_string(),
        })
        .collect();
    format!(
        r#"{{"id":"{id}","version":1,"type":"groupCall","startDateTime":"2024-05-01T10:00:00Z","participants_v2":[{}],"participants_v2@odata.nextLink":"{CTX}('{id}')/participants_v2?$skiptoken=x"}}"#,
        people.join(",")
    )
}

#[test]
fn a_participants_page_replaces_only_its_own_calls_participants() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    // The same person (p1) in two calls on one day, and someone without an id.
    let calls = format!(
        "{}\n{}\n",
        call_with_people("c1", &[Some("p1"), None]),
        call_with_people("c2", &[Some("p1"), Some("p2")])
    );
    let a = write(dir.path(), "calls.json", calls.as_bytes());
    assert_eq!(convert(&[&a], &lake).0, 0);
    // c2's follow-up page carries p1 again (and p3): c1's p1 and its id-less participant stay.
    let page = format!(
        r#"{{"@odata.context":"{CTX}('c2')/participants_v2","value":[{{"id":"p1"}},{{"id":"p3"}}]}}"#
    );
    let b = write(dir.path(), "page.json", page.as_bytes());
    let (code, s) = convert(&[&b], &lake);
    assert_eq!(code, 0, "{s}");
    assert_eq!(
        query(
            &lake,
            "SELECT call_id, coalesce(participant_id, '-') FROM participants ORDER BY 1, 2"
        ),
        [
            ["c1", "-"],
            ["c1", "p1"],
            ["c2", "p1"],
            ["c2", "p2"],
            ["c2", "p3"]
        ]
        .iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .collect::<Vec<_>>()
    );
}
