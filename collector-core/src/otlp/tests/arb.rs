//! proptest strategies for the `opentelemetry-proto` (prost) types: the reference side of
//! the differential tests.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, exponential_histogram_data_point::Buckets, metric,
    number_data_point, summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z._]{0,12}",
        1 => "\\PC{0,20}",
        1 => Just(String::new()),
    ]
}

fn id(len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => vec(any::<u8>(), len),
        1 => Just(Vec::new()),
    ]
}

pub(crate) fn any_value() -> impl Strategy<Value = AnyValue> {
    let leaf = prop_oneof![
        text().prop_map(any_value::Value::StringValue),
        any::<bool>().prop_map(any_value::Value::BoolValue),
        any::<i64>().prop_map(any_value::Value::IntValue),
        any::<f64>().prop_map(any_value::Value::DoubleValue),
        vec(any::<u8>(), 0..8).prop_map(any_value::Value::BytesValue),
    ];
    let leaf = option::weighted(0.95, leaf).prop_map(|value| AnyValue { value });
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(|values| AnyValue {
                value: Some(any_value::Value::ArrayValue(ArrayValue { values })),
            }),
            vec((text(), inner), 0..4).prop_map(|kvs| AnyValue {
                value: Some(any_value::Value::KvlistValue(KeyValueList {
                    values: kvs
                        .into_iter()
                        .map(|(key, v)| KeyValue {
                            key,
                            value: Some(v),
                            key_strindex: 0,
                        })
                        .collect(),
                })),
            }),
        ]
    })
}

pub(crate) fn attributes(max: usize) -> impl Strategy<Value = Vec<KeyValue>> {
    vec(
        (text(), option::weighted(0.9, any_value())).prop_map(|(key, value)| KeyValue {
            key,
            value,
            key_strindex: 0,
        }),
        0..max,
    )
}

fn resource() -> impl Strategy<Value = Option<Resource>> {
    option::weighted(
        0.9,
        (
            attributes(6),
            any::<u32>(),
            vec((text(), text(), vec(text(), 0..3), vec(text(), 0..2)), 0..2),
        )
            .prop_map(|(attributes, dropped, refs)| Resource {
                attributes,
                dropped_attributes_count: dropped % 4,
                entity_refs: refs
                    .into_iter()
                    .map(
                        |(schema_url, r#type, id_keys, description_keys)| EntityRef {
                            schema_url,
                            r#type,
                            id_keys,
                            description_keys,
                        },
                    )
                    .collect(),
            }),
    )
}

fn scope() -> impl Strategy<Value = Option<InstrumentationScope>> {
    option::weighted(
        0.8,
        (text(), text(), attributes(3), any::<u32>()).prop_map(|(name, version, attributes, d)| {
            InstrumentationScope {
                name,
                version,
                attributes,
                dropped_attributes_count: d % 3,
            }
        }),
    )
}

fn span() -> impl Strategy<Value = Span> {
    (
        (id(16), id(8), id(8), text(), text(), 0i32..6, any::<u64>()),
        (attributes(8), any::<u32>(), any::<u32>()),
        vec(
            (any::<u64>(), text(), attributes(3)).prop_map(|(t, name, attributes)| span::Event {
                time_unix_nano: t,
                name,
                attributes,
                dropped_attributes_count: 0,
            }),
            0..3,
        ),
        vec(
            (id(16), id(8), text(), attributes(2), any::<u32>()).prop_map(
                |(trace_id, span_id, trace_state, attributes, flags)| span::Link {
                    trace_id,
                    span_id,
                    trace_state,
                    attributes,
                    dropped_attributes_count: 0,
                    flags,
                },
            ),
            0..2,
        ),
        option::weighted(
            0.5,
            (text(), 0i32..3).prop_map(|(message, code)| Status { message, code }),
        ),
    )
        .prop_map(
            |(
                (trace_id, span_id, parent, trace_state, name, kind, start),
                (attrs, d, flags),
                events,
                links,
                status,
            )| {
                Span {
                    trace_id,
                    span_id,
                    trace_state,
                    parent_span_id: parent,
                    flags,
                    name,
                    kind,
                    start_time_unix_nano: start,
                    end_time_unix_nano: start.wrapping_add(1000),
                    attributes: attrs,
                    dropped_attributes_count: d % 5,
                    events,
                    dropped_events_count: 0,
                    links,
                    dropped_links_count: 0,
                    status,
                }
            },
        )
}

pub(crate) fn traces() -> impl Strategy<Value = ExportTraceServiceRequest> {
    vec(
        (
            resource(),
            vec(
                (scope(), vec(span(), 0..6), text()).prop_map(|(scope, spans, schema_url)| {
                    ScopeSpans {
                        scope,
                        spans,
                        schema_url,
                    }
                }),
                0..4,
            ),
            text(),
        )
            .prop_map(|(resource, scope_spans, schema_url)| ResourceSpans {
                resource,
                scope_spans,
                schema_url,
            }),
        0..4,
    )
    .prop_map(|resource_spans| ExportTraceServiceRequest { resource_spans })
}

fn log_record() -> impl Strategy<Value = LogRecord> {
    (
        (any::<u64>(), any::<u64>(), 0i32..25, text(), text()),
        option::weighted(0.8, any_value()),
        attributes(6),
        (any::<u32>(), id(16), id(8)),
    )
        .prop_map(
            |((t, ot, sev, sev_text, event_name), body, attributes, (flags, trace_id, span_id))| {
                LogRecord {
                    time_unix_nano: t,
                    observed_time_unix_nano: ot,
                    severity_number: sev,
                    severity_text: sev_text,
                    body,
                    attributes,
                    dropped_attributes_count: 0,
                    flags,
                    trace_id,
                    span_id,
                    event_name,
                }
            },
        )
}

pub(crate) fn logs() -> impl Strategy<Value = ExportLogsServiceRequest> {
    vec(
        (
            resource(),
            vec(
                (scope(), vec(log_record(), 0..6), text()).prop_map(
                    |(scope, log_records, schema_url)| ScopeLogs {
                        scope,
                        log_records,
                        schema_url,
                    },
                ),
                0..4,
            ),
            text(),
        )
            .prop_map(|(resource, scope_logs, schema_url)| ResourceLogs {
                resource,
                scope_logs,
                schema_url,
            }),
        0..4,
    )
    .prop_map(|resource_logs| ExportLogsServiceRequest { resource_logs })
}

fn exemplars() -> impl Strategy<Value = Vec<Exemplar>> {
    vec(
        (
            attributes(2),
            any::<u64>(),
            id(8),
            id(16),
            prop_oneof![
                any::<f64>().prop_map(exemplar::Value::AsDouble),
                any::<i64>().prop_map(exemplar::Value::AsInt),
            ],
        )
            .prop_map(|(filtered_attributes, t, span_id, trace_id, v)| Exemplar {
                filtered_attributes,
                time_unix_nano: t,
                span_id,
                trace_id,
                value: Some(v),
            }),
        0..2,
    )
}

fn number_points() -> impl Strategy<Value = Vec<NumberDataPoint>> {
    vec(
        (
            attributes(4),
            any::<u64>(),
            option::of(prop_oneof![
                any::<f64>().prop_map(number_data_point::Value::AsDouble),
                any::<i64>().prop_map(number_data_point::Value::AsInt),
            ]),
            exemplars(),
            0u32..2,
        )
            .prop_map(|(attributes, t, value, exemplars, flags)| NumberDataPoint {
                attributes,
                start_time_unix_nano: t / 2,
                time_unix_nano: t,
                exemplars,
                flags,
                value,
            }),
        0..6,
    )
}

fn metric_data() -> impl Strategy<Value = Option<metric::Data>> {
    let gauge = number_points().prop_map(|data_points| metric::Data::Gauge(Gauge { data_points }));
    let sum = (number_points(), 0i32..3, any::<bool>()).prop_map(|(data_points, t, m)| {
        metric::Data::Sum(Sum {
            data_points,
            aggregation_temporality: t,
            is_monotonic: m,
        })
    });
    let histogram = (
        vec(
            (
                attributes(3),
                any::<u64>(),
                option::of(any::<f64>()),
                vec(any::<u64>(), 0..5),
                vec(any::<f64>(), 0..4),
                exemplars(),
                option::of(any::<f64>()),
            )
                .prop_map(
                    |(attributes, count, sum, buckets, bounds, exemplars, min)| {
                        HistogramDataPoint {
                            attributes,
                            start_time_unix_nano: 1,
                            time_unix_nano: 2,
                            count,
                            sum,
                            bucket_counts: buckets,
                            explicit_bounds: bounds,
                            exemplars,
                            flags: 0,
                            min,
                            max: min.map(|m| m + 1.0),
                        }
                    },
                ),
            0..5,
        ),
        0i32..3,
    )
        .prop_map(|(data_points, t)| {
            metric::Data::Histogram(Histogram {
                data_points,
                aggregation_temporality: t,
            })
        });
    let buckets =
        (any::<i32>(), vec(any::<u64>(), 0..5)).prop_map(|(offset, bucket_counts)| Buckets {
            offset,
            bucket_counts,
        });
    let exp = (
        vec(
            (
                attributes(3),
                any::<u64>(),
                option::of(any::<f64>()),
                any::<i32>(),
                option::of(buckets.clone()),
                option::of(buckets),
                exemplars(),
                any::<f64>(),
            )
                .prop_map(
                    |(attributes, count, sum, scale, pos, neg, exemplars, zt)| {
                        ExponentialHistogramDataPoint {
                            attributes,
                            start_time_unix_nano: 3,
                            time_unix_nano: 4,
                            count,
                            sum,
                            scale,
                            zero_count: count / 3,
                            positive: pos,
                            negative: neg,
                            flags: 0,
                            exemplars,
                            min: None,
                            max: sum,
                            zero_threshold: zt,
                        }
                    },
                ),
            0..4,
        ),
        0i32..3,
    )
        .prop_map(|(data_points, t)| {
            metric::Data::ExponentialHistogram(ExponentialHistogram {
                data_points,
                aggregation_temporality: t,
            })
        });
    let summary = vec(
        (
            attributes(3),
            any::<u64>(),
            any::<f64>(),
            vec((any::<f64>(), any::<f64>()), 0..3),
        )
            .prop_map(|(attributes, count, sum, q)| SummaryDataPoint {
                attributes,
                start_time_unix_nano: 5,
                time_unix_nano: 6,
                count,
                sum,
                quantile_values: q
                    .into_iter()
                    .map(|(quantile, value)| ValueAtQuantile { quantile, value })
                    .collect(),
                flags: 0,
            }),
        0..4,
    )
    .prop_map(|data_points| metric::Data::Summary(Summary { data_points }));
    option::weighted(0.95, prop_oneof![gauge, sum, histogram, exp, summary])
}

pub(crate) fn metrics() -> impl Strategy<Value = ExportMetricsServiceRequest> {
    let metric = (text(), text(), text(), metric_data(), attributes(2)).prop_map(
        |(name, description, unit, data, metadata)| Metric {
            name,
            description,
            unit,
            metadata,
            data,
        },
    );
    vec(
        (
            resource(),
            vec(
                (scope(), vec(metric, 0..5), text()).prop_map(|(scope, metrics, schema_url)| {
                    ScopeMetrics {
                        scope,
                        metrics,
                        schema_url,
                    }
                }),
                0..3,
            ),
            text(),
        )
            .prop_map(|(resource, scope_metrics, schema_url)| ResourceMetrics {
                resource,
                scope_metrics,
                schema_url,
            }),
        0..4,
    )
    .prop_map(|resource_metrics| ExportMetricsServiceRequest { resource_metrics })
}
