//! Parsing Graph's text values: ISO-8601 durations and timestamps, and decimals.

pub use cqlake_schema::calendar::parse_timestamp_us;

/// Parses an ISO-8601 duration (`PT0.016S`, `PT1M2.5S`, `P1DT2H`, `-PT5S`) into milliseconds.
///
/// Years and months are refused (their length in milliseconds is not defined); weeks and days are
/// taken as 7 and 1 × 24 hours. Returns `None` for anything that is not a valid duration, for a
/// duration with no component (`PT`, `P`), or for one beyond ±10^15 ms.
pub fn parse_duration_ms(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let (neg, mut i) = match b.first()? {
        b'-' => (true, 1),
        b'+' => (false, 1),
        _ => (false, 0),
    };
    if b.get(i) != Some(&b'P') {
        return None;
    }
    i += 1;
    let mut in_time = false;
    let mut total = 0.0f64;
    let mut components = 0;
    // Units in the order they must appear, with their length in ms.
    let mut last_rank = 0u8;
    while i < b.len() {
        if b[i] == b'T' {
            if in_time {
                return None;
            }
            in_time = true;
            i += 1;
            if i == b.len() {
                return None; // "PT" with nothing after it
            }
            continue;
        }
        let start = i;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b',') {
            i += 1;
        }
        if i == start || i == b.len() {
            return None;
        }
        let num_text = &s[start..i];
        if num_text
            .bytes()
            .filter(|c| *c == b'.' || *c == b',')
            .count()
            > 1
            || num_text.len() > 40
        {
            return None;
        }
        let (rank, ms) = match (in_time, b[i]) {
            (false, b'W') => (1, 7 * 86_400_000),
            (false, b'D') => (2, 86_400_000),
            (true, b'H') => (3, 3_600_000),
            (true, b'M') => (4, 60_000),
            (true, b'S') => (5, 1000),
            _ => return None,
        };
        let value_ms = component_ms(num_text, ms)?;
        if rank <= last_rank {
            return None;
        }
        // Only the last component may carry a fraction.
        if num_text.contains(['.', ',']) && i + 1 != b.len() {
            return None;
        }
        last_rank = rank;
        total += value_ms;
        components += 1;
        i += 1;
    }
    if components == 0 || !total.is_finite() || total > 1e15 {
        return None;
    }
    Some(if neg { -total } else { total })
}

/// `text` (digits with at most one `.` or `,`) times `unit_ms`, in milliseconds, computed from
/// the exact decimal: `1.013` seconds is exactly 1013 ms (not `1.013 * 1000.0`, which is
/// 1012.9999999999999), so a value at a published threshold compares as published.
fn component_ms(text: &str, unit_ms: u64) -> Option<f64> {
    let (int, frac) = match text.find(['.', ',']) {
        Some(p) => (&text[..p], &text[p + 1..]),
        None => (text, ""),
    };
    // Digits beyond the 18th after the point are below any precision Graph reports.
    let frac = &frac[..frac.len().min(18)];
    let int = if int.is_empty() {
        0
    } else {
        int.parse::<u128>().ok()?
    };
    let f = if frac.is_empty() {
        0
    } else {
        frac.parse::<u128>().ok()?
    };
    let scale = 10u128.pow(frac.len() as u32);
    let numerator = int
        .checked_mul(scale)?
        .checked_add(f)?
        .checked_mul(unit_ms as u128)?;
    Some(if numerator % scale == 0 {
        (numerator / scale) as f64
    } else {
        numerator as f64 / scale as f64
    })
}

/// Parses a decimal number (`12`, `-0.0125`, `1.5e-3`) into its unscaled value at `scale`
/// fractional digits, exactly: a number with a non-zero digit past `scale`, or with more than
/// 38 significant digits, is refused with the reason.
pub fn parse_decimal(s: &str, scale: u32) -> Result<i128, String> {
    let b = s.as_bytes();
    let (neg, mut i) = match b.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    // Digits and where the point falls among them.
    let mut digits: Vec<u8> = Vec::new();
    let mut point: Option<usize> = None;
    let mut any = false;
    while i < b.len() {
        match b[i] {
            c @ b'0'..=b'9' => {
                digits.push(c - b'0');
                any = true;
            }
            b'.' if point.is_none() => point = Some(digits.len()),
            b'e' | b'E' => break,
            _ => return Err(format!("{s:?} is not a decimal number")),
        }
        i += 1;
    }
    if !any {
        return Err(format!("{s:?} is not a decimal number"));
    }
    let mut exp: i64 = 0;
    if i < b.len() {
        exp = s[i + 1..]
            .parse::<i64>()
            .ok()
            .filter(|e| e.abs() < 1000)
            .ok_or_else(|| format!("{s:?} is not a decimal number"))?;
    }
    // The value is digits × 10^(exp − fractional digits); scaled: × 10^scale.
    let frac = (digits.len() - point.unwrap_or(digits.len())) as i64;
    let shift = exp - frac + scale as i64;
    let mut v: i128 = 0;
    let too_big = || format!("{s} has more than 38 digits");
    if shift >= 0 {
        for d in &digits {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(*d as i128))
                .ok_or_else(too_big)?;
        }
        for _ in 0..shift {
            v = v.checked_mul(10).ok_or_else(too_big)?;
        }
    } else {
        let cut = digits.len().saturating_sub((-shift) as usize);
        if digits[cut..].iter().any(|d| *d != 0) {
            return Err(format!("{s} has more than {scale} decimal places"));
        }
        for d in &digits[..cut] {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(*d as i128))
                .ok_or_else(too_big)?;
        }
    }
    if v >= 10i128.pow(38) {
        return Err(too_big());
    }
    Ok(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("PT0.016S"), Some(16.0));
        assert_eq!(parse_duration_ms("PT0.007S"), Some(7.0));
        assert_eq!(parse_duration_ms("PT1M2.5S"), Some(62_500.0));
        assert_eq!(parse_duration_ms("PT1H"), Some(3_600_000.0));
        assert_eq!(parse_duration_ms("P1DT1S"), Some(86_401_000.0));
        assert_eq!(parse_duration_ms("-PT5S"), Some(-5000.0));
        assert_eq!(parse_duration_ms("PT0S"), Some(0.0));
        // Exact decimals: no binary rounding of `1.013 * 1000`, thresholds compare as published.
        assert_eq!(parse_duration_ms("PT1.013S"), Some(1013.0));
        assert_eq!(parse_duration_ms("PT0.03S"), Some(30.0));
        assert_eq!(parse_duration_ms("PT0.5S"), Some(500.0));
        assert_eq!(parse_duration_ms("PT0,016S"), Some(16.0));
        assert_eq!(parse_duration_ms("PT0.0001S"), Some(0.1));
        assert_eq!(parse_duration_ms("PT1.5M"), Some(90_000.0));
        for bad in [
            "", "PT", "P", "P1X", "PT-5S", "PT5", "T5S", "PT5S5S", "PT1.5M2S", "P1Y", "P1M",
            "PT1S1M", "pt1s",
        ] {
            assert_eq!(parse_duration_ms(bad), None, "{bad}");
        }
        assert_eq!(parse_duration_ms("PT99999999999999999999S"), None);
    }

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal("0.0125", 10), Ok(125_000_000));
        assert_eq!(parse_decimal("-3", 4), Ok(-30_000));
        assert_eq!(parse_decimal("1.5e-3", 4), Ok(15));
        assert_eq!(parse_decimal("2E2", 0), Ok(200));
        assert_eq!(parse_decimal("0.10000", 1), Ok(1));
        assert_eq!(parse_decimal("0", 10), Ok(0));
        assert!(
            parse_decimal("0.125", 2)
                .unwrap_err()
                .contains("more than 2 decimal places")
        );
        assert!(parse_decimal("1e40", 0).unwrap_err().contains("38 digits"));
        for bad in ["", "-", ".", "1.2.3", "abc", "1e", "0x10", "1,5"] {
            assert!(parse_decimal(bad, 4).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps() {
        // 2020-02-25T18:52:21.2169889Z: the seventh digit is dropped.
        assert_eq!(
            parse_timestamp_us("2020-02-25T18:52:21.2169889Z"),
            Some(1_582_656_741_216_988)
        );
        assert_eq!(parse_timestamp_us("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_timestamp_us("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_timestamp_us("1969-12-31T23:59:59.5Z"), Some(-500_000));
        assert_eq!(
            parse_timestamp_us("2020-02-29T00:00:00Z").map(|v| v / 86_400_000_000),
            Some(18_321)
        );
        for bad in [
            "",
            "2020-02-30T00:00:00Z",
            "2020-13-01T00:00:00Z",
            "2020-02-25 18:52",
            "2020-02-25T18:52:21.Z",
            "yesterday",
            "2020-02-25T18:52:21Zjunk",
        ] {
            assert_eq!(parse_timestamp_us(bad), None, "{bad}");
        }
    }
}
