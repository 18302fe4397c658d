//! OTLP/JSON, both ways, driven by the schema table.
//!
//! In: what the Go collector's pdata decoder accepts: lowerCamelCase or snake_case keys,
//! enums as integers or names, 64-bit integers as numbers or strings, ids as hex in either
//! case, doubles also as `"NaN"`/`"Infinity"`/`"-Infinity"`, unknown keys ignored. The
//! request is encoded straight to protobuf and then validated like any received request.
//!
//! Out: lowerCamelCase keys, 64-bit integers as strings, ids as lowercase hex, bytes as
//! base64, enums as integers, default scalars omitted; written from the views of a
//! validated payload, with prost's merge semantics for repeated singular fields.

use base64::Engine as _;
use serde_json::{Map, Value as J};
use smallvec::SmallVec;

use super::payload::Payload;
use super::schema::{self, Card, Field, Msg, Ty};
use super::view::Parts;
use super::wire::{self, Value as W, WireType};
use crate::{Error, ErrorKind, Signal};

/// A JSON problem and the path to it, innermost segment first.
struct JErr {
    path: Vec<String>,
    msg: String,
}

impl JErr {
    fn new(msg: impl Into<String>) -> JErr {
        JErr {
            path: Vec::new(),
            msg: msg.into(),
        }
    }

    fn at(mut self, seg: String) -> JErr {
        self.path.push(seg);
        self
    }

    fn into_error(self) -> Error {
        let path: Vec<String> = self.path.into_iter().rev().collect();
        let mut p = String::new();
        for s in path {
            if !p.is_empty() && !s.starts_with('[') {
                p.push('.');
            }
            p.push_str(&s);
        }
        Error::new(
            ErrorKind::InvalidData,
            format!("invalid OTLP/JSON: {p}: {}", self.msg),
        )
    }
}

/// Encodes an OTLP/JSON export request as protobuf (not yet validated).
pub(crate) fn json_to_proto(signal: Signal, json: &[u8]) -> Result<Vec<u8>, Error> {
    let v: J = serde_json::from_slice(json)
        .map_err(|e| Error::new(ErrorKind::InvalidData, format!("invalid OTLP/JSON: {e}")))?;
    let obj = v.as_object().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidData,
            "invalid OTLP/JSON: the request is not a JSON object",
        )
    })?;
    let (msg, snake, camel) = schema::resource_x(signal);
    let mut out = Vec::with_capacity(json.len() / 2);
    let Some(list) = lookup(obj, camel, snake) else {
        return Ok(out);
    };
    let list = list.as_array().ok_or_else(|| {
        JErr::new("expected an array")
            .at(camel.to_owned())
            .into_error()
    })?;
    for (i, item) in list.iter().enumerate() {
        put_message(&mut out, 1, msg, item)
            .map_err(|e| e.at(format!("[{i}]")).at(camel.to_owned()).into_error())?;
    }
    Ok(out)
}

fn lookup<'v>(obj: &'v Map<String, J>, camel: &str, snake: &str) -> Option<&'v J> {
    obj.get(camel)
        .or_else(|| obj.get(snake))
        .filter(|v| !v.is_null())
}

fn put_message(out: &mut Vec<u8>, num: u32, msg: &Msg, v: &J) -> Result<(), JErr> {
    let obj = v
        .as_object()
        .ok_or_else(|| JErr::new("expected an object"))?;
    let mut result = Ok(());
    wire::put_nested(out, num, |o| result = encode_fields(o, msg, obj));
    result
}

fn encode_fields(out: &mut Vec<u8>, msg: &Msg, obj: &Map<String, J>) -> Result<(), JErr> {
    for field in msg.fields {
        let Some(v) = lookup(obj, field.json, field.name) else {
            continue;
        };
        encode_field(out, field, v).map_err(|e| e.at(field.json.to_owned()))?;
    }
    Ok(())
}

fn encode_field(out: &mut Vec<u8>, field: &Field, v: &J) -> Result<(), JErr> {
    match field.card {
        Card::Repeated => {
            let items = v.as_array().ok_or_else(|| JErr::new("expected an array"))?;
            if field.ty.packable() {
                let mut result = Ok(());
                wire::put_nested(out, field.num, |o| {
                    for (i, item) in items.iter().enumerate() {
                        if let Err(e) = scalar(field, item).map(|s| s.write_raw(o)) {
                            result = Err(e.at(format!("[{i}]")));
                            return;
                        }
                    }
                });
                result
            } else {
                for (i, item) in items.iter().enumerate() {
                    encode_one(out, field, item, true).map_err(|e| e.at(format!("[{i}]")))?;
                }
                Ok(())
            }
        }
        Card::Single => encode_one(out, field, v, false),
        Card::Optional(_) => encode_one(out, field, v, true),
    }
}

fn encode_one(out: &mut Vec<u8>, field: &Field, v: &J, keep_default: bool) -> Result<(), JErr> {
    if let Ty::Msg(m) = field.ty {
        return put_message(out, field.num, m, v);
    }
    let s = scalar(field, v)?;
    if keep_default || !s.is_default() {
        s.write_field(out, field.num);
    }
    Ok(())
}

/// A parsed scalar, ready to write.
enum Scalar {
    Varint(u64),
    I64(u64),
    I32(u32),
    Len(Vec<u8>),
}

impl Scalar {
    fn is_default(&self) -> bool {
        match self {
            Scalar::Varint(v) | Scalar::I64(v) => *v == 0,
            Scalar::I32(v) => *v == 0,
            Scalar::Len(b) => b.is_empty(),
        }
    }

    fn write_raw(&self, out: &mut Vec<u8>) {
        match self {
            Scalar::Varint(v) => wire::put_varint(out, *v),
            Scalar::I64(v) => out.extend_from_slice(&v.to_le_bytes()),
            Scalar::I32(v) => out.extend_from_slice(&v.to_le_bytes()),
            Scalar::Len(b) => {
                wire::put_varint(out, b.len() as u64);
                out.extend_from_slice(b);
            }
        }
    }

    fn write_field(&self, out: &mut Vec<u8>, num: u32) {
        let wt = match self {
            Scalar::Varint(_) => WireType::Varint,
            Scalar::I64(_) => WireType::I64,
            Scalar::I32(_) => WireType::I32,
            Scalar::Len(_) => WireType::Len,
        };
        wire::put_key(out, num, wt);
        self.write_raw(out);
    }
}

fn int_i64(v: &J) -> Result<i64, JErr> {
    match v {
        J::Number(n) => n
            .as_i64()
            .ok_or_else(|| JErr::new(format!("{n} is not a 64-bit integer"))),
        J::String(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| JErr::new(format!("{s:?} is not a 64-bit integer"))),
        _ => Err(JErr::new("expected an integer")),
    }
}

fn int_u64(v: &J) -> Result<u64, JErr> {
    match v {
        J::Number(n) => n
            .as_u64()
            .ok_or_else(|| JErr::new(format!("{n} is not an unsigned 64-bit integer"))),
        J::String(s) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| JErr::new(format!("{s:?} is not an unsigned 64-bit integer"))),
        _ => Err(JErr::new("expected an integer")),
    }
}

fn int_i32(v: &J) -> Result<i32, JErr> {
    let x = int_i64(v)?;
    i32::try_from(x).map_err(|_| JErr::new(format!("{x} does not fit in 32 bits")))
}

fn int_u32(v: &J) -> Result<u32, JErr> {
    let x = int_u64(v)?;
    u32::try_from(x).map_err(|_| JErr::new(format!("{x} does not fit in 32 bits")))
}

fn double(v: &J) -> Result<f64, JErr> {
    match v {
        J::Number(n) => n
            .as_f64()
            .ok_or_else(|| JErr::new(format!("{n} is not a number"))),
        J::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            other => other
                .parse::<f64>()
                .map_err(|_| JErr::new(format!("{other:?} is not a number"))),
        },
        _ => Err(JErr::new("expected a number")),
    }
}

fn string(v: &J) -> Result<&str, JErr> {
    v.as_str().ok_or_else(|| JErr::new("expected a string"))
}

fn scalar(field: &Field, v: &J) -> Result<Scalar, JErr> {
    Ok(match &field.ty {
        Ty::Str => Scalar::Len(string(v)?.as_bytes().to_vec()),
        Ty::Bytes => Scalar::Len(
            base64::engine::general_purpose::STANDARD
                .decode(string(v)?)
                .map_err(|e| JErr::new(format!("invalid base64: {e}")))?,
        ),
        Ty::Id => {
            let s = string(v)?;
            let b = const_hex::decode(s).map_err(|e| JErr::new(format!("invalid hex id: {e}")))?;
            let want = if field.name == "trace_id" { 16 } else { 8 };
            if !b.is_empty() && b.len() != want {
                return Err(JErr::new(format!(
                    "id of {} bytes (expected {want} or empty)",
                    b.len()
                )));
            }
            Scalar::Len(b)
        }
        Ty::Bool => Scalar::Varint(u64::from(
            v.as_bool()
                .ok_or_else(|| JErr::new("expected true or false"))?,
        )),
        Ty::Int32 => Scalar::Varint(int_i32(v)? as i64 as u64),
        Ty::Int64 => Scalar::Varint(int_i64(v)? as u64),
        Ty::Uint32 => Scalar::Varint(u64::from(int_u32(v)?)),
        Ty::Uint64 => Scalar::Varint(int_u64(v)?),
        Ty::Sint32 => {
            let x = int_i32(v)?;
            Scalar::Varint(u64::from(((x << 1) ^ (x >> 31)) as u32))
        }
        Ty::Fixed32 => Scalar::I32(int_u32(v)?),
        Ty::Fixed64 => Scalar::I64(int_u64(v)?),
        Ty::Sfixed64 => Scalar::I64(int_i64(v)? as u64),
        Ty::Double => Scalar::I64(double(v)?.to_bits()),
        Ty::Enum(names) => match v {
            J::String(s) => match names.iter().find(|(n, _)| n == s) {
                Some((_, x)) => Scalar::Varint(*x as i64 as u64),
                None => match s.parse::<i32>() {
                    Ok(x) => Scalar::Varint(x as i64 as u64),
                    Err(_) => return Err(JErr::new(format!("unknown enum value {s:?}"))),
                },
            },
            _ => Scalar::Varint(int_i32(v)? as i64 as u64),
        },
        Ty::Msg(_) => return Err(JErr::new("expected an object")),
    })
}

// ---- protobuf -> JSON ---------------------------------------------------------------------

/// Writes a payload as an OTLP/JSON export request.
pub(crate) fn payload_to_json(p: &Payload) -> Vec<u8> {
    let (msg, _, camel) = schema::resource_x(p.signal());
    let mut out = Vec::with_capacity(p.encoded_len() * 2);
    out.extend_from_slice(b"{\"");
    out.extend_from_slice(camel.as_bytes());
    out.extend_from_slice(b"\":[");
    for (i, e) in p.entries().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_message(&mut out, msg, &Parts::from_pieces(e.pieces()));
    }
    out.extend_from_slice(b"]}");
    out
}

fn write_message(out: &mut Vec<u8>, msg: &Msg, parts: &Parts<'_>) {
    // Occurrences per schema field, with decode semantics applied: a singular scalar keeps
    // its last value, a message accumulates (merge), setting a oneof member clears the others.
    let mut occ: SmallVec<[SmallVec<[W<'_>; 2]>; 16]> =
        SmallVec::from_elem(SmallVec::new(), msg.fields.len());
    for (num, v) in parts.fields() {
        let Some((idx, field)) = msg.field(num) else {
            continue;
        };
        if let Card::Optional(group) = field.card {
            for (j, other) in msg.fields.iter().enumerate() {
                if j != idx && other.card == Card::Optional(group) {
                    occ[j].clear();
                }
            }
        }
        let keep_all = matches!(field.ty, Ty::Msg(_)) || field.card == Card::Repeated;
        if !keep_all {
            occ[idx].clear();
        }
        occ[idx].push(v);
    }
    out.push(b'{');
    let mut first = true;
    for (field, vals) in msg.fields.iter().zip(occ.iter()) {
        let Some(last) = vals.last() else {
            continue;
        };
        if field.card == Card::Single && !matches!(field.ty, Ty::Msg(_)) && is_default_wire(last) {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.push(b'"');
        out.extend_from_slice(field.json.as_bytes());
        out.extend_from_slice(b"\":");
        match (&field.ty, field.card) {
            (Ty::Msg(m), Card::Repeated) => {
                out.push(b'[');
                for (i, v) in vals.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    if let W::Len(b) = v {
                        write_message(out, m, &Parts::one(b));
                    }
                }
                out.push(b']');
            }
            (Ty::Msg(m), _) => {
                let mut merged = Parts::default();
                for v in vals {
                    if let W::Len(b) = v {
                        merged.push(b);
                    }
                }
                write_message(out, m, &merged);
            }
            (ty, Card::Repeated) => {
                out.push(b'[');
                let mut first = true;
                for v in vals {
                    for_each_element(ty, *v, |x| {
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        write_scalar(out, field, x);
                    });
                }
                out.push(b']');
            }
            _ => write_scalar(out, field, *last),
        }
    }
    out.push(b'}');
}

fn is_default_wire(v: &W<'_>) -> bool {
    match v {
        W::Varint(x) | W::I64(x) => *x == 0,
        W::I32(x) => *x == 0,
        W::Len(b) => b.is_empty(),
        W::Group => true,
    }
}

/// Calls `f` for each element of a repeated scalar occurrence, expanding packed ones.
fn for_each_element<'a>(ty: &Ty, v: W<'a>, mut f: impl FnMut(W<'a>)) {
    match (ty, v) {
        (Ty::Fixed64 | Ty::Sfixed64 | Ty::Double, W::Len(b)) => {
            for c in b.chunks_exact(8) {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                f(W::I64(u64::from_le_bytes(a)));
            }
        }
        (Ty::Fixed32, W::Len(b)) => {
            for c in b.chunks_exact(4) {
                let mut a = [0u8; 4];
                a.copy_from_slice(c);
                f(W::I32(u32::from_le_bytes(a)));
            }
        }
        (Ty::Str | Ty::Bytes | Ty::Id, v) => f(v),
        (_, W::Len(b)) => {
            let mut r = wire::Reader::new(b, 0);
            while let Ok(x) = r.varint() {
                f(W::Varint(x));
            }
        }
        (_, v) => f(v),
    }
}

fn write_scalar(out: &mut Vec<u8>, field: &Field, v: W<'_>) {
    use std::io::Write as _;
    match (&field.ty, v) {
        (Ty::Str, W::Len(b)) => write_json_string(out, super::view::as_str(b)),
        (Ty::Bytes, W::Len(b)) => {
            out.push(b'"');
            out.extend_from_slice(
                base64::engine::general_purpose::STANDARD
                    .encode(b)
                    .as_bytes(),
            );
            out.push(b'"');
        }
        (Ty::Id, W::Len(b)) => {
            out.push(b'"');
            out.extend_from_slice(const_hex::encode(b).as_bytes());
            out.push(b'"');
        }
        (Ty::Bool, W::Varint(x)) => out.extend_from_slice(if x != 0 { b"true" } else { b"false" }),
        (Ty::Int32 | Ty::Enum(_), W::Varint(x)) => {
            let _ = write!(out, "{}", x as i32);
        }
        (Ty::Uint32, W::Varint(x)) => {
            let _ = write!(out, "{}", x as u32);
        }
        (Ty::Sint32, W::Varint(x)) => {
            let x = x as u32;
            let _ = write!(out, "{}", ((x >> 1) as i32) ^ -((x & 1) as i32));
        }
        (Ty::Int64, W::Varint(x)) => {
            let _ = write!(out, "\"{}\"", x as i64);
        }
        (Ty::Uint64, W::Varint(x)) => {
            let _ = write!(out, "\"{x}\"");
        }
        (Ty::Fixed32, W::I32(x)) => {
            let _ = write!(out, "{x}");
        }
        (Ty::Fixed64, W::I64(x)) => {
            let _ = write!(out, "\"{x}\"");
        }
        (Ty::Sfixed64, W::I64(x)) => {
            let _ = write!(out, "\"{}\"", x as i64);
        }
        (Ty::Double, W::I64(x)) => write_double(out, f64::from_bits(x)),
        // Validated input never has other combinations; write a neutral value.
        _ => out.extend_from_slice(b"null"),
    }
}

fn write_double(out: &mut Vec<u8>, d: f64) {
    use std::io::Write as _;
    if d.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if d.is_infinite() {
        out.extend_from_slice(if d > 0.0 {
            b"\"Infinity\""
        } else {
            b"\"-Infinity\""
        });
    } else {
        // `{:?}` is the shortest representation that round-trips, with an exponent for
        // very large or small values: valid JSON either way.
        let _ = write!(out, "{d:?}");
    }
}

/// Writes `s` as a JSON string literal.
pub(crate) fn write_json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters() {
        let mut out = Vec::new();
        write_json_string(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a\\\"b\\\\c\\nd\\u0001é\""
        );
    }

    #[test]
    fn error_names_the_json_path() {
        let json = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}"#;
        let err = json_to_proto(Signal::Traces, json).unwrap_err();
        assert!(
            err.message()
                .contains("resourceSpans[0].scopeSpans[0].spans[0].traceId"),
            "{err}"
        );
    }
}
