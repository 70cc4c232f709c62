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

/// The JSON keys of Graph properties that hold personal data (the last segment of every
/// personal column's path), `id` included: inside a person's objects every one of them is
/// theirs.
pub fn personal_keys() -> &'static std::collections::BTreeSet<String> {
    static KEYS: std::sync::OnceLock<std::collections::BTreeSet<String>> =
        std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let call = cqlake_schema::tables()
            .iter()
            .flat_map(|t| t.columns.iter());
        let side = cqlake_schema::side_tables()
            .iter()
            .flat_map(|t| t.columns.iter());
        call.chain(side)
            .filter(|c| c.personal)
            .filter_map(|c| path(c).and_then(|p| p.last().map(|s| s.to_string())))
            .collect()
    })
}

/// The keys of Graph objects whose presence makes an object one person's: an identity set's
/// members, a participant's `identity`, a log row's user.
const PERSON_KEYS: &[&str] = &["identity", "userId", "userPrincipalName", "user"];

/// Whether `v` (an object of a raw Graph document) is one of the person's: a string under one
/// of its identifying keys, at any depth of its identity, is one of `ids`.
fn is_theirs(v: &serde_json::Value, ids: &std::collections::BTreeSet<String>) -> bool {
    fn holds(v: &serde_json::Value, ids: &std::collections::BTreeSet<String>) -> bool {
        match v {
            serde_json::Value::Object(m) => m.iter().any(|(k, v)| match v {
                serde_json::Value::String(s) => ID_PROPS.contains(&k.as_str()) && ids.contains(s),
                other => holds(other, ids),
            }),
            _ => false,
        }
    }
    let Some(m) = v.as_object() else {
        return false;
    };
    PERSON_KEYS.iter().any(|k| match m.get(*k) {
        Some(serde_json::Value::String(s)) => ids.contains(s),
        Some(other) => holds(other, ids),
        None => false,
    })
}

/// Every value of a personal key under `v` made null (but the `id` of `v` itself, a log row's,
/// unless it is one of `ids`); whether any was not null.
fn null_personal(v: &mut serde_json::Value, ids: &std::collections::BTreeSet<String>) -> bool {
    null_personal_at(v, ids, true)
}

fn null_personal_at(
    v: &mut serde_json::Value,
    ids: &std::collections::BTreeSet<String>,
    top: bool,
) -> bool {
    let keys = personal_keys();
    let mut changed = false;
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                let own_id = top && k == "id" && v.as_str().is_none_or(|s| !ids.contains(s));
                if own_id {
                    continue;
                }
                if keys.contains(k.as_str()) && (v.is_string() || v.is_array()) {
                    changed = true;
                    *v = serde_json::Value::Null;
                } else {
                    changed |= null_personal_at(v, ids, false);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                changed |= null_personal_at(v, ids, false);
            }
        }
        _ => {}
    }
    changed
}

/// A raw Graph document (a call record, a page of them, a log or recordings page) with one
/// person erased, as `cqlake forget` erases them from the tables: in every object that is
/// theirs (an endpoint, an organizer, a participant, a log row) every personal value becomes
/// null; in a segment where they are the caller or the callee, so do the personal values of
/// that side's network in its media; and anywhere else, a string that holds one of their `ids`
/// or is one of their `names`. Whether anything changed.
pub fn erase_from_document(
    v: &mut serde_json::Value,
    ids: &std::collections::BTreeSet<String>,
    names: &std::collections::BTreeSet<String>,
) -> bool {
    let mut changed = false;
    if let serde_json::Value::Object(m) = v {
        // A segment (or session): the network of the side that is theirs.
        for (side, network) in [("caller", "callerNetwork"), ("callee", "calleeNetwork")] {
            if m.get(side).is_some_and(|e| is_theirs(e, ids))
                && let Some(serde_json::Value::Array(media)) = m.get_mut("media")
            {
                for item in media {
                    if let Some(n) = item.get_mut(network) {
                        changed |= null_personal(n, ids);
                    }
                }
            }
        }
    }
    if is_theirs(v, ids) {
        changed |= null_personal(v, ids);
    }
    match v {
        serde_json::Value::Object(m) => {
            for v in m.values_mut() {
                changed |= erase_from_document(v, ids, names);
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                changed |= erase_from_document(v, ids, names);
            }
        }
        serde_json::Value::String(s) => {
            let named = names.contains(s.as_str());
            let holds_id = ids
                .iter()
                .any(|id| id.len() >= 4 && s.contains(id.as_str()));
            if named || holds_id {
                *v = serde_json::Value::Null;
                changed = true;
            }
        }
        _ => {}
    }
    changed
}

#[cfg(test)]
mod document_tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn a_raw_record_loses_the_person_and_keeps_the_rest() {
        let mut record = serde_json::json!({
            "id": "call-1",
            "joinWebUrl": "https://teams.microsoft.com/l/meetup-join/x?context=%7b%22Oid%22%3a%22u-jane%22%7d",
            "organizer_v2": {"id": "u-jane", "identity": {"user": {"id": "u-jane", "displayName": "Jane Doe"}}},
            "participants_v2": [
                {"id": "u-jane", "identity": {"user": {"id": "u-jane", "displayName": "Jane Doe"}}},
                {"id": "u-bob", "identity": {"user": {"id": "u-bob", "displayName": "Bob Roe"}}}
            ],
            "sessions": [{"id": "s1", "caller": {"name": "JANE-PC", "identity": {"user": {"id": "u-jane", "displayName": "Jane Doe"}}},
                "callee": {"name": "BOB-PC", "identity": {"user": {"id": "u-bob", "displayName": "Bob Roe"}}},
                "segments": [{"id": "g1",
                    "caller": {"name": "JANE-PC", "identity": {"user": {"id": "u-jane"}}},
                    "callee": {"name": "BOB-PC", "identity": {"user": {"id": "u-bob"}}},
                    "media": [{"callerNetwork": {"ipAddress": "10.0.0.7", "subnet": "10.0.0.0", "relayIPAddress": "52.1.1.1"},
                               "calleeNetwork": {"ipAddress": "10.0.0.9", "subnet": "10.0.0.0"},
                               "streams": [{"averageJitter": "PT0.01S"}]}]}]}]
        });
        let ids: BTreeSet<String> = ["u-jane".to_string()].into();
        let names: BTreeSet<String> = ["Jane Doe".to_string()].into();
        assert!(erase_from_document(&mut record, &ids, &names));
        let text = record.to_string();
        for gone in ["u-jane", "Jane Doe", "JANE-PC", "10.0.0.7"] {
            assert!(!text.contains(gone), "{gone} in {text}");
        }
        for kept in [
            "u-bob", "Bob Roe", "BOB-PC", "10.0.0.9", "10.0.0.0", "52.1.1.1", "PT0.01S", "call-1",
            "s1",
        ] {
            assert!(text.contains(kept), "{kept} gone from {text}");
        }
        assert!(
            !erase_from_document(&mut record, &ids, &names),
            "a second pass changes nothing"
        );
        // A log row keeps its own id.
        let mut row = serde_json::json!({"id": "row-1", "userId": "u-jane", "userDisplayName": "Jane Doe", "callerNumber": "+1555", "charge": 0.5});
        assert!(erase_from_document(&mut row, &ids, &names));
        assert_eq!(
            row,
            serde_json::json!({"id": "row-1", "userId": null, "userDisplayName": null, "callerNumber": null, "charge": 0.5})
        );
    }
}
