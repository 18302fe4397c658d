//! [`Payload`]: a validated export request held as slices of the bytes it arrived in.
//!
//! This file imports only what a payload is built from (`wire`, `validate`, `view`), so
//! that the modules built on payloads can import it without a circle. Their methods on
//! [`Payload`] live with them: splitting in `split.rs`, OTLP/JSON in `json_in.rs` and
//! `json.rs`.

use bytes::Bytes;
use smallvec::SmallVec;

use super::fields::export_request;
use super::validate;
use super::view::ResourceView;
use super::wire::{self, WireType};
use crate::{Error, Signal};

/// The most a received request's entry table may take, as a multiple of its body.
///
/// A `ResourceX` entry costs [`ENTRY_COST`] bytes once decoded, and the smallest one is two
/// bytes on the wire; without a bound, a body of empty entries decodes to some sixty times
/// its size. Real requests carry items in their entries and stay far below this ratio.
pub(crate) const DECODED_RATIO: usize = 4;

/// Added to [`DECODED_RATIO`] times the body, so that small requests are never refused.
pub(crate) const DECODED_SLACK: usize = 64 << 10;

/// What one entry costs while a request is decoded: its [`Entry`] and its range.
pub(crate) const ENTRY_COST: usize =
    std::mem::size_of::<Entry>() + std::mem::size_of::<validate::EntryRange>();

/// Why a received body did not become a payload.
#[derive(Debug)]
pub(crate) enum DecodeError {
    /// Not a valid request, or one whose decoded form would be out of proportion to it
    /// (gRPC `INVALID_ARGUMENT`, HTTP 400).
    Invalid(Error),
    /// Decoding it would take the collector over its memory budget (retryable).
    OverBudget,
}

/// One `ResourceSpans` / `ResourceLogs` / `ResourceMetrics` of a request.
///
/// The body is held as one or more [`Bytes`] pieces, each holding whole fields of the
/// `ResourceX` in order (a field never straddles two pieces). An entry that arrived from
/// the wire and was not edited also keeps its original framing, so writing it is one slice.
#[derive(Clone, Debug)]
pub struct Entry {
    /// Tag, length and body exactly as received, while the body is unedited.
    framed: Option<Bytes>,
    pieces: SmallVec<[Bytes; 2]>,
    body_len: usize,
    items: u64,
}

impl Entry {
    pub(crate) fn from_wire(framed: Bytes, header_len: usize, items: u64) -> Entry {
        let body = framed.slice(header_len..);
        Entry {
            body_len: body.len(),
            framed: Some(framed),
            pieces: SmallVec::from_iter([body]),
            items,
        }
    }

    /// An entry from already-validated body pieces.
    pub(crate) fn from_pieces(pieces: SmallVec<[Bytes; 2]>, items: u64) -> Entry {
        let body_len = pieces.iter().map(Bytes::len).sum();
        Entry {
            framed: None,
            pieces,
            body_len,
            items,
        }
    }

    /// The `ResourceX` body (without its tag and length), as whole-field pieces.
    pub fn pieces(&self) -> &[Bytes] {
        &self.pieces
    }

    /// Spans, log records or metric data points in this entry.
    pub fn items(&self) -> u64 {
        self.items
    }

    /// Length of the body in bytes.
    pub fn body_len(&self) -> usize {
        self.body_len
    }

    /// Length of the framed entry (tag, length, body) in bytes.
    pub fn encoded_len(&self) -> usize {
        match &self.framed {
            Some(f) => f.len(),
            None => 1 + wire::varint_len(self.body_len as u64) + self.body_len,
        }
    }

    /// A read-only view of the entry.
    pub fn view(&self) -> ResourceView<'_> {
        ResourceView::new(&self.pieces)
    }

    pub(crate) fn replace_pieces(&mut self, pieces: SmallVec<[Bytes; 2]>) {
        self.body_len = pieces.iter().map(Bytes::len).sum();
        self.pieces = pieces;
        self.framed = None;
    }

    /// Appends the framed entry to `out` (a copy).
    fn write_to(&self, out: &mut Vec<u8>) {
        match &self.framed {
            Some(f) => out.extend_from_slice(f),
            None => {
                wire::put_key(out, export_request::RESOURCE_X, WireType::Len);
                wire::put_varint(out, self.body_len as u64);
                for p in &self.pieces {
                    out.extend_from_slice(p);
                }
            }
        }
    }
}

/// Client metadata a receiver kept (`include_metadata`): request headers or gRPC metadata,
/// keys lower-cased, in arrival order. Used by batch `metadata_keys` and `from_context`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata(Vec<(String, String)>);

impl Metadata {
    /// Metadata from `(key, value)` pairs; keys are lower-cased.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Metadata {
        Metadata(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
        )
    }

    /// Every value of `key` (case-insensitive), in order.
    pub fn get<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// True when there is nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A validated OTLP export request of one signal, held as slices of its original bytes.
///
/// Cloning a payload clones reference counts, not data. Splitting, appending and resource
/// edits keep items as the bytes they arrived as.
///
/// ```
/// use collector_core::Signal;
/// use collector_core::otlp::Payload;
///
/// let json = br#"{"resourceSpans":[{
///     "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
///     "scopeSpans":[{"spans":[
///         {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"a"},
///         {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","name":"b"}
///     ]}]}]}"#;
/// let mut p = Payload::from_json(Signal::Traces, json)?;
/// assert_eq!(p.items(), 2);
///
/// // Split off the first span: both halves keep the resource, neither copies a span.
/// let first = p.split_to(1);
/// assert_eq!((first.items(), p.items()), (1, 1));
///
/// // The protobuf form decodes back to the same request.
/// let again = Payload::decode(Signal::Traces, first.to_bytes())?;
/// assert_eq!(again.to_bytes(), first.to_bytes());
/// # Ok::<(), collector_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Payload {
    signal: Signal,
    /// The `ResourceX` entries, in order. Visible to the module's other files for the split
    /// (`split.rs`), which moves entries between payloads and keeps `items` in step.
    pub(super) entries: Vec<Entry>,
    /// The sum of the entries' items.
    pub(super) items: u64,
    metadata: Option<std::sync::Arc<Metadata>>,
    /// Bytes of the buffers the entries keep alive, as far as this payload knows: the
    /// received buffer for a decoded payload. Splits keep the figure of the whole, so a
    /// small remainder of a large buffer shows as sparse and [`compact`](Self::compact)
    /// copies it out.
    retained: usize,
    /// What must live as long as any part of this payload: the persistent queue's claims
    /// on the log records it came from. Splits share them, appends gather them.
    holds: Vec<std::sync::Arc<dyn Hold>>,
}

/// A claim that lives as long as any part of a payload and acts when the last part goes:
/// the persistent queue releases a log record for an exporter when the payload read from
/// it is gone, delivered, dropped on purpose or dropped for good.
pub(crate) trait Hold: Send + Sync + std::fmt::Debug {
    /// The payload goes without having been dealt with (the collector is stopping): what
    /// the claim would release must stay for the next start.
    fn keep(&self);
}

impl Payload {
    /// An empty payload of `signal`.
    pub fn empty(signal: Signal) -> Payload {
        Payload {
            signal,
            entries: Vec::new(),
            items: 0,
            metadata: None,
            retained: 0,
            holds: Vec::new(),
        }
    }

    /// Validates an encoded `Export*ServiceRequest` and keeps it as slices of `bytes`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidData`](crate::ErrorKind::InvalidData) naming the byte offset and
    /// the field path of the first problem.
    pub fn decode(signal: Signal, bytes: Bytes) -> Result<Payload, Error> {
        let ranges = validate::validate(signal, &bytes, validate::count_entries(&bytes))?;
        Ok(Payload::from_ranges(signal, bytes, &ranges))
    }

    /// Decodes a received body held under `reservation`, so that what decoding builds is
    /// on the budget before it is built: the entry table (one [`Entry`] per `ResourceX`,
    /// counted from the framing alone) is added to the reservation, which then lives as
    /// long as any slice of the body. A request whose table would take more than
    /// [`DECODED_RATIO`] times its body plus [`DECODED_SLACK`] is refused as invalid: it
    /// was built to cost memory, not to carry telemetry. A request without items decodes
    /// to an empty payload and keeps nothing.
    pub(crate) fn decode_received<B>(
        signal: Signal,
        body: B,
        mut reservation: crate::memory::Reservation,
    ) -> Result<Payload, DecodeError>
    where
        B: AsRef<[u8]> + Send + 'static,
    {
        let len = body.as_ref().len();
        let entries = validate::count_entries(body.as_ref());
        let table = entries.saturating_mul(ENTRY_COST);
        let allowed = len
            .saturating_mul(DECODED_RATIO)
            .saturating_add(DECODED_SLACK);
        if table > allowed {
            return Err(DecodeError::Invalid(Error::new(
                crate::ErrorKind::InvalidData,
                format!(
                    "request refused: its {entries} resource entries would take {table} bytes \
                     to decode, more than {DECODED_RATIO} times its {len}-byte body plus \
                     {DECODED_SLACK} bytes"
                ),
            )));
        }
        reservation.shrink_to(len);
        if !reservation.try_grow(table) {
            return Err(DecodeError::OverBudget);
        }
        let bytes = crate::memory::hold(body, reservation, table);
        let ranges = validate::validate(signal, &bytes, entries)
            .map_err(|e| DecodeError::Invalid(e.into()))?;
        if ranges.iter().all(|r| r.items == 0) {
            return Ok(Payload::empty(signal));
        }
        Ok(Payload::from_ranges(signal, bytes, &ranges))
    }

    fn from_ranges(signal: Signal, bytes: Bytes, ranges: &[validate::EntryRange]) -> Payload {
        let mut items = 0;
        let entries = ranges
            .iter()
            .map(|r| {
                items += r.items;
                Entry::from_wire(bytes.slice(r.start..r.end), r.body - r.start, r.items)
            })
            .collect();
        Payload {
            signal,
            entries,
            items,
            metadata: None,
            retained: bytes.len(),
            holds: Vec::new(),
        }
    }

    /// A payload of the same signal and client metadata holding `entries` (`items` items in
    /// all), cut from this one by a split: it keeps this payload's `retained` figure, since
    /// the part pins the buffers the whole did.
    pub(super) fn part(&self, entries: Vec<Entry>, items: u64) -> Payload {
        Payload {
            signal: self.signal,
            entries,
            items,
            metadata: self.metadata.clone(),
            retained: self.retained,
            holds: self.holds.clone(),
        }
    }

    /// The signal of this payload.
    pub fn signal(&self) -> Signal {
        self.signal
    }

    /// The client metadata kept by the receiver, if any.
    pub fn metadata(&self) -> Option<&Metadata> {
        self.metadata.as_deref()
    }

    /// Replaces the client metadata (the batch processor keeps only `metadata_keys`).
    pub(crate) fn set_metadata(&mut self, metadata: Option<std::sync::Arc<Metadata>>) {
        self.metadata = metadata;
    }

    /// Attaches client metadata.
    pub fn with_metadata(mut self, metadata: std::sync::Arc<Metadata>) -> Payload {
        self.metadata = Some(metadata);
        self
    }

    /// Spans, log records or metric data points (the Go collector's `DataPointCount`).
    pub fn items(&self) -> u64 {
        self.items
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `ResourceX` entries.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Mutable access to the entries, for edits. Item counts are unaffected by resource
    /// edits; callers that drop items must build a new payload.
    pub fn entries_mut(&mut self) -> &mut [Entry] {
        &mut self.entries
    }

    /// Views of the resources, in order.
    pub fn resources(&self) -> impl Iterator<Item = ResourceView<'_>> {
        self.entries.iter().map(Entry::view)
    }

    /// Size of the encoded request in bytes.
    pub fn encoded_len(&self) -> usize {
        self.entries.iter().map(Entry::encoded_len).sum()
    }

    /// Bytes of underlying buffers this payload keeps alive (an upper bound).
    pub fn retained_len(&self) -> usize {
        self.retained.max(self.encoded_len())
    }

    /// The encoded request as one contiguous buffer.
    ///
    /// Returns the original bytes without copying when the payload is one unedited entry;
    /// otherwise copies. Exporters should prefer [`chunks`](Self::chunks).
    pub fn to_bytes(&self) -> Bytes {
        if let [
            Entry {
                framed: Some(f), ..
            },
        ] = self.entries.as_slice()
        {
            return f.clone();
        }
        let mut out = Vec::with_capacity(self.encoded_len());
        for e in &self.entries {
            e.write_to(&mut out);
        }
        Bytes::from(out)
    }

    /// The encoded request as a list of chunks for a vectored write: unedited entries are
    /// their original slices; edited ones get a small header chunk before their pieces.
    pub fn chunks(&self) -> Vec<Bytes> {
        let mut headers = Vec::new();
        for e in self.entries.iter().filter(|e| e.framed.is_none()) {
            wire::put_key(&mut headers, export_request::RESOURCE_X, WireType::Len);
            wire::put_varint(&mut headers, e.body_len as u64);
        }
        let headers = Bytes::from(headers);
        let mut at = 0;
        let mut out = Vec::with_capacity(self.entries.len() * 2);
        for e in &self.entries {
            match &e.framed {
                Some(f) => out.push(f.clone()),
                None => {
                    let n = 1 + wire::varint_len(e.body_len as u64);
                    out.push(headers.slice(at..at + n));
                    at += n;
                    out.extend(e.pieces.iter().cloned());
                }
            }
        }
        out
    }

    /// Appends `other`'s entries (a concatenation of the two requests).
    ///
    /// # Panics
    ///
    /// If the signals differ: that is a bug in the caller, never a property of input.
    pub fn append(&mut self, other: Payload) {
        assert_eq!(
            self.signal, other.signal,
            "appending payloads of two signals"
        );
        self.items += other.items;
        self.retained += other.retained;
        if self.metadata.is_none() {
            self.metadata = other.metadata;
        }
        self.entries.extend(other.entries);
        self.holds.extend(other.holds);
    }

    /// Adds a claim that lives as long as any part of this payload.
    pub(crate) fn hold(&mut self, hold: std::sync::Arc<dyn Hold>) {
        self.holds.push(hold);
    }

    /// This payload is being dropped undelivered because the collector stops: the claims
    /// it carries keep their records for the next start. True when it carries any (then
    /// it is not lost, and not counted as dropped).
    pub(crate) fn keep(&self) -> bool {
        for h in &self.holds {
            h.keep();
        }
        !self.holds.is_empty()
    }

    /// True when the payload keeps alive buffers much larger than itself (more than four
    /// times its encoded size and at least 4 KiB of waste).
    pub fn is_sparse(&self) -> bool {
        let used = self.encoded_len();
        let retained = self.retained_len();
        retained > used.saturating_mul(4) && retained - used >= 4096
    }

    /// Copies the payload into one buffer of its own size when it [is
    /// sparse](Self::is_sparse), releasing the larger buffers it pinned. Anything that
    /// keeps payloads for long (a batch remainder) calls this.
    pub fn compact(&mut self) {
        self.compact_in(None);
    }

    /// [`compact`](Self::compact), with the new buffer accounted on `budget`.
    pub(crate) fn compact_in(&mut self, budget: Option<&crate::memory::Budget>) {
        if !self.is_sparse() {
            return;
        }
        let mut out = Vec::with_capacity(self.encoded_len());
        for e in &self.entries {
            e.write_to(&mut out);
        }
        let all = crate::memory::maybe_accounted(out, budget);
        let mut at = 0;
        for e in &mut self.entries {
            let n = e.encoded_len();
            let framed = all.slice(at..at + n);
            let header = n - e.body_len;
            *e = Entry::from_wire(framed, header, e.items);
            at += n;
        }
        self.retained = all.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::memory::Budget;

    /// A request of `n` entries, each one scope holding `spans` empty spans.
    fn request(n: usize, spans: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..n {
            wire::put_nested(&mut out, 1, |rs| {
                if spans > 0 {
                    wire::put_nested(rs, 2, |ss| {
                        for _ in 0..spans {
                            wire::put_nested(ss, 2, |_| {});
                        }
                    });
                }
            });
        }
        out
    }

    #[test]
    fn a_body_of_empty_entries_is_refused_before_its_table_is_built() {
        // 1 MiB of `0a 00`: half a million entries, 60 MiB of table if it were built.
        let body = request(512 << 10, 0);
        let budget = Budget::new(1 << 30);
        let r = budget.try_reserve(body.len()).unwrap();
        let err = Payload::decode_received(Signal::Traces, body, r).unwrap_err();
        let DecodeError::Invalid(e) = err else {
            panic!("{err:?}")
        };
        assert!(e.message().contains("524288 resource entries"), "{e}");
        assert_eq!(budget.used(), 0);
        // The same shape under the ratio decodes (and, having no items, keeps nothing).
        let body = request(100, 0);
        let r = budget.try_reserve(body.len()).unwrap();
        let p = Payload::decode_received(Signal::Traces, body, r).unwrap();
        assert!(p.is_empty());
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn the_entry_table_is_reserved_with_the_body() {
        let body = request(1000, 20);
        let len = body.len();
        let budget = Budget::new(1 << 30);
        let r = budget.try_reserve(len).unwrap();
        let p = Payload::decode_received(Signal::Traces, body, r).unwrap();
        assert_eq!(p.items(), 20_000);
        assert_eq!(budget.used(), len + 1000 * ENTRY_COST);
        // It lives as long as any slice of the body: a split half still holds it.
        let mut p = p;
        let front = p.split_to(10_000);
        drop(p);
        assert_eq!(budget.used(), len + 1000 * ENTRY_COST);
        drop(front);
        assert_eq!(budget.used(), 0);
        // Without room for the table, the request is refused (retryable), nothing held.
        let body = request(1000, 20);
        let budget = Budget::new(len + 100);
        let r = budget.try_reserve(len).unwrap();
        assert!(matches!(
            Payload::decode_received(Signal::Traces, body, r),
            Err(DecodeError::OverBudget)
        ));
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn payload_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Payload>();
        check::<Entry>();
    }
}
