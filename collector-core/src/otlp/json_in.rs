//! OTLP/JSON in: a streaming transcode to the protobuf wire form, driven by the schema
//! table, with no intermediate tree.
//!
//! `serde_json`'s deserializer is driven with seeds and visitors of our own: each JSON
//! object is matched against a [`Msg`] of the schema and its fields are written as protobuf
//! straight into one output buffer as they are read. A nested message gets a one-byte length
//! placeholder that is backfilled when the message ends (the body is shifted in the rare case
//! its length needs more than one byte). Unknown keys are skipped without allocating (see
//! [`Skip`] for why not with `IgnoredAny`); keys are matched against the schema as borrowed `&str` (or
//! `serde_json`'s unescaped copy when the key has escapes), never as owned strings.
//!
//! Accepted, as the Go collector's pdata decoder: lowerCamelCase or snake_case keys, enums as
//! names or integers (also integers in strings), 64-bit integers as numbers or strings, ids
//! as hex in either case (16 or 8 bytes, or empty), doubles also as `"NaN"`, `"Infinity"` and
//! `"-Infinity"`, `null` as absent, unknown keys ignored. The result is validated like any
//! received request by the caller.
//!
//! Fields are written in document order. Protobuf allows any order, and validation, views
//! and every reader apply decode semantics (the last occurrence of a scalar wins, messages
//! merge, a oneof keeps its last member), so where the document is unambiguous the meaning
//! is that of the old tree-based decoder. Where it is not, streaming differs from a tree
//! (which kept one value per key):
//!
//! - a key given twice in one object, or given in both spellings (`traceId` and
//!   `trace_id`), is written twice: an implicit-presence scalar keeps its last value (a later
//!   default or `null` is written explicitly so that it wins), a message merges its
//!   occurrences, a repeated field concatenates them, an explicit-presence scalar keeps its
//!   last value and a later `null` does not unset it; the tree kept the camelCase value, or the
//!   last one for a repeated key, whole;
//! - two members of a oneof (`{"stringValue":"a","intValue":1}`) keep the one that comes
//!   last in the document; the tree kept the last in schema order;
//! - every occurrence is checked, so an invalid value that a later duplicate would have
//!   replaced in a tree is an error;
//! - a document that is both malformed JSON and invalid OTLP reports whichever problem comes
//!   first (the tree always reported the JSON syntax error).
//!
//! Memory: the output buffer is the only thing that grows with the input. It is reserved on
//! the budget before it grows (refusal is [`ErrorKind::Retryable`]) and may never exceed four
//! times the body plus 64 KiB ([`ErrorKind::InvalidData`]: valid OTLP/JSON cannot get there,
//! the densest field, a packed double array of `0`s, is four times its JSON). The one other
//! buffer is `serde_json`'s scratch, which holds the longest string with escapes (accounted
//! when seen) or a number too long for 64 bits; it is bounded by the body. Nesting is bounded by
//! `serde_json`'s recursion limit (128), so hostile depth is an error, not a stack overflow.

use std::fmt;

use base64::Engine as _;
use bytes::Bytes;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::payload::Payload;
use super::schema::{self, Card, Field, Msg, Ty};
use super::wire::{self, WireType};
use crate::memory::{Budget, Reservation};
use crate::{Error, ErrorKind, Signal};

/// What the output may grow to, beyond four times the JSON body.
const SLACK: usize = 64 << 10;
/// The first allocation, and the smallest step the output grows by.
const MIN_STEP: usize = 8 << 10;
/// Values quoted in error messages are cut to this many characters.
const QUOTE_MAX: usize = 64;

/// The protobuf form of an OTLP/JSON request (not yet validated), with the reservation that
/// accounts for it when decoding was accounted.
#[derive(Debug)]
pub(crate) struct Transcoded {
    pub(crate) buf: Vec<u8>,
    pub(crate) reservation: Option<Reservation>,
}

/// Transcodes an OTLP/JSON export request to protobuf in one pass, the output accounted on
/// `budget` (when given) before it grows.
///
/// # Errors
///
/// [`ErrorKind::InvalidData`] naming the JSON path of the problem;
/// [`ErrorKind::Retryable`] when the budget refuses the output.
pub(crate) fn json_to_proto(
    signal: Signal,
    json: &[u8],
    budget: Option<&Budget>,
) -> Result<Transcoded, Error> {
    let max = json.len().saturating_mul(4).saturating_add(SLACK);
    transcode(signal, json, budget, max)
}

impl Payload {
    /// Parses an OTLP/JSON export request (camelCase or snake_case keys, enum names or
    /// integers, 64-bit integers as strings or numbers, hex ids in either case; unknown
    /// fields ignored), transcoding it to protobuf in one pass without building a tree.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidData`] naming the JSON path, also when the protobuf form would be
    /// larger than four times the JSON plus 64 KiB (valid OTLP/JSON never is).
    pub fn from_json(signal: Signal, json: &[u8]) -> Result<Payload, Error> {
        let t = json_to_proto(signal, json, None)?;
        Payload::decode(signal, Bytes::from(t.buf))
    }

    /// As [`from_json`](Self::from_json), with the protobuf buffer reserved on `budget` as it
    /// grows (before each growth) and accounted for as long as the payload's bytes live.
    ///
    /// # Errors
    ///
    /// As [`from_json`](Self::from_json), and [`ErrorKind::Retryable`] when the budget
    /// refuses the output.
    pub(crate) fn from_json_accounted(
        signal: Signal,
        json: &[u8],
        budget: &Budget,
    ) -> Result<Payload, Error> {
        let t = json_to_proto(signal, json, Some(budget))?;
        let reservation = match t.reservation {
            Some(r) => r,
            None => budget.force_reserve(t.buf.len()),
        };
        Payload::decode(signal, crate::memory::accounted(t.buf, reservation))
    }
}

/// [`json_to_proto`] with the output limited to `max` bytes.
fn transcode(
    signal: Signal,
    json: &[u8],
    budget: Option<&Budget>,
    max: usize,
) -> Result<Transcoded, Error> {
    let reservation = match budget {
        Some(b) => Some(b.try_reserve(0).ok_or_else(JErr::refused)?),
        None => None,
    };
    let mut cx = Cx {
        out: Out {
            buf: Vec::new(),
            reservation,
            max,
            scratch: 0,
        },
        err: None,
    };
    let mut de = serde_json::Deserializer::from_slice(json);
    let seed = RequestSeed {
        cx: &mut cx,
        msg: schema::request(signal),
    };
    let parsed = seed.deserialize(&mut de).and_then(|()| de.end());
    if let Err(e) = parsed {
        return Err(match cx.err.take() {
            Some(err) => err.into_error(),
            None => Error::new(ErrorKind::InvalidData, format!("invalid OTLP/JSON: {e}")),
        });
    }
    let mut buf = cx.out.buf;
    // The slack of the last doubling would stay allocated (and unaccounted once the
    // reservation shrinks to the length) for as long as the payload lives.
    buf.shrink_to_fit();
    Ok(Transcoded {
        buf,
        reservation: cx.out.reservation,
    })
}

// ---- errors -------------------------------------------------------------------------------

#[derive(Debug)]
enum Seg {
    Field(&'static str),
    Index(usize),
}

/// A problem and the path to it, innermost segment first.
#[derive(Debug)]
struct JErr {
    kind: ErrorKind,
    path: Vec<Seg>,
    msg: String,
}

impl JErr {
    #[cold]
    fn new(msg: impl Into<String>) -> JErr {
        JErr {
            kind: ErrorKind::InvalidData,
            path: Vec::new(),
            msg: msg.into(),
        }
    }

    #[cold]
    fn refused() -> JErr {
        JErr {
            kind: ErrorKind::Retryable,
            path: Vec::new(),
            msg: "data refused due to high memory usage".to_owned(),
        }
    }

    fn into_error(self) -> Error {
        if self.kind != ErrorKind::InvalidData {
            return Error::new(self.kind, self.msg);
        }
        let mut p = String::new();
        for s in self.path.iter().rev() {
            match s {
                Seg::Field(f) => {
                    if !p.is_empty() {
                        p.push('.');
                    }
                    p.push_str(f);
                }
                Seg::Index(i) => p.push_str(&format!("[{i}]")),
            }
        }
        let msg = if p.is_empty() {
            format!("invalid OTLP/JSON: {}", self.msg)
        } else {
            format!("invalid OTLP/JSON: {p}: {}", self.msg)
        };
        Error::new(ErrorKind::InvalidData, msg)
    }
}

impl From<JErr> for Error {
    fn from(e: JErr) -> Error {
        e.into_error()
    }
}

/// `s` quoted for an error message, cut short: a hostile value must not make the error as
/// large as the body (or, escaped, larger).
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.char_indices().nth(QUOTE_MAX) {
            Some((at, _)) => write!(f, "{:?}...", &self.0[..at]),
            None => write!(f, "{:?}", self.0),
        }
    }
}

// ---- output -------------------------------------------------------------------------------

/// The protobuf being written, grown on the budget.
struct Out {
    buf: Vec<u8>,
    reservation: Option<Reservation>,
    max: usize,
    /// The longest string `serde_json` had to copy into its scratch buffer (escapes).
    scratch: usize,
}

impl Out {
    /// Makes room for `n` more bytes: reserved on the budget before the buffer grows.
    #[inline]
    fn room(&mut self, n: usize) -> Result<(), JErr> {
        if self.buf.capacity() - self.buf.len() >= n {
            return Ok(());
        }
        self.grow(n)
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, n: usize) -> Result<(), JErr> {
        let need = self.buf.len().saturating_add(n);
        if need > self.max {
            return Err(JErr::new(
                "the request's protobuf form would exceed four times its JSON plus 64 KiB",
            ));
        }
        let cap = need
            .max(self.buf.capacity().saturating_mul(2))
            .max(MIN_STEP)
            .min(self.max);
        self.account(cap, self.scratch)?;
        self.buf.reserve_exact(cap - self.buf.len());
        Ok(())
    }

    /// Grows the reservation to cover a buffer of `cap` bytes and a scratch of `scratch`.
    fn account(&mut self, cap: usize, scratch: usize) -> Result<(), JErr> {
        if let Some(r) = &mut self.reservation {
            let want = cap.saturating_add(scratch);
            if want > r.bytes() && !r.try_grow(want - r.bytes()) {
                return Err(JErr::refused());
            }
        }
        Ok(())
    }

    /// Accounts `serde_json`'s scratch buffer, which has just held a string of `len` bytes.
    #[inline]
    fn note_scratch(&mut self, len: usize) -> Result<(), JErr> {
        if len > self.scratch {
            self.account(self.buf.capacity(), len)?;
            self.scratch = len;
        }
        Ok(())
    }

    /// Writes a key (the caller has made room).
    #[inline]
    fn key(&mut self, num: u32, wt: WireType) {
        wire::put_key(&mut self.buf, num, wt);
    }

    /// Starts a length-delimited body: a one-byte length placeholder, at the returned offset.
    #[inline]
    fn begin_len(&mut self) -> usize {
        let at = self.buf.len();
        self.buf.push(0);
        at
    }

    /// Backfills the length of the body started at `at`, shifting the body when the length
    /// takes more than one byte.
    fn end_len(&mut self, at: usize) -> Result<(), JErr> {
        let body = self.buf.len() - at - 1;
        if body < 0x80 {
            self.buf[at] = body as u8;
            return Ok(());
        }
        let n = wire::varint_len(body as u64);
        self.room(n - 1)?;
        let end = self.buf.len();
        self.buf.resize(end + n - 1, 0);
        self.buf.copy_within(at + 1..end, at + n);
        let mut v = body as u64;
        for b in &mut self.buf[at..at + n] {
            *b = (v as u8 & 0x7f) | 0x80;
            v >>= 7;
        }
        self.buf[at + n - 1] &= 0x7f;
        Ok(())
    }
}

/// What the seeds of one transcode share.
struct Cx {
    out: Out,
    /// Our own error, when the `serde_json` error passing up the stack stands for one.
    err: Option<JErr>,
}

impl Cx {
    /// Records `e` and returns the `serde_json` error that carries it up the stack.
    #[cold]
    fn fail<E: de::Error>(&mut self, e: JErr) -> E {
        self.err = Some(e);
        E::custom("invalid OTLP/JSON")
    }

    /// Adds a path segment to our error on its way up; JSON syntax errors pass untouched.
    #[cold]
    fn at<E>(&mut self, e: E, seg: Seg) -> E {
        if let Some(err) = &mut self.err {
            err.path.push(seg);
        }
        e
    }

    fn check<T, E: de::Error>(&mut self, r: Result<T, JErr>) -> Result<T, E> {
        r.map_err(|e| self.fail(e))
    }
}

// ---- a JSON value, dispatched on its type ---------------------------------------------------

/// A JSON scalar as the deserializer reports it.
#[derive(Clone, Copy, Debug)]
enum Prim<'a> {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(&'a str),
    /// An object or an array where a scalar was expected.
    Compound,
}

/// What to do with a JSON value of each type; [`Any`] makes a [`Visitor`] of it.
trait Handler<'de>: Sized {
    type Value;
    fn cx(&mut self) -> &mut Cx;
    fn prim<E: de::Error>(self, p: Prim<'_>) -> Result<Self::Value, E>;
    fn map<A: MapAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error>;
    fn seq<A: SeqAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error>;
}

struct Any<H>(H);

impl<'de, H: Handler<'de>> Visitor<'de> for Any<H> {
    type Value = H::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an OTLP/JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<H::Value, E> {
        self.0.prim(Prim::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<H::Value, E> {
        self.0.prim(Prim::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<H::Value, E> {
        self.0.prim(Prim::Bool(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<H::Value, E> {
        self.0.prim(Prim::U64(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<H::Value, E> {
        self.0.prim(Prim::I64(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<H::Value, E> {
        self.0.prim(Prim::F64(v))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<H::Value, E> {
        self.0.prim(Prim::Str(v))
    }

    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<H::Value, E> {
        // Not borrowed: serde_json unescaped it into its scratch buffer.
        let cx = self.0.cx();
        let r = cx.out.note_scratch(v.len());
        cx.check(r)?;
        self.0.prim(Prim::Str(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<H::Value, A::Error> {
        self.0.map(a)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, a: A) -> Result<H::Value, A::Error> {
        self.0.seq(a)
    }
}

// ---- keys ---------------------------------------------------------------------------------

/// Matches an object key against the fields of a message: `Some(index)` or `None` (unknown).
struct KeySeed<'c> {
    cx: &'c mut Cx,
    fields: &'static [Field],
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, k: &'de str) -> Result<Option<usize>, E> {
        Ok(find(self.fields, k))
    }

    fn visit_str<E: de::Error>(self, k: &str) -> Result<Option<usize>, E> {
        let r = self.cx.out.note_scratch(k.len());
        self.cx.check(r)?;
        Ok(find(self.fields, k))
    }
}

#[inline]
fn find(fields: &[Field], k: &str) -> Option<usize> {
    fields.iter().position(|f| f.json == k || f.name == k)
}

// ---- unknown values ---------------------------------------------------------------------------

/// Skips a value of an unknown key. Not `IgnoredAny`: `serde_json` skips those without a
/// depth limit, keeping a byte per open bracket in its scratch buffer, so `{"x":[[[[...` an
/// 18 MiB deep would cost 18 MiB off the budget and be accepted where the tree refused it.
/// Going through `deserialize_any` keeps the recursion limit; scalars are dropped as they
/// are read, and an escaped string (copied into the scratch buffer) is accounted.
struct Skip<'c> {
    cx: &'c mut Cx,
}

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(Any(self))
    }
}

impl<'de> Handler<'de> for Skip<'_> {
    type Value = ();

    fn cx(&mut self) -> &mut Cx {
        self.cx
    }

    fn prim<E: de::Error>(self, _: Prim<'_>) -> Result<(), E> {
        Ok(())
    }

    fn map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        while a
            .next_key_seed(KeySeed {
                cx: &mut *self.cx,
                fields: &[],
            })?
            .is_some()
        {
            a.next_value_seed(Skip { cx: &mut *self.cx })?;
        }
        Ok(())
    }

    fn seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        while a.next_element_seed(Skip { cx: &mut *self.cx })?.is_some() {}
        Ok(())
    }
}

// ---- the request ----------------------------------------------------------------------------

/// The top-level object: the export request message.
struct RequestSeed<'c> {
    cx: &'c mut Cx,
    msg: &'static Msg,
}

impl<'de> DeserializeSeed<'de> for RequestSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(Any(self))
    }
}

impl<'de> Handler<'de> for RequestSeed<'_> {
    type Value = ();

    fn cx(&mut self) -> &mut Cx {
        self.cx
    }

    fn prim<E: de::Error>(self, _: Prim<'_>) -> Result<(), E> {
        Err(self.cx.fail(JErr::new("the request is not a JSON object")))
    }

    fn seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.cx.fail(JErr::new("the request is not a JSON object")))
    }

    fn map<A: MapAccess<'de>>(self, a: A) -> Result<(), A::Error> {
        message_body(self.cx, self.msg, a)
    }
}

// ---- messages and fields ----------------------------------------------------------------------

/// Writes the fields of a JSON object into the current message body.
fn message_body<'de, A: MapAccess<'de>>(
    cx: &mut Cx,
    msg: &'static Msg,
    mut a: A,
) -> Result<(), A::Error> {
    // Implicit-presence scalars written so far in this object: a later default value of one
    // of them must be written too, or the earlier value would win.
    let mut written: u64 = 0;
    loop {
        let key = a.next_key_seed(KeySeed {
            cx: &mut *cx,
            fields: msg.fields,
        })?;
        match key {
            None => return Ok(()),
            Some(None) => a.next_value_seed(Skip { cx: &mut *cx })?,
            Some(Some(idx)) => {
                let field = &msg.fields[idx];
                let bit = 1u64.checked_shl(idx as u32).unwrap_or(0);
                let seed = FieldSeed {
                    cx: &mut *cx,
                    field,
                    // Past 64 fields (none in OTLP) every default is written: correct, larger.
                    overwrite: bit == 0 || written & bit != 0,
                };
                match a.next_value_seed(seed) {
                    Ok(true) => written |= bit,
                    Ok(false) => {}
                    Err(e) => return Err(cx.at(e, Seg::Field(field.json))),
                }
            }
        }
    }
}

/// Writes `{...}` as field `num` of the current message.
fn nested<'de, A: MapAccess<'de>>(
    cx: &mut Cx,
    num: u32,
    msg: &'static Msg,
    a: A,
) -> Result<(), A::Error> {
    let r = cx.out.room(6);
    cx.check(r)?;
    cx.out.key(num, WireType::Len);
    let at = cx.out.begin_len();
    message_body(cx, msg, a)?;
    let r = cx.out.end_len(at);
    cx.check(r)
}

/// The value of one known key. Its value is whether an implicit-presence scalar was written.
struct FieldSeed<'c> {
    cx: &'c mut Cx,
    field: &'static Field,
    /// An earlier occurrence was written: a default value must be written too.
    overwrite: bool,
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(Any(self))
    }
}

impl<'de> Handler<'de> for FieldSeed<'_> {
    type Value = bool;

    fn cx(&mut self) -> &mut Cx {
        self.cx
    }

    fn prim<E: de::Error>(self, p: Prim<'_>) -> Result<bool, E> {
        let f = self.field;
        if f.card == Card::Repeated {
            return match p {
                Prim::Null => Ok(false),
                _ => Err(self.cx.fail(JErr::new("expected an array"))),
            };
        }
        if let Ty::Msg(_) = f.ty {
            return match p {
                Prim::Null => Ok(false),
                _ => Err(self.cx.fail(JErr::new("expected an object"))),
            };
        }
        let keep = match (f.card, p) {
            // `null` is absent; after an earlier value, absent means the default again.
            (Card::Single, Prim::Null) if self.overwrite => {
                let r = write_default(&mut self.cx.out, f);
                self.cx.check(r)?;
                return Ok(true);
            }
            (_, Prim::Null) => return Ok(false),
            (Card::Single, _) => self.overwrite,
            _ => true,
        };
        let r = write_scalar_field(&mut self.cx.out, f, p, keep);
        self.cx.check(r)
    }

    fn map<A: MapAccess<'de>>(self, a: A) -> Result<bool, A::Error> {
        let f = self.field;
        match (f.card, &f.ty) {
            (Card::Repeated, _) => Err(self.cx.fail(JErr::new("expected an array"))),
            (_, Ty::Msg(m)) => nested(self.cx, f.num, m, a).map(|()| false),
            _ => Err(self.cx.fail(scalar_type_error(f))),
        }
    }

    fn seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<bool, A::Error> {
        let f = self.field;
        match (f.card, &f.ty) {
            (Card::Repeated, ty) if ty.packable() => {
                let cx = self.cx;
                let r = cx.out.room(6);
                cx.check(r)?;
                cx.out.key(f.num, WireType::Len);
                let at = cx.out.begin_len();
                let mut i = 0;
                loop {
                    match a.next_element_seed(PackedSeed {
                        cx: &mut *cx,
                        field: f,
                    }) {
                        Ok(Some(())) => i += 1,
                        Ok(None) => break,
                        Err(e) => return Err(cx.at(e, Seg::Index(i))),
                    }
                }
                let r = cx.out.end_len(at);
                cx.check(r)?;
                Ok(false)
            }
            (Card::Repeated, ty) => {
                let cx = self.cx;
                let ty = match ty {
                    Ty::Msg(m) => ElemTy::Msg(m),
                    _ => ElemTy::Scalar(f),
                };
                let mut i = 0;
                loop {
                    let seed = ElemSeed {
                        cx: &mut *cx,
                        num: f.num,
                        ty,
                    };
                    match a.next_element_seed(seed) {
                        Ok(Some(())) => i += 1,
                        Ok(None) => return Ok(false),
                        Err(e) => return Err(cx.at(e, Seg::Index(i))),
                    }
                }
            }
            (_, Ty::Msg(_)) => Err(self.cx.fail(JErr::new("expected an object"))),
            _ => Err(self.cx.fail(scalar_type_error(f))),
        }
    }
}

/// The error for an object or array given to a scalar field.
#[cold]
fn scalar_type_error(f: &Field) -> JErr {
    match to_scalar(f, Prim::Compound) {
        Err(e) => e,
        Ok(_) => JErr::new("expected a scalar"),
    }
}

/// What the elements of a repeated, unpacked field are.
#[derive(Clone, Copy)]
enum ElemTy {
    Msg(&'static Msg),
    /// A string, bytes or id field.
    Scalar(&'static Field),
}

/// One element of a repeated message or string field, written as its own field.
struct ElemSeed<'c> {
    cx: &'c mut Cx,
    num: u32,
    ty: ElemTy,
}

impl<'de> DeserializeSeed<'de> for ElemSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(Any(self))
    }
}

impl<'de> Handler<'de> for ElemSeed<'_> {
    type Value = ();

    fn cx(&mut self) -> &mut Cx {
        self.cx
    }

    fn prim<E: de::Error>(self, p: Prim<'_>) -> Result<(), E> {
        match self.ty {
            ElemTy::Msg(_) => Err(self.cx.fail(JErr::new("expected an object"))),
            ElemTy::Scalar(f) => {
                let r = write_scalar_field(&mut self.cx.out, f, p, true);
                self.cx.check(r).map(drop)
            }
        }
    }

    fn map<A: MapAccess<'de>>(self, a: A) -> Result<(), A::Error> {
        match self.ty {
            ElemTy::Msg(m) => nested(self.cx, self.num, m, a),
            ElemTy::Scalar(f) => Err(self.cx.fail(scalar_type_error(f))),
        }
    }

    fn seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        match self.ty {
            ElemTy::Msg(_) => Err(self.cx.fail(JErr::new("expected an object"))),
            ElemTy::Scalar(f) => Err(self.cx.fail(scalar_type_error(f))),
        }
    }
}

/// One element of a packed repeated scalar: written without a key.
struct PackedSeed<'c> {
    cx: &'c mut Cx,
    field: &'static Field,
}

impl<'de> DeserializeSeed<'de> for PackedSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(Any(self))
    }
}

impl<'de> Handler<'de> for PackedSeed<'_> {
    type Value = ();

    fn cx(&mut self) -> &mut Cx {
        self.cx
    }

    fn prim<E: de::Error>(self, p: Prim<'_>) -> Result<(), E> {
        let r = to_scalar(self.field, p).and_then(|s| {
            self.cx.out.room(10)?;
            s.write_raw(&mut self.cx.out.buf);
            Ok(())
        });
        self.cx.check(r)
    }

    fn map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.cx.fail(scalar_type_error(self.field)))
    }

    fn seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.cx.fail(scalar_type_error(self.field)))
    }
}

// ---- scalars --------------------------------------------------------------------------------

/// A number-like scalar, ready to write.
#[derive(Clone, Copy, Debug)]
enum Scalar {
    Varint(u64),
    I64(u64),
    I32(u32),
}

impl Scalar {
    fn is_default(self) -> bool {
        match self {
            Scalar::Varint(v) | Scalar::I64(v) => v == 0,
            Scalar::I32(v) => v == 0,
        }
    }

    fn wire_type(self) -> WireType {
        match self {
            Scalar::Varint(_) => WireType::Varint,
            Scalar::I64(_) => WireType::I64,
            Scalar::I32(_) => WireType::I32,
        }
    }

    /// Writes the value without a key (room for 10 bytes must have been made).
    #[inline]
    fn write_raw(self, out: &mut Vec<u8>) {
        match self {
            Scalar::Varint(v) => wire::put_varint(out, v),
            Scalar::I64(v) => out.extend_from_slice(&v.to_le_bytes()),
            Scalar::I32(v) => out.extend_from_slice(&v.to_le_bytes()),
        }
    }
}

/// Writes field `f` with the JSON scalar `p`. A default value is written only when `keep`.
/// Returns whether something was written.
fn write_scalar_field(out: &mut Out, f: &Field, p: Prim<'_>, keep: bool) -> Result<bool, JErr> {
    match f.ty {
        Ty::Str => {
            let s = string(p)?;
            if s.is_empty() && !keep {
                return Ok(false);
            }
            out.room(15 + s.len())?;
            out.key(f.num, WireType::Len);
            wire::put_varint(&mut out.buf, s.len() as u64);
            out.buf.extend_from_slice(s.as_bytes());
            Ok(true)
        }
        Ty::Bytes => {
            let s = string(p)?;
            let est = base64::decoded_len_estimate(s.len());
            out.room(15 + est)?;
            let start = out.buf.len();
            out.key(f.num, WireType::Len);
            let at = out.begin_len();
            let body = out.buf.len();
            out.buf.resize(body + est, 0);
            let n = match base64::engine::general_purpose::STANDARD
                .decode_slice(s, &mut out.buf[body..])
            {
                Ok(n) => n,
                Err(base64::DecodeSliceError::DecodeError(e)) => {
                    return Err(JErr::new(format!("invalid base64: {e}")));
                }
                Err(e) => return Err(JErr::new(format!("invalid base64: {e}"))),
            };
            out.buf.truncate(body + n);
            if n == 0 && !keep {
                out.buf.truncate(start);
                return Ok(false);
            }
            out.end_len(at)?;
            Ok(true)
        }
        Ty::Id => {
            let s = string(p)?;
            let want = if f.name == "trace_id" { 16 } else { 8 };
            let (id, n) = hex_id(s, want)?;
            if n == 0 && !keep {
                return Ok(false);
            }
            out.room(6 + n)?;
            out.key(f.num, WireType::Len);
            out.buf.push(n as u8);
            out.buf.extend_from_slice(&id[..n]);
            Ok(true)
        }
        _ => {
            let s = to_scalar(f, p)?;
            if s.is_default() && !keep {
                return Ok(false);
            }
            out.room(15)?;
            out.key(f.num, s.wire_type());
            s.write_raw(&mut out.buf);
            Ok(true)
        }
    }
}

/// Writes the default value of an implicit-presence scalar field explicitly.
fn write_default(out: &mut Out, f: &Field) -> Result<(), JErr> {
    out.room(15)?;
    let wt = match f.ty {
        Ty::Str | Ty::Bytes | Ty::Id => WireType::Len,
        Ty::Fixed64 | Ty::Sfixed64 | Ty::Double => WireType::I64,
        Ty::Fixed32 => WireType::I32,
        _ => WireType::Varint,
    };
    out.key(f.num, wt);
    match wt {
        WireType::I64 => out.buf.extend_from_slice(&[0; 8]),
        WireType::I32 => out.buf.extend_from_slice(&[0; 4]),
        _ => out.buf.push(0),
    }
    Ok(())
}

/// Decodes a hex id (an optional `0x` prefix, either case) of `want` bytes or empty.
fn hex_id(s: &str, want: usize) -> Result<([u8; 16], usize), JErr> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err(JErr::new(format!(
            "invalid hex id: {}",
            const_hex::FromHexError::OddLength
        )));
    }
    let digits = match b {
        [b'0', b'x' | b'X', rest @ ..] => rest,
        _ => b,
    };
    let n = digits.len() / 2;
    let mut id = [0u8; 16];
    if n <= id.len() {
        const_hex::decode_to_slice(s, &mut id[..n])
            .map_err(|e| JErr::new(format!("invalid hex id: {e}")))?;
    } else if let Some(index) = digits.iter().position(|c| !c.is_ascii_hexdigit()) {
        // Too long either way; say what a full decode would have said first.
        let e = const_hex::FromHexError::InvalidHexCharacter {
            c: digits[index] as char,
            index,
        };
        return Err(JErr::new(format!("invalid hex id: {e}")));
    }
    if n != 0 && n != want {
        return Err(JErr::new(format!(
            "id of {n} bytes (expected {want} or empty)"
        )));
    }
    Ok((id, n))
}

/// The number as `serde_json` prints it, for error messages.
fn number(p: Prim<'_>) -> String {
    match p {
        Prim::U64(v) => v.to_string(),
        Prim::I64(v) => v.to_string(),
        Prim::F64(v) => {
            serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string())
        }
        _ => String::new(),
    }
}

fn int_i64(p: Prim<'_>) -> Result<i64, JErr> {
    match p {
        Prim::I64(v) => Ok(v),
        Prim::U64(v) => {
            i64::try_from(v).map_err(|_| JErr::new(format!("{v} is not a 64-bit integer")))
        }
        Prim::F64(_) => Err(JErr::new(format!("{} is not a 64-bit integer", number(p)))),
        Prim::Str(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| JErr::new(format!("{} is not a 64-bit integer", Quoted(s)))),
        _ => Err(JErr::new("expected an integer")),
    }
}

fn int_u64(p: Prim<'_>) -> Result<u64, JErr> {
    match p {
        Prim::U64(v) => Ok(v),
        Prim::I64(_) | Prim::F64(_) => Err(JErr::new(format!(
            "{} is not an unsigned 64-bit integer",
            number(p)
        ))),
        Prim::Str(s) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| JErr::new(format!("{} is not an unsigned 64-bit integer", Quoted(s)))),
        _ => Err(JErr::new("expected an integer")),
    }
}

fn int_i32(p: Prim<'_>) -> Result<i32, JErr> {
    let x = int_i64(p)?;
    i32::try_from(x).map_err(|_| JErr::new(format!("{x} does not fit in 32 bits")))
}

fn int_u32(p: Prim<'_>) -> Result<u32, JErr> {
    let x = int_u64(p)?;
    u32::try_from(x).map_err(|_| JErr::new(format!("{x} does not fit in 32 bits")))
}

fn double(p: Prim<'_>) -> Result<f64, JErr> {
    match p {
        Prim::U64(v) => Ok(v as f64),
        Prim::I64(v) => Ok(v as f64),
        Prim::F64(v) => Ok(v),
        Prim::Str("NaN") => Ok(f64::NAN),
        Prim::Str("Infinity") => Ok(f64::INFINITY),
        Prim::Str("-Infinity") => Ok(f64::NEG_INFINITY),
        Prim::Str(s) => s
            .parse::<f64>()
            .map_err(|_| JErr::new(format!("{} is not a number", Quoted(s)))),
        _ => Err(JErr::new("expected a number")),
    }
}

fn string(p: Prim<'_>) -> Result<&str, JErr> {
    match p {
        Prim::Str(s) => Ok(s),
        _ => Err(JErr::new("expected a string")),
    }
}

/// Converts a JSON scalar for a number-like field (not a string, bytes or id field).
fn to_scalar(f: &Field, p: Prim<'_>) -> Result<Scalar, JErr> {
    Ok(match &f.ty {
        Ty::Str | Ty::Bytes | Ty::Id => {
            string(p)?;
            return Err(JErr::new("expected a scalar"));
        }
        Ty::Bool => match p {
            Prim::Bool(b) => Scalar::Varint(u64::from(b)),
            _ => return Err(JErr::new("expected true or false")),
        },
        Ty::Int32 => Scalar::Varint(int_i32(p)? as i64 as u64),
        Ty::Int64 => Scalar::Varint(int_i64(p)? as u64),
        Ty::Uint32 => Scalar::Varint(u64::from(int_u32(p)?)),
        Ty::Uint64 => Scalar::Varint(int_u64(p)?),
        Ty::Sint32 => {
            let x = int_i32(p)?;
            Scalar::Varint(u64::from(((x << 1) ^ (x >> 31)) as u32))
        }
        Ty::Fixed32 => Scalar::I32(int_u32(p)?),
        Ty::Fixed64 => Scalar::I64(int_u64(p)?),
        Ty::Sfixed64 => Scalar::I64(int_i64(p)? as u64),
        Ty::Double => Scalar::I64(double(p)?.to_bits()),
        Ty::Enum(names) => match p {
            Prim::Str(s) => match names.iter().find(|(n, _)| *n == s) {
                Some((_, x)) => Scalar::Varint(*x as i64 as u64),
                None => match s.parse::<i32>() {
                    Ok(x) => Scalar::Varint(x as i64 as u64),
                    Err(_) => {
                        return Err(JErr::new(format!("unknown enum value {}", Quoted(s))));
                    }
                },
            },
            _ => Scalar::Varint(int_i32(p)? as i64 as u64),
        },
        Ty::Msg(_) => return Err(JErr::new("expected an object")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traces(json: &str) -> Result<Payload, Error> {
        Payload::from_json(Signal::Traces, json.as_bytes())
    }

    /// The first span's field `name` as JSON, through our writer.
    fn span_json(p: &Payload) -> String {
        let out = String::from_utf8(p.to_json()).unwrap();
        let at = out.find("\"spans\":[").unwrap();
        out[at..].to_owned()
    }

    /// A valid request of `spans` spans with a few attributes each (about 300 bytes a span).
    fn big_request(spans: usize) -> String {
        let span = r#"{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"GET /api/users","kind":2,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000","attributes":[{"key":"http.method","value":{"stringValue":"GET"}},{"key":"http.status_code","value":{"intValue":"200"}},{"key":"net.peer.name","value":{"stringValue":"10.0.0.1"}}]}"#;
        let spans = vec![span; spans].join(",");
        format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{spans}]}}]}}]}}"#)
    }

    #[test]
    fn error_names_the_json_path() {
        let json = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}"#;
        let err = json_to_proto(Signal::Traces, json, None).unwrap_err();
        assert_eq!(
            err.message(),
            "invalid OTLP/JSON: resourceSpans[0].scopeSpans[0].spans[0].traceId: \
             invalid hex id: invalid character 'z' at position 0"
        );
        let json = br#"{"resourceSpans":[{"scopeSpans":[{},{"spans":[{},{"attributes":[{"key":"k","value":{"arrayValue":{"values":[{"intValue":"x"}]}}}]}]}]}]}"#;
        let err = json_to_proto(Signal::Traces, json, None).unwrap_err();
        assert_eq!(
            err.message(),
            "invalid OTLP/JSON: resourceSpans[0].scopeSpans[1].spans[1].attributes[0].value.\
             arrayValue.values[0].intValue: \"x\" is not a 64-bit integer"
        );
        let json = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"dataPoints":[{"explicitBounds":[1,"x"]}]}}]}]}]}"#;
        let err = json_to_proto(Signal::Metrics, json, None).unwrap_err();
        assert!(
            err.message()
                .ends_with("dataPoints[0].explicitBounds[1]: \"x\" is not a number"),
            "{err}"
        );
    }

    #[test]
    fn type_errors_say_what_was_expected() {
        let cases = [
            (
                r#"{"resourceSpans":{}}"#,
                "resourceSpans: expected an array",
            ),
            (
                r#"{"resourceSpans":[1]}"#,
                "resourceSpans[0]: expected an object",
            ),
            (
                r#"{"resourceSpans":[null]}"#,
                "resourceSpans[0]: expected an object",
            ),
            (
                r#"{"resourceSpans":[{"resource":[]}]}"#,
                "resource: expected an object",
            ),
            (
                r#"{"resourceSpans":[{"schemaUrl":{}}]}"#,
                "schemaUrl: expected a string",
            ),
            (
                r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":[]}]}]}]}"#,
                "kind: expected an integer",
            ),
            (
                r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"flags":-1}]}]}]}"#,
                "flags: -1 is not an unsigned 64-bit integer",
            ),
            (
                r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"flags":1.5}]}]}]}"#,
                "flags: 1.5 is not an unsigned 64-bit integer",
            ),
            (
                r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"droppedLinksCount":4294967296}]}]}]}"#,
                "4294967296 does not fit in 32 bits",
            ),
            (
                r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"status":{"code":"NOPE"}}]}]}]}"#,
                "status.code: unknown enum value \"NOPE\"",
            ),
            (
                r#"{"resourceSpans":[{"resource":{"entityRefs":[{"idKeys":[null]}]}}]}"#,
                "idKeys[0]: expected a string",
            ),
            (
                r#"{"resourceSpans":[{"resource":{"attributes":[{"value":{"bytesValue":"!"}}]}}]}"#,
                "bytesValue: invalid base64",
            ),
            (
                r#"{"resourceSpans":[{"resource":{"attributes":[{"value":{"boolValue":"true"}}]}}]}"#,
                "boolValue: expected true or false",
            ),
            ("[]", "invalid OTLP/JSON: the request is not a JSON object"),
            ("7", "invalid OTLP/JSON: the request is not a JSON object"),
            ("{} x", "invalid OTLP/JSON: trailing characters"),
        ];
        for (json, want) in cases {
            let err = traces(json).unwrap_err();
            assert!(err.is_invalid_data(), "{json}: {err}");
            assert!(err.message().contains(want), "{json}: {err} lacks {want}");
        }
    }

    #[test]
    fn long_values_are_cut_in_errors() {
        let long = "9".repeat(1 << 20);
        let json = format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"kind":"{long}"}}]}}]}}]}}"#
        );
        let err = traces(&json).unwrap_err();
        assert!(err.message().len() < 300, "{}", err.message().len());
        assert!(err.message().ends_with("..."), "{err}");
    }

    #[test]
    fn ids_in_either_case_with_the_length_rule() {
        let id = |t: &str, s: &str| {
            traces(&format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"{t}","spanId":"{s}"}}]}}]}}]}}"#
            ))
        };
        let lower = id("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174").unwrap();
        let upper = id("5B8EFFF798038103D269B633813FC60C", "0xEEE19B7EC3C1B174").unwrap();
        assert_eq!(lower.to_bytes(), upper.to_bytes());
        assert!(id("", "").is_ok());
        let err = id(&"ab".repeat(20), "").unwrap_err();
        assert!(
            err.message()
                .ends_with("traceId: id of 20 bytes (expected 16 or empty)"),
            "{err}"
        );
        let err = id(&format!("{}zz", "ab".repeat(20)), "").unwrap_err();
        assert!(
            err.message()
                .ends_with("invalid character 'z' at position 40"),
            "{err}"
        );
        let err = id("abc", "").unwrap_err();
        assert!(
            err.message()
                .ends_with("invalid hex id: odd number of digits"),
            "{err}"
        );
    }

    /// The corners where streaming differs from the tree (see the module doc): each
    /// occurrence is written, and decode semantics make the last scalar win.
    #[test]
    fn duplicate_keys_follow_decode_semantics() {
        let one = |fields: &str| {
            let p = traces(&format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{fields}}}]}}]}}]}}"#
            ))
            .unwrap();
            span_json(&p)
        };
        // The last value of an implicit-presence scalar wins, also a default or null.
        assert!(one(r#""name":"a","name":"b""#).contains(r#""name":"b""#));
        assert!(!one(r#""name":"a","name":"""#).contains("\"name\""));
        assert!(!one(r#""name":"a","name":null"#).contains("\"name\""));
        assert!(!one(r#""kind":2,"kind":0"#).contains("\"kind\""));
        assert!(!one(r#""startTimeUnixNano":5,"start_time_unix_nano":null"#).contains("startTime"));
        assert!(one(r#""name":"","name":"b""#).contains(r#""name":"b""#));
        // Both spellings: the later one wins.
        assert!(one(r#""name":"a","name":"b","name":"c""#).contains(r#""name":"c""#));
        assert!(one(r#""traceState":"x","trace_state":"y""#).contains(r#""traceState":"y""#));
        // Messages merge, repeated fields concatenate.
        let s = one(r#""status":{"code":2},"status":{"message":"m"}"#);
        assert!(s.contains(r#""status":{"message":"m","code":2}"#), "{s}");
        let s = one(r#""events":[{"name":"a"}],"events":[{"name":"b"}]"#);
        assert!(s.contains(r#""events":[{"name":"a"},{"name":"b"}]"#), "{s}");
        // A oneof keeps the member that comes last in the document.
        let attr = |value: &str| {
            let p = traces(&format!(
                r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"k","value":{value}}}]}}}}]}}"#
            ))
            .unwrap();
            String::from_utf8(p.to_json()).unwrap()
        };
        assert!(
            attr(r#"{"intValue":1,"stringValue":"a"}"#).contains(r#""value":{"stringValue":"a"}"#)
        );
        assert!(
            attr(r#"{"stringValue":"a","intValue":1}"#).contains(r#""value":{"intValue":"1"}"#)
        );
        // Every occurrence is checked.
        assert!(
            traces(
                r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","traceId":""}]}]}]}"#
            )
            .is_err()
        );
    }

    #[test]
    fn lengths_of_every_width_are_backfilled() {
        // Bodies around the one-, two- and three-byte length boundaries.
        for n in [
            0, 1, 100, 120, 126, 127, 128, 129, 200, 16_000, 16_383, 16_384, 70_000,
        ] {
            let name = "x".repeat(n);
            let json = format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"scope":{{"name":"{name}"}},"spans":[{{"name":"{name}"}}]}}]}}]}}"#
            );
            let p = traces(&json).unwrap();
            let scope = p.resources().next().unwrap().scopes().next().unwrap();
            assert_eq!(scope.name().len(), n);
            assert_eq!(scope.spans().next().unwrap().name().len(), n);
        }
    }

    #[test]
    fn packed_arrays_and_special_doubles() {
        let json = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"dataPoints":[
            {"bucketCounts":["1",2,"3"],"explicitBounds":[0.5,"Infinity",-1e300],"sum":"NaN"}]}}]}]}]}"#;
        let p = Payload::from_json(Signal::Metrics, json).unwrap();
        let out = String::from_utf8(p.to_json()).unwrap();
        assert!(out.contains(r#""bucketCounts":["1","2","3"]"#), "{out}");
        assert!(
            out.contains(r#""explicitBounds":[0.5,"Infinity",-1e300]"#),
            "{out}"
        );
        assert!(out.contains(r#""sum":"NaN""#), "{out}");
    }

    #[test]
    fn escaped_keys_and_strings() {
        let json =
            r#"{"resource\u0053pans":[{"scopeSpans":[{"spans":[{"n\u0061me":"a\"b\u00e9"}]}]}]}"#;
        let p = traces(json).unwrap();
        let s = p.resources().next().unwrap().scopes().next().unwrap();
        assert_eq!(s.spans().next().unwrap().name(), "a\"b\u{e9}");
    }

    #[test]
    fn nesting_too_deep_is_an_error_not_an_overflow() {
        // On a small stack, to show recursion is bounded well below what threads have.
        let run = |json: String| {
            std::thread::Builder::new()
                .stack_size(512 << 10)
                .spawn(move || {
                    traces(&json)
                        .map(|_| ())
                        .map_err(|e| e.message().to_owned())
                })
                .unwrap()
                .join()
                .unwrap()
        };
        let n = 100_000;
        let unknown = format!(r#"{{"x":{}{}}}"#, "[".repeat(n), "]".repeat(n));
        let err = run(unknown).unwrap_err();
        assert!(err.contains("recursion limit exceeded"), "{err}");
        let any = r#"{"arrayValue":{"values":["#;
        let deep = format!(
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"k","value":{}{{}}{}}}]}}}}]}}"#,
            any.repeat(n),
            "]}}".repeat(n)
        );
        let err = run(deep).unwrap_err();
        assert!(err.contains("recursion limit exceeded"), "{err}");
        // What fits in serde_json's limit but not in prost's is the validator's error.
        let deep = format!(
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"k","value":{}{{}}{}}}]}}}}]}}"#,
            any.repeat(38),
            "]}}".repeat(38)
        );
        assert!(run(deep).is_ok());
    }

    #[test]
    fn unknown_values_are_skipped_whatever_their_size() {
        let big = "a".repeat(8 << 20);
        let json = format!(
            r#"{{"x":"{big}","resourceSpans":[{{"y":{{"z":["{big}",[1,2,{{}}]]}},"schemaUrl":"s"}}]}}"#
        );
        let p = traces(&json).unwrap();
        assert_eq!(p.entries().len(), 1);
        assert_eq!(p.encoded_len(), 5);
    }

    #[test]
    fn the_output_is_reserved_as_it_grows_and_released_with_the_payload() {
        let json = big_request(2000);
        let budget = Budget::new(usize::MAX);
        let p = Payload::from_json_accounted(Signal::Traces, json.as_bytes(), &budget).unwrap();
        assert_eq!(p.items(), 2000);
        assert_eq!(
            budget.used(),
            p.encoded_len(),
            "the reservation is the buffer's size"
        );
        let copy = p.clone();
        drop(p);
        assert_eq!(budget.used(), copy.encoded_len());
        drop(copy);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn a_small_budget_refuses_a_large_request_as_retryable() {
        let json = big_request(2000);
        let unaccounted = Payload::from_json(Signal::Traces, json.as_bytes()).unwrap();
        let budget = Budget::new(unaccounted.encoded_len() / 2);
        let err =
            Payload::from_json_accounted(Signal::Traces, json.as_bytes(), &budget).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Retryable, "{err}");
        assert_eq!(err.message(), "data refused due to high memory usage");
        assert_eq!(budget.used(), 0);
        assert!(budget.refusals() >= 1);
        // A budget already spent refuses at once.
        let spent = Budget::new(10);
        let _hold = spent.force_reserve(11);
        let err = Payload::from_json_accounted(Signal::Traces, b"{}", &spent).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Retryable);
    }

    #[test]
    fn a_hostile_body_needs_next_to_no_budget() {
        // 18 MiB that a tree would hold as 9 million values.
        let mut json = b"{\"x\":[0".to_vec();
        json.extend(std::iter::repeat_n(*b",0", 9 << 20).flatten());
        json.extend_from_slice(b"]}");
        let budget = Budget::new(MIN_STEP);
        let p = Payload::from_json_accounted(Signal::Traces, &json, &budget).unwrap();
        assert!(p.is_empty());
        assert_eq!(budget.used(), 0);
        assert_eq!(budget.refusals(), 0);
    }

    #[test]
    fn the_output_never_exceeds_four_times_the_body() {
        // The densest valid input: doubles of one digit, 8 bytes each from 2 of JSON.
        let zeros = vec!["0"; 200_000].join(",");
        let json = format!(
            r#"{{"resourceMetrics":[{{"scopeMetrics":[{{"metrics":[{{"histogram":{{"dataPoints":[{{"explicitBounds":[{zeros}]}}]}}}}]}}]}}]}}"#
        );
        let t = json_to_proto(Signal::Metrics, json.as_bytes(), None).unwrap();
        assert!(
            t.buf.len() <= json.len() * 4,
            "{} > 4 x {}",
            t.buf.len(),
            json.len()
        );
        // And the guard holds the line when it is lower.
        let err = transcode(Signal::Metrics, json.as_bytes(), None, json.len()).unwrap_err();
        assert!(err.is_invalid_data());
        assert!(
            err.message().contains("would exceed four times its JSON"),
            "{err}"
        );
    }
}
