//! The Microsoft Graph `callRecords` types, written down once as data.
//!
//! Each [`Group`] is one Graph complex type (or the union of a type and its subtypes, where Graph
//! sends them polymorphically under one key). Each [`Prop`] says which JSON key it reads, which
//! column name segment it becomes and what kind of value it holds. The lake tables in
//! [`crate::tables`] are expanded from these groups, so a property added here reaches every table,
//! the flattener and `cqlake schema` at once.

/// The kind of a scalar Graph value and how it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leaf {
    /// `Edm.String`.
    Str,
    /// A Graph enum, stored by member name as Graph spells it (`windows`, `macOS`): a value that
    /// matches a member but for case is stored as the member, its own spelling kept in `extra`
    /// (key `<path>@cqlake.raw`); a value that matches none is stored as it is.
    Enum(&'static [&'static str]),
    /// An IP or MAC address (`Edm.String`): an empty string is stored as null.
    Address,
    /// `@odata.type`: stored with its leading `#` (`#microsoft.graph.identitySet`), which some
    /// writers leave out.
    TypeName,
    /// A subnet (`Edm.String`): two columns, the network address and (`_prefix_length`, Int32)
    /// the prefix length of a subnet written in CIDR notation (`192.168.1.0/24`), else null; an
    /// empty string is stored as null.
    Subnet,
    /// `Edm.Int32`.
    Int32,
    /// `Edm.Int64`.
    Int64,
    /// `Edm.Single` or `Edm.Double`, stored as Float64 so that thresholds compare exactly.
    Float,
    /// `Edm.Boolean`.
    Bool,
    /// `Edm.DateTimeOffset`: a UTC timestamp in microseconds.
    Timestamp,
    /// `Edm.Duration` (ISO-8601, `PT0.016S`): Float64 milliseconds, column name ends in `_ms`.
    Duration,
    /// `Collection(Edm.String)` or a collection of an enum: a list of strings.
    StrList,
    /// `Edm.Decimal` (a charge): Decimal128 with [`DECIMAL_SCALE`] fractional digits, exact.
    Decimal,
    /// `Edm.Int32` seconds (`duration` of a PSTN or direct-routing row): Float64 milliseconds like
    /// every duration of the lake, column name ends in `_ms`.
    Seconds,
    /// An open type of boolean flags (`feedbackTokenSet`): two columns, the names of the flags set
    /// to `true` as a list, and the whole object as JSON text (`_json` suffix).
    TokenSet,
}

/// The precision of [`Leaf::Decimal`] columns (Arrow `Decimal128(38, 10)`).
pub const DECIMAL_PRECISION: u8 = 38;
/// The scale of [`Leaf::Decimal`] columns: a value with more fractional digits is refused, never
/// rounded.
pub const DECIMAL_SCALE: i8 = 10;

/// The members of the Graph enums the call-record tables hold (v1.0 and beta together, from the
/// service's metadata), in the spelling Graph uses.
pub mod enums {
    /// `microsoft.graph.callRecords.callType`.
    pub const CALL_TYPE: &[&str] = &["unknown", "groupCall", "peerToPeer", "unknownFutureValue"];
    /// `microsoft.graph.callRecords.clientPlatform`.
    pub const CLIENT_PLATFORM: &[&str] = &[
        "unknown",
        "windows",
        "macOS",
        "iOS",
        "android",
        "web",
        "ipPhone",
        "roomSystem",
        "surfaceHub",
        "holoLens",
        "unknownFutureValue",
    ];
    /// `microsoft.graph.callRecords.productFamily`.
    pub const PRODUCT_FAMILY: &[&str] = &[
        "unknown",
        "teams",
        "skypeForBusiness",
        "lync",
        "unknownFutureValue",
        "azureCommunicationServices",
    ];
    /// `microsoft.graph.callRecords.failureStage`.
    pub const FAILURE_STAGE: &[&str] = &["unknown", "callSetup", "midcall", "unknownFutureValue"];
    /// `microsoft.graph.callRecords.audioCodec`.
    pub const AUDIO_CODEC: &[&str] = &[
        "unknown",
        "invalid",
        "cn",
        "pcma",
        "pcmu",
        "amrWide",
        "g722",
        "g7221",
        "g7221c",
        "g729",
        "multiChannelAudio",
        "muchv2",
        "opus",
        "satin",
        "satinFullband",
        "rtAudio8",
        "rtAudio16",
        "silk",
        "silkNarrow",
        "silkWide",
        "siren",
        "xmsRta",
        "unknownFutureValue",
    ];
    /// `microsoft.graph.callRecords.mediaStreamDirection`.
    pub const MEDIA_STREAM_DIRECTION: &[&str] = &["callerToCallee", "calleeToCaller"];
    /// `microsoft.graph.callRecords.videoCodec`.
    pub const VIDEO_CODEC: &[&str] = &[
        "unknown",
        "invalid",
        "av1",
        "h263",
        "h264",
        "h264s",
        "h264uc",
        "h265",
        "rtvc1",
        "rtVideo",
        "xrtvc1",
        "unknownFutureValue",
    ];
    /// `microsoft.graph.callRecords.networkConnectionType`.
    pub const NETWORK_CONNECTION_TYPE: &[&str] = &[
        "unknown",
        "wired",
        "wifi",
        "mobile",
        "tunnel",
        "unknownFutureValue",
    ];
    /// `microsoft.graph.callRecords.networkTransportProtocol`.
    pub const NETWORK_TRANSPORT_PROTOCOL: &[&str] =
        &["unknown", "udp", "tcp", "unknownFutureValue"];
    /// `microsoft.graph.callRecords.wifiBand`.
    pub const WIFI_BAND: &[&str] = &[
        "unknown",
        "frequency24GHz",
        "frequency50GHz",
        "frequency60GHz",
        "unknownFutureValue",
    ];
    /// `microsoft.graph.callRecords.wifiRadioType`.
    pub const WIFI_RADIO_TYPE: &[&str] = &[
        "unknown",
        "wifi80211a",
        "wifi80211b",
        "wifi80211g",
        "wifi80211n",
        "wifi80211ac",
        "wifi80211ax",
        "unknownFutureValue",
    ];
    /// `microsoft.graph.callRecords.serviceRole`.
    pub const SERVICE_ROLE: &[&str] = &[
        "unknown",
        "customBot",
        "skypeForBusinessMicrosoftTeamsGateway",
        "skypeForBusinessAudioVideoMcu",
        "skypeForBusinessApplicationSharingMcu",
        "skypeForBusinessCallQueues",
        "skypeForBusinessAutoAttendant",
        "mediationServer",
        "mediationServerCloudConnectorEdition",
        "exchangeUnifiedMessagingService",
        "mediaController",
        "conferencingAnnouncementService",
        "conferencingAttendant",
        "audioTeleconferencerController",
        "skypeForBusinessUnifiedCommunicationApplicationPlatform",
        "responseGroupServiceAnnouncementService",
        "gateway",
        "skypeTranslator",
        "skypeForBusinessAttendant",
        "responseGroupService",
        "voicemail",
        "unknownFutureValue",
    ];
    /// `microsoft.graph.callRecords.userFeedbackRating`.
    pub const USER_FEEDBACK_RATING: &[&str] = &[
        "notRated",
        "bad",
        "poor",
        "fair",
        "good",
        "excellent",
        "unknownFutureValue",
    ];
    /// `microsoft.graph.endpointType`.
    pub const ENDPOINT_TYPE: &[&str] = &[
        "default",
        "voicemail",
        "skypeForBusiness",
        "skypeForBusinessVoipPhone",
        "unknownFutureValue",
    ];
}

/// What a property holds.
#[derive(Debug, Clone, Copy)]
pub enum PropKind {
    /// A scalar value.
    Leaf(Leaf),
    /// A nested complex object, flattened into columns with `<col>_` as prefix.
    Object(&'static Group),
    /// A collection of a complex type with only scalar properties: one list column per property.
    ObjectList(&'static Group),
}

/// One property of a Graph type.
#[derive(Debug, Clone, Copy)]
pub struct Prop {
    /// The JSON key, exactly as Graph sends it (`averageJitter`, `@odata.type`).
    pub json: &'static str,
    /// The column name segment: the snake_case of the key (`average_jitter`).
    pub col: &'static str,
    /// The value's kind.
    pub kind: PropKind,
    /// Whether the value is personal data (an identifier, name, address or free text of a
    /// person: see [`crate::Column::personal`]). Only leaves are marked.
    pub personal: bool,
}

/// A Graph complex type: its name and properties.
#[derive(Debug)]
pub struct Group {
    /// The Graph type name (`microsoft.graph.callRecords.networkInfo`), without the namespace
    /// prefix where it is `microsoft.graph.callRecords`.
    pub graph_type: &'static str,
    /// The properties, in the order their columns appear.
    pub props: &'static [Prop],
}

impl Group {
    /// The property read from JSON key `key`, if the type declares it.
    pub fn prop(&self, key: &str) -> Option<(usize, &Prop)> {
        self.props.iter().enumerate().find(|(_, p)| p.json == key)
    }

    /// [`Group::prop`], trying the property at `hint` first, and leaving `hint` at the one after
    /// the property found (keys in the order of the type are found at the first try).
    pub fn prop_hinted(&self, key: &str, hint: &mut usize) -> Option<(usize, &Prop)> {
        let found = match self.props.get(*hint) {
            Some(p) if p.json == key => Some((*hint, p)),
            _ => self.prop(key),
        };
        if let Some((i, _)) = found {
            *hint = i + 1;
        }
        found
    }
}

const fn leaf(json: &'static str, col: &'static str, leaf: Leaf) -> Prop {
    Prop {
        json,
        col,
        kind: PropKind::Leaf(leaf),
        personal: false,
    }
}
/// A leaf holding personal data.
const fn pii(json: &'static str, col: &'static str, leaf: Leaf) -> Prop {
    Prop {
        json,
        col,
        kind: PropKind::Leaf(leaf),
        personal: true,
    }
}
const fn obj(json: &'static str, col: &'static str, group: &'static Group) -> Prop {
    Prop {
        json,
        col,
        kind: PropKind::Object(group),
        personal: false,
    }
}
const fn obj_list(json: &'static str, col: &'static str, group: &'static Group) -> Prop {
    Prop {
        json,
        col,
        kind: PropKind::ObjectList(group),
        personal: false,
    }
}

use Leaf::*;

/// The properties of [`IDENTITY`], its `id` personal when `personal_id` (a person's, not an
/// application's).
const fn identity_props(personal_id: bool) -> [Prop; 10] {
    [
        leaf("@odata.type", "odata_type", TypeName),
        if personal_id {
            pii("id", "id", Str)
        } else {
            leaf("id", "id", Str)
        },
        pii("displayName", "display_name", Str),
        leaf("tenantId", "tenant_id", Str),
        pii("userPrincipalName", "user_principal_name", Str),
        pii("ipAddress", "ip_address", Address),
        pii("email", "email", Str),
        leaf(
            "azureCommunicationServicesResourceId",
            "azure_communication_services_resource_id",
            Str,
        ),
        leaf("hidden", "hidden", Bool),
        leaf("applicationType", "application_type", Str),
    ]
}

/// `microsoft.graph.identity` and its subtypes (user, guest, phone, application, ACS identities):
/// one set of columns for every property any subtype declares.
pub static IDENTITY: Group = Group {
    graph_type: "microsoft.graph.identity",
    props: &identity_props(true),
};

/// [`IDENTITY`] as the `application` of an identity set: the same columns, but the id is an
/// application's (a bot's registration), not a person's; its display name stays personal (a bot
/// can be named after a person).
pub static APPLICATION_IDENTITY: Group = Group {
    graph_type: "microsoft.graph.identity",
    props: &identity_props(false),
};

/// The properties every `microsoft.graph.identity` has, for the identity-set members that real
/// bodies carry but the metadata does not declare (`acsUser`, `spoolUser`, …): four columns each
/// instead of [`IDENTITY`]'s ten, in a table (`streams`) that repeats every identity set of its
/// session and segment. Other keys of theirs are kept in `extra`.
pub static BARE_IDENTITY: Group = Group {
    graph_type: "microsoft.graph.identity",
    props: &[
        leaf("@odata.type", "odata_type", TypeName),
        pii("id", "id", Str),
        pii("displayName", "display_name", Str),
        leaf("tenantId", "tenant_id", Str),
    ],
};

/// `microsoft.graph.identitySet` together with `microsoft.graph.communicationsIdentitySet`.
pub static IDENTITY_SET: Group = Group {
    graph_type: "microsoft.graph.communicationsIdentitySet",
    props: &[
        leaf("@odata.type", "odata_type", TypeName),
        leaf("endpointType", "endpoint_type", Enum(enums::ENDPOINT_TYPE)),
        obj("user", "user", &IDENTITY),
        obj("application", "application", &APPLICATION_IDENTITY),
        obj("device", "device", &IDENTITY),
        obj("applicationInstance", "application_instance", &IDENTITY),
        obj("assertedIdentity", "asserted_identity", &IDENTITY),
        obj(
            "azureCommunicationServicesUser",
            "azure_communication_services_user",
            &IDENTITY,
        ),
        obj("encrypted", "encrypted", &IDENTITY),
        obj("guest", "guest", &IDENTITY),
        obj("onPremises", "on_premises", &IDENTITY),
        obj("phone", "phone", &IDENTITY),
        // Members that real bodies carry though the metadata does not declare them (Azure
        // Communication Services and Teams "spool" identities), nearly always null.
        obj("acsUser", "acs_user", &BARE_IDENTITY),
        obj("spoolUser", "spool_user", &BARE_IDENTITY),
        obj(
            "acsApplicationInstance",
            "acs_application_instance",
            &BARE_IDENTITY,
        ),
        obj(
            "spoolApplicationInstance",
            "spool_application_instance",
            &BARE_IDENTITY,
        ),
    ],
};

/// `callRecords.userAgent` with `clientUserAgent` and `serviceUserAgent`.
pub static USER_AGENT: Group = Group {
    graph_type: "userAgent",
    props: &[
        leaf("@odata.type", "odata_type", TypeName),
        leaf("headerValue", "header_value", Str),
        leaf("applicationVersion", "application_version", Str),
        leaf("platform", "platform", Enum(enums::CLIENT_PLATFORM)),
        leaf(
            "productFamily",
            "product_family",
            Enum(enums::PRODUCT_FAMILY),
        ),
        leaf("azureADAppId", "azure_ad_app_id", Str),
        leaf("communicationServiceId", "communication_service_id", Str),
        leaf("role", "role", Enum(enums::SERVICE_ROLE)),
    ],
};

/// `callRecords.userFeedback`.
pub static USER_FEEDBACK: Group = Group {
    graph_type: "userFeedback",
    props: &[
        leaf("rating", "rating", Enum(enums::USER_FEEDBACK_RATING)),
        pii("text", "text", Str),
        leaf("tokens", "tokens", TokenSet),
    ],
};

/// `callRecords.endpoint` with `participantEndpoint` and `serviceEndpoint`.
pub static ENDPOINT: Group = Group {
    graph_type: "endpoint",
    props: &[
        leaf("@odata.type", "odata_type", TypeName),
        pii("name", "name", Str),
        leaf("cpuCoresCount", "cpu_cores_count", Int32),
        leaf("cpuName", "cpu_name", Str),
        leaf(
            "cpuProcessorSpeedInMhz",
            "cpu_processor_speed_in_mhz",
            Int32,
        ),
        obj("userAgent", "user_agent", &USER_AGENT),
        obj("feedback", "feedback", &USER_FEEDBACK),
        obj("identity", "identity", &IDENTITY_SET),
        obj("associatedIdentity", "associated_identity", &IDENTITY),
    ],
};

/// `callRecords.failureInfo`.
pub static FAILURE_INFO: Group = Group {
    graph_type: "failureInfo",
    props: &[
        leaf("stage", "stage", Enum(enums::FAILURE_STAGE)),
        leaf("reason", "reason", Str),
    ],
};

/// `callRecords.traceRouteHop`.
pub static TRACE_ROUTE_HOP: Group = Group {
    graph_type: "traceRouteHop",
    props: &[
        leaf("hopCount", "hop_count", Int32),
        pii("ipAddress", "ip_address", Address),
        leaf("roundTripTime", "round_trip_time", Duration),
    ],
};

/// `callRecords.administrativeUnitInfo`.
pub static ADMINISTRATIVE_UNIT_INFO: Group = Group {
    graph_type: "administrativeUnitInfo",
    props: &[leaf("id", "id", Str)],
};

/// `callRecords.networkInfo`.
pub static NETWORK_INFO: Group = Group {
    graph_type: "networkInfo",
    props: &[
        pii("ipAddress", "ip_address", Address),
        leaf("subnet", "subnet", Subnet),
        leaf("linkSpeed", "link_speed", Int64),
        leaf(
            "connectionType",
            "connection_type",
            Enum(enums::NETWORK_CONNECTION_TYPE),
        ),
        leaf("port", "port", Int32),
        pii("reflexiveIPAddress", "reflexive_ip_address", Address),
        leaf("relayIPAddress", "relay_ip_address", Address),
        leaf("relayPort", "relay_port", Int32),
        pii("macAddress", "mac_address", Address),
        leaf("dnsSuffix", "dns_suffix", Str),
        leaf(
            "networkTransportProtocol",
            "network_transport_protocol",
            Enum(enums::NETWORK_TRANSPORT_PROTOCOL),
        ),
        leaf("wifiMicrosoftDriver", "wifi_microsoft_driver", Str),
        leaf(
            "wifiMicrosoftDriverVersion",
            "wifi_microsoft_driver_version",
            Str,
        ),
        leaf("wifiVendorDriver", "wifi_vendor_driver", Str),
        leaf("wifiVendorDriverVersion", "wifi_vendor_driver_version", Str),
        leaf("wifiChannel", "wifi_channel", Int32),
        leaf("wifiBand", "wifi_band", Enum(enums::WIFI_BAND)),
        leaf(
            "wifiRadioType",
            "wifi_radio_type",
            Enum(enums::WIFI_RADIO_TYPE),
        ),
        leaf("wifiSignalStrength", "wifi_signal_strength", Int32),
        leaf("wifiBatteryCharge", "wifi_battery_charge", Int32),
        pii(
            "basicServiceSetIdentifier",
            "basic_service_set_identifier",
            Str,
        ),
        leaf("sentQualityEventRatio", "sent_quality_event_ratio", Float),
        leaf(
            "receivedQualityEventRatio",
            "received_quality_event_ratio",
            Float,
        ),
        leaf("delayEventRatio", "delay_event_ratio", Float),
        leaf("bandwidthLowEventRatio", "bandwidth_low_event_ratio", Float),
        obj_list("traceRouteHops", "trace_route_hops", &TRACE_ROUTE_HOP),
    ],
};

/// `callRecords.deviceInfo`.
pub static DEVICE_INFO: Group = Group {
    graph_type: "deviceInfo",
    props: &[
        leaf("captureDeviceName", "capture_device_name", Str),
        leaf("captureDeviceDriver", "capture_device_driver", Str),
        leaf("renderDeviceName", "render_device_name", Str),
        leaf("renderDeviceDriver", "render_device_driver", Str),
        leaf("sentSignalLevel", "sent_signal_level", Int32),
        leaf("receivedSignalLevel", "received_signal_level", Int32),
        leaf("sentNoiseLevel", "sent_noise_level", Int32),
        leaf("receivedNoiseLevel", "received_noise_level", Int32),
        leaf(
            "initialSignalLevelRootMeanSquare",
            "initial_signal_level_root_mean_square",
            Float,
        ),
        leaf(
            "captureNotFunctioningEventRatio",
            "capture_not_functioning_event_ratio",
            Float,
        ),
        leaf(
            "renderNotFunctioningEventRatio",
            "render_not_functioning_event_ratio",
            Float,
        ),
        leaf(
            "cpuInsufficentEventRatio",
            "cpu_insufficent_event_ratio",
            Float,
        ),
        leaf(
            "deviceClippingEventRatio",
            "device_clipping_event_ratio",
            Float,
        ),
        leaf("deviceGlitchEventRatio", "device_glitch_event_ratio", Float),
        leaf("howlingEventCount", "howling_event_count", Int32),
        leaf(
            "lowSpeechLevelEventRatio",
            "low_speech_level_event_ratio",
            Float,
        ),
        leaf(
            "lowSpeechToNoiseEventRatio",
            "low_speech_to_noise_event_ratio",
            Float,
        ),
        leaf("micGlitchRate", "mic_glitch_rate", Float),
        leaf("speakerGlitchRate", "speaker_glitch_rate", Float),
        leaf("renderMuteEventRatio", "render_mute_event_ratio", Float),
        leaf(
            "renderZeroVolumeEventRatio",
            "render_zero_volume_event_ratio",
            Float,
        ),
    ],
};

/// `callRecords.mediaStream`.
pub static MEDIA_STREAM: Group = Group {
    graph_type: "mediaStream",
    props: &[
        leaf("streamId", "stream_id", Str),
        leaf(
            "streamDirection",
            "stream_direction",
            Enum(enums::MEDIA_STREAM_DIRECTION),
        ),
        leaf("startDateTime", "start_date_time", Timestamp),
        leaf("endDateTime", "end_date_time", Timestamp),
        leaf("audioCodec", "audio_codec", Enum(enums::AUDIO_CODEC)),
        leaf("videoCodec", "video_codec", Enum(enums::VIDEO_CODEC)),
        leaf(
            "averageAudioDegradation",
            "average_audio_degradation",
            Float,
        ),
        leaf(
            "averageAudioNetworkJitter",
            "average_audio_network_jitter",
            Duration,
        ),
        leaf(
            "maxAudioNetworkJitter",
            "max_audio_network_jitter",
            Duration,
        ),
        leaf(
            "averageBandwidthEstimate",
            "average_bandwidth_estimate",
            Int64,
        ),
        leaf("averageJitter", "average_jitter", Duration),
        leaf("maxJitter", "max_jitter", Duration),
        leaf("averagePacketLossRate", "average_packet_loss_rate", Float),
        leaf("maxPacketLossRate", "max_packet_loss_rate", Float),
        leaf(
            "averageRatioOfConcealedSamples",
            "average_ratio_of_concealed_samples",
            Float,
        ),
        leaf(
            "maxRatioOfConcealedSamples",
            "max_ratio_of_concealed_samples",
            Float,
        ),
        leaf("averageRoundTripTime", "average_round_trip_time", Duration),
        leaf("maxRoundTripTime", "max_round_trip_time", Duration),
        leaf("packetUtilization", "packet_utilization", Int64),
        leaf(
            "postForwardErrorCorrectionPacketLossRate",
            "post_forward_error_correction_packet_loss_rate",
            Float,
        ),
        leaf(
            "averageReceivedFrameRate",
            "average_received_frame_rate",
            Float,
        ),
        leaf(
            "averageVideoFrameLossPercentage",
            "average_video_frame_loss_percentage",
            Float,
        ),
        leaf("averageVideoFrameRate", "average_video_frame_rate", Float),
        leaf(
            "averageVideoPacketLossRate",
            "average_video_packet_loss_rate",
            Float,
        ),
        leaf("lowFrameRateRatio", "low_frame_rate_ratio", Float),
        leaf(
            "lowVideoProcessingCapabilityRatio",
            "low_video_processing_capability_ratio",
            Float,
        ),
        leaf("averageFreezeDuration", "average_freeze_duration", Duration),
        leaf("rmsFreezeDuration", "rms_freeze_duration", Duration),
        leaf(
            "isAudioForwardErrorCorrectionUsed",
            "is_audio_forward_error_correction_used",
            Bool,
        ),
        leaf("wasMediaBypassed", "was_media_bypassed", Bool),
    ],
};

/// `callRecords.media`, without its `streams` collection (the `streams` table).
pub static MEDIA: Group = Group {
    graph_type: "media",
    props: &[
        leaf("label", "label", Str),
        obj("callerNetwork", "caller_network", &NETWORK_INFO),
        obj("calleeNetwork", "callee_network", &NETWORK_INFO),
        obj("callerDevice", "caller_device", &DEVICE_INFO),
        obj("calleeDevice", "callee_device", &DEVICE_INFO),
    ],
};

/// `callRecords.segment`, without `id` (the `segment_id` key) and `media` (the `media` table).
pub static SEGMENT: Group = Group {
    graph_type: "segment",
    props: &[
        leaf("startDateTime", "start_date_time", Timestamp),
        leaf("endDateTime", "end_date_time", Timestamp),
        obj("failureInfo", "failure_info", &FAILURE_INFO),
        obj("caller", "caller", &ENDPOINT),
        obj("callee", "callee", &ENDPOINT),
    ],
};

/// `callRecords.session`, without `id` (the `session_id` key) and `segments` (the `segments` table).
pub static SESSION: Group = Group {
    graph_type: "session",
    props: &[
        leaf("modalities", "modalities", StrList),
        leaf("startDateTime", "start_date_time", Timestamp),
        leaf("endDateTime", "end_date_time", Timestamp),
        leaf("isTest", "is_test", Bool),
        obj("failureInfo", "failure_info", &FAILURE_INFO),
        obj("caller", "caller", &ENDPOINT),
        obj("callee", "callee", &ENDPOINT),
    ],
};

/// `callRecords.participant` / `organizer` (participantBase), without `id` (a key column).
pub static PARTICIPANT: Group = Group {
    graph_type: "participantBase",
    props: &[
        obj("identity", "identity", &IDENTITY_SET),
        obj_list(
            "administrativeUnitInfos",
            "administrative_unit_infos",
            &ADMINISTRATIVE_UNIT_INFO,
        ),
    ],
};

/// `callRecords.participant` as embedded in a call (`organizer_v2`), with its `id`.
pub static PARTICIPANT_WITH_ID: Group = Group {
    graph_type: "participantBase",
    props: &[
        pii("id", "id", Str),
        obj("identity", "identity", &IDENTITY_SET),
        obj_list(
            "administrativeUnitInfos",
            "administrative_unit_infos",
            &ADMINISTRATIVE_UNIT_INFO,
        ),
    ],
};

/// `callRecords.callRecord`, without `id` (the `call_id` key) and its navigation collections
/// (`sessions`, `participants_v2`, the legacy `participants`), which have tables of their own.
pub static CALL_RECORD: Group = Group {
    graph_type: "callRecord",
    props: &[
        leaf("version", "version", Int64),
        leaf("type", "type", Enum(enums::CALL_TYPE)),
        leaf("modalities", "modalities", StrList),
        leaf("lastModifiedDateTime", "last_modified_date_time", Timestamp),
        leaf("startDateTime", "start_date_time", Timestamp),
        leaf("endDateTime", "end_date_time", Timestamp),
        pii("joinWebUrl", "join_web_url", Str),
        obj("organizer", "organizer", &IDENTITY_SET),
        obj("organizer_v2", "organizer_v2", &PARTICIPANT_WITH_ID),
    ],
};

/// The properties of [`TEAMWORK_IDENTITY`], its `id` personal when `personal_id`.
const fn teamwork_identity_props(personal_id: bool) -> [Prop; 6] {
    [
        leaf("@odata.type", "odata_type", TypeName),
        if personal_id {
            pii("id", "id", Str)
        } else {
            leaf("id", "id", Str)
        },
        pii("displayName", "display_name", Str),
        leaf("tenantId", "tenant_id", Str),
        leaf("userIdentityType", "user_identity_type", Str),
        leaf("applicationIdentityType", "application_identity_type", Str),
    ]
}

/// A `microsoft.graph.identity` as the Teams APIs send it (`teamworkUserIdentity`,
/// `teamworkApplicationIdentity`, …), in the organizer of a recording.
pub static TEAMWORK_IDENTITY: Group = Group {
    graph_type: "microsoft.graph.teamworkUserIdentity",
    props: &teamwork_identity_props(true),
};

/// [`TEAMWORK_IDENTITY`] as the `application` of an organizer: the id is an application's.
pub static TEAMWORK_APPLICATION_IDENTITY: Group = Group {
    graph_type: "microsoft.graph.teamworkApplicationIdentity",
    props: &teamwork_identity_props(false),
};

/// `microsoft.graph.identitySet` of a recording's `meetingOrganizer`.
pub static ORGANIZER_IDENTITY_SET: Group = Group {
    graph_type: "microsoft.graph.identitySet",
    props: &[
        leaf("@odata.type", "odata_type", TypeName),
        obj("user", "user", &TEAMWORK_IDENTITY),
        obj("application", "application", &TEAMWORK_APPLICATION_IDENTITY),
        obj("device", "device", &TEAMWORK_IDENTITY),
    ],
};

/// `microsoft.graph.callRecording` (its `content` stream is not part of the JSON).
pub static CALL_RECORDING: Group = Group {
    graph_type: "microsoft.graph.callRecording",
    props: &[
        leaf("id", "id", Str),
        leaf("@odata.type", "odata_type", TypeName),
        pii("meetingId", "meeting_id", Str),
        leaf("callId", "call_id", Str),
        leaf("contentCorrelationId", "content_correlation_id", Str),
        leaf("createdDateTime", "created_date_time", Timestamp),
        leaf("endDateTime", "end_date_time", Timestamp),
        pii("recordingContentUrl", "recording_content_url", Str),
        obj(
            "meetingOrganizer",
            "meeting_organizer",
            &ORGANIZER_IDENTITY_SET,
        ),
    ],
};

/// `microsoft.graph.resultInfo`.
pub static RESULT_INFO: Group = Group {
    graph_type: "microsoft.graph.resultInfo",
    props: &[
        leaf("@odata.type", "odata_type", TypeName),
        leaf("code", "code", Int32),
        leaf("subcode", "subcode", Int32),
        leaf("message", "message", Str),
    ],
};

/// `microsoft.graph.recordOperation` (a `commsOperation`), without `recordingAccessToken`: the
/// token is a secret, counted as redacted and never stored.
pub static RECORD_OPERATION: Group = Group {
    graph_type: "microsoft.graph.recordOperation",
    props: &[
        leaf("id", "id", Str),
        leaf("@odata.type", "odata_type", TypeName),
        leaf("status", "status", Str),
        leaf("completionReason", "completion_reason", Str),
        leaf("clientContext", "client_context", Str),
        leaf("recordingLocation", "recording_location", Str),
        obj("resultInfo", "result_info", &RESULT_INFO),
    ],
};

/// `callRecords.pstnCallLogRow` (v1.0 and beta; the beta `callLogRow` base properties first).
pub static PSTN_CALL_LOG_ROW: Group = Group {
    graph_type: "callRecords.pstnCallLogRow",
    props: &[
        leaf("id", "id", Str),
        leaf("@odata.type", "odata_type", TypeName),
        pii("userId", "user_id", Str),
        pii("userPrincipalName", "user_principal_name", Str),
        pii("userDisplayName", "user_display_name", Str),
        leaf("otherPartyCountryCode", "other_party_country_code", Str),
        obj_list(
            "administrativeUnitInfos",
            "administrative_unit_infos",
            &ADMINISTRATIVE_UNIT_INFO,
        ),
        leaf("callId", "call_id", Str),
        leaf("startDateTime", "start_date_time", Timestamp),
        leaf("endDateTime", "end_date_time", Timestamp),
        leaf("duration", "duration", Seconds),
        leaf("charge", "charge", Decimal),
        leaf("connectionCharge", "connection_charge", Decimal),
        leaf("currency", "currency", Str),
        leaf("callType", "call_type", Str),
        pii("calleeNumber", "callee_number", Str),
        pii("callerNumber", "caller_number", Str),
        leaf("usageCountryCode", "usage_country_code", Str),
        leaf("tenantCountryCode", "tenant_country_code", Str),
        leaf("destinationContext", "destination_context", Str),
        leaf("destinationName", "destination_name", Str),
        leaf("conferenceId", "conference_id", Str),
        leaf("licenseCapability", "license_capability", Str),
        leaf("inventoryType", "inventory_type", Str),
        leaf("operator", "operator", Str),
        leaf("callDurationSource", "call_duration_source", Str),
        pii("clientLocalIpV4Address", "client_local_ip_v4_address", Str),
        pii("clientLocalIpV6Address", "client_local_ip_v6_address", Str),
        pii(
            "clientPublicIpV4Address",
            "client_public_ip_v4_address",
            Str,
        ),
        pii(
            "clientPublicIpV6Address",
            "client_public_ip_v6_address",
            Str,
        ),
    ],
};

/// `callRecords.directRoutingLogRow` (v1.0 and beta).
pub static DIRECT_ROUTING_LOG_ROW: Group = Group {
    graph_type: "callRecords.directRoutingLogRow",
    props: &[
        leaf("id", "id", Str),
        leaf("@odata.type", "odata_type", TypeName),
        pii("userId", "user_id", Str),
        pii("userPrincipalName", "user_principal_name", Str),
        pii("userDisplayName", "user_display_name", Str),
        leaf("otherPartyCountryCode", "other_party_country_code", Str),
        obj_list(
            "administrativeUnitInfos",
            "administrative_unit_infos",
            &ADMINISTRATIVE_UNIT_INFO,
        ),
        leaf("correlationId", "correlation_id", Str),
        leaf("transferorCorrelationId", "transferor_correlation_id", Str),
        leaf("startDateTime", "start_date_time", Timestamp),
        leaf("inviteDateTime", "invite_date_time", Timestamp),
        leaf("failureDateTime", "failure_date_time", Timestamp),
        leaf("endDateTime", "end_date_time", Timestamp),
        leaf("duration", "duration", Seconds),
        leaf("callType", "call_type", Str),
        leaf("successfulCall", "successful_call", Bool),
        pii("callerNumber", "caller_number", Str),
        pii("calleeNumber", "callee_number", Str),
        leaf("mediaPathLocation", "media_path_location", Str),
        leaf("signalingLocation", "signaling_location", Str),
        leaf("finalSipCode", "final_sip_code", Int32),
        leaf("callEndSubReason", "call_end_sub_reason", Int32),
        leaf("finalSipCodePhrase", "final_sip_code_phrase", Str),
        leaf(
            "trunkFullyQualifiedDomainName",
            "trunk_fully_qualified_domain_name",
            Str,
        ),
        leaf("mediaBypassEnabled", "media_bypass_enabled", Bool),
        leaf("userCountryCode", "user_country_code", Str),
    ],
};

/// `callRecords.smsLogRow` (beta).
pub static SMS_LOG_ROW: Group = Group {
    graph_type: "callRecords.smsLogRow",
    props: &[
        leaf("id", "id", Str),
        leaf("@odata.type", "odata_type", TypeName),
        pii("userId", "user_id", Str),
        pii("userPrincipalName", "user_principal_name", Str),
        pii("userDisplayName", "user_display_name", Str),
        leaf("otherPartyCountryCode", "other_party_country_code", Str),
        obj_list(
            "administrativeUnitInfos",
            "administrative_unit_infos",
            &ADMINISTRATIVE_UNIT_INFO,
        ),
        leaf("smsId", "sms_id", Str),
        leaf("sentDateTime", "sent_date_time", Timestamp),
        leaf("smsType", "sms_type", Str),
        leaf("smsUnits", "sms_units", Int32),
        pii("sourceNumber", "source_number", Str),
        pii("destinationNumber", "destination_number", Str),
        leaf("destinationContext", "destination_context", Str),
        leaf("destinationName", "destination_name", Str),
        leaf("callCharge", "call_charge", Decimal),
        leaf("currency", "currency", Str),
        leaf("licenseCapability", "license_capability", Str),
        leaf("tenantCountryCode", "tenant_country_code", Str),
        leaf("userCountryCode", "user_country_code", Str),
    ],
};

/// `callRecords.pstnBlockedUsersLogRow` (beta).
pub static PSTN_BLOCKED_USERS_LOG_ROW: Group = Group {
    graph_type: "callRecords.pstnBlockedUsersLogRow",
    props: &[
        leaf("@odata.type", "odata_type", TypeName),
        pii("userId", "user_id", Str),
        pii("userPrincipalName", "user_principal_name", Str),
        pii("userDisplayName", "user_display_name", Str),
        pii("userTelephoneNumber", "user_telephone_number", Str),
        leaf("blockDateTime", "block_date_time", Timestamp),
        leaf("blockReason", "block_reason", Str),
        leaf("remediationId", "remediation_id", Str),
        leaf("userBlockMode", "user_block_mode", Str),
    ],
};

/// `callRecords.pstnOnlineMeetingDialoutReport` (beta): totals per user, location, destination
/// and currency over the period asked for.
pub static PSTN_ONLINE_MEETING_DIALOUT_REPORT: Group = Group {
    graph_type: "callRecords.pstnOnlineMeetingDialoutReport",
    props: &[
        leaf("@odata.type", "odata_type", TypeName),
        pii("userId", "user_id", Str),
        pii("userPrincipalName", "user_principal_name", Str),
        pii("userDisplayName", "user_display_name", Str),
        leaf("usageLocation", "usage_location", Str),
        leaf("destinationContext", "destination_context", Str),
        leaf("currency", "currency", Str),
        leaf("totalCalls", "total_calls", Int32),
        leaf("totalCallSeconds", "total_call", Seconds),
        leaf("totalCallCharge", "total_call_charge", Decimal),
    ],
};

/// The `resourceData` of a change notification: the announced resource.
pub static RESOURCE_DATA: Group = Group {
    graph_type: "microsoft.graph.resourceData",
    props: &[
        leaf("@odata.type", "odata_type", TypeName),
        leaf("@odata.id", "odata_id", Str),
        leaf("@odata.etag", "odata_etag", Str),
        leaf("id", "id", Str),
    ],
};

/// `microsoft.graph.changeNotification` (a webhook payload item), without `clientState`: the
/// subscription's shared secret is counted as redacted and never stored.
pub static CHANGE_NOTIFICATION: Group = Group {
    graph_type: "microsoft.graph.changeNotification",
    props: &[
        leaf("id", "id", Str),
        leaf("@odata.type", "odata_type", TypeName),
        leaf("subscriptionId", "subscription_id", Str),
        leaf("changeType", "change_type", Str),
        leaf("lifecycleEvent", "lifecycle_event", Str),
        leaf("resource", "resource", Str),
        obj("resourceData", "resource_data", &RESOURCE_DATA),
        leaf(
            "subscriptionExpirationDateTime",
            "subscription_expiration_date_time",
            Timestamp,
        ),
        leaf("tenantId", "tenant_id", Str),
        leaf("organizationId", "organization_id", Str),
    ],
};
