//! Helpers for the runtime integration tests: start a collector on 127.0.0.1 with ports
//! chosen by the OS, send with real HTTP/1.1 and HTTP/2 clients, read its metrics.

#![allow(dead_code, clippy::unwrap_used)]

pub mod netns;
pub mod recorder;
pub mod sink;

use std::net::SocketAddr;

use bytes::Bytes;
use collector_core::{Collector, CollectorHandle};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// A collector with an OTLP receiver (gRPC and HTTP on port 0) and a debug exporter, plus
/// `extra` YAML merged in.
pub async fn start(extra: &str, budget: Option<usize>) -> CollectorHandle {
    let yaml = "receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
      http:
        endpoint: 127.0.0.1:0
exporters:
  debug:
    verbosity: basic
    sending_queue:
      queue_size: 1000
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
    metrics:
      receivers: [otlp]
      exporters: [debug]
    logs:
      receivers: [otlp]
      exporters: [debug]
"
    .to_string();
    let cfg = collector_core::config::Loader::new()
        .document("test.yaml", yaml)
        .document("extra.yaml", extra)
        .load()
        .unwrap();
    let mut c = Collector::new(cfg);
    if let Some(b) = budget {
        c = c.memory_budget(b);
    }
    c.start().await.unwrap()
}

pub fn grpc_addr(h: &CollectorHandle) -> SocketAddr {
    h.listen_addrs()[0].1
}

pub fn http_addr(h: &CollectorHandle) -> SocketAddr {
    h.listen_addrs()[1].1
}

/// A counter's value from the collector's metrics, summed over series matching `labels`.
pub fn metric(h: &CollectorHandle, name: &str, labels: &str) -> f64 {
    h.metrics_text()
        .lines()
        .filter(|l| l.starts_with(name) && l.contains(labels))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Waits until `f` holds (or 5 s pass).
pub async fn eventually(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if f() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    false
}

pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// An HTTP/1.1 request.
pub async fn http(req: Request<Full<Bytes>>) -> Reply {
    let client = Client::builder(TokioExecutor::new()).build_http();
    let resp: Response<_> = client.request(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

/// An HTTP/1.1 GET of `path` on `addr`.
pub async fn get(addr: SocketAddr, path: &str) -> Reply {
    http(
        Request::get(format!("http://{addr}{path}"))
            .body(Full::new(Bytes::new()))
            .unwrap(),
    )
    .await
}

/// The `n`th address component `id` listens on (`otlp`: gRPC first, then HTTP).
pub fn addr_of(h: &CollectorHandle, id: &str, n: usize) -> SocketAddr {
    h.listen_addrs()
        .into_iter()
        .filter(|(i, _)| i == id)
        .nth(n)
        .unwrap_or_else(|| panic!("{id} listens on fewer than {} addresses", n + 1))
        .1
}

pub fn post(
    addr: SocketAddr,
    path: &str,
    ct: &str,
    enc: Option<&str>,
    body: Vec<u8>,
) -> Request<Full<Bytes>> {
    let mut b = Request::post(format!("http://{addr}{path}")).header("content-type", ct);
    if let Some(e) = enc {
        b = b.header("content-encoding", e);
    }
    b.body(Full::new(Bytes::from(body))).unwrap()
}

pub struct GrpcReply {
    pub http_status: u16,
    pub status: u32,
    pub message: String,
}

/// A unary gRPC call over HTTP/2 (prior knowledge), framing the message by hand.
pub async fn grpc(
    addr: SocketAddr,
    path: &str,
    encoding: Option<&str>,
    compressed: bool,
    msg: &[u8],
) -> GrpcReply {
    let client = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<Full<Bytes>>();
    let mut frame = vec![u8::from(compressed)];
    frame.extend_from_slice(&(msg.len() as u32).to_be_bytes());
    frame.extend_from_slice(msg);
    let mut b = Request::post(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(e) = encoding {
        b = b.header("grpc-encoding", e);
    }
    let resp = client
        .request(b.body(Full::new(Bytes::from(frame))).unwrap())
        .await
        .unwrap();
    let http_status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let collected = resp.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let get = |k: &str| {
        trailers
            .get(k)
            .or_else(|| headers.get(k))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    GrpcReply {
        http_status,
        status: get("grpc-status").parse().unwrap_or(99),
        message: get("grpc-message"),
    }
}

pub const TRACES_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
pub const LOGS_PATH: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
pub const METRICS_PATH: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

/// An encoded traces request with `resources` × `spans` spans.
pub fn traces(resources: usize, spans: usize) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;
    ExportTraceServiceRequest {
        resource_spans: (0..resources)
            .map(|r| ResourceSpans {
                resource: None,
                scope_spans: vec![ScopeSpans {
                    scope: None,
                    spans: (0..spans)
                        .map(|i| Span {
                            trace_id: vec![(r % 250) as u8 + 1; 16],
                            span_id: vec![(i % 250) as u8 + 1; 8],
                            name: format!("span-{i}"),
                            ..Default::default()
                        })
                        .collect(),
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            })
            .collect(),
    }
    .encode_to_vec()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn zlib(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn snappy_framed(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = snap::write::FrameEncoder::new(Vec::new());
    e.write_all(data).unwrap();
    e.into_inner().unwrap()
}

pub fn lz4(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}
