//! The filters of a request: read from its query string, checked, and turned into the engine's
//! options (dates, rule set, the calls every table is narrowed to) and into SQL predicates with
//! quoted literals. Every filter lives in the page's URL, so a view can be bookmarked.

use std::collections::BTreeMap;

use cqlake_query::RuleSet;

use crate::{Error, Result};

/// The media kinds a stream can have (`media_kind(label)`).
pub const MEDIA_KINDS: [&str; 6] = ["audio", "video", "vbss", "appsharing", "data", "other"];

/// How trends are bucketed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    /// By UTC day of the call's start.
    Day,
    /// By month.
    Month,
}

impl Grain {
    /// The `date_trunc` unit.
    pub fn unit(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Month => "month",
        }
    }
}

/// The dimensions of `stream_rollup` a breakdown can be by (`by=`), with their names in words.
pub const DIMENSIONS: [(&str, &str); 11] = [
    ("connection_type", "connection type"),
    ("subnet", "subnet"),
    ("wifi_band", "Wi-Fi band"),
    ("wifi_radio_type", "Wi-Fi radio type"),
    ("wifi_driver", "Wi-Fi driver"),
    ("platform", "client platform"),
    ("product_family", "client product family"),
    ("client_version", "client version"),
    ("capture_device", "capture device"),
    ("capture_driver", "capture driver"),
    ("render_device", "render device"),
];

/// The reasons a stream is poor (`poor_reasons` of `stream_quality`), in the order the
/// dashboard stacks them; `stream_rollup` counts each as `poor_<reason>`.
pub const REASONS: [&str; 8] = [
    "jitter",
    "packet_loss",
    "round_trip",
    "degradation",
    "concealed_samples",
    "frame_loss",
    "frame_rate",
    "post_fec_packet_loss",
];

/// The building value of streams whose subnet is in no building.
pub const UNKNOWN_BUILDING: &str = "(unknown)";

/// The filters of one request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filters {
    /// Calls started on or after this UTC date (YYYY-MM-DD).
    pub from: Option<String>,
    /// Calls started on or before this UTC date.
    pub to: Option<String>,
    /// The rule set (`None`: the server's).
    pub rules: Option<RuleSet>,
    /// Only streams of this media kind.
    pub kind: Option<String>,
    /// Trends by day or by month (default month).
    pub grain: Option<Grain>,
    /// Only streams received in this building (of the building file), or in none
    /// ([`UNKNOWN_BUILDING`]).
    pub building: Option<String>,
    /// Only streams received on this subnet.
    pub subnet: Option<String>,
    /// Only streams received over this connection type (`wired`, `wifi`, `mobile`, `tunnel`).
    pub network: Option<String>,
    /// Only streams received by clients of this platform (`windows`, `macOS`, …).
    pub client: Option<String>,
    /// Only calls this user (an id) took part in.
    pub user: Option<String>,
    /// Only this call.
    pub call: Option<String>,
    /// Search text (the user search).
    pub find: Option<String>,
    /// The dimension of a breakdown (default `connection_type`).
    pub by: Option<&'static str>,
}

/// The query parameters a request may carry.
pub const PARAMETERS: [&str; 13] = [
    "from", "to", "rules", "kind", "grain", "building", "subnet", "network", "client", "user",
    "call", "find", "by",
];

impl Filters {
    /// The filters in `params`. Unknown parameters and bad values are errors naming them.
    pub fn parse(params: &BTreeMap<String, String>) -> Result<Filters> {
        if let Some(k) = params.keys().find(|k| !PARAMETERS.contains(&k.as_str())) {
            return Err(Error::BadRequest(format!(
                "unknown parameter {k:?} (known: {})",
                PARAMETERS.join(", ")
            )));
        }
        let get = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let bad = |k: &str, v: &str, what: &str| Error::BadRequest(format!("{k}={v:?}: {what}"));
        let date = |k: &str| -> Result<Option<String>> {
            match get(k) {
                None => Ok(None),
                Some(d) if cqlake_schema::calendar::parse_date(d).is_some() && d.len() == 10 => {
                    Ok(Some(d.to_string()))
                }
                Some(d) => Err(bad(k, d, "not a date (YYYY-MM-DD)")),
            }
        };
        // Free text: printable, at most `max` characters.
        let text = |k: &str, max: usize| -> Result<Option<String>> {
            match get(k) {
                None => Ok(None),
                Some(v) if v.chars().count() <= max && !v.chars().any(char::is_control) => {
                    Ok(Some(v.to_string()))
                }
                Some(v) => Err(bad(k, v, &format!("at most {max} printable characters"))),
            }
        };
        // A word of Graph's: letters, digits, `-`, `_`, `.`, at most 200.
        let id = |k: &str, what: &str| -> Result<Option<String>> {
            match get(k) {
                None => Ok(None),
                Some(v) if is_id(v) => Ok(Some(v.to_string())),
                Some(v) => Err(bad(k, v, what)),
            }
        };
        let (from, to) = (date("from")?, date("to")?);
        if let (Some(f), Some(t)) = (&from, &to)
            && t < f
        {
            return Err(Error::BadRequest(format!("to={t} is before from={f}")));
        }
        let rules = match get("rules") {
            None => None,
            Some(r) => Some(RuleSet::from_name(r).ok_or_else(|| {
                let names: Vec<_> = RuleSet::ALL.iter().map(|r| r.name()).collect();
                Error::BadRequest(format!(
                    "rules={r:?}: not a rule set ({})",
                    names.join(", ")
                ))
            })?),
        };
        let kind = match get("kind") {
            None => None,
            Some(k) if MEDIA_KINDS.contains(&k) => Some(k.to_string()),
            Some(k) => {
                return Err(bad(
                    "kind",
                    k,
                    &format!("not a media kind ({})", MEDIA_KINDS.join(", ")),
                ));
            }
        };
        let grain = match get("grain") {
            None => None,
            Some("month") => Some(Grain::Month),
            Some("day") => Some(Grain::Day),
            Some(g) => return Err(bad("grain", g, "day or month")),
        };
        let subnet = match get("subnet") {
            None => None,
            Some(s) if s == UNKNOWN_BUILDING || s.parse::<std::net::IpAddr>().is_ok() => {
                Some(s.to_string())
            }
            Some(s) => return Err(bad("subnet", s, "not an IP address")),
        };
        let by = match get("by") {
            None => None,
            Some(b) => match DIMENSIONS.iter().find(|(d, _)| *d == b) {
                Some((d, _)) => Some(*d),
                None => {
                    let names: Vec<_> = DIMENSIONS.iter().map(|(d, _)| *d).collect();
                    return Err(bad(
                        "by",
                        b,
                        &format!("not a dimension ({})", names.join(", ")),
                    ));
                }
            },
        };
        Ok(Filters {
            from,
            to,
            rules,
            kind,
            grain,
            building: text("building", 200)?,
            subnet,
            network: id("network", "not a connection type")?,
            client: text("client", 100)?,
            user: id("user", "not a user id")?,
            call: id("call", "not a call id")?,
            find: text("find", 100)?,
            by,
        })
    }

    /// The rule set: the request's, or `default`.
    pub fn rules_or(&self, default: RuleSet) -> RuleSet {
        self.rules.unwrap_or(default)
    }

    /// The trend unit (default month).
    pub fn grain(&self) -> Grain {
        self.grain.unwrap_or(Grain::Month)
    }

    /// The engine's options for these filters: the dates, and the calls of `call` and `user`
    /// (every table narrowed to them; `streams`, for a user, to the streams of their own
    /// sessions, sent or received, which it can test on its own columns).
    pub fn engine_options(
        &self,
        rules: RuleSet,
        threads: Option<usize>,
        buildings: Option<&std::path::Path>,
    ) -> cqlake_query::EngineOptions {
        let mut o = cqlake_query::EngineOptions::default()
            .with_rules(rules)
            .with_dates(self.from.clone(), self.to.clone());
        if let Some(n) = threads {
            o = o.with_threads(n);
        }
        if let Some(b) = buildings {
            o = o.with_buildings(b);
        }
        let mut calls = Vec::new();
        if let Some(c) = &self.call {
            calls.push(format!("call_id = {}", quote(c)));
        }
        if let Some(u) = &self.user {
            let mut streams = calls.clone();
            streams.push(user_streams(u));
            o = o.with_table_filter(cqlake_schema::TableId::Streams, streams.join(" AND "));
            // The raw tables: the filter narrows `sessions` itself.
            calls.push(format!(
                "call_id IN (SELECT call_id FROM lake_sessions WHERE caller_identity_user_id = {u} OR callee_identity_user_id = {u})",
                u = quote(u)
            ));
        }
        if !calls.is_empty() {
            o = o.with_call_filter(calls.join(" AND "));
        }
        o
    }

    /// The call filter of the engine that reads exactly `calls` (id and start date, the
    /// empty string for none): the dates prune the lake's partitions, the ids the rows.
    pub fn with_calls(calls: &[(String, String)]) -> String {
        if calls.is_empty() {
            return "FALSE".into();
        }
        let days =
            cqlake_query::dates_condition("call_start_date", calls.iter().map(|(_, d)| d.as_str()));
        let ids: Vec<String> = calls.iter().map(|(c, _)| quote(c)).collect();
        format!("({days}) AND call_id IN ({})", ids.join(", "))
    }

    /// The predicate on `stream_rollup` rows: media kind, network, client, subnet, building,
    /// and the dates on `day` (a cached rollup holds every date).
    pub fn streams_predicate(&self) -> String {
        let p = self.predicate(["media_kind", "connection_type", "platform", "subnet"]);
        format!("{p}{}", self.day_bounds())
    }

    /// The dates on a rollup's `day` (a cached rollup holds every date).
    pub fn days_predicate(&self) -> String {
        format!("TRUE{}", self.day_bounds())
    }

    /// ` AND day >= DATE '…'` and ` AND day <= DATE '…'` for the dates set.
    fn day_bounds(&self) -> String {
        let mut p = String::new();
        if let Some(f) = &self.from {
            p.push_str(&format!(" AND day >= DATE '{f}'"));
        }
        if let Some(t) = &self.to {
            p.push_str(&format!(" AND day <= DATE '{t}'"));
        }
        p
    }

    /// The same predicate on `stream_sides` rows (their receiving side's columns), with, for a
    /// user, only the streams they sent or received. The tests on stored columns come first and
    /// are never null: DataFusion then evaluates the rest (the classification) only for the rows
    /// that pass them, where a null would make it evaluate every row.
    pub fn sides_predicate(&self) -> String {
        let mut p = Vec::new();
        if let Some(s) = self.subnet.as_deref().filter(|s| *s != UNKNOWN_BUILDING) {
            p.push(format!(
                "((caller_network_subnet IS NOT DISTINCT FROM {s}) OR (callee_network_subnet IS NOT DISTINCT FROM {s}))",
                s = quote(s)
            ));
        }
        if let Some(u) = &self.user {
            p.push(user_streams(u));
        }
        p.push(self.predicate([
            "media_kind",
            "rx_connection_type",
            "rx_platform",
            "rx_subnet",
        ]));
        p.join(" AND ")
    }

    /// The dates on `start_date_time` of a side table (which the engine's date window does not
    /// narrow).
    pub fn dates_predicate(&self) -> String {
        let mut p = vec!["TRUE".to_string()];
        if let Some(f) = &self.from {
            p.push(format!("CAST(start_date_time AS DATE) >= DATE '{f}'"));
        }
        if let Some(t) = &self.to {
            p.push(format!("CAST(start_date_time AS DATE) <= DATE '{t}'"));
        }
        p.join(" AND ")
    }

    /// The LIKE pattern of `find` (lower case, `%` around; `%` and `_` in it match themselves).
    pub fn find_pattern(&self) -> String {
        let f = self.find.as_deref().unwrap_or("").to_lowercase();
        let escaped: String = f
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        quote(&format!("%{escaped}%"))
    }

    fn predicate(&self, [kind, network, client, subnet]: [&str; 4]) -> String {
        let mut p = vec!["TRUE".to_string()];
        if let Some(k) = &self.kind {
            p.push(format!("{kind} = {}", quote(k)));
        }
        if let Some(n) = &self.network {
            p.push(format!("{network} = {}", quote(n)));
        }
        if let Some(c) = &self.client {
            p.push(format!("{client} = {}", quote(c)));
        }
        match self.subnet.as_deref() {
            None => {}
            Some(UNKNOWN_BUILDING) => p.push(format!("{subnet} IS NULL")),
            Some(s) => p.push(format!("{subnet} = {}", quote(s))),
        }
        match self.building.as_deref() {
            None => {}
            Some(UNKNOWN_BUILDING) => p.push(format!(
                "({subnet} IS NULL OR {subnet} NOT IN (SELECT subnet FROM subnet_buildings))"
            )),
            Some(b) => p.push(format!(
                "{subnet} IN (SELECT subnet FROM subnet_buildings WHERE building = {})",
                quote(b)
            )),
        }
        p.join(" AND ")
    }

    /// The filters in words ("calls started 2026-11-01 to 2026-11-30, audio streams, building
    /// Contoso HQ, rules cqd-classic"), with `rules` when the request names none.
    pub fn describe(&self, rules: RuleSet) -> String {
        let mut parts = Vec::new();
        match (&self.from, &self.to) {
            (Some(f), Some(t)) => parts.push(format!("calls started {f} to {t}")),
            (Some(f), None) => parts.push(format!("calls started {f} or later")),
            (None, Some(t)) => parts.push(format!("calls started up to {t}")),
            (None, None) => parts.push("all calls".into()),
        }
        if let Some(k) = &self.kind {
            parts.push(format!("{k} streams"));
        }
        for (name, v) in [
            ("building", &self.building),
            ("subnet", &self.subnet),
            ("network", &self.network),
            ("client", &self.client),
            ("user", &self.user),
            ("call", &self.call),
        ] {
            if let Some(v) = v {
                parts.push(format!("{name} {v}"));
            }
        }
        parts.push(format!("rules {}", self.rules_or(rules).name()));
        parts.join(", ")
    }

    /// The names of the parameters this request set.
    pub fn set(&self) -> Vec<&'static str> {
        let set = [
            self.from.is_some(),
            self.to.is_some(),
            self.rules.is_some(),
            self.kind.is_some(),
            self.grain.is_some(),
            self.building.is_some(),
            self.subnet.is_some(),
            self.network.is_some(),
            self.client.is_some(),
            self.user.is_some(),
            self.call.is_some(),
            self.find.is_some(),
            self.by.is_some(),
        ];
        PARAMETERS
            .iter()
            .zip(set)
            .filter(|(_, s)| *s)
            .map(|(p, _)| *p)
            .collect()
    }
}

/// The streams of `user`'s sessions (sent or received), on `streams`' own columns; never null.
fn user_streams(user: &str) -> String {
    format!(
        "((session_caller_identity_user_id IS NOT DISTINCT FROM {u}) OR (session_callee_identity_user_id IS NOT DISTINCT FROM {u}))",
        u = quote(user)
    )
}

/// `s` as a SQL string literal.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Whether `s` looks like a Graph id (letters, digits, `-`, `_`, `.`, at most 200).
fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Filters> {
        let params = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Filters::parse(&params)
    }

    #[test]
    fn filters_are_checked_and_described() {
        let f = parse(&[
            ("from", "2026-11-01"),
            ("to", "2026-11-30"),
            ("kind", "audio"),
            ("grain", "day"),
            ("building", "Contoso's HQ"),
            ("network", "wifi"),
        ])
        .unwrap();
        assert_eq!(f.grain(), Grain::Day);
        assert_eq!(
            f.streams_predicate(),
            "TRUE AND media_kind = 'audio' AND connection_type = 'wifi' AND subnet IN \
             (SELECT subnet FROM subnet_buildings WHERE building = 'Contoso''s HQ') \
             AND day >= DATE '2026-11-01' AND day <= DATE '2026-11-30'"
        );
        assert!(f.sides_predicate().contains("rx_connection_type = 'wifi'"));
        assert_eq!(
            f.describe(RuleSet::ALL[0]),
            "calls started 2026-11-01 to 2026-11-30, audio streams, building Contoso's HQ, \
             network wifi, rules cqd-classic"
        );
        assert_eq!(
            f.set(),
            ["from", "to", "kind", "grain", "building", "network"]
        );
        assert_eq!(
            f.dates_predicate(),
            "TRUE AND CAST(start_date_time AS DATE) >= DATE '2026-11-01' AND \
             CAST(start_date_time AS DATE) <= DATE '2026-11-30'"
        );
        for bad in [
            ("from", "2026-13-01"),
            ("from", "yesterday"),
            ("kind", "audio' OR 1=1 --"),
            ("grain", "week"),
            ("call", "x' OR 'a'='a"),
            ("user", "a b"),
            ("subnet", "10.0.0.0' --"),
            ("network", "wi fi"),
            ("by", "user_id"),
            ("rules", "mine"),
            ("limit", "5"),
        ] {
            let e = parse(&[bad]).unwrap_err().to_string();
            assert!(e.contains(bad.0), "{bad:?}: {e}");
        }
        assert!(parse(&[("from", "2026-11-02"), ("to", "2026-11-01")]).is_err());
        assert!(parse(&[("building", &"x".repeat(201))]).is_err());
        assert_eq!(quote("it's"), "'it''s'");
    }

    #[test]
    fn the_unknown_building_and_the_user_narrow_as_said() {
        let f = parse(&[("building", UNKNOWN_BUILDING), ("user", "u-1")]).unwrap();
        assert!(
            f.streams_predicate().ends_with(
                "(subnet IS NULL OR subnet NOT IN (SELECT subnet FROM subnet_buildings))"
            )
        );
        // A user's own streams, tested first and never null (so the rest is evaluated only
        // for the rows that pass).
        assert!(f.sides_predicate().starts_with(
            "((session_caller_identity_user_id IS NOT DISTINCT FROM 'u-1') OR \
             (session_callee_identity_user_id IS NOT DISTINCT FROM 'u-1')) AND TRUE"
        ));
        assert_eq!(
            parse(&[("find", "50%_a")]).unwrap().find_pattern(),
            r"'%50\%\_a%'"
        );
        assert_eq!(Filters::default().find_pattern(), "'%%'");
    }

    #[test]
    fn listed_calls_narrow_by_their_dates_and_ids() {
        let calls = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs
                .iter()
                .map(|(c, d)| (c.to_string(), d.to_string()))
                .collect();
            Filters::with_calls(&pairs)
        };
        assert_eq!(calls(&[]), "FALSE");
        assert_eq!(
            calls(&[
                ("c-2", "2026-11-02"),
                ("c'1", "2026-11-01"),
                ("c-3", "2026-11-02")
            ]),
            "(call_start_date IN (DATE '2026-11-01', DATE '2026-11-02')) \
             AND call_id IN ('c-2', 'c''1', 'c-3')"
        );
        assert_eq!(
            calls(&[("c", "")]),
            "(call_start_date IS NULL) AND call_id IN ('c')"
        );
        // A subnet is also tested first on the stored columns, never null.
        let f = parse(&[("subnet", "10.1.2.0")]).unwrap();
        let p = f.sides_predicate();
        assert!(
            p.starts_with(
                "((caller_network_subnet IS NOT DISTINCT FROM '10.1.2.0') OR \
                 (callee_network_subnet IS NOT DISTINCT FROM '10.1.2.0')) AND TRUE"
            ),
            "{p}"
        );
        assert!(p.ends_with("rx_subnet = '10.1.2.0'"), "{p}");
        assert_eq!(
            f.days_predicate(),
            "TRUE",
            "no dates: every day of a rollup"
        );
    }
}
