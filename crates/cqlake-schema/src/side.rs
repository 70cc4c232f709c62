//! The side tables: the Graph call data that is not a call record's tree (recordings, record
//! operations, PSTN, direct-routing and SMS logs, change notifications), one flat table each.
//!
//! Each table is expanded from one Graph type in [`crate::graph`] like the call tables, with
//! the columns cqlake derives from the document around the object first ([`ColumnRole::Derived`]),
//! and an `extra` column for keys the schema does not declare. Rows are identified by
//! [`SideDef::key`]: a row converted again replaces the lake's copy (see [`Merge`]).

use std::sync::OnceLock;

use arrow::datatypes::{DataType, SchemaRef, TimeUnit};

use crate::graph::{self, Group};
use crate::tables::{Builder, Column, ColumnRole, GroupPlan, UTC, schema_of};

/// The side tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SideTable {
    /// One row per `callRecording` (delta and `getAllRecordings` pages).
    Recordings,
    /// One row per recordings query (organizer): where its delta sync stands.
    SyncState,
    /// One row per `recordOperation` (the call `record` action and its notifications).
    RecordOperations,
    /// One row per `pstnCallLogRow` (`getPstnCalls`).
    PstnCalls,
    /// One row per `directRoutingLogRow` (`getDirectRoutingCalls`).
    DirectRoutingCalls,
    /// One row per `smsLogRow` (`getSmsLog`, beta).
    SmsLogs,
    /// One row per `pstnBlockedUsersLogRow` (`getPstnBlockedUsersLog`, beta).
    PstnBlockedUsers,
    /// One row per `pstnOnlineMeetingDialoutReport` row (`getPstnOnlineMeetingDialoutReport`, beta).
    PstnDialoutReport,
    /// One row per change notification of a `/communications/callRecords` subscription.
    Notifications,
    /// `cqlake pull`'s state: its runs, the window each kind of data is pulled up to, and the
    /// call records not ready yet.
    PullState,
}

/// How a side table decides between two rows with the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// The row converted last wins (a later run over an earlier one; within a run, the later
    /// input position).
    Latest,
    /// The row whose `status` is furthest along wins (`notStarted` < `running` < `completed`,
    /// `failed`), then the row converted last: a late `running` never hides a `completed`.
    Status,
    /// Rows of the same query fold into one: the newest `@odata.deltaLink` and the newest
    /// `@odata.nextLink` (by when their page was exported), counts summed.
    Sync,
}

impl SideTable {
    /// Every side table.
    pub const ALL: [SideTable; 10] = [
        SideTable::Recordings,
        SideTable::SyncState,
        SideTable::RecordOperations,
        SideTable::PstnCalls,
        SideTable::DirectRoutingCalls,
        SideTable::SmsLogs,
        SideTable::PstnBlockedUsers,
        SideTable::PstnDialoutReport,
        SideTable::Notifications,
        SideTable::PullState,
    ];

    /// The table's name in the lake.
    pub fn name(self) -> &'static str {
        match self {
            SideTable::Recordings => "recordings",
            SideTable::SyncState => "sync_state",
            SideTable::RecordOperations => "record_operations",
            SideTable::PstnCalls => "pstn_calls",
            SideTable::DirectRoutingCalls => "direct_routing_calls",
            SideTable::SmsLogs => "sms_logs",
            SideTable::PstnBlockedUsers => "pstn_blocked_users",
            SideTable::PstnDialoutReport => "pstn_dialout_report",
            SideTable::Notifications => "notifications",
            SideTable::PullState => "pull_state",
        }
    }

    /// The side table whose name is `name`.
    pub fn from_name(name: &str) -> Option<SideTable> {
        SideTable::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Position in [`SideTable::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The table's definition.
    pub fn def(self) -> &'static SideDef {
        &side_tables()[self.index()]
    }

    /// How rows with the same key merge.
    pub fn merge(self) -> Merge {
        match self {
            SideTable::RecordOperations => Merge::Status,
            SideTable::SyncState => Merge::Sync,
            _ => Merge::Latest,
        }
    }

    /// One line saying what a row is.
    pub fn doc(self) -> &'static str {
        match self {
            SideTable::Recordings => {
                "one row per `callRecording` of the recordings delta query (`getAllRecordings`); pages of every sync round merge by `id`"
            }
            SideTable::SyncState => {
                "one row per recordings delta query (its URL without the state token): the newest `@odata.deltaLink` and `@odata.nextLink` seen, and the link to resume with"
            }
            SideTable::RecordOperations => {
                "one row per `recordOperation` (the call `record` action, and the `commsNotifications` that carry it); the access token is never stored"
            }
            SideTable::PstnCalls => "one row per `pstnCallLogRow` (`getPstnCalls`)",
            SideTable::DirectRoutingCalls => {
                "one row per `directRoutingLogRow` (`getDirectRoutingCalls`)"
            }
            SideTable::SmsLogs => "one row per `smsLogRow` (`getSmsLog`, beta)",
            SideTable::PstnBlockedUsers => {
                "one row per `pstnBlockedUsersLogRow` (`getPstnBlockedUsersLog`, beta)"
            }
            SideTable::PstnDialoutReport => {
                "one row per `pstnOnlineMeetingDialoutReport` row (`getPstnOnlineMeetingDialoutReport`, beta); identical rows are one"
            }
            SideTable::Notifications => {
                "one row per change notification of a `/communications/callRecords` subscription (ids only); the `clientState` secret is never stored"
            }
            SideTable::PullState => {
                "`cqlake pull`'s state, written by pull only: one `run` row per run, one `window` row per kind of data (how far it is pulled), one `record` row per call record that answered 404 (pending, later fetched or given up)"
            }
        }
    }

    fn group(self) -> Option<&'static Group> {
        Some(match self {
            SideTable::Recordings => &graph::CALL_RECORDING,
            SideTable::SyncState | SideTable::PullState => return None,
            SideTable::RecordOperations => &graph::RECORD_OPERATION,
            SideTable::PstnCalls => &graph::PSTN_CALL_LOG_ROW,
            SideTable::DirectRoutingCalls => &graph::DIRECT_ROUTING_LOG_ROW,
            SideTable::SmsLogs => &graph::SMS_LOG_ROW,
            SideTable::PstnBlockedUsers => &graph::PSTN_BLOCKED_USERS_LOG_ROW,
            SideTable::PstnDialoutReport => &graph::PSTN_ONLINE_MEETING_DIALOUT_REPORT,
            SideTable::Notifications => &graph::CHANGE_NOTIFICATION,
        })
    }

    /// The derived columns: name, type, nullable, what it holds.
    fn derived(self) -> &'static [(&'static str, Derived, bool, &'static str)] {
        use Derived::*;
        match self {
            SideTable::SyncState => &[
                (
                    "query",
                    Str,
                    false,
                    "the delta query: its @odata.deltaLink / @odata.nextLink without the skipToken or deltaToken",
                ),
                (
                    "organizer_user_id",
                    Str,
                    true,
                    "meetingOrganizerUserId of the query",
                ),
                (
                    "resume_link",
                    Str,
                    true,
                    "the link to call next: the newest nextLink while a round is under way, else the newest deltaLink",
                ),
                (
                    "round_complete",
                    Bool,
                    true,
                    "whether the newest page seen ended a round (had an @odata.deltaLink)",
                ),
                ("delta_link", Str, true, "the newest @odata.deltaLink seen"),
                (
                    "delta_link_seen_at",
                    Timestamp,
                    true,
                    "when the page with delta_link was exported (its file's modification time; the conversion time for standard input)",
                ),
                (
                    "delta_link_source",
                    Str,
                    true,
                    "the file delta_link was read from",
                ),
                ("next_link", Str, true, "the newest @odata.nextLink seen"),
                (
                    "next_link_seen_at",
                    Timestamp,
                    true,
                    "when the page with next_link was exported",
                ),
                (
                    "next_link_source",
                    Str,
                    true,
                    "the file next_link was read from",
                ),
                ("pages", Int64, false, "pages of the query converted"),
                (
                    "recordings",
                    Int64,
                    false,
                    "recordings on those pages (counted again if a page is converted again)",
                ),
            ],
            SideTable::RecordOperations => &[
                (
                    "call_id",
                    Str,
                    true,
                    "the call id in the notification's resourceUrl (/communications/calls/{id}/operations/…)",
                ),
                (
                    "change_type",
                    Str,
                    true,
                    "commsNotification.changeType (null for a bare recordOperation)",
                ),
                ("resource_url", Str, true, "commsNotification.resourceUrl"),
                (
                    "recording_location_given",
                    Bool,
                    false,
                    "whether recordingLocation was set",
                ),
                (
                    "recording_access_token_redacted",
                    Bool,
                    false,
                    "whether a recordingAccessToken was present (and left out)",
                ),
            ],
            SideTable::PullState => &[
                (
                    "key",
                    Str,
                    false,
                    "a `record` row: the call id; a `window` row: the kind (`call-records`, `pstn`, …); a `run` row: when the run started",
                ),
                ("kind", Str, false, "`run`, `window` or `record`"),
                (
                    "status",
                    Str,
                    true,
                    "`record`: `pending` (answered 404), `fetched` (got on a later run), `given_up` (past Graph's 30 days, never got); `run`: `complete` or `failed`",
                ),
                (
                    "call_start",
                    Timestamp,
                    true,
                    "`record`: the call's startDateTime as listed",
                ),
                ("version", Int64, true, "`record`: the version listed"),
                (
                    "last_modified",
                    Timestamp,
                    true,
                    "`record`: the lastModifiedDateTime listed",
                ),
                (
                    "first_seen",
                    Timestamp,
                    true,
                    "`record`: when it first answered 404",
                ),
                (
                    "last_attempt",
                    Timestamp,
                    true,
                    "`record`: when it was last asked for; `run`: when the run ended",
                ),
                (
                    "attempts",
                    Int64,
                    true,
                    "`record`: how many runs asked for it",
                ),
                (
                    "window_from",
                    Timestamp,
                    true,
                    "`run`, `window`: the start of the window pulled",
                ),
                (
                    "window_to",
                    Timestamp,
                    true,
                    "`run`: the end of the window pulled; `window`: the latest end pulled completely (the next run starts 3 days before it)",
                ),
                ("listed", Int64, true, "`run`: call records listed"),
                (
                    "fetched",
                    Int64,
                    true,
                    "`run`: call records got (new, newer, or pending before)",
                ),
                (
                    "unchanged",
                    Int64,
                    true,
                    "`run`: call records listed with the version the lake holds",
                ),
                (
                    "pending",
                    Int64,
                    true,
                    "`run`: call records that answered 404",
                ),
                ("given_up", Int64, true, "`run`: pending records given up"),
                (
                    "log_rows",
                    Int64,
                    true,
                    "`run`: rows of the PSTN-type logs read",
                ),
                ("recordings", Int64, true, "`run`: recordings read"),
                ("requests", Int64, true, "`run`: Graph requests"),
                ("throttled", Int64, true, "`run`: answers 429"),
                (
                    "error",
                    Str,
                    true,
                    "`run`: why a failed run stopped (never a secret)",
                ),
            ],
            SideTable::Notifications => &[
                (
                    "call_id",
                    Str,
                    true,
                    "the call record id in resource (communications/callRecords/{id}) or resourceData.id",
                ),
                (
                    "client_state_redacted",
                    Bool,
                    false,
                    "whether a clientState was present (and left out)",
                ),
            ],
            _ => &[],
        }
    }

    /// The column that dates a row (the call, message or event it records), for `purge`:
    /// `None` for the tables whose rows are not dated so (state, operations, notifications,
    /// the dial-out report's totals).
    pub fn date_column(self) -> Option<&'static str> {
        match self {
            SideTable::Recordings => Some("created_date_time"),
            SideTable::PstnCalls | SideTable::DirectRoutingCalls => Some("start_date_time"),
            SideTable::SmsLogs => Some("sent_date_time"),
            SideTable::PstnBlockedUsers => Some("block_date_time"),
            _ => None,
        }
    }

    /// The names of the key columns.
    fn key_names(self) -> &'static [&'static str] {
        match self {
            SideTable::SyncState => &["query"],
            SideTable::PullState => &["key", "kind"],
            SideTable::PstnBlockedUsers => &["user_id", "block_date_time", "user_block_mode"],
            SideTable::PstnDialoutReport => &[
                "user_id",
                "usage_location",
                "destination_context",
                "currency",
                "total_calls",
                "total_call_ms",
                "total_call_charge",
            ],
            SideTable::Notifications => &[
                "call_id",
                "subscription_id",
                "change_type",
                "lifecycle_event",
            ],
            _ => &["id"],
        }
    }
}

/// The type of a derived column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derived {
    /// Utf8.
    Str,
    /// Boolean.
    Bool,
    /// Int64.
    Int64,
    /// Timestamp(µs, UTC).
    Timestamp,
}

impl Derived {
    fn data_type(self) -> DataType {
        match self {
            Derived::Str => DataType::Utf8,
            Derived::Bool => DataType::Boolean,
            Derived::Int64 => DataType::Int64,
            Derived::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
        }
    }
}

/// The derived columns that hold personal data: a recordings query names its organizer's user
/// id, in its own column and inside its links.
const PERSONAL_DERIVED: &[(SideTable, &str)] = &[
    (SideTable::SyncState, "query"),
    (SideTable::SyncState, "organizer_user_id"),
    (SideTable::SyncState, "resume_link"),
    (SideTable::SyncState, "delta_link"),
    (SideTable::SyncState, "next_link"),
];

/// A side table: its columns, and how its Graph object lands in them.
#[derive(Debug)]
pub struct SideDef {
    /// Which table.
    pub id: SideTable,
    /// Derived columns, then the Graph type's columns, then `extra`.
    pub columns: Vec<Column>,
    /// How the Graph object lands in the columns (none for `sync_state`, all derived).
    pub plan: Option<GroupPlan>,
    /// The `extra` column (none for `sync_state`).
    pub extra: Option<usize>,
    /// The key columns: rows with equal values in all of them are one row. The first is the
    /// column a replacement selects the lake's rows by.
    pub key: Vec<usize>,
    schema: SchemaRef,
}

impl SideDef {
    /// The table's name.
    pub fn name(&self) -> &'static str {
        self.id.name()
    }

    /// The Arrow schema.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The index of column `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// Every side table, in [`SideTable::ALL`] order.
pub fn side_tables() -> &'static [SideDef] {
    static TABLES: OnceLock<Vec<SideDef>> = OnceLock::new();
    TABLES.get_or_init(|| SideTable::ALL.into_iter().map(build).collect())
}

fn build(id: SideTable) -> SideDef {
    let mut b = Builder {
        columns: Vec::new(),
    };
    for &(name, d, nullable, source) in id.derived() {
        b.columns.push(Column {
            name: name.into(),
            data_type: d.data_type(),
            nullable,
            source: source.into(),
            role: ColumnRole::Derived,
            personal: PERSONAL_DERIVED.contains(&(id, name)),
        });
    }
    let (plan, extra) = match id.group() {
        Some(g) => {
            let source = g.graph_type.rsplit('.').next().unwrap_or(g.graph_type);
            let plan = b.group(g, "", source);
            (Some(plan), Some(b.extra(source)))
        }
        None => (None, None),
    };
    let columns = b.columns;
    let key = id
        .key_names()
        .iter()
        .map(|n| {
            columns
                .iter()
                .position(|c| c.name == *n)
                .unwrap_or_else(|| panic!("{}: no key column {n}", id.name()))
        })
        .collect();
    let schema = schema_of(&columns);
    SideDef {
        id,
        columns,
        plan,
        extra,
        key,
        schema,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_keys_exist() {
        let mut names: HashSet<&str> = crate::TableId::ALL.iter().map(|t| t.name()).collect();
        for t in SideTable::ALL {
            assert!(names.insert(t.name()), "{} is taken", t.name());
            let d = t.def();
            let mut seen = HashSet::new();
            for c in &d.columns {
                assert!(
                    seen.insert(c.name.as_str()),
                    "{}: duplicate {}",
                    t.name(),
                    c.name
                );
            }
            assert!(!d.key.is_empty());
            assert_eq!(SideTable::from_name(t.name()), Some(t));
        }
    }

    #[test]
    fn charges_are_decimals_and_durations_milliseconds() {
        let pstn = SideTable::PstnCalls.def();
        let ty = |n: &str| {
            pstn.schema()
                .field_with_name(n)
                .unwrap_or_else(|_| panic!("no {n}"))
                .data_type()
                .clone()
        };
        assert_eq!(ty("charge"), DataType::Decimal128(38, 10));
        assert_eq!(ty("connection_charge"), DataType::Decimal128(38, 10));
        assert_eq!(ty("duration_ms"), DataType::Float64);
        assert!(matches!(ty("start_date_time"), DataType::Timestamp(_, _)));
        let rec = SideTable::Recordings.def();
        for n in [
            "meeting_organizer_user_id",
            "meeting_organizer_user_user_identity_type",
            "meeting_organizer_user_tenant_id",
            "created_date_time",
        ] {
            assert!(rec.column_index(n).is_some(), "recordings lacks {n}");
        }
        // Secrets have no column.
        for d in side_tables() {
            for c in &d.columns {
                assert!(!c.name.contains("access_token") || c.name.ends_with("_redacted"));
                assert!(!c.name.starts_with("client_state") || c.name.ends_with("_redacted"));
            }
        }
    }
}
