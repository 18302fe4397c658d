//! Protobuf wire primitives over borrowed byte slices.
//!
//! Every read checks its length before slicing and never allocates; errors are boxed and
//! built on a cold path so the success path stays small. The acceptance rules mirror prost
//! 0.14 exactly (varint overflow, key range, wire types, recursion counting), because the
//! differential tests and fuzz targets use prost as the oracle.

use std::fmt;

/// prost's `RECURSION_LIMIT`: how many nested messages a decode may enter.
pub(crate) const RECURSION_LIMIT: u32 = 100;

/// The six protobuf wire types (values 6 and 7 are invalid on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WireType {
    Varint = 0,
    I64 = 1,
    Len = 2,
    StartGroup = 3,
    EndGroup = 4,
    I32 = 5,
}

impl WireType {
    fn name(self) -> &'static str {
        match self {
            WireType::Varint => "varint",
            WireType::I64 => "64-bit",
            WireType::Len => "length-delimited",
            WireType::StartGroup => "start-group",
            WireType::EndGroup => "end-group",
            WireType::I32 => "32-bit",
        }
    }
}

/// What went wrong at a given byte offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// A length or fixed-width value runs past the end of its enclosing message.
    Truncated,
    /// A varint longer than 10 bytes, or one that overflows 64 bits.
    InvalidVarint,
    /// A field key above `u32::MAX`.
    InvalidKey,
    /// Wire type 6 or 7.
    InvalidWireTypeValue(u8),
    /// Field number 0.
    InvalidTag,
    /// An end-group marker without its start, or for another field.
    UnexpectedEndGroup,
    /// A known field with a wire type its schema does not allow.
    WrongWireType { got: WireType, expected: WireType },
    /// More than [`RECURSION_LIMIT`] nested messages.
    RecursionLimit,
    /// A string field that is not UTF-8.
    InvalidUtf8,
    /// A trace or span id of the wrong length.
    InvalidIdLength { got: usize, expected: usize },
    /// A packed repeated fixed-width field whose length is not a multiple of the width.
    PackedLength { len: usize, width: usize },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Truncated => f.write_str("truncated"),
            Problem::InvalidVarint => f.write_str("invalid varint"),
            Problem::InvalidKey => f.write_str("invalid field key"),
            Problem::InvalidWireTypeValue(v) => write!(f, "invalid wire type value {v}"),
            Problem::InvalidTag => f.write_str("invalid field number 0"),
            Problem::UnexpectedEndGroup => f.write_str("unexpected end-group tag"),
            Problem::WrongWireType { got, expected } => write!(
                f,
                "wrong wire type: {} (expected {})",
                got.name(),
                expected.name()
            ),
            Problem::RecursionLimit => write!(
                f,
                "message nesting deeper than the recursion limit of {RECURSION_LIMIT}"
            ),
            Problem::InvalidUtf8 => f.write_str("string is not valid UTF-8"),
            Problem::InvalidIdLength { got, expected } => {
                write!(f, "id of {got} bytes (expected {expected} or empty)")
            }
            Problem::PackedLength { len, width } => write!(
                f,
                "packed field of {len} bytes is not a multiple of {width}"
            ),
        }
    }
}

/// One step of a field path: `spans[12]` or `resource`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) name: &'static str,
    pub(crate) index: Option<u32>,
}

/// A malformed protobuf input: where (byte offset, field path) and what.
///
/// The path is collected while the error travels up the call stack (innermost first), so
/// the success path pays nothing for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WireError {
    pub(crate) offset: usize,
    pub(crate) problem: Problem,
    /// Innermost segment first.
    pub(crate) path: Vec<Segment>,
}

impl WireError {
    #[cold]
    #[inline(never)]
    pub(crate) fn new(offset: usize, problem: Problem) -> Box<WireError> {
        Box::new(WireError {
            offset,
            problem,
            path: Vec::new(),
        })
    }

    /// Adds the enclosing field to the path.
    #[cold]
    #[inline(never)]
    pub(crate) fn at(mut self: Box<Self>, name: &'static str, index: Option<u32>) -> Box<Self> {
        self.path.push(Segment { name, index });
        self
    }

    /// The field path, outermost first, e.g. `resource_spans[3].scope_spans[0].spans[12]`.
    pub(crate) fn path_string(&self) -> String {
        let mut s = String::new();
        for (i, seg) in self.path.iter().rev().enumerate() {
            if i > 0 {
                s.push('.');
            }
            s.push_str(seg.name);
            if let Some(idx) = seg.index {
                s.push('[');
                s.push_str(&idx.to_string());
                s.push(']');
            }
        }
        s
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{} at byte {}", self.problem, self.offset)
        } else {
            write!(
                f,
                "{}: {} at byte {}",
                self.path_string(),
                self.problem,
                self.offset
            )
        }
    }
}

pub(crate) type WireResult<T> = Result<T, Box<WireError>>;

/// A forward-only reader over one message's bytes.
///
/// Holds the unread rest of the message and the absolute offset of the message's end, so
/// the absolute offset of the next byte is `end - rest.len()` (for error messages) and
/// every bounds check is a comparison with `rest.len()`.
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    end: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, whose first byte is at absolute offset `base`.
    #[inline(always)]
    pub(crate) fn new(buf: &'a [u8], base: usize) -> Self {
        Reader {
            rest: buf,
            end: base + buf.len(),
        }
    }

    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Absolute offset of the next byte.
    #[inline(always)]
    pub(crate) fn offset(&self) -> usize {
        self.end - self.rest.len()
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn error(&self, problem: Problem) -> Box<WireError> {
        WireError::new(self.offset(), problem)
    }

    #[inline(always)]
    fn advance(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        head
    }

    /// Reads a varint with prost's rules: at most 10 bytes, the tenth below 2.
    #[inline(always)]
    pub(crate) fn varint(&mut self) -> WireResult<u64> {
        match self.rest {
            [b, tail @ ..] if *b < 0x80 => {
                self.rest = tail;
                Ok(u64::from(*b))
            }
            [b0, b1, tail @ ..] if *b1 < 0x80 => {
                self.rest = tail;
                Ok(u64::from(b0 & 0x7f) | (u64::from(*b1) << 7))
            }
            _ => self.varint_slow(),
        }
    }

    #[inline(never)]
    fn varint_slow(&mut self) -> WireResult<u64> {
        let mut value: u64 = 0;
        for (i, &b) in self.rest.iter().take(10).enumerate() {
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                if i == 9 && b >= 0x02 {
                    return Err(self.error(Problem::InvalidVarint));
                }
                self.advance(i + 1);
                return Ok(value);
            }
        }
        Err(self.error(Problem::InvalidVarint))
    }

    /// Reads a field key: `(field number, wire type)`.
    #[inline(always)]
    pub(crate) fn key(&mut self) -> WireResult<(u32, WireType)> {
        // One-byte keys (fields 1-15) are nearly all of OTLP.
        if let [b, tail @ ..] = self.rest {
            let b = *b;
            if (8..0x80).contains(&b) && matches!(b & 7, 0 | 1 | 2 | 5) {
                self.rest = tail;
                return Ok((u32::from(b >> 3), wire_type_of(b & 7)));
            }
        }
        self.key_slow()
    }

    #[inline(never)]
    fn key_slow(&mut self) -> WireResult<(u32, WireType)> {
        let start = self.rest;
        let key = self.varint()?;
        let fail = |r: &mut Self, p| {
            r.rest = start;
            Err(r.error(p))
        };
        if key > u64::from(u32::MAX) {
            return fail(self, Problem::InvalidKey);
        }
        let wt = match key & 7 {
            v @ (6 | 7) => return fail(self, Problem::InvalidWireTypeValue(v as u8)),
            v => wire_type_of(v as u8),
        };
        let field = (key as u32) >> 3;
        if field == 0 {
            return fail(self, Problem::InvalidTag);
        }
        Ok((field, wt))
    }

    #[inline(always)]
    fn expect(&self, got: WireType, expected: WireType) -> WireResult<()> {
        if got == expected {
            Ok(())
        } else {
            Err(self.wrong_wire_type(got, expected))
        }
    }

    #[cold]
    #[inline(never)]
    fn wrong_wire_type(&self, got: WireType, expected: WireType) -> Box<WireError> {
        self.error(Problem::WrongWireType { got, expected })
    }

    /// Reads a length-delimited body; returns it and its absolute offset.
    #[inline(always)]
    pub(crate) fn bytes(&mut self) -> WireResult<(&'a [u8], usize)> {
        let len = self.varint()?;
        if len > self.rest.len() as u64 {
            return Err(self.error(Problem::Truncated));
        }
        let off = self.offset();
        Ok((self.advance(len as usize), off))
    }

    /// A nested message field: checks the wire type and the recursion budget of the
    /// enclosing message (`depth`, prost's remaining count), then returns the body.
    #[inline(always)]
    pub(crate) fn message(&mut self, wt: WireType, depth: u32) -> WireResult<(&'a [u8], usize)> {
        self.expect(wt, WireType::Len)?;
        if depth == 0 {
            return Err(self.error(Problem::RecursionLimit));
        }
        self.bytes()
    }

    /// A `bytes` field.
    #[inline(always)]
    pub(crate) fn bytes_field(&mut self, wt: WireType) -> WireResult<&'a [u8]> {
        self.expect(wt, WireType::Len)?;
        Ok(self.bytes()?.0)
    }

    /// A `string` field, checked for UTF-8.
    #[inline(always)]
    pub(crate) fn string(&mut self, wt: WireType) -> WireResult<&'a [u8]> {
        self.expect(wt, WireType::Len)?;
        let (s, off) = self.bytes()?;
        if !utf8_ok(s) {
            return Err(WireError::new(off, Problem::InvalidUtf8));
        }
        Ok(s)
    }

    /// A trace or span id: returns its length, checked by the caller once the message
    /// is complete (prost keeps the last occurrence).
    #[inline(always)]
    pub(crate) fn id(&mut self, wt: WireType) -> WireResult<usize> {
        Ok(self.bytes_field(wt)?.len())
    }

    /// A singular varint scalar (int32, uint32, bool, enum, ...).
    #[inline(always)]
    pub(crate) fn varint_field(&mut self, wt: WireType) -> WireResult<u64> {
        self.expect(wt, WireType::Varint)?;
        self.varint()
    }

    /// A singular fixed64 / sfixed64 / double.
    #[inline(always)]
    pub(crate) fn fixed64(&mut self, wt: WireType) -> WireResult<u64> {
        self.expect(wt, WireType::I64)?;
        self.raw_fixed64()
    }

    #[inline(always)]
    fn raw_fixed64(&mut self) -> WireResult<u64> {
        match self.rest.split_first_chunk::<8>() {
            Some((b, tail)) => {
                self.rest = tail;
                Ok(u64::from_le_bytes(*b))
            }
            None => Err(self.error(Problem::Truncated)),
        }
    }

    #[inline(always)]
    fn raw_fixed32(&mut self) -> WireResult<u32> {
        match self.rest.split_first_chunk::<4>() {
            Some((b, tail)) => {
                self.rest = tail;
                Ok(u32::from_le_bytes(*b))
            }
            None => Err(self.error(Problem::Truncated)),
        }
    }

    /// A singular fixed32.
    #[inline(always)]
    pub(crate) fn fixed32(&mut self, wt: WireType) -> WireResult<u32> {
        self.expect(wt, WireType::I32)?;
        self.raw_fixed32()
    }

    /// A repeated fixed64/double, packed or not. Returns the number of values.
    #[inline]
    pub(crate) fn repeated_fixed64(&mut self, wt: WireType) -> WireResult<usize> {
        match wt {
            WireType::Len => {
                let (b, off) = self.bytes()?;
                if b.len() % 8 != 0 {
                    return Err(WireError::new(
                        off,
                        Problem::PackedLength {
                            len: b.len(),
                            width: 8,
                        },
                    ));
                }
                Ok(b.len() / 8)
            }
            _ => {
                self.expect(wt, WireType::I64)?;
                self.raw_fixed64()?;
                Ok(1)
            }
        }
    }

    /// A repeated varint scalar, packed or not. Returns the number of values.
    #[inline]
    pub(crate) fn repeated_varint(&mut self, wt: WireType) -> WireResult<usize> {
        match wt {
            WireType::Len => {
                let (b, off) = self.bytes()?;
                let mut inner = Reader::new(b, off);
                let mut n = 0;
                while !inner.is_empty() {
                    inner.varint()?;
                    n += 1;
                }
                Ok(n)
            }
            _ => {
                self.expect(wt, WireType::Varint)?;
                self.varint()?;
                Ok(1)
            }
        }
    }

    /// Skips an unknown field as prost's `skip_field` does, including its recursion
    /// check (an unknown field inside a message at the limit is an error there too).
    #[inline(never)]
    pub(crate) fn skip(&mut self, wt: WireType, field: u32, depth: u32) -> WireResult<()> {
        if depth == 0 {
            return Err(self.error(Problem::RecursionLimit));
        }
        match wt {
            WireType::Varint => {
                self.varint()?;
            }
            WireType::I64 => {
                self.raw_fixed64()?;
            }
            WireType::I32 => {
                self.raw_fixed32()?;
            }
            WireType::Len => {
                self.bytes()?;
            }
            WireType::StartGroup => loop {
                let at = self.rest;
                let (inner, iwt) = self.key()?;
                if iwt == WireType::EndGroup {
                    if inner != field {
                        self.rest = at;
                        return Err(self.error(Problem::UnexpectedEndGroup));
                    }
                    break;
                }
                self.skip(iwt, inner, depth - 1)?;
            },
            WireType::EndGroup => return Err(self.error(Problem::UnexpectedEndGroup)),
        }
        Ok(())
    }
}

#[inline(always)]
fn wire_type_of(v: u8) -> WireType {
    match v {
        0 => WireType::Varint,
        1 => WireType::I64,
        2 => WireType::Len,
        3 => WireType::StartGroup,
        4 => WireType::EndGroup,
        _ => WireType::I32,
    }
}

/// UTF-8 check with an inline fast path for short ASCII strings: most OTLP strings are
/// attribute keys and short values, below the size where simdutf8's vector path pays.
#[inline(always)]
pub(crate) fn utf8_ok(s: &[u8]) -> bool {
    if s.len() < 64 && short_ascii(s) {
        return true;
    }
    simdutf8::basic::from_utf8(s).is_ok()
}

/// ASCII check of a short slice with (overlapping) word loads instead of a byte loop.
#[inline(always)]
fn short_ascii(s: &[u8]) -> bool {
    const HI: u64 = 0x8080_8080_8080_8080;
    let n = s.len();
    let load8 = |i: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&s[i..i + 8]);
        u64::from_le_bytes(a)
    };
    if n >= 8 {
        let mut acc = load8(n - 8);
        let mut i = 0;
        while i + 8 <= n {
            acc |= load8(i);
            i += 8;
        }
        acc & HI == 0
    } else if n >= 4 {
        let load4 = |i: usize| {
            let mut a = [0u8; 4];
            a.copy_from_slice(&s[i..i + 4]);
            u32::from_le_bytes(a)
        };
        (load4(0) | load4(n - 4)) & 0x8080_8080 == 0
    } else {
        s.iter().all(|b| *b < 0x80)
    }
}

/// Number of bytes `v` takes as a varint.
#[inline]
pub(crate) const fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Appends `v` as a varint.
#[inline]
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a field key.
#[inline]
pub(crate) fn put_key(out: &mut Vec<u8>, field: u32, wt: WireType) {
    put_varint(out, (u64::from(field) << 3) | wt as u64);
}

/// The key of field `field` with wire type `wt` as the one byte it takes for fields 1 to
/// 15, for code that matches keys as bytes (the validator's attribute fast path). Meant for
/// `const` items, where a field outside 1..=15 fails the build instead of matching nothing.
pub(crate) const fn key_byte(field: u32, wt: WireType) -> u8 {
    assert!(
        field >= 1 && field <= 15,
        "a one-byte key needs a field of 1 to 15"
    );
    ((field << 3) | wt as u32) as u8
}

/// Appends a length-delimited field holding `body`.
#[inline]
pub(crate) fn put_len_field(out: &mut Vec<u8>, field: u32, body: &[u8]) {
    put_key(out, field, WireType::Len);
    put_varint(out, body.len() as u64);
    out.extend_from_slice(body);
}

/// Writes a length-delimited field whose body is produced by `f`, without a second buffer:
/// one byte is reserved for the length and the body is shifted if it needs more.
pub(crate) fn put_nested<F: FnOnce(&mut Vec<u8>)>(out: &mut Vec<u8>, field: u32, f: F) {
    put_key(out, field, WireType::Len);
    let len_at = out.len();
    out.push(0);
    f(out);
    backfill_len(out, len_at);
}

/// Puts the length of the body that follows the one placeholder byte at `len_at` (up to
/// the end of `out`) into that place, shifting the body when the length needs more bytes.
pub(crate) fn backfill_len(out: &mut Vec<u8>, len_at: usize) {
    let body_len = out.len() - len_at - 1;
    let n = varint_len(body_len as u64);
    if n > 1 {
        out.splice(len_at + 1..len_at + 1, std::iter::repeat_n(0u8, n - 1));
    }
    let mut v = body_len as u64;
    for i in 0..n {
        let more = if i + 1 < n { 0x80 } else { 0 };
        out[len_at + i] = (v as u8 & 0x7f) | more;
        v >>= 7;
    }
}

/// A field as seen by the views: validated data, so malformed input simply ends iteration.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value<'a> {
    Varint(u64),
    I64(u64),
    I32(u32),
    Len(&'a [u8]),
    /// A group, skipped (no OTLP field is a group).
    Group,
}

/// Iterates the fields of a (validated) message body.
#[derive(Clone, Debug)]
pub(crate) struct Fields<'a> {
    r: Reader<'a>,
}

impl<'a> Fields<'a> {
    #[inline]
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Fields {
            r: Reader::new(buf, 0),
        }
    }

    /// Byte position of the next field within the body.
    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.r.offset()
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = (u32, Value<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.r.is_empty() {
            return None;
        }
        let (field, wt) = self.r.key().ok()?;
        let v = match wt {
            WireType::Varint => Value::Varint(self.r.varint().ok()?),
            WireType::I64 => Value::I64(self.r.raw_fixed64().ok()?),
            WireType::I32 => Value::I32(self.r.raw_fixed32().ok()?),
            WireType::Len => Value::Len(self.r.bytes().ok()?.0),
            WireType::StartGroup => {
                self.r.skip(wt, field, RECURSION_LIMIT).ok()?;
                Value::Group
            }
            WireType::EndGroup => {
                self.r.rest = &[];
                return None;
            }
        };
        Some((field, v))
    }
}

/// Like [`Fields`], but also yields each field's raw bytes (key included), so edits can
/// copy untouched fields as they are.
#[derive(Clone, Debug)]
pub(crate) struct RawFields<'a> {
    buf: &'a [u8],
    inner: Fields<'a>,
}

impl<'a> RawFields<'a> {
    #[inline]
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        RawFields {
            buf,
            inner: Fields::new(buf),
        }
    }
}

impl<'a> Iterator for RawFields<'a> {
    type Item = (u32, Value<'a>, std::ops::Range<usize>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let start = self.inner.pos();
        let (f, v) = self.inner.next()?;
        let end = self.inner.pos();
        debug_assert!(end <= self.buf.len());
        Some((f, v, start..end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint(&mut out, v);
        out
    }

    #[test]
    fn varint_round_trip_and_len() {
        for v in [
            0,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u32::MAX as u64,
            u64::MAX,
        ] {
            let b = enc(v);
            assert_eq!(b.len(), varint_len(v), "{v}");
            let mut r = Reader::new(&b, 0);
            assert_eq!(r.varint().unwrap(), v);
            assert!(r.is_empty());
        }
    }

    #[test]
    fn varint_rejects_overflow_like_prost() {
        // Ten bytes whose last is 0x02 overflows u64.
        let mut b = vec![0xff; 9];
        b.push(0x02);
        assert_eq!(
            Reader::new(&b, 0).varint().unwrap_err().problem,
            Problem::InvalidVarint
        );
        // Eleven bytes.
        let b = vec![0x80; 11];
        assert!(Reader::new(&b, 0).varint().is_err());
        // Non-canonical but valid: 0x80 0x00 is zero.
        assert_eq!(Reader::new(&[0x80, 0x00], 0).varint().unwrap(), 0);
        // Truncated.
        assert!(Reader::new(&[0x80], 0).varint().is_err());
    }

    #[test]
    fn keys() {
        assert_eq!(
            Reader::new(&[0x00], 0).key().unwrap_err().problem,
            Problem::InvalidTag
        );
        assert_eq!(
            Reader::new(&[0x0e], 0).key().unwrap_err().problem,
            Problem::InvalidWireTypeValue(6)
        );
        assert_eq!(Reader::new(&[0x0a], 0).key().unwrap(), (1, WireType::Len));
        let mut big = enc(u64::from(u32::MAX) + 1);
        big.push(0);
        assert_eq!(
            Reader::new(&big, 0).key().unwrap_err().problem,
            Problem::InvalidKey
        );
    }

    #[test]
    fn key_byte_is_the_key_put_key_writes() {
        for field in 1..=15 {
            for wt in [
                WireType::Varint,
                WireType::I64,
                WireType::Len,
                WireType::I32,
            ] {
                let mut out = Vec::new();
                put_key(&mut out, field, wt);
                assert_eq!(out, [key_byte(field, wt)], "field {field}, {wt:?}");
            }
        }
    }

    #[test]
    fn skip_groups_and_depth() {
        // field 5 start-group, field 1 varint 7, field 5 end-group
        let b = [0x2b, 0x08, 0x07, 0x2c];
        let mut r = Reader::new(&b, 0);
        let (f, wt) = r.key().unwrap();
        r.skip(wt, f, 2).unwrap();
        assert!(r.is_empty());
        // Same group, but no budget left for its inner field.
        let mut r = Reader::new(&b, 0);
        let (f, wt) = r.key().unwrap();
        assert_eq!(
            r.skip(wt, f, 1).unwrap_err().problem,
            Problem::RecursionLimit
        );
        // Mismatched end group.
        let b = [0x2b, 0x34];
        let mut r = Reader::new(&b, 0);
        let (f, wt) = r.key().unwrap();
        assert_eq!(
            r.skip(wt, f, 5).unwrap_err().problem,
            Problem::UnexpectedEndGroup
        );
    }

    #[test]
    fn nested_writer_shifts_long_bodies() {
        for n in [0usize, 1, 127, 128, 20_000] {
            let mut out = vec![0xaa];
            put_nested(&mut out, 3, |o| o.extend(std::iter::repeat_n(7u8, n)));
            let mut r = Reader::new(&out[1..], 1);
            assert_eq!(r.key().unwrap(), (3, WireType::Len));
            let (body, _) = r.bytes().unwrap();
            assert_eq!(body.len(), n);
            assert!(r.is_empty());
        }
    }

    #[test]
    fn utf8_fast_path_agrees_with_std() {
        let cases: [&[u8]; 6] = [
            b"",
            b"service.name",
            "héllo wörld".as_bytes(),
            &[0xff],
            &[b'a'; 63],
            &[0xc3, 0x28],
        ];
        for c in cases {
            assert_eq!(utf8_ok(c), std::str::from_utf8(c).is_ok());
        }
    }

    #[test]
    fn error_path_formats_outermost_first() {
        let e = WireError::new(42, Problem::Truncated)
            .at("value", None)
            .at("attributes", Some(2))
            .at("spans", Some(12));
        assert_eq!(
            e.to_string(),
            "spans[12].attributes[2].value: truncated at byte 42"
        );
    }
}
