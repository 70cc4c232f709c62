//! Where a person is in a table: the scopes of personal columns that belong to one person
//! (an endpoint of a session or segment, an organizer, a participant, a log row), derived from
//! the columns' Graph paths. `cqlake forget` finds a person by the ids of a scope and erases
//! the whole scope; the network addresses of the endpoint they used go by the segment.

use cqlake_schema::{Column, ColumnRole};

/// The personal columns of one person in a row, and those that say who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The Graph path the scope's columns share (`session.caller`, `callRecord.organizer`,
    /// `participant`, `pstnCallLogRow`).
    pub path: String,
    /// Columns that identify the person: ids, UPNs, e-mail addresses, a user's telephone
    /// number.
    pub ids: Vec<String>,
    /// Columns of display names (matched only when a person is named by one).
    pub names: Vec<String>,
    /// Every personal column of the scope (set to null when the person is found in it).
    pub personal: Vec<String>,
}

/// The last segments of a Graph path that identify a person.
const ID_PROPS: &[&str] = &[
    "id",
    "userPrincipalName",
    "email",
    "userId",
    "userTelephoneNumber",
];
/// The last segments of a Graph path that name a person.
const NAME_PROPS: &[&str] = &["displayName", "userDisplayName"];
/// Personal columns that name the organizer inside a link or id (they follow the organizer).
const ORGANIZER_LINKS: &[&str] = &["callRecord.joinWebUrl"];

/// The Graph path of column `c` as segments (`[]` of list items dropped), `None` for columns
/// without one (keys other than the participant id, `extra`, derived columns).
fn path(c: &Column) -> Option<Vec<&str>> {
    match c.role {
        ColumnRole::Extra | ColumnRole::Derived => return None,
        ColumnRole::Key(_) if c.name != "participant_id" => return None,
        _ => {}
    }
    Some(
        c.source
            .split('.')
            .map(|s| s.trim_end_matches("[]"))
            .collect(),
    )
}

/// The scope a personal column belongs to, `None` for the network columns of media (see
/// [`network_columns`]).
fn scope_of(segments: &[&str]) -> Option<String> {
    match segments {
        ["callRecord", who @ ("organizer" | "organizer_v2"), ..] => {
            Some(format!("callRecord.{who}"))
        }
        [
            parent @ ("session" | "segment"),
            side @ ("caller" | "callee"),
            ..,
        ] => Some(format!("{parent}.{side}")),
        ["media", ..] => None,
        [first, ..] => Some(first.to_string()),
        [] => None,
    }
}

/// The scopes of a table whose columns are `columns`.
pub fn scopes(columns: &[Column]) -> Vec<Scope> {
    let mut out: Vec<Scope> = Vec::new();
    let mut links: Vec<String> = Vec::new();
    for c in columns.iter().filter(|c| c.personal) {
        let Some(segments) = path(c) else { continue };
        if ORGANIZER_LINKS.contains(&c.source.as_str()) {
            links.push(c.name.clone());
            continue;
        }
        let Some(scope) = scope_of(&segments) else {
            continue;
        };
        let i = match out.iter().position(|s| s.path == scope) {
            Some(i) => i,
            None => {
                out.push(Scope {
                    path: scope,
                    ids: Vec::new(),
                    names: Vec::new(),
                    personal: Vec::new(),
                });
                out.len() - 1
            }
        };
        let s = &mut out[i];
        let last = *segments.last().expect("a path has a segment");
        let list = matches!(c.role, ColumnRole::Value { list: true, .. });
        if ID_PROPS.contains(&last) && !list {
            s.ids.push(c.name.clone());
        } else if NAME_PROPS.contains(&last) && !list {
            s.names.push(c.name.clone());
        }
        s.personal.push(c.name.clone());
    }
    for s in &mut out {
        if s.path.starts_with("callRecord.organizer") {
            s.personal.extend(links.iter().cloned());
        }
    }
    out
}

/// The personal columns of the network a segment's `side` (`caller` or `callee`) used, in a
/// table of media or streams (empty for other tables).
pub fn network_columns(columns: &[Column], side: &str) -> Vec<String> {
    let prefix = format!("{side}Network");
    columns
        .iter()
        .filter(|c| c.personal)
        .filter(|c| path(c).is_some_and(|p| p.len() > 2 && p[0] == "media" && p[1] == prefix))
        .map(|c| c.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqlake_schema::{SideTable, TableId};

    fn scope<'a>(scopes: &'a [Scope], path: &str) -> &'a Scope {
        scopes
            .iter()
            .find(|s| s.path == path)
            .unwrap_or_else(|| panic!("no scope {path} in {scopes:#?}"))
    }

    #[test]
    fn endpoints_organizers_participants_and_log_rows_are_scopes() {
        let sessions = scopes(&TableId::Sessions.table().columns);
        let caller = scope(&sessions, "session.caller");
        assert!(caller.ids.contains(&"caller_identity_user_id".to_string()));
        assert!(
            caller
                .ids
                .contains(&"caller_identity_user_user_principal_name".to_string())
        );
        assert!(
            caller
                .names
                .contains(&"caller_identity_user_display_name".to_string())
        );
        for c in [
            "caller_name",
            "caller_feedback_text",
            "caller_identity_user_ip_address",
        ] {
            assert!(caller.personal.contains(&c.to_string()), "{c}");
        }
        assert!(!caller.personal.iter().any(|c| c.starts_with("callee_")));
        // The application's id is not personal, so it does not identify a person.
        assert!(
            !caller
                .ids
                .contains(&"caller_identity_application_id".to_string())
        );

        let calls = scopes(&TableId::Calls.table().columns);
        let organizer = scope(&calls, "callRecord.organizer");
        assert!(organizer.personal.contains(&"join_web_url".to_string()));
        assert!(
            scope(&calls, "callRecord.organizer_v2")
                .ids
                .contains(&"organizer_v2_id".to_string())
        );

        let participants = scopes(&TableId::Participants.table().columns);
        assert_eq!(participants.len(), 1);
        assert!(participants[0].ids.contains(&"participant_id".to_string()));

        let streams = scopes(&TableId::Streams.table().columns);
        assert!(
            scope(&streams, "segment.callee")
                .ids
                .contains(&"segment_callee_identity_user_id".to_string())
        );
        assert!(
            scope(&streams, "callRecord.organizer")
                .ids
                .contains(&"call_organizer_user_id".to_string())
        );

        let pstn = scopes(&SideTable::PstnCalls.def().columns);
        assert_eq!(pstn.len(), 1);
        let row = &pstn[0];
        assert_eq!(row.path, "pstnCallLogRow");
        assert!(
            row.ids.contains(&"user_id".to_string())
                && row.ids.contains(&"user_principal_name".to_string())
        );
        assert!(row.personal.contains(&"caller_number".to_string()));
        assert!(
            row.personal
                .contains(&"client_public_ip_v4_address".to_string())
        );
    }

    #[test]
    fn the_network_of_a_side_is_its_addresses() {
        let media = network_columns(&TableId::Media.table().columns, "caller");
        for c in [
            "caller_network_ip_address",
            "caller_network_reflexive_ip_address",
            "caller_network_mac_address",
            "caller_network_basic_service_set_identifier",
            "caller_network_trace_route_hops_ip_address",
        ] {
            assert!(media.contains(&c.to_string()), "{c}");
        }
        assert!(
            !media
                .iter()
                .any(|c| c.contains("relay") || c.contains("callee"))
        );
        assert_eq!(
            network_columns(&TableId::Streams.table().columns, "callee").len(),
            5
        );
        assert!(network_columns(&TableId::Sessions.table().columns, "caller").is_empty());
    }
}
