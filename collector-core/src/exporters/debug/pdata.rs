//! pdata's own text for ids, timestamps, enums and value types (their `String()`
//! methods), as the `normal` and `detailed` renderings print them. Values themselves are
//! rendered by [`crate::otlp::text`].

use crate::otlp::AnyValueView;
use crate::otlp::text::as_string;

/// A trace or span id as pdata prints it: lowercase hex, and nothing for an all-zero id
/// (which OTLP defines as invalid) as for a missing one.
pub(super) fn go_id(id: &[u8]) -> String {
    if id.iter().all(|&b| b == 0) {
        String::new()
    } else {
        const_hex::encode(id)
    }
}

/// `pcommon.Timestamp.String()`: Go's `time.Time.String()` in UTC, fraction trimmed.
pub(super) fn go_time(unix_nano: u64) -> String {
    // pdata converts with int64(ts): the top half of the range prints as dates before 1970.
    let t = unix_nano as i64;
    let secs = t.div_euclid(1_000_000_000);
    let nanos = t.rem_euclid(1_000_000_000);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let mut s = format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        sod / 3_600,
        sod % 3_600 / 60,
        sod % 60
    );
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push_str(" +0000 UTC");
    s
}

/// Proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, exact over the whole `i64` nanosecond range).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `ptrace.SpanKind.String()`; nothing for a value the proto does not define.
pub(super) fn span_kind(kind: i32) -> &'static str {
    match kind {
        0 => "Unspecified",
        1 => "Internal",
        2 => "Server",
        3 => "Client",
        4 => "Producer",
        5 => "Consumer",
        _ => "",
    }
}

/// `ptrace.StatusCode.String()`; nothing for a value the proto does not define.
pub(super) fn status_code(code: i32) -> &'static str {
    match code {
        0 => "Unset",
        1 => "Ok",
        2 => "Error",
        _ => "",
    }
}

/// `pmetric.AggregationTemporality.String()`; nothing for an undefined value.
pub(super) fn temporality(t: i32) -> &'static str {
    match t {
        0 => "Unspecified",
        1 => "Delta",
        2 => "Cumulative",
        _ => "",
    }
}

/// `plog.SeverityNumber.String()`; nothing for an undefined value (Go then prints
/// `SeverityNumber: (30)`).
pub(super) fn severity_name(n: i32) -> &'static str {
    const NAMES: [&str; 25] = [
        "Unspecified",
        "Trace",
        "Trace2",
        "Trace3",
        "Trace4",
        "Debug",
        "Debug2",
        "Debug3",
        "Debug4",
        "Info",
        "Info2",
        "Info3",
        "Info4",
        "Warn",
        "Warn2",
        "Warn3",
        "Warn4",
        "Error",
        "Error2",
        "Error3",
        "Error4",
        "Fatal",
        "Fatal2",
        "Fatal3",
        "Fatal4",
    ];
    usize::try_from(n)
        .ok()
        .and_then(|i| NAMES.get(i))
        .copied()
        .unwrap_or("")
}

/// `pcommon.Value.Type().String()`.
pub(super) fn value_type(v: &AnyValueView<'_>) -> &'static str {
    match v {
        AnyValueView::Empty => "Empty",
        AnyValueView::Str(_) => "Str",
        AnyValueView::Bool(_) => "Bool",
        AnyValueView::Int(_) => "Int",
        AnyValueView::Double(_) => "Double",
        AnyValueView::Bytes(_) => "Bytes",
        AnyValueView::Array(_) => "Slice",
        AnyValueView::KvList(_) => "Map",
    }
}

/// The debug exporter's `Type(AsString)` rendering of a value.
pub(super) fn value_to_string(v: &AnyValueView<'_>) -> String {
    format!("{}({})", value_type(v), as_string(v))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::T0;
    use super::*;

    // Go sources are cited as `fixtures.rs` describes.

    #[test]
    fn timestamps_as_go_prints_them() {
        // Go: pcommon/timestamp.go:27-29 (Timestamp.String is AsTime().String(), in UTC),
        // which is Go's time.Time.String ("2006-01-02 15:04:05.999999999 -0700 MST",
        // src/time/format.go in the Go standard library).
        assert_eq!(go_time(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(go_time(T0 + 1), "2025-10-31 15:42:33.123000001 +0000 UTC");
        assert_eq!(
            go_time(951_782_400_000_000_000),
            "2000-02-29 00:00:00 +0000 UTC"
        );
        // int64(ts) in Go: the top of the u64 range is before 1970.
        assert_eq!(go_time(u64::MAX), "1969-12-31 23:59:59.999999999 +0000 UTC");
    }
}
