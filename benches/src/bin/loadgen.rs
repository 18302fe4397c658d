//! `loadgen`: the load of the end-to-end benchmark. It sends pre-encoded, realistic OTLP
//! export requests (built by [`collector_benches`], so every run sends the same bytes) over
//! OTLP/gRPC (HTTP/2 with prior knowledge, one connection, requests multiplexed) or
//! OTLP/HTTP (protobuf), optionally gzip- or zstd-compressed, at a fixed rate of items per
//! second or as fast as it can, with a fixed number of requests in flight.
//!
//! ```text
//! loadgen --endpoint 127.0.0.1:4317 [--protocol grpc|http] [--signal traces|logs|metrics]
//!         [--compression none|gzip|zstd] [--rate ITEMS_PER_S (0: as fast as possible)]
//!         [--duration SECONDS] [--inflight N] [--items PER_REQUEST] [--variants N]
//! ```
//!
//! The last line on stdout is one JSON object: what was sent and what was acknowledged.
//!
//! ```json
//! {"sent_requests":2000,"sent_items":200000,"acked_requests":2000,"acked_items":200000,
//!  "failed_requests":0,"bytes":123400000,"elapsed_s":10.0,"items_per_s":20000.0}
//! ```
//!
//! Only loopback endpoints are accepted.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// What to send and how.
#[derive(Debug, Clone)]
struct Opts {
    endpoint: SocketAddr,
    grpc: bool,
    signal: Signal,
    compression: String,
    rate: f64,
    duration: Duration,
    inflight: usize,
    items: usize,
    variants: usize,
}

/// The three OTLP signals.
#[derive(Debug, Clone, Copy)]
enum Signal {
    Traces,
    Logs,
    Metrics,
}

impl Signal {
    fn grpc_path(self) -> &'static str {
        match self {
            Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
            Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        }
    }
    fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Logs => "/v1/logs",
            Signal::Metrics => "/v1/metrics",
        }
    }
    /// An encoded request of `items` items; `seed` makes each variant's ids distinct.
    fn request(self, items: usize, seed: u64) -> Vec<u8> {
        match self {
            Signal::Traces => collector_benches::traces_request(1, items, seed),
            Signal::Logs => collector_benches::logs_request(items, seed),
            // Ten points per metric keeps the item count exact for multiples of ten.
            Signal::Metrics => collector_benches::metrics_request(items.div_ceil(10), 10, seed),
        }
    }
    /// Items in a request built by [`Signal::request`].
    fn items(self, items: usize) -> u64 {
        match self {
            Signal::Metrics => (items.div_ceil(10) * 10) as u64,
            _ => items as u64,
        }
    }
}

/// Counters shared by the senders.
#[derive(Debug, Default)]
struct Counts {
    sent_requests: AtomicU64,
    acked_requests: AtomicU64,
    failed_requests: AtomicU64,
    bytes: AtomicU64,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("loadgen: {e}");
        std::process::exit(2);
    }
}

fn parse() -> Result<Opts, String> {
    let mut endpoint = None;
    let mut o = Opts {
        endpoint: SocketAddr::from(([127, 0, 0, 1], 4317)),
        grpc: true,
        signal: Signal::Traces,
        compression: "none".to_owned(),
        rate: 20_000.0,
        duration: Duration::from_secs(10),
        inflight: 8,
        items: 100,
        variants: 64,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        let num = |v: String| {
            v.parse::<f64>()
                .map_err(|e| format!("bad number {v:?}: {e}"))
        };
        match a.as_str() {
            "--endpoint" => endpoint = Some(val()?),
            "--protocol" => {
                o.grpc = match val()?.as_str() {
                    "grpc" => true,
                    "http" => false,
                    other => return Err(format!("unknown protocol {other:?}")),
                }
            }
            "--signal" => {
                o.signal = match val()?.as_str() {
                    "traces" => Signal::Traces,
                    "logs" => Signal::Logs,
                    "metrics" => Signal::Metrics,
                    other => return Err(format!("unknown signal {other:?}")),
                }
            }
            "--compression" => {
                o.compression = val()?;
                if !["none", "gzip", "zstd"].contains(&o.compression.as_str()) {
                    return Err(format!("unknown compression {:?}", o.compression));
                }
            }
            "--rate" => o.rate = num(val()?)?,
            "--duration" => o.duration = Duration::from_secs_f64(num(val()?)?),
            "--inflight" => o.inflight = num(val()?)?.max(1.0) as usize,
            "--items" => o.items = num(val()?)?.max(1.0) as usize,
            "--variants" => o.variants = num(val()?)?.max(1.0) as usize,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let endpoint = endpoint.ok_or("--endpoint is required")?;
    o.endpoint = endpoint
        .parse()
        .map_err(|e| format!("bad --endpoint {endpoint:?}: {e}"))?;
    if !o.endpoint.ip().is_loopback() {
        return Err(format!("{} is not a loopback address", o.endpoint));
    }
    Ok(o)
}

/// Compresses one encoded request as the wire carries it.
fn compress(how: &str, raw: &[u8]) -> Result<Vec<u8>, String> {
    match how {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(raw).map_err(|e| e.to_string())?;
            e.finish().map_err(|e| e.to_string())
        }
        "zstd" => zstd::encode_all(raw, 3).map_err(|e| e.to_string()),
        _ => Ok(raw.to_vec()),
    }
}

fn run() -> Result<(), String> {
    let o = parse()?;
    // Encoding happens before the clock starts: the load costs the sender nothing but I/O.
    let mut bodies = Vec::with_capacity(o.variants);
    for v in 0..o.variants {
        let raw = o.signal.request(o.items, 0x5eed_0000 + v as u64);
        let payload = compress(&o.compression, &raw)?;
        let body = if o.grpc {
            let mut framed = Vec::with_capacity(payload.len() + 5);
            framed.push(u8::from(o.compression != "none"));
            framed.extend_from_slice(&(payload.len() as u32).to_be_bytes());
            framed.extend_from_slice(&payload);
            framed
        } else {
            payload
        };
        bodies.push(Bytes::from(body));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let (counts, elapsed) = rt.block_on(load(&o, Arc::new(bodies)))?;
    let per = o.signal.items(o.items);
    let sent = counts.sent_requests.load(Ordering::Relaxed);
    let acked = counts.acked_requests.load(Ordering::Relaxed);
    let line = serde_json::json!({
        "sent_requests": sent,
        "sent_items": sent * per,
        "acked_requests": acked,
        "acked_items": acked * per,
        "failed_requests": counts.failed_requests.load(Ordering::Relaxed),
        "bytes": counts.bytes.load(Ordering::Relaxed),
        "elapsed_s": elapsed.as_secs_f64(),
        "items_per_s": (acked * per) as f64 / elapsed.as_secs_f64().max(1e-9),
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())
}

async fn load(o: &Opts, bodies: Arc<Vec<Bytes>>) -> Result<(Arc<Counts>, Duration), String> {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    let mut b = Client::builder(TokioExecutor::new());
    b.timer(TokioTimer::new());
    b.pool_timer(TokioTimer::new());
    if o.grpc {
        // One HTTP/2 connection carrying every request, as an SDK's exporter does.
        b.http2_only(true);
    } else {
        b.pool_max_idle_per_host(o.inflight);
    }
    let client: Client<HttpConnector, Full<Bytes>> = b.build(http);
    let path = if o.grpc {
        o.signal.grpc_path()
    } else {
        o.signal.http_path()
    };
    let uri: http::Uri = format!("http://{}{path}", o.endpoint)
        .parse()
        .map_err(|e| format!("bad URI: {e}"))?;
    let counts = Arc::new(Counts::default());
    let next = Arc::new(AtomicU64::new(0));
    // Requests are scheduled on a fixed grid from the start, so a slow response delays
    // only the requests behind it (up to `inflight` of them), never the average rate.
    let interval = if o.rate > 0.0 {
        Some(Duration::from_secs_f64(
            o.signal.items(o.items) as f64 / o.rate,
        ))
    } else {
        None
    };
    let start = tokio::time::Instant::now();
    let end = start + o.duration;
    let mut tasks = Vec::new();
    for _ in 0..o.inflight {
        let (client, uri, counts, next, bodies) = (
            client.clone(),
            uri.clone(),
            counts.clone(),
            next.clone(),
            bodies.clone(),
        );
        let grpc = o.grpc;
        let compression = o.compression.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if let Some(i) = interval {
                    let at = start + i.mul_f64(k as f64);
                    if at >= end {
                        break;
                    }
                    tokio::time::sleep_until(at).await;
                } else if tokio::time::Instant::now() >= end {
                    break;
                }
                let body = bodies[(k as usize) % bodies.len()].clone();
                let mut req = Request::post(uri.clone());
                if grpc {
                    req = req
                        .header("content-type", "application/grpc")
                        .header("te", "trailers");
                    if compression != "none" {
                        req = req.header("grpc-encoding", compression.as_str());
                    }
                } else {
                    req = req.header("content-type", "application/x-protobuf");
                    if compression != "none" {
                        req = req.header("content-encoding", compression.as_str());
                    }
                }
                counts.sent_requests.fetch_add(1, Ordering::Relaxed);
                counts.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                let ok = match req.body(Full::new(body)) {
                    Ok(req) => send(&client, req, grpc).await,
                    Err(_) => false,
                };
                if ok {
                    counts.acked_requests.fetch_add(1, Ordering::Relaxed);
                } else {
                    counts.failed_requests.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| format!("a sender failed: {e}"))?;
    }
    Ok((counts, start.elapsed()))
}

/// Sends one request; true when the receiver acknowledged it (gRPC status 0, or HTTP 2xx).
async fn send(
    client: &Client<HttpConnector, Full<Bytes>>,
    req: Request<Full<Bytes>>,
    grpc: bool,
) -> bool {
    let Ok(resp) = client.request(req).await else {
        return false;
    };
    let status = resp.status();
    let header_status = resp
        .headers()
        .get("grpc-status")
        .map(|v| v.as_bytes().to_vec());
    let Ok(collected) = resp.into_body().collect().await else {
        return false;
    };
    if !grpc {
        return status.is_success();
    }
    if status != StatusCode::OK {
        return false;
    }
    // A trailers-only response carries grpc-status in its headers.
    let code = collected
        .trailers()
        .and_then(|t| t.get("grpc-status"))
        .map(|v| v.as_bytes().to_vec())
        .or(header_status);
    code.as_deref() == Some(b"0")
}
