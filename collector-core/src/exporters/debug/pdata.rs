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
    // jiff spans the years -9999 to 9999 and an int64 of nanoseconds only 1677 to 2262, so
    // this never fails; the raw count stands in should that ever change.
    let Ok(ts) = jiff::Timestamp::from_nanosecond(i128::from(t)) else {
        return format!("{t}ns +0000 UTC");
    };
    let dt = jiff::tz::Offset::UTC.to_datetime(ts);
    let mut s = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    let nanos = dt.subsec_nanosecond();
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push_str(" +0000 UTC");
    s
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

    #[test]
    fn timestamps_across_the_int64_range() {
        // Go: pcommon/timestamp.go:21-29 (AsTime is time.Unix(0, int64(ts)).UTC(); String
        // is its time.Time.String()), so every int64 of nanoseconds prints as a date:
        // proleptic Gregorian leap years, and dates before 1970 for the top half of u64.
        let ns = |secs: i64, nanos: i64| (secs * 1_000_000_000 + nanos) as u64;
        assert_eq!(
            go_time(ns(1_709_164_800, 500_000_000)),
            "2024-02-29 00:00:00.5 +0000 UTC"
        );
        // 2100 is not a leap year: the day after 28 February is 1 March.
        assert_eq!(
            go_time(ns(4_107_542_399, 0)),
            "2100-02-28 23:59:59 +0000 UTC"
        );
        assert_eq!(
            go_time(ns(4_107_542_400, 0)),
            "2100-03-01 00:00:00 +0000 UTC"
        );
        assert_eq!(go_time(ns(-14_182_940, 0)), "1969-07-20 20:17:40 +0000 UTC");
        // 1900 is not a leap year either.
        assert_eq!(
            go_time(ns(-2_203_891_200, 1)),
            "1900-03-01 00:00:00.000000001 +0000 UTC"
        );
        assert_eq!(
            go_time(i64::MIN as u64),
            "1677-09-21 00:12:43.145224192 +0000 UTC"
        );
        assert_eq!(
            go_time(i64::MAX as u64),
            "2262-04-11 23:47:16.854775807 +0000 UTC"
        );
    }
}
