//! One pass over a whole export request: structure, wire types, UTF-8, id lengths and item
//! counts, against the OTLP schema of the `opentelemetry-proto` crate in Cargo.lock.
//!
//! Accepts exactly what prost accepts (plus the id-length rule): unknown fields are skipped,
//! packed and unpacked repeated scalars are both allowed, a singular field may repeat (the
//! last occurrence wins, messages merge), recursion is counted as prost counts it.

use super::wire::{Problem, Reader, WireError, WireResult, WireType};
use crate::Signal;

/// Adds a path segment to an error on its way up; free on success.
macro_rules! at {
    ($e:expr, $name:literal) => {
        $e.map_err(|e| e.at($name, None))?
    };
    ($e:expr, $name:literal, $idx:expr) => {
        $e.map_err(|e| e.at($name, Some($idx)))?
    };
}

/// Where a `ResourceX` entry sits in the request and how many items it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EntryRange {
    /// Offset of the entry's tag byte.
    pub(crate) start: usize,
    /// Offset of the first body byte (after tag and length).
    pub(crate) body: usize,
    /// One past the last body byte.
    pub(crate) end: usize,
    /// Spans, log records or metric data points.
    pub(crate) items: u64,
}

/// A validator for one message kind that returns the items it holds.
type ItemsFn = fn(&[u8], usize, u32) -> WireResult<u64>;

/// How many `ResourceX` entries a request frames, from its top-level tags and lengths
/// only (nothing below is read): what decoding it will build, known before anything is
/// built. A framing error stops the count; [`validate`] then reports it precisely.
pub(crate) fn count_entries(buf: &[u8]) -> usize {
    let mut r = Reader::new(buf, 0);
    let mut n = 0;
    while !r.is_empty() {
        let Ok((field, wt)) = r.key() else { break };
        if field == 1 && wt == WireType::Len {
            n += 1;
        }
        if r.skip(wt, field, super::wire::RECURSION_LIMIT).is_err() {
            break;
        }
    }
    n
}

/// Validates an export request and returns its entries. `capacity` is the number of
/// entries expected ([`count_entries`]), so the list is allocated once, at the size the
/// caller has accounted for.
pub(crate) fn validate(signal: Signal, buf: &[u8], capacity: usize) -> WireResult<Vec<EntryRange>> {
    let mut r = Reader::new(buf, 0);
    let mut entries = Vec::with_capacity(capacity);
    let depth = super::wire::RECURSION_LIMIT;
    let (name, f): (&'static str, ItemsFn) = match signal {
        Signal::Traces => ("resource_spans", resource_spans),
        Signal::Logs => ("resource_logs", resource_logs),
        Signal::Metrics => ("resource_metrics", resource_metrics),
    };
    while !r.is_empty() {
        let start = r.offset();
        let (field, wt) = r.key()?;
        if field == 1 {
            let idx = entries.len() as u32;
            let (b, off) = r.message(wt, depth).map_err(|e| e.at(name, Some(idx)))?;
            let items = f(b, off, depth - 1).map_err(|e| e.at(name, Some(idx)))?;
            entries.push(EntryRange {
                start,
                body: off,
                end: off + b.len(),
                items,
            });
        } else {
            r.skip(wt, field, depth)?;
        }
    }
    Ok(entries)
}

/// The last occurrence of an id field: `(length, offset)`.
type IdSeen = Option<(usize, usize)>;

#[inline]
fn check_id(seen: IdSeen, expected: usize, name: &'static str) -> WireResult<()> {
    match seen {
        Some((len, off)) if len != 0 && len != expected => {
            Err(WireError::new(off, Problem::InvalidIdLength { got: len, expected }).at(name, None))
        }
        _ => Ok(()),
    }
}

// ---- common.proto / resource.proto -------------------------------------------------------

/// The common shape of an attribute, checked without the general field loop:
/// `key = 1` then `value = 2`, each with a one-byte length, the value a string, integer,
/// bool or double. Returns false when the input has any other shape (or is invalid), and
/// the general path then decides and reports.
#[inline(always)]
fn key_value_fast(buf: &[u8], depth: u32) -> bool {
    let [0x0a, klen, rest @ ..] = buf else {
        return false;
    };
    let klen = usize::from(*klen);
    if klen >= 0x80 || rest.len() < klen + 2 || depth == 0 {
        return false;
    }
    let (key, rest) = rest.split_at(klen);
    let [0x12, vlen, value @ ..] = rest else {
        return false;
    };
    if *vlen >= 0x80 || usize::from(*vlen) != value.len() || !super::wire::utf8_ok(key) {
        return false;
    }
    match value {
        [0x0a, slen, s @ ..] => {
            *slen < 0x80 && usize::from(*slen) == s.len() && super::wire::utf8_ok(s)
        }
        [0x10 | 0x18, v @ ..] => {
            let mut r = Reader::new(v, 0);
            r.varint().is_ok() && r.is_empty()
        }
        [0x21, d @ ..] => d.len() == 8,
        _ => false,
    }
}

fn key_value(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    if key_value_fast(buf, depth) {
        return Ok(());
    }
    let mut r = Reader::new(buf, base);
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            1 => {
                at!(r.string(wt), "key");
            }
            2 => {
                let (b, off) = at!(r.message(wt, depth), "value");
                at!(any_value(b, off, depth - 1), "value");
            }
            3 => {
                at!(r.varint_field(wt), "key_strindex");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(())
}

pub(crate) fn any_value(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            1 => {
                at!(r.string(wt), "string_value");
            }
            2 => {
                at!(r.varint_field(wt), "bool_value");
            }
            3 => {
                at!(r.varint_field(wt), "int_value");
            }
            4 => {
                at!(r.fixed64(wt), "double_value");
            }
            5 => {
                let (b, off) = at!(r.message(wt, depth), "array_value");
                at!(array_value(b, off, depth - 1), "array_value");
            }
            6 => {
                let (b, off) = at!(r.message(wt, depth), "kvlist_value");
                at!(key_value_list(b, off, depth - 1), "kvlist_value");
            }
            7 => {
                at!(r.bytes_field(wt), "bytes_value");
            }
            8 => {
                at!(r.varint_field(wt), "string_value_strindex");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(())
}

fn array_value(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    let mut i = 0u32;
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        if field == 1 {
            let (b, off) = at!(r.message(wt, depth), "values", i);
            at!(any_value(b, off, depth - 1), "values", i);
            i += 1;
        } else {
            r.skip(wt, field, depth)?;
        }
    }
    Ok(())
}

fn key_value_list(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    let mut i = 0u32;
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        if field == 1 {
            let (b, off) = at!(r.message(wt, depth), "values", i);
            at!(key_value(b, off, depth - 1), "values", i);
            i += 1;
        } else {
            r.skip(wt, field, depth)?;
        }
    }
    Ok(())
}

/// A repeated `KeyValue` field occurrence; `i` is its index among the attributes.
#[inline]
fn attribute(
    r: &mut Reader<'_>,
    wt: WireType,
    depth: u32,
    name: &'static str,
    i: &mut u32,
) -> WireResult<()> {
    let idx = *i;
    let (b, off) = r.message(wt, depth).map_err(|e| e.at(name, Some(idx)))?;
    key_value(b, off, depth - 1).map_err(|e| e.at(name, Some(idx)))?;
    *i += 1;
    Ok(())
}

fn instrumentation_scope(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    let mut attrs = 0u32;
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            1 => {
                at!(r.string(wt), "name");
            }
            2 => {
                at!(r.string(wt), "version");
            }
            3 => attribute(&mut r, wt, depth, "attributes", &mut attrs)?,
            4 => {
                at!(r.varint_field(wt), "dropped_attributes_count");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(())
}

fn entity_ref(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            1 => {
                at!(r.string(wt), "schema_url");
            }
            2 => {
                at!(r.string(wt), "type");
            }
            3 => {
                at!(r.string(wt), "id_keys");
            }
            4 => {
                at!(r.string(wt), "description_keys");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(())
}

fn resource(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    let mut attrs = 0u32;
    let mut refs = 0u32;
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            1 => attribute(&mut r, wt, depth, "attributes", &mut attrs)?,
            2 => {
                at!(r.varint_field(wt), "dropped_attributes_count");
            }
            3 => {
                let (b, off) = at!(r.message(wt, depth), "entity_refs", refs);
                at!(entity_ref(b, off, depth - 1), "entity_refs", refs);
                refs += 1;
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(())
}

/// The shared shape of `ResourceSpans`/`ResourceLogs`/`ResourceMetrics`.
#[inline]
fn resource_x(
    buf: &[u8],
    base: usize,
    depth: u32,
    scope_name: &'static str,
    scope_x: ItemsFn,
) -> WireResult<u64> {
    let mut r = Reader::new(buf, base);
    let mut items = 0u64;
    let mut i = 0u32;
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            1 => {
                let (b, off) = at!(r.message(wt, depth), "resource");
                at!(resource(b, off, depth - 1), "resource");
            }
            2 => {
                let (b, off) = r
                    .message(wt, depth)
                    .map_err(|e| e.at(scope_name, Some(i)))?;
                items += scope_x(b, off, depth - 1).map_err(|e| e.at(scope_name, Some(i)))?;
                i += 1;
            }
            3 => {
                at!(r.string(wt), "schema_url");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(items)
}

/// The shared shape of `ScopeSpans`/`ScopeLogs`/`ScopeMetrics`.
#[inline]
fn scope_x(
    buf: &[u8],
    base: usize,
    depth: u32,
    item_name: &'static str,
    item: ItemsFn,
) -> WireResult<u64> {
    let mut r = Reader::new(buf, base);
    let mut items = 0u64;
    let mut i = 0u32;
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            1 => {
                let (b, off) = at!(r.message(wt, depth), "scope");
                at!(instrumentation_scope(b, off, depth - 1), "scope");
            }
            2 => {
                let (b, off) = r.message(wt, depth).map_err(|e| e.at(item_name, Some(i)))?;
                items += item(b, off, depth - 1).map_err(|e| e.at(item_name, Some(i)))?;
                i += 1;
            }
            3 => {
                at!(r.string(wt), "schema_url");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(items)
}

// ---- trace.proto --------------------------------------------------------------------------

fn resource_spans(buf: &[u8], base: usize, depth: u32) -> WireResult<u64> {
    resource_x(buf, base, depth, "scope_spans", scope_spans)
}

fn scope_spans(buf: &[u8], base: usize, depth: u32) -> WireResult<u64> {
    scope_x(buf, base, depth, "spans", span)
}

fn span(buf: &[u8], base: usize, depth: u32) -> WireResult<u64> {
    let mut r = Reader::new(buf, base);
    let (mut trace_id, mut span_id, mut parent): (IdSeen, IdSeen, IdSeen) = (None, None, None);
    let (mut attrs, mut events, mut links) = (0u32, 0u32, 0u32);
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            1 => {
                let off = r.offset();
                trace_id = Some((at!(r.id(wt), "trace_id"), off));
            }
            2 => {
                let off = r.offset();
                span_id = Some((at!(r.id(wt), "span_id"), off));
            }
            3 => {
                at!(r.string(wt), "trace_state");
            }
            4 => {
                let off = r.offset();
                parent = Some((at!(r.id(wt), "parent_span_id"), off));
            }
            5 => {
                at!(r.string(wt), "name");
            }
            6 => {
                at!(r.varint_field(wt), "kind");
            }
            7 => {
                at!(r.fixed64(wt), "start_time_unix_nano");
            }
            8 => {
                at!(r.fixed64(wt), "end_time_unix_nano");
            }
            9 => attribute(&mut r, wt, depth, "attributes", &mut attrs)?,
            10 => {
                at!(r.varint_field(wt), "dropped_attributes_count");
            }
            11 => {
                let (b, off) = at!(r.message(wt, depth), "events", events);
                at!(event(b, off, depth - 1), "events", events);
                events += 1;
            }
            12 => {
                at!(r.varint_field(wt), "dropped_events_count");
            }
            13 => {
                let (b, off) = at!(r.message(wt, depth), "links", links);
                at!(link(b, off, depth - 1), "links", links);
                links += 1;
            }
            14 => {
                at!(r.varint_field(wt), "dropped_links_count");
            }
            15 => {
                let (b, off) = at!(r.message(wt, depth), "status");
                at!(status(b, off, depth - 1), "status");
            }
            16 => {
                at!(r.fixed32(wt), "flags");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    check_id(trace_id, 16, "trace_id")?;
    check_id(span_id, 8, "span_id")?;
    check_id(parent, 8, "parent_span_id")?;
    Ok(1)
}

fn event(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    let mut attrs = 0u32;
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            1 => {
                at!(r.fixed64(wt), "time_unix_nano");
            }
            2 => {
                at!(r.string(wt), "name");
            }
            3 => attribute(&mut r, wt, depth, "attributes", &mut attrs)?,
            4 => {
                at!(r.varint_field(wt), "dropped_attributes_count");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(())
}

fn link(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    let (mut trace_id, mut span_id): (IdSeen, IdSeen) = (None, None);
    let mut attrs = 0u32;
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            1 => {
                let off = r.offset();
                trace_id = Some((at!(r.id(wt), "trace_id"), off));
            }
            2 => {
                let off = r.offset();
                span_id = Some((at!(r.id(wt), "span_id"), off));
            }
            3 => {
                at!(r.string(wt), "trace_state");
            }
            4 => attribute(&mut r, wt, depth, "attributes", &mut attrs)?,
            5 => {
                at!(r.varint_field(wt), "dropped_attributes_count");
            }
            6 => {
                at!(r.fixed32(wt), "flags");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    check_id(trace_id, 16, "trace_id")?;
    check_id(span_id, 8, "span_id")?;
    Ok(())
}

fn status(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            2 => {
                at!(r.string(wt), "message");
            }
            3 => {
                at!(r.varint_field(wt), "code");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(())
}

// ---- logs.proto ---------------------------------------------------------------------------

fn resource_logs(buf: &[u8], base: usize, depth: u32) -> WireResult<u64> {
    resource_x(buf, base, depth, "scope_logs", scope_logs)
}

fn scope_logs(buf: &[u8], base: usize, depth: u32) -> WireResult<u64> {
    scope_x(buf, base, depth, "log_records", log_record)
}

fn log_record(buf: &[u8], base: usize, depth: u32) -> WireResult<u64> {
    let mut r = Reader::new(buf, base);
    let (mut trace_id, mut span_id): (IdSeen, IdSeen) = (None, None);
    let mut attrs = 0u32;
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            1 => {
                at!(r.fixed64(wt), "time_unix_nano");
            }
            2 => {
                at!(r.varint_field(wt), "severity_number");
            }
            3 => {
                at!(r.string(wt), "severity_text");
            }
            5 => {
                let (b, off) = at!(r.message(wt, depth), "body");
                at!(any_value(b, off, depth - 1), "body");
            }
            6 => attribute(&mut r, wt, depth, "attributes", &mut attrs)?,
            7 => {
                at!(r.varint_field(wt), "dropped_attributes_count");
            }
            8 => {
                at!(r.fixed32(wt), "flags");
            }
            9 => {
                let off = r.offset();
                trace_id = Some((at!(r.id(wt), "trace_id"), off));
            }
            10 => {
                let off = r.offset();
                span_id = Some((at!(r.id(wt), "span_id"), off));
            }
            11 => {
                at!(r.fixed64(wt), "observed_time_unix_nano");
            }
            12 => {
                at!(r.string(wt), "event_name");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    check_id(trace_id, 16, "trace_id")?;
    check_id(span_id, 8, "span_id")?;
    Ok(1)
}

// ---- metrics.proto ------------------------------------------------------------------------

fn resource_metrics(buf: &[u8], base: usize, depth: u32) -> WireResult<u64> {
    resource_x(buf, base, depth, "scope_metrics", scope_metrics)
}

fn scope_metrics(buf: &[u8], base: usize, depth: u32) -> WireResult<u64> {
    scope_x(buf, base, depth, "metrics", metric)
}

/// Returns the metric's data point count as the Go collector's `DataPointCount` sees it
/// after a prost-style decode: the `data` oneof keeps its last variant, and consecutive
/// occurrences of the same variant merge.
fn metric(buf: &[u8], base: usize, depth: u32) -> WireResult<u64> {
    let mut r = Reader::new(buf, base);
    let mut metadata = 0u32;
    let mut variant = 0u32;
    let mut points = 0u64;
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        let n = match field {
            1 => {
                at!(r.string(wt), "name");
                continue;
            }
            2 => {
                at!(r.string(wt), "description");
                continue;
            }
            3 => {
                at!(r.string(wt), "unit");
                continue;
            }
            12 => {
                attribute(&mut r, wt, depth, "metadata", &mut metadata)?;
                continue;
            }
            5 => {
                let (b, off) = at!(r.message(wt, depth), "gauge");
                at!(
                    points_wrapper(b, off, depth - 1, GAUGE, number_data_point),
                    "gauge"
                )
            }
            7 => {
                let (b, off) = at!(r.message(wt, depth), "sum");
                at!(
                    points_wrapper(b, off, depth - 1, SUM, number_data_point),
                    "sum"
                )
            }
            9 => {
                let (b, off) = at!(r.message(wt, depth), "histogram");
                at!(
                    points_wrapper(b, off, depth - 1, HISTOGRAM, histogram_data_point),
                    "histogram"
                )
            }
            10 => {
                let (b, off) = at!(r.message(wt, depth), "exponential_histogram");
                at!(
                    points_wrapper(b, off, depth - 1, HISTOGRAM, exp_histogram_data_point),
                    "exponential_histogram"
                )
            }
            11 => {
                let (b, off) = at!(r.message(wt, depth), "summary");
                at!(
                    points_wrapper(b, off, depth - 1, SUMMARY, summary_data_point),
                    "summary"
                )
            }
            _ => {
                r.skip(wt, field, depth)?;
                continue;
            }
        };
        if field == variant {
            points += n;
        } else {
            variant = field;
            points = n;
        }
    }
    Ok(points)
}

/// `Gauge`, `Sum`, `Histogram`, `ExponentialHistogram`, `Summary`: data points in field 1;
/// `varints` are the wrapper's own varint fields (`aggregation_temporality` = 2,
/// `is_monotonic` = 3), a bit per field number.
fn points_wrapper(
    buf: &[u8],
    base: usize,
    depth: u32,
    varints: u32,
    point: fn(&[u8], usize, u32) -> WireResult<()>,
) -> WireResult<u64> {
    let mut r = Reader::new(buf, base);
    let mut n = 0u64;
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            1 => {
                let idx = n as u32;
                let (b, off) = at!(r.message(wt, depth), "data_points", idx);
                at!(point(b, off, depth - 1), "data_points", idx);
                n += 1;
            }
            2 if varints & (1 << 2) != 0 => {
                at!(r.varint_field(wt), "aggregation_temporality");
            }
            3 if varints & (1 << 3) != 0 => {
                at!(r.varint_field(wt), "is_monotonic");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(n)
}

/// Varint fields of each data wrapper, as bits for [`points_wrapper`].
const GAUGE: u32 = 0;
const SUM: u32 = (1 << 2) | (1 << 3);
const HISTOGRAM: u32 = 1 << 2;
const SUMMARY: u32 = 0;

fn exemplar(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    let (mut trace_id, mut span_id): (IdSeen, IdSeen) = (None, None);
    let mut attrs = 0u32;
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            2 => {
                at!(r.fixed64(wt), "time_unix_nano");
            }
            3 => {
                at!(r.fixed64(wt), "as_double");
            }
            4 => {
                let off = r.offset();
                span_id = Some((at!(r.id(wt), "span_id"), off));
            }
            5 => {
                let off = r.offset();
                trace_id = Some((at!(r.id(wt), "trace_id"), off));
            }
            6 => {
                at!(r.fixed64(wt), "as_int");
            }
            7 => attribute(&mut r, wt, depth, "filtered_attributes", &mut attrs)?,
            _ => r.skip(wt, field, depth)?,
        }
    }
    check_id(trace_id, 16, "trace_id")?;
    check_id(span_id, 8, "span_id")?;
    Ok(())
}

#[inline]
fn exemplar_field(r: &mut Reader<'_>, wt: WireType, depth: u32, i: &mut u32) -> WireResult<()> {
    let idx = *i;
    let (b, off) = at!(r.message(wt, depth), "exemplars", idx);
    at!(exemplar(b, off, depth - 1), "exemplars", idx);
    *i += 1;
    Ok(())
}

fn number_data_point(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    let (mut attrs, mut ex) = (0u32, 0u32);
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            2 => {
                at!(r.fixed64(wt), "start_time_unix_nano");
            }
            3 => {
                at!(r.fixed64(wt), "time_unix_nano");
            }
            4 => {
                at!(r.fixed64(wt), "as_double");
            }
            5 => exemplar_field(&mut r, wt, depth, &mut ex)?,
            6 => {
                at!(r.fixed64(wt), "as_int");
            }
            7 => attribute(&mut r, wt, depth, "attributes", &mut attrs)?,
            8 => {
                at!(r.varint_field(wt), "flags");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(())
}

fn histogram_data_point(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    let (mut attrs, mut ex) = (0u32, 0u32);
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            2 => {
                at!(r.fixed64(wt), "start_time_unix_nano");
            }
            3 => {
                at!(r.fixed64(wt), "time_unix_nano");
            }
            4 => {
                at!(r.fixed64(wt), "count");
            }
            5 => {
                at!(r.fixed64(wt), "sum");
            }
            6 => {
                at!(r.repeated_fixed64(wt), "bucket_counts");
            }
            7 => {
                at!(r.repeated_fixed64(wt), "explicit_bounds");
            }
            8 => exemplar_field(&mut r, wt, depth, &mut ex)?,
            9 => attribute(&mut r, wt, depth, "attributes", &mut attrs)?,
            10 => {
                at!(r.varint_field(wt), "flags");
            }
            11 => {
                at!(r.fixed64(wt), "min");
            }
            12 => {
                at!(r.fixed64(wt), "max");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(())
}

fn buckets(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            1 => {
                at!(r.varint_field(wt), "offset");
            }
            2 => {
                at!(r.repeated_varint(wt), "bucket_counts");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(())
}

fn exp_histogram_data_point(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    let (mut attrs, mut ex) = (0u32, 0u32);
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            1 => attribute(&mut r, wt, depth, "attributes", &mut attrs)?,
            2 => {
                at!(r.fixed64(wt), "start_time_unix_nano");
            }
            3 => {
                at!(r.fixed64(wt), "time_unix_nano");
            }
            4 => {
                at!(r.fixed64(wt), "count");
            }
            5 => {
                at!(r.fixed64(wt), "sum");
            }
            6 => {
                at!(r.varint_field(wt), "scale");
            }
            7 => {
                at!(r.fixed64(wt), "zero_count");
            }
            8 => {
                let (b, off) = at!(r.message(wt, depth), "positive");
                at!(buckets(b, off, depth - 1), "positive");
            }
            9 => {
                let (b, off) = at!(r.message(wt, depth), "negative");
                at!(buckets(b, off, depth - 1), "negative");
            }
            10 => {
                at!(r.varint_field(wt), "flags");
            }
            11 => exemplar_field(&mut r, wt, depth, &mut ex)?,
            12 => {
                at!(r.fixed64(wt), "min");
            }
            13 => {
                at!(r.fixed64(wt), "max");
            }
            14 => {
                at!(r.fixed64(wt), "zero_threshold");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(())
}

fn value_at_quantile(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            1 => {
                at!(r.fixed64(wt), "quantile");
            }
            2 => {
                at!(r.fixed64(wt), "value");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(())
}

fn summary_data_point(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    let (mut attrs, mut q) = (0u32, 0u32);
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            2 => {
                at!(r.fixed64(wt), "start_time_unix_nano");
            }
            3 => {
                at!(r.fixed64(wt), "time_unix_nano");
            }
            4 => {
                at!(r.fixed64(wt), "count");
            }
            5 => {
                at!(r.fixed64(wt), "sum");
            }
            6 => {
                let (b, off) = at!(r.message(wt, depth), "quantile_values", q);
                at!(value_at_quantile(b, off, depth - 1), "quantile_values", q);
                q += 1;
            }
            7 => attribute(&mut r, wt, depth, "attributes", &mut attrs)?,
            8 => {
                at!(r.varint_field(wt), "flags");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(())
}
