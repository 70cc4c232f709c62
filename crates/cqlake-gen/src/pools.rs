//! Fixed pools of realistic values: people, tenants, subnets, devices, user agents, codecs.
//!
//! The pools are the same for every seed, so that reports over corpora of different seeds group
//! by the same subnets, devices and users.

use std::sync::OnceLock;

use super::model::Guid;

/// The number of users in the directory.
pub const USERS: usize = 3000;

/// The number of subnets in the pool.
pub const SUBNETS: usize = 300;

/// The tenant most users belong to (the one of Graph's example responses).
pub const HOME_TENANT: &str = "dc368399-474c-4d40-900c-6265431fd81f";

/// Tenants of external (federated) users.
pub const EXTERNAL_TENANTS: &[&str] = &[
    "72f988bf-86f1-41af-91ab-2d7cd011db47",
    "4a1c7b3e-5d2f-4e8a-9b6c-0d1e2f3a4b5c",
];

const FIRST: &[&str] = &[
    "Abbie",
    "Owen",
    "Adele",
    "Alex",
    "Allan",
    "Bianca",
    "Brian",
    "Cameron",
    "Christie",
    "Debra",
    "Diego",
    "Emily",
    "Enrico",
    "Gerhart",
    "Grady",
    "Henrietta",
    "Irvin",
    "Isaiah",
    "Johanna",
    "Joni",
    "Lee",
    "Lidia",
    "Lynne",
    "Megan",
    "Miriam",
    "Nestor",
    "Patti",
    "Pradeep",
    "Raul",
    "Sakura",
    "Tomás",
    "Vasanth",
    "Wei",
    "Yuki",
    "Zoë",
    "Ingrid",
    "Kwame",
    "Fatima",
    "Olu",
    "Siobhán",
];

const LAST: &[&str] = &[
    "Wilkins",
    "Franklin",
    "Vance",
    "Wilber",
    "Deyoung",
    "Bowen",
    "Johnson",
    "Cooley",
    "Cline",
    "Berg",
    "Siciliani",
    "Braun",
    "Munro",
    "Archie",
    "Mueller",
    "Gonzalez",
    "Holt",
    "Lee",
    "Wilson",
    "Patel",
    "Smith",
    "Nakamura",
    "Okafor",
    "Haddad",
    "Kowalski",
    "Novak",
    "Rossi",
    "Dubois",
    "García",
    "Jensen",
    "O'Brien",
    "Nguyen",
    "Kim",
    "Silva",
    "Müller",
    "Ivanova",
    "Mensah",
    "Andersson",
    "Costa",
    "Chen",
];

/// A user of the directory.
#[derive(Debug)]
pub struct User {
    /// Object id.
    pub id: String,
    /// `First Last`.
    pub display_name: String,
    /// `first.last.N@contoso.com`.
    pub upn: String,
    /// The user's tenant.
    pub tenant: &'static str,
    /// The user's usual subnet (index into [`subnets`]).
    pub subnet: usize,
}

fn ascii_lower(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'á' | 'à' => Some('a'),
            'é' | 'ë' => Some('e'),
            'ó' => Some('o'),
            'ü' => Some('u'),
            'í' => Some('i'),
            '\'' => None,
            c => Some(c.to_ascii_lowercase()),
        })
        .collect()
}

/// The user directory ([`USERS`] users).
pub fn users() -> &'static [User] {
    static USERS_DIR: OnceLock<Vec<User>> = OnceLock::new();
    USERS_DIR.get_or_init(|| {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        (0..USERS)
            .map(|i| {
                let mut bits = 0u128;
                for _ in 0..2 {
                    x = splitmix(x);
                    bits = (bits << 64) | u128::from(x);
                }
                let first = FIRST[i % FIRST.len()];
                let last = LAST[(i / FIRST.len() + i * 7) % LAST.len()];
                let tenant = if i % 17 == 5 {
                    EXTERNAL_TENANTS[i % EXTERNAL_TENANTS.len()]
                } else {
                    HOME_TENANT
                };
                let domain = if tenant == HOME_TENANT {
                    "contoso.com"
                } else {
                    "fabrikam.com"
                };
                User {
                    id: Guid::from_bits(bits).to_string(),
                    display_name: format!("{first} {last}"),
                    upn: format!("{}.{}.{i}@{domain}", ascii_lower(first), ascii_lower(last)),
                    tenant,
                    subnet: (x % SUBNETS as u64) as usize,
                }
            })
            .collect()
    })
}

/// SplitMix64: the step used to derive fixed pool values.
pub fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The subnet pool: [`SUBNETS`] distinct `10.a.b.0` networks, as (subnet, a, b).
pub fn subnets() -> &'static [(String, u8, u8)] {
    static POOL: OnceLock<Vec<(String, u8, u8)>> = OnceLock::new();
    POOL.get_or_init(|| {
        (0..SUBNETS)
            .map(|i| {
                let a = (1 + i % 250) as u8;
                let b = ((i * 37) % 256) as u8;
                (format!("10.{a}.{b}.0"), a, b)
            })
            .collect()
    })
}

/// True for the few subnets whose streams are poor far more often (a bad site to find).
pub fn bad_subnet(i: usize) -> bool {
    i % 29 == 3
}

/// Capture / render device pairs, with their drivers.
pub const DEVICES: &[(&str, &str, &str)] = &[
    (
        "Microphone (Jabra Evolve2 65)",
        "Headphones (Jabra Evolve2 65)",
        "Jabra: 1.28.0.0",
    ),
    (
        "Headset Microphone (Poly BT700)",
        "Headphones (Poly BT700)",
        "Poly: 3.1.2.0",
    ),
    (
        "Microphone Array (Realtek(R) Audio)",
        "Speakers (Realtek(R) Audio)",
        "Realtek Semiconductor Corp.: 6.0.9235.1",
    ),
    (
        "Default input device",
        "Default output device",
        "Microsoft: 10.0.22621.1",
    ),
    (
        "Headset Microphone (Logitech USB Headset H390)",
        "Speakers (Logitech USB Headset H390)",
        "Logitech: 2.0.0.18",
    ),
    (
        "Echo Cancelling Speakerphone (Jabra SPEAK 510 USB)",
        "Echo Cancelling Speakerphone (Jabra SPEAK 510 USB)",
        "Jabra: 1.12.0.0",
    ),
    (
        "MacBook Pro Microphone",
        "MacBook Pro Speakers",
        "Apple: 14.4",
    ),
    ("iPhone Microphone", "iPhone Receiver", "Apple: 17.4"),
    (
        "Microphone (Microsoft Modern USB Headset)",
        "Headphones (Microsoft Modern USB Headset)",
        "Microsoft: 10.0.19041.1",
    ),
    (
        "Headset (Bose QC35 II Hands-Free AG Audio)",
        "Headphones (Bose QC35 II Stereo)",
        "Microsoft: 10.0.22621.2506",
    ),
    (
        "Microphone (Yealink UH36)",
        "Speakers (Yealink UH36)",
        "Yealink: 1.0.3.0",
    ),
    (
        "Microphone (Sennheiser SC 165 USB)",
        "Speakers (Sennheiser SC 165 USB)",
        "Sennheiser: 2.1.0.0",
    ),
    ("AirPods Pro", "AirPods Pro", "Apple: 6A326"),
    (
        "Microphone (Microsoft Virtual Audio Device (Simple) (WDM))",
        "Speakers (Microsoft Virtual Audio Device (Simple) (WDM))",
        "Microsoft: 5.0.8638.1100",
    ),
    (
        "Microphone (Cisco Headset 730)",
        "Headphones (Cisco Headset 730)",
        "Cisco: 1.4.0.0",
    ),
    (
        "Headset Microphone (EPOS ADAPT 460)",
        "Headphones (EPOS ADAPT 460)",
        "EPOS: 1.0.9.0",
    ),
    (
        "Microphone (Plantronics Blackwire 3220 Series)",
        "Speakers (Plantronics Blackwire 3220 Series)",
        "Plantronics: 3.15.0.0",
    ),
    (
        "Microphone (Lenovo ThinkPad USB-C Dock Audio)",
        "Speakers (Lenovo ThinkPad USB-C Dock Audio)",
        "Lenovo: 1.0.0.7",
    ),
    (
        "Microphone (Surface Hub Audio)",
        "Speakers (Surface Hub Audio)",
        "Microsoft: 10.0.19045.1",
    ),
    (
        "Microphone (Logitech Rally Mic Pod)",
        "Speakers (Logitech Rally Speaker)",
        "Logitech: 1.3.88.0",
    ),
];

/// Client platforms with their weights.
pub const PLATFORMS: &[(&str, u32)] = &[
    ("windows", 48),
    ("macOS", 15),
    ("iOS", 10),
    ("android", 9),
    ("web", 9),
    ("ipPhone", 3),
    ("roomSystem", 3),
    ("surfaceHub", 1),
    ("holoLens", 1),
    ("unknown", 1),
];

/// `(platform, productFamily, headerValue, applicationVersion)`.
pub const CLIENT_AGENTS: &[(&str, &str, &str, &str)] = &[
    (
        "windows",
        "teams",
        "RTCC/2024.13.01.15 MSTeams/24124.2311.2911.3341 (Windows NT 10.0.22631; x64)",
        "24124.2311.2911.3341",
    ),
    (
        "windows",
        "teams",
        "RTCC/7.0.0.0 Teams/1.6.00.12455 (Windows 10 Enterprise; x64)",
        "1.6.00.12455",
    ),
    (
        "windows",
        "skypeForBusiness",
        "UCCAPI/16.0.12527.20122 OC/16.0.12527.20194 (Skype for Business)",
        "16.0.12527.20194",
    ),
    (
        "windows",
        "lync",
        "UCCAPI/15.0.4569.1503 OC/15.0.4569.1506 (Microsoft Lync)",
        "15.0.4569.1506",
    ),
    (
        "macOS",
        "teams",
        "RTCC/2024.12.01.8 MSTeams/24124.1412.2911.3341 (Mac OS X 14.4.1)",
        "24124.1412.2911.3341",
    ),
    (
        "iOS",
        "teams",
        "RTCC/2024.10.01.2 Teams/6.8.1 (iPhone15,2 iOS 17.4.1)",
        "6.8.1",
    ),
    (
        "android",
        "teams",
        "RTCC/2024.10.01.2 Teams/1416/1.0.0.2024052001 (SM-S911B Android 14)",
        "1416/1.0.0.2024052001",
    ),
    (
        "android",
        "skypeForBusiness",
        "RTCC/7.0.0.0 UCWA/7.0.0.0 AndroidLync/6.25.0.27 (SM-G930U Android 8.0.0)",
        "6.25.0.27",
    ),
    (
        "web",
        "teams",
        "RTCC/2024.11.01.4 TeamsWebClient (Edg/124.0.2478.80; Windows NT 10.0)",
        "24124.1412.2911.3341",
    ),
    (
        "web",
        "azureCommunicationServices",
        "azsdk-js-communication-calling/1.23.1 (Chrome 124.0; Windows NT 10.0)",
        "1.23.1",
    ),
    (
        "ipPhone",
        "teams",
        "RTCC/2023.45.01.3 Teams Phone (Yealink T58A; Android 9) 1449/1.0.94.2023",
        "1449/1.0.94.2023",
    ),
    (
        "roomSystem",
        "teams",
        "RTCC/2024.08.01.2 Teams Rooms/5.0.111.0 (Windows NT 10.0.19045; MTR)",
        "5.0.111.0",
    ),
    (
        "surfaceHub",
        "teams",
        "RTCC/2023.50.01.1 Teams/1.6.00.31763 (Surface Hub 2S; Windows 10 Team)",
        "1.6.00.31763",
    ),
    (
        "holoLens",
        "teams",
        "RTCC/2023.40.01.1 Teams/1.5.00.1 (HoloLens 2; Windows Holographic)",
        "1.5.00.1",
    ),
    ("unknown", "unknown", "Unknown/0.0 (SIP gateway)", "0.0"),
];

/// `(role, headerValue)` of service endpoints.
pub const SERVICE_AGENTS: &[(&str, &str, u32)] = &[
    (
        "skypeForBusinessAudioVideoMcu",
        "Microsoft.Skype.AVMCU/2024.18.01.5 (AVMCU; Conferencing)",
        70,
    ),
    (
        "mediaController",
        "Microsoft.Skype.MediaController/2024.18.01.5",
        12,
    ),
    (
        "conferencingAnnouncementService",
        "Microsoft.Skype.ConfAnnouncement/2024.16.01.2",
        6,
    ),
    ("customBot", "Microsoft.Graph.Communications.Bot/1.2.0.1", 4),
    (
        "gateway",
        "Microsoft.PSTN.Gateway/2024.1 (Direct Routing)",
        4,
    ),
    ("voicemail", "Microsoft.Skype.Voicemail/2024.3", 2),
    (
        "skypeForBusinessApplicationSharingMcu",
        "Microsoft.Skype.ASMCU/2024.18.01.5",
        2,
    ),
];

/// Audio codecs with their weights.
pub const AUDIO_CODECS: &[(&str, u32)] = &[
    ("satin", 30),
    ("opus", 24),
    ("silk", 12),
    ("g722", 9),
    ("satinFullband", 8),
    ("silkWide", 4),
    ("silkNarrow", 2),
    ("pcmu", 3),
    ("pcma", 2),
    ("g729", 1),
    ("rtAudio16", 1),
    ("amrWide", 1),
    ("unknown", 1),
];

/// Video codecs with their weights.
pub const VIDEO_CODECS: &[(&str, u32)] = &[
    ("h264", 40),
    ("h264s", 10),
    ("h264uc", 8),
    ("av1", 12),
    ("h265", 6),
    ("rtVideo", 4),
    ("xrtvc1", 3),
    ("rtvc1", 2),
    ("unknown", 1),
];

/// Feedback ratings with their weights.
pub const RATINGS: &[(&str, u32)] = &[
    ("notRated", 30),
    ("bad", 5),
    ("poor", 10),
    ("fair", 15),
    ("good", 25),
    ("excellent", 15),
];

/// Known feedback tokens (Graph's examples and the CQD docs).
pub const TOKENS: &[&str] = &[
    "NoSound",
    "OtherNoSound",
    "Echo",
    "Noisy",
    "LowVolume",
    "Stopped",
    "DistortedSound",
    "Interruptions",
];

/// Feedback tokens of video calls.
pub const VIDEO_TOKENS: &[&str] = &[
    "FrozenVideo",
    "PixelatedVideo",
    "DarkVideo",
    "VideoAudioOutOfSync",
];

/// Tokens newer than any list: the set is open.
pub const NEW_TOKENS: &[&str] = &["AudioDelayed", "ScreenShareNotVisible", "CaptionsMissing"];

/// Feedback texts.
pub const FEEDBACK_TEXTS: &[&str] = &[
    "Could not hear the presenter for the first minute.",
    "Echo on my side",
    "Great call",
    "Video froze several times \"again\"",
    "Dropped twice; had to rejoin.",
];

/// Failure reasons.
pub const FAILURE_REASONS: &[&str] = &[
    "MediaConnectivityFailure",
    "Call setup failed: ICE connectivity checks failed",
    "Unexpected client-side network disconnect",
    "Media timeout: no packets received for 30 seconds",
    "Remote endpoint rejected the call (488 Not Acceptable Here)",
    "Transport relay allocation failed",
];

/// Wi-Fi radio types with weights.
pub const WIFI_RADIOS: &[(&str, u32)] = &[
    ("wifi80211ac", 45),
    ("wifi80211ax", 30),
    ("wifi80211n", 18),
    ("wifi80211g", 3),
    ("wifi80211a", 2),
    ("wifi80211b", 1),
    ("unknown", 1),
];

/// Wi-Fi drivers `(microsoft driver, version, vendor driver, version)`.
pub const WIFI_DRIVERS: &[(&str, &str, &str, &str)] = &[
    (
        "Microsoft Wi-Fi Direct Virtual Adapter",
        "10.0.22621.1",
        "Intel(R) Wi-Fi 6E AX211 160MHz",
        "23.40.0.4",
    ),
    (
        "Microsoft Wi-Fi Direct Virtual Adapter",
        "10.0.19041.1",
        "Intel(R) Wi-Fi 6 AX201 160MHz",
        "22.200.0.6",
    ),
    (
        "Microsoft Wi-Fi Direct Virtual Adapter",
        "10.0.22621.2506",
        "Qualcomm Atheros QCA61x4A Wireless Network Adapter",
        "12.0.0.1118",
    ),
    (
        "Microsoft Wi-Fi Direct Virtual Adapter",
        "10.0.22000.1",
        "Realtek RTL8852BE WiFi 6 802.11ax PCIe Adapter",
        "6001.15.148.0",
    ),
];

/// CPU names of participant endpoints.
pub const CPUS: &[(&str, i32, i32)] = &[
    ("Intel(R) Core(TM) i7-1185G7 @ 3.00GHz", 4, 2995),
    ("Intel(R) Core(TM) i5-10310U CPU @ 1.70GHz", 4, 2208),
    ("13th Gen Intel(R) Core(TM) i7-1365U", 10, 1800),
    ("AMD Ryzen 7 PRO 5850U with Radeon Graphics", 8, 1901),
    ("Apple M2", 8, 3490),
    ("Apple M1 Pro", 10, 3228),
];

/// Stream keys the schema does not declare: `(key, JSON value)`.
pub const UNKNOWN_STREAM_KEYS: &[(&str, &str)] = &[
    ("averageAudioNetworkJitterVariance", "\"PT0.004S\""),
    ("rtpPayloadType", "111"),
    ("averageVideoResolution", "\"1280x720\""),
];

/// Identity-set keys the Graph metadata does not declare (Graph's open `identitySet`); cqlake
/// types `acsUser` and `spoolUser`.
pub const UNKNOWN_IDENTITY_SET_KEYS: &[&str] =
    &["acsUser", "spoolUser", "teamsVideoInteropServiceUser"];

/// Unknown keys of call records.
pub const UNKNOWN_CALL_KEYS: &[(&str, &str)] = &[
    ("callChainId", "\"c7d2a1f0-54b3-4e9a-8f2d-0a1b2c3d4e5f\""),
    ("isRecorded", "true"),
];

/// Administrative units.
pub const ADMIN_UNITS: &[&str] = &[
    "3a4e5c70-1b2d-4f6a-8c9e-0d1f2a3b4c5d",
    "7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e",
    "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
];

/// Labels of video media, with their weights.
pub const VIDEO_LABELS: &[(&str, u32)] = &[
    ("main-video", 85),
    ("video", 8),
    ("panoramic-video", 4),
    ("video-2", 3),
];

/// Public relay addresses (Teams transport relays).
pub const RELAYS: &[&str] = &[
    "52.114.188.32",
    "52.114.188.102",
    "52.115.62.17",
    "52.113.199.5",
    "52.112.133.64",
];
