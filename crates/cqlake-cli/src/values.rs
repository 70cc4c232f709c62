//! Typed argument values: sizes, dates and durations, parsed by clap (as `value_parser`s of
//! these types) so that a bad value is refused before anything runs, with a message that says
//! what was expected.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A number of bytes: plain (`12345`), or with `KB`/`MB`/`GB`/`TB` (powers of 1000) or
/// `KiB`/`MiB`/`GiB`/`TiB` (powers of 1024), case-insensitive, `B` optional, a fraction allowed
/// (`1.5GB`). At least one byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let num: f64 = num
            .parse()
            .map_err(|_| "not a number with a unit like 500MB or 1GB".to_string())?;
        let unit = unit.trim().to_ascii_lowercase();
        let unit = unit.strip_suffix('b').unwrap_or(&unit);
        let scale: f64 = match unit {
            "" => 1.0,
            "k" => 1e3,
            "m" => 1e6,
            "g" => 1e9,
            "t" => 1e12,
            "ki" => 1024.0,
            "mi" => 1024.0 * 1024.0,
            "gi" => 1024.0 * 1024.0 * 1024.0,
            "ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
            _ => return Err("unknown unit (use B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)".into()),
        };
        let bytes = num * scale;
        if !bytes.is_finite() || bytes < 1.0 {
            return Err("must be at least one byte".into());
        }
        Ok(ByteSize(bytes as u64))
    }
}

/// A calendar date written `YYYY-MM-DD` (a real date: `2024-02-30` is refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Days since 1970-01-01.
    pub days: i32,
}

impl FromStr for Date {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        cqlake_schema::calendar::parse_date(text.trim())
            .map(|days| Date { days })
            .ok_or_else(|| "expected a date as YYYY-MM-DD".to_string())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&cqlake_schema::calendar::format_date(self.days.into()))
    }
}

/// A duration: seconds (`30`), or a number with `s`, `m`, `h` or `d` (`90s`, `5m`, `2h`, `7d`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let num: u64 = num
        .parse()
        .map_err(|_| "expected seconds, or a number with s, m, h or d (90s, 5m, 2h)".to_string())?;
    let scale = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err("unknown unit (use s, m, h or d)".into()),
    };
    num.checked_mul(scale)
        .map(Duration::from_secs)
        .ok_or_else(|| "too long".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let size = |t: &str| t.parse::<ByteSize>().map(|s| s.0);
        assert_eq!(size("1GB"), Ok(1_000_000_000));
        assert_eq!(size("1gib"), Ok(1 << 30));
        assert_eq!(size("500MB"), Ok(500_000_000));
        assert_eq!(size("1.5 GB"), Ok(1_500_000_000));
        assert_eq!(size("64k"), Ok(64_000));
        assert_eq!(size("12345"), Ok(12_345));
        assert!(size("1XB").unwrap_err().contains("unknown unit"));
        assert!(size("MB").unwrap_err().contains("not a number"));
        assert!(size("0").unwrap_err().contains("at least one byte"));
    }

    #[test]
    fn dates() {
        let d: Date = "2024-05-01".parse().unwrap();
        assert_eq!(d.days, 19_844);
        assert_eq!(d.to_string(), "2024-05-01");
        assert!("2024-02-30".parse::<Date>().is_err());
        assert!("yesterday".parse::<Date>().is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_duration("5 weeks").is_err());
        assert!(parse_duration("-1").is_err());
    }
}
