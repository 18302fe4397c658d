//! An in-test OTLP backend on 127.0.0.1: gRPC and HTTP on one port (cleartext or TLS),
//! decoding every request with the `opentelemetry-proto` types (the reference: prost for
//! protobuf, their serde support for OTLP/JSON; never the collector's own decoders),
//! counting items, recording headers and answer times, and answering as scripted (errors,
//! throttles, delays, a gate that holds requests).

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use parking_lot::Mutex;
use prost::Message;
use tokio::net::TcpListener;

/// How the sink answers one request.
#[derive(Clone, Debug)]
pub enum Answer {
    Ok,
    /// gRPC status code and optional RetryInfo delay (HTTP: mapped to a status code).
    Grpc(u32, Option<Duration>),
    /// gRPC status code with a RetryInfo that has no `retry_delay`.
    GrpcBareRetryInfo(u32),
    /// HTTP status and optional `Retry-After` seconds.
    Http(u16, Option<u64>),
    /// Success with `partial_success.rejected_*` set.
    Partial(i64),
}

#[derive(Debug)]
pub struct Recorded {
    pub path: String,
    pub headers: HeaderMap,
    pub at: Instant,
    pub accepted: bool,
    /// gRPC only: the message prefix's compressed flag.
    pub grpc_compressed: Option<bool>,
}

/// Holds requests while closed; open unless a test closes it.
struct Gate(tokio::sync::watch::Sender<bool>);

impl Default for Gate {
    fn default() -> Gate {
        Gate(tokio::sync::watch::channel(true).0)
    }
}

#[derive(Default)]
pub struct State {
    pub spans: AtomicU64,
    pub log_records: AtomicU64,
    /// Metric data points.
    pub points: AtomicU64,
    pub requests: Mutex<Vec<Recorded>>,
    /// Requests whose body was read, counted before the gate and the delay.
    pub arrived: AtomicU64,
    script: Mutex<VecDeque<Answer>>,
    delay: Mutex<Duration>,
    gate: Gate,
}

pub struct Sink {
    pub addr: SocketAddr,
    pub state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Sink {
    pub async fn start(tls: Option<Arc<rustls::ServerConfig>>) -> Sink {
        Sink::start_on("127.0.0.1:0".parse().unwrap(), tls).await
    }

    pub async fn start_on(addr: SocketAddr, tls: Option<Arc<rustls::ServerConfig>>) -> Sink {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let st = state.clone();
        let task = tokio::spawn(async move {
            let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let st = st.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let st = st.clone();
                        async move { Ok::<_, Infallible>(handle(req, &st).await) }
                    });
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    match acceptor {
                        None => {
                            let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                        }
                        Some(a) => {
                            if let Ok(s) = a.accept(stream).await {
                                let _ = builder.serve_connection(TokioIo::new(s), svc).await;
                            }
                        }
                    }
                });
            }
        });
        Sink { addr, state, task }
    }

    pub fn then(&self, a: Answer) {
        self.state.script.lock().push_back(a);
    }

    pub fn delay(&self, d: Duration) {
        *self.state.delay.lock() = d;
    }

    /// Holds every request (after reading its body) until `open_gate`: a backend that is
    /// slow for exactly as long as the test wants, whatever the machine's load.
    pub fn close_gate(&self) {
        self.state.gate.0.send_replace(false);
    }

    pub fn open_gate(&self) {
        self.state.gate.0.send_replace(true);
    }

    /// Requests that reached the sink, answered or still held.
    pub fn arrived(&self) -> u64 {
        self.state.arrived.load(Ordering::Relaxed)
    }

    pub fn spans(&self) -> u64 {
        self.state.spans.load(Ordering::Relaxed)
    }

    pub fn requests(&self) -> usize {
        self.state.requests.lock().len()
    }

    pub fn stop(self) {
        self.task.abort();
    }
}

fn decompress(enc: &str, b: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    match enc {
        "" | "identity" => out.extend_from_slice(b),
        "gzip" => {
            flate2::read::MultiGzDecoder::new(b)
                .read_to_end(&mut out)
                .unwrap();
        }
        "deflate" | "zlib" => {
            flate2::read::ZlibDecoder::new(b)
                .read_to_end(&mut out)
                .unwrap();
        }
        "zstd" => out = zstd::stream::decode_all(b).unwrap(),
        "snappy" | "x-snappy-framed" => {
            snap::read::FrameDecoder::new(b)
                .read_to_end(&mut out)
                .unwrap();
        }
        "lz4" => {
            lz4_flex::frame::FrameDecoder::new(b)
                .read_to_end(&mut out)
                .unwrap();
        }
        other => panic!("sink: unexpected encoding {other}"),
    }
    out
}

/// Counts the items of a request with prost.
fn count(path: &str, body: &[u8], st: &State) {
    if path.contains("trace") {
        let r = ExportTraceServiceRequest::decode(body).expect("sink: invalid traces request");
        let n: usize = r
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum();
        st.spans.fetch_add(n as u64, Ordering::Relaxed);
    } else if path.contains("logs") {
        let r = ExportLogsServiceRequest::decode(body).expect("sink: invalid logs request");
        let n: usize = r
            .resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len())
            .sum();
        st.log_records.fetch_add(n as u64, Ordering::Relaxed);
    } else {
        use opentelemetry_proto::tonic::metrics::v1::metric::Data;
        let r = ExportMetricsServiceRequest::decode(body).expect("sink: invalid metrics request");
        let n: usize = r
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .map(|m| match &m.data {
                Some(Data::Gauge(g)) => g.data_points.len(),
                Some(Data::Sum(s)) => s.data_points.len(),
                Some(Data::Histogram(h)) => h.data_points.len(),
                Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
                Some(Data::Summary(s)) => s.data_points.len(),
                None => 0,
            })
            .sum();
        st.points.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// An OTLP/JSON request as protobuf, decoded with the `opentelemetry-proto` serde types so
/// that what the collector writes is read by an implementation other than its own.
fn json_to_protobuf(path: &str, json: &[u8]) -> Vec<u8> {
    if path.contains("trace") {
        serde_json::from_slice::<ExportTraceServiceRequest>(json)
            .expect("sink: invalid OTLP/JSON traces request")
            .encode_to_vec()
    } else if path.contains("logs") {
        serde_json::from_slice::<ExportLogsServiceRequest>(json)
            .expect("sink: invalid OTLP/JSON logs request")
            .encode_to_vec()
    } else {
        serde_json::from_slice::<ExportMetricsServiceRequest>(json)
            .expect("sink: invalid OTLP/JSON metrics request")
            .encode_to_vec()
    }
}

mod futures_stream {
    use super::*;

    /// Data then trailers, as a stream of frames.
    pub struct Frames(pub VecDeque<Frame<Bytes>>);

    impl hyper::body::Body for Frames {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            std::task::Poll::Ready(self.0.pop_front().map(Ok))
        }
    }
}

async fn handle(req: Request<Incoming>, st: &State) -> Response<futures_stream::Frames> {
    let path = req.uri().path().to_owned();
    let headers = req.headers().clone();
    let grpc = headers
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
    let body = req.into_body().collect().await.unwrap().to_bytes();
    st.arrived.fetch_add(1, Ordering::Relaxed);
    let mut gate = st.gate.0.subscribe();
    let _ = gate.wait_for(|open| *open).await;
    let delay = *st.delay.lock();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let answer = st.script.lock().pop_front().unwrap_or(Answer::Ok);
    let accepted = matches!(answer, Answer::Ok | Answer::Partial(_));
    st.requests.lock().push(Recorded {
        path: path.clone(),
        headers: headers.clone(),
        at: Instant::now(),
        accepted,
        grpc_compressed: grpc.then(|| body[0] == 1),
    });
    if grpc {
        let enc = headers
            .get("grpc-encoding")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let compressed = body[0] == 1;
        let msg = &body[5..];
        let raw = if compressed {
            decompress(enc, msg)
        } else {
            msg.to_vec()
        };
        if accepted {
            count(&path, &raw, st);
        }
        grpc_answer(answer)
    } else {
        let enc = headers
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let raw = decompress(enc, &body);
        let json = headers
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        if accepted {
            if json {
                count(&path, &json_to_protobuf(&path, &raw), st);
            } else {
                count(&path, &raw, st);
            }
        }
        http_answer(answer)
    }
}

fn partial_body(rejected: i64) -> Vec<u8> {
    // Export*ServiceResponse { partial_success = 1 { rejected = 1, error_message = 2 } }
    let mut ps = Vec::new();
    ps.push(0x08);
    let mut v = rejected as u64;
    while v >= 0x80 {
        ps.push((v as u8) | 0x80);
        v >>= 7;
    }
    ps.push(v as u8);
    ps.push(0x12);
    ps.push(4);
    ps.extend_from_slice(b"nope");
    let mut out = vec![0x0a, ps.len() as u8];
    out.extend(ps);
    out
}

fn grpc_answer(a: Answer) -> Response<futures_stream::Frames> {
    let mut frames = VecDeque::new();
    let mut trailers = HeaderMap::new();
    match a {
        Answer::Ok | Answer::Partial(_) => {
            let msg = if let Answer::Partial(r) = a {
                partial_body(r)
            } else {
                Vec::new()
            };
            let mut framed = vec![0u8];
            framed.extend_from_slice(&(msg.len() as u32).to_be_bytes());
            framed.extend(msg);
            frames.push_back(Frame::data(Bytes::from(framed)));
            trailers.insert("grpc-status", "0".parse().unwrap());
        }
        Answer::Grpc(code, delay) => {
            trailers.insert("grpc-status", code.to_string().parse().unwrap());
            trailers.insert("grpc-message", "scripted%20failure".parse().unwrap());
            if let Some(d) = delay {
                use base64::Engine;
                // google.rpc.Status{code, details: [Any{RetryInfo{retry_delay}}]}
                let dur = [0x08u8, d.as_secs() as u8];
                let mut ri = vec![0x0a, dur.len() as u8];
                ri.extend_from_slice(&dur);
                let url = b"type.googleapis.com/google.rpc.RetryInfo";
                let mut any = vec![0x0a, url.len() as u8];
                any.extend_from_slice(url);
                any.push(0x12);
                any.push(ri.len() as u8);
                any.extend(ri);
                let mut status = vec![0x08, code as u8, 0x1a, any.len() as u8];
                status.extend(any);
                let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(status);
                trailers.insert("grpc-status-details-bin", b64.parse().unwrap());
            }
        }
        Answer::GrpcBareRetryInfo(code) => {
            use base64::Engine;
            trailers.insert("grpc-status", code.to_string().parse().unwrap());
            // google.rpc.Status{code, details: [Any{RetryInfo{}}]}
            let url = b"type.googleapis.com/google.rpc.RetryInfo";
            let mut any = vec![0x0a, url.len() as u8];
            any.extend_from_slice(url);
            any.extend_from_slice(&[0x12, 0x00]);
            let mut status = vec![0x08, code as u8, 0x1a, any.len() as u8];
            status.extend(any);
            let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(status);
            trailers.insert("grpc-status-details-bin", b64.parse().unwrap());
        }
        Answer::Http(status, _) => {
            let mut r = Response::new(futures_stream::Frames(VecDeque::new()));
            *r.status_mut() = http::StatusCode::from_u16(status).unwrap();
            return r;
        }
    }
    frames.push_back(Frame::trailers(trailers));
    let mut r = Response::new(futures_stream::Frames(frames));
    r.headers_mut()
        .insert("content-type", "application/grpc".parse().unwrap());
    r
}

fn http_answer(a: Answer) -> Response<futures_stream::Frames> {
    let (status, retry_after, body) = match a {
        Answer::Ok => (200, None, Vec::new()),
        Answer::Partial(r) => (200, None, partial_body(r)),
        Answer::Http(s, ra) => (s, ra, Vec::new()),
        Answer::Grpc(14, ra) => (503, ra.map(|d| d.as_secs()), Vec::new()),
        Answer::Grpc(_, _) => (400, None, Vec::new()),
        // HTTP has no RetryInfo: 429 is its retryable throttle.
        Answer::GrpcBareRetryInfo(_) => (429, None, Vec::new()),
    };
    let mut frames = VecDeque::new();
    frames.push_back(Frame::data(Bytes::from(body)));
    let mut r = Response::new(futures_stream::Frames(frames));
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap();
    r.headers_mut()
        .insert("content-type", "application/x-protobuf".parse().unwrap());
    if let Some(s) = retry_after {
        r.headers_mut()
            .insert("retry-after", s.to_string().parse().unwrap());
    }
    r
}

/// A CA and a server certificate for 127.0.0.1/localhost, as PEM files in `dir`: returns
/// (ca path, server config).
pub fn tls_files(dir: &std::path::Path) -> (std::path::PathBuf, Arc<rustls::ServerConfig>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let cert = params.signed_by(&key, &issuer).unwrap();
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
        )
        .unwrap();
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    (ca_path, Arc::new(cfg))
}

pub fn full(b: Vec<u8>) -> Full<Bytes> {
    Full::new(Bytes::from(b))
}
