//! The `redaction` processor in a running collector, loaded from `examples/redaction.yaml`:
//! secrets sent over OTLP/HTTP never reach the backend (an in-test gRPC sink that keeps every
//! body it receives) nor the collector's log (with a `detailed` debug exporter added), and
//! spans with nothing to redact arrive byte for byte as they were sent.

#![allow(clippy::unwrap_used)] // test helpers: a panic is a failing test

mod support;

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
use parking_lot::Mutex;
use prost::Message;
use support::{eventually, http, http_addr, post};

const PROTO: &str = "application/x-protobuf";

/// Every value the example configuration must keep from leaving the collector.
const SECRETS: [&str; 7] = [
    "hunter2",
    "eyJhbGciOiJIUzI1NiJ9.planted",
    "4111 1111 1111 1111",
    "4111111111111111",
    "bob@shop.io",
    "k-planted-123",
    "csrf-planted",
];

/// Request bodies by path, decompressed.
type Bodies = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A gRPC backend that answers OK and keeps every request body.
struct Sink {
    addr: SocketAddr,
    bodies: Bodies,
}

async fn sink() -> Sink {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let bodies: Bodies = Arc::default();
    let kept = bodies.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let kept = kept.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let kept = kept.clone();
                    async move {
                        let path = req.uri().path().to_owned();
                        let gzip = req
                            .headers()
                            .get("grpc-encoding")
                            .is_some_and(|v| v == "gzip");
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let msg = &body[5..];
                        let raw = if body[0] == 1 && gzip {
                            let mut out = Vec::new();
                            flate2::read::MultiGzDecoder::new(msg)
                                .read_to_end(&mut out)
                                .unwrap();
                            out
                        } else {
                            msg.to_vec()
                        };
                        kept.lock().push((path, raw));
                        // A trailers-only answer: status OK in the headers.
                        Ok::<_, Infallible>(
                            Response::builder()
                                .header("content-type", "application/grpc")
                                .header("grpc-status", "0")
                                .body(Full::new(Bytes::new()))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Sink { addr, bodies }
}

/// Log lines, as the `tracing` subscriber writes them.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn example() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/redaction.yaml")
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn span(id: u8, name: &str, attrs: Vec<KeyValue>) -> Span {
    Span {
        trace_id: vec![7; 16],
        span_id: vec![id; 8],
        name: name.into(),
        attributes: attrs,
        start_time_unix_nano: 1,
        end_time_unix_nano: 2,
        ..Default::default()
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_example_validates() {
    let cfg = collector_core::config::Loader::new()
        .env(|_| None)
        .config(example().to_string_lossy())
        .load()
        .unwrap();
    assert!(cfg.warnings().is_empty(), "{:?}", cfg.warnings());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_secrets_never_leave_and_clean_spans_keep_their_bytes() {
    let logs = Lines::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let backend = sink().await;
    // The example as it is, plus a debug exporter printing every attribute, with ports
    // and the backend replaced.
    let cfg = collector_core::config::Loader::new()
        .env(|_| None)
        .config(example().to_string_lossy())
        .document(
            "test.yaml",
            "exporters:
  debug:
    verbosity: detailed
service:
  pipelines:
    traces:
      exporters: [otlp, debug]
    metrics:
      exporters: [otlp, debug]
    logs:
      exporters: [otlp, debug]
",
        )
        .set("receivers.otlp.protocols.grpc.endpoint=127.0.0.1:0")
        .set("receivers.otlp.protocols.http.endpoint=127.0.0.1:0")
        .set(format!("exporters.otlp.endpoint={}", backend.addr))
        .set("exporters.otlp.tls.insecure=true")
        .set("processors.batch.timeout=20ms")
        .set("service.telemetry.metrics.level=none")
        .load()
        .unwrap();
    let h = collector_core::Collector::new(cfg).start().await.unwrap();
    let addr = http_addr(&h);

    let clean = span(1, "GET /health", vec![kv("http.method", "GET")]);
    let mut dirty = span(
        2,
        "POST /login",
        vec![
            kv("user.password", "hunter2"),
            kv(
                "http.request.header.authorization",
                "Bearer eyJhbGciOiJIUzI1NiJ9.planted",
            ),
            kv("x-csrf-token", "csrf-planted"),
            kv("enduser.email", "bob@shop.io"),
        ],
    );
    dirty.events.push(span::Event {
        name: "request.body".into(),
        attributes: vec![kv(
            "body",
            r#"{"email":"bob@shop.io","card":"4111111111111111"}"#,
        )],
        ..Default::default()
    });
    let traces = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "my-api")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![clean.clone(), dirty],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let logs_req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    body: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(
                            "payment by bob@shop.io with 4111 1111 1111 1111 accepted".into(),
                        )),
                    }),
                    attributes: vec![kv("api_key", "k-planted-123")],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let metrics = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "logins".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: vec![NumberDataPoint {
                            attributes: vec![kv("user", "bob@shop.io")],
                            value: Some(number_data_point::Value::AsInt(1)),
                            ..Default::default()
                        }],
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    for (path, body) in [
        ("/v1/traces", traces.encode_to_vec()),
        ("/v1/logs", logs_req.encode_to_vec()),
        ("/v1/metrics", metrics.encode_to_vec()),
    ] {
        assert_eq!(http(post(addr, path, PROTO, None, body)).await.status, 200);
    }
    assert!(
        eventually(|| backend.bodies.lock().len() >= 3).await,
        "the backend got {} requests",
        backend.bodies.lock().len()
    );
    h.shutdown(Duration::from_secs(5)).await;
    let logged = logs.0.lock().clone();

    let bodies = backend.bodies.lock().clone();
    for (path, body) in &bodies {
        for s in SECRETS {
            assert!(
                !contains(body, s.as_bytes()),
                "{s} reached the backend on {path}"
            );
        }
    }
    for s in SECRETS {
        assert!(!contains(&logged, s.as_bytes()), "{s} logged");
    }
    // The debug exporter (through the collector's log, its default) did print the masked
    // attributes: the capture works.
    let logged = String::from_utf8_lossy(&logged);
    assert!(logged.contains("user.password: Str(****)"), "{logged}");

    let trace_body = &bodies.iter().find(|(p, _)| p.contains("trace")).unwrap().1;
    assert!(
        contains(trace_body, &clean.encode_to_vec()),
        "the clean span was re-encoded"
    );
    let got = ExportTraceServiceRequest::decode(trace_body.as_slice()).unwrap();
    let spans = &got.resource_spans[0].scope_spans[0].spans;
    assert_eq!(spans[0], clean);
    let masked: Vec<(&str, String)> = spans[1]
        .attributes
        .iter()
        .map(|a| (a.key.as_str(), format!("{:?}", a.value)))
        .collect();
    assert_eq!(masked.len(), 5, "{masked:?}");
    assert!(
        masked
            .iter()
            .any(|(k, v)| *k == "redaction.masked.count" && v.contains("IntValue(4)"))
    );

    let log_body = &bodies.iter().find(|(p, _)| p.contains("logs")).unwrap().1;
    let got = ExportLogsServiceRequest::decode(log_body.as_slice()).unwrap();
    let rec = &got.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(
        rec.body,
        Some(AnyValue {
            value: Some(any_value::Value::StringValue(
                "payment by **** with **** accepted".into()
            )),
        })
    );
}
