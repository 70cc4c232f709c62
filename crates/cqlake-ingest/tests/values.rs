//! Property tests of the duration and timestamp parsers against reference implementations:
//! durations against exact integer arithmetic on the components that were formatted, timestamps
//! against chrono.

use chrono::{NaiveDate, TimeZone, Utc};
use cqlake_ingest::values::{parse_duration_ms, parse_timestamp_us};
use proptest::prelude::*;

/// A duration's components: weeks, days, hours, minutes, whole seconds, fraction digits of the
/// seconds; `None` leaves a component out.
type Parts = (
    Option<u32>,
    Option<u32>,
    Option<u32>,
    Option<u32>,
    Option<u32>,
    Option<String>,
);

fn parts() -> impl Strategy<Value = Parts> {
    (
        proptest::option::of(0u32..60),
        proptest::option::of(0u32..400),
        proptest::option::of(0u32..48),
        proptest::option::of(0u32..120),
        proptest::option::of(0u32..100_000),
        proptest::option::of("[0-9]{1,9}"),
    )
}

/// The text of `p` (ISO 8601), and its exact length in nanoseconds; `None` when `p` has no
/// component.
fn duration(p: &Parts, negative: bool) -> Option<(String, i128)> {
    let (w, d, h, m, s, frac) = p;
    let mut text = String::from(if negative { "-P" } else { "P" });
    let mut ns: i128 = 0;
    if let Some(w) = w {
        text += &format!("{w}W");
        ns += i128::from(*w) * 7 * 86_400 * 1_000_000_000;
    }
    if let Some(d) = d {
        text += &format!("{d}D");
        ns += i128::from(*d) * 86_400 * 1_000_000_000;
    }
    let seconds = match (s, frac) {
        (None, None) => None,
        (s, f) => Some((s.unwrap_or(0), f.clone())),
    };
    if h.is_some() || m.is_some() || seconds.is_some() {
        text.push('T');
    }
    if let Some(h) = h {
        text += &format!("{h}H");
        ns += i128::from(*h) * 3_600 * 1_000_000_000;
    }
    if let Some(m) = m {
        text += &format!("{m}M");
        ns += i128::from(*m) * 60 * 1_000_000_000;
    }
    if let Some((s, f)) = seconds {
        ns += i128::from(s) * 1_000_000_000;
        match f {
            Some(f) => {
                text += &format!("{s}.{f}S");
                let nine = format!("{f:0<9}");
                ns += nine.parse::<i128>().unwrap();
            }
            None => text += &format!("{s}S"),
        }
    }
    if text.ends_with('P') {
        return None;
    }
    Some((text, if negative { -ns } else { ns }))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn durations_parse_to_their_exact_milliseconds(p in parts(), negative in any::<bool>()) {
        match duration(&p, negative) {
            None => prop_assert_eq!(parse_duration_ms(if negative { "-P" } else { "P" }), None),
            Some((text, ns)) => {
                let got = parse_duration_ms(&text);
                prop_assert!(got.is_some(), "{} did not parse", text);
                let want = ns as f64 / 1e6;
                let got = got.unwrap();
                // Exact up to the last bit of the double.
                prop_assert!((got - want).abs() <= want.abs() * 1e-15, "{}: {} != {}", text, got, want);
                // Whole milliseconds are exact.
                if ns % 1_000_000 == 0 {
                    prop_assert_eq!(got, (ns / 1_000_000) as f64, "{}", &text);
                }
            }
        }
    }

    #[test]
    fn a_unit_repeated_after_the_last_component_is_refused(p in parts()) {
        if let Some((text, _)) = duration(&p, false) {
            let unit = text.chars().last().unwrap();
            let repeated = format!("{text}1{unit}");
            prop_assert_eq!(parse_duration_ms(&repeated), None, "{}", repeated);
        }
    }

    #[test]
    fn any_text_is_refused_or_parsed_without_panicking(s in "\\PC{0,40}") {
        let _ = parse_duration_ms(&s);
        let _ = parse_timestamp_us(&s);
    }

    #[test]
    fn timestamps_agree_with_chrono(
        y in 1601i32..2400, mo in 1u32..=12, d in 1u32..=31, h in 0u32..24, mi in 0u32..60,
        s in 0u32..60, frac in proptest::option::of("[0-9]{1,7}"),
        offset in proptest::option::of((any::<bool>(), 0i32..24, 0i32..60)),
    ) {
        let frac_text = frac.as_ref().map_or(String::new(), |f| format!(".{f}"));
        let zone = match offset {
            None => "Z".to_string(),
            Some((neg, oh, om)) => format!("{}{oh:02}:{om:02}", if neg { '-' } else { '+' }),
        };
        let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac_text}{zone}");
        let got = parse_timestamp_us(&text);
        match NaiveDate::from_ymd_opt(y, mo, d) {
            // February 30th and the like: not a timestamp.
            None => prop_assert_eq!(got, None, "{}", &text),
            Some(date) => {
                let local = date.and_hms_opt(h, mi, s).unwrap();
                let offset_s = offset.map_or(0, |(neg, oh, om)| (oh * 3600 + om * 60) * if neg { -1 } else { 1 });
                let utc = Utc.from_utc_datetime(&local) - chrono::Duration::seconds(i64::from(offset_s));
                // Digits past the microsecond (Graph's seventh, 100 ns) are dropped.
                let micros = frac.as_ref().map_or(0, |f| format!("{:0<6}", &f[..f.len().min(6)]).parse::<i64>().unwrap());
                prop_assert_eq!(got, Some(utc.timestamp() * 1_000_000 + micros), "{}", &text);
            }
        }
    }
}

#[test]
fn the_issue_s_invalid_durations_are_refused() {
    for bad in [
        "PT", "P", "P1X", "PT-5S", "PT1.5M2S", "P1Y", "P1M", "PT1S1S", "PT5", "", "-", "1S",
    ] {
        assert_eq!(parse_duration_ms(bad), None, "{bad}");
    }
    // Beyond ±10^15 ms (31,700 years).
    assert_eq!(parse_duration_ms("PT1000000000000000S"), None);
    assert_eq!(parse_duration_ms("PT0.016S"), Some(16.0));
    assert_eq!(parse_duration_ms("-PT5S"), Some(-5000.0));
}
