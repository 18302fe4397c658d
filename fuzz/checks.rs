//! Properties shared by the fuzz targets, the committed-corpus replay test
//! (`collector-core/tests/otlp_fuzz_corpus.rs`) and the wire layer's unit tests. Uses only
//! the public API of `collector-core`, with prost (`opentelemetry-proto`) as the reference.
//!
//! Every check panics when the wire layer disagrees with the reference; that is what the
//! fuzzer looks for.

#![allow(dead_code)]

use bytes::Bytes;
use collector_core::Signal;
use collector_core::otlp::{Payload, Value};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{Exemplar, Metric, metric};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

fn id_ok(b: &[u8], len: usize) -> bool {
    b.is_empty() || b.len() == len
}

/// Spans in a request.
pub fn trace_items(r: &ExportTraceServiceRequest) -> u64 {
    r.resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len() as u64)
        .sum()
}

/// Every trace id 16 bytes and span id 8 bytes, or empty.
pub fn trace_ids_ok(r: &ExportTraceServiceRequest) -> bool {
    r.resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .all(|s| {
            id_ok(&s.trace_id, 16)
                && id_ok(&s.span_id, 8)
                && id_ok(&s.parent_span_id, 8)
                && s.links
                    .iter()
                    .all(|l| id_ok(&l.trace_id, 16) && id_ok(&l.span_id, 8))
        })
}

/// Log records in a request.
pub fn log_items(r: &ExportLogsServiceRequest) -> u64 {
    r.resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len() as u64)
        .sum()
}

/// Every trace id 16 bytes and span id 8 bytes, or empty.
pub fn log_ids_ok(r: &ExportLogsServiceRequest) -> bool {
    r.resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
        .all(|l| id_ok(&l.trace_id, 16) && id_ok(&l.span_id, 8))
}

/// Data points of one metric, as the Go collector's `DataPointCount` counts them.
pub fn metric_points(m: &Metric) -> u64 {
    match &m.data {
        None => 0,
        Some(metric::Data::Gauge(g)) => g.data_points.len() as u64,
        Some(metric::Data::Sum(s)) => s.data_points.len() as u64,
        Some(metric::Data::Histogram(h)) => h.data_points.len() as u64,
        Some(metric::Data::ExponentialHistogram(e)) => e.data_points.len() as u64,
        Some(metric::Data::Summary(s)) => s.data_points.len() as u64,
    }
}

/// Metric data points in a request.
pub fn metric_items(r: &ExportMetricsServiceRequest) -> u64 {
    r.resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(metric_points)
        .sum()
}

/// Every exemplar's trace id 16 bytes and span id 8 bytes, or empty.
pub fn metric_ids_ok(r: &ExportMetricsServiceRequest) -> bool {
    let ex_ok = |e: &Exemplar| id_ok(&e.trace_id, 16) && id_ok(&e.span_id, 8);
    r.resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .all(|m| match &m.data {
            Some(metric::Data::Gauge(g)) => {
                g.data_points.iter().flat_map(|p| &p.exemplars).all(ex_ok)
            }
            Some(metric::Data::Sum(g)) => {
                g.data_points.iter().flat_map(|p| &p.exemplars).all(ex_ok)
            }
            Some(metric::Data::Histogram(g)) => {
                g.data_points.iter().flat_map(|p| &p.exemplars).all(ex_ok)
            }
            Some(metric::Data::ExponentialHistogram(g)) => {
                g.data_points.iter().flat_map(|p| &p.exemplars).all(ex_ok)
            }
            _ => true,
        })
}

/// A request decoded by prost.
pub enum Decoded {
    Traces(ExportTraceServiceRequest),
    Logs(ExportLogsServiceRequest),
    Metrics(ExportMetricsServiceRequest),
}

impl Decoded {
    /// prost's decode of `bytes` as a request of `signal`.
    pub fn decode(signal: Signal, bytes: &[u8]) -> Option<Decoded> {
        match signal {
            Signal::Traces => ExportTraceServiceRequest::decode(bytes)
                .ok()
                .map(Decoded::Traces),
            Signal::Logs => ExportLogsServiceRequest::decode(bytes)
                .ok()
                .map(Decoded::Logs),
            Signal::Metrics => ExportMetricsServiceRequest::decode(bytes)
                .ok()
                .map(Decoded::Metrics),
        }
    }

    pub fn items(&self) -> u64 {
        match self {
            Decoded::Traces(r) => trace_items(r),
            Decoded::Logs(r) => log_items(r),
            Decoded::Metrics(r) => metric_items(r),
        }
    }

    pub fn ids_ok(&self) -> bool {
        match self {
            Decoded::Traces(r) => trace_ids_ok(r),
            Decoded::Logs(r) => log_ids_ok(r),
            Decoded::Metrics(r) => metric_ids_ok(r),
        }
    }

    /// prost's canonical encoding.
    pub fn canonical(&self) -> Vec<u8> {
        match self {
            Decoded::Traces(r) => r.encode_to_vec(),
            Decoded::Logs(r) => r.encode_to_vec(),
            Decoded::Metrics(r) => r.encode_to_vec(),
        }
    }

    /// The attribute lists of every span, log record and data point, for reference edits.
    pub fn item_attributes_mut(&mut self) -> Vec<&mut Vec<KeyValue>> {
        match self {
            Decoded::Traces(r) => r
                .resource_spans
                .iter_mut()
                .flat_map(|r| &mut r.scope_spans)
                .flat_map(|s| &mut s.spans)
                .map(|s| &mut s.attributes)
                .collect(),
            Decoded::Logs(r) => r
                .resource_logs
                .iter_mut()
                .flat_map(|r| &mut r.scope_logs)
                .flat_map(|s| &mut s.log_records)
                .map(|l| &mut l.attributes)
                .collect(),
            Decoded::Metrics(r) => {
                let mut out = Vec::new();
                for m in r
                    .resource_metrics
                    .iter_mut()
                    .flat_map(|r| &mut r.scope_metrics)
                    .flat_map(|s| &mut s.metrics)
                {
                    match &mut m.data {
                        Some(metric::Data::Gauge(g)) => {
                            out.extend(g.data_points.iter_mut().map(|p| &mut p.attributes))
                        }
                        Some(metric::Data::Sum(g)) => {
                            out.extend(g.data_points.iter_mut().map(|p| &mut p.attributes))
                        }
                        Some(metric::Data::Histogram(g)) => {
                            out.extend(g.data_points.iter_mut().map(|p| &mut p.attributes))
                        }
                        Some(metric::Data::ExponentialHistogram(g)) => {
                            out.extend(g.data_points.iter_mut().map(|p| &mut p.attributes))
                        }
                        Some(metric::Data::Summary(g)) => {
                            out.extend(g.data_points.iter_mut().map(|p| &mut p.attributes))
                        }
                        None => {}
                    }
                }
                out
            }
        }
    }

    /// The resources, mutable, for reference edits.
    pub fn resources_mut(&mut self) -> Vec<&mut Option<Resource>> {
        match self {
            Decoded::Traces(r) => r
                .resource_spans
                .iter_mut()
                .map(|r| &mut r.resource)
                .collect(),
            Decoded::Logs(r) => r
                .resource_logs
                .iter_mut()
                .map(|r| &mut r.resource)
                .collect(),
            Decoded::Metrics(r) => r
                .resource_metrics
                .iter_mut()
                .map(|r| &mut r.resource)
                .collect(),
        }
    }
}

/// The acceptance oracle: prost decodes it and its ids have valid lengths.
pub fn oracle(signal: Signal, bytes: &[u8]) -> Option<Decoded> {
    Decoded::decode(signal, bytes).filter(Decoded::ids_ok)
}

/// The signal a fuzz input's first byte selects.
pub fn signal_of(b: u8) -> Signal {
    Signal::ALL[usize::from(b) % 3]
}

/// prost's canonical encoding of what the payload holds.
fn payload_canonical(p: &Payload) -> Vec<u8> {
    let bytes = p.to_bytes();
    let joined: Vec<u8> = p.chunks().iter().flat_map(|c| c.iter().copied()).collect();
    assert_eq!(&bytes[..], &joined[..], "chunks and to_bytes disagree");
    match Decoded::decode(p.signal(), &bytes) {
        Some(d) => {
            assert_eq!(
                d.items(),
                p.items(),
                "payload count disagrees with its bytes"
            );
            d.canonical()
        }
        None => panic!("the wire layer produced bytes prost cannot decode"),
    }
}

/// Validation never panics and agrees with the oracle on acceptance and item counts; an
/// accepted payload re-encodes to the same request.
pub fn check_validate(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let signal = signal_of(sel);
    let reference = oracle(signal, body);
    let ours = Payload::decode(signal, Bytes::copy_from_slice(body));
    match (&reference, &ours) {
        (Some(r), Ok(p)) => {
            assert_eq!(p.items(), r.items(), "item count");
            assert_eq!(payload_canonical(p), r.canonical(), "re-encoding");
        }
        (None, Err(_)) => {}
        (Some(_), Err(e)) => panic!("prost accepts, we reject: {e}"),
        (None, Ok(_)) => panic!("prost rejects, we accept"),
    }
}

/// JSON decoding never panics; what it accepts is a valid request that survives a round
/// trip through our JSON writer.
pub fn check_json(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let signal = signal_of(sel);
    let Ok(p) = Payload::from_json(signal, body) else {
        return;
    };
    let canonical = payload_canonical(&p);
    let json = p.to_json();
    let back = Payload::from_json(signal, &json).expect("our own JSON must parse");
    assert_eq!(payload_canonical(&back), canonical, "JSON round trip");
}

/// The reference of a resource attribute edit (decode, modify, encode): `op` 0 insert,
/// 1 update, 2 upsert, 3 delete. Keys set by update/upsert keep their first position and
/// lose later duplicates.
pub fn reference_edit(res: &mut Option<Resource>, op: u8, key: &str, value: &AnyValue) {
    let present = res
        .as_ref()
        .is_some_and(|r| r.attributes.iter().any(|a| a.key == key));
    let push = |res: &mut Option<Resource>| {
        res.get_or_insert_default().attributes.push(KeyValue {
            key: key.to_owned(),
            value: Some(value.clone()),
            key_strindex: 0,
        })
    };
    let set_first = |res: &mut Option<Resource>| {
        let mut seen = false;
        if let Some(r) = res.as_mut() {
            r.attributes.retain_mut(|a| {
                if a.key != key {
                    return true;
                }
                if seen {
                    return false;
                }
                seen = true;
                a.value = Some(value.clone());
                true
            });
        }
    };
    match (op % 4, present) {
        (0, false) | (2, false) => push(res),
        (1, true) | (2, true) => set_first(res),
        (3, true) => {
            if let Some(r) = res.as_mut() {
                r.attributes.retain(|a| a.key != key)
            }
        }
        _ => {}
    }
}

/// Applies the same edit through the wire layer.
pub fn wire_edit(p: &mut Payload, entry: usize, op: u8, key: &str, value: &str) {
    p.entries_mut()[entry].edit_resource(|a| match op % 4 {
        0 => {
            a.insert(key, Value::Str(value.to_owned()));
        }
        1 => {
            a.update(key, Value::Str(value.to_owned()));
        }
        2 => a.upsert(key, Value::Str(value.to_owned())),
        _ => {
            a.remove(key);
        }
    });
}

/// Splits and resource edits agree with decode-modify-encode: pieces hold at most `n`
/// items each and together every item; an edit equals the reference edit.
pub fn check_split_edit(data: &[u8]) {
    let [sel, n, op, body @ ..] = data else {
        return;
    };
    let signal = signal_of(*sel);
    let Ok(payload) = Payload::decode(signal, Bytes::copy_from_slice(body)) else {
        return;
    };
    let n = u64::from(*n % 16) + 1;
    let mut total = 0;
    let mut joined = Payload::empty(signal);
    for piece in payload.clone().split(n) {
        assert!(piece.items() <= n, "piece of {} items > {n}", piece.items());
        total += piece.items();
        payload_canonical(&piece);
        joined.append(piece);
    }
    assert_eq!(total, payload.items(), "split lost or invented items");
    let joined_items = Decoded::decode(signal, &joined.to_bytes()).map(|d| d.items());
    assert_eq!(joined_items, Some(payload.items()), "concatenated pieces");

    if payload.entries().is_empty() {
        return;
    }
    let entry = usize::from(*op >> 2) % payload.entries().len();
    let key = "service.name";
    let mut ours = payload.clone();
    wire_edit(&mut ours, entry, *op, key, "edited");
    let mut theirs = oracle(signal, body).expect("accepted input passes the oracle");
    let value = AnyValue {
        value: Some(any_value::Value::StringValue("edited".to_owned())),
    };
    reference_edit(theirs.resources_mut()[entry], *op, key, &value);
    assert_eq!(
        payload_canonical(&ours),
        theirs.canonical(),
        "resource edit"
    );
    assert_eq!(ours.items(), payload.items());

    // Item edits: the same attribute operation on every span, log record or data point.
    let mut ours = payload.clone();
    for e in ours.entries_mut() {
        e.edit_items(signal, |item| {
            let a = item.attributes();
            match *op % 4 {
                0 => {
                    a.insert(key, Value::Str("edited".to_owned()));
                }
                1 => {
                    a.update(key, Value::Str("edited".to_owned()));
                }
                2 => a.upsert(key, Value::Str("edited".to_owned())),
                _ => {
                    a.remove(key);
                }
            }
        });
    }
    let mut theirs = oracle(signal, body).expect("accepted input passes the oracle");
    for attrs in theirs.item_attributes_mut() {
        reference_attr_edit(attrs, *op, key, &value);
    }
    assert_eq!(payload_canonical(&ours), theirs.canonical(), "item edit");
    assert_eq!(ours.items(), payload.items());
}

/// [`reference_edit`] on one attribute list.
pub fn reference_attr_edit(attrs: &mut Vec<KeyValue>, op: u8, key: &str, value: &AnyValue) {
    let mut res = Some(Resource {
        attributes: std::mem::take(attrs),
        ..Default::default()
    });
    reference_edit(&mut res, op, key, value);
    *attrs = res.map(|r| r.attributes).unwrap_or_default();
}

/// `packed`: a packed span batch (the Python fast path's format) never panics the reader;
/// what it accepts becomes a request the collector's validator and prost both accept, with
/// as many spans as the batch says.
pub fn check_packed(data: &[u8]) {
    let Ok(proto) = collector_core::otlp::packed::packed_spans_to_proto(data) else {
        return;
    };
    let req = ExportTraceServiceRequest::decode(proto.as_slice())
        .expect("prost decodes what the packed reader builds");
    let p = Payload::decode(Signal::Traces, bytes::Bytes::from(proto))
        .expect("the validator accepts what the packed reader builds");
    assert_eq!(p.items(), trace_items(&req), "span count");
}
