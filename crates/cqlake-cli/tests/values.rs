//! Values outside the schema's letter, as real exports write them (issue 17, item 4): enum
//! values in another case, `@odata.type` without its `#`, subnets in CIDR notation, empty
//! strings for addresses, and the identity-set members the metadata does not declare.

use crate::common::{convert, csv, query, write};

/// One call, one session, one audio stream; the values under test are in the caller's user
/// agent, identities, failure information, network and the stream's direction.
const CALL: &str = r##"{
  "id": "c-values", "version": 1, "type": "GroupCall", "modalities": ["audio"],
  "startDateTime": "2024-05-01T10:00:00Z", "endDateTime": "2024-05-01T10:05:00Z",
  "sessions": [{
    "id": "s1", "startDateTime": "2024-05-01T10:00:00Z", "endDateTime": "2024-05-01T10:05:00Z",
    "caller": {
      "@odata.type": "microsoft.graph.callRecords.participantEndpoint",
      "userAgent": {"@odata.type": "#microsoft.graph.callRecords.clientUserAgent",
                    "platform": "Windows", "productFamily": "Teams"},
      "identity": {"@odata.type": "microsoft.graph.communicationsIdentitySet",
                   "acsUser": {"id": "8:acs:caller", "displayName": "Kiosk 4"},
                   "spoolUser": null, "acsApplicationInstance": null,
                   "spoolApplicationInstance": {"id": "8:spool:app", "tenantId": "t1"}}
    },
    "callee": {
      "userAgent": {"@odata.type": "#microsoft.graph.callRecords.serviceUserAgent",
                    "role": "SkypeForBusinessCallQueues"},
      "identity": {"applicationInstance": {"id": "cq1", "displayName": "Queue"}}
    },
    "failureInfo": {"stage": "MidCall", "reason": "x"},
    "segments": [{
      "id": "g1", "startDateTime": "2024-05-01T10:00:00Z", "endDateTime": "2024-05-01T10:05:00Z",
      "media": [{
        "label": "main-audio",
        "callerNetwork": {"ipAddress": "", "macAddress": "", "subnet": "",
                          "reflexiveIPAddress": "", "relayIPAddress": "52.112.0.1",
                          "connectionType": "WiFi", "wifiBand": "Frequency50GHz"},
        "calleeNetwork": {"ipAddress": "192.168.1.20", "subnet": "192.168.1.0/24",
                          "connectionType": "wired"},
        "streams": [{"streamId": "1", "streamDirection": "CallerToCallee",
                     "averageJitter": "PT0.005S", "averagePacketLossRate": 0.001,
                     "averageRoundTripTime": "PT0.02S", "averageAudioDegradation": 0.5}]
      }]
    }]
  }]
}"##;

#[test]
fn values_land_as_graph_spells_them() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let f = write(dir.path(), "call.json", CALL.as_bytes());
    let (code, s) = convert(&[&f], &lake);
    assert_eq!(code, 0, "{s}");
    // Enums: the member's spelling; the record's own in `extra`.
    assert_eq!(
        query(
            &lake,
            "SELECT caller_user_agent_platform, caller_user_agent_product_family, \
             callee_user_agent_role, failure_info_stage, extra FROM sessions"
        ),
        [[
            "windows",
            "teams",
            "skypeForBusinessCallQueues",
            "midcall",
            r#"{"caller.userAgent.platform@cqlake.raw":"Windows","caller.userAgent.productFamily@cqlake.raw":"Teams","callee.userAgent.role@cqlake.raw":"SkypeForBusinessCallQueues","failureInfo.stage@cqlake.raw":"MidCall"}"#,
        ]]
    );
    assert_eq!(
        query(&lake, "SELECT type, extra FROM calls"),
        [["groupCall", r#"{"type@cqlake.raw":"GroupCall"}"#]]
    );
    // `@odata.type` with its `#`, whether the record wrote it or not.
    assert_eq!(
        query(
            &lake,
            "SELECT caller_odata_type, caller_identity_odata_type, caller_user_agent_odata_type \
             FROM sessions"
        ),
        [[
            "#microsoft.graph.callRecords.participantEndpoint",
            "#microsoft.graph.communicationsIdentitySet",
            "#microsoft.graph.callRecords.clientUserAgent",
        ]]
    );
    // The identity-set members real bodies carry have columns of their own.
    assert_eq!(
        query(
            &lake,
            "SELECT caller_identity_acs_user_id, caller_identity_acs_user_display_name, \
             caller_identity_spool_application_instance_id, \
             caller_identity_spool_application_instance_tenant_id, \
             caller_identity_spool_user_id FROM sessions"
        ),
        [["8:acs:caller", "Kiosk 4", "8:spool:app", "t1", "NULL"]]
    );
    // Addresses: empty strings are null; a CIDR subnet is its network address and prefix.
    assert_eq!(
        query(
            &lake,
            "SELECT caller_network_ip_address, caller_network_mac_address, caller_network_subnet, \
             caller_network_reflexive_ip_address, caller_network_relay_ip_address, \
             caller_network_connection_type, caller_network_wifi_band, callee_network_subnet, \
             callee_network_subnet_prefix_length, caller_network_subnet_prefix_length FROM media"
        ),
        [[
            "NULL",
            "NULL",
            "NULL",
            "NULL",
            "52.112.0.1",
            "wifi",
            "frequency50GHz",
            "192.168.1.0",
            "24",
            "NULL"
        ]]
    );
    // The stream's direction is the member: `stream_sides` picks the receiving (callee) side.
    assert_eq!(
        csv(
            &lake,
            &[
                "sql",
                "SELECT stream_direction, to_caller, rx_subnet, rx_subnet_prefix_length FROM stream_sides",
            ]
        ),
        "stream_direction,to_caller,rx_subnet,rx_subnet_prefix_length\ncallerToCallee,false,192.168.1.0,24\n"
    );
}

#[test]
fn a_cidr_subnet_matches_only_building_ranges_no_narrower_than_its_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let f = write(dir.path(), "call.json", CALL.as_bytes());
    assert_eq!(convert(&[&f], &lake).0, 0);
    // A /28 range holds the subnet's address but is narrower than the subnet's /24: the /16
    // building is the match.
    let buildings = write(
        dir.path(),
        "buildings.csv",
        b"192.168.0.0,Campus,16,Campus Building,Contoso,Office,HQ,Redmond,98052,US,WA,NOAM,1,0,0\n\
192.168.1.0,Lab,28,Lab Room,Contoso,Office,HQ,Redmond,98052,US,WA,NOAM,1,0,0\n",
    );
    let text = csv(
        &lake,
        &[
            "report",
            "buildings",
            "--buildings",
            &buildings.display().to_string(),
        ],
    );
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{text}");
    assert!(rows[0].starts_with("Campus Building,Redmond,US,"), "{text}");
}
