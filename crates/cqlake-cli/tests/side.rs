//! The side tables end to end: the seed pages' recordings and record operations, and PSTN,
//! direct-routing, SMS, blocked-users, dial-out and change-notification documents, with exact
//! values, merges by key and secrets left out.

use crate::common::{convert, query, sample, write};

/// Every file of a directory, recursively, as bytes.
fn all_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_bytes(&p));
        } else {
            out.extend(std::fs::read(&p).unwrap());
        }
    }
    out
}

/// Whether `needle` occurs in `hay`.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_seed_recordings_and_record_operations_land_in_their_tables() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let (code, s) = convert(&[&sample("graph-docs")], &lake);
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["side_records"]["recordings"], 4);
    assert_eq!(s["side_records"]["record_operations"], 2);
    assert_eq!(s["redacted"], 1);
    // The four pages of the delta example repeat one recording: one row.
    assert_eq!(
        query(
            &lake,
            "SELECT count(*), min(meeting_id), CAST(min(created_date_time) AS VARCHAR), \
             min(meeting_organizer_user_id), min(meeting_organizer_user_tenant_id), \
             min(meeting_organizer_user_user_identity_type), min(meeting_organizer_user_odata_type), \
             count(meeting_organizer_user_display_name), min(odata_type), \
             substr(min(id), 1, 12), length(min(id)), substr(min(recording_content_url), 1, 80) \
             FROM recordings"
        ),
        vec![vec![
            "1",
            "MSoxYzkxNjVmZi1hZTkyLTQ5YWYtODliNC00MTU1NTRhMzZhNTEqMCoqMTk6bWVldGluZ19PVEJsT1RjeE16QXROemMwWVMwMFl6QTFMVGhpWldFdFpUaGtNMlk0WkRKaFlUQTFAdGhyZWFkLnYy",
            "2023-12-02T06:59:34.741176Z",
            "8b081ef6-4792-4def-b2c9-c363a1bf41d5",
            "a1d286db-6149-4b3d-95ad-23c9e1bf6853",
            "aadUser",
            "#microsoft.graph.teamworkUserIdentity",
            "0",
            "#microsoft.graph.callRecording",
            "VjIjIzExYzkx",
            "304",
            "https://graph.microsoft.com/v1.0/users/8b081ef6-4792-4def-b2c9-c363a1bf41d5/onli",
        ]]
    );
    // The sync stands at the second round's deltaLink: complete, four pages seen.
    assert_eq!(
        query(
            &lake,
            "SELECT query, organizer_user_id, resume_link, round_complete, delta_link_source, \
             next_link, pages, recordings FROM sync_state"
        ),
        vec![vec![
            "https://graph.microsoft.com/v1.0/users({userId})/onlineMeetings/getAllRecordings(meetingOrganizerUserId='8b081ef6-4792-4def-b2c9-c363a1bf41d5')/delta",
            "8b081ef6-4792-4def-b2c9-c363a1bf41d5",
            "https://graph.microsoft.com/v1.0/users({userId})/onlineMeetings/getAllRecordings(meetingOrganizerUserId='8b081ef6-4792-4def-b2c9-c363a1bf41d5')/delta?skipToken={deltaToken2}",
            "true",
            &sample("graph-docs")
                .join("callrecording-delta.fr.4.delta-deltalink-page.json")
                .display()
                .to_string(),
            "https://graph.microsoft.com/v1.0/users({userId})/onlineMeetings/getAllRecordings(meetingOrganizerUserId='8b081ef6-4792-4def-b2c9-c363a1bf41d5')/delta?skipToken={skipToken2}",
            "4",
            "4",
        ]]
    );
    // The running operation and its completed notification are one row: completed wins.
    assert_eq!(
        query(
            &lake,
            "SELECT id, status, completion_reason, client_context, call_id, change_type, \
             recording_location_given, recording_access_token_redacted, result_info_code, odata_type \
             FROM record_operations"
        ),
        vec![vec![
            "0fe0623f-d628-42ed-b4bd-8ac290072cc5",
            "completed",
            "stopToneDetected",
            "d45324c1-fcb5-430a-902c-f20af696537c",
            "57DAB8B1894C409AB240BD8BEAE78896",
            "deleted",
            "true",
            "true",
            "NULL",
            "#microsoft.graph.recordOperation",
        ]]
    );
    let bytes = all_bytes(&lake);
    assert!(
        !contains(&bytes, b"<access-token>"),
        "the access token reached the lake"
    );
    // Converting again changes nothing.
    let (code, s) = convert(&[&sample("graph-docs")], &lake);
    assert_eq!(code, 0, "{s}");
    assert_eq!(
        query(
            &lake,
            "SELECT (SELECT count(*) FROM recordings) AS a, (SELECT count(*) FROM record_operations) AS b, \
             (SELECT status FROM record_operations) AS c, (SELECT pages FROM sync_state) AS d"
        ),
        vec![vec!["1", "1", "completed", "8"]]
    );
}

const PSTN_PAGE: &str = r#"{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.callRecords.pstnCallLogRow)",
  "@odata.count": 2,
  "value": [
    {
      "id": "9c4984c7-6c3c-427d-a30c-bd0b2eacee90",
      "callId": "1835317186_112562680@61.221.3.176",
      "userId": "db03c14b-06eb-4189-939b-7cbf3a20ba27",
      "userPrincipalName": "richard.malk@contoso.com",
      "userDisplayName": "Richard Malk",
      "startDateTime": "2019-11-01T00:00:08.2589935Z",
      "endDateTime": "2019-11-01T00:03:47.2589935Z",
      "duration": 219,
      "charge": 0.0256,
      "callType": "user_out",
      "currency": "USD",
      "calleeNumber": "+1234567890",
      "usageCountryCode": "US",
      "tenantCountryCode": "US",
      "connectionCharge": 0.12,
      "callerNumber": "+0123456789",
      "destinationContext": "International",
      "destinationName": "United Kingdom",
      "conferenceId": null,
      "licenseCapability": "MCOPSTNU",
      "inventoryType": "Subscriber",
      "operator": "Microsoft",
      "callDurationSource": "microsoft",
      "newProperty": 7
    },
    {
      "id": "b1a1e2a3-0000-4000-8000-000000000002",
      "callId": "2",
      "userId": "db03c14b-06eb-4189-939b-7cbf3a20ba27",
      "startDateTime": "2019-11-01T01:00:00Z",
      "endDateTime": "2019-11-01T01:01:00Z",
      "duration": 60,
      "charge": "1.5",
      "currency": "USD",
      "callType": "user_in",
      "destinationContext": "Domestic",
      "callDurationSource": "operator"
    }
  ],
  "@odata.nextLink": "https://graph.microsoft.com/v1.0/communications/callRecords/getPstnCalls(fromDateTime=2019-11-01,toDateTime=2019-12-01)?$skip=1000"
}"#;

const DIRECT_ROUTING_PAGE: &str = r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.callRecords.directRoutingLogRow)","value":[
{"id":"9e8bba57-dc14-533a-a7dd-f0da6575eed1","correlationId":"c98e1515-a937-4b81-b8a8-3992afde64e0","userId":"db03c14b-06eb-4189-939b-7cbf3a20ba27","userPrincipalName":"richard.malk@contoso.com","userDisplayName":"Richard Malk","startDateTime":"2019-11-01T00:00:25.105Z","inviteDateTime":"2019-11-01T00:00:21.949Z","failureDateTime":"0001-01-01T00:00:00Z","endDateTime":"2019-11-01T00:00:30.105Z","duration":5,"callType":"ByotIn","successfulCall":true,"callerNumber":"+12345678***","calleeNumber":"+01234567***","mediaPathLocation":"USWE","signalingLocation":"EUNO","finalSipCode":0,"callEndSubReason":540000,"finalSipCodePhrase":"BYE","trunkFullyQualifiedDomainName":"tll-audiocodes01.adatum.biz","mediaBypassEnabled":false},
{"id":"2","startDateTime":"2019-11-01T02:00:00Z","duration":0,"successfulCall":false,"finalSipCode":503,"callEndSubReason":560503,"finalSipCodePhrase":"Service Unavailable","trunkFullyQualifiedDomainName":"tll-audiocodes01.adatum.biz"}
]}"#;

#[test]
fn pstn_direct_routing_sms_and_notifications_land_typed() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let sms = r#"{"@odata.context":"https://graph.microsoft.com/beta/$metadata#Collection(microsoft.graph.callRecords.smsLogRow)","value":[{"id":"s1","smsId":"SMS-1","sentDateTime":"2023-03-01T08:00:00Z","smsType":"outbound","smsUnits":2,"sourceNumber":"+1425","destinationNumber":"+44 20","destinationContext":"International","destinationName":"United Kingdom","callCharge":0.08,"currency":"USD","licenseCapability":"MCOPSTNU","tenantCountryCode":"US","userCountryCode":"US","otherPartyCountryCode":"GB","administrativeUnitInfos":[{"id":"au-1"},{"id":"au-2"}]}]}"#;
    let blocked = r#"{"@odata.context":"https://graph.microsoft.com/beta/$metadata#Collection(microsoft.graph.callRecords.pstnBlockedUsersLogRow)","value":[{"blockDateTime":"2023-04-01T00:00:00Z","blockReason":"Fraud","remediationId":"r-1","userBlockMode":"blocked","userDisplayName":"Ann","userId":"u-1","userPrincipalName":"ann@contoso.com","userTelephoneNumber":"+1 555"}]}"#;
    let dialout = r#"{"@odata.context":"https://graph.microsoft.com/beta/$metadata#Collection(microsoft.graph.callRecords.pstnOnlineMeetingDialoutReport)","value":[{"userId":"u-1","userPrincipalName":"ann@contoso.com","userDisplayName":"Ann","usageLocation":"US","destinationContext":"Domestic","currency":"USD","totalCalls":3,"totalCallSeconds":600,"totalCallCharge":1.25}]}"#;
    let notification = r##"{"value":[{"subscriptionId":"e3f9c1a0-0000-4000-8000-000000000001","clientState":"secretClientValue","changeType":"created","resource":"communications/callRecords/2f1a1100-b174-40a0-aba7-0b405e01ed92","subscriptionExpirationDateTime":"2023-05-01T00:00:00Z","resourceData":{"@odata.type":"#microsoft.graph.callrecord","@odata.id":"communications/callRecords/2f1a1100-b174-40a0-aba7-0b405e01ed92","id":"2f1a1100-b174-40a0-aba7-0b405e01ed92"},"tenantId":"t-1"}]}"##;
    let failed_op = r##"{"@odata.type":"#microsoft.graph.commsNotifications","value":[{"@odata.type":"#microsoft.graph.commsNotification","changeType":"deleted","resourceUrl":"/communications/calls/C2/operations/O2","resourceData":{"@odata.type":"#microsoft.graph.recordOperation","id":"o2","status":"failed","completionReason":"initialSilenceTimeout","resultInfo":{"@odata.type":"#microsoft.graph.resultInfo","code":400,"subcode":8522,"message":"Action failed"}}}]}"##;
    let inputs = [
        write(dir.path(), "pstn.json", PSTN_PAGE.as_bytes()),
        write(dir.path(), "dr.json", DIRECT_ROUTING_PAGE.as_bytes()),
        write(dir.path(), "sms.json", sms.as_bytes()),
        write(dir.path(), "blocked.json", blocked.as_bytes()),
        write(dir.path(), "dialout.json", dialout.as_bytes()),
        write(dir.path(), "notification.json", notification.as_bytes()),
        write(dir.path(), "op.json", failed_op.as_bytes()),
    ];
    let paths: Vec<&std::path::Path> = inputs.iter().map(|p| p.as_path()).collect();
    let (code, s) = convert(&paths, &lake);
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["rejected"], 0);
    assert_eq!(s["redacted"], 1);
    assert_eq!(
        s["side_rows"],
        serde_json::json!({"recordings": 0, "sync_state": 0, "record_operations": 1, "pstn_calls": 2,
            "direct_routing_calls": 2, "sms_logs": 1, "pstn_blocked_users": 1, "pstn_dialout_report": 1,
            "notifications": 1, "pull_state": 0})
    );
    assert_eq!(
        query(
            &lake,
            "SELECT id, CAST(charge AS VARCHAR), CAST(connection_charge AS VARCHAR), duration_ms, \
             CAST(start_date_time AS VARCHAR), call_type, destination_context, call_duration_source, \
             extra, arrow_typeof(charge) FROM pstn_calls ORDER BY id"
        ),
        vec![
            vec![
                "9c4984c7-6c3c-427d-a30c-bd0b2eacee90",
                "0.0256000000",
                "0.1200000000",
                "219000.0",
                "2019-11-01T00:00:08.258993Z",
                "user_out",
                "International",
                "microsoft",
                r#"{"newProperty":7}"#,
                "Decimal128(38, 10)",
            ],
            vec![
                "b1a1e2a3-0000-4000-8000-000000000002",
                "1.5000000000",
                "NULL",
                "60000.0",
                "2019-11-01T01:00:00Z",
                "user_in",
                "Domestic",
                "operator",
                "NULL",
                "Decimal128(38, 10)",
            ],
        ]
    );
    assert_eq!(
        query(
            &lake,
            "SELECT id, successful_call, final_sip_code, call_end_sub_reason, final_sip_code_phrase, \
             trunk_fully_qualified_domain_name, duration_ms, CAST(failure_date_time AS VARCHAR), \
             media_bypass_enabled FROM direct_routing_calls ORDER BY id"
        ),
        vec![
            vec![
                "2",
                "false",
                "503",
                "560503",
                "Service Unavailable",
                "tll-audiocodes01.adatum.biz",
                "0.0",
                "NULL",
                "NULL",
            ],
            vec![
                "9e8bba57-dc14-533a-a7dd-f0da6575eed1",
                "true",
                "0",
                "540000",
                "BYE",
                "tll-audiocodes01.adatum.biz",
                "5000.0",
                // Graph's "no time" (0001-01-01T00:00:00Z) is stored as null.
                "NULL",
                "false",
            ],
        ]
    );
    assert_eq!(
        query(
            &lake,
            "SELECT sms_id, sms_units, CAST(call_charge AS VARCHAR), other_party_country_code, \
             array_to_string(administrative_unit_infos_id, ','), CAST(sent_date_time AS VARCHAR) FROM sms_logs"
        ),
        vec![vec![
            "SMS-1",
            "2",
            "0.0800000000",
            "GB",
            "au-1,au-2",
            "2023-03-01T08:00:00Z"
        ]]
    );
    assert_eq!(
        query(
            &lake,
            "SELECT user_id, block_reason, user_block_mode, CAST(block_date_time AS VARCHAR) FROM pstn_blocked_users"
        ),
        vec![vec!["u-1", "Fraud", "blocked", "2023-04-01T00:00:00Z"]]
    );
    assert_eq!(
        query(
            &lake,
            "SELECT total_calls, total_call_ms, CAST(total_call_charge AS VARCHAR) FROM pstn_dialout_report"
        ),
        vec![vec!["3", "600000.0", "1.2500000000"]]
    );
    assert_eq!(
        query(
            &lake,
            "SELECT call_id, change_type, subscription_id, client_state_redacted, resource_data_id, \
             resource_data_odata_id, CAST(subscription_expiration_date_time AS VARCHAR), tenant_id FROM notifications"
        ),
        vec![vec![
            "2f1a1100-b174-40a0-aba7-0b405e01ed92",
            "created",
            "e3f9c1a0-0000-4000-8000-000000000001",
            "true",
            "2f1a1100-b174-40a0-aba7-0b405e01ed92",
            "communications/callRecords/2f1a1100-b174-40a0-aba7-0b405e01ed92",
            "2023-05-01T00:00:00Z",
            "t-1",
        ]]
    );
    assert_eq!(
        query(
            &lake,
            "SELECT id, call_id, status, completion_reason, result_info_code, result_info_subcode, \
             result_info_message, recording_location_given, recording_access_token_redacted FROM record_operations"
        ),
        vec![vec![
            "o2",
            "C2",
            "failed",
            "initialSilenceTimeout",
            "400",
            "8522",
            "Action failed",
            "false",
            "false",
        ]]
    );
    assert!(!contains(&all_bytes(&lake), b"secretClientValue"));
    // The same pages again, and a changed row: still one row per key, the newer values.
    let changed = write(
        dir.path(),
        "pstn2.json",
        PSTN_PAGE
            .replace("\"duration\": 219", "\"duration\": 220")
            .as_bytes(),
    );
    let (code, _) = convert(&[&inputs[0], &inputs[1], &changed], &lake);
    assert_eq!(code, 0);
    assert_eq!(
        query(
            &lake,
            "SELECT (SELECT count(*) FROM pstn_calls) AS a, (SELECT max(duration_ms) FROM pstn_calls) AS b, \
             (SELECT count(*) FROM direct_routing_calls) AS c"
        ),
        vec![vec!["2", "220000.0", "2"]]
    );
}

#[test]
fn bad_side_records_are_rejected_with_their_path_and_cost_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let page = PSTN_PAGE
        .replace("\"charge\": 0.0256", "\"charge\": 0.000000000001")
        .replace("\"duration\": 60", "\"duration\": \"sixty\"");
    let input = write(dir.path(), "bad.json", page.as_bytes());
    let (code, s) = convert(&[&input], &lake);
    assert_eq!(code, 3, "{s}");
    assert_eq!(s["rejected"], 2);
    assert_eq!(s["records"], 2);
    let rejects = std::fs::read_dir(lake.join("_rejects"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read_to_string(rejects).unwrap();
    assert!(
        text.contains("$.charge") && text.contains("more than 10 decimal places"),
        "{text}"
    );
    assert!(
        text.contains("$.duration") && text.contains("a number of seconds"),
        "{text}"
    );
}

#[test]
fn every_generated_side_kind_converts_into_what_the_generator_says() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let kinds = [
        "recordings",
        "record-operations",
        "pstn",
        "direct-routing",
        "sms",
        "blocked-users",
        "dialout",
        "notifications",
    ];
    let mut inputs = Vec::new();
    let mut truths = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        let out = dir.path().join(format!("{kind}.ndjson"));
        let stats = dir.path().join(format!("{kind}.stats.json"));
        let o = crate::common::cqlake(&[
            "gen",
            "--kind",
            kind,
            "--seed",
            &(40 + i).to_string(),
            "--rows",
            "57",
            "--page-rows",
            "10",
            "-o",
            &out.display().to_string(),
            "--stats",
            &stats.display().to_string(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
        inputs.push(out);
        truths.push(truth);
    }
    let paths: Vec<&std::path::Path> = inputs.iter().map(|p| p.as_path()).collect();
    let (code, s) = convert(&paths, &lake);
    assert_eq!(code, 0, "{s}");
    assert_eq!(s["rejected"], 0);
    let objects: u64 = truths.iter().map(|t| t["objects"].as_u64().unwrap()).sum();
    let secrets: u64 = truths.iter().map(|t| t["secrets"].as_u64().unwrap()).sum();
    assert_eq!(s["converted"], objects);
    assert_eq!(s["redacted"], secrets);
    for t in &truths {
        for (table, rows) in t["rows"].as_object().unwrap() {
            assert_eq!(
                query(&lake, &format!("SELECT count(*) FROM {table}")),
                vec![vec![rows.to_string()]],
                "{table}"
            );
            assert_eq!(s["side_rows"][table], *rows, "{table}");
        }
    }
    let truth = |kind: &str| &truths[kinds.iter().position(|k| *k == kind).unwrap()];
    // Sums of the distinct rows, exact: seconds, and charges to the ten-thousandth.
    assert_eq!(
        query(
            &lake,
            "SELECT CAST(sum(duration_ms) / 1000 AS BIGINT), CAST(sum(charge) AS VARCHAR) FROM pstn_calls"
        ),
        vec![vec![
            truth("pstn")["seconds"].to_string(),
            format!("{}000000", truth("pstn")["charge"].as_str().unwrap())
        ]]
    );
    assert_eq!(
        query(
            &lake,
            "SELECT CAST(sum(duration_ms) / 1000 AS BIGINT), count(*) FILTER (WHERE NOT successful_call) FROM direct_routing_calls"
        ),
        vec![vec![
            truth("direct-routing")["seconds"].to_string(),
            truth("direct-routing")["failed"].to_string()
        ]]
    );
    assert_eq!(
        query(
            &lake,
            "SELECT CAST(sum(total_call_ms) / 1000 AS BIGINT), CAST(sum(total_call_charge) AS VARCHAR) FROM pstn_dialout_report"
        ),
        vec![vec![
            truth("dialout")["seconds"].to_string(),
            format!("{}000000", truth("dialout")["charge"].as_str().unwrap())
        ]]
    );
    assert_eq!(
        query(
            &lake,
            "SELECT CAST(sum(call_charge) AS VARCHAR) FROM sms_logs"
        ),
        vec![vec![format!(
            "{}000000",
            truth("sms")["charge"].as_str().unwrap()
        )]]
    );
    // Every operation ended (none left `running`), the failed ones as generated.
    assert_eq!(
        query(
            &lake,
            "SELECT count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'running') FROM record_operations"
        ),
        vec![vec![
            truth("record-operations")["failed"].to_string(),
            "0".to_string()
        ]]
    );
    // The sync resumes from the second round's deltaLink.
    assert_eq!(
        query(
            &lake,
            "SELECT round_complete, substr(resume_link, strpos(resume_link, '?')) FROM sync_state"
        ),
        vec![vec!["true", "?deltaToken=round1"]]
    );
    // The same documents again: nothing changes.
    let (code, s2) = convert(&paths, &lake);
    assert_eq!(code, 0);
    assert_eq!(s2["side_rows"], s["side_rows"]);
    for t in &truths {
        for (table, rows) in t["rows"].as_object().unwrap() {
            if table != "sync_state" {
                assert_eq!(
                    query(&lake, &format!("SELECT count(*) FROM {table}")),
                    vec![vec![rows.to_string()]],
                    "{table} after a second run"
                );
            }
        }
    }
}

#[test]
fn the_generated_side_samples_reproduce_byte_for_byte_and_convert_to_their_truth() {
    // The commands of sample-data/GENERATED.md ("The other Graph call data").
    let dir = tempfile::tempdir().unwrap();
    let kinds = [
        ("recordings", 100),
        ("record-operations", 101),
        ("pstn", 102),
        ("direct-routing", 123),
        ("sms", 104),
        ("blocked-users", 105),
        ("dialout", 106),
        ("notifications", 107),
    ];
    let mut objects = 0;
    for (kind, seed) in kinds {
        let out = dir.path().join(format!("{kind}.ndjson"));
        let stats = dir.path().join(format!("{kind}.json"));
        let o = crate::common::cqlake(&[
            "gen",
            "--kind",
            kind,
            "--seed",
            &seed.to_string(),
            "--rows",
            "12",
            "--page-rows",
            "5",
            "-o",
            &out.display().to_string(),
            "--stats",
            &stats.display().to_string(),
        ]);
        assert!(o.status.success());
        assert!(
            std::fs::read(&out).unwrap()
                == std::fs::read(sample(&format!("generated-other/{kind}.ndjson"))).unwrap(),
            "regenerate sample-data/generated-other/{kind}.ndjson with the commands in sample-data/GENERATED.md"
        );
        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
        objects += truth["objects"].as_u64().unwrap();
    }
    let lake = dir.path().join("lake");
    let (code, s) = convert(&[&sample("generated-other")], &lake);
    assert_eq!(code, 0, "{s}");
    // The counts GENERATED.md gives.
    assert_eq!(objects, 119);
    assert_eq!(s["converted"], 119);
    assert_eq!(s["redacted"], 30);
    assert_eq!(
        s["side_rows"],
        serde_json::json!({"recordings": 12, "sync_state": 1, "record_operations": 12, "pstn_calls": 12,
            "direct_routing_calls": 12, "sms_logs": 12, "pstn_blocked_users": 12,
            "pstn_dialout_report": 12, "notifications": 15, "pull_state": 0})
    );
    assert_eq!(
        query(
            &lake,
            "SELECT (SELECT count(*) FROM direct_routing_calls WHERE NOT successful_call) AS a, \
             (SELECT CAST(sum(charge) AS VARCHAR) FROM pstn_calls) AS b, \
             (SELECT CAST(sum(total_call_ms) AS BIGINT) FROM pstn_dialout_report) AS c, \
             (SELECT count(*) FROM record_operations WHERE status = 'failed') AS d"
        ),
        vec![vec!["3", "10.6801000000", "252840000", "1"]]
    );
}

#[test]
fn a_plain_parquet_export_writes_one_file_per_side_table_one_row_per_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pq");
    // The seed's recordings pages repeat one recording four times; the logs hold 5 PSTN calls.
    let o = crate::common::export_samples_as_parquet(&out, &["-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = |table: &str| -> i64 {
        let files: Vec<_> = std::fs::read_dir(out.join(table))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{table}");
        let r = parquet::file::reader::SerializedFileReader::new(
            std::fs::File::open(&files[0]).unwrap(),
        )
        .unwrap();
        parquet::file::reader::FileReader::metadata(&r)
            .file_metadata()
            .num_rows()
    };
    assert_eq!(rows("recordings"), 1);
    assert_eq!(rows("sync_state"), 1);
    assert_eq!(rows("record_operations"), 6);
    assert_eq!(rows("pstn_calls"), 5);
    assert_eq!(rows("notifications"), 4);
    assert!(!out.join("sms_logs").join("_delta_log").exists());
}

/// The `.parquet` files under `dir`, recursively.
fn parquet_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            if p.is_dir() {
                parquet_files(&p)
            } else {
                usize::from(p.extension().is_some_and(|e| e == "parquet"))
            }
        })
        .sum()
}

#[test]
fn optimize_and_vacuum_compact_the_side_tables_and_keep_their_rows() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let lake_s = lake.display().to_string();
    // Three runs, each merging into pstn_calls: three data files where one would do.
    for pages in [
        &["pstn-calls.1.json"][..],
        &["pstn-calls.2.json"],
        &["pstn-calls.1.json"],
    ] {
        let files: Vec<std::path::PathBuf> =
            pages.iter().map(|p| sample(&format!("logs/{p}"))).collect();
        let files: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
        assert_eq!(convert(&files, &lake).0, 0);
    }
    let before = query(&lake, "SELECT * FROM pstn_calls ORDER BY id");
    assert_eq!(before.len(), 5);
    assert!(parquet_files(&lake.join("pstn_calls")) >= 3);
    let o = crate::common::cqlake(&["optimize", "--lake", &lake_s]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("side tables: "), "{out}");
    assert_eq!(query(&lake, "SELECT * FROM pstn_calls ORDER BY id"), before);
    let o = crate::common::cqlake(&["vacuum", "--lake", &lake_s, "--retain-hours", "0"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(parquet_files(&lake.join("pstn_calls")), 1);
    assert_eq!(query(&lake, "SELECT * FROM pstn_calls ORDER BY id"), before);
}
