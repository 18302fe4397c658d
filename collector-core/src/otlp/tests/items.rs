//! Item-level edits checked against prost: the edited request decodes to the original with
//! exactly the intended changes, and untouched items keep their bytes.

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    self as m, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
use prost::Message;

use crate::Signal;
use crate::otlp::{ItemView, Payload, Value};

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn span(name: &str, attrs: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        name: name.into(),
        attributes: attrs,
        events: vec![span::Event {
            name: "ev".into(),
            attributes: vec![kv("password", "hunter2")],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn traces() -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "api")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![
                    span("a", vec![kv("user", "x")]),
                    span("b", vec![kv("user", "y"), kv("token", "t")]),
                    span("c", vec![]),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn payload(signal: Signal, msg: &impl Message) -> Payload {
    Payload::decode(signal, Bytes::from(msg.encode_to_vec())).unwrap()
}

#[test]
fn span_attributes_and_events_edited_alone() {
    let req = traces();
    let mut p = payload(Signal::Traces, &req);
    let original_a = req.resource_spans[0].scope_spans[0].spans[0].encode_to_vec();
    let changed = p.entries_mut()[0].edit_items(Signal::Traces, |e| {
        let ItemView::Span(s) = e.item() else {
            panic!("not a span")
        };
        assert_eq!(
            e.resource().attribute("service.name").unwrap().as_str(),
            Some("api")
        );
        if s.name() == "b" {
            e.attributes().remove("token");
            e.attributes().upsert("checked", Value::Bool(true));
        }
        if s.name() == "c" {
            e.attributes().insert("new", Value::Int(7));
            for ev in e.event_attributes() {
                ev.upsert("password", Value::Str("****".into()));
            }
        }
    });
    assert_eq!(changed, 2);
    assert_eq!(p.items(), 3);
    let got = ExportTraceServiceRequest::decode(p.to_bytes()).unwrap();
    let mut want = req.clone();
    let spans = &mut want.resource_spans[0].scope_spans[0].spans;
    spans[1].attributes = vec![
        kv("user", "y"),
        KeyValue {
            key: "checked".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::BoolValue(true)),
            }),
            ..Default::default()
        },
    ];
    spans[2].attributes = vec![KeyValue {
        key: "new".into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(7)),
        }),
        ..Default::default()
    }];
    spans[2].events[0].attributes = vec![kv("password", "****")];
    assert_eq!(got, want);
    // The untouched span's bytes are in the output unchanged.
    let out = p.to_bytes();
    assert!(out.windows(original_a.len()).any(|w| w == original_a));
}

#[test]
fn nothing_changed_keeps_the_entry() {
    let req = traces();
    let mut p = payload(Signal::Traces, &req);
    let before = p.to_bytes();
    let changed = p.entries_mut()[0].edit_items(Signal::Traces, |e| {
        let _ = e.attributes().get("user");
        let _ = e.event_attributes();
    });
    assert_eq!(changed, 0);
    assert_eq!(p.to_bytes(), before);
    // Still the received buffer, not a copy.
    assert!(p.entries()[0].pieces().len() == 1);
}

#[test]
fn after_a_resource_edit_items_are_still_found() {
    let req = traces();
    let mut p = payload(Signal::Traces, &req);
    p.entries_mut()[0].edit_resource(|a| a.upsert("env", Value::Str("prod".into())));
    assert!(p.entries()[0].pieces().len() > 1);
    let n = p.entries_mut()[0].edit_items(Signal::Traces, |e| {
        assert_eq!(
            e.resource().attribute("env").unwrap().as_str(),
            Some("prod")
        );
        e.attributes().upsert("k", Value::Str("v".into()));
    });
    assert_eq!(n, 3);
    let got = ExportTraceServiceRequest::decode(p.to_bytes()).unwrap();
    assert_eq!(
        got.resource_spans[0]
            .resource
            .as_ref()
            .unwrap()
            .attributes
            .len(),
        2
    );
    assert!(
        got.resource_spans[0].scope_spans[0]
            .spans
            .iter()
            .all(|s| s.attributes.iter().any(|a| a.key == "k"))
    );
}

#[test]
fn log_bodies_and_attributes() {
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![
                    LogRecord {
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue("card 4111".into())),
                        }),
                        attributes: vec![kv("a", "1")],
                        severity_text: "INFO".into(),
                        ..Default::default()
                    },
                    LogRecord {
                        severity_text: "WARN".into(),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let mut p = payload(Signal::Logs, &req);
    let n = p.entries_mut()[0].edit_items(Signal::Logs, |e| {
        let ItemView::LogRecord(l) = e.item() else {
            panic!()
        };
        if l.severity_text() == "INFO" {
            e.set_log_body(Value::Str("card ****".into()));
        } else {
            e.attributes().insert("seen", Value::Str("yes".into()));
        }
    });
    assert_eq!(n, 2);
    let got = ExportLogsServiceRequest::decode(p.to_bytes()).unwrap();
    let mut want = req.clone();
    let recs = &mut want.resource_logs[0].scope_logs[0].log_records;
    recs[0].body = Some(AnyValue {
        value: Some(any_value::Value::StringValue("card ****".into())),
    });
    recs[1].attributes = vec![kv("seen", "yes")];
    assert_eq!(got, want);
}

fn point(attrs: Vec<KeyValue>, v: i64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs,
        time_unix_nano: 5,
        value: Some(m::number_data_point::Value::AsInt(v)),
        ..Default::default()
    }
}

#[test]
fn data_points_of_every_kind() {
    let hist = m::HistogramDataPoint {
        attributes: vec![kv("h", "1")],
        count: 2,
        bucket_counts: vec![1, 1],
        explicit_bounds: vec![1.0],
        ..Default::default()
    };
    let exp = m::ExponentialHistogramDataPoint {
        attributes: vec![kv("e", "1")],
        count: 1,
        ..Default::default()
    };
    let summ = m::SummaryDataPoint {
        attributes: vec![kv("s", "1")],
        count: 1,
        ..Default::default()
    };
    let metrics = vec![
        Metric {
            name: "gauge".into(),
            data: Some(metric::Data::Gauge(m::Gauge {
                data_points: vec![point(vec![kv("k", "1")], 1), point(vec![], 2)],
            })),
            ..Default::default()
        },
        Metric {
            name: "sum".into(),
            data: Some(metric::Data::Sum(m::Sum {
                data_points: vec![point(vec![], 3)],
                aggregation_temporality: 2,
                is_monotonic: true,
            })),
            ..Default::default()
        },
        Metric {
            name: "hist".into(),
            data: Some(metric::Data::Histogram(m::Histogram {
                data_points: vec![hist],
                aggregation_temporality: 1,
            })),
            ..Default::default()
        },
        Metric {
            name: "exp".into(),
            data: Some(metric::Data::ExponentialHistogram(
                m::ExponentialHistogram {
                    data_points: vec![exp],
                    aggregation_temporality: 1,
                },
            )),
            ..Default::default()
        },
        Metric {
            name: "summary".into(),
            data: Some(metric::Data::Summary(m::Summary {
                data_points: vec![summ],
            })),
            ..Default::default()
        },
    ];
    let req = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let mut p = payload(Signal::Metrics, &req);
    let mut names = Vec::new();
    let n = p.entries_mut()[0].edit_items(Signal::Metrics, |e| {
        let ItemView::DataPoint(metric, _) = e.item() else {
            panic!()
        };
        names.push(metric.name().to_owned());
        if metric.name() != "sum" {
            e.attributes().upsert("x", Value::Str("y".into()));
        }
    });
    assert_eq!(names, ["gauge", "gauge", "sum", "hist", "exp", "summary"]);
    assert_eq!(n, 5);
    let got = ExportMetricsServiceRequest::decode(p.to_bytes()).unwrap();
    let mut want = req.clone();
    for metric in &mut want.resource_metrics[0].scope_metrics[0].metrics {
        match metric.data.as_mut().unwrap() {
            metric::Data::Gauge(g) => {
                for dp in &mut g.data_points {
                    dp.attributes.push(kv("x", "y"));
                }
            }
            metric::Data::Sum(_) => {}
            metric::Data::Histogram(h) => h.data_points[0].attributes.push(kv("x", "y")),
            metric::Data::ExponentialHistogram(h) => h.data_points[0].attributes.push(kv("x", "y")),
            metric::Data::Summary(s) => s.data_points[0].attributes.push(kv("x", "y")),
        }
    }
    assert_eq!(got, want);
}
