//! Packed spans: the compact batch format the Python fast path
//! (`collector_ffi.BatchSpanProcessor`) hands over instead of OTLP, turned into an
//! `ExportTraceServiceRequest` here. The format is specified in `docs/packed-spans.md`;
//! this is its one reader.
//!
//! Why a format of our own: in Python, encoding a span to OTLP with the SDK's encoder is
//! most of what exporting it costs the application. The packer does as little per span as
//! Python allows: integers go into one `array('Q')`, signed attribute integers into an
//! `array('q')`, doubles into an `array('d')`, every string into one list joined once and
//! encoded once (with its lengths in code points, which is what `len()` gives for free), and
//! attribute keys and span names are interned. Resources and scopes come once per batch.
//!
//! The input is untrusted like any request: every count is checked against what is left,
//! every index against its table, nesting is bounded, and the whole input must be used.
//! The output is built in two passes over the same code: one counts the exact size of the
//! protobuf (and validates), the budget is asked for that size, the second writes it.
//! Fields are written in field-number order, as the SDK's encoder (protobuf's) writes them,
//! so for the same spans the bytes are the same.

use crate::memory::{Budget, Reservation};
use crate::otlp::wire::{self, WireType};
use crate::{Error, ErrorKind};

/// The first four bytes of a packed batch.
pub const MAGIC: &[u8; 4] = b"OTPS";
/// The format version this reader takes.
pub const VERSION: u32 = 1;
/// Header: magic, version and six `u32` counts.
const HEADER: usize = 32;
/// Deepest nesting of array and key-value-list attribute values (the wire validator's
/// recursion limit must still hold for the result).
const MAX_DEPTH: u32 = 32;

/// AnyValue tags in the token stream.
const T_EMPTY: u64 = 0;
const T_FALSE: u64 = 1;
const T_TRUE: u64 = 2;
const T_STR: u64 = 3;
const T_INT: u64 = 4;
const T_DOUBLE: u64 = 5;
const T_BYTES: u64 = 6;
const T_ARRAY: u64 = 7;
const T_KVLIST: u64 = 8;

/// The `flags` token: the OTLP span flags in the low 32 bits, "has a parent" in bit 32.
const HAS_PARENT: u64 = 1 << 32;

fn invalid(msg: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidData, format!("packed spans: {msg}"))
}

type R<T> = Result<T, Error>;

/// Turns a packed batch into the protobuf of an `ExportTraceServiceRequest`, reserved on
/// `budget` (exactly its size) before it is written; the decoding tables are reserved
/// too, while they live.
///
/// # Errors
///
/// [`ErrorKind::InvalidData`] for input that is not a valid packed batch (naming what is
/// wrong); [`ErrorKind::Retryable`] when the budget refuses.
pub(crate) fn to_proto(input: &[u8], budget: &Budget) -> R<(Vec<u8>, Reservation)> {
    let refused = || Error::new(ErrorKind::Retryable, "over the memory budget");
    let layout = Layout::parse(input)?;
    // The string table (one offset per string) and the span index (one entry per span,
    // each span taking at least SPAN_TOKENS tokens) are at most the input's size.
    let tables = budget.try_reserve(input.len()).ok_or_else(refused)?;
    let batch = Batch::index(input, &layout)?;
    let mut count = Counter(0);
    batch.emit(&mut count)?;
    let reservation = budget.try_reserve(count.0).ok_or_else(refused)?;
    let mut w = Writer(Vec::with_capacity(count.0));
    batch.emit(&mut w)?;
    drop(tables);
    debug_assert_eq!(w.0.len(), count.0);
    Ok((w.0, reservation))
}

/// Turns a packed batch into OTLP protobuf without a budget (tests, fuzzing, benches).
///
/// # Errors
///
/// [`ErrorKind::InvalidData`] for input that is not a valid packed batch.
pub fn packed_spans_to_proto(input: &[u8]) -> Result<Vec<u8>, Error> {
    to_proto(input, &Budget::new(usize::MAX)).map(|(v, _)| v)
}

/// Where each section of the input is.
struct Layout {
    tokens: std::ops::Range<usize>,
    ints: std::ops::Range<usize>,
    floats: std::ops::Range<usize>,
    lens: std::ops::Range<usize>,
    text: std::ops::Range<usize>,
    blob: std::ops::Range<usize>,
}

impl Layout {
    fn parse(input: &[u8]) -> R<Layout> {
        if input.len() < HEADER {
            return Err(invalid(format!(
                "{} bytes is shorter than the {HEADER}-byte header",
                input.len()
            )));
        }
        if &input[..4] != MAGIC {
            return Err(invalid("not a packed span batch (bad magic)"));
        }
        let u32_at = |at: usize| {
            let mut b = [0u8; 4];
            b.copy_from_slice(&input[at..at + 4]);
            u32::from_le_bytes(b) as usize
        };
        let version = u32_at(4);
        if version != VERSION as usize {
            return Err(invalid(format!(
                "format version {version} is not supported (this library reads {VERSION})"
            )));
        }
        let (n_tok, n_int, n_float, n_str, text_len, blob_len) = (
            u32_at(8),
            u32_at(12),
            u32_at(16),
            u32_at(20),
            u32_at(24),
            u32_at(28),
        );
        let mut at = HEADER;
        let mut take = |n: usize| {
            let r = at..at.saturating_add(n);
            at = r.end;
            r
        };
        let l = Layout {
            tokens: take(n_tok.saturating_mul(8)),
            ints: take(n_int.saturating_mul(8)),
            floats: take(n_float.saturating_mul(8)),
            lens: take(n_str.saturating_mul(4)),
            text: take(text_len),
            blob: take(blob_len),
        };
        if at != input.len() {
            return Err(invalid(format!(
                "the header describes {at} bytes but the batch has {}",
                input.len()
            )));
        }
        Ok(l)
    }
}

/// The string table: all strings, one UTF-8 text, cut at code-point counts.
struct Strings<'a> {
    text: &'a str,
    /// Byte offset where each string starts, and the text's end.
    starts: Vec<u32>,
}

impl<'a> Strings<'a> {
    fn parse(text: &'a [u8], lens: &[u8]) -> R<Strings<'a>> {
        let text = std::str::from_utf8(text).map_err(|e| invalid(format!("text: {e}")))?;
        let n = lens.len() / 4;
        let mut starts = Vec::with_capacity(n + 1);
        let ascii = text.is_ascii();
        let mut chars = text.char_indices();
        let mut at = 0usize;
        for c in lens.chunks_exact(4) {
            let mut b = [0u8; 4];
            b.copy_from_slice(c);
            let chars_in = u32::from_le_bytes(b) as usize;
            starts.push(at as u32);
            if ascii {
                at = at.saturating_add(chars_in);
                if at > text.len() {
                    return Err(invalid("string lengths run past the text"));
                }
            } else {
                for _ in 0..chars_in {
                    if chars.next().is_none() {
                        return Err(invalid("string lengths run past the text"));
                    }
                }
                at = chars.clone().next().map_or(text.len(), |(i, _)| i);
            }
        }
        if at != text.len() {
            return Err(invalid("the text is longer than its strings"));
        }
        starts.push(at as u32);
        Ok(Strings { text, starts })
    }

    fn get(&self, i: u64) -> R<&'a str> {
        let i = usize::try_from(i).unwrap_or(usize::MAX);
        if i >= self.starts.len() - 1 {
            return Err(invalid(format!(
                "string {i} is not in the table of {}",
                self.starts.len() - 1
            )));
        }
        Ok(&self.text[self.starts[i] as usize..self.starts[i + 1] as usize])
    }

    /// A string reference: 0 is "none", `i + 1` is string `i`.
    fn opt(&self, r: u64) -> R<&'a str> {
        if r == 0 { Ok("") } else { self.get(r - 1) }
    }
}

/// Reading positions in the four streams; copied to come back to a span.
#[derive(Clone, Copy, Default)]
struct Pos {
    tok: usize,
    int: usize,
    float: usize,
    blob: usize,
}

/// A cursor over the streams.
struct Cur<'a, 'b> {
    b: &'b Batch<'a>,
    p: Pos,
}

fn le64(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i * 8..i * 8 + 8]);
    u64::from_le_bytes(w)
}

impl Cur<'_, '_> {
    fn tok(&mut self) -> R<u64> {
        if self.p.tok >= self.b.n_tok {
            return Err(invalid("the token stream ends early"));
        }
        self.p.tok += 1;
        Ok(le64(self.b.tokens, self.p.tok - 1))
    }

    /// A count of things each taking at least `each` tokens: bounded by what is left, so a
    /// forged count cannot make us loop or allocate.
    fn count(&mut self, each: usize) -> R<usize> {
        let n = self.tok()?;
        let left = (self.b.n_tok - self.p.tok) as u64;
        if n.saturating_mul(each as u64) > left {
            return Err(invalid(format!(
                "a count of {n} is more than the {left} tokens left"
            )));
        }
        Ok(n as usize)
    }

    fn int(&mut self) -> R<u64> {
        if self.p.int * 8 >= self.b.ints.len() {
            return Err(invalid("the integer stream ends early"));
        }
        self.p.int += 1;
        Ok(le64(self.b.ints, self.p.int - 1))
    }

    fn float(&mut self) -> R<u64> {
        if self.p.float * 8 >= self.b.floats.len() {
            return Err(invalid("the double stream ends early"));
        }
        self.p.float += 1;
        Ok(le64(self.b.floats, self.p.float - 1))
    }

    fn blob(&mut self, n: u64) -> R<&[u8]> {
        let start = self.p.blob;
        let end = usize::try_from(n)
            .ok()
            .and_then(|n| start.checked_add(n))
            .filter(|e| *e <= self.b.blob.len())
            .ok_or_else(|| invalid("the bytes stream ends early"))?;
        self.p.blob = end;
        Ok(&self.b.blob[start..end])
    }
}

/// Output: counted or written by the same code.
trait Emit {
    fn raw(&mut self, b: &[u8]);
    fn varint(&mut self, v: u64);
    /// Starts a length-delimited body.
    fn begin(&mut self) -> usize;
    /// Ends the body started at `mark`, putting its length in front.
    fn end(&mut self, mark: usize);
}

/// Counts the bytes the output will take.
struct Counter(usize);

impl Emit for Counter {
    fn raw(&mut self, b: &[u8]) {
        self.0 += b.len();
    }
    fn varint(&mut self, v: u64) {
        self.0 += wire::varint_len(v);
    }
    fn begin(&mut self) -> usize {
        self.0
    }
    fn end(&mut self, mark: usize) {
        self.0 += wire::varint_len((self.0 - mark) as u64);
    }
}

/// Writes the output (into a buffer sized by the [`Counter`]).
struct Writer(Vec<u8>);

impl Emit for Writer {
    fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
    fn varint(&mut self, v: u64) {
        wire::put_varint(&mut self.0, v);
    }
    fn begin(&mut self) -> usize {
        self.0.push(0);
        self.0.len() - 1
    }
    fn end(&mut self, at: usize) {
        wire::backfill_len(&mut self.0, at);
    }
}

fn key<E: Emit>(e: &mut E, field: u32, wt: WireType) {
    e.varint((u64::from(field) << 3) | wt as u64);
}

/// A string field, omitted when empty (proto3).
fn string<E: Emit>(e: &mut E, field: u32, s: &str) {
    if !s.is_empty() {
        bytes(e, field, s.as_bytes());
    }
}

/// A bytes field, always written.
fn bytes<E: Emit>(e: &mut E, field: u32, b: &[u8]) {
    key(e, field, WireType::Len);
    e.varint(b.len() as u64);
    e.raw(b);
}

fn varint_field<E: Emit>(e: &mut E, field: u32, v: u64) {
    if v != 0 {
        key(e, field, WireType::Varint);
        e.varint(v);
    }
}

fn fixed64<E: Emit>(e: &mut E, field: u32, v: u64) {
    if v != 0 {
        key(e, field, WireType::I64);
        e.raw(&v.to_le_bytes());
    }
}

fn fixed32<E: Emit>(e: &mut E, field: u32, v: u32) {
    if v != 0 {
        key(e, field, WireType::I32);
        e.raw(&v.to_le_bytes());
    }
}

fn nested<E: Emit>(e: &mut E, field: u32, f: impl FnOnce(&mut E) -> R<()>) -> R<()> {
    key(e, field, WireType::Len);
    let m = e.begin();
    f(e)?;
    e.end(m);
    Ok(())
}

fn trace_id<E: Emit>(e: &mut E, field: u32, hi: u64, lo: u64) {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&hi.to_be_bytes());
    id[8..].copy_from_slice(&lo.to_be_bytes());
    bytes(e, field, &id);
}

/// Smallest number of tokens a span takes (its fixed fields and three empty counts).
const SPAN_TOKENS: usize = 20;

/// A parsed batch: the sections, the resource and scope tables, and where each span starts.
struct Batch<'a> {
    tokens: &'a [u8],
    n_tok: usize,
    ints: &'a [u8],
    floats: &'a [u8],
    blob: &'a [u8],
    strings: Strings<'a>,
    resources: Vec<Pos>,
    scopes: Vec<Pos>,
    /// (resource, scope, position after those two) of each span, grouped as the request
    /// is written: by resource, then scope, each in order of first appearance.
    spans: Vec<(usize, usize, Pos)>,
}

impl<'a> Batch<'a> {
    fn index(input: &'a [u8], l: &Layout) -> R<Batch<'a>> {
        let mut b = Batch {
            tokens: &input[l.tokens.clone()],
            n_tok: l.tokens.len() / 8,
            ints: &input[l.ints.clone()],
            floats: &input[l.floats.clone()],
            blob: &input[l.blob.clone()],
            strings: Strings::parse(&input[l.text.clone()], &input[l.lens.clone()])?,
            resources: Vec::new(),
            scopes: Vec::new(),
            spans: Vec::new(),
        };
        // Each table entry is walked once with a counter, which validates it.
        let mut c = Cur {
            b: &b,
            p: Pos::default(),
        };
        let mut sink = Counter(0);
        let n_res = c.count(2)?;
        let mut resources = Vec::with_capacity(n_res);
        for _ in 0..n_res {
            resources.push(c.p);
            c.tok()?;
            attributes(&mut c, &mut sink, 1, 0)?;
        }
        let n_scope = c.count(4)?;
        let mut scopes = Vec::with_capacity(n_scope);
        for _ in 0..n_scope {
            scopes.push(c.p);
            scope(&mut c, &mut sink)?;
        }
        let n_span = c.count(SPAN_TOKENS)?;
        let mut spans = Vec::with_capacity(n_span);
        for _ in 0..n_span {
            let (r, s) = (c.tok()?, c.tok()?);
            let (r, s) = (r as usize, s as usize);
            if r >= n_res || s >= n_scope {
                return Err(invalid(format!(
                    "span {} names resource {r} and scope {s} of {n_res} and {n_scope}",
                    spans.len()
                )));
            }
            spans.push((r, s, c.p));
            span(&mut c, &mut sink)?;
        }
        let end = c.p;
        if end.tok != b.n_tok
            || end.int * 8 != b.ints.len()
            || end.float * 8 != b.floats.len()
            || end.blob != b.blob.len()
        {
            return Err(invalid("data left over after the last span"));
        }
        b.resources = resources;
        b.scopes = scopes;
        b.spans = grouped(spans, n_res);
        Ok(b)
    }

    /// The whole request: one `ResourceSpans` per run of spans with the same resource, one
    /// `ScopeSpans` per run with the same scope inside it (`spans` is grouped).
    fn emit<E: Emit>(&self, e: &mut E) -> R<()> {
        for res in self.spans.chunk_by(|a, b| a.0 == b.0) {
            let r = self.resources[res[0].0];
            nested(e, 1, |e| {
                // Resource (always present, as the SDK writes it).
                nested(e, 1, |e| {
                    let mut c = self.at(r);
                    c.tok()?;
                    attributes(&mut c, e, 1, 0)
                })?;
                for group in res.chunk_by(|a, b| a.1 == b.1) {
                    let sc = self.scopes[group[0].1];
                    nested(e, 2, |e| {
                        nested(e, 1, |e| scope(&mut self.at(sc), e))?;
                        for &(_, _, at) in group {
                            nested(e, 2, |e| span(&mut self.at(at), e))?;
                        }
                        let mut c = self.at(sc);
                        c.tok()?;
                        c.tok()?;
                        string(e, 3, self.strings.opt(c.tok()?)?);
                        Ok(())
                    })?;
                }
                string(e, 3, self.strings.opt(self.at(r).tok()?)?);
                Ok(())
            })?;
        }
        Ok(())
    }

    fn at(&self, p: Pos) -> Cur<'a, '_> {
        Cur { b: self, p }
    }
}

/// `spans` grouped as the SDK's encoder groups them: by resource, then by scope, each in
/// order of first appearance, spans in input order within a group. One stable sort, so a
/// batch built to have a resource and a scope per span costs n log n, not n squared.
fn grouped(spans: Vec<(usize, usize, Pos)>, n_res: usize) -> Vec<(usize, usize, Pos)> {
    // The usual batch: one provider, one tracer.
    if spans
        .windows(2)
        .all(|w| (w[0].0, w[0].1) == (w[1].0, w[1].1))
    {
        return spans;
    }
    let mut first = vec![usize::MAX; n_res];
    let mut groups = std::collections::HashMap::new();
    let mut keyed: Vec<_> = spans
        .into_iter()
        .enumerate()
        .map(|(i, (r, s, at))| {
            if first[r] == usize::MAX {
                first[r] = i;
            }
            let next = groups.len();
            (
                (first[r], *groups.entry((r, s)).or_insert(next)),
                (r, s, at),
            )
        })
        .collect();
    keyed.sort_by_key(|(key, _)| *key);
    keyed.into_iter().map(|(_, span)| span).collect()
}

/// An `InstrumentationScope` body: `name, version, schema_url, attributes` (the schema URL
/// belongs to the enclosing `ScopeSpans` and is written there).
fn scope<E: Emit>(c: &mut Cur<'_, '_>, e: &mut E) -> R<()> {
    let name = c.b.strings.opt(c.tok()?)?;
    let version = c.b.strings.opt(c.tok()?)?;
    c.b.strings.opt(c.tok()?)?;
    string(e, 1, name);
    string(e, 2, version);
    attributes(c, e, 3, 0)
}

/// A span's body, after its resource and scope indices.
fn span<E: Emit>(c: &mut Cur<'_, '_>, e: &mut E) -> R<()> {
    let (hi, lo, id, flags, parent, kind) =
        (c.tok()?, c.tok()?, c.tok()?, c.tok()?, c.tok()?, c.tok()?);
    let (start, end, name, state) = (c.tok()?, c.tok()?, c.tok()?, c.tok()?);
    let (code, message) = (c.tok()?, c.tok()?);
    let (d_attrs, d_events, d_links) = (c.tok()?, c.tok()?, c.tok()?);
    if kind > 5 {
        return Err(invalid(format!("span kind {kind}")));
    }
    if code > 2 {
        return Err(invalid(format!("status code {code}")));
    }
    if flags >> 33 != 0 {
        return Err(invalid(format!("span flags {flags:#x}")));
    }
    trace_id(e, 1, hi, lo);
    bytes(e, 2, &id.to_be_bytes());
    string(e, 3, c.b.strings.opt(state)?);
    if flags & HAS_PARENT != 0 {
        bytes(e, 4, &parent.to_be_bytes());
    }
    string(e, 5, c.b.strings.opt(name)?);
    varint_field(e, 6, kind);
    fixed64(e, 7, start);
    fixed64(e, 8, end);
    attributes(c, e, 9, 0)?;
    varint_field(e, 10, u64::from(count32(d_attrs)?));
    let n_events = c.count(4)?;
    for _ in 0..n_events {
        nested(e, 11, |e| event(c, e))?;
    }
    varint_field(e, 12, u64::from(count32(d_events)?));
    let n_links = c.count(6)?;
    for _ in 0..n_links {
        nested(e, 13, |e| link(c, e))?;
    }
    varint_field(e, 14, u64::from(count32(d_links)?));
    let message = c.b.strings.opt(message)?;
    nested(e, 15, |e| {
        string(e, 2, message);
        varint_field(e, 3, code);
        Ok(())
    })?;
    fixed32(e, 16, flags as u32);
    Ok(())
}

fn count32(v: u64) -> R<u32> {
    u32::try_from(v).map_err(|_| invalid(format!("dropped count {v} is over 32 bits")))
}

/// `time, name, dropped_attributes, attributes`.
fn event<E: Emit>(c: &mut Cur<'_, '_>, e: &mut E) -> R<()> {
    let (time, name, dropped) = (c.tok()?, c.tok()?, c.tok()?);
    fixed64(e, 1, time);
    string(e, 2, c.b.strings.opt(name)?);
    attributes(c, e, 3, 0)?;
    varint_field(e, 4, u64::from(count32(dropped)?));
    Ok(())
}

/// `trace_hi, trace_lo, span_id, flags, dropped_attributes, attributes`.
fn link<E: Emit>(c: &mut Cur<'_, '_>, e: &mut E) -> R<()> {
    let (hi, lo, id, flags, dropped) = (c.tok()?, c.tok()?, c.tok()?, c.tok()?, c.tok()?);
    let flags = u32::try_from(flags).map_err(|_| invalid(format!("link flags {flags:#x}")))?;
    trace_id(e, 1, hi, lo);
    bytes(e, 2, &id.to_be_bytes());
    attributes(c, e, 4, 0)?;
    varint_field(e, 5, u64::from(count32(dropped)?));
    fixed32(e, 6, flags);
    Ok(())
}

/// `n`, then `n` key-values (`key string index, value`), each written as field `field`.
fn attributes<E: Emit>(c: &mut Cur<'_, '_>, e: &mut E, field: u32, depth: u32) -> R<()> {
    let n = c.count(2)?;
    for _ in 0..n {
        let k = c.b.strings.get(c.tok()?)?;
        nested(e, field, |e| {
            string(e, 1, k);
            nested(e, 2, |e| value(c, e, depth))
        })?;
    }
    Ok(())
}

/// An `AnyValue` body from its tag and payload.
fn value<E: Emit>(c: &mut Cur<'_, '_>, e: &mut E, depth: u32) -> R<()> {
    let tag = c.tok()?;
    match tag {
        T_EMPTY => {}
        T_FALSE | T_TRUE => {
            let v = u64::from(tag == T_TRUE);
            key(e, 2, WireType::Varint);
            e.varint(v);
        }
        T_STR => {
            let s = c.b.strings.get(c.tok()?)?;
            bytes(e, 1, s.as_bytes());
        }
        T_INT => {
            let v = c.int()?;
            key(e, 3, WireType::Varint);
            e.varint(v);
        }
        T_DOUBLE => {
            let v = c.float()?;
            key(e, 4, WireType::I64);
            e.raw(&v.to_le_bytes());
        }
        T_BYTES => {
            let n = c.tok()?;
            let b = c.blob(n)?;
            bytes(e, 7, b);
        }
        T_ARRAY | T_KVLIST => {
            if depth >= MAX_DEPTH {
                return Err(invalid(format!(
                    "attribute values nest deeper than {MAX_DEPTH}"
                )));
            }
            let field = if tag == T_ARRAY { 5 } else { 6 };
            nested(e, field, |e| {
                if tag == T_ARRAY {
                    let n = c.count(1)?;
                    for _ in 0..n {
                        nested(e, 1, |e| value(c, e, depth + 1))?;
                    }
                    Ok(())
                } else {
                    attributes(c, e, 1, depth + 1)
                }
            })?;
        }
        other => return Err(invalid(format!("attribute value tag {other}"))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-built batch: the builder the Python packer follows, in Rust.
    #[derive(Default)]
    struct Build {
        tok: Vec<u64>,
        ints: Vec<i64>,
        floats: Vec<f64>,
        strs: Vec<String>,
        blob: Vec<u8>,
    }

    impl Build {
        fn s(&mut self, s: &str) -> u64 {
            self.strs.push(s.into());
            (self.strs.len() - 1) as u64
        }
        fn bytes(&self) -> Vec<u8> {
            let mut out = Vec::new();
            out.extend_from_slice(MAGIC);
            let text: String = self.strs.concat();
            for v in [
                VERSION,
                self.tok.len() as u32,
                self.ints.len() as u32,
                self.floats.len() as u32,
                self.strs.len() as u32,
                text.len() as u32,
                self.blob.len() as u32,
            ] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            self.tok.iter().for_each(|t| out.extend(t.to_le_bytes()));
            self.ints.iter().for_each(|t| out.extend(t.to_le_bytes()));
            self.floats.iter().for_each(|t| out.extend(t.to_le_bytes()));
            for s in &self.strs {
                out.extend((s.chars().count() as u32).to_le_bytes());
            }
            out.extend(text.as_bytes());
            out.extend(&self.blob);
            out
        }
    }

    fn sample() -> Build {
        let mut b = Build::default();
        let svc = b.s("service.name");
        let api = b.s("api");
        let lib = b.s("lib");
        let ver = b.s("1.0");
        let name = b.s("GET /é");
        let k = b.s("k");
        let msg = b.s("boom");
        // 1 resource: schema none, 1 attr
        b.tok.extend([1, 0, 1, svc, T_STR, api]);
        // 1 scope: name, version, no schema, 0 attrs
        b.tok.extend([1, lib + 1, ver + 1, 0, 0]);
        // 1 span
        b.tok.extend([
            1,
            0,
            0,
            7,
            8,
            9,
            0x300 | HAS_PARENT,
            5,
            2,
            100,
            200,
            name + 1,
            0,
        ]);
        b.tok.extend([2, msg + 1, 0, 1, 0]);
        // attrs: int, double, bytes, array[bool, str], kvlist{k: empty}
        b.tok.extend([
            5, k, T_INT, k, T_DOUBLE, k, T_BYTES, 3, k, T_ARRAY, 2, T_TRUE, T_STR, api,
        ]);
        b.tok.extend([k, T_KVLIST, 1, k, T_EMPTY]);
        b.ints.push(-5);
        b.floats.push(1.5);
        b.blob.extend([1, 2, 3]);
        // 1 event: time, name, dropped, 0 attrs; 1 link with 1 attr
        b.tok.extend([1, 150, name + 1, 0, 0]);
        b.tok.extend([1, 7, 8, 10, 0x100, 0, 1, k, T_FALSE]);
        b
    }

    #[test]
    fn decodes_to_the_request_prost_reads() {
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
        use opentelemetry_proto::tonic::common::v1::any_value::Value as V;
        use prost::Message;
        let out = packed_spans_to_proto(&sample().bytes()).unwrap();
        let req = ExportTraceServiceRequest::decode(out.as_slice()).unwrap();
        let rs = &req.resource_spans[0];
        assert_eq!(
            rs.resource.as_ref().unwrap().attributes[0].key,
            "service.name"
        );
        let ss = &rs.scope_spans[0];
        assert_eq!(ss.scope.as_ref().unwrap().name, "lib");
        let s = &ss.spans[0];
        assert_eq!(&s.trace_id[8..], &8u64.to_be_bytes());
        assert_eq!(&s.trace_id[..8], &7u64.to_be_bytes());
        assert_eq!(s.span_id, 9u64.to_be_bytes());
        assert_eq!(s.parent_span_id, 5u64.to_be_bytes());
        assert_eq!((s.name.as_str(), s.kind, s.flags), ("GET /é", 2, 0x300));
        assert_eq!((s.start_time_unix_nano, s.end_time_unix_nano), (100, 200));
        let vals: Vec<_> = s
            .attributes
            .iter()
            .map(|a| a.value.clone().unwrap().value)
            .collect();
        assert_eq!(vals[0], Some(V::IntValue(-5)));
        assert_eq!(vals[1], Some(V::DoubleValue(1.5)));
        assert_eq!(vals[2], Some(V::BytesValue(vec![1, 2, 3])));
        assert!(matches!(&vals[3], Some(V::ArrayValue(a)) if a.values.len() == 2));
        assert!(
            matches!(&vals[4], Some(V::KvlistValue(k)) if k.values[0].value == Some(Default::default()))
        );
        assert_eq!(s.status.as_ref().unwrap().code, 2);
        assert_eq!(s.status.as_ref().unwrap().message, "boom");
        assert_eq!(s.dropped_events_count, 1);
        assert_eq!(s.events[0].time_unix_nano, 150);
        assert_eq!(s.links[0].flags, 0x100);
        assert_eq!(
            s.links[0].attributes[0].value.clone().unwrap().value,
            Some(V::BoolValue(false))
        );
        // And the collector's own validator takes it.
        crate::otlp::Payload::decode(crate::Signal::Traces, out.into()).unwrap();
    }

    #[test]
    fn spans_group_by_resource_then_scope_in_order_of_first_appearance() {
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
        use prost::Message;
        let mut b = Build::default();
        let (a, z) = (b.s("a"), b.s("z"));
        // Two resources (schema refs tell them apart), two scopes.
        b.tok.extend([2, a + 1, 0, z + 1, 0]);
        b.tok.extend([2, a + 1, 0, 0, 0, z + 1, 0, 0, 0]);
        // Spans (resource, scope, span id): (0,0,1) (1,0,2) (0,1,3) (0,0,4) (1,0,5).
        let spans = [(0, 0, 1), (1, 0, 2), (0, 1, 3), (0, 0, 4), (1, 0, 5)];
        b.tok.push(spans.len() as u64);
        for (r, s, id) in spans {
            b.tok.extend([
                r, s, 0, 1, id, 0x100, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ]);
        }
        let out = packed_spans_to_proto(&b.bytes()).unwrap();
        let req = ExportTraceServiceRequest::decode(out.as_slice()).unwrap();
        // (resource schema, [(scope name, [last byte of each span id])]).
        type Shape = Vec<(String, Vec<(String, Vec<u8>)>)>;
        let shape: Shape = req
            .resource_spans
            .iter()
            .map(|rs| {
                let scopes = rs.scope_spans.iter().map(|ss| {
                    let ids = ss.spans.iter().map(|s| s.span_id[7]).collect();
                    (ss.scope.as_ref().unwrap().name.clone(), ids)
                });
                (rs.schema_url.clone(), scopes.collect())
            })
            .collect();
        let want = vec![
            (
                "a".into(),
                vec![("a".into(), vec![1, 4]), ("z".into(), vec![3])],
            ),
            ("z".into(), vec![("a".into(), vec![2, 5])]),
        ];
        assert_eq!(shape, want);
    }

    #[test]
    fn every_truncation_and_bad_count_is_an_error_not_a_panic() {
        let good = sample().bytes();
        for n in 0..good.len() {
            assert!(packed_spans_to_proto(&good[..n]).is_err(), "cut at {n}");
        }
        for i in HEADER..good.len() {
            for v in [0u8, 1, 0x7f, 0xff] {
                let mut bad = good.clone();
                bad[i] = v;
                let _ = packed_spans_to_proto(&bad); // must not panic
            }
        }
        let mut b = sample();
        b.tok[0] = u64::MAX; // resource count
        assert!(
            packed_spans_to_proto(&b.bytes())
                .unwrap_err()
                .to_string()
                .contains("count")
        );
        let mut b = sample();
        b.tok.push(0);
        assert!(
            packed_spans_to_proto(&b.bytes())
                .unwrap_err()
                .to_string()
                .contains("left over")
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let mut b = Build::default();
        let k = b.s("k");
        b.tok.extend([1, 0, 1, k]);
        for _ in 0..100 {
            b.tok.extend([T_ARRAY, 1]);
        }
        b.tok.push(T_EMPTY);
        b.tok.extend([0, 0]);
        let e = packed_spans_to_proto(&b.bytes()).unwrap_err();
        assert!(e.to_string().contains("nest"), "{e}");
    }

    #[test]
    fn the_budget_is_asked_first() {
        let budget = Budget::new(10);
        let e = to_proto(&sample().bytes(), &budget).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Retryable);
        let budget = Budget::new(1 << 20);
        let (out, r) = to_proto(&sample().bytes(), &budget).unwrap();
        assert_eq!(r.bytes(), out.len());
    }
}
