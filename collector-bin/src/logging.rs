//! Log lines in the shape of the Go collector's (zap) output, so that people's greps and
//! CloudWatch filters keep working: `console` is tab-separated
//! (`<time>\t<level>\t<message>\t{<fields as JSON>}`), `json` one object per line.

use std::fmt;
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

struct Fields {
    message: String,
    rest: serde_json::Map<String, serde_json::Value>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let v = format!("{value:?}");
        if field.name() == "message" {
            self.message = v;
        } else {
            self.rest
                .insert(field.name().to_owned(), serde_json::Value::String(v));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.rest.insert(
                field.name().to_owned(),
                serde_json::Value::String(value.to_owned()),
            );
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.rest.insert(field.name().to_owned(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.rest.insert(field.name().to_owned(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.rest.insert(field.name().to_owned(), value.into());
    }
}

struct ZapLike {
    json: bool,
    max: Level,
}

fn level_name(l: &Level) -> &'static str {
    match *l {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "debug",
    }
}

impl<S: Subscriber> Layer<S> for ZapLike {
    fn enabled(&self, meta: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        *meta.level() <= self.max
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut f = Fields {
            message: String::new(),
            rest: serde_json::Map::new(),
        };
        event.record(&mut f);
        // The same record for collectors that ship their own logs over OTLP.
        let attrs: Vec<(&str, String)> = f
            .rest
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => (k.as_str(), s.clone()),
                other => (k.as_str(), other.to_string()),
            })
            .collect();
        collector_core::own_log(*event.metadata().level(), &f.message, &attrs);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let level = level_name(event.metadata().level());
        let line = if self.json {
            let mut obj = serde_json::Map::new();
            obj.insert("level".into(), level.into());
            obj.insert("ts".into(), now.as_secs_f64().into());
            obj.insert("msg".into(), f.message.into());
            obj.extend(f.rest);
            serde_json::Value::Object(obj).to_string()
        } else if f.rest.is_empty() {
            format!("{}\t{level}\t{}", timestamp(now), f.message)
        } else {
            format!(
                "{}\t{level}\t{}\t{}",
                timestamp(now),
                f.message,
                serde_json::Value::Object(f.rest)
            )
        };
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }
}

/// `2026-11-26T00:12:00.123Z`.
fn timestamp(since_epoch: std::time::Duration) -> String {
    let secs = since_epoch.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        since_epoch.subsec_millis()
    )
}

/// Installs the logger: `level` as the Go collector names levels, `encoding` `console` or
/// `json`.
pub(crate) fn init(level: &str, encoding: &str) {
    let max = match level.to_ascii_lowercase().as_str() {
        "debug" => Level::DEBUG,
        "warn" => Level::WARN,
        "error" | "dpanic" | "panic" | "fatal" => Level::ERROR,
        _ => Level::INFO,
    };
    let layer = ZapLike {
        json: encoding == "json",
        max,
    };
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(
            timestamp(std::time::Duration::from_millis(1_764_115_920_123)),
            "2025-11-26T00:12:00.123Z"
        );
    }
}
