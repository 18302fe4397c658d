//! The Go collector's text renderings of values, shared by whatever shows or converts a
//! value as text (the debug exporter, attribute actions, redaction): `pcommon.Value`'s
//! `AsString`, `encoding/json` strings, and Go's float formats.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;

use super::AnyValueView;

/// `pcommon.Value.AsString()`: scalars as text, bytes as base64, maps and slices as JSON.
pub(crate) fn as_string(v: &AnyValueView<'_>) -> String {
    match v {
        AnyValueView::Empty => String::new(),
        AnyValueView::Str(s) => (*s).to_owned(),
        AnyValueView::Bool(b) => b.to_string(),
        AnyValueView::Int(i) => i.to_string(),
        AnyValueView::Double(f) if f.is_finite() => es6_number(*f),
        AnyValueView::Double(f) => format!("json: unsupported value: {}", go_v(*f)),
        AnyValueView::Bytes(b) => base64::engine::general_purpose::STANDARD.encode(b),
        // Go's json.Marshal fails on a NaN or infinity anywhere inside; AsString then
        // returns the empty string.
        AnyValueView::Array(_) | AnyValueView::KvList(_) => {
            let mut s = String::new();
            match json_value(&mut s, v) {
                Some(()) => s,
                None => String::new(),
            }
        }
    }
}

/// `encoding/json` of `Value.AsRaw()`: map keys sorted and deduplicated (last wins, as
/// Go's map assignment does); `None` for a non-finite double.
pub(crate) fn json_value(out: &mut String, v: &AnyValueView<'_>) -> Option<()> {
    match v {
        AnyValueView::Empty => out.push_str("null"),
        AnyValueView::Str(s) => json_string(out, s),
        AnyValueView::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        AnyValueView::Int(i) => {
            let _ = write!(out, "{i}");
        }
        AnyValueView::Double(f) => {
            if !f.is_finite() {
                return None;
            }
            out.push_str(&es6_number(*f));
        }
        AnyValueView::Bytes(b) => {
            out.push('"');
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
            out.push('"');
        }
        AnyValueView::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_value(out, &e)?;
            }
            out.push(']');
        }
        AnyValueView::KvList(kvs) => {
            let map: BTreeMap<&str, AnyValueView<'_>> =
                kvs.iter().map(|kv| (kv.key(), kv.value())).collect();
            out.push('{');
            for (i, (k, e)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(out, k);
                out.push(':');
                json_value(out, e)?;
            }
            out.push('}');
        }
    }
    Some(())
}

/// A JSON string as Go's `encoding/json` writes it (HTML-safe, Go 1.22+ short escapes).
pub(crate) fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Shortest round-trip digits of a finite `f`: `(digits, exponent)` with
/// `|f| = d.ddd × 10^exponent`.
pub(crate) fn shortest_digits(f: f64) -> (String, i32) {
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    (mantissa.replace('.', ""), exp.parse().unwrap_or(0))
}

/// Go's `%e` with the shortest digits; `pad` gives the exponent Go's two digits.
pub(crate) fn exponent_form(f: f64, pad: bool) -> String {
    let (digits, exp) = shortest_digits(f);
    let mut s = String::new();
    if f.is_sign_negative() {
        s.push('-');
    }
    let (first, rest) = digits.split_at(digits.len().min(1));
    s.push_str(first);
    if !rest.is_empty() {
        s.push('.');
        s.push_str(rest);
    }
    let sign = if exp < 0 { '-' } else { '+' };
    if pad {
        let _ = write!(s, "e{sign}{:02}", exp.unsigned_abs());
    } else {
        let _ = write!(s, "e{sign}{}", exp.unsigned_abs());
    }
    s
}

/// pdata's `float64AsString` (ES6 number to string): plain decimal unless tiny or huge.
pub(crate) fn es6_number(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        exponent_form(f, false)
    } else {
        format!("{f}")
    }
}

/// Go's `%v` for a float64: shortest digits, exponent form outside 1e-4 ≤ |f| < 1e6.
pub(crate) fn go_v(f: f64) -> String {
    if let Some(s) = go_non_finite(f) {
        return s.to_owned();
    }
    let (_, exp) = shortest_digits(f);
    if f != 0.0 && !(-4..6).contains(&exp) {
        exponent_form(f, true)
    } else {
        format!("{f}")
    }
}

/// NaN and the infinities as Go prints them (`%v`, `%f`).
pub(crate) fn go_non_finite(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some("NaN")
    } else if f == f64::INFINITY {
        Some("+Inf")
    } else if f == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}
