//! Realistic OTLP requests for the benchmarks, built deterministically.
//!
//! Spans look like the seed's: a FastAPI service whose spans carry about ten attributes
//! (HTTP method and route, user and organisation ids, request id, client address, status
//! code...), about 600 bytes each once encoded. Logs carry a message body and request
//! context; metrics are a mix of sums, gauges and histograms.

pub mod cpu;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
    Sum, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use prost::Message;

/// A string attribute.
pub fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        key_strindex: 0,
    }
}

/// An integer attribute.
pub fn kv_int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        key_strindex: 0,
    }
}

/// A small deterministic generator, so every run benchmarks the same bytes.
#[derive(Debug)]
pub struct Lcg(u64);

impl Lcg {
    /// Seeded generator.
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed)
    }
    /// Next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 ^ (self.0 >> 29)
    }
    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// The seed service's resource.
pub fn resource(service: &str) -> Resource {
    Resource {
        attributes: vec![
            kv("service.name", service),
            kv("service.version", "0.1.0"),
            kv("deployment.environment", "production"),
            kv("telemetry.sdk.language", "python"),
            kv("telemetry.sdk.name", "opentelemetry"),
            kv("telemetry.sdk.version", "1.39.0"),
        ],
        dropped_attributes_count: 0,
        entity_refs: vec![],
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "opentelemetry.instrumentation.fastapi".to_owned(),
        version: "0.60b0".to_owned(),
        attributes: vec![],
        dropped_attributes_count: 0,
    }
}

/// One span like the seed's, about 600 bytes encoded.
pub fn span(rng: &mut Lcg, i: usize) -> Span {
    let routes = [
        "/api/v1/users",
        "/api/v1/orders",
        "/api/v1/reports",
        "/health",
    ];
    let route = routes[i % routes.len()];
    let start = 1_764_000_000_000_000_000u64 + (i as u64) * 1_000_000;
    Span {
        trace_id: rng.bytes(16),
        span_id: rng.bytes(8),
        trace_state: String::new(),
        parent_span_id: if i.is_multiple_of(5) {
            vec![]
        } else {
            rng.bytes(8)
        },
        flags: 0x301,
        name: format!("POST {route}"),
        kind: 2,
        start_time_unix_nano: start,
        end_time_unix_nano: start + 12_000_000 + (rng.next_u64() % 5_000_000),
        attributes: vec![
            kv("http.method", "POST"),
            kv("http.target", route),
            kv("http.route", route),
            kv_int("http.status_code", 201),
            kv("user.id", &format!("user_{:05}", rng.next_u64() % 100_000)),
            kv(
                "organisation.id",
                &format!("org_{:03}", rng.next_u64() % 1000),
            ),
            kv(
                "request.id",
                &format!("req_{:016x}{:016x}", rng.next_u64(), rng.next_u64()),
            ),
            kv("client.address", "10.0.12.34"),
            kv(
                "http.user_agent",
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",
            ),
            kv("net.host.name", "my-api.internal.example.com"),
            kv("http.scheme", "https"),
        ],
        dropped_attributes_count: 0,
        events: vec![span::Event {
            time_unix_nano: start + 1000,
            name: "request_context_set".to_owned(),
            attributes: vec![kv("context.method", "POST")],
            dropped_attributes_count: 0,
        }],
        dropped_events_count: 0,
        links: vec![],
        dropped_links_count: 0,
        status: Some(Status {
            message: String::new(),
            code: 1,
        }),
    }
}

/// A traces request: `resources` resources of `spans_per_resource` spans each.
pub fn traces_request(resources: usize, spans_per_resource: usize, seed: u64) -> Vec<u8> {
    let mut rng = Lcg::new(seed);
    ExportTraceServiceRequest {
        resource_spans: (0..resources)
            .map(|r| ResourceSpans {
                resource: Some(resource(&format!("my-api-{r}"))),
                scope_spans: vec![ScopeSpans {
                    scope: Some(scope()),
                    spans: (0..spans_per_resource).map(|i| span(&mut rng, i)).collect(),
                    schema_url: String::new(),
                }],
                schema_url: "https://opentelemetry.io/schemas/1.21.0".to_owned(),
            })
            .collect(),
    }
    .encode_to_vec()
}

/// A logs request of `n` records with message bodies and request context.
pub fn logs_request(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = Lcg::new(seed);
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(resource("my-api")),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "myapp.api.users".to_owned(),
                    ..Default::default()
                }),
                log_records: (0..n)
                    .map(|i| LogRecord {
                        time_unix_nano: 1_764_000_000_000_000_000 + i as u64,
                        observed_time_unix_nano: 1_764_000_000_000_000_100 + i as u64,
                        severity_number: 9,
                        severity_text: "INFO".to_owned(),
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(format!(
                                "User created successfully for request {:016x}",
                                rng.next_u64()
                            ))),
                        }),
                        attributes: vec![
                            kv("request_id", &format!("req_{:08x}", rng.next_u64())),
                            kv("user_id", "user_12345"),
                            kv("organisation_id", "org_789"),
                            kv("http_method", "POST"),
                            kv("http_path", "/api/v1/users"),
                            kv("logger", "myapp.api.users"),
                        ],
                        dropped_attributes_count: 0,
                        flags: 1,
                        trace_id: rng.bytes(16),
                        span_id: rng.bytes(8),
                        event_name: String::new(),
                    })
                    .collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
    .encode_to_vec()
}

/// A metrics request of `metrics` metrics with `points` data points each (sums, gauges and
/// histograms in turn).
pub fn metrics_request(metrics: usize, points: usize, seed: u64) -> Vec<u8> {
    let mut rng = Lcg::new(seed);
    let attrs = |rng: &mut Lcg| {
        vec![
            kv("http.route", "/api/v1/users"),
            kv("http.method", "POST"),
            kv_int("http.status_code", 200 + (rng.next_u64() % 3) as i64),
        ]
    };
    let metrics = (0..metrics)
        .map(|m| {
            let data = match m % 3 {
                0 => metric::Data::Sum(Sum {
                    data_points: (0..points)
                        .map(|_| NumberDataPoint {
                            attributes: attrs(&mut rng),
                            start_time_unix_nano: 1,
                            time_unix_nano: 2,
                            exemplars: vec![],
                            flags: 0,
                            value: Some(number_data_point::Value::AsInt(
                                (rng.next_u64() % 1000) as i64,
                            )),
                        })
                        .collect(),
                    aggregation_temporality: 2,
                    is_monotonic: true,
                }),
                1 => metric::Data::Gauge(Gauge {
                    data_points: (0..points)
                        .map(|_| NumberDataPoint {
                            attributes: attrs(&mut rng),
                            start_time_unix_nano: 1,
                            time_unix_nano: 2,
                            exemplars: vec![],
                            flags: 0,
                            value: Some(number_data_point::Value::AsDouble(
                                (rng.next_u64() % 1000) as f64 / 7.0,
                            )),
                        })
                        .collect(),
                }),
                _ => metric::Data::Histogram(Histogram {
                    data_points: (0..points)
                        .map(|_| HistogramDataPoint {
                            attributes: attrs(&mut rng),
                            start_time_unix_nano: 1,
                            time_unix_nano: 2,
                            count: 100,
                            sum: Some(1234.5),
                            bucket_counts: (0..16).map(|_| rng.next_u64() % 50).collect(),
                            explicit_bounds: (0..15).map(|b| (b * 25) as f64).collect(),
                            exemplars: vec![],
                            flags: 0,
                            min: Some(0.5),
                            max: Some(900.0),
                        })
                        .collect(),
                    aggregation_temporality: 2,
                }),
            };
            Metric {
                name: format!("http.server.metric_{m}"),
                description: "Measures the duration of inbound HTTP requests.".to_owned(),
                unit: "ms".to_owned(),
                metadata: vec![],
                data: Some(data),
            }
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource("my-api")),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope()),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
    .encode_to_vec()
}
