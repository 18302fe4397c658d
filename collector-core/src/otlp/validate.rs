//! One pass over a whole export request: structure, wire types, UTF-8, id lengths and item
//! counts, against the OTLP schema of the `opentelemetry-proto` crate in Cargo.lock.
//!
//! Accepts exactly what prost accepts (plus the id-length rule): unknown fields are skipped,
//! packed and unpacked repeated scalars are both allowed, a singular field may repeat (the
//! last occurrence wins, messages merge), recursion is counted as prost counts it.

// The field modules are named as the messages are, and so as the validator functions
// below: `fn span` matches `span::TRACE_ID`, ... (modules and functions do not clash).
use super::fields::exponential_histogram_data_point::{self, buckets};
use super::fields::span::{self, event, link};
use super::fields::summary_data_point::{self, value_at_quantile};
use super::fields::{
    any_value, array_value, entity_ref, exemplar, export_request, histogram_data_point,
    instrumentation_scope, key_value, key_value_list, log_record, metric, number_data_point,
    points_wrapper, resource, resource_x, scope_x, status, sum,
};
use super::wire::{self, Problem, Reader, WireError, WireResult, WireType};
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
        if field == export_request::RESOURCE_X && wt == WireType::Len {
            n += 1;
        }
        if r.skip(wt, field, wire::RECURSION_LIMIT).is_err() {
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
    let depth = wire::RECURSION_LIMIT;
    let (name, f): (&'static str, ItemsFn) = match signal {
        Signal::Traces => ("resource_spans", resource_spans),
        Signal::Logs => ("resource_logs", resource_logs),
        Signal::Metrics => ("resource_metrics", resource_metrics),
    };
    while !r.is_empty() {
        let start = r.offset();
        let (field, wt) = r.key()?;
        if field == export_request::RESOURCE_X {
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

/// The one-byte keys of the attribute shape [`key_value_fast`] accepts.
const KV_KEY_TAG: u8 = wire::key_byte(key_value::KEY, WireType::Len);
const KV_VALUE_TAG: u8 = wire::key_byte(key_value::VALUE, WireType::Len);
const STRING_TAG: u8 = wire::key_byte(any_value::STRING_VALUE, WireType::Len);
const BOOL_TAG: u8 = wire::key_byte(any_value::BOOL_VALUE, WireType::Varint);
const INT_TAG: u8 = wire::key_byte(any_value::INT_VALUE, WireType::Varint);
const DOUBLE_TAG: u8 = wire::key_byte(any_value::DOUBLE_VALUE, WireType::I64);

/// The common shape of an attribute, checked without the general field loop:
/// `key` then `value`, each with a one-byte length, the value a string, integer, bool or
/// double. Returns false when the input has any other shape (or is invalid), and the
/// general path then decides and reports.
#[inline(always)]
fn key_value_fast(buf: &[u8], depth: u32) -> bool {
    let [KV_KEY_TAG, klen, rest @ ..] = buf else {
        return false;
    };
    let klen = usize::from(*klen);
    if klen >= 0x80 || rest.len() < klen + 2 || depth == 0 {
        return false;
    }
    let (key, rest) = rest.split_at(klen);
    let [KV_VALUE_TAG, vlen, value @ ..] = rest else {
        return false;
    };
    if *vlen >= 0x80 || usize::from(*vlen) != value.len() || !wire::utf8_ok(key) {
        return false;
    }
    match value {
        [STRING_TAG, slen, s @ ..] => {
            *slen < 0x80 && usize::from(*slen) == s.len() && wire::utf8_ok(s)
        }
        [BOOL_TAG | INT_TAG, v @ ..] => {
            let mut r = Reader::new(v, 0);
            r.varint().is_ok() && r.is_empty()
        }
        [DOUBLE_TAG, d @ ..] => d.len() == 8,
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
            key_value::KEY => {
                at!(r.string(wt), "key");
            }
            key_value::VALUE => {
                let (b, off) = at!(r.message(wt, depth), "value");
                at!(any_value(b, off, depth - 1), "value");
            }
            key_value::KEY_STRINDEX => {
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
            any_value::STRING_VALUE => {
                at!(r.string(wt), "string_value");
            }
            any_value::BOOL_VALUE => {
                at!(r.varint_field(wt), "bool_value");
            }
            any_value::INT_VALUE => {
                at!(r.varint_field(wt), "int_value");
            }
            any_value::DOUBLE_VALUE => {
                at!(r.fixed64(wt), "double_value");
            }
            any_value::ARRAY_VALUE => {
                let (b, off) = at!(r.message(wt, depth), "array_value");
                at!(array_value(b, off, depth - 1), "array_value");
            }
            any_value::KVLIST_VALUE => {
                let (b, off) = at!(r.message(wt, depth), "kvlist_value");
                at!(key_value_list(b, off, depth - 1), "kvlist_value");
            }
            any_value::BYTES_VALUE => {
                at!(r.bytes_field(wt), "bytes_value");
            }
            any_value::STRING_VALUE_STRINDEX => {
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
        if field == array_value::VALUES {
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
        if field == key_value_list::VALUES {
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
            instrumentation_scope::NAME => {
                at!(r.string(wt), "name");
            }
            instrumentation_scope::VERSION => {
                at!(r.string(wt), "version");
            }
            instrumentation_scope::ATTRIBUTES => {
                attribute(&mut r, wt, depth, "attributes", &mut attrs)?
            }
            instrumentation_scope::DROPPED_ATTRIBUTES_COUNT => {
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
            entity_ref::SCHEMA_URL => {
                at!(r.string(wt), "schema_url");
            }
            entity_ref::TYPE => {
                at!(r.string(wt), "type");
            }
            entity_ref::ID_KEYS => {
                at!(r.string(wt), "id_keys");
            }
            entity_ref::DESCRIPTION_KEYS => {
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
            resource::ATTRIBUTES => attribute(&mut r, wt, depth, "attributes", &mut attrs)?,
            resource::DROPPED_ATTRIBUTES_COUNT => {
                at!(r.varint_field(wt), "dropped_attributes_count");
            }
            resource::ENTITY_REFS => {
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
            resource_x::RESOURCE => {
                let (b, off) = at!(r.message(wt, depth), "resource");
                at!(resource(b, off, depth - 1), "resource");
            }
            resource_x::SCOPE_X => {
                let (b, off) = r
                    .message(wt, depth)
                    .map_err(|e| e.at(scope_name, Some(i)))?;
                items += scope_x(b, off, depth - 1).map_err(|e| e.at(scope_name, Some(i)))?;
                i += 1;
            }
            resource_x::SCHEMA_URL => {
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
            scope_x::SCOPE => {
                let (b, off) = at!(r.message(wt, depth), "scope");
                at!(instrumentation_scope(b, off, depth - 1), "scope");
            }
            scope_x::ITEMS => {
                let (b, off) = r.message(wt, depth).map_err(|e| e.at(item_name, Some(i)))?;
                items += item(b, off, depth - 1).map_err(|e| e.at(item_name, Some(i)))?;
                i += 1;
            }
            scope_x::SCHEMA_URL => {
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
            span::TRACE_ID => {
                let off = r.offset();
                trace_id = Some((at!(r.id(wt), "trace_id"), off));
            }
            span::SPAN_ID => {
                let off = r.offset();
                span_id = Some((at!(r.id(wt), "span_id"), off));
            }
            span::TRACE_STATE => {
                at!(r.string(wt), "trace_state");
            }
            span::PARENT_SPAN_ID => {
                let off = r.offset();
                parent = Some((at!(r.id(wt), "parent_span_id"), off));
            }
            span::NAME => {
                at!(r.string(wt), "name");
            }
            span::KIND => {
                at!(r.varint_field(wt), "kind");
            }
            span::START_TIME_UNIX_NANO => {
                at!(r.fixed64(wt), "start_time_unix_nano");
            }
            span::END_TIME_UNIX_NANO => {
                at!(r.fixed64(wt), "end_time_unix_nano");
            }
            span::ATTRIBUTES => attribute(&mut r, wt, depth, "attributes", &mut attrs)?,
            span::DROPPED_ATTRIBUTES_COUNT => {
                at!(r.varint_field(wt), "dropped_attributes_count");
            }
            span::EVENTS => {
                let (b, off) = at!(r.message(wt, depth), "events", events);
                at!(event(b, off, depth - 1), "events", events);
                events += 1;
            }
            span::DROPPED_EVENTS_COUNT => {
                at!(r.varint_field(wt), "dropped_events_count");
            }
            span::LINKS => {
                let (b, off) = at!(r.message(wt, depth), "links", links);
                at!(link(b, off, depth - 1), "links", links);
                links += 1;
            }
            span::DROPPED_LINKS_COUNT => {
                at!(r.varint_field(wt), "dropped_links_count");
            }
            span::STATUS => {
                let (b, off) = at!(r.message(wt, depth), "status");
                at!(status(b, off, depth - 1), "status");
            }
            span::FLAGS => {
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
            event::TIME_UNIX_NANO => {
                at!(r.fixed64(wt), "time_unix_nano");
            }
            event::NAME => {
                at!(r.string(wt), "name");
            }
            event::ATTRIBUTES => attribute(&mut r, wt, depth, "attributes", &mut attrs)?,
            event::DROPPED_ATTRIBUTES_COUNT => {
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
            link::TRACE_ID => {
                let off = r.offset();
                trace_id = Some((at!(r.id(wt), "trace_id"), off));
            }
            link::SPAN_ID => {
                let off = r.offset();
                span_id = Some((at!(r.id(wt), "span_id"), off));
            }
            link::TRACE_STATE => {
                at!(r.string(wt), "trace_state");
            }
            link::ATTRIBUTES => attribute(&mut r, wt, depth, "attributes", &mut attrs)?,
            link::DROPPED_ATTRIBUTES_COUNT => {
                at!(r.varint_field(wt), "dropped_attributes_count");
            }
            link::FLAGS => {
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
            status::MESSAGE => {
                at!(r.string(wt), "message");
            }
            status::CODE => {
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
            log_record::TIME_UNIX_NANO => {
                at!(r.fixed64(wt), "time_unix_nano");
            }
            log_record::SEVERITY_NUMBER => {
                at!(r.varint_field(wt), "severity_number");
            }
            log_record::SEVERITY_TEXT => {
                at!(r.string(wt), "severity_text");
            }
            log_record::BODY => {
                let (b, off) = at!(r.message(wt, depth), "body");
                at!(any_value(b, off, depth - 1), "body");
            }
            log_record::ATTRIBUTES => attribute(&mut r, wt, depth, "attributes", &mut attrs)?,
            log_record::DROPPED_ATTRIBUTES_COUNT => {
                at!(r.varint_field(wt), "dropped_attributes_count");
            }
            log_record::FLAGS => {
                at!(r.fixed32(wt), "flags");
            }
            log_record::TRACE_ID => {
                let off = r.offset();
                trace_id = Some((at!(r.id(wt), "trace_id"), off));
            }
            log_record::SPAN_ID => {
                let off = r.offset();
                span_id = Some((at!(r.id(wt), "span_id"), off));
            }
            log_record::OBSERVED_TIME_UNIX_NANO => {
                at!(r.fixed64(wt), "observed_time_unix_nano");
            }
            log_record::EVENT_NAME => {
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
            metric::NAME => {
                at!(r.string(wt), "name");
                continue;
            }
            metric::DESCRIPTION => {
                at!(r.string(wt), "description");
                continue;
            }
            metric::UNIT => {
                at!(r.string(wt), "unit");
                continue;
            }
            metric::METADATA => {
                attribute(&mut r, wt, depth, "metadata", &mut metadata)?;
                continue;
            }
            metric::GAUGE => {
                let (b, off) = at!(r.message(wt, depth), "gauge");
                at!(
                    points_wrapper(b, off, depth - 1, GAUGE, number_data_point),
                    "gauge"
                )
            }
            metric::SUM => {
                let (b, off) = at!(r.message(wt, depth), "sum");
                at!(
                    points_wrapper(b, off, depth - 1, SUM, number_data_point),
                    "sum"
                )
            }
            metric::HISTOGRAM => {
                let (b, off) = at!(r.message(wt, depth), "histogram");
                at!(
                    points_wrapper(b, off, depth - 1, HISTOGRAM, histogram_data_point),
                    "histogram"
                )
            }
            metric::EXPONENTIAL_HISTOGRAM => {
                let (b, off) = at!(r.message(wt, depth), "exponential_histogram");
                at!(
                    points_wrapper(b, off, depth - 1, HISTOGRAM, exp_histogram_data_point),
                    "exponential_histogram"
                )
            }
            metric::SUMMARY => {
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

/// `Gauge`, `Sum`, `Histogram`, `ExponentialHistogram`, `Summary`: data points, and the
/// wrapper's own varint fields (`aggregation_temporality`, `is_monotonic`) that `varints`
/// has a bit for, a bit per field number.
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
            points_wrapper::DATA_POINTS => {
                let idx = n as u32;
                let (b, off) = at!(r.message(wt, depth), "data_points", idx);
                at!(point(b, off, depth - 1), "data_points", idx);
                n += 1;
            }
            points_wrapper::AGGREGATION_TEMPORALITY
                if varints & (1 << points_wrapper::AGGREGATION_TEMPORALITY) != 0 =>
            {
                at!(r.varint_field(wt), "aggregation_temporality");
            }
            sum::IS_MONOTONIC if varints & (1 << sum::IS_MONOTONIC) != 0 => {
                at!(r.varint_field(wt), "is_monotonic");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(n)
}

/// Varint fields of each data wrapper, as bits for [`points_wrapper()`].
const GAUGE: u32 = 0;
const SUM: u32 = (1 << points_wrapper::AGGREGATION_TEMPORALITY) | (1 << sum::IS_MONOTONIC);
const HISTOGRAM: u32 = 1 << points_wrapper::AGGREGATION_TEMPORALITY;
const SUMMARY: u32 = 0;

fn exemplar(buf: &[u8], base: usize, depth: u32) -> WireResult<()> {
    let mut r = Reader::new(buf, base);
    let (mut trace_id, mut span_id): (IdSeen, IdSeen) = (None, None);
    let mut attrs = 0u32;
    while !r.is_empty() {
        let (field, wt) = r.key()?;
        match field {
            exemplar::TIME_UNIX_NANO => {
                at!(r.fixed64(wt), "time_unix_nano");
            }
            exemplar::AS_DOUBLE => {
                at!(r.fixed64(wt), "as_double");
            }
            exemplar::SPAN_ID => {
                let off = r.offset();
                span_id = Some((at!(r.id(wt), "span_id"), off));
            }
            exemplar::TRACE_ID => {
                let off = r.offset();
                trace_id = Some((at!(r.id(wt), "trace_id"), off));
            }
            exemplar::AS_INT => {
                at!(r.fixed64(wt), "as_int");
            }
            exemplar::FILTERED_ATTRIBUTES => {
                attribute(&mut r, wt, depth, "filtered_attributes", &mut attrs)?
            }
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
            number_data_point::START_TIME_UNIX_NANO => {
                at!(r.fixed64(wt), "start_time_unix_nano");
            }
            number_data_point::TIME_UNIX_NANO => {
                at!(r.fixed64(wt), "time_unix_nano");
            }
            number_data_point::AS_DOUBLE => {
                at!(r.fixed64(wt), "as_double");
            }
            number_data_point::EXEMPLARS => exemplar_field(&mut r, wt, depth, &mut ex)?,
            number_data_point::AS_INT => {
                at!(r.fixed64(wt), "as_int");
            }
            number_data_point::ATTRIBUTES => {
                attribute(&mut r, wt, depth, "attributes", &mut attrs)?
            }
            number_data_point::FLAGS => {
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
            histogram_data_point::START_TIME_UNIX_NANO => {
                at!(r.fixed64(wt), "start_time_unix_nano");
            }
            histogram_data_point::TIME_UNIX_NANO => {
                at!(r.fixed64(wt), "time_unix_nano");
            }
            histogram_data_point::COUNT => {
                at!(r.fixed64(wt), "count");
            }
            histogram_data_point::SUM => {
                at!(r.fixed64(wt), "sum");
            }
            histogram_data_point::BUCKET_COUNTS => {
                at!(r.repeated_fixed64(wt), "bucket_counts");
            }
            histogram_data_point::EXPLICIT_BOUNDS => {
                at!(r.repeated_fixed64(wt), "explicit_bounds");
            }
            histogram_data_point::EXEMPLARS => exemplar_field(&mut r, wt, depth, &mut ex)?,
            histogram_data_point::ATTRIBUTES => {
                attribute(&mut r, wt, depth, "attributes", &mut attrs)?
            }
            histogram_data_point::FLAGS => {
                at!(r.varint_field(wt), "flags");
            }
            histogram_data_point::MIN => {
                at!(r.fixed64(wt), "min");
            }
            histogram_data_point::MAX => {
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
            buckets::OFFSET => {
                at!(r.varint_field(wt), "offset");
            }
            buckets::BUCKET_COUNTS => {
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
            exponential_histogram_data_point::ATTRIBUTES => {
                attribute(&mut r, wt, depth, "attributes", &mut attrs)?
            }
            exponential_histogram_data_point::START_TIME_UNIX_NANO => {
                at!(r.fixed64(wt), "start_time_unix_nano");
            }
            exponential_histogram_data_point::TIME_UNIX_NANO => {
                at!(r.fixed64(wt), "time_unix_nano");
            }
            exponential_histogram_data_point::COUNT => {
                at!(r.fixed64(wt), "count");
            }
            exponential_histogram_data_point::SUM => {
                at!(r.fixed64(wt), "sum");
            }
            exponential_histogram_data_point::SCALE => {
                at!(r.varint_field(wt), "scale");
            }
            exponential_histogram_data_point::ZERO_COUNT => {
                at!(r.fixed64(wt), "zero_count");
            }
            exponential_histogram_data_point::POSITIVE => {
                let (b, off) = at!(r.message(wt, depth), "positive");
                at!(buckets(b, off, depth - 1), "positive");
            }
            exponential_histogram_data_point::NEGATIVE => {
                let (b, off) = at!(r.message(wt, depth), "negative");
                at!(buckets(b, off, depth - 1), "negative");
            }
            exponential_histogram_data_point::FLAGS => {
                at!(r.varint_field(wt), "flags");
            }
            exponential_histogram_data_point::EXEMPLARS => {
                exemplar_field(&mut r, wt, depth, &mut ex)?
            }
            exponential_histogram_data_point::MIN => {
                at!(r.fixed64(wt), "min");
            }
            exponential_histogram_data_point::MAX => {
                at!(r.fixed64(wt), "max");
            }
            exponential_histogram_data_point::ZERO_THRESHOLD => {
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
            value_at_quantile::QUANTILE => {
                at!(r.fixed64(wt), "quantile");
            }
            value_at_quantile::VALUE => {
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
            summary_data_point::START_TIME_UNIX_NANO => {
                at!(r.fixed64(wt), "start_time_unix_nano");
            }
            summary_data_point::TIME_UNIX_NANO => {
                at!(r.fixed64(wt), "time_unix_nano");
            }
            summary_data_point::COUNT => {
                at!(r.fixed64(wt), "count");
            }
            summary_data_point::SUM => {
                at!(r.fixed64(wt), "sum");
            }
            summary_data_point::QUANTILE_VALUES => {
                let (b, off) = at!(r.message(wt, depth), "quantile_values", q);
                at!(value_at_quantile(b, off, depth - 1), "quantile_values", q);
                q += 1;
            }
            summary_data_point::ATTRIBUTES => {
                attribute(&mut r, wt, depth, "attributes", &mut attrs)?
            }
            summary_data_point::FLAGS => {
                at!(r.varint_field(wt), "flags");
            }
            _ => r.skip(wt, field, depth)?,
        }
    }
    Ok(())
}
