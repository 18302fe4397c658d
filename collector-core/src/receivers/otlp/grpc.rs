//! OTLP/gRPC on hyper's HTTP/2, without a gRPC framework: the receiver reads the 5-byte
//! message prefix first, so it can refuse an oversized or over-budget message before
//! reading it, and the message lands in one accounted buffer that the pipeline slices.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, header};
use http_body::Frame;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::{Outcome, ReceiverCore};
use crate::Signal;
use crate::compression::{self, DecompressError, Encoding};
use crate::config::net::GrpcServerConfig;
use crate::memory::Reservation;
use crate::otlp::Metadata;
use crate::server::{self, ConnMetrics, ServeOptions, ServerHandle};

/// gRPC status codes used here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Code {
    Ok = 0,
    InvalidArgument = 3,
    ResourceExhausted = 8,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
}

/// HTTP/2 streams per connection when `max_concurrent_streams` is 0 (ours: grpc-go has
/// no limit then).
const DEFAULT_MAX_STREAMS: u32 = 100;

/// How long a client may take to send a message it announced.
const BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// A unary gRPC response body: one message, then trailers.
pub(crate) struct GrpcBody {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl http_body::Body for GrpcBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(d) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(d))));
        }
        if let Some(t) = self.trailers.take() {
            return Poll::Ready(Some(Ok(Frame::trailers(t))));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }
}

/// `grpc-message` is percent-encoded (the gRPC HTTP/2 spec).
fn percent_encode(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    for b in msg.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn grpc_response(code: Code, message: &str) -> Response<GrpcBody> {
    let mut resp = Response::new(GrpcBody {
        data: None,
        trailers: None,
    });
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    if code == Code::Ok {
        // An empty Export*ServiceResponse, then the status in trailers.
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static("0"));
        *resp.body_mut() = GrpcBody {
            data: Some(Bytes::from_static(&[0, 0, 0, 0, 0])),
            trailers: Some(trailers),
        };
    } else {
        // Trailers-only: the status in the headers, no body.
        h.insert("grpc-status", HeaderValue::from(code as u16));
        if let Ok(v) = HeaderValue::from_str(&percent_encode(message)) {
            h.insert("grpc-message", v);
        }
    }
    resp
}

fn signal_of(path: &str) -> Option<Signal> {
    match path {
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export" => Some(Signal::Traces),
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export" => Some(Signal::Metrics),
        "/opentelemetry.proto.collector.logs.v1.LogsService/Export" => Some(Signal::Logs),
        _ => None,
    }
}

/// A `grpc-timeout` header value: at most 8 digits and a unit (the gRPC HTTP/2 spec).
fn grpc_timeout(v: &str) -> Option<Duration> {
    let (digits, unit) = v.split_at(v.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// Binds and serves OTLP/gRPC.
pub(crate) fn start(
    cfg: &GrpcServerConfig,
    core: Arc<ReceiverCore>,
    registry: &crate::telemetry::Registry,
) -> Result<ServerHandle, crate::Error> {
    let tls = match &cfg.tls {
        Some(t) => Some(crate::tls::server_config(t, &[b"h2"])?),
        None => None,
    };
    let listeners = server::bind(&cfg.endpoint).map_err(io)?;
    let keepalive = cfg.keepalive.as_ref().and_then(|k| {
        let p = &k.server_parameters;
        (p.time.as_nanos() > 0).then(|| {
            let timeout = if p.timeout.as_nanos() > 0 {
                p.timeout.to_std()
            } else {
                Duration::from_secs(20)
            };
            (p.time.to_std(), timeout)
        })
    });
    let idle = cfg
        .keepalive
        .as_ref()
        .map(|k| k.server_parameters.max_connection_idle)
        .filter(|d| d.as_nanos() > 0)
        .map(|d| d.to_std());
    let opts = ServeOptions {
        http2_only: true,
        header_read_timeout: None,
        // grpc-go serves without a stream limit when it is 0; ours is bounded.
        max_concurrent_streams: if cfg.max_concurrent_streams > 0 {
            cfg.max_concurrent_streams
        } else {
            DEFAULT_MAX_STREAMS
        },
        keepalive,
        tls,
        max_connections: crate::config::net::max_connections(cfg.max_connections),
        first_request_timeout: cfg.handshake_timeout.to_std(),
        idle_timeout: idle,
        budget: Some(core.budget.clone()),
        metrics: ConnMetrics::new(registry, &[("receiver", &core.id), ("transport", "grpc")]),
    };
    let max = if cfg.max_recv_msg_size_mib > 0 {
        usize::try_from(cfg.max_recv_msg_size_mib << 20).unwrap_or(usize::MAX)
    } else {
        4 << 20
    };
    let include_metadata = cfg.include_metadata;
    server::serve(listeners, opts, move |req| {
        let core = core.clone();
        async move {
            let handled = async { handle(req, &core, max, include_metadata).await };
            match core.panics.catch_future(core.id.clone(), handled).await {
                Some(resp) => resp,
                None => grpc_response(Code::Internal, "internal error"),
            }
        }
    })
    .map_err(io)
}

fn io(e: std::io::Error) -> crate::Error {
    crate::Error::with_source(crate::ErrorKind::Io, e.to_string(), e)
}

async fn handle(
    req: Request<Incoming>,
    core: &ReceiverCore,
    max: usize,
    include_metadata: bool,
) -> Response<GrpcBody> {
    let Some(signal) = signal_of(req.uri().path()) else {
        return grpc_response(
            Code::Unimplemented,
            &format!("unknown method {}", req.uri().path()),
        );
    };
    if !core.serves(signal) {
        let service = req
            .uri()
            .path()
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("");
        return grpc_response(Code::Unimplemented, &format!("unknown service {service}"));
    }
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/grpc") {
        let mut resp = grpc_response(Code::Internal, "invalid gRPC request content-type");
        *resp.status_mut() = http::StatusCode::UNSUPPORTED_MEDIA_TYPE;
        return resp;
    }
    let encoding_name = req
        .headers()
        .get("grpc-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .to_owned();
    let Some(encoding) = Encoding::parse(&encoding_name).filter(|e| {
        matches!(
            e,
            Encoding::Identity | Encoding::Gzip | Encoding::Zstd | Encoding::Snappy
        )
    }) else {
        return grpc_response(
            Code::Unimplemented,
            &format!("grpc: Decompressor is not installed for grpc-encoding {encoding_name:?}"),
        );
    };
    let client_wait = req
        .headers()
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(grpc_timeout);
    let metadata = include_metadata.then(|| {
        Arc::new(Metadata::new(req.headers().iter().filter_map(|(k, v)| {
            let k = k.as_str();
            if k.starts_with("grpc-") || k == "te" || k == "content-type" {
                return None;
            }
            Some((k.to_owned(), v.to_str().ok()?.to_owned()))
        })))
    });
    let mut body = req.into_body();
    let read = tokio::time::timeout(
        BODY_TIMEOUT,
        read_message(&mut body, encoding, max, core, signal),
    )
    .await;
    let (bytes, reservation) = match read {
        Ok(Ok(b)) => b,
        Ok(Err(resp)) => return resp,
        Err(_) => {
            core.failed_early(signal);
            return grpc_response(Code::Unavailable, "timed out reading the request message");
        }
    };
    match core
        .receive(signal, bytes, reservation, false, metadata, client_wait)
        .await
    {
        Outcome::Accepted => grpc_response(Code::Ok, ""),
        Outcome::Invalid(m) => grpc_response(Code::InvalidArgument, &m),
        Outcome::Refused(m) => grpc_response(Code::Unavailable, &m),
        Outcome::Failed(m) => grpc_response(Code::Internal, &m),
    }
}

/// Reads one length-prefixed message: the prefix first, then admission, then the body
/// (decompressed if flagged) into a buffer and the reservation that accounts it.
async fn read_message(
    body: &mut Incoming,
    encoding: Encoding,
    max: usize,
    core: &ReceiverCore,
    signal: Signal,
) -> Result<(Vec<u8>, Reservation), Response<GrpcBody>> {
    let fail = |code, msg: &str| {
        core.failed_early(signal);
        grpc_response(code, msg)
    };
    let mut head: Vec<u8> = Vec::with_capacity(5);
    let mut rest = Bytes::new();
    while head.len() < 5 {
        match body.frame().await {
            Some(Ok(f)) => {
                if let Ok(mut d) = f.into_data() {
                    let take = (5 - head.len()).min(d.len());
                    head.extend_from_slice(&d.split_to(take));
                    rest = d;
                }
            }
            Some(Err(e)) => return Err(fail(Code::Internal, &format!("reading the request: {e}"))),
            None if head.is_empty() => {
                return Err(fail(Code::Internal, "grpc: request without a message"));
            }
            None => return Err(fail(Code::Internal, "grpc: truncated message prefix")),
        }
    }
    let compressed = head[0] == 1;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > max {
        return Err(fail(
            Code::ResourceExhausted,
            &format!("grpc: received message larger than max ({len} vs. {max})"),
        ));
    }
    if compressed && encoding == Encoding::Identity {
        return Err(fail(
            Code::Internal,
            "grpc: compressed flag set with identity or empty encoding",
        ));
    }
    // Admission: the budget decides before the message is read.
    let Some(reservation) = core.budget.try_reserve(len) else {
        core.refused_early(signal);
        return Err(grpc_response(Code::Unavailable, super::OVER_BUDGET));
    };
    let mut buf: Vec<u8> = Vec::with_capacity(len);
    let take = rest.len().min(len);
    buf.extend_from_slice(&rest[..take]);
    while buf.len() < len {
        match body.frame().await {
            Some(Ok(f)) => {
                if let Ok(d) = f.into_data() {
                    let take = (len - buf.len()).min(d.len());
                    buf.extend_from_slice(&d[..take]);
                }
            }
            Some(Err(e)) => return Err(fail(Code::Internal, &format!("reading the request: {e}"))),
            None => {
                return Err(fail(
                    Code::Internal,
                    &format!("grpc: message truncated ({} of {len} bytes)", buf.len()),
                ));
            }
        }
    }
    if !compressed {
        return Ok((buf, reservation));
    }
    // The compressed input stays accounted until the output replaces it.
    let Some(mut out_reservation) = core.budget.try_reserve(0) else {
        core.refused_early(signal);
        return Err(grpc_response(Code::Unavailable, super::OVER_BUDGET));
    };
    match compression::decompress(encoding, &buf, max, &mut out_reservation) {
        Ok(out) => {
            drop((buf, reservation));
            Ok((out, out_reservation))
        }
        Err(DecompressError::TooLarge(_)) => Err(fail(
            Code::ResourceExhausted,
            &format!("grpc: received message after decompression larger than max ({max})"),
        )),
        Err(DecompressError::OverBudget) => {
            core.refused_early(signal);
            Err(grpc_response(Code::Unavailable, super::OVER_BUDGET))
        }
        Err(e @ DecompressError::Corrupt(_)) => Err(fail(
            Code::Internal,
            &format!("grpc: failed to decompress the message: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_message_is_percent_encoded() {
        assert_eq!(percent_encode("a b%c\né"), "a b%25c%0A%C3%A9");
    }

    #[test]
    fn grpc_timeouts_parse() {
        assert_eq!(grpc_timeout("10S"), Some(Duration::from_secs(10)));
        assert_eq!(grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(grpc_timeout("5000000u"), Some(Duration::from_secs(5)));
        for bad in ["", "S", "10", "123456789S", "1x", "-1S"] {
            assert_eq!(grpc_timeout(bad), None, "{bad}");
        }
    }

    #[test]
    fn services_map_to_signals() {
        assert_eq!(
            signal_of("/opentelemetry.proto.collector.logs.v1.LogsService/Export"),
            Some(Signal::Logs)
        );
        assert_eq!(signal_of("/grpc.health.v1.Health/Check"), None);
    }
}
