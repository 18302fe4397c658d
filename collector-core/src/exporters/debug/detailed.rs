//! `detailed`: Go's `otlptext` rendering, every field of every item on a line of its own.

use std::fmt::Write as _;

use super::pdata::{
    go_id, go_time, severity_name, span_kind, status_code, temporality, value_to_string,
};
use crate::Signal;
use crate::otlp::fields::{log_record, span};
use crate::otlp::text::go_f;
use crate::otlp::wire::{Fields, Value};
use crate::otlp::{
    DataPointView, KeyValueView, LogRecordView, MetricKind, MetricView, Payload, SpanView,
};

/// Go's `detailed` output (`otlptext`): every field, one per line.
pub(super) fn detailed(p: &Payload) -> String {
    let (resource_label, scope_label) = match p.signal() {
        Signal::Traces => ("ResourceSpans", "ScopeSpans"),
        Signal::Logs => ("ResourceLog", "ScopeLogs"),
        Signal::Metrics => ("ResourceMetrics", "ScopeMetrics"),
    };
    let mut out = String::new();
    for (i, r) in p.resources().enumerate() {
        ln!(out, "{resource_label} #{i}");
        ln!(out, "Resource SchemaURL: {}", r.schema_url());
        attributes_block(&mut out, "Resource attributes", r.attributes());
        for (j, s) in r.scopes().enumerate() {
            ln!(out, "{scope_label} #{j}");
            ln!(out, "{scope_label} SchemaURL: {}", s.schema_url());
            ln!(out, "InstrumentationScope {} {}", s.name(), s.version());
            attributes_block(&mut out, "InstrumentationScope attributes", s.attributes());
            match p.signal() {
                Signal::Traces => {
                    for (k, span) in s.spans().enumerate() {
                        detailed_span(&mut out, k, &span);
                    }
                }
                Signal::Logs => {
                    for (k, lr) in s.log_records().enumerate() {
                        detailed_log(&mut out, k, &lr);
                    }
                }
                Signal::Metrics => {
                    for (k, m) in s.metrics().enumerate() {
                        detailed_metric(&mut out, k, &m);
                    }
                }
            }
        }
    }
    out
}

/// Go's `logAttributes`: nothing for an empty map; a header containing `->` indents the
/// entries by what precedes the arrow (which is how Go nests event and link attributes).
fn attributes_block<'a>(
    out: &mut String,
    header: &str,
    attrs: impl Iterator<Item = KeyValueView<'a>>,
) {
    let mut attrs = attrs.peekable();
    if attrs.peek().is_none() {
        return;
    }
    ln!(out, "{header}:");
    let indent = header.split_once("->").map_or("", |(before, _)| before);
    for kv in attrs {
        ln!(
            out,
            "{indent}     -> {}: {}",
            kv.key(),
            value_to_string(&kv.value())
        );
    }
}

/// Go's `logAttr`: the aligned `    Name           : value` lines of a span.
fn field(out: &mut String, name: &str, value: &str) {
    ln!(out, "    {name:<15}: {value}");
}

fn detailed_span(out: &mut String, k: usize, span: &SpanView<'_>) {
    ln!(out, "Span #{k}");
    field(out, "Trace ID", &go_id(span.trace_id()));
    field(out, "Parent ID", &go_id(span.parent_span_id()));
    field(out, "ID", &go_id(span.span_id()));
    field(out, "Name", span.name());
    field(out, "Kind", span_kind(span.kind()));
    if !span.trace_state().is_empty() {
        field(out, "TraceState", span.trace_state());
    }
    field(out, "Start time", &go_time(span.start_time_unix_nano()));
    field(out, "End time", &go_time(span.end_time_unix_nano()));
    field(out, "Status code", status_code(span.status_code()));
    field(out, "Status message", span.status_message());
    attributes_block(out, "Attributes", span.attributes());

    let extras = SpanExtras::read(span.raw());
    let mut events = span.events().peekable();
    if events.peek().is_some() {
        ln!(out, "Events:");
    }
    for (i, e) in events.enumerate() {
        ln!(out, "SpanEvent #{i}");
        ln!(out, "     -> Name: {}", e.name());
        ln!(out, "     -> Timestamp: {}", go_time(e.time_unix_nano()));
        let dropped = extras.event_dropped.get(i).copied().unwrap_or(0);
        ln!(out, "     -> DroppedAttributesCount: {dropped}");
        attributes_block(out, "     -> Attributes:", e.attributes());
    }
    let mut links = span.links().peekable();
    if links.peek().is_some() {
        ln!(out, "Links:");
    }
    for (i, l) in links.enumerate() {
        let (state, dropped) = extras.links.get(i).copied().unwrap_or(("", 0));
        ln!(out, "SpanLink #{i}");
        ln!(out, "     -> Trace ID: {}", go_id(l.trace_id()));
        ln!(out, "     -> ID: {}", go_id(l.span_id()));
        ln!(out, "     -> TraceState: {state}");
        ln!(out, "     -> DroppedAttributesCount: {dropped}");
        attributes_block(out, "     -> Attributes:", l.attributes());
    }
}

fn detailed_log(out: &mut String, k: usize, lr: &LogRecordView<'_>) {
    ln!(out, "LogRecord #{k}");
    ln!(
        out,
        "ObservedTimestamp: {}",
        go_time(lr.observed_time_unix_nano())
    );
    ln!(out, "Timestamp: {}", go_time(lr.time_unix_nano()));
    ln!(out, "SeverityText: {}", lr.severity_text());
    let sev = lr.severity_number();
    ln!(out, "SeverityNumber: {}({sev})", severity_name(sev));
    if !lr.event_name().is_empty() {
        ln!(out, "EventName: {}", lr.event_name());
    }
    ln!(out, "Body: {}", value_to_string(&lr.body()));
    attributes_block(out, "Attributes", lr.attributes());
    ln!(out, "Trace ID: {}", go_id(lr.trace_id()));
    ln!(out, "Span ID: {}", go_id(lr.span_id()));
    ln!(out, "Flags: {}", log_flags(lr.raw()));
}

fn detailed_metric(out: &mut String, k: usize, m: &MetricView<'_>) {
    ln!(out, "Metric #{k}");
    ln!(out, "Descriptor:");
    ln!(out, "     -> Name: {}", m.name());
    ln!(out, "     -> Description: {}", m.description());
    ln!(out, "     -> Unit: {}", m.unit());
    ln!(out, "     -> DataType: {}", m.kind().as_str());
    let temporality = temporality(m.aggregation_temporality());
    let label = match m.kind() {
        MetricKind::Empty => return,
        MetricKind::Gauge | MetricKind::Sum => "NumberDataPoints",
        MetricKind::Histogram => "HistogramDataPoints",
        MetricKind::ExponentialHistogram => "ExponentialHistogramDataPoints",
        MetricKind::Summary => "SummaryDataPoints",
    };
    match m.kind() {
        MetricKind::Sum => {
            ln!(out, "     -> IsMonotonic: {}", m.is_monotonic());
            ln!(out, "     -> AggregationTemporality: {temporality}");
        }
        MetricKind::Histogram | MetricKind::ExponentialHistogram => {
            ln!(out, "     -> AggregationTemporality: {temporality}");
        }
        _ => {}
    }
    for (i, dp) in m.data_points().enumerate() {
        ln!(out, "{label} #{i}");
        detailed_point(out, &dp);
    }
}

fn detailed_point(out: &mut String, dp: &DataPointView<'_>) {
    attributes_block(out, "Data point attributes", dp.attributes());
    ln!(
        out,
        "StartTimestamp: {}",
        go_time(dp.start_time_unix_nano())
    );
    ln!(out, "Timestamp: {}", go_time(dp.time_unix_nano()));
    match dp.kind() {
        MetricKind::Empty => {}
        // The view folds `as_int` into a double, so both print as Go prints doubles.
        MetricKind::Gauge | MetricKind::Sum => {
            if let Some(v) = dp.number_value() {
                ln!(out, "Value: {}", go_f(v));
            }
        }
        MetricKind::Histogram | MetricKind::ExponentialHistogram => {
            ln!(out, "Count: {}", dp.count());
            if let Some(sum) = dp.sum() {
                ln!(out, "Sum: {}", go_f(sum));
            }
        }
        // A summary's sum is not optional in the proto, so Go always prints it.
        MetricKind::Summary => {
            ln!(out, "Count: {}", dp.count());
            ln!(out, "Sum: {}", go_f(dp.sum().unwrap_or(0.0)));
        }
    }
}

// ---- fields the views do not expose ---------------------------------------------------
//
// Go prints a log record's flags, and each span event's and link's dropped-attribute count
// and each link's trace state. The views have no accessors for these yet, so they are read
// here from the item's own encoding (validated, hence iteration simply ends on surprises).

/// `LogRecord.flags` (field 8, fixed32; the last occurrence wins, as in prost).
fn log_flags(raw: &[u8]) -> u32 {
    let mut flags = 0;
    for (f, v) in Fields::new(raw) {
        if let (log_record::FLAGS, Value::I32(x)) = (f, v) {
            flags = x;
        }
    }
    flags
}

/// Per event and per link of one span, in the order the views yield them.
struct SpanExtras<'a> {
    /// `Event.dropped_attributes_count` (field 4).
    event_dropped: Vec<u32>,
    /// `Link.trace_state` (field 3) and `Link.dropped_attributes_count` (field 5).
    links: Vec<(&'a str, u32)>,
}

impl<'a> SpanExtras<'a> {
    fn read(span: &'a [u8]) -> SpanExtras<'a> {
        let mut extras = SpanExtras {
            event_dropped: Vec::new(),
            links: Vec::new(),
        };
        for (f, v) in Fields::new(span) {
            match (f, v) {
                (span::EVENTS, Value::Len(event)) => {
                    let mut dropped = 0;
                    for (f, v) in Fields::new(event) {
                        if let (span::event::DROPPED_ATTRIBUTES_COUNT, Value::Varint(x)) = (f, v) {
                            dropped = x as u32;
                        }
                    }
                    extras.event_dropped.push(dropped);
                }
                (span::LINKS, Value::Len(link)) => {
                    let (mut state, mut dropped) = ("", 0);
                    for (f, v) in Fields::new(link) {
                        match (f, v) {
                            (span::link::TRACE_STATE, Value::Len(b)) => {
                                state = std::str::from_utf8(b).unwrap_or("")
                            }
                            (span::link::DROPPED_ATTRIBUTES_COUNT, Value::Varint(x)) => {
                                dropped = x as u32
                            }
                            _ => {}
                        }
                    }
                    extras.links.push((state, dropped));
                }
                _ => {}
            }
        }
        extras
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::any_value::Value as V;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList};
    use opentelemetry_proto::tonic::trace::v1::span::{Event, Link};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};

    use super::super::Verbosity;
    use super::super::fixtures::*;

    // Go sources are cited as `fixtures.rs` describes.

    #[test]
    fn detailed_span_with_every_value_type() {
        // Go: debugexporter/internal/otlptext/traces.go:18-60 (MarshalTraces), and in
        // databuffer.go: logAttr 28-30 (`"    %-15s: %s"`), logAttributes 32-49 (the `->`
        // indent rule), logInstrumentationScope 105-111, logEvents 281-295, logLinks
        // 297-313, valueToString 459-461 (`Type(AsString)`). Values: pcommon/value.go:389-420
        // (Value.AsString: json.Marshal for maps and slices, base64 for bytes) and 424-451
        // (float64AsString); times: pcommon/timestamp.go:27-29 (Timestamp.String).
        let attrs = vec![
            kv("http.method", text("POST")),
            kv("http.status_code", V::IntValue(201)),
            kv("ratio", V::DoubleValue(0.25)),
            kv("huge", V::DoubleValue(1e21)),
            kv("tiny", V::DoubleValue(1.5e-7)),
            kv("ok", V::BoolValue(true)),
            kv("raw", V::BytesValue(vec![1, 2, 3])),
            kv(
                "list",
                V::ArrayValue(ArrayValue {
                    values: vec![
                        AnyValue {
                            value: Some(text("a")),
                        },
                        AnyValue {
                            value: Some(V::IntValue(1)),
                        },
                        AnyValue {
                            value: Some(V::DoubleValue(2.5)),
                        },
                        AnyValue {
                            value: Some(V::BoolValue(false)),
                        },
                        AnyValue { value: None },
                    ],
                }),
            ),
            // Keys sorted, the later duplicate wins, HTML-safe escapes: Go's json.Marshal.
            kv(
                "map",
                V::KvlistValue(KeyValueList {
                    values: vec![
                        kv("z", V::IntValue(1)),
                        kv("a", text("first")),
                        kv("a", text("<b>\"q\"\n")),
                    ],
                }),
            ),
            KeyValue {
                key: "nothing".into(),
                value: None,
                key_strindex: 0,
            },
            // json.Marshal fails on NaN, and AsString then gives nothing.
            kv(
                "nan",
                V::KvlistValue(KeyValueList {
                    values: vec![kv("x", V::DoubleValue(f64::NAN))],
                }),
            ),
        ];
        let s = Span {
            trace_id: const_hex::decode("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            span_id: const_hex::decode("5fb397be34d26b51").unwrap(),
            parent_span_id: const_hex::decode("00f067aa0ba902b7").unwrap(),
            name: "POST /api/v1/users".into(),
            kind: 2,
            start_time_unix_nano: T0,
            end_time_unix_nano: T0 + 27 * MS,
            attributes: attrs,
            events: vec![Event {
                time_unix_nano: T0 + MS,
                name: "cache miss".into(),
                attributes: vec![kv("k", text("v"))],
                dropped_attributes_count: 2,
            }],
            links: vec![Link {
                trace_id: vec![0x11; 16],
                span_id: vec![0x22; 8],
                trace_state: "ot=th:0".into(),
                dropped_attributes_count: 4,
                ..Default::default()
            }],
            status: Some(Status {
                message: String::new(),
                code: 1,
            }),
            ..Default::default()
        };
        let p = traces(vec![ResourceSpans {
            resource: service("my-api"),
            scope_spans: vec![ScopeSpans {
                scope: scope("opentelemetry.instrumentation.fastapi", "0.60b0", vec![]),
                spans: vec![s],
                ..Default::default()
            }],
            schema_url: "https://opentelemetry.io/schemas/1.21.0".into(),
        }]);
        // Lines ending in ": " keep their trailing space, as Go prints them.
        let expected = r##"ResourceSpans #0
Resource SchemaURL: https://opentelemetry.io/schemas/1.21.0
Resource attributes:
     -> service.name: Str(my-api)
ScopeSpans #0
ScopeSpans SchemaURL: 
InstrumentationScope opentelemetry.instrumentation.fastapi 0.60b0
Span #0
    Trace ID       : 4bf92f3577b34da6a3ce929d0e0e4736
    Parent ID      : 00f067aa0ba902b7
    ID             : 5fb397be34d26b51
    Name           : POST /api/v1/users
    Kind           : Server
    Start time     : 2025-10-31 15:42:33.123 +0000 UTC
    End time       : 2025-10-31 15:42:33.15 +0000 UTC
    Status code    : Ok
    Status message : 
Attributes:
     -> http.method: Str(POST)
     -> http.status_code: Int(201)
     -> ratio: Double(0.25)
     -> huge: Double(1e+21)
     -> tiny: Double(1.5e-7)
     -> ok: Bool(true)
     -> raw: Bytes(AQID)
     -> list: Slice(["a",1,2.5,false,null])
     -> map: Map({"a":"\u003cb\u003e\"q\"\n","z":1})
     -> nothing: Empty()
     -> nan: Map()
Events:
SpanEvent #0
     -> Name: cache miss
     -> Timestamp: 2025-10-31 15:42:33.124 +0000 UTC
     -> DroppedAttributesCount: 2
     -> Attributes::
          -> k: Str(v)
Links:
SpanLink #0
     -> Trace ID: 11111111111111111111111111111111
     -> ID: 2222222222222222
     -> TraceState: ot=th:0
     -> DroppedAttributesCount: 4
"##;
        assert_eq!(detail(&p, Verbosity::Detailed), expected);
    }

    #[test]
    fn logs_detailed() {
        // Go: debugexporter/internal/otlptext/logs.go:18-55 (MarshalLogs, with
        // `SeverityNumber: %s(%d)` at line 41 and EventName only when set, 42-44).
        let p = log_payload();
        let expected = r"ResourceLog #0
Resource SchemaURL: 
Resource attributes:
     -> service.name: Str(svc)
ScopeLogs #0
ScopeLogs SchemaURL: 
InstrumentationScope app 1.0
InstrumentationScope attributes:
     -> lib: Str(x)
LogRecord #0
ObservedTimestamp: 1970-01-01 00:00:00 +0000 UTC
Timestamp: 2025-10-31 15:42:33.123 +0000 UTC
SeverityText: INFO
SeverityNumber: Info(9)
Body: Str(user created)
Attributes:
     -> user.id: Int(42)
Trace ID: abababababababababababababababab
Span ID: cdcdcdcdcdcdcdcd
Flags: 1
LogRecord #1
ObservedTimestamp: 1970-01-01 00:00:00 +0000 UTC
Timestamp: 1970-01-01 00:00:00 +0000 UTC
SeverityText: 
SeverityNumber: (30)
EventName: login
Body: Empty()
Trace ID: 
Span ID: 
Flags: 0
";
        assert_eq!(detail(&p, Verbosity::Detailed), expected);
    }

    #[test]
    fn metrics_detailed() {
        // Go: debugexporter/internal/otlptext/metrics.go:16-42 (MarshalMetrics) and
        // databuffer.go logMetricDescriptor 113-119, logMetricDataPoints 121-144,
        // logNumberDataPoints 146-163 (`Value: %f`, 158), logHistogramDataPoints 165-197,
        // logExponentialHistogramDataPoints 199-256, logDoubleSummaryDataPoints 258-275.
        let p = metric_payload();
        // Integer points print as doubles ("7.000000" where Go prints "7"): the view gives
        // the value as f64 only.
        let t = "2025-10-31 15:42:33.123 +0000 UTC";
        let z = "1970-01-01 00:00:00 +0000 UTC";
        let expected = format!(
            "ResourceMetrics #0
Resource SchemaURL: 
Resource attributes:
     -> service.name: Str(svc)
ScopeMetrics #0
ScopeMetrics SchemaURL: 
InstrumentationScope meter 
Metric #0
Descriptor:
     -> Name: temp
     -> Description: temperature
     -> Unit: C
     -> DataType: Gauge
NumberDataPoints #0
Data point attributes:
     -> room: Str(a)
StartTimestamp: {z}
Timestamp: {t}
Value: 5.000000
Metric #1
Descriptor:
     -> Name: requests
     -> Description: 
     -> Unit: 1
     -> DataType: Sum
     -> IsMonotonic: true
     -> AggregationTemporality: Cumulative
NumberDataPoints #0
Data point attributes:
     -> code: Int(200)
StartTimestamp: {z}
Timestamp: {t}
Value: 7.000000
NumberDataPoints #1
Data point attributes:
     -> code: Int(500)
StartTimestamp: {z}
Timestamp: {t}
Value: 3.000000
Metric #2
Descriptor:
     -> Name: latency
     -> Description: 
     -> Unit: ms
     -> DataType: Histogram
     -> AggregationTemporality: Delta
HistogramDataPoints #0
StartTimestamp: {z}
Timestamp: {t}
Count: 4
Sum: 10.500000
Metric #3
Descriptor:
     -> Name: sizes
     -> Description: 
     -> Unit: 
     -> DataType: Summary
SummaryDataPoints #0
StartTimestamp: {z}
Timestamp: {t}
Count: 2
Sum: 3.000000
Metric #4
Descriptor:
     -> Name: eh
     -> Description: 
     -> Unit: 
     -> DataType: ExponentialHistogram
     -> AggregationTemporality: Cumulative
ExponentialHistogramDataPoints #0
StartTimestamp: {z}
Timestamp: {t}
Count: 3
"
        );
        assert_eq!(detail(&p, Verbosity::Detailed), expected);
    }
}
