//! Object keys of the `awss3` exporter.
//!
//! Layout followed from contrib `exporter/awss3exporter/internal/upload/partition.go`
//! (`PartitionKeyBuilder.Build`, commit fc83f31f): `<prefix>/<strftime(now)>/<file_prefix>
//! <signal>_<unique>.<ext>[.gz]`, the unique part `minOffset + rand.IntN(uniqueValues -
//! minOffset)` with `minOffset = 100000000`, `uniqueValues = 999999999`; newer contrib puts
//! `s3_base_prefix` first and formats the time in `s3_partition_timezone` (Local when unset).

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::{Error, ErrorKind, Signal};

/// Builds one key per upload.
#[derive(Clone, Debug)]
pub(crate) struct KeyBuilder {
    /// `s3_base_prefix` and `s3_prefix`, each without surrounding slashes, joined by `/`
    /// (empty when both are).
    prefix: String,
    /// strftime pattern of the time partition.
    format: String,
    /// Zone the partition is formatted in.
    tz: TimeZone,
    /// `file_prefix` followed by the signal and `_`.
    stem: String,
    /// `.json` / `.binpb`, then `.gz` / `.zst` when compressed.
    suffix: String,
    /// UUIDv7 instead of nine random digits.
    uuid: bool,
}

/// What a key is made of, apart from the time and the random part.
#[derive(Clone, Debug, Default)]
pub(crate) struct KeyParts<'a> {
    /// `s3_base_prefix`.
    pub(crate) base_prefix: &'a str,
    /// `s3_prefix`.
    pub(crate) prefix: &'a str,
    /// `s3_partition_format`.
    pub(crate) format: &'a str,
    /// `s3_partition_timezone` (`""`: local time).
    pub(crate) timezone: &'a str,
    /// `file_prefix`.
    pub(crate) file_prefix: &'a str,
    /// File extension without the dot (`json`, `binpb`).
    pub(crate) extension: &'a str,
    /// Compression extension without the dot (`gz`, `zst`), empty for none.
    pub(crate) compression: &'a str,
    /// `unique_key_func_name: uuidv7`.
    pub(crate) uuid: bool,
}

impl KeyBuilder {
    /// A builder for `signal`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] for an unknown time zone or a partition format that cannot be
    /// formatted (checked once here, so uploads cannot fail on it later).
    pub(crate) fn new(signal: Signal, p: &KeyParts<'_>) -> Result<KeyBuilder, Error> {
        let tz = match p.timezone {
            // Go's `time.LoadLocation` gives Local for "" and "Local".
            "" | "Local" => TimeZone::system(),
            "UTC" => TimeZone::UTC,
            name => TimeZone::get(name).map_err(|e| {
                Error::new(
                    ErrorKind::Config,
                    format!("s3uploader::s3_partition_timezone: unknown time zone {name:?}: {e}"),
                )
            })?,
        };
        // Slashes at the ends would make empty path segments (`logs//year=...`), which S3
        // accepts but object_store's paths cannot express; Go keeps them, we drop them.
        let prefix = [p.base_prefix, p.prefix]
            .iter()
            .map(|s| s.trim_matches('/'))
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("/");
        let mut suffix = String::new();
        if !p.extension.is_empty() {
            suffix.push('.');
            suffix.push_str(p.extension);
        }
        if !p.compression.is_empty() {
            suffix.push('.');
            suffix.push_str(p.compression);
        }
        let b = KeyBuilder {
            prefix,
            format: p.format.to_owned(),
            tz,
            stem: format!("{}{}_", p.file_prefix, signal.as_str()),
            suffix,
            uuid: p.uuid,
        };
        b.partition(Timestamp::now()).map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!(
                    "s3uploader::s3_partition_format: cannot format {:?}: {e}",
                    p.format
                ),
            )
        })?;
        Ok(b)
    }

    /// The time partition of `now` (in the configured zone).
    fn partition(&self, now: Timestamp) -> Result<String, jiff::Error> {
        if self.format.is_empty() {
            return Ok(String::new());
        }
        let zoned = now.to_zoned(self.tz.clone());
        jiff::fmt::strtime::format(&self.format, &zoned)
    }

    /// The key of an upload at `now`.
    pub(crate) fn build(&self, now: Timestamp) -> String {
        // `new` formatted the pattern once; a failure here would need a pattern that works
        // for one instant and not another, so an empty partition is an acceptable fallback.
        let partition = self.partition(now).unwrap_or_default();
        let unique = if self.uuid {
            uuid_v7(now, rand::random())
        } else {
            nine_digits().to_string()
        };
        let mut key = String::with_capacity(
            self.prefix.len() + partition.len() + self.stem.len() + unique.len() + 16,
        );
        for part in [self.prefix.as_str(), partition.trim_matches('/')] {
            if !part.is_empty() {
                key.push_str(part);
                key.push('/');
            }
        }
        key.push_str(&self.stem);
        key.push_str(&unique);
        key.push_str(&self.suffix);
        key
    }
}

/// Go's default unique part: uniform in [100000000, 999999999).
fn nine_digits() -> u32 {
    rand::random_range(100_000_000..999_999_999)
}

/// A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, 74 random bits, variant 10.
fn uuid_v7(now: Timestamp, random: [u8; 10]) -> String {
    let ms = now.as_millisecond().max(0) as u64;
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    b[6] = 0x70 | (random[0] & 0x0f);
    b[7] = random[1];
    b[8] = 0x80 | (random[2] & 0x3f);
    b[9..].copy_from_slice(&random[3..]);
    let h = const_hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// An RFC 3339 instant.
    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// The default layout in UTC, JSON.
    fn parts() -> KeyParts<'static> {
        KeyParts {
            format: "year=%Y/month=%m/day=%d/hour=%H/minute=%M",
            timezone: "UTC",
            extension: "json",
            ..KeyParts::default()
        }
    }

    #[test]
    fn default_layout() {
        let b = KeyBuilder::new(Signal::Logs, &parts()).unwrap();
        let k = b.build(at("2025-02-23T22:34:56Z"));
        let (dir, file) = k.rsplit_once('/').unwrap();
        assert_eq!(dir, "year=2025/month=02/day=23/hour=22/minute=34");
        let digits = file
            .strip_prefix("logs_")
            .unwrap()
            .strip_suffix(".json")
            .unwrap();
        assert_eq!(digits.len(), 9, "{k}");
        let n: u32 = digits.parse().unwrap();
        assert!((100_000_000..999_999_999).contains(&n));
    }

    #[test]
    fn prefixes_zone_and_compression() {
        let p = KeyParts {
            base_prefix: "base/",
            prefix: "/otel-logs/prod",
            format: "%Y%m%d-%H",
            timezone: "Asia/Tokyo",
            file_prefix: "app-",
            extension: "binpb",
            compression: "gz",
            uuid: false,
        };
        let b = KeyBuilder::new(Signal::Metrics, &p).unwrap();
        let k = b.build(at("2025-12-31T20:00:00Z"));
        assert!(
            k.starts_with("base/otel-logs/prod/20260101-05/app-metrics_"),
            "{k}"
        );
        assert!(k.ends_with(".binpb.gz"), "{k}");
    }

    #[test]
    fn uuid_v7_shape() {
        let p = KeyParts {
            uuid: true,
            ..parts()
        };
        let b = KeyBuilder::new(Signal::Traces, &p).unwrap();
        let k = b.build(at("2025-01-01T00:00:00Z"));
        let u = k
            .rsplit_once("traces_")
            .unwrap()
            .1
            .strip_suffix(".json")
            .unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "7", "{u}");
        assert!("89ab".contains(&u[19..20]), "{u}");
        // 2025-01-01T00:00:00Z = 1735689600000 ms = 0x0194_1f29_7c00.
        assert!(u.starts_with("01941f29-7c00-7"), "{u}");
    }

    #[test]
    fn unknown_zone_is_a_config_error() {
        let p = KeyParts {
            timezone: "Mars/Olympus",
            ..parts()
        };
        let e = KeyBuilder::new(Signal::Logs, &p).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.message().contains("Mars/Olympus"), "{e}");
    }
}
