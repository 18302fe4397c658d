//! `relay`: the floor of the end-to-end benchmark. It receives OTLP/gRPC and forwards each
//! request body unchanged to an upstream over gRPC (no decoding, no batching), then hands
//! the upstream's answer back: what terminating and re-originating gRPC costs on this
//! machine, on the collector's stack (hyper HTTP/2 server with the collector's flow-control
//! windows and frame size, hyper-util's pooled HTTP/2 client as the OTLP exporter builds it,
//! as many tokio workers as the collector would start).
//!
//! `relay --upstream 127.0.0.1:PORT [--listen 127.0.0.1:0]`; the first line on stdout is
//! `listening on ADDR`. Only loopback addresses are accepted.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;

/// The collector's server windows and frame size (collector-core/src/server.rs).
const H2_STREAM_WINDOW: u32 = 1 << 20;
const H2_CONNECTION_WINDOW: u32 = 2 << 20;
const H2_MAX_FRAME: u32 = 256 << 10;

/// The upstream client and where it sends.
#[derive(Debug)]
struct Relay {
    client: Client<HttpConnector, Full<Bytes>>,
    upstream: SocketAddr,
}

/// What the relay answers: the upstream's response as it streams, or its own error.
type Body = Either<Incoming, Full<Bytes>>;

fn main() {
    if let Err(e) = run() {
        eprintln!("relay: {e}");
        std::process::exit(2);
    }
}

fn loopback(what: &str, s: &str) -> Result<SocketAddr, String> {
    let a: SocketAddr = s.parse().map_err(|e| format!("bad {what} {s:?}: {e}"))?;
    if !a.ip().is_loopback() {
        return Err(format!("{a} is not a loopback address"));
    }
    Ok(a)
}

fn run() -> Result<(), String> {
    let mut listen = "127.0.0.1:0".to_owned();
    let mut upstream = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs an address")?,
            "--upstream" => upstream = Some(args.next().ok_or("--upstream needs an address")?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let listen = loopback("--listen", &listen)?;
    let upstream = loopback("--upstream", &upstream.ok_or("--upstream is required")?)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(collector_core::worker_threads())
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(serve(listen, upstream))
}

async fn serve(addr: SocketAddr, upstream: SocketAddr) -> Result<(), String> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {local}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    let mut b = Client::builder(TokioExecutor::new());
    b.timer(TokioTimer::new());
    b.pool_timer(TokioTimer::new());
    b.http2_only(true);
    let relay = Arc::new(Relay {
        client: b.build(http),
        upstream,
    });
    let mut builder =
        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new()).http2_only();
    builder
        .http2()
        .timer(TokioTimer::new())
        .initial_stream_window_size(H2_STREAM_WINDOW)
        .initial_connection_window_size(H2_CONNECTION_WINDOW)
        .max_frame_size(H2_MAX_FRAME);
    let builder = Arc::new(builder);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("relay: accept: {e}");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (relay, builder) = (relay.clone(), builder.clone());
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let relay = relay.clone();
                async move { Ok::<_, Infallible>(forward(req, &relay).await) }
            });
            let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}

/// Forwards one request: the whole body is read first, as the collector's receiver does,
/// then sent upstream with the same path and headers.
async fn forward(req: Request<Incoming>, relay: &Relay) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return unavailable(&format!("reading the request: {e}")),
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let uri = match format!("http://{}{path}", relay.upstream).parse::<http::Uri>() {
        Ok(u) => u,
        Err(e) => return unavailable(&format!("bad path {path:?}: {e}")),
    };
    let mut up = Request::new(Full::new(body));
    *up.method_mut() = parts.method;
    *up.uri_mut() = uri;
    *up.headers_mut() = parts.headers;
    match relay.client.request(up).await {
        Ok(resp) => resp.map(Either::Left),
        Err(e) => unavailable(&format!("upstream: {e}")),
    }
}

/// A trailers-only gRPC UNAVAILABLE answer, so the sender counts the request as failed.
fn unavailable(msg: &str) -> Response<Body> {
    eprintln!("relay: {msg}");
    let mut r = Response::new(Either::Right(Full::new(Bytes::new())));
    *r.status_mut() = StatusCode::OK;
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/grpc"));
    h.insert("grpc-status", HeaderValue::from_static("14"));
    r
}
