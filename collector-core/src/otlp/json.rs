//! OTLP/JSON out, driven by the schema table (the way in is `json_in.rs`).
//!
//! lowerCamelCase keys, 64-bit integers as strings, ids as lowercase hex, bytes as
//! base64, enums as integers, default scalars omitted; written from the views of a
//! validated payload, with prost's merge semantics for repeated singular fields.

use base64::Engine as _;
use smallvec::SmallVec;

use super::payload::Payload;
use super::schema::{self, Card, Field, Msg, Ty};
use super::view::Parts;
use super::wire::{self, Value as W};

// ---- protobuf -> JSON ---------------------------------------------------------------------

impl Payload {
    /// The payload as an OTLP/JSON export request (lowerCamelCase keys, 64-bit integers as
    /// strings, ids as lowercase hex, enums as integers).
    pub fn to_json(&self) -> Vec<u8> {
        let (msg, _, camel) = schema::resource_x(self.signal());
        let mut out = Vec::with_capacity(self.encoded_len() * 2);
        out.extend_from_slice(b"{\"");
        out.extend_from_slice(camel.as_bytes());
        out.extend_from_slice(b"\":[");
        for (i, e) in self.entries().iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_message(&mut out, msg, &Parts::from_pieces(e.pieces()));
        }
        out.extend_from_slice(b"]}");
        out
    }
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
}
