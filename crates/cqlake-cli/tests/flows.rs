//! Calls through auto attendants and call queues (`sample-data/call-flows/`): a session id that
//! Graph repeats for each identity involved keeps every occurrence in `sessions` and `segments`,
//! its streams land once, whether it came in a List-sessions page or inside an expanded record,
//! and the `call_flow` view and the `queues` report read the flow.

use std::path::Path;

use crate::common::{convert, csv, query, sample, write};

const CALL1: &str = "7f3a1c52-4d0e-4b8a-9e61-2c5d8a0b1e01";
const CALL2: &str = "7f3a1c52-4d0e-4b8a-9e61-2c5d8a0b1e02";
/// The session id repeated three times in call 1 (main auto attendant, support menu, queue).
const A: &str = "0a8e2f10-5c3d-4e7a-b1f2-3c4d5e6f7a01";

fn counts(lake: &Path, call: &str) -> Vec<String> {
    ["sessions", "segments", "media", "streams"]
        .iter()
        .map(|t| {
            query(
                lake,
                &format!("SELECT count(*) FROM {t} WHERE call_id = '{call}'"),
            )[0][0]
                .clone()
        })
        .collect()
}

const OCCURRENCES: &str = "SELECT session_occurrence, callee_user_agent_role, \
    callee_identity_application_instance_display_name, CAST(start_date_time AS VARCHAR) \
    FROM sessions WHERE session_id = '0a8e2f10-5c3d-4e7a-b1f2-3c4d5e6f7a01' ORDER BY 1";

fn occurrences() -> Vec<Vec<String>> {
    [
        [
            "0",
            "skypeForBusinessAutoAttendant",
            "Contoso Main Line",
            "2024-05-06T09:00:00Z",
        ],
        [
            "1",
            "skypeForBusinessAutoAttendant",
            "Contoso Support Menu",
            "2024-05-06T09:00:15Z",
        ],
        [
            "2",
            "skypeForBusinessCallQueues",
            "Contoso Support Queue",
            "2024-05-06T09:00:30Z",
        ],
    ]
    .iter()
    .map(|r| r.iter().map(|s| s.to_string()).collect())
    .collect()
}

/// The repeated session's streams: once each, with the last occurrence's context.
const A_STREAMS: &str = "SELECT stream_id, \
    session_callee_identity_application_instance_display_name, average_jitter_ms FROM streams \
    WHERE session_id = '0a8e2f10-5c3d-4e7a-b1f2-3c4d5e6f7a01' ORDER BY 1";

fn a_streams() -> Vec<Vec<String>> {
    [
        ["1", "Contoso Support Queue", "10.0"],
        ["2", "Contoso Support Queue", "10.0"],
    ]
    .iter()
    .map(|r| r.iter().map(|s| s.to_string()).collect())
    .collect()
}

#[test]
fn a_repeated_session_id_keeps_every_occurrence_and_its_streams_once_from_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let flows = sample("call-flows");
    let (code, s) = convert(&[&flows], &lake);
    assert_eq!(code, 0, "{s}");
    // Call 1: a basic record, its List-sessions page of 6 sessions (one id three times) and
    // a Get of its participants with `$select` (no startDateTime); call 2: one expanded record
    // (one id twice).
    assert_eq!(
        (
            s["call_records"].as_u64(),
            s["page_sessions"].as_u64(),
            s["partial_records"].as_u64()
        ),
        (Some(2), Some(6), Some(1))
    );
    assert_eq!(s["orphan_records"], 0);
    // Sessions and segments: every occurrence; media and streams: once (3 audio media of 4
    // distinct sessions, one failed at setup without media).
    assert_eq!(counts(&lake, CALL1), ["6", "6", "3", "6"]);
    assert_eq!(counts(&lake, CALL2), ["3", "3", "1", "2"]);
    assert_eq!(query(&lake, OCCURRENCES), occurrences());
    // Each occurrence's segment is its own row, under the shared segment id.
    assert_eq!(
        query(
            &lake,
            &format!(
                "SELECT session_occurrence, segment_id, CAST(end_date_time AS VARCHAR) \
                 FROM segments WHERE session_id = '{A}' ORDER BY 1"
            )
        ),
        [
            [
                "0",
                "0a8e2f10-5c3d-4e7a-b1f2-3c4d5e6f7b01",
                "2024-05-06T09:00:15Z"
            ],
            [
                "1",
                "0a8e2f10-5c3d-4e7a-b1f2-3c4d5e6f7b01",
                "2024-05-06T09:00:30Z"
            ],
            [
                "2",
                "0a8e2f10-5c3d-4e7a-b1f2-3c4d5e6f7b01",
                "2024-05-06T09:01:00Z"
            ],
        ]
    );
    assert_eq!(query(&lake, A_STREAMS), a_streams());
    // The partial Get's participants joined their call, in its partition.
    assert_eq!(
        query(
            &lake,
            &format!(
                "SELECT count(*), min(CAST(call_start_date AS VARCHAR)), \
                 count(DISTINCT participant_id) FROM participants WHERE call_id = '{CALL1}'"
            )
        ),
        [["7", "2024-05-06", "7"]]
    );
    // Converting the same files again changes nothing.
    let before = crate::common::lake_content(&lake);
    let (code, s) = convert(&[&flows], &lake);
    assert_eq!(code, 0, "{s}");
    assert_eq!(crate::common::lake_content(&lake), before);
}

/// Call 1's page, with its sessions inside the call record instead.
fn call1_expanded(dir: &Path) -> std::path::PathBuf {
    let flows = sample("call-flows");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(flows.join(name)).unwrap()).unwrap()
    };
    let mut call = read("aa-cq-answered.call.json");
    let page = read("aa-cq-answered.sessions.json");
    call["sessions"] = page["value"].clone();
    write(
        dir,
        "expanded.json",
        serde_json::to_string(&call).unwrap().as_bytes(),
    )
}

#[test]
fn an_expanded_record_and_a_sessions_page_give_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let expanded = call1_expanded(dir.path());
    let (code, s) = convert(&[&expanded], &lake);
    assert_eq!(code, 0, "{s}");
    assert_eq!(counts(&lake, CALL1), ["6", "6", "3", "6"]);
    assert_eq!(query(&lake, OCCURRENCES), occurrences());
    assert_eq!(query(&lake, A_STREAMS), a_streams());

    let paged = dir.path().join("paged");
    let flows = sample("call-flows");
    let files = [
        flows.join("aa-cq-answered.call.json"),
        flows.join("aa-cq-answered.sessions.json"),
    ];
    let (code, s) = convert(&[&files[0], &files[1]], &paged);
    assert_eq!(code, 0, "{s}");
    for t in ["sessions", "segments", "media", "streams"] {
        let all = format!("SELECT * EXCLUDE (extra) FROM {t} ORDER BY 1, 2, 3, 4, 5, 6");
        assert_eq!(query(&lake, &all), query(&paged, &all), "{t}");
    }
}

#[test]
fn a_page_converted_before_its_call_keeps_every_occurrence_when_the_call_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let flows = sample("call-flows");
    let page = flows.join("aa-cq-answered.sessions.json");
    let (code, _) = convert(&[&page], &lake);
    assert_eq!(code, 0);
    assert_eq!(counts(&lake, CALL1), ["6", "6", "3", "6"]);
    // The call record arrives later: the page's rows take its context.
    let (code, _) = convert(&[&flows.join("aa-cq-answered.call.json")], &lake);
    assert_eq!(code, 0);
    assert_eq!(counts(&lake, CALL1), ["6", "6", "3", "6"]);
    assert_eq!(
        query(
            &lake,
            &format!("SELECT DISTINCT call_version FROM streams WHERE call_id = '{CALL1}'")
        ),
        [["2"]]
    );
    assert_eq!(query(&lake, OCCURRENCES), occurrences());
}

/// Rows of `cqlake sql QUERY --format csv` (the views are the engine's), without the header;
/// the values hold no commas.
fn sql(lake: &Path, query: &str) -> Vec<Vec<String>> {
    csv(lake, &["sql", query])
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn the_call_flow_view_orders_the_legs() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    assert_eq!(convert(&[&sample("call-flows")], &lake).0, 0);
    let legs = sql(
        &lake,
        &format!(
            "SELECT leg, session_occurrence, duration_s, caller_kind, caller_name, callee_kind, \
             callee_name, coalesce(failure_stage, '') FROM call_flow WHERE call_id = '{CALL1}' \
             ORDER BY leg"
        ),
    );
    let expected = [
        [
            "1",
            "0",
            "15.0",
            "phone",
            "+14255550100",
            "auto_attendant",
            "Contoso Main Line",
            "",
        ],
        [
            "2",
            "1",
            "15.0",
            "phone",
            "+14255550100",
            "auto_attendant",
            "Contoso Support Menu",
            "",
        ],
        [
            "3",
            "2",
            "30.0",
            "phone",
            "+14255550100",
            "call_queue",
            "Contoso Support Queue",
            "",
        ],
        [
            "4",
            "0",
            "15.0",
            "call_queue",
            "Contoso Support Queue",
            "user",
            "Alex Wilber",
            "callSetup",
        ],
        [
            "5",
            "0",
            "70.0",
            "phone",
            "+14255550100",
            "user",
            "Megan Bowen",
            "",
        ],
        [
            "6",
            "0",
            "30.0",
            "user",
            "Megan Bowen",
            "user",
            "Lee Gu",
            "",
        ],
    ];
    assert_eq!(legs, expected);
}

#[test]
fn a_get_with_select_waits_for_its_call_and_joins_it_when_it_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let flows = sample("call-flows");
    let partial = flows.join("aa-cq-answered.participants.json");
    let (code, s) = convert(&[&partial], &lake);
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["partial_records"], 1);
    assert_eq!(s["call_records"], 0);
    // 7 participants wait for their call, kept on the epoch day.
    assert_eq!(s["orphan_records"], 7);
    assert_eq!(
        query(
            &lake,
            "SELECT count(*), min(CAST(call_start_date AS VARCHAR)) FROM participants"
        ),
        [["7", "1970-01-01"]]
    );
    assert_eq!(
        csv(&lake, &["report", "unexported"]),
        format!(
            "call_id,change_types,notifications,subscription_id,waiting_participants,waiting_sessions\n{CALL1},,0,,7,0\n"
        )
    );
    // The call record arrives in a later run: the participants take its partition.
    let (code, s) = convert(&[&flows.join("aa-cq-answered.call.json")], &lake);
    assert_eq!(code, 0, "{s}");
    assert_eq!(
        query(
            &lake,
            "SELECT count(*), min(CAST(call_start_date AS VARCHAR)), \
             max(CAST(call_start_date AS VARCHAR)) FROM participants"
        ),
        [["7", "2024-05-06", "2024-05-06"]]
    );
    assert_eq!(
        csv(&lake, &["report", "unexported"]),
        "call_id,change_types,notifications,subscription_id,waiting_participants,waiting_sessions\n"
    );
}

#[test]
fn a_record_without_start_date_time_and_nothing_to_merge_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let f = write(
        dir.path(),
        "bare.json",
        br#"{"id": "c-bare", "version": 1, "type": "groupCall"}"#,
    );
    let (code, s) = convert(&[&f], &lake);
    assert_eq!(code, 3, "{s}");
    assert_eq!(s["rejected"], 1);
    let rejects = std::fs::read_dir(lake.join("_rejects")).unwrap();
    let text: String = rejects
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        text.contains("no startDateTime") && text.contains("no participants or sessions"),
        "{text}"
    );
}
