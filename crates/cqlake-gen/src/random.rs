//! Drawing call models: the distributions behind [`super::Generator`].
//!
//! Only integer arithmetic, `+ - * /`, `round` and `sqrt` touch the random draws (no `ln`, `exp`
//! or `powf`, whose last bit may differ between platforms' math libraries), so a seed gives the
//! same bytes everywhere.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use rand::RngCore;
use rand_chacha::ChaCha8Rng;

use super::model::*;
use super::pools::{self, User};

/// The random source of one call: ChaCha8 with helpers for the draws the generator needs.
pub(crate) struct Rng(pub(crate) ChaCha8Rng);

impl Rng {
    #[inline]
    pub(crate) fn u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    #[inline]
    pub(crate) fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    #[inline]
    fn u128(&mut self) -> u128 {
        (u128::from(self.u64()) << 64) | u128::from(self.u64())
    }
    /// Uniform in [0, 1) with 53 bits.
    #[inline]
    pub(crate) fn unit(&mut self) -> f64 {
        (self.u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Uniform in 0..n (n > 0).
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.u64()) * u128::from(n)) >> 64) as u64
    }
    /// Uniform in lo..=hi.
    #[inline]
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    #[inline]
    fn range_i(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }
    #[inline]
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    #[inline]
    fn pick_str(&mut self, xs: &[&'static str]) -> &'static str {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn weighted<T: Copy>(&mut self, xs: &[(T, u32)]) -> T {
        let total: u32 = xs.iter().map(|x| x.1).sum();
        let mut r = self.below(u64::from(total)) as u32;
        for &(v, w) in xs {
            if r < w {
                return v;
            }
            r -= w;
        }
        xs[xs.len() - 1].0
    }
    /// Uniform in [lo, hi).
    #[inline]
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// In [lo, hi), most values near `lo` (the square of a uniform draw: half of them in the
    /// lowest quarter).
    #[inline]
    fn skewed(&mut self, lo: f64, hi: f64) -> f64 {
        let u = self.unit();
        lo + (hi - lo) * u * u
    }
}

/// `x` rounded to `decimals` decimals (exact arithmetic on every platform).
#[inline]
fn round(x: f64, decimals: i32) -> f64 {
    let scale = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8][decimals as usize];
    (x * scale).round() / scale
}

#[inline]
fn b(s: &'static str) -> Text {
    Cow::Borrowed(s)
}

/// The distribution settings the builder reads (copied from the generator).
#[derive(Debug, Clone)]
pub(crate) struct Params {
    pub shape: super::Shape,
    pub start: Timestamp,
    pub days: u32,
    pub group_call_share: f64,
    pub large_call_share: f64,
    pub huge_call_share: f64,
    pub poor_share: f64,
    pub threshold_share: f64,
    pub missing_share: f64,
    pub unknown_key_share: f64,
    pub feedback_share: f64,
    pub failure_share: f64,
}

/// What a media entry carries, decided by its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Audio,
    Video,
    /// Video-based screen sharing (`applicationsharing-video`).
    Vbss,
    /// RDP application sharing (`applicationsharing`, `applicationsharing-*`).
    AppSharing,
    Data,
}

impl Kind {
    pub(crate) fn of_label(label: Option<&str>) -> Kind {
        match label {
            Some("main-audio") | Some("audio") => Kind::Audio,
            Some("applicationsharing-video") => Kind::Vbss,
            Some(l) if l.starts_with("applicationsharing") => Kind::AppSharing,
            Some("data") => Kind::Data,
            Some(l) if l.contains("video") => Kind::Video,
            _ => Kind::Data,
        }
    }
    fn modality(self) -> &'static str {
        match self {
            Kind::Audio => "audio",
            Kind::Video => "video",
            Kind::Vbss => "videoBasedScreenSharing",
            Kind::AppSharing => "screenSharing",
            Kind::Data => "data",
        }
    }
    fn order(self) -> u8 {
        self as u8
    }
}

#[derive(Debug, Clone, Copy)]
enum Who {
    User(usize),
    Guest(u128),
    Phone(u64),
    Bot(u128),
    Acs(u128),
    Encrypted(u128),
}

/// A participant of a call, with where they sit and what they use.
#[derive(Debug, Clone)]
struct Person {
    who: Who,
    subnet: usize,
    conn: &'static str,
    device: usize,
    agent: usize,
    machine: u32,
    cpu: Option<usize>,
}

impl Person {
    fn user(&self) -> Option<&'static User> {
        match self.who {
            Who::User(i) => Some(&pools::users()[i]),
            _ => None,
        }
    }
    /// How much likelier than average this person's streams are poor.
    fn bias(&self) -> f64 {
        let site = if pools::bad_subnet(self.subnet) {
            6.0
        } else {
            1.0
        };
        site * conn_bias(self.conn)
    }
}

fn conn_bias(conn: &str) -> f64 {
    match conn {
        "wired" => 0.6,
        "wifi" => 1.3,
        "mobile" => 2.0,
        "tunnel" => 1.5,
        _ => 1.0,
    }
}

fn subnet_index(subnet: &str) -> Option<usize> {
    static INDEX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            pools::subnets()
                .iter()
                .enumerate()
                .map(|(i, s)| (s.0.as_str(), i))
                .collect()
        })
        .get(subnet)
        .copied()
}

const CONNECTIONS: &[(&str, u32)] = &[
    ("wired", 44),
    ("wifi", 40),
    ("mobile", 6),
    ("tunnel", 6),
    ("unknown", 4),
];

fn person(rng: &mut Rng, used: &mut Vec<usize>) -> Person {
    let r = rng.below(1000);
    let who = if r < 880 {
        // A directory user not yet in the call (a few tries, then anyone).
        let mut u = rng.below(pools::USERS as u64) as usize;
        for _ in 0..4 {
            if !used.contains(&u) {
                break;
            }
            u = rng.below(pools::USERS as u64) as usize;
        }
        used.push(u);
        Who::User(u)
    } else if r < 930 {
        Who::Guest(rng.u128())
    } else if r < 965 {
        Who::Phone(rng.range(2_000_000, 9_999_999))
    } else if r < 980 {
        Who::Bot(rng.u128())
    } else if r < 995 {
        Who::Acs(rng.u128())
    } else {
        Who::Encrypted(rng.u128())
    };
    let subnet = match who {
        Who::User(u) if rng.chance(0.8) => pools::users()[u].subnet,
        _ => rng.below(pools::SUBNETS as u64) as usize,
    };
    let platform = rng.weighted(pools::PLATFORMS);
    let agents: Vec<usize> = pools::CLIENT_AGENTS
        .iter()
        .enumerate()
        .filter(|(_, a)| a.0 == platform)
        .map(|(i, _)| i)
        .collect();
    let agent = *rng.pick(&agents);
    let conn = match platform {
        "iOS" | "android" if rng.chance(0.35) => "mobile",
        "roomSystem" | "surfaceHub" | "ipPhone" => "wired",
        _ => rng.weighted(CONNECTIONS),
    };
    Person {
        who,
        subnet,
        conn,
        device: rng.below(pools::DEVICES.len() as u64) as usize,
        agent,
        machine: rng.range(1, 9999) as u32,
        cpu: rng
            .chance(0.3)
            .then(|| rng.below(pools::CPUS.len() as u64) as usize),
    }
}

fn guid_text(bits: u128) -> Text {
    Cow::Owned(Guid::from_bits(bits).to_string())
}

/// The identity of a person (`associatedIdentity`, or the member of an identity set).
fn identity(p: &Person, with_upn: bool) -> Identity {
    match p.who {
        Who::User(_) => {
            let u = p.user().expect("a user");
            Identity {
                id: Some(Cow::Borrowed(u.id.as_str())),
                display_name: Some(Cow::Borrowed(u.display_name.as_str())),
                tenant_id: Some(b(u.tenant)),
                user_principal_name: with_upn.then_some(Cow::Borrowed(u.upn.as_str())),
                ..Identity::default()
            }
        }
        Who::Guest(bits) => Identity {
            id: Some(guid_text(bits)),
            display_name: Some(Cow::Owned(format!(
                "Guest {} (Guest)",
                (bits % 9000 + 1000) as u32
            ))),
            email: with_upn.then(|| Cow::Owned(format!("guest{}@outlook.com", bits % 100_000))),
            ..Identity::default()
        },
        Who::Phone(n) => Identity {
            id: Some(Cow::Owned(format!("+1425{n:07}"))),
            ..Identity::default()
        },
        Who::Bot(bits) => Identity {
            id: Some(guid_text(bits)),
            display_name: Some(b("Meeting Recorder Bot")),
            tenant_id: Some(b(pools::HOME_TENANT)),
            hidden: with_upn.then_some(false),
            application_type: with_upn.then(|| b("bot")),
            ..Identity::default()
        },
        Who::Acs(bits) => {
            let g = Guid::from_bits(bits);
            Identity {
                id: Some(Cow::Owned(format!(
                    "8:acs:{}_{:08x}",
                    Guid::from_bits(bits.rotate_left(17)),
                    (bits >> 96) as u32
                ))),
                display_name: Some(b("Customer (web)")),
                azure_communication_services_resource_id: with_upn
                    .then(|| Cow::Owned(g.to_string())),
                ..Identity::default()
            }
        }
        Who::Encrypted(bits) => Identity {
            id: Some(guid_text(bits)),
            ..Identity::default()
        },
    }
}

/// The identity set of a person.
fn identity_set(rng: &mut Rng, prm: &Params, p: &Person, v2: bool) -> IdentitySet {
    let id = identity(p, v2);
    let mut set = IdentitySet::default();
    match p.who {
        Who::User(_) => {
            if v2 {
                set.odata_type = rng
                    .chance(0.5)
                    .then(|| b("#microsoft.graph.communicationsIdentitySet"));
                if rng.chance(0.3) {
                    set.endpoint_type = Some(b("default"));
                }
            }
            set.user = Some(id);
        }
        Who::Guest(_) => set.guest = Some(id),
        Who::Phone(_) => set.phone = Some(id),
        Who::Bot(_) => set.application = Some(id),
        Who::Acs(_) => set.azure_communication_services_user = Some(id),
        Who::Encrypted(_) => set.encrypted = Some(id),
    }
    if rng.chance(prm.unknown_key_share) {
        let key = *rng.pick(pools::UNKNOWN_IDENTITY_SET_KEYS);
        set.extra.push(Extra {
            key: b(key),
            json: Cow::Owned(format!(
                "{{\"id\":\"8:{}:{}\"}}",
                key.trim_end_matches("User"),
                rng.below(1_000_000)
            )),
        });
    }
    set
}

fn participant(rng: &mut Rng, prm: &Params, p: &Person) -> Participant {
    let id = match p.who {
        Who::User(_) => Cow::Borrowed(p.user().expect("user").id.as_str()),
        Who::Guest(bits) | Who::Bot(bits) | Who::Acs(bits) | Who::Encrypted(bits) => {
            guid_text(bits.rotate_left(7))
        }
        Who::Phone(n) => guid_text(u128::from(n) * 0x9e37_79b9_7f4a_7c15),
    };
    Participant {
        id: Some(id),
        identity: Some(identity_set(rng, prm, p, true)),
        administrative_unit_infos: rng
            .chance(0.15)
            .then(|| vec![b(rng.pick_str(pools::ADMIN_UNITS))]),
        extra: Vec::new(),
    }
}

/// The endpoint of a person on a session or segment.
fn client_endpoint(rng: &mut Rng, prm: &Params, p: &Person, api: ApiVersion) -> Endpoint {
    let (platform, family, header, version) = pools::CLIENT_AGENTS[p.agent];
    let acs = family == "azureCommunicationServices";
    let ua = UserAgent {
        odata_type: Some(b("#microsoft.graph.callRecords.clientUserAgent")),
        header_value: Some(b(header)),
        application_version: rng.chance(0.5).then(|| b(version)),
        platform: Some(b(platform)),
        product_family: Some(b(family)),
        azure_ad_app_id: acs.then(|| b("1fd5118e-2576-4263-8130-9503064c837a")),
        communication_service_id: acs.then(|| b("a7c3d7ea-2f9b-4cb2-a3d8-1c5e6f7a8b9c")),
        role: None,
    };
    let mut e = Endpoint {
        odata_type: Some(b("#microsoft.graph.callRecords.participantEndpoint")),
        user_agent: Some(ua),
        ..Endpoint::default()
    };
    let associated = api == ApiVersion::V1 && rng.chance(0.8);
    if associated {
        e.name = Some(Cow::Owned(format!("machineName_{}", p.machine)));
        e.associated_identity = Some(identity(p, true));
    } else {
        let mut set = identity_set(rng, prm, p, false);
        if rng.chance(0.3) {
            set.odata_type = Some(b("#microsoft.graph.identitySet"));
        }
        e.identity = Some(set);
    }
    if let Some(c) = p.cpu {
        let (name, cores, mhz) = pools::CPUS[c];
        e.cpu_name = Some(b(name));
        e.cpu_cores_count = Some(cores);
        e.cpu_processor_speed_in_mhz = Some(mhz);
    }
    e
}

fn service_endpoint(rng: &mut Rng) -> Endpoint {
    let agents: Vec<(&str, u32)> = pools::SERVICE_AGENTS
        .iter()
        .map(|&(role, _, w)| (role, w))
        .collect();
    let role = rng.weighted(&agents);
    let header = pools::SERVICE_AGENTS
        .iter()
        .find(|a| a.0 == role)
        .map(|a| a.1)
        .expect("role in pool");
    Endpoint {
        odata_type: Some(b("#microsoft.graph.callRecords.serviceEndpoint")),
        user_agent: Some(UserAgent {
            odata_type: Some(b("#microsoft.graph.callRecords.serviceUserAgent")),
            header_value: Some(b(header)),
            role: Some(b(role)),
            ..UserAgent::default()
        }),
        ..Endpoint::default()
    }
}

fn nulls(rng: &mut Rng) -> Nulls {
    if rng.chance(0.4) {
        Nulls::Write
    } else {
        Nulls::Omit
    }
}

fn event_ratio(rng: &mut Rng) -> Option<f64> {
    let r = rng.below(100);
    if r < 8 {
        None
    } else if r < 80 {
        Some(0.0)
    } else {
        Some(round(rng.skewed(0.0, 0.6), 2))
    }
}

fn mac(rng: &mut Rng) -> Text {
    let x = rng.u64();
    Cow::Owned(format!(
        "{:02X}-{:02X}-{:02X}-{:02X}-{:02X}-{:02X}",
        x as u8,
        (x >> 8) as u8,
        (x >> 16) as u8,
        (x >> 24) as u8,
        (x >> 32) as u8,
        (x >> 40) as u8
    ))
}

/// The network of a person.
fn client_network(rng: &mut Rng, p: &Person) -> NetworkInfo {
    let (ref subnet, a, bb) = pools::subnets()[p.subnet];
    let conn = p.conn;
    let mut n = NetworkInfo {
        nulls: nulls(rng),
        ip_address: Some(Cow::Owned(format!("10.{a}.{bb}.{}", rng.range(2, 254)))),
        subnet: rng.chance(0.96).then_some(Cow::Borrowed(subnet.as_str())),
        connection_type: Some(b(conn)),
        port: rng.chance(0.9).then(|| rng.range(1024, 65535) as i32),
        ..NetworkInfo::default()
    };
    n.link_speed = match conn {
        "wired" => Some(*rng.pick(&[
            1_000_000_000,
            1_000_000_000,
            100_000_000,
            4_294_967_295,
            1_000_000_000,
            2_500_000_000,
        ])),
        "wifi" => Some(*rng.pick(&[
            54_000_000,
            144_400_000,
            300_000_000,
            433_300_000,
            866_700_000,
            1_201_000_000,
        ])),
        "mobile" => Some(rng.range(5_000_000, 150_000_000) as i64),
        "tunnel" => Some(*rng.pick(&[4_294_967_295, 100_000_000])),
        _ => None,
    };
    if rng.chance(0.7) {
        n.reflexive_ip_address = Some(if rng.chance(0.3) {
            b("127.0.0.2")
        } else {
            Cow::Owned(format!(
                "198.51.{}.{}",
                100 + p.subnet % 100,
                rng.range(1, 254)
            ))
        });
    }
    if rng.chance(0.3) {
        n.relay_ip_address = Some(b(rng.pick_str(pools::RELAYS)));
        n.relay_port = Some(if rng.chance(0.5) {
            3478
        } else {
            rng.range(50_000, 59_999) as i32
        });
    }
    n.mac_address = match rng.below(10) {
        0..=4 => Some(b("00-00-00-00-00-00")),
        5..=7 => Some(mac(rng)),
        _ => None,
    };
    n.dns_suffix = rng.chance(0.4).then(|| b("corp.contoso.com"));
    n.network_transport_protocol = rng
        .chance(0.7)
        .then(|| b(rng.weighted(&[("udp", 88), ("tcp", 10), ("unknown", 2)])));
    if conn == "wifi" {
        let band = rng.weighted(&[
            ("frequency50GHz", 60),
            ("frequency24GHz", 32),
            ("frequency60GHz", 3),
            ("unknown", 5),
        ]);
        n.wifi_band = Some(b(band));
        n.wifi_radio_type = Some(b(rng.weighted(pools::WIFI_RADIOS)));
        n.wifi_channel = Some(match band {
            "frequency24GHz" => rng.range(1, 11) as i32,
            "frequency50GHz" => *rng.pick(&[36, 40, 44, 48, 52, 100, 149, 153, 157, 161]),
            _ => rng.range(1, 6) as i32,
        });
        n.wifi_signal_strength = Some(rng.range(15, 100) as i32);
        n.wifi_battery_charge = rng.chance(0.6).then(|| rng.range(3, 100) as i32);
        if rng.chance(0.7) {
            let (md, mv, vd, vv) = *rng.pick(pools::WIFI_DRIVERS);
            n.wifi_microsoft_driver = Some(b(md));
            n.wifi_microsoft_driver_version = Some(b(mv));
            n.wifi_vendor_driver = Some(b(vd));
            n.wifi_vendor_driver_version = Some(b(vv));
        }
        n.basic_service_set_identifier = rng.chance(0.8).then(|| mac(rng));
    } else if rng.chance(0.3) {
        n.wifi_band = Some(b("unknown"));
        n.wifi_radio_type = Some(b("unknown"));
    }
    n.sent_quality_event_ratio = event_ratio(rng);
    n.received_quality_event_ratio = event_ratio(rng);
    n.delay_event_ratio = event_ratio(rng);
    n.bandwidth_low_event_ratio = event_ratio(rng);
    if rng.chance(0.04) {
        let hops = rng.range(3, 8);
        let mut rtt = 0;
        n.trace_route_hops = Some(
            (0..hops)
                .map(|h| {
                    rtt += rng.range(1, 25);
                    TraceRouteHop {
                        hop_count: Some(h as i32 + 1),
                        ip_address: Some(if h == 0 {
                            Cow::Owned(format!("10.{a}.{bb}.1"))
                        } else {
                            Cow::Owned(format!("203.0.113.{}", rng.range(1, 254)))
                        }),
                        round_trip_time: rng.chance(0.95).then_some(Millis(rtt)),
                    }
                })
                .collect(),
        );
    }
    n
}

fn server_network(rng: &mut Rng) -> NetworkInfo {
    NetworkInfo {
        nulls: nulls(rng),
        ip_address: Some(b(rng.pick_str(pools::RELAYS))),
        connection_type: Some(b("wired")),
        port: Some(rng.range(3478, 3481) as i32),
        network_transport_protocol: rng.chance(0.5).then(|| b("udp")),
        ..NetworkInfo::default()
    }
}

fn device(rng: &mut Rng, p: &Person) -> DeviceInfo {
    let (capture, render, driver) = pools::DEVICES[p.device];
    let drivers = rng.chance(0.6);
    let ratio = |rng: &mut Rng| -> Option<f64> {
        match rng.below(100) {
            0..=9 => None,
            10..=89 => Some(0.0),
            _ => Some(round(rng.skewed(0.0, 1.0), 2)),
        }
    };
    DeviceInfo {
        nulls: nulls(rng),
        capture_device_name: Some(b(capture)),
        capture_device_driver: drivers.then(|| b(driver)),
        render_device_name: Some(b(render)),
        render_device_driver: drivers.then(|| b(driver)),
        sent_signal_level: rng.chance(0.7).then(|| rng.range_i(-40, -5) as i32),
        received_signal_level: rng.chance(0.9).then(|| rng.range_i(-40, -5) as i32),
        sent_noise_level: rng.chance(0.7).then(|| rng.range_i(-95, -50) as i32),
        received_noise_level: rng.chance(0.9).then(|| rng.range_i(-95, -50) as i32),
        initial_signal_level_root_mean_square: rng
            .chance(0.8)
            .then(|| round(rng.uniform(20.0, 250.0), 5)),
        capture_not_functioning_event_ratio: ratio(rng),
        render_not_functioning_event_ratio: ratio(rng),
        cpu_insufficent_event_ratio: ratio(rng),
        device_clipping_event_ratio: ratio(rng),
        device_glitch_event_ratio: ratio(rng),
        howling_event_count: rng.chance(0.5).then(|| {
            if rng.chance(0.05) {
                rng.range(1, 12) as i32
            } else {
                0
            }
        }),
        low_speech_level_event_ratio: ratio(rng),
        low_speech_to_noise_event_ratio: ratio(rng),
        mic_glitch_rate: rng.chance(0.8).then(|| {
            if rng.chance(0.7) {
                rng.range(0, 300) as f64
            } else {
                round(rng.skewed(0.0, 4000.0), 1)
            }
        }),
        speaker_glitch_rate: rng.chance(0.8).then(|| rng.range(0, 4000) as f64),
        render_mute_event_ratio: ratio(rng),
        render_zero_volume_event_ratio: ratio(rng),
    }
}

/// One metric: missing (`None`), exactly at the threshold, poor, or good.
#[inline]
fn metric<T>(
    rng: &mut Rng,
    p: &Params,
    poor_p: f64,
    edge: T,
    poor: impl FnOnce(&mut Rng) -> T,
    good: impl FnOnce(&mut Rng) -> T,
) -> Option<T> {
    let u = rng.unit();
    let a = p.missing_share;
    let e = a + p.threshold_share;
    if u < a {
        None
    } else if u < e {
        Some(edge)
    } else if u < e + poor_p {
        Some(poor(rng))
    } else {
        Some(good(rng))
    }
}

fn ms_range(rng: &mut Rng, lo: u64, hi: u64) -> Millis {
    Millis(rng.range(lo, hi))
}

fn ms_skewed(rng: &mut Rng, lo: u64, hi: u64) -> Millis {
    Millis(lo + rng.skewed(0.0, (hi - lo + 1) as f64) as u64)
}

/// Fills the network metrics every kind of stream has (jitter, loss, round trip, bandwidth,
/// packets).
fn network_metrics(rng: &mut Rng, p: &Params, poor: f64, s: &mut MediaStream) {
    s.average_jitter = metric(
        rng,
        p,
        poor,
        Millis(30),
        |r| ms_skewed(r, 31, 250),
        |r| ms_skewed(r, 1, 29),
    );
    s.max_jitter = s
        .average_jitter
        .map(|a| Millis(a.0 + (a.0 as f64 * rng.uniform(0.0, 2.0)) as u64));
    s.average_packet_loss_rate = metric(
        rng,
        p,
        poor,
        0.1,
        |r| round(r.uniform(0.1001, 0.5), 8),
        |r| {
            if r.chance(0.45) {
                0.0
            } else {
                round(r.skewed(0.0, 0.0999), 8)
            }
        },
    );
    s.max_packet_loss_rate = s
        .average_packet_loss_rate
        .map(|a| round((a * rng.uniform(1.0, 4.0)).min(1.0), 8));
    s.average_round_trip_time = metric(
        rng,
        p,
        poor,
        Millis(500),
        |r| ms_skewed(r, 501, 2500),
        |r| ms_skewed(r, 12, 499),
    );
    s.max_round_trip_time = s
        .average_round_trip_time
        .map(|a| Millis(a.0 + (a.0 as f64 * rng.uniform(0.0, 1.5)) as u64));
    s.packet_utilization = metric(
        rng,
        p,
        0.08,
        500,
        |r| r.range(1, 499) as i64,
        |r| r.range(501, 150_000) as i64,
    );
    s.average_bandwidth_estimate = rng
        .chance(0.9)
        .then(|| rng.range(20_000, 120_000_000) as i64);
}

fn audio_metrics(rng: &mut Rng, p: &Params, poor: f64, s: &mut MediaStream) {
    let codec = rng.weighted(pools::AUDIO_CODECS);
    s.audio_codec = rng.chance(0.95).then(|| b(codec));
    let satin = codec.starts_with("satin");
    network_metrics(rng, p, poor, s);
    s.average_audio_degradation = metric(
        rng,
        p,
        poor,
        1.0,
        |r| round(r.uniform(1.0001, 3.5), 6),
        |r| round(r.skewed(0.0, 0.999), 6),
    );
    if satin && rng.chance(0.5) {
        s.average_audio_degradation = None;
    }
    s.average_ratio_of_concealed_samples = metric(
        rng,
        p,
        poor,
        0.07,
        |r| round(r.uniform(0.0701, 0.45), 8),
        |r| round(r.skewed(0.0, 0.0699), 8),
    );
    s.max_ratio_of_concealed_samples = s
        .average_ratio_of_concealed_samples
        .map(|a| round((a * rng.uniform(1.0, 3.0)).min(1.0), 8));
    s.average_audio_network_jitter = rng.chance(0.85).then(|| ms_skewed(rng, 2, 400));
    s.max_audio_network_jitter = s
        .average_audio_network_jitter
        .map(|a| Millis(a.0 + (a.0 as f64 * rng.uniform(0.0, 2.0)) as u64));
    s.is_audio_forward_error_correction_used = rng.chance(0.6).then(|| rng.chance(0.3));
}

fn video_metrics(rng: &mut Rng, p: &Params, poor: f64, s: &mut MediaStream, vbss: bool) {
    s.video_codec = rng
        .chance(0.95)
        .then(|| b(rng.weighted(pools::VIDEO_CODECS)));
    network_metrics(rng, p, poor, s);
    // The CQD cascade: frame loss, else frame rate, else post-FEC loss. Each may be missing.
    s.average_video_frame_loss_percentage = if rng.chance(0.7) {
        metric(
            rng,
            p,
            poor,
            50.0,
            |r| round(r.uniform(50.01, 95.0), 4),
            |r| round(r.skewed(0.0, 49.99), 4),
        )
    } else {
        None
    };
    let (edge, top) = if vbss { (2.0, 15.0) } else { (7.0, 30.0) };
    s.average_video_frame_rate = if rng.chance(0.85) {
        metric(
            rng,
            p,
            poor,
            edge,
            |r| round(r.uniform(0.0, edge - 0.01), 4),
            |r| round(top - r.skewed(0.0, top - edge - 0.01), 4),
        )
    } else {
        None
    };
    s.average_received_frame_rate = s
        .average_video_frame_rate
        .map(|f| round((f * rng.uniform(0.9, 1.02)).max(0.0), 4));
    s.post_forward_error_correction_packet_loss_rate = if rng.chance(0.8) {
        metric(
            rng,
            p,
            poor,
            0.15,
            |r| round(r.uniform(0.1501, 0.6), 8),
            |r| round(r.skewed(0.0, 0.1499), 8),
        )
    } else {
        None
    };
    s.average_video_packet_loss_rate = rng.chance(0.8).then(|| round(rng.skewed(0.0, 0.2), 8));
    s.low_frame_rate_ratio = rng.chance(0.7).then(|| round(rng.skewed(0.0, 1.0), 6));
    s.low_video_processing_capability_ratio = rng.chance(0.6).then(|| {
        if rng.chance(0.8) {
            0.0
        } else {
            round(rng.uniform(0.0, 1.0), 6)
        }
    });
    if rng.chance(0.4) {
        let long = rng.chance(0.005);
        let avg = if long {
            ms_range(rng, 61_000, 125_000)
        } else {
            ms_skewed(rng, 0, 3000)
        };
        s.average_freeze_duration = Some(avg);
        s.rms_freeze_duration = Some(Millis(
            avg.0 + (avg.0 as f64 * rng.uniform(0.0, 0.8)) as u64,
        ));
    }
}

fn sharing_metrics(rng: &mut Rng, p: &Params, s: &mut MediaStream) {
    if rng.chance(0.5) {
        network_metrics(rng, p, p.poor_share, s);
        s.average_packet_loss_rate = None;
        s.max_packet_loss_rate = None;
    } else {
        s.packet_utilization = rng.chance(0.5).then(|| rng.range(1, 40_000) as i64);
    }
}

/// Draws the metrics of a stream of `kind` (its identity fields are kept).
pub(crate) fn fill_metrics(rng: &mut Rng, p: &Params, kind: Kind, bias: f64, s: &mut MediaStream) {
    let keep = MediaStream {
        nulls: s.nulls,
        stream_id: s.stream_id.take(),
        stream_direction: s.stream_direction.take(),
        start: s.start,
        end: s.end,
        extra: std::mem::take(&mut s.extra),
        ..MediaStream::default()
    };
    *s = keep;
    if rng.chance(0.02) {
        return; // no quality report for this stream (short call, failed connectivity)
    }
    let poor = (p.poor_share * bias).min(0.5);
    match kind {
        Kind::Audio => audio_metrics(rng, p, poor, s),
        Kind::Video => video_metrics(rng, p, poor, s, false),
        Kind::Vbss => video_metrics(rng, p, poor, s, true),
        Kind::AppSharing | Kind::Data => sharing_metrics(rng, p, s),
    }
    s.was_media_bypassed = match rng.below(100) {
        0..=2 => None,
        3..=4 => Some(true),
        _ => Some(false),
    };
}

fn stream(
    rng: &mut Rng,
    p: &Params,
    kind: Kind,
    direction: &'static str,
    bias: f64,
    span: (Timestamp, Timestamp),
) -> MediaStream {
    let mut s = MediaStream {
        nulls: nulls(rng),
        stream_id: rng
            .chance(0.98)
            .then(|| Cow::Owned(itoa::Buffer::new().format(rng.u32()).to_string())),
        stream_direction: Some(b(direction)),
        ..MediaStream::default()
    };
    if rng.chance(0.4) {
        s.start = Some(span.0.plus_ticks(rng.range(0, 20_000_000) as i64));
        s.end = Some(span.1);
    }
    if rng.chance(p.unknown_key_share) {
        let (k, v) = *rng.pick(pools::UNKNOWN_STREAM_KEYS);
        s.extra.push(Extra {
            key: b(k),
            json: b(v),
        });
    }
    fill_metrics(rng, p, kind, bias, &mut s);
    s
}

/// A media entry: which kind, with which label.
#[derive(Debug, Clone, Copy)]
struct MediaPlan {
    kind: Kind,
    label: &'static str,
    streams: u8,
}

fn media_plans(rng: &mut Rng, group: bool) -> Vec<MediaPlan> {
    let mut v = Vec::with_capacity(4);
    let two = |rng: &mut Rng, p: f64| if rng.chance(p) { 2 } else { 1 };
    if rng.chance(0.97) {
        v.push(MediaPlan {
            kind: Kind::Audio,
            label: "main-audio",
            streams: two(rng, 0.9),
        });
    }
    if rng.chance(if group { 0.4 } else { 0.28 }) {
        v.push(MediaPlan {
            kind: Kind::Video,
            label: rng.weighted(pools::VIDEO_LABELS),
            streams: two(rng, 0.8),
        });
    }
    if rng.chance(0.08) {
        v.push(MediaPlan {
            kind: Kind::Vbss,
            label: "applicationsharing-video",
            streams: two(rng, 0.4),
        });
    }
    if rng.chance(0.03) {
        v.push(MediaPlan {
            kind: Kind::AppSharing,
            label: if rng.chance(0.5) {
                "applicationsharing"
            } else {
                "applicationsharing-rdp"
            },
            streams: two(rng, 0.5),
        });
    }
    if rng.chance(0.03) || v.is_empty() {
        v.push(MediaPlan {
            kind: Kind::Data,
            label: "data",
            streams: two(rng, 0.5),
        });
    }
    v
}

/// The two sides of a session.
struct Sides<'a> {
    caller: &'a Person,
    /// The callee person, or `None` for a service (conference server).
    callee: Option<&'a Person>,
}

#[allow(clippy::too_many_arguments)]
fn session(
    rng: &mut Rng,
    p: &Params,
    api: ApiVersion,
    id: Guid,
    sides: &Sides<'_>,
    start: Timestamp,
    end: Timestamp,
) -> Session {
    let caller_ep = client_endpoint(rng, p, sides.caller, api);
    let callee_ep = match sides.callee {
        Some(q) => client_endpoint(rng, p, q, api),
        None => service_endpoint(rng),
    };
    let plans = media_plans(rng, sides.callee.is_none());
    let bias = sides.caller.bias() * sides.callee.map_or(1.0, |q| q.bias()).max(1.0);
    let caller_net = client_network(rng, sides.caller);
    let callee_net = match sides.callee {
        Some(q) => client_network(rng, q),
        None => server_network(rng),
    };
    let caller_dev = device(rng, sides.caller);
    let callee_dev = sides.callee.map(|q| device(rng, q));
    let n_segments = match rng.below(100) {
        0..=69 => 1,
        70..=91 => 2,
        _ => 3,
    };
    let total = (end.0 - start.0).max(n_segments as i64);
    let mut segments = Vec::with_capacity(n_segments);
    let mut t = start;
    for k in 0..n_segments {
        let seg_end = if k + 1 == n_segments {
            end
        } else {
            t.plus_ticks(total / n_segments as i64 + rng.range(0, 10_000_000) as i64)
                .min(end)
        };
        let seg_id = if k == 0 && rng.chance(0.5) {
            id
        } else {
            Guid::from_bits(rng.u128())
        };
        let mut media = Vec::with_capacity(plans.len());
        for plan in &plans {
            let dirs: &[&'static str] = if plan.streams == 2 {
                &["callerToCallee", "calleeToCaller"]
            } else if rng.chance(0.5) {
                &["callerToCallee"]
            } else {
                &["calleeToCaller"]
            };
            let streams = dirs
                .iter()
                .map(|d| stream(rng, p, plan.kind, d, bias, (t, seg_end)))
                .collect();
            let with_devices = matches!(plan.kind, Kind::Audio | Kind::Video);
            media.push(Media {
                label: Some(b(plan.label)),
                caller_network: rng.chance(0.97).then(|| caller_net.clone()),
                callee_network: rng.chance(0.9).then(|| callee_net.clone()),
                caller_device: with_devices.then(|| caller_dev.clone()),
                callee_device: if with_devices {
                    callee_dev.clone()
                } else {
                    None
                },
                streams,
                extra: Vec::new(),
            });
        }
        let mut seg_caller = caller_ep.clone();
        let mut seg_callee = callee_ep.clone();
        seg_caller.feedback = None;
        seg_callee.feedback = None;
        segments.push(Segment {
            id: seg_id,
            start: t,
            end: seg_end,
            failure_info: rng.chance(p.failure_share * 0.7).then(|| failure(rng)),
            caller: rng.chance(0.97).then_some(seg_caller),
            callee: rng.chance(0.97).then_some(seg_callee),
            media,
            extra: Vec::new(),
        });
        t = seg_end;
    }
    let mut kinds: Vec<Kind> = plans.iter().map(|m| m.kind).collect();
    kinds.sort_by_key(|k| k.order());
    kinds.dedup();
    let mut s = Session {
        id,
        modalities: kinds.iter().map(|k| b(k.modality())).collect(),
        start,
        end,
        is_test: (api == ApiVersion::V1 && rng.chance(0.3)).then(|| rng.chance(0.01)),
        failure_info: rng.chance(p.failure_share).then(|| failure(rng)),
        caller: Some(caller_ep),
        callee: Some(callee_ep),
        segments,
        extra: Vec::new(),
    };
    let poor = session_has_poor_audio(&s);
    if rng.chance(p.feedback_share) {
        let f = feedback(rng, p, poor, kinds.contains(&Kind::Video));
        match (&mut s.callee, sides.callee.is_some() && rng.chance(0.5)) {
            (Some(e), true) => e.feedback = Some(f),
            _ => {
                if let Some(e) = &mut s.caller {
                    e.feedback = Some(f);
                }
            }
        }
    }
    s
}

fn session_has_poor_audio(s: &Session) -> bool {
    s.segments.iter().flat_map(|g| g.media.iter()).any(|m| {
        m.label.as_deref() == Some("main-audio")
            && m.streams.iter().any(|st| {
                st.average_jitter.is_some_and(|j| j.0 > 30)
                    || st.average_packet_loss_rate.is_some_and(|l| l > 0.1)
                    || st.average_round_trip_time.is_some_and(|r| r.0 > 500)
            })
    })
}

fn failure(rng: &mut Rng) -> FailureInfo {
    FailureInfo {
        stage: b(rng.weighted(&[("callSetup", 55), ("midcall", 40), ("unknown", 5)])),
        reason: rng
            .chance(0.8)
            .then(|| b(rng.pick_str(pools::FAILURE_REASONS))),
    }
}

fn feedback(rng: &mut Rng, p: &Params, poor: bool, video: bool) -> Feedback {
    let rating = if poor {
        rng.weighted(&[
            ("notRated", 20),
            ("bad", 25),
            ("poor", 30),
            ("fair", 15),
            ("good", 8),
            ("excellent", 2),
        ])
    } else {
        rng.weighted(pools::RATINGS)
    };
    let low = matches!(rating, "bad" | "poor" | "fair");
    let tokens = rng.chance(if low { 0.7 } else { 0.2 }).then(|| {
        let mut t: Vec<(Text, bool)> = pools::TOKENS
            .iter()
            .map(|k| (b(k), rng.chance(if low { 0.25 } else { 0.02 })))
            .collect();
        if video {
            t.extend(pools::VIDEO_TOKENS.iter().map(|k| (b(k), rng.chance(0.1))));
        }
        if rng.chance((p.unknown_key_share * 5.0).min(1.0)) {
            t.push((b(rng.pick_str(pools::NEW_TOKENS)), rng.chance(0.7)));
        }
        t
    });
    Feedback {
        rating: b(rating),
        text: rng
            .chance(0.1)
            .then(|| b(rng.pick_str(pools::FEEDBACK_TEXTS))),
        tokens,
    }
}

/// How many sessions a call of this type has.
fn session_count(rng: &mut Rng, p: &Params, group: bool) -> usize {
    if !group {
        return 1;
    }
    let u = rng.unit();
    if u < p.huge_call_share {
        rng.range(140, 160) as usize
    } else if u < p.huge_call_share + p.large_call_share {
        rng.range(61, 130) as usize
    } else if rng.chance(0.1) {
        rng.range(13, 60) as usize
    } else {
        2 + rng.skewed(0.0, 11.0) as usize
    }
}

/// Draws call number `index`'s first record from its own random stream.
pub(crate) fn call(rng: &mut Rng, p: &Params) -> CallModel {
    let api = match p.shape {
        super::Shape::V1 => ApiVersion::V1,
        super::Shape::Beta => ApiVersion::Beta,
        super::Shape::Mixed => {
            if rng.chance(0.6) {
                ApiVersion::V1
            } else {
                ApiVersion::Beta
            }
        }
    };
    let id = Guid::from_bits(rng.u128());
    let group = rng.chance(p.group_call_share);
    let call_type = if group {
        "groupCall"
    } else if rng.chance(0.01) {
        "unknown"
    } else {
        "peerToPeer"
    };
    // Start: a day of the window, mostly in working hours.
    let day = rng.below(u64::from(p.days.max(1))) as i64;
    let sod = if rng.chance(0.75) {
        rng.range(7 * 3600, 18 * 3600) as i64
    } else {
        rng.below(86_400) as i64
    };
    let start = p
        .start
        .plus_ticks((day * 86_400 + sod) * Timestamp::TICKS_PER_SECOND)
        .plus_ticks(rng.below(10_000_000) as i64);
    let dur_ms = if group {
        rng.range(5 * 60_000, 20 * 60_000) + rng.skewed(0.0, 100.0 * 60_000.0) as u64
    } else {
        rng.range(5_000, 60_000) + rng.skewed(0.0, 90.0 * 60_000.0) as u64
    };
    let end = start.plus_millis(dur_ms as i64);

    let n_sessions = session_count(rng, p, group);
    let mut used = Vec::new();
    let n_people = if group {
        // A few sessions are someone rejoining.
        (n_sessions - n_sessions / 20).max(1)
    } else {
        2
    };
    let people: Vec<Person> = (0..n_people).map(|_| person(rng, &mut used)).collect();

    let mut sessions = Vec::with_capacity(n_sessions);
    for k in 0..n_sessions {
        let (sid, s_start, s_end) = if group {
            let join = rng.skewed(0.0, dur_ms as f64 * 0.5) as i64;
            let leave = rng.skewed(0.0, dur_ms as f64 * 0.3) as i64;
            let s_start = start.plus_millis(join);
            let s_end = end.plus_millis(-leave).max(s_start.plus_millis(1000));
            (Guid::from_bits(rng.u128()), s_start, s_end)
        } else {
            let sid = if rng.chance(0.6) {
                id
            } else {
                Guid::from_bits(rng.u128())
            };
            (sid, start, end)
        };
        let sides = if group {
            Sides {
                caller: &people[k % people.len()],
                callee: None,
            }
        } else {
            Sides {
                caller: &people[0],
                callee: Some(&people[1]),
            }
        };
        sessions.push(session(rng, p, api, sid, &sides, s_start, s_end));
    }

    let mut modalities: Vec<Text> = Vec::new();
    for m in [
        "audio",
        "video",
        "videoBasedScreenSharing",
        "screenSharing",
        "data",
    ] {
        if sessions.iter().any(|s| s.modalities.iter().any(|x| x == m)) {
            modalities.push(b(m));
        }
    }

    let organizer = &people[0];
    let (with_v2, with_legacy) = match api {
        ApiVersion::V1 => (rng.chance(0.9), rng.chance(0.3)),
        ApiVersion::Beta => (rng.chance(0.4), true),
    };
    let with_legacy = with_legacy || !with_v2;
    let participants_v2 = with_v2.then(|| {
        people
            .iter()
            .map(|q| participant(rng, p, q))
            .collect::<Vec<_>>()
    });
    let organizer_v2 = with_v2.then(|| participant(rng, p, organizer));
    let participants = with_legacy.then(|| {
        people
            .iter()
            .map(|q| identity_set(rng, p, q, false))
            .collect::<Vec<_>>()
    });
    let organizer_legacy = with_legacy.then(|| identity_set(rng, p, organizer, false));

    let join_web_url = (group && rng.chance(0.9)).then(|| {
        Cow::Owned(format!(
            "https://teams.microsoft.com/l/meetup-join/19%3ameeting_{}%40thread.v2/0?context=%7b%22Tid%22%3a%22{}%22%7d",
            Guid::from_bits(rng.u128()).to_string().replace('-', ""),
            pools::HOME_TENANT
        ))
    });
    let mut extra = Vec::new();
    if rng.chance(p.unknown_key_share) {
        let (k, v) = *rng.pick(pools::UNKNOWN_CALL_KEYS);
        extra.push(Extra {
            key: b(k),
            json: b(v),
        });
    }
    let version = if rng.chance(0.85) {
        1
    } else {
        rng.range(2, 4) as i64
    };
    CallModel {
        api,
        id,
        version,
        call_type: b(call_type),
        modalities,
        last_modified: end.plus_millis(rng.range(60_000, 20 * 60_000) as i64),
        start,
        end,
        join_web_url,
        organizer: organizer_legacy,
        participants,
        organizer_v2,
        participants_v2,
        sessions,
        extra,
    }
}

/// Turns a call's record into its next revision: `version` one higher, `lastModifiedDateTime`
/// half an hour to two days later, metrics measured again, sometimes a late joiner's session and
/// new feedback.
pub(crate) fn revise(call: &mut CallModel, rng: &mut Rng, p: &Params) {
    call.version += 1;
    call.last_modified = call
        .last_modified
        .plus_millis(rng.range(30 * 60_000, 48 * 3_600_000) as i64);
    if call.call_type == "groupCall"
        && rng.chance(0.3)
        && let Some(last) = call.sessions.last()
    {
        {
            let mut s = last.clone();
            s.id = Guid::from_bits(rng.u128());
            for g in &mut s.segments {
                g.id = Guid::from_bits(rng.u128());
                for m in &mut g.media {
                    for st in &mut m.streams {
                        st.stream_id = Some(Cow::Owned(
                            itoa::Buffer::new().format(rng.u32()).to_string(),
                        ));
                    }
                }
            }
            call.sessions.push(s);
        }
    }
    for s in &mut call.sessions {
        for g in &mut s.segments {
            for m in &mut g.media {
                let kind = Kind::of_label(m.label.as_deref());
                let bias = m.caller_network.as_ref().map_or(1.0, |n| {
                    let site = n
                        .subnet
                        .as_deref()
                        .and_then(subnet_index)
                        .map_or(1.0, |i| if pools::bad_subnet(i) { 6.0 } else { 1.0 });
                    site * conn_bias(n.connection_type.as_deref().unwrap_or("unknown"))
                });
                for st in &mut m.streams {
                    fill_metrics(rng, p, kind, bias, st);
                }
            }
        }
        if rng.chance(p.feedback_share) {
            let poor = session_has_poor_audio(s);
            let video = s.modalities.iter().any(|m| m == "video");
            if let Some(e) = &mut s.caller {
                e.feedback = Some(feedback(rng, p, poor, video));
            }
        }
    }
}
