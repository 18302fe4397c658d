//! The Go collector's text renderings of values, shared by whatever shows or converts a
//! value as text (the debug exporter, attribute actions and matching, redaction):
//! `pcommon.Value`'s `AsString`, `encoding/json` strings, and Go's float formats.
//!
//! `AsString` is written once, over [`GoValue`], so that a view of received bytes and an
//! owned [`Value`] an edit produced render alike.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;

use super::{AnyValueView, Value};

/// What one level of a value is, as pdata's renderings see it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind<'s> {
    /// No value.
    Empty,
    /// A string.
    Str(&'s str),
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A double.
    Double(f64),
    /// Bytes.
    Bytes(&'s [u8]),
    /// A list: its elements come from [`GoValue::elements`].
    Slice,
    /// A key/value list: its entries come from [`GoValue::entries`].
    Map,
}

/// A value pdata's `AsString` can render: [`AnyValueView`] (received bytes) and [`Value`]
/// (what an edit set). The renderings below are written once against this trait, so the
/// two cannot drift apart.
pub(crate) trait GoValue {
    /// The type of the elements and entry values.
    type Elem<'s>: GoValue
    where
        Self: 's;

    /// This level of the value.
    fn kind(&self) -> Kind<'_>;

    /// A list's elements, in order (nothing for other kinds).
    fn elements(&self) -> impl Iterator<Item = Self::Elem<'_>>;

    /// A key/value list's entries, in order, duplicates included (nothing for other kinds).
    fn entries(&self) -> impl Iterator<Item = (&str, Self::Elem<'_>)>;
}

impl<'a> GoValue for AnyValueView<'a> {
    type Elem<'s>
        = AnyValueView<'a>
    where
        Self: 's;

    fn kind(&self) -> Kind<'_> {
        match self {
            AnyValueView::Empty => Kind::Empty,
            AnyValueView::Str(s) => Kind::Str(s),
            AnyValueView::Bool(b) => Kind::Bool(*b),
            AnyValueView::Int(i) => Kind::Int(*i),
            AnyValueView::Double(f) => Kind::Double(*f),
            AnyValueView::Bytes(b) => Kind::Bytes(b),
            AnyValueView::Array(_) => Kind::Slice,
            AnyValueView::KvList(_) => Kind::Map,
        }
    }

    fn elements(&self) -> impl Iterator<Item = AnyValueView<'a>> {
        let list = match self {
            AnyValueView::Array(a) => Some(a.iter()),
            _ => None,
        };
        list.into_iter().flatten()
    }

    fn entries(&self) -> impl Iterator<Item = (&str, AnyValueView<'a>)> {
        let map = match self {
            AnyValueView::KvList(m) => Some(m.iter()),
            _ => None,
        };
        map.into_iter().flatten().map(|kv| (kv.key(), kv.value()))
    }
}

impl GoValue for Value {
    type Elem<'s> = &'s Value;

    fn kind(&self) -> Kind<'_> {
        match self {
            Value::Empty => Kind::Empty,
            Value::Str(s) => Kind::Str(s),
            Value::Bool(b) => Kind::Bool(*b),
            Value::Int(i) => Kind::Int(*i),
            Value::Double(f) => Kind::Double(*f),
            Value::Bytes(b) => Kind::Bytes(b),
            Value::Array(_) => Kind::Slice,
            Value::KvList(_) => Kind::Map,
        }
    }

    fn elements(&self) -> impl Iterator<Item = &Value> {
        let list: &[Value] = match self {
            Value::Array(a) => a,
            _ => &[],
        };
        list.iter()
    }

    fn entries(&self) -> impl Iterator<Item = (&str, &Value)> {
        let map: &[(String, Value)] = match self {
            Value::KvList(m) => m,
            _ => &[],
        };
        map.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl<T: GoValue + ?Sized> GoValue for &T {
    type Elem<'s>
        = T::Elem<'s>
    where
        Self: 's;

    fn kind(&self) -> Kind<'_> {
        (**self).kind()
    }

    fn elements(&self) -> impl Iterator<Item = T::Elem<'_>> {
        (**self).elements()
    }

    fn entries(&self) -> impl Iterator<Item = (&str, T::Elem<'_>)> {
        (**self).entries()
    }
}

/// `pcommon.Value.AsString()`: scalars as text, doubles in the ES6 form, bytes as base64,
/// maps and slices as JSON.
pub(crate) fn as_string(v: &impl GoValue) -> String {
    match v.kind() {
        Kind::Empty => String::new(),
        Kind::Str(s) => s.to_owned(),
        Kind::Bool(b) => b.to_string(),
        Kind::Int(i) => i.to_string(),
        Kind::Double(f) => match go_non_finite(f) {
            // float64AsString's own message: strconv.FormatFloat(f, 'g', -1, 64) after it.
            Some(s) => format!("json: unsupported value: {s}"),
            None => es6_number(f),
        },
        Kind::Bytes(b) => base64::engine::general_purpose::STANDARD.encode(b),
        // Go's json.Marshal fails on a NaN or infinity anywhere inside; AsString ignores
        // the error and returns the empty output.
        Kind::Slice | Kind::Map => {
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
fn json_value<V: GoValue>(out: &mut String, v: &V) -> Option<()> {
    match v.kind() {
        Kind::Empty => out.push_str("null"),
        Kind::Str(s) => json_string(out, s),
        Kind::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Kind::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Kind::Double(f) => {
            if !f.is_finite() {
                return None;
            }
            out.push_str(&es6_number(f));
        }
        Kind::Bytes(b) => {
            out.push('"');
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(b));
            out.push('"');
        }
        Kind::Slice => {
            out.push('[');
            for (i, e) in v.elements().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_value(out, &e)?;
            }
            out.push(']');
        }
        Kind::Map => {
            let map: BTreeMap<&str, V::Elem<'_>> = v.entries().collect();
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

/// Go's `%f`: six decimals.
pub(crate) fn go_f(f: f64) -> String {
    match go_non_finite(f) {
        Some(s) => s.to_owned(),
        None => format!("{f:.6}"),
    }
}

/// `strconv.FormatFloat(f, 'f', -1, 64)`: the shortest digits that round-trip, never an
/// exponent. Go's attribute matchers stringify doubles this way, not as `AsString` does.
pub(crate) fn format_float_f(f: f64) -> String {
    match go_non_finite(f) {
        Some(s) => s.to_owned(),
        // Rust's `{}` for f64 is the shortest round-trip digits, and never uses an exponent.
        None => format!("{f}"),
    }
}

#[cfg(test)]
mod tests {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;
    use crate::otlp::{KeyValueView, edit_encode_key_value};

    // Go sources are cited at tag v0.138.0: `pcommon` is
    // open-telemetry/opentelemetry-collector's pdata/pcommon, `normal/` and `otlptext/` are
    // under its exporter/debugexporter/internal; `attraction` is
    // open-telemetry/opentelemetry-collector-contrib's internal/coreinternal/attraction.

    #[test]
    fn floats_as_go_prints_them() {
        // Go: `%v` of a float64 as normal/metrics.go:72 prints it, `%f` as otlptext's
        // databuffer.go:158 prints it (both fmt, Go standard library), and AsString's
        // float64AsString, pcommon/value.go:424-451 (ES6 number form; "json: unsupported
        // value: " for NaN and infinities, line 426).
        for (f, v, es6) in [
            (5.0, "5", "5"),
            (0.0001, "0.0001", "0.0001"),
            (0.00001, "1e-05", "0.00001"),
            (1e-7, "1e-07", "1e-7"),
            (999_999.0, "999999", "999999"),
            (1e6, "1e+06", "1000000"),
            (123_456_789.5, "1.234567895e+08", "123456789.5"),
            (1e21, "1e+21", "1e+21"),
            (-0.0, "-0", "-0"),
        ] {
            assert_eq!(go_v(f), v, "%v of {f}");
            assert_eq!(es6_number(f), es6, "AsString of {f}");
        }
        assert_eq!(go_v(f64::NAN), "NaN");
        assert_eq!(go_f(f64::NEG_INFINITY), "-Inf");
        assert_eq!(go_f(0.0078125), "0.007812");
        assert_eq!(
            as_string(&AnyValueView::Double(f64::INFINITY)),
            "json: unsupported value: +Inf"
        );
    }

    #[test]
    fn json_strings_escape_like_go() {
        // Go: pcommon/value.go:407 and 414 render maps and slices with json.Marshal, whose
        // string escaping (HTML-safe <, >, &; \u2028; short \b \f escapes since Go 1.22)
        // is encoding/json's appendString (src/encoding/json/encode.go, Go standard library).
        let mut s = String::new();
        json_string(&mut s, "a\"\\\u{8}\u{c}\u{1}<>&\u{2028}é");
        assert_eq!(s, r#""a\"\\\b\f\u0001\u003c\u003e\u0026\u2028é""#);
    }

    /// `v` as received: encoded as a `KeyValue` and read back through a view.
    fn received(v: &Value) -> Vec<u8> {
        let mut kv = Vec::new();
        edit_encode_key_value(&mut kv, "k", v);
        kv
    }

    fn s(v: &str) -> Value {
        Value::Str(v.into())
    }

    #[test]
    fn owned_values_as_go_renders_them() {
        // Go: pcommon/value.go:389-420 (Value.AsString: json.Marshal of AsRaw for maps and
        // slices, base64 for bytes) and 424-451 (float64AsString). Go has one Value, so an
        // owned value and a received one must print alike; attribute actions used to
        // print doubles as strconv.FormatFloat(d, 'f', -1, 64) and maps with serde_json.
        let cases = [
            (Value::Double(1e21), "1e+21"),
            (Value::Double(1.5e-7), "1.5e-7"),
            (Value::Double(0.1), "0.1"),
            (Value::Double(f64::NAN), "json: unsupported value: NaN"),
            (
                Value::Double(f64::NEG_INFINITY),
                "json: unsupported value: -Inf",
            ),
            (Value::Bytes(vec![1, 2]), "AQI="),
            // encoding/json of Map.AsRaw(): keys sorted, the later duplicate wins.
            (
                Value::KvList(vec![
                    ("z".into(), Value::Int(1)),
                    ("a".into(), Value::Double(1.0)),
                    ("a".into(), s("<b>")),
                ]),
                r#"{"a":"\u003cb\u003e","z":1}"#,
            ),
            (
                Value::Array(vec![
                    Value::Double(1.0),
                    Value::Double(1e21),
                    Value::Empty,
                    Value::Bytes(vec![1, 2]),
                    Value::KvList(vec![]),
                ]),
                r#"[1,1e+21,null,"AQI=",{}]"#,
            ),
            // json.Marshal fails on NaN anywhere inside; AsString drops the error.
            (
                Value::Array(vec![Value::Int(1), Value::Double(f64::NAN)]),
                "",
            ),
        ];
        for (v, want) in cases {
            assert_eq!(as_string(&v), want, "{v:?}");
            let kv = received(&v);
            assert_eq!(
                as_string(&KeyValueView::new(&kv).value()),
                want,
                "{v:?} received"
            );
        }
    }

    #[test]
    fn format_float_f_never_uses_an_exponent() {
        // Go: strconv.FormatFloat(d, 'f', -1, 64), as contrib's
        // internal/filter/filtermatcher/attributematcher.go (attributeStringValue) uses it.
        assert_eq!(format_float_f(1e21), "1000000000000000000000");
        assert_eq!(format_float_f(1.5e-7), "0.00000015");
        assert_eq!(format_float_f(2.5), "2.5");
        assert_eq!(format_float_f(f64::NAN), "NaN");
        assert_eq!(format_float_f(f64::INFINITY), "+Inf");
    }

    /// Owned values: every type, nested, with repeated and HTML-escaped keys.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Empty),
            "\\PC{0,6}".prop_map(Value::Str),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<f64>().prop_map(Value::Double),
            vec(any::<u8>(), 0..6).prop_map(Value::Bytes),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..4).prop_map(Value::Array),
                vec(("[ab<&]{0,2}", inner), 0..4).prop_map(Value::KvList),
            ]
        })
    }

    proptest! {
        /// An owned value and the same value received render alike.
        #[test]
        fn owned_and_received_agree(v in value()) {
            let kv = received(&v);
            let view = KeyValueView::new(&kv).value();
            prop_assert_eq!(as_string(&v), as_string(&view));
            prop_assert_eq!(as_string(&Value::from_view(&view)), as_string(&view));
        }
    }
}
