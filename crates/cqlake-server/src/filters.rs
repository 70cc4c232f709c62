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

/// The filters of one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Filters {
    /// Calls started on or after this UTC date (YYYY-MM-DD).
    pub from: Option<String>,
    /// Calls started on or before this UTC date.
    pub to: Option<String>,
    /// The rule set.
    pub rules: RuleSet,
    /// Only streams of this media kind.
    pub kind: Option<String>,
    /// Trends by day or by month (default month).
    pub grain: Grain,
    /// Only this call.
    pub call: Option<String>,
}

/// The query parameters a request may carry.
pub const PARAMETERS: [&str; 6] = ["from", "to", "rules", "kind", "grain", "call"];

impl Filters {
    /// The filters in `params`, with `rules` when none is named. Unknown parameters and bad
    /// values are errors naming them.
    pub fn parse(params: &BTreeMap<String, String>, rules: RuleSet) -> Result<Filters> {
        if let Some(k) = params.keys().find(|k| !PARAMETERS.contains(&k.as_str())) {
            return Err(Error::BadRequest(format!(
                "unknown parameter {k:?} (known: {})",
                PARAMETERS.join(", ")
            )));
        }
        let get = |k: &str| params.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let date = |k: &str| -> Result<Option<String>> {
            match get(k) {
                None => Ok(None),
                Some(d) if cqlake_schema::calendar::parse_date(d).is_some() && d.len() == 10 => {
                    Ok(Some(d.to_string()))
                }
                Some(d) => Err(Error::BadRequest(format!(
                    "{k}={d:?}: not a date (YYYY-MM-DD)"
                ))),
            }
        };
        let (from, to) = (date("from")?, date("to")?);
        if let (Some(f), Some(t)) = (&from, &to)
            && t < f
        {
            return Err(Error::BadRequest(format!("to={t} is before from={f}")));
        }
        let rules = match get("rules") {
            None => rules,
            Some(r) => RuleSet::from_name(r).ok_or_else(|| {
                let names: Vec<_> = RuleSet::ALL.iter().map(|r| r.name()).collect();
                Error::BadRequest(format!(
                    "rules={r:?}: not a rule set ({})",
                    names.join(", ")
                ))
            })?,
        };
        let kind = match get("kind") {
            None => None,
            Some(k) if MEDIA_KINDS.contains(&k) => Some(k.to_string()),
            Some(k) => {
                return Err(Error::BadRequest(format!(
                    "kind={k:?}: not a media kind ({})",
                    MEDIA_KINDS.join(", ")
                )));
            }
        };
        let grain = match get("grain") {
            None | Some("month") => Grain::Month,
            Some("day") => Grain::Day,
            Some(g) => {
                return Err(Error::BadRequest(format!("grain={g:?}: day or month")));
            }
        };
        let call = match get("call") {
            None => None,
            Some(c) if is_id(c) => Some(c.to_string()),
            Some(c) => return Err(Error::BadRequest(format!("call={c:?}: not a call id"))),
        };
        Ok(Filters {
            from,
            to,
            rules,
            kind,
            grain,
            call,
        })
    }

    /// The engine's options for these filters.
    pub fn engine_options(
        &self,
        threads: Option<usize>,
        buildings: Option<&std::path::Path>,
    ) -> cqlake_query::EngineOptions {
        let mut o = cqlake_query::EngineOptions::default()
            .with_rules(self.rules)
            .with_dates(self.from.clone(), self.to.clone());
        if let Some(n) = threads {
            o = o.with_threads(n);
        }
        if let Some(b) = buildings {
            o = o.with_buildings(b);
        }
        if let Some(c) = &self.call {
            o = o.with_call_filter(format!("call_id = {}", quote(c)));
        }
        o
    }

    /// The predicate on `stream_quality` rows.
    pub fn streams_predicate(&self) -> String {
        match &self.kind {
            Some(k) => format!("media_kind = {}", quote(k)),
            None => "TRUE".into(),
        }
    }

    /// The filters in words ("calls started 2026-11-01 to 2026-11-30, audio streams").
    pub fn describe(&self) -> String {
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
        if let Some(c) = &self.call {
            parts.push(format!("call {c}"));
        }
        parts.push(format!("rules {}", self.rules.name()));
        parts.join(", ")
    }
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
        Filters::parse(&params, RuleSet::ALL[0])
    }

    #[test]
    fn filters_are_checked_and_described() {
        let f = parse(&[
            ("from", "2026-11-01"),
            ("to", "2026-11-30"),
            ("kind", "audio"),
            ("grain", "day"),
        ])
        .unwrap();
        assert_eq!(f.grain, Grain::Day);
        assert_eq!(f.streams_predicate(), "media_kind = 'audio'");
        assert_eq!(
            f.describe(),
            "calls started 2026-11-01 to 2026-11-30, audio streams, rules cqd-classic"
        );
        for bad in [
            ("from", "2026-13-01"),
            ("from", "yesterday"),
            ("kind", "audio' OR 1=1 --"),
            ("grain", "week"),
            ("call", "x' OR 'a'='a"),
            ("rules", "mine"),
            ("limit", "5"),
        ] {
            let e = parse(&[bad]).unwrap_err().to_string();
            assert!(e.contains(bad.0), "{bad:?}: {e}");
        }
        assert!(parse(&[("from", "2026-11-02"), ("to", "2026-11-01")]).is_err());
        assert_eq!(quote("it's"), "'it''s'");
    }
}
