//! The six lake tables, expanded from the Graph types in [`crate::graph`].

use std::sync::{Arc, OnceLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::graph::{self, Group, Leaf, PropKind};

/// The timezone of every timestamp column.
pub const UTC: &str = "UTC";

/// The name of the column that keeps, as JSON text, every key of a row's objects that the schema
/// does not declare (object of dotted path → value).
pub const EXTRA: &str = "extra";

/// The partition column of every table: the UTC date the call started.
pub const PARTITION_COLUMN: &str = "call_start_date";

/// The lake's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableId {
    /// One row per call record.
    Calls,
    /// One row per entry of a call's `participants_v2` or legacy `participants`.
    Participants,
    /// One row per session.
    Sessions,
    /// One row per segment.
    Segments,
    /// One row per entry of a segment's `media`.
    Media,
    /// One row per media stream, with the context of its media and the most used context of
    /// its segment, session and call (all of it: the view `streams_wide`).
    Streams,
}

impl TableId {
    /// Every table, parents before children.
    pub const ALL: [TableId; 6] = [
        TableId::Calls,
        TableId::Participants,
        TableId::Sessions,
        TableId::Segments,
        TableId::Media,
        TableId::Streams,
    ];

    /// The table's name in the lake (its directory and its SQL name).
    pub fn name(self) -> &'static str {
        match self {
            TableId::Calls => "calls",
            TableId::Participants => "participants",
            TableId::Sessions => "sessions",
            TableId::Segments => "segments",
            TableId::Media => "media",
            TableId::Streams => "streams",
        }
    }

    /// The table whose name is `name`.
    pub fn from_name(name: &str) -> Option<TableId> {
        TableId::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Position in [`TableId::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The table's definition.
    pub fn table(self) -> &'static Table {
        &tables()[self.index()]
    }

    /// One line saying what a row is.
    pub fn doc(self) -> &'static str {
        match self {
            TableId::Calls => {
                "one row per call record (`callRecord`); the highest `version` of each call wins"
            }
            TableId::Participants => {
                "one row per entry of a call's `participants_v2` (and of the deprecated `participants` identity sets)"
            }
            TableId::Sessions => "one row per session of a call",
            TableId::Segments => "one row per segment of a session",
            TableId::Media => "one row per entry of a segment's `media` array",
            TableId::Streams => {
                "one row per media stream: every property of the stream and of its media, and the segment's, session's and call's dates, type, failures, user agents, feedback and identities (all of their columns: the view `streams_wide`)"
            }
        }
    }
}

/// Identifies a key column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// `call_id`: the call record's `id`.
    CallId,
    /// `call_start_date`: the UTC date of the call's `startDateTime`, the partition column.
    CallStartDate,
    /// `participant_source`: `participants_v2` or `participants` (deprecated identity sets).
    ParticipantSource,
    /// `participant_index`: position in the array it came from.
    ParticipantIndex,
    /// `participant_id`: the participant's `id` (null for the deprecated identity sets).
    ParticipantId,
    /// `session_id`.
    SessionId,
    /// `session_occurrence`: which occurrence of a session id the row is, 0 for the first.
    /// Graph repeats a session id within a call once per identity involved (an auto attendant,
    /// then a call queue, on consecutive slices of one session); each occurrence is a row of
    /// `sessions` and `segments`, while `media` and `streams` hold the figures once.
    SessionOccurrence,
    /// `segment_id`.
    SegmentId,
    /// `media_index`: position in the segment's `media` array.
    MediaIndex,
    /// `stream_index`: position in the media's `streams` array.
    StreamIndex,
}

impl Key {
    fn column(self) -> (&'static str, DataType, bool, &'static str) {
        match self {
            Key::CallId => ("call_id", DataType::Utf8, false, "callRecord.id"),
            Key::CallStartDate => (
                PARTITION_COLUMN,
                DataType::Date32,
                false,
                "date of callRecord.startDateTime (UTC)",
            ),
            Key::ParticipantSource => (
                "participant_source",
                DataType::Utf8,
                false,
                "callRecord.participants_v2 | participants",
            ),
            Key::ParticipantIndex => (
                "participant_index",
                DataType::Int32,
                false,
                "position in the participants array, or in the follow-up page it came from",
            ),
            Key::ParticipantId => ("participant_id", DataType::Utf8, true, "participant.id"),
            Key::SessionId => ("session_id", DataType::Utf8, false, "session.id"),
            Key::SessionOccurrence => (
                "session_occurrence",
                DataType::Int32,
                false,
                "which occurrence of a session id repeated in the call (0 = the first), in input order",
            ),
            Key::SegmentId => ("segment_id", DataType::Utf8, false, "segment.id"),
            Key::MediaIndex => (
                "media_index",
                DataType::Int32,
                false,
                "position in segment.media",
            ),
            Key::StreamIndex => (
                "stream_index",
                DataType::Int32,
                false,
                "position in media.streams",
            ),
        }
    }
}

/// What a column holds and where its value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnRole {
    /// A key column, set by the flattener from the record's position.
    Key(Key),
    /// A Graph property value.
    Value {
        /// The kind of the Graph value.
        leaf: Leaf,
        /// True when the column is a list of the leaf's values (a collection of complex objects).
        list: bool,
        /// True for a leaf's second column: a token set's `_json` (the first is the list of set
        /// flags), a subnet's `_prefix_length`.
        second: bool,
    },
    /// The `extra` column: unknown keys as JSON text.
    Extra,
    /// A column of a side table ([`crate::SideTable`]) that cqlake derives from the document
    /// around the object (the call id in a `resourceUrl`, the links of a page).
    Derived,
    /// A context column of `streams`, copied from a column of a parent table.
    Context {
        /// The parent table.
        table: TableId,
        /// The column's index in the parent table.
        column: usize,
    },
}

/// One column of a lake table.
#[derive(Debug, Clone)]
pub struct Column {
    /// The column name.
    pub name: String,
    /// The Arrow type.
    pub data_type: DataType,
    /// Whether the column may be null.
    pub nullable: bool,
    /// The Graph property path the column comes from (`session.caller.userAgent.platform`).
    pub source: String,
    /// What the column holds.
    pub role: ColumnRole,
    /// Whether the column holds personal data: an id, name, UPN, e-mail address or phone number
    /// of a user, guest, phone or application instance; a display name (of bots and applications
    /// too: a bot can be named after a person); an IP address of an endpoint (its own and its
    /// reflexive one) or of a trace-route hop; a MAC address or BSSID; a host or machine name;
    /// feedback text; a link or meeting id that embeds a user id; and `extra`, which may hold
    /// anything. Subnets, relay (Microsoft) addresses, device and CPU models, tenant ids and all
    /// metrics are not personal. `--pseudonymise` replaces the values of these columns by tokens.
    pub personal: bool,
}

/// The expansion of a [`Group`] into a table's columns: for every property, where its values go.
#[derive(Debug, Clone)]
pub struct GroupPlan {
    /// The Graph type.
    pub group: &'static Group,
    /// Parallel to `group.props`.
    pub props: Vec<PropPlan>,
}

/// Where one property's value goes.
#[derive(Debug, Clone)]
pub enum PropPlan {
    /// Into column `column` (for a token set or a subnet, `column` and `column + 1`).
    Leaf {
        /// The value kind.
        leaf: Leaf,
        /// The column index.
        column: usize,
    },
    /// A nested object.
    Object(GroupPlan),
    /// A collection of objects: one list column per property of the item type, parallel to
    /// `group.props` (items may only have scalar properties).
    ObjectList {
        /// The item type.
        group: &'static Group,
        /// Column index of each item property.
        columns: Vec<usize>,
    },
}

/// A lake table: name, columns, and how JSON lands in them.
#[derive(Debug)]
pub struct Table {
    /// Which table.
    pub id: TableId,
    /// Every column, keys first, then values, `extra` and (for `streams`) context columns.
    pub columns: Vec<Column>,
    /// The key columns, in column order.
    pub keys: Vec<Key>,
    /// How the table's own Graph object lands in the columns.
    pub plan: GroupPlan,
    /// The index of the `extra` column.
    pub extra: usize,
    schema: SchemaRef,
}

impl Table {
    /// The table's name.
    pub fn name(&self) -> &'static str {
        self.id.name()
    }

    /// The Arrow schema of the table, partition column included.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The index of column `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The index of key column `key`.
    pub fn key_index(&self, key: Key) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.role == ColumnRole::Key(key))
    }
}

/// Every table, in [`TableId::ALL`] order.
pub fn tables() -> &'static [Table] {
    static TABLES: OnceLock<Vec<Table>> = OnceLock::new();
    TABLES.get_or_init(build_tables)
}

fn leaf_type(leaf: Leaf) -> DataType {
    match leaf {
        Leaf::Str | Leaf::Enum(_) | Leaf::Address | Leaf::Subnet | Leaf::TypeName => DataType::Utf8,
        Leaf::Int32 => DataType::Int32,
        Leaf::Int64 => DataType::Int64,
        Leaf::Float | Leaf::Duration | Leaf::Seconds => DataType::Float64,
        Leaf::Decimal => DataType::Decimal128(graph::DECIMAL_PRECISION, graph::DECIMAL_SCALE),
        Leaf::Bool => DataType::Boolean,
        Leaf::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
        Leaf::StrList | Leaf::TokenSet => list_of(DataType::Utf8),
    }
}

/// `List<item>` with a nullable item field named `element`, as Delta Lake and the Parquet LIST
/// convention name it (so batches need no renaming on the way into a table).
pub fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("element", item, true)))
}

pub(crate) struct Builder {
    pub(crate) columns: Vec<Column>,
}

impl Builder {
    fn key(&mut self, key: Key) {
        let (name, data_type, nullable, source) = key.column();
        self.columns.push(Column {
            name: name.into(),
            data_type,
            nullable,
            source: source.into(),
            role: ColumnRole::Key(key),
            personal: key == Key::ParticipantId,
        });
    }

    pub(crate) fn push_leaf(
        &mut self,
        name: String,
        leaf: Leaf,
        list: bool,
        source: String,
        personal: bool,
    ) -> usize {
        let index = self.columns.len();
        let mut data_type = leaf_type(leaf);
        if list {
            data_type = list_of(data_type);
        }
        let name = if matches!(leaf, Leaf::Duration | Leaf::Seconds) {
            format!("{name}_ms")
        } else {
            name
        };
        self.columns.push(Column {
            name: name.clone(),
            data_type,
            nullable: true,
            source: source.clone(),
            role: ColumnRole::Value {
                leaf,
                list,
                second: false,
            },
            personal,
        });
        let second = match leaf {
            Leaf::TokenSet => Some((
                format!("{name}_json"),
                DataType::Utf8,
                format!("{source} (whole object, JSON)"),
            )),
            Leaf::Subnet => Some((
                format!("{name}_prefix_length"),
                DataType::Int32,
                format!("{source} (the prefix length of a subnet in CIDR notation)"),
            )),
            _ => None,
        };
        if let Some((name, data_type, source)) = second {
            let data_type = if list { list_of(data_type) } else { data_type };
            self.columns.push(Column {
                name,
                data_type,
                nullable: true,
                source,
                role: ColumnRole::Value {
                    leaf,
                    list,
                    second: true,
                },
                personal,
            });
        }
        index
    }

    pub(crate) fn group(&mut self, group: &'static Group, prefix: &str, source: &str) -> GroupPlan {
        let mut props = Vec::with_capacity(group.props.len());
        for prop in group.props {
            let name = format!("{prefix}{}", prop.col);
            let source = format!("{source}.{}", prop.json);
            props.push(match prop.kind {
                PropKind::Leaf(leaf) => PropPlan::Leaf {
                    leaf,
                    column: self.push_leaf(name, leaf, false, source, prop.personal),
                },
                PropKind::Object(child) => {
                    PropPlan::Object(self.group(child, &format!("{name}_"), &source))
                }
                PropKind::ObjectList(item) => {
                    let columns = item
                        .props
                        .iter()
                        .map(|p| match p.kind {
                            PropKind::Leaf(leaf) => self.push_leaf(
                                format!("{name}_{}", p.col),
                                leaf,
                                true,
                                format!("{source}[].{}", p.json),
                                p.personal,
                            ),
                            _ => panic!(
                                "{}: collections of nested objects are not supported",
                                item.graph_type
                            ),
                        })
                        .collect();
                    PropPlan::ObjectList {
                        group: item,
                        columns,
                    }
                }
            });
        }
        GroupPlan { group, props }
    }

    pub(crate) fn extra(&mut self, source: &str) -> usize {
        self.columns.push(Column {
            name: EXTRA.into(),
            data_type: DataType::Utf8,
            nullable: true,
            source: format!("keys of {source} not in the schema (JSON object: path → value)"),
            role: ColumnRole::Extra,
            personal: true,
        });
        self.columns.len() - 1
    }
}

fn table(id: TableId, keys: &[Key], group: &'static Group, source: &str) -> Table {
    let mut b = Builder {
        columns: Vec::new(),
    };
    for &k in keys {
        b.key(k);
    }
    let plan = b.group(group, "", source);
    let extra = b.extra(source);
    finish(id, keys, b.columns, plan, extra)
}

pub(crate) fn schema_of(columns: &[Column]) -> SchemaRef {
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| Field::new(c.name.clone(), c.data_type.clone(), c.nullable))
        .collect();
    Arc::new(Schema::new(fields))
}

fn finish(id: TableId, keys: &[Key], columns: Vec<Column>, plan: GroupPlan, extra: usize) -> Table {
    let schema = schema_of(&columns);
    Table {
        id,
        columns,
        keys: keys.to_vec(),
        plan,
        extra,
        schema,
    }
}

fn build_tables() -> Vec<Table> {
    use Key::*;
    let calls = table(
        TableId::Calls,
        &[CallId, CallStartDate],
        &graph::CALL_RECORD,
        "callRecord",
    );
    let participants = table(
        TableId::Participants,
        &[
            CallId,
            CallStartDate,
            ParticipantSource,
            ParticipantIndex,
            ParticipantId,
        ],
        &graph::PARTICIPANT,
        "participant",
    );
    let sessions = table(
        TableId::Sessions,
        &[CallId, CallStartDate, SessionId, SessionOccurrence],
        &graph::SESSION,
        "session",
    );
    let segments = table(
        TableId::Segments,
        &[
            CallId,
            CallStartDate,
            SessionId,
            SessionOccurrence,
            SegmentId,
        ],
        &graph::SEGMENT,
        "segment",
    );
    let media = table(
        TableId::Media,
        &[CallId, CallStartDate, SessionId, SegmentId, MediaIndex],
        &graph::MEDIA,
        "media",
    );
    let streams = streams_table(&calls, &sessions, &segments, &media);
    vec![calls, participants, sessions, segments, media, streams]
}

/// The context columns `streams` keeps beside a stream's figures, by the parent table's column
/// name: every column of the stream's media (its label, network and device, both sides), and of
/// the segment, session and call what the reports, rule sets and dashboards read or a user
/// filters a stream by — dates, call type and version, failures, user agents, feedback and the
/// identities of users, guests, phones and application instances. Every other context column
/// is in the view `streams_wide` ([`streams_wide`]), joined from its parent table.
fn kept_context(parent: TableId, name: &str) -> bool {
    /// The columns kept of both sides (`caller_…`, `callee_…`) of a parent.
    fn side(name: &str, kept: &[&str]) -> bool {
        ["caller_", "callee_"].iter().any(|p| {
            name.strip_prefix(p)
                .is_some_and(|rest| kept.contains(&rest))
        })
    }
    match parent {
        TableId::Media => true,
        TableId::Calls => [
            "version",
            "type",
            "modalities",
            "start_date_time",
            "end_date_time",
            "organizer_user_id",
            "organizer_user_display_name",
        ]
        .contains(&name),
        TableId::Sessions => {
            [
                "modalities",
                "start_date_time",
                "end_date_time",
                "is_test",
                "failure_info_stage",
                "failure_info_reason",
            ]
            .contains(&name)
                || side(
                    name,
                    &[
                        "user_agent_header_value",
                        "user_agent_application_version",
                        "user_agent_platform",
                        "user_agent_product_family",
                        "user_agent_role",
                        "feedback_rating",
                        "feedback_text",
                        "feedback_tokens",
                        "feedback_tokens_json",
                        "identity_endpoint_type",
                        "identity_user_id",
                        "identity_user_display_name",
                        "identity_user_user_principal_name",
                        "identity_guest_id",
                        "identity_guest_display_name",
                        "identity_phone_id",
                        "identity_application_instance_id",
                        "identity_application_instance_display_name",
                    ],
                )
        }
        TableId::Segments => {
            [
                "start_date_time",
                "end_date_time",
                "failure_info_stage",
                "failure_info_reason",
            ]
            .contains(&name)
                || side(
                    name,
                    &[
                        "user_agent_application_version",
                        "user_agent_platform",
                        "user_agent_product_family",
                        "identity_user_id",
                        "identity_user_display_name",
                    ],
                )
        }
        TableId::Participants | TableId::Streams => false,
    }
}

/// The parents whose columns are `streams`' context, nearest first, with their prefix.
const CONTEXT_PARENTS: [(TableId, &str); 4] = [
    (TableId::Media, "media_"),
    (TableId::Segments, "segment_"),
    (TableId::Sessions, "session_"),
    (TableId::Calls, "call_"),
];

/// The name a parent's column has as a context column of a stream: a media column keeps its
/// own (but `label` and `extra` become `media_label`, `media_extra`), the others take their
/// table's prefix.
fn context_name(parent: TableId, prefix: &str, name: &str) -> String {
    if parent == TableId::Media && name != "label" && name != EXTRA {
        name.to_string()
    } else {
        format!("{prefix}{name}")
    }
}

/// Every non-key column of the parents, in context order: (parent, prefix, column index).
fn context_columns<'a>(
    parents: &'a [&'a Table; 4],
) -> impl Iterator<Item = (TableId, &'static str, usize, &'a Column)> {
    CONTEXT_PARENTS
        .iter()
        .zip(parents.iter())
        .flat_map(|(&(id, prefix), parent)| {
            parent
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| !matches!(c.role, ColumnRole::Key(_)))
                .map(move |(i, c)| (id, prefix, i, c))
        })
}

/// `streams`: keys, the stream's own columns, its `extra`, then the context columns it keeps
/// ([`kept_context`]) of its media (unprefixed; `label` becomes `media_label`), segment
/// (`segment_`), session (`session_`) and call (`call_`).
fn streams_table(calls: &Table, sessions: &Table, segments: &Table, media: &Table) -> Table {
    use Key::*;
    let keys = [
        CallId,
        CallStartDate,
        SessionId,
        SegmentId,
        MediaIndex,
        StreamIndex,
    ];
    let mut b = Builder {
        columns: Vec::new(),
    };
    for k in keys {
        b.key(k);
    }
    let plan = b.group(&graph::MEDIA_STREAM, "", "mediaStream");
    let extra = b.extra("mediaStream");
    for (parent, prefix, index, col) in context_columns(&[media, segments, sessions, calls]) {
        if !kept_context(parent, &col.name) {
            continue;
        }
        b.columns.push(Column {
            name: context_name(parent, prefix, &col.name),
            data_type: col.data_type.clone(),
            nullable: true,
            source: col.source.clone(),
            role: ColumnRole::Context {
                table: parent,
                column: index,
            },
            personal: col.personal,
        });
    }
    finish(TableId::Streams, &keys, b.columns, plan, extra)
}

/// Where a column of the view `streams_wide` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WideSource {
    /// Column `.0` of `streams`.
    Streams(usize),
    /// A context column `streams` does not keep: column `column` of the stream's parent row in
    /// `table` (its media, segment, session or call).
    Parent {
        /// The parent table.
        table: TableId,
        /// The column's index in the parent table.
        column: usize,
    },
}

/// A column of the view `streams_wide`.
#[derive(Debug, Clone)]
pub struct WideColumn {
    /// The column name (a `streams` column's, or the name a context column has in `streams`).
    pub name: String,
    /// Where its value comes from.
    pub source: WideSource,
}

/// The columns of the view `streams_wide`: every column of `streams`, then every context
/// column it does not keep, in the order of the context of its media, segment, session and
/// call (the layout of `streams` in lakes made before `streams` was narrowed). Its rows are
/// `streams`' rows, each with its parents' columns.
pub fn streams_wide() -> &'static [WideColumn] {
    static WIDE: OnceLock<Vec<WideColumn>> = OnceLock::new();
    WIDE.get_or_init(|| {
        let streams = TableId::Streams.table();
        let own = streams
            .columns
            .iter()
            .take_while(|c| !matches!(c.role, ColumnRole::Context { .. }))
            .enumerate()
            .map(|(i, c)| WideColumn {
                name: c.name.clone(),
                source: WideSource::Streams(i),
            });
        let parents = [
            TableId::Media.table(),
            TableId::Segments.table(),
            TableId::Sessions.table(),
            TableId::Calls.table(),
        ];
        let context = context_columns(&parents).map(|(parent, prefix, index, col)| {
            let name = context_name(parent, prefix, &col.name);
            let source = match streams.column_index(&name) {
                Some(i) => WideSource::Streams(i),
                None => WideSource::Parent {
                    table: parent,
                    column: index,
                },
            };
            WideColumn { name, source }
        });
        own.chain(context).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn column_names_are_unique_in_every_table() {
        for t in tables() {
            let mut seen = HashSet::new();
            for c in &t.columns {
                assert!(
                    seen.insert(c.name.as_str()),
                    "{}: duplicate column {}",
                    t.name(),
                    c.name
                );
            }
        }
    }

    #[test]
    fn the_contract_names_exist() {
        let streams = TableId::Streams.table();
        for name in [
            "call_id",
            "session_id",
            "segment_id",
            "media_index",
            "stream_id",
            "stream_direction",
            "average_jitter_ms",
            "max_round_trip_time_ms",
            "average_audio_network_jitter_ms",
            "average_packet_loss_rate",
            "media_label",
            "caller_network_subnet",
            "callee_network_connection_type",
            "caller_device_capture_device_name",
            "session_callee_feedback_rating",
            "session_callee_feedback_tokens",
            "segment_caller_user_agent_platform",
            "call_type",
            "call_version",
            "call_start_date_time",
            "call_organizer_user_id",
            "call_start_date",
        ] {
            assert!(streams.column_index(name).is_some(), "streams lacks {name}");
        }
        assert_eq!(
            streams
                .schema()
                .field_with_name("average_jitter_ms")
                .unwrap()
                .data_type(),
            &DataType::Float64
        );
        assert_eq!(
            streams
                .schema()
                .field_with_name("average_bandwidth_estimate")
                .unwrap()
                .data_type(),
            &DataType::Int64
        );
    }

    #[test]
    fn personal_columns_are_the_ones_that_name_or_locate_a_person() {
        let personal = |t: TableId, name: &str| {
            let table = t.table();
            let i = table
                .column_index(name)
                .unwrap_or_else(|| panic!("{}: no column {name}", t.name()));
            table.columns[i].personal
        };
        use TableId::*;
        for (t, name) in [
            (Participants, "participant_id"),
            (Participants, "identity_user_id"),
            (Participants, "identity_user_display_name"),
            (Participants, "identity_guest_id"),
            (Participants, "identity_phone_id"),
            (Participants, "identity_application_instance_id"),
            (Participants, "identity_application_display_name"),
            (Calls, "organizer_user_user_principal_name"),
            (Calls, "organizer_v2_id"),
            (Calls, "join_web_url"),
            (Sessions, "caller_name"),
            (Sessions, "callee_feedback_text"),
            (Sessions, "caller_identity_user_email"),
            (Media, "caller_network_ip_address"),
            (Media, "caller_network_reflexive_ip_address"),
            (Media, "callee_network_mac_address"),
            (Media, "caller_network_basic_service_set_identifier"),
            (Media, "caller_network_trace_route_hops_ip_address"),
            (Streams, "caller_network_ip_address"),
            (Streams, "session_caller_identity_user_id"),
            (Streams, "call_organizer_user_display_name"),
            (Streams, "extra"),
        ] {
            assert!(personal(t, name), "{}.{name} is personal", t.name());
        }
        for (t, name) in [
            (Calls, "call_id"),
            (Participants, "identity_user_tenant_id"),
            (Participants, "identity_application_id"),
            (Media, "caller_network_subnet"),
            (Media, "caller_network_relay_ip_address"),
            (Media, "caller_device_capture_device_name"),
            (Media, "caller_network_wifi_vendor_driver"),
            (Media, "caller_network_trace_route_hops_round_trip_time_ms"),
            (Sessions, "caller_cpu_name"),
            (Sessions, "caller_user_agent_header_value"),
            (Sessions, "callee_feedback_tokens"),
            (Streams, "average_jitter_ms"),
            (Streams, "call_type"),
        ] {
            assert!(!personal(t, name), "{}.{name} is not personal", t.name());
        }
        // A side table's personal columns, derived ones included.
        let pstn = crate::SideTable::PstnCalls.def();
        let p = |name: &str| pstn.columns[pstn.column_index(name).unwrap()].personal;
        assert!(p("caller_number") && p("user_principal_name") && p("client_public_ip_v4_address"));
        assert!(!p("charge") && !p("currency") && !p("call_id"));
        let sync = crate::SideTable::SyncState.def();
        assert!(sync.columns[sync.column_index("organizer_user_id").unwrap()].personal);
    }

    #[test]
    fn streams_keeps_the_media_and_the_chosen_context_and_the_wide_view_has_the_rest() {
        let streams = TableId::Streams.table();
        let kept = |t: TableId| {
            streams
                .columns
                .iter()
                .filter(|c| matches!(c.role, ColumnRole::Context { table, .. } if table == t))
                .count()
        };
        let non_key = |t: TableId| {
            t.table()
                .columns
                .iter()
                .filter(|c| !matches!(c.role, ColumnRole::Key(_)))
                .count()
        };
        // Every media column; of the others, the names listed in `kept_context` (a name
        // missing from its parent would lower these counts).
        assert_eq!(kept(TableId::Media), non_key(TableId::Media));
        assert_eq!(kept(TableId::Calls), 7);
        assert_eq!(kept(TableId::Sessions), 6 + 2 * 18);
        assert_eq!(kept(TableId::Segments), 4 + 2 * 5);
        // The view: every column of `streams` at its place, then the rest of the context.
        let wide = streams_wide();
        let own = streams.columns.len() - kept(TableId::Media) - 63;
        let context: usize = [
            TableId::Media,
            TableId::Segments,
            TableId::Sessions,
            TableId::Calls,
        ]
        .into_iter()
        .map(non_key)
        .sum();
        assert_eq!(wide.len(), own + context);
        let mut seen = HashSet::new();
        for (i, w) in wide.iter().enumerate() {
            assert!(seen.insert(w.name.as_str()), "duplicate {}", w.name);
            match w.source {
                WideSource::Streams(c) => {
                    assert_eq!(streams.columns[c].name, w.name);
                    if i < own {
                        assert_eq!(c, i);
                    }
                }
                WideSource::Parent { table, column } => {
                    assert!(streams.column_index(&w.name).is_none(), "{}", w.name);
                    assert!(!matches!(
                        table.table().columns[column].role,
                        ColumnRole::Key(_)
                    ));
                }
            }
        }
        assert_eq!(
            wide.iter()
                .filter(|w| matches!(w.source, WideSource::Streams(_)))
                .count(),
            streams.columns.len()
        );
        for name in ["segment_caller_name", "session_extra", "call_join_web_url"] {
            assert!(streams.column_index(name).is_none(), "{name}");
            assert!(wide.iter().any(|w| w.name == name), "{name}");
        }
    }

    #[test]
    fn context_columns_point_at_the_same_type() {
        let streams = TableId::Streams.table();
        for c in &streams.columns {
            if let ColumnRole::Context { table, column } = c.role {
                assert_eq!(
                    table.table().columns[column].data_type,
                    c.data_type,
                    "{}",
                    c.name
                );
            }
        }
    }
}
