//! Payloads the rendering tests share, built with the opentelemetry-proto types.

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as V;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary, SummaryDataPoint,
    metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message as _;

use super::{Verbosity, render};
use crate::Signal;
use crate::otlp::Payload;

// The `basic`, `normal` and `detailed` fixtures of the tests claim the Go collector's exact
// text. Each test names the Go source it follows: open-telemetry/opentelemetry-collector
// at tag v0.138.0, paths relative to the repository root, line numbers of that tag
// (`debugexporter` is exporter/debugexporter, `pcommon` is pdata/pcommon). `tree` is
// ours and has no Go counterpart.

/// 2025-10-31 15:42:33.123 UTC.
pub(super) const T0: u64 = 1_761_925_353_123_000_000;
/// A millisecond in nanoseconds.
pub(super) const MS: u64 = 1_000_000;

/// A `KeyValue` attribute.
pub(super) fn kv(key: &str, v: V) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(v) }),
        key_strindex: 0,
    }
}

/// A string value.
pub(super) fn text(s: &str) -> V {
    V::StringValue(s.into())
}

/// A resource with these attributes.
pub(super) fn resource(attrs: Vec<KeyValue>) -> Option<Resource> {
    Some(Resource {
        attributes: attrs,
        ..Default::default()
    })
}

/// A resource with `service.name` only.
pub(super) fn service(name: &str) -> Option<Resource> {
    resource(vec![kv("service.name", text(name))])
}

/// An instrumentation scope.
pub(super) fn scope(
    name: &str,
    version: &str,
    attrs: Vec<KeyValue>,
) -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: name.into(),
        version: version.into(),
        attributes: attrs,
        ..Default::default()
    })
}

/// A traces payload, as received.
pub(super) fn traces(resource_spans: Vec<ResourceSpans>) -> Payload {
    let req = ExportTraceServiceRequest { resource_spans };
    Payload::decode(Signal::Traces, Bytes::from(req.encode_to_vec())).unwrap()
}

/// A logs payload, as received.
pub(super) fn logs(resource_logs: Vec<ResourceLogs>) -> Payload {
    let req = ExportLogsServiceRequest { resource_logs };
    Payload::decode(Signal::Logs, Bytes::from(req.encode_to_vec())).unwrap()
}

/// A metrics payload, as received.
pub(super) fn metrics(resource_metrics: Vec<ResourceMetrics>) -> Payload {
    let req = ExportMetricsServiceRequest { resource_metrics };
    Payload::decode(Signal::Metrics, Bytes::from(req.encode_to_vec())).unwrap()
}

/// The multi-line part of a rendering.
pub(super) fn detail(p: &Payload, v: Verbosity) -> String {
    render(p, v).detail.unwrap()
}

/// One resource of spans with the given service name.
pub(super) fn spans_of(service_name: &str, spans: Vec<Span>) -> ResourceSpans {
    ResourceSpans {
        resource: service(service_name),
        scope_spans: vec![ScopeSpans {
            spans,
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A span of trace `[trace; 16]` with id `[id; 8]`, starting `start` ns after [`T0`].
pub(super) fn span(
    trace: u8,
    id: u8,
    parent: Option<u8>,
    name: &str,
    start: u64,
    dur: u64,
) -> Span {
    Span {
        trace_id: vec![trace; 16],
        span_id: vec![id; 8],
        parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
        name: name.into(),
        start_time_unix_nano: T0 + start,
        end_time_unix_nano: T0 + start + dur,
        ..Default::default()
    }
}

/// Two log records: one with every field set, one with almost none.
pub(super) fn log_payload() -> Payload {
    logs(vec![ResourceLogs {
        resource: service("svc"),
        scope_logs: vec![ScopeLogs {
            scope: scope("app", "1.0", vec![kv("lib", text("x"))]),
            log_records: vec![
                LogRecord {
                    time_unix_nano: T0,
                    severity_text: "INFO".into(),
                    severity_number: 9,
                    body: Some(AnyValue {
                        value: Some(text("user created")),
                    }),
                    attributes: vec![kv("user.id", V::IntValue(42))],
                    trace_id: vec![0xab; 16],
                    span_id: vec![0xcd; 8],
                    flags: 1,
                    ..Default::default()
                },
                LogRecord {
                    severity_number: 30,
                    event_name: "login".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }],
        ..Default::default()
    }])
}

/// A number data point at [`T0`] with one attribute.
pub(super) fn number(attr: KeyValue, value: number_data_point::Value) -> NumberDataPoint {
    NumberDataPoint {
        attributes: vec![attr],
        time_unix_nano: T0,
        value: Some(value),
        ..Default::default()
    }
}

/// A metric with a name, a unit and its data.
pub(super) fn metric(name: &str, unit: &str, data: Data) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        data: Some(data),
        ..Default::default()
    }
}

/// One metric of each kind (gauge, sum, histogram, summary, exponential histogram).
pub(super) fn metric_payload() -> Payload {
    let metrics_list = vec![
        Metric {
            description: "temperature".into(),
            ..metric(
                "temp",
                "C",
                Data::Gauge(Gauge {
                    data_points: vec![number(
                        kv("room", text("a")),
                        number_data_point::Value::AsDouble(5.0),
                    )],
                }),
            )
        },
        metric(
            "requests",
            "1",
            Data::Sum(Sum {
                data_points: vec![
                    number(
                        kv("code", V::IntValue(200)),
                        number_data_point::Value::AsInt(7),
                    ),
                    number(
                        kv("code", V::IntValue(500)),
                        number_data_point::Value::AsInt(3),
                    ),
                ],
                aggregation_temporality: 2,
                is_monotonic: true,
            }),
        ),
        metric(
            "latency",
            "ms",
            Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    time_unix_nano: T0,
                    count: 4,
                    sum: Some(10.5),
                    ..Default::default()
                }],
                aggregation_temporality: 1,
            }),
        ),
        metric(
            "sizes",
            "",
            Data::Summary(Summary {
                data_points: vec![SummaryDataPoint {
                    time_unix_nano: T0,
                    count: 2,
                    sum: 3.0,
                    ..Default::default()
                }],
            }),
        ),
        metric(
            "eh",
            "",
            Data::ExponentialHistogram(ExponentialHistogram {
                data_points: vec![ExponentialHistogramDataPoint {
                    time_unix_nano: T0,
                    count: 3,
                    ..Default::default()
                }],
                aggregation_temporality: 2,
            }),
        ),
    ];
    metrics(vec![ResourceMetrics {
        resource: service("svc"),
        scope_metrics: vec![ScopeMetrics {
            scope: scope("meter", "", vec![]),
            metrics: metrics_list,
            ..Default::default()
        }],
        ..Default::default()
    }])
}
