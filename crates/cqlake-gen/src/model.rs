//! The call-record model: plain structs that hold the values of one Graph `callRecord`, its
//! sessions, segments, media and streams, its participants and organizer.
//!
//! The structs mirror the Graph types of `cqlake_schema::graph` one to one: a field per property,
//! `Option` where Graph may send `null` or leave the key out. Objects that Graph sometimes sends
//! with every property spelled out (`"dnsSuffix": null`) and sometimes with only the known ones
//! carry a [`Nulls`] style that says how their `None` fields are written. Keys that the schema does
//! not declare (Graph's open types) are kept in `extra` fields, written after the known keys.
//!
//! Values are stored so that the lake's value is exact: timestamps as 100-ns ticks
//! ([`Timestamp`]), durations as whole milliseconds ([`Millis`]), numbers as `f64`/`i64`.
//! [`crate::json`] writes a model as Graph JSON; property tests build models, write them,
//! convert them and compare the lake with the model.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use cqlake_schema::TableId;
use cqlake_schema::calendar::{civil_from_days, days_from_civil};

/// A string value: borrowed from the generator's pools or owned.
pub type Text = Cow<'static, str>;

/// A `DateTimeOffset` in UTC, as 100-ns ticks since the Unix epoch (Graph prints seven fractional
/// digits: `2020-02-25T18:52:21.2169889Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Ticks per second.
    pub const TICKS_PER_SECOND: i64 = 10_000_000;
    /// Ticks per millisecond.
    pub const TICKS_PER_MILLI: i64 = 10_000;

    /// The timestamp `secs` seconds after the Unix epoch.
    pub fn from_unix_seconds(secs: i64) -> Self {
        Timestamp(secs * Self::TICKS_PER_SECOND)
    }

    /// Midnight UTC of a proleptic Gregorian date.
    pub fn from_date(year: i64, month: i64, day: i64) -> Self {
        Self::from_unix_seconds(days_from_civil(year, month, day) * 86_400)
    }

    /// Microseconds since the epoch, as the lake stores it (the seventh digit is dropped).
    pub fn unix_micros(self) -> i64 {
        self.0.div_euclid(10)
    }

    /// This timestamp plus `ms` milliseconds.
    pub fn plus_millis(self, ms: i64) -> Self {
        Timestamp(self.0 + ms * Self::TICKS_PER_MILLI)
    }

    /// This timestamp plus `ticks` 100-ns ticks.
    pub fn plus_ticks(self, ticks: i64) -> Self {
        Timestamp(self.0 + ticks)
    }

    /// Appends the ISO-8601 form (`2024-05-01T10:00:00.1234567Z`).
    pub fn write_to(self, out: &mut Vec<u8>) {
        let secs = self.0.div_euclid(Self::TICKS_PER_SECOND);
        let frac = self.0.rem_euclid(Self::TICKS_PER_SECOND) as u32;
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400) as u32;
        let (y, m, d) = civil_from_days(days);
        let mut b = [0u8; 28];
        let y = y.clamp(0, 9999) as u32;
        put_digits(&mut b[0..4], y);
        b[4] = b'-';
        put_digits(&mut b[5..7], m);
        b[7] = b'-';
        put_digits(&mut b[8..10], d);
        b[10] = b'T';
        put_digits(&mut b[11..13], sod / 3600);
        b[13] = b':';
        put_digits(&mut b[14..16], sod / 60 % 60);
        b[16] = b':';
        put_digits(&mut b[17..19], sod % 60);
        b[19] = b'.';
        put_digits(&mut b[20..27], frac);
        b[27] = b'Z';
        out.extend_from_slice(&b);
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut v = Vec::with_capacity(28);
        self.write_to(&mut v);
        f.write_str(std::str::from_utf8(&v).map_err(|_| fmt::Error)?)
    }
}

fn put_digits(dst: &mut [u8], mut v: u32) {
    for slot in dst.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// An `Edm.Duration` of whole milliseconds, printed as ISO-8601 (`PT0.016S`, `PT0.03S`,
/// `PT1M2.5S`, `PT1H`) so that the lake's `_ms` value is exactly the stored number of milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub u64);

impl Millis {
    /// The value in milliseconds, as the lake stores it.
    pub fn ms(self) -> f64 {
        self.0 as f64
    }

    /// Appends the ISO-8601 form.
    pub fn write_to(self, out: &mut Vec<u8>) {
        let ms = self.0;
        let (h, m, s, frac) = (
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            (ms % 1000) as u32,
        );
        let mut ib = itoa::Buffer::new();
        out.extend_from_slice(b"PT");
        if h > 0 {
            out.extend_from_slice(ib.format(h).as_bytes());
            out.push(b'H');
        }
        if m > 0 {
            out.extend_from_slice(ib.format(m).as_bytes());
            out.push(b'M');
        }
        if s > 0 || frac > 0 || ms == 0 {
            out.extend_from_slice(ib.format(s).as_bytes());
            if frac > 0 {
                let mut d = [b'.', 0, 0, 0];
                put_digits(&mut d[1..], frac);
                let mut len = 4;
                while d[len - 1] == b'0' {
                    len -= 1;
                }
                out.extend_from_slice(&d[..len]);
            }
            out.push(b'S');
        }
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut v = Vec::with_capacity(16);
        self.write_to(&mut v);
        f.write_str(std::str::from_utf8(&v).map_err(|_| fmt::Error)?)
    }
}

/// A GUID (entity ids of calls, sessions, segments), printed lowercase `8-4-4-4-12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Guid(pub u128);

impl Guid {
    /// A version-4 style GUID made from 128 random bits.
    pub fn from_bits(bits: u128) -> Self {
        let v = (bits & !(0xF000u128 << 64)) | (0x4000u128 << 64);
        let v = (v & !(0xC000u128 << 48)) | (0x8000u128 << 48);
        Guid(v)
    }

    /// Appends the 36-character form.
    pub fn write_to(self, out: &mut Vec<u8>) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut b = [0u8; 36];
        let mut n = 0;
        for i in 0..32 {
            if matches!(i, 8 | 12 | 16 | 20) {
                b[n] = b'-';
                n += 1;
            }
            b[n] = HEX[((self.0 >> (124 - 4 * i)) & 0xF) as usize];
            n += 1;
        }
        out.extend_from_slice(&b);
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut v = Vec::with_capacity(36);
        self.write_to(&mut v);
        f.write_str(std::str::from_utf8(&v).map_err(|_| fmt::Error)?)
    }
}

/// How an object's `None` properties are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Nulls {
    /// Left out (the key is absent).
    #[default]
    Omit,
    /// Written as `null` (and a `None` non-nullable collection as `[]`).
    Write,
}

/// A key the schema does not declare, with its value as JSON text (written verbatim).
#[derive(Debug, Clone, PartialEq)]
pub struct Extra {
    /// The key.
    pub key: Text,
    /// The value, as valid JSON text (`"x"`, `1.5`, `{"id":"a"}`).
    pub json: Text,
}

/// The Graph API version a record was read from: it decides the URLs of `@odata.context` and
/// `@odata.nextLink`, and the generator shapes endpoints and participants after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiVersion {
    /// `https://graph.microsoft.com/v1.0`.
    #[default]
    V1,
    /// `https://graph.microsoft.com/beta`.
    Beta,
}

impl ApiVersion {
    /// The service root, without a trailing slash.
    pub fn root(self) -> &'static str {
        match self {
            ApiVersion::V1 => "https://graph.microsoft.com/v1.0",
            ApiVersion::Beta => "https://graph.microsoft.com/beta",
        }
    }
}

/// `microsoft.graph.callRecords.callRecord`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallModel {
    /// The API version the record comes from (URLs of annotations).
    pub api: ApiVersion,
    /// `id`.
    pub id: Guid,
    /// `version` (≥ 1; a later revision of the call has a higher one).
    pub version: i64,
    /// `type`: `peerToPeer`, `groupCall`, `unknown`.
    pub call_type: Text,
    /// `modalities`.
    pub modalities: Vec<Text>,
    /// `lastModifiedDateTime`.
    pub last_modified: Timestamp,
    /// `startDateTime`.
    pub start: Timestamp,
    /// `endDateTime`.
    pub end: Timestamp,
    /// `joinWebUrl`.
    pub join_web_url: Option<Text>,
    /// `organizer` (deprecated identity set).
    pub organizer: Option<IdentitySet>,
    /// `participants` (deprecated identity sets): each entry is a row of `participants`.
    pub participants: Option<Vec<IdentitySet>>,
    /// `organizer_v2`.
    pub organizer_v2: Option<Participant>,
    /// `participants_v2`: each entry is a row of `participants`.
    pub participants_v2: Option<Vec<Participant>>,
    /// `sessions` (with their segments).
    pub sessions: Vec<Session>,
    /// Keys not in the schema.
    pub extra: Vec<Extra>,
}

/// `microsoft.graph.callRecords.session`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Session {
    /// `id`.
    pub id: Guid,
    /// `modalities`.
    pub modalities: Vec<Text>,
    /// `startDateTime`.
    pub start: Timestamp,
    /// `endDateTime`.
    pub end: Timestamp,
    /// `isTest`.
    pub is_test: Option<bool>,
    /// `failureInfo`.
    pub failure_info: Option<FailureInfo>,
    /// `caller`.
    pub caller: Option<Endpoint>,
    /// `callee`.
    pub callee: Option<Endpoint>,
    /// `segments`.
    pub segments: Vec<Segment>,
    /// Keys not in the schema.
    pub extra: Vec<Extra>,
}

/// `microsoft.graph.callRecords.segment`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Segment {
    /// `id`.
    pub id: Guid,
    /// `startDateTime`.
    pub start: Timestamp,
    /// `endDateTime`.
    pub end: Timestamp,
    /// `failureInfo`.
    pub failure_info: Option<FailureInfo>,
    /// `caller`.
    pub caller: Option<Endpoint>,
    /// `callee`.
    pub callee: Option<Endpoint>,
    /// `media`.
    pub media: Vec<Media>,
    /// Keys not in the schema.
    pub extra: Vec<Extra>,
}

/// `microsoft.graph.callRecords.failureInfo`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FailureInfo {
    /// `stage`: `callSetup`, `midcall`, `unknown`.
    pub stage: Text,
    /// `reason`.
    pub reason: Option<Text>,
}

/// `microsoft.graph.callRecords.endpoint` (`participantEndpoint` or `serviceEndpoint`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Endpoint {
    /// `@odata.type` (`#microsoft.graph.callRecords.participantEndpoint`).
    pub odata_type: Option<Text>,
    /// `name`.
    pub name: Option<Text>,
    /// `userAgent`.
    pub user_agent: Option<UserAgent>,
    /// `identity` (an identity set; beta, and older v1.0 responses).
    pub identity: Option<IdentitySet>,
    /// `associatedIdentity` (v1.0).
    pub associated_identity: Option<Identity>,
    /// `feedback`.
    pub feedback: Option<Feedback>,
    /// `cpuCoresCount`.
    pub cpu_cores_count: Option<i32>,
    /// `cpuName`.
    pub cpu_name: Option<Text>,
    /// `cpuProcessorSpeedInMhz`.
    pub cpu_processor_speed_in_mhz: Option<i32>,
    /// Keys not in the schema.
    pub extra: Vec<Extra>,
}

/// `microsoft.graph.callRecords.userAgent` (`clientUserAgent` or `serviceUserAgent`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserAgent {
    /// `@odata.type`.
    pub odata_type: Option<Text>,
    /// `headerValue`.
    pub header_value: Option<Text>,
    /// `applicationVersion`.
    pub application_version: Option<Text>,
    /// `platform` (clientPlatform).
    pub platform: Option<Text>,
    /// `productFamily`.
    pub product_family: Option<Text>,
    /// `azureADAppId`.
    pub azure_ad_app_id: Option<Text>,
    /// `communicationServiceId`.
    pub communication_service_id: Option<Text>,
    /// `role` (serviceRole).
    pub role: Option<Text>,
}

/// `microsoft.graph.callRecords.userFeedback`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Feedback {
    /// `rating`: `notRated`, `bad`, `poor`, `fair`, `good`, `excellent`.
    pub rating: Text,
    /// `text`.
    pub text: Option<Text>,
    /// `tokens`: an open set of boolean flags, in order.
    pub tokens: Option<Vec<(Text, bool)>>,
}

/// `microsoft.graph.identitySet` / `communicationsIdentitySet`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IdentitySet {
    /// `@odata.type`.
    pub odata_type: Option<Text>,
    /// `endpointType`.
    pub endpoint_type: Option<Text>,
    /// `user`.
    pub user: Option<Identity>,
    /// `application`.
    pub application: Option<Identity>,
    /// `device`.
    pub device: Option<Identity>,
    /// `applicationInstance`.
    pub application_instance: Option<Identity>,
    /// `assertedIdentity`.
    pub asserted_identity: Option<Identity>,
    /// `azureCommunicationServicesUser`.
    pub azure_communication_services_user: Option<Identity>,
    /// `encrypted`.
    pub encrypted: Option<Identity>,
    /// `guest`.
    pub guest: Option<Identity>,
    /// `onPremises`.
    pub on_premises: Option<Identity>,
    /// `phone`.
    pub phone: Option<Identity>,
    /// Keys the metadata does not declare (`acsUser` and `spoolUser`, which cqlake types,
    /// `teamsVideoInteropServiceUser`, which it keeps in `extra`).
    pub extra: Vec<Extra>,
}

/// `microsoft.graph.identity` and its subtypes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Identity {
    /// `@odata.type`.
    pub odata_type: Option<Text>,
    /// `id`.
    pub id: Option<Text>,
    /// `displayName`.
    pub display_name: Option<Text>,
    /// `tenantId`.
    pub tenant_id: Option<Text>,
    /// `userPrincipalName`.
    pub user_principal_name: Option<Text>,
    /// `ipAddress`.
    pub ip_address: Option<Text>,
    /// `email`.
    pub email: Option<Text>,
    /// `azureCommunicationServicesResourceId`.
    pub azure_communication_services_resource_id: Option<Text>,
    /// `hidden`.
    pub hidden: Option<bool>,
    /// `applicationType`.
    pub application_type: Option<Text>,
    /// Keys not in the schema.
    pub extra: Vec<Extra>,
}

/// `microsoft.graph.callRecords.participant` / `organizer`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Participant {
    /// `id` (a key of the `participants` table; required in follow-up pages).
    pub id: Option<Text>,
    /// `identity`.
    pub identity: Option<IdentitySet>,
    /// `administrativeUnitInfos`: the `id` of each entry.
    pub administrative_unit_infos: Option<Vec<Text>>,
    /// Keys not in the schema.
    pub extra: Vec<Extra>,
}

/// `microsoft.graph.callRecords.media`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Media {
    /// `label`: `main-audio`, `main-video`, `applicationsharing-video`, `data`, ...
    pub label: Option<Text>,
    /// `callerNetwork`.
    pub caller_network: Option<NetworkInfo>,
    /// `calleeNetwork`.
    pub callee_network: Option<NetworkInfo>,
    /// `callerDevice`.
    pub caller_device: Option<DeviceInfo>,
    /// `calleeDevice`.
    pub callee_device: Option<DeviceInfo>,
    /// `streams`.
    pub streams: Vec<MediaStream>,
    /// Keys not in the schema.
    pub extra: Vec<Extra>,
}

/// `microsoft.graph.callRecords.networkInfo`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NetworkInfo {
    /// How `None` properties are written.
    pub nulls: Nulls,
    /// `ipAddress`.
    pub ip_address: Option<Text>,
    /// `subnet`.
    pub subnet: Option<Text>,
    /// `linkSpeed` (bits per second; up to 4294967295 and beyond).
    pub link_speed: Option<i64>,
    /// `connectionType`: `wired`, `wifi`, `mobile`, `tunnel`, `unknown`.
    pub connection_type: Option<Text>,
    /// `port`.
    pub port: Option<i32>,
    /// `reflexiveIPAddress`.
    pub reflexive_ip_address: Option<Text>,
    /// `relayIPAddress`.
    pub relay_ip_address: Option<Text>,
    /// `relayPort`.
    pub relay_port: Option<i32>,
    /// `macAddress`.
    pub mac_address: Option<Text>,
    /// `dnsSuffix`.
    pub dns_suffix: Option<Text>,
    /// `networkTransportProtocol`: `udp`, `tcp`, `unknown`.
    pub network_transport_protocol: Option<Text>,
    /// `wifiMicrosoftDriver`.
    pub wifi_microsoft_driver: Option<Text>,
    /// `wifiMicrosoftDriverVersion`.
    pub wifi_microsoft_driver_version: Option<Text>,
    /// `wifiVendorDriver`.
    pub wifi_vendor_driver: Option<Text>,
    /// `wifiVendorDriverVersion`.
    pub wifi_vendor_driver_version: Option<Text>,
    /// `wifiChannel`.
    pub wifi_channel: Option<i32>,
    /// `wifiBand`: `frequency24GHz`, `frequency50GHz`, `frequency60GHz`, `unknown`.
    pub wifi_band: Option<Text>,
    /// `wifiRadioType`: `wifi80211ac`, `wifi80211ax`, ...
    pub wifi_radio_type: Option<Text>,
    /// `wifiSignalStrength` (percent).
    pub wifi_signal_strength: Option<i32>,
    /// `wifiBatteryCharge` (percent).
    pub wifi_battery_charge: Option<i32>,
    /// `basicServiceSetIdentifier`.
    pub basic_service_set_identifier: Option<Text>,
    /// `sentQualityEventRatio`.
    pub sent_quality_event_ratio: Option<f64>,
    /// `receivedQualityEventRatio`.
    pub received_quality_event_ratio: Option<f64>,
    /// `delayEventRatio`.
    pub delay_event_ratio: Option<f64>,
    /// `bandwidthLowEventRatio`.
    pub bandwidth_low_event_ratio: Option<f64>,
    /// `traceRouteHops`.
    pub trace_route_hops: Option<Vec<TraceRouteHop>>,
    /// Keys not in the schema.
    pub extra: Vec<Extra>,
}

/// `microsoft.graph.callRecords.traceRouteHop`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceRouteHop {
    /// `hopCount`.
    pub hop_count: Option<i32>,
    /// `ipAddress`.
    pub ip_address: Option<Text>,
    /// `roundTripTime`.
    pub round_trip_time: Option<Millis>,
}

/// `microsoft.graph.callRecords.deviceInfo`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeviceInfo {
    /// How `None` properties are written.
    pub nulls: Nulls,
    /// `captureDeviceName`.
    pub capture_device_name: Option<Text>,
    /// `captureDeviceDriver`.
    pub capture_device_driver: Option<Text>,
    /// `renderDeviceName`.
    pub render_device_name: Option<Text>,
    /// `renderDeviceDriver`.
    pub render_device_driver: Option<Text>,
    /// `sentSignalLevel`.
    pub sent_signal_level: Option<i32>,
    /// `receivedSignalLevel`.
    pub received_signal_level: Option<i32>,
    /// `sentNoiseLevel`.
    pub sent_noise_level: Option<i32>,
    /// `receivedNoiseLevel`.
    pub received_noise_level: Option<i32>,
    /// `initialSignalLevelRootMeanSquare`.
    pub initial_signal_level_root_mean_square: Option<f64>,
    /// `captureNotFunctioningEventRatio`.
    pub capture_not_functioning_event_ratio: Option<f64>,
    /// `renderNotFunctioningEventRatio`.
    pub render_not_functioning_event_ratio: Option<f64>,
    /// `cpuInsufficentEventRatio` (Graph's spelling).
    pub cpu_insufficent_event_ratio: Option<f64>,
    /// `deviceClippingEventRatio`.
    pub device_clipping_event_ratio: Option<f64>,
    /// `deviceGlitchEventRatio`.
    pub device_glitch_event_ratio: Option<f64>,
    /// `howlingEventCount`.
    pub howling_event_count: Option<i32>,
    /// `lowSpeechLevelEventRatio`.
    pub low_speech_level_event_ratio: Option<f64>,
    /// `lowSpeechToNoiseEventRatio`.
    pub low_speech_to_noise_event_ratio: Option<f64>,
    /// `micGlitchRate`.
    pub mic_glitch_rate: Option<f64>,
    /// `speakerGlitchRate`.
    pub speaker_glitch_rate: Option<f64>,
    /// `renderMuteEventRatio`.
    pub render_mute_event_ratio: Option<f64>,
    /// `renderZeroVolumeEventRatio`.
    pub render_zero_volume_event_ratio: Option<f64>,
}

/// `microsoft.graph.callRecords.mediaStream`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MediaStream {
    /// How `None` properties are written.
    pub nulls: Nulls,
    /// `streamId`.
    pub stream_id: Option<Text>,
    /// `streamDirection`: `callerToCallee` or `calleeToCaller`.
    pub stream_direction: Option<Text>,
    /// `startDateTime`.
    pub start: Option<Timestamp>,
    /// `endDateTime`.
    pub end: Option<Timestamp>,
    /// `audioCodec`.
    pub audio_codec: Option<Text>,
    /// `videoCodec`.
    pub video_codec: Option<Text>,
    /// `averageAudioDegradation` (NMOS points; poor > 1.0).
    pub average_audio_degradation: Option<f64>,
    /// `averageAudioNetworkJitter`.
    pub average_audio_network_jitter: Option<Millis>,
    /// `maxAudioNetworkJitter`.
    pub max_audio_network_jitter: Option<Millis>,
    /// `averageBandwidthEstimate` (bits per second).
    pub average_bandwidth_estimate: Option<i64>,
    /// `averageJitter` (poor > 30 ms).
    pub average_jitter: Option<Millis>,
    /// `maxJitter`.
    pub max_jitter: Option<Millis>,
    /// `averagePacketLossRate` (fraction; poor > 0.1).
    pub average_packet_loss_rate: Option<f64>,
    /// `maxPacketLossRate`.
    pub max_packet_loss_rate: Option<f64>,
    /// `averageRatioOfConcealedSamples` (poor > 0.07).
    pub average_ratio_of_concealed_samples: Option<f64>,
    /// `maxRatioOfConcealedSamples`.
    pub max_ratio_of_concealed_samples: Option<f64>,
    /// `averageRoundTripTime` (poor > 500 ms).
    pub average_round_trip_time: Option<Millis>,
    /// `maxRoundTripTime`.
    pub max_round_trip_time: Option<Millis>,
    /// `packetUtilization` (packets).
    pub packet_utilization: Option<i64>,
    /// `postForwardErrorCorrectionPacketLossRate` (video poor > 0.15).
    pub post_forward_error_correction_packet_loss_rate: Option<f64>,
    /// `averageReceivedFrameRate`.
    pub average_received_frame_rate: Option<f64>,
    /// `averageVideoFrameLossPercentage` (0–100; poor > 50).
    pub average_video_frame_loss_percentage: Option<f64>,
    /// `averageVideoFrameRate` (fps; poor < 7, VBSS < 2).
    pub average_video_frame_rate: Option<f64>,
    /// `averageVideoPacketLossRate`.
    pub average_video_packet_loss_rate: Option<f64>,
    /// `lowFrameRateRatio`.
    pub low_frame_rate_ratio: Option<f64>,
    /// `lowVideoProcessingCapabilityRatio`.
    pub low_video_processing_capability_ratio: Option<f64>,
    /// `averageFreezeDuration`.
    pub average_freeze_duration: Option<Millis>,
    /// `rmsFreezeDuration`.
    pub rms_freeze_duration: Option<Millis>,
    /// `isAudioForwardErrorCorrectionUsed`.
    pub is_audio_forward_error_correction_used: Option<bool>,
    /// `wasMediaBypassed`.
    pub was_media_bypassed: Option<bool>,
    /// Keys not in the schema.
    pub extra: Vec<Extra>,
}

/// Rows of the six lake tables, in `TableId::ALL` order.
pub type TableRows = [u64; 6];

impl CallModel {
    /// The rows this record becomes in each lake table, in `TableId::ALL` order (one `calls`
    /// row; a `participants` row per entry of `participants_v2` and of the deprecated
    /// `participants`; a row per session, segment, media entry and stream).
    pub fn rows(&self) -> TableRows {
        let mut r = [0u64; 6];
        r[TableId::Calls.index()] = 1;
        r[TableId::Participants.index()] = self.participants_v2.as_ref().map_or(0, Vec::len) as u64
            + self.participants.as_ref().map_or(0, Vec::len) as u64;
        r[TableId::Sessions.index()] = self.sessions.len() as u64;
        for s in &self.sessions {
            r[TableId::Segments.index()] += s.segments.len() as u64;
            for g in &s.segments {
                r[TableId::Media.index()] += g.media.len() as u64;
                for m in &g.media {
                    r[TableId::Streams.index()] += m.streams.len() as u64;
                }
            }
        }
        r
    }

    /// Adds the number of streams of each media `label` (`(none)` for a media with no label)
    /// to `counts`.
    pub fn count_streams_by_label(&self, counts: &mut BTreeMap<String, u64>) {
        for s in &self.sessions {
            for g in &s.segments {
                for m in &g.media {
                    let label = m.label.as_deref().unwrap_or("(none)");
                    match counts.get_mut(label) {
                        Some(n) => *n += m.streams.len() as u64,
                        None => {
                            counts.insert(label.to_string(), m.streams.len() as u64);
                        }
                    }
                }
            }
        }
    }

    /// Every stream with its media label, in document order.
    pub fn streams(&self) -> impl Iterator<Item = (&Media, &MediaStream)> {
        self.sessions
            .iter()
            .flat_map(|s| s.segments.iter())
            .flat_map(|g| g.media.iter())
            .flat_map(|m| m.streams.iter().map(move |st| (m, st)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqlake_ingest::values::{parse_duration_ms, parse_timestamp_us};

    #[test]
    fn timestamps_print_seven_digits_and_parse_back() {
        let t = Timestamp(15_826_567_412_169_889);
        assert_eq!(t.to_string(), "2020-02-25T18:52:21.2169889Z");
        assert_eq!(parse_timestamp_us(&t.to_string()), Some(t.unix_micros()));
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.0000000Z");
        assert_eq!(
            Timestamp::from_date(2024, 2, 29).to_string(),
            "2024-02-29T00:00:00.0000000Z"
        );
        for days in [-1000i64, 0, 19_000, 20_000, 30_000] {
            let t = Timestamp::from_unix_seconds(days * 86_400 + 3_723).plus_ticks(1234);
            assert_eq!(parse_timestamp_us(&t.to_string()), Some(t.unix_micros()));
        }
    }

    #[test]
    fn durations_print_iso_8601_with_exact_milliseconds() {
        for (ms, text) in [
            (0, "PT0S"),
            (16, "PT0.016S"),
            (30, "PT0.03S"),
            (500, "PT0.5S"),
            (1000, "PT1S"),
            (62_500, "PT1M2.5S"),
            (120_000, "PT2M"),
            (3_600_000, "PT1H"),
            (3_723_004, "PT1H2M3.004S"),
        ] {
            assert_eq!(Millis(ms).to_string(), text);
            assert_eq!(parse_duration_ms(text).map(|v| v.round()), Some(ms as f64));
        }
        // Below one second the parsed value is exact.
        for ms in 0..1000 {
            assert_eq!(parse_duration_ms(&Millis(ms).to_string()), Some(ms as f64));
        }
    }

    #[test]
    fn guids_are_lowercase_8_4_4_4_12() {
        let g = Guid::from_bits(u128::MAX);
        let s = g.to_string();
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4");
        assert_eq!(s, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(
            Guid(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef).to_string(),
            "01234567-89ab-cdef-0123-456789abcdef"
        );
    }
}
