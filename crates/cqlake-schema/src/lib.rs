//! The cqlake lake, as data.
//!
//! Microsoft Graph call records are a tree: callRecord → sessions → segments → media → streams,
//! with participants beside the sessions. cqlake stores them as six tables whose columns are the
//! snake_case of the Graph property path, nested objects joined with `_`. This crate holds those
//! tables as data ([`tables()`]), built from the Graph types written down once in [`graph`]; the
//! flattener, the lake writer, the SQL engine and `cqlake schema` all read them from here.
//!
//! ```
//! use cqlake_schema::TableId;
//!
//! let streams = TableId::Streams.table();
//! assert!(streams.column_index("average_jitter_ms").is_some());
//! assert_eq!(streams.schema().field_with_name("call_id").unwrap().is_nullable(), false);
//! ```
#![deny(missing_docs)]

pub mod batch;
pub mod calendar;
pub mod graph;
mod render;
mod side;
mod tables;

pub use graph::Leaf;
pub use render::{markdown_reference, table_names, text_reference};
pub use side::{Derived, Merge, SideDef, SideTable, side_tables};
pub use tables::{
    Column, ColumnRole, EXTRA, GroupPlan, Key, PARTITION_COLUMN, PropPlan, Table, TableId, UTC,
    WideColumn, WideSource, list_of, streams_wide, tables,
};

#[cfg(test)]
mod coverage {
    //! Every property the Graph schema declares for the call-record types has a column.
    use super::graph::{self, Group, PropKind};
    use std::collections::BTreeSet;

    /// Graph type (namespace-less) → the group that holds its properties, and the properties
    /// that are structure (keys and child tables) rather than columns.
    fn group_of(graph_type: &str) -> Option<(&'static Group, &'static [&'static str])> {
        let t = graph_type
            .trim_start_matches("microsoft.graph.")
            .trim_start_matches("callRecords.");
        Some(match t {
            "callRecord" => (
                &graph::CALL_RECORD,
                &["id", "sessions", "participants", "participants_v2"],
            ),
            "session" => (&graph::SESSION, &["id", "segments"]),
            "segment" => (&graph::SEGMENT, &["id", "media"]),
            "media" => (&graph::MEDIA, &["streams"]),
            "mediaStream" => (&graph::MEDIA_STREAM, &[]),
            "networkInfo" => (&graph::NETWORK_INFO, &[]),
            "deviceInfo" => (&graph::DEVICE_INFO, &[]),
            "endpoint" | "participantEndpoint" | "serviceEndpoint" => (&graph::ENDPOINT, &[]),
            "userAgent" | "clientUserAgent" | "serviceUserAgent" => (&graph::USER_AGENT, &[]),
            "userFeedback" => (&graph::USER_FEEDBACK, &[]),
            "failureInfo" => (&graph::FAILURE_INFO, &[]),
            "traceRouteHop" => (&graph::TRACE_ROUTE_HOP, &[]),
            "administrativeUnitInfo" => (&graph::ADMINISTRATIVE_UNIT_INFO, &[]),
            "participantBase" | "participant" | "organizer" => (&graph::PARTICIPANT_WITH_ID, &[]),
            "entity" => (&graph::PARTICIPANT_WITH_ID, &[]),
            "identitySet" | "communicationsIdentitySet" => (&graph::IDENTITY_SET, &[]),
            "callRecording" => (&graph::CALL_RECORDING, &["content"]),
            "commsOperation" => (&graph::RECORD_OPERATION, &[]),
            "recordOperation" => (&graph::RECORD_OPERATION, &["recordingAccessToken"]),
            "resultInfo" => (&graph::RESULT_INFO, &[]),
            "callLogRow" | "pstnCallLogRow" => (&graph::PSTN_CALL_LOG_ROW, &[]),
            "directRoutingLogRow" => (&graph::DIRECT_ROUTING_LOG_ROW, &[]),
            "smsLogRow" => (&graph::SMS_LOG_ROW, &[]),
            "pstnBlockedUsersLogRow" => (&graph::PSTN_BLOCKED_USERS_LOG_ROW, &[]),
            "pstnOnlineMeetingDialoutReport" => (&graph::PSTN_ONLINE_MEETING_DIALOUT_REPORT, &[]),
            "identity"
            | "userIdentity"
            | "communicationsUserIdentity"
            | "communicationsGuestIdentity"
            | "communicationsPhoneIdentity"
            | "communicationsApplicationIdentity"
            | "communicationsApplicationInstanceIdentity"
            | "communicationsEncryptedIdentity"
            | "azureCommunicationServicesUserIdentity" => (&graph::IDENTITY, &[]),
            _ => return None,
        })
    }

    #[test]
    fn every_call_record_property_in_the_graph_schema_has_a_column() {
        let tsv = include_str!("../graph/properties.tsv");
        let mut missing = BTreeSet::new();
        let mut checked = 0;
        for line in tsv.lines().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            let (ty, prop) = (f[1], f[2]);
            let Some((group, structural)) = group_of(ty) else {
                continue;
            };
            checked += 1;
            if structural.contains(&prop) || group.prop(prop).is_some() {
                continue;
            }
            missing.insert(format!("{ty}.{prop}"));
        }
        assert!(checked > 350, "only {checked} properties checked");
        assert!(
            missing.is_empty(),
            "properties without a column: {missing:#?}"
        );
    }

    #[test]
    fn object_lists_hold_only_scalars() {
        fn walk(g: &Group) {
            for p in g.props {
                match p.kind {
                    PropKind::Leaf(_) => {}
                    PropKind::Object(c) => walk(c),
                    PropKind::ObjectList(c) => {
                        assert!(c.props.iter().all(|p| matches!(p.kind, PropKind::Leaf(_))))
                    }
                }
            }
        }
        walk(&graph::CALL_RECORD);
        walk(&graph::SESSION);
        walk(&graph::MEDIA);
    }
}
