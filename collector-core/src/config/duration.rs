//! Go's `time.Duration` in configuration: parsed as `time.ParseDuration` does (`10s`,
//! `500ms`, `1m30s`, `1.5h`, `-2s`, `0`), printed as `Duration.String` does (`1m30s`,
//! `200ms`, `0s`). A bare YAML integer is a number of nanoseconds, as in Go's decoder.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A signed duration with nanosecond resolution, as Go's `time.Duration`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(i64);

impl Duration {
    /// Zero.
    pub const ZERO: Duration = Duration(0);

    /// From nanoseconds.
    pub const fn from_nanos(n: i64) -> Duration {
        Duration(n)
    }

    /// From milliseconds.
    pub const fn from_millis(ms: i64) -> Duration {
        Duration(ms * 1_000_000)
    }

    /// From seconds.
    pub const fn from_secs(s: i64) -> Duration {
        Duration(s * 1_000_000_000)
    }

    /// Nanoseconds.
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// True when negative.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// As a `std` duration (negative values become zero).
    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0.max(0) as u64)
    }

    /// Parses Go's duration syntax.
    ///
    /// # Errors
    ///
    /// A message in Go's words (`time: invalid duration "x"`, `missing unit`...).
    pub fn parse(s: &str) -> Result<Duration, String> {
        parse(s)
    }
}

impl From<std::time::Duration> for Duration {
    fn from(d: std::time::Duration) -> Duration {
        Duration(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }
}

fn parse(orig: &str) -> Result<Duration, String> {
    let invalid = || format!("time: invalid duration {orig:?}");
    let mut s = orig;
    let neg = match s.as_bytes().first() {
        Some(b'-') => {
            s = &s[1..];
            true
        }
        Some(b'+') => {
            s = &s[1..];
            false
        }
        _ => false,
    };
    if s == "0" {
        return Ok(Duration(0));
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !s.is_empty() {
        // Number: digits, optional fraction.
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, rest) = s.split_at(int_len);
        let (frac_part, rest) = match rest.strip_prefix('.') {
            Some(r) => {
                let n = r.bytes().take_while(u8::is_ascii_digit).count();
                r.split_at(n)
            }
            None => ("", rest),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest
            .bytes()
            .take_while(|b| !b.is_ascii_digit() && *b != b'.')
            .count();
        let (unit, rest) = rest.split_at(unit_len);
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {orig:?}"));
        }
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(format!("time: unknown unit {unit:?} in duration {orig:?}")),
        };
        let whole: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid())?
        };
        let mut v = whole.checked_mul(scale).ok_or_else(invalid)?;
        if !frac_part.is_empty() {
            let digits = frac_part.len().min(20) as u32;
            let frac: u128 = frac_part[..digits as usize]
                .parse()
                .map_err(|_| invalid())?;
            v += frac * scale / 10u128.pow(digits);
        }
        total = total.checked_add(v).ok_or_else(invalid)?;
        s = rest;
    }
    let total = i64::try_from(total).map_err(|_| invalid())?;
    Ok(Duration(if neg { -total } else { total }))
}

impl fmt::Display for Duration {
    /// Go's `Duration.String`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let u = self.0.unsigned_abs();
        let sign = if neg { "-" } else { "" };
        if u == 0 {
            return f.write_str("0s");
        }
        if u < 1_000_000_000 {
            let (unit, div) = if u < 1_000 {
                ("ns", 1)
            } else if u < 1_000_000 {
                ("µs", 1_000)
            } else {
                ("ms", 1_000_000)
            };
            return write!(f, "{sign}{}{unit}", frac(u, div));
        }
        let h = u / 3_600_000_000_000;
        let m = (u / 60_000_000_000) % 60;
        let s_nanos = u % 60_000_000_000;
        let secs = frac(s_nanos, 1_000_000_000);
        if h > 0 {
            write!(f, "{sign}{h}h{m}m{secs}s")
        } else if m > 0 {
            write!(f, "{sign}{m}m{secs}s")
        } else {
            write!(f, "{sign}{secs}s")
        }
    }
}

/// `v / div` with the fraction's trailing zeros removed, as Go prints it.
fn frac(v: u64, div: u64) -> String {
    let whole = v / div;
    let rem = v % div;
    if rem == 0 {
        return whole.to_string();
    }
    let width = div.ilog10() as usize;
    let digits = format!("{rem:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 10s, 500ms or 1m30s")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Duration, E> {
                parse(s.trim()).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Duration, E> {
                Ok(Duration(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Duration, E> {
                i64::try_from(n)
                    .map(Duration)
                    .map_err(|_| E::custom("duration out of range"))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Duration, E> {
                Ok(Duration(0))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_syntax() {
        // Go: time.ParseDuration (src/time/format.go, Go standard library), grammar and
        // error texts.
        for (s, ns) in [
            ("10s", 10_000_000_000i64),
            ("500ms", 500_000_000),
            ("1m30s", 90_000_000_000),
            ("1.5h", 5_400_000_000_000),
            ("-2s", -2_000_000_000),
            ("0", 0),
            ("300us", 300_000),
            ("1µs", 1_000),
            ("2h45m", 9_900_000_000_000),
            (".5s", 500_000_000),
        ] {
            assert_eq!(Duration::parse(s), Ok(Duration(ns)), "{s}");
        }
        assert!(Duration::parse("10").unwrap_err().contains("missing unit"));
        assert!(
            Duration::parse("10x")
                .unwrap_err()
                .contains("unknown unit \"x\"")
        );
        assert!(Duration::parse("").is_err());
        assert!(Duration::parse("s").is_err());
    }

    #[test]
    fn prints_like_go() {
        for (ns, s) in [
            (0i64, "0s"),
            (200_000_000, "200ms"),
            (90_000_000_000, "1m30s"),
            (5_000_000_000, "5s"),
            (3_600_000_000_000, "1h0m0s"),
            (1_500_000_000, "1.5s"),
            (1_500, "1.5µs"),
            (-2_000_000_000, "-2s"),
            (300_000_000_000, "5m0s"),
        ] {
            assert_eq!(Duration(ns).to_string(), s);
            assert_eq!(Duration::parse(s), Ok(Duration(ns)));
        }
    }
}
