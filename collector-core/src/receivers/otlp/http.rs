//! OTLP/HTTP: protobuf and JSON bodies on the configured paths, with the status codes of the
//! OTLP specification (which differ from the Go receiver where noted in
//! `docs/receivers.md`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

use super::{OtlpHttpConfig, Outcome, ReceiverCore, status_proto};
use crate::Signal;
use crate::compression::{self, DecompressError, Encoding};
use crate::config::net::{CorsConfig, HTTP_ENCODINGS};
use crate::memory::Reservation;
use crate::otlp::Metadata;
use crate::server::{self, ConnMetrics, ServeOptions, ServerHandle};

/// When `read_timeout` is not set, a body must still arrive within this (a slow client
/// holds memory reserved for it).
const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_MAX_BODY: usize = 20 << 20;

/// gRPC codes carried in the `Status` of error bodies.
const CODE_INVALID_ARGUMENT: i32 = 3;
const CODE_RESOURCE_EXHAUSTED: i32 = 8;
const CODE_INTERNAL: i32 = 13;
const CODE_UNAVAILABLE: i32 = 14;

struct Settings {
    paths: [(String, Signal); 3],
    max_body: usize,
    body_timeout: Duration,
    encodings: Vec<String>,
    cors: Option<CorsConfig>,
    include_metadata: bool,
    response_headers: Vec<(http::HeaderName, HeaderValue)>,
}

/// Binds and serves OTLP/HTTP.
pub(crate) fn start(
    cfg: &OtlpHttpConfig,
    core: Arc<ReceiverCore>,
    registry: &crate::telemetry::Registry,
) -> Result<ServerHandle, crate::Error> {
    let tls = match &cfg.tls {
        Some(t) => Some(crate::tls::server_config(t, &[b"h2", b"http/1.1"])?),
        None => None,
    };
    let path = |p: &str| {
        if p.starts_with('/') {
            p.to_owned()
        } else {
            format!("/{p}")
        }
    };
    let settings = Arc::new(Settings {
        paths: [
            (path(&cfg.traces_url_path), Signal::Traces),
            (path(&cfg.metrics_url_path), Signal::Metrics),
            (path(&cfg.logs_url_path), Signal::Logs),
        ],
        max_body: if cfg.max_request_body_size > 0 {
            usize::try_from(cfg.max_request_body_size).unwrap_or(usize::MAX)
        } else {
            DEFAULT_MAX_BODY
        },
        body_timeout: if cfg.read_timeout.as_nanos() > 0 {
            cfg.read_timeout.to_std()
        } else {
            DEFAULT_BODY_TIMEOUT
        },
        encodings: cfg
            .compression_algorithms
            .clone()
            .unwrap_or_else(|| HTTP_ENCODINGS.iter().map(|s| (*s).to_owned()).collect()),
        cors: cfg.cors.clone(),
        include_metadata: cfg.include_metadata,
        response_headers: cfg
            .response_headers
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    http::HeaderName::from_bytes(k.as_bytes()).ok()?,
                    HeaderValue::from_str(v.expose()).ok()?,
                ))
            })
            .collect(),
    });
    let header_timeout =
        (cfg.read_header_timeout.as_nanos() > 0).then(|| cfg.read_header_timeout.to_std());
    let idle_timeout = (cfg.idle_timeout.as_nanos() > 0).then(|| cfg.idle_timeout.to_std());
    let opts = ServeOptions {
        http2_only: false,
        // hyper applies the header timeout from the moment it waits for a request, so it
        // also closes idle keep-alive connections: the smaller of the two settings wins.
        header_read_timeout: [header_timeout, idle_timeout].into_iter().flatten().min(),
        // HTTP/2 without TLS is served too (Go serves it only over TLS), capped as Go's
        // net/http caps it.
        max_concurrent_streams: server::HTTP_MAX_STREAMS,
        keepalive: None,
        tls,
        max_connections: crate::config::net::max_connections(cfg.max_connections),
        // A connection that never sends a request gets the header timeout (or a minute
        // when that is off: an idle socket is never held forever).
        first_request_timeout: header_timeout.unwrap_or(Duration::from_secs(60)),
        idle_timeout,
        budget: Some(core.budget.clone()),
        metrics: ConnMetrics::new(registry, &[("receiver", &core.id), ("transport", "http")]),
    };
    let io = |e: std::io::Error| crate::Error::with_source(crate::ErrorKind::Io, e.to_string(), e);
    let listeners = server::bind(&cfg.endpoint).map_err(io)?;
    server::serve(listeners, opts, move |req| {
        let core = core.clone();
        let settings = settings.clone();
        async move {
            // Preflights set their own CORS headers.
            let origin = (req.method() != Method::OPTIONS)
                .then(|| req.headers().get(header::ORIGIN).cloned())
                .flatten();
            let handled = async { handle(req, &core, &settings).await };
            let mut resp = match core.panics.catch_future(core.id.clone(), handled).await {
                Some(resp) => resp,
                None => text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n"),
            };
            decorate(&mut resp, &settings, origin.as_ref());
            resp
        }
    })
    .map_err(io)
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_owned())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// An error answered with a `google.rpc.Status` in the request's encoding.
fn status(status: StatusCode, json: bool, code: i32, message: &str) -> Response<Full<Bytes>> {
    let (body, ct) = if json {
        let body = serde_json::json!({ "code": code, "message": message }).to_string();
        (Bytes::from(body), "application/json")
    } else {
        (
            Bytes::from(status_proto(code, message)),
            "application/x-protobuf",
        )
    };
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

fn success(json: bool) -> Response<Full<Bytes>> {
    let (body, ct) = if json {
        (
            Bytes::from_static(b"{\"partialSuccess\":{}}"),
            "application/json",
        )
    } else {
        (Bytes::new(), "application/x-protobuf")
    };
    let mut r = Response::new(Full::new(body));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r
}

/// Does a CORS origin pattern (`*`, `https://*.example.com`, exact) allow `origin`?
fn origin_allowed(patterns: &[String], origin: &str) -> bool {
    patterns.iter().any(|p| match p.split_once('*') {
        None => p.eq_ignore_ascii_case(origin),
        Some((pre, post)) => {
            origin.len() >= pre.len() + post.len()
                && origin[..pre.len()].eq_ignore_ascii_case(pre)
                && origin[origin.len() - post.len()..].eq_ignore_ascii_case(post)
        }
    })
}

/// Headers every response carries: configured ones, and CORS for allowed origins.
fn decorate(resp: &mut Response<Full<Bytes>>, s: &Settings, origin: Option<&HeaderValue>) {
    for (k, v) in &s.response_headers {
        resp.headers_mut().insert(k.clone(), v.clone());
    }
    let (Some(cors), Some(origin)) = (&s.cors, origin) else {
        return;
    };
    let Ok(o) = origin.to_str() else { return };
    if origin_allowed(&cors.allowed_origins, o) {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// A CORS preflight (`OPTIONS` with `Access-Control-Request-Method`).
fn preflight(headers: &HeaderMap, s: &Settings) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::NO_CONTENT;
    let h = r.headers_mut();
    h.insert(
        header::VARY,
        HeaderValue::from_static(
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        ),
    );
    let Some(cors) = &s.cors else { return r };
    let Some(origin) = headers.get(header::ORIGIN) else {
        return r;
    };
    if !origin
        .to_str()
        .is_ok_and(|o| origin_allowed(&cors.allowed_origins, o))
    {
        return r;
    }
    let method = headers
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !method.eq_ignore_ascii_case("POST") {
        return r;
    }
    // Simple headers are always allowed (rs/cors defaults); others must be listed.
    const ALWAYS: [&str; 4] = ["origin", "accept", "content-type", "x-requested-with"];
    let requested: Vec<String> = headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(',')
        .map(|x| x.trim().to_ascii_lowercase())
        .filter(|x| !x.is_empty())
        .collect();
    let allowed = |name: &str| {
        ALWAYS.contains(&name)
            || cors
                .allowed_headers
                .iter()
                .any(|a| a == "*" || a.eq_ignore_ascii_case(name))
    };
    if !requested.iter().all(|x| allowed(x)) {
        return r;
    }
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST"),
    );
    if !requested.is_empty()
        && let Ok(v) = HeaderValue::from_str(&requested.join(", "))
    {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
    }
    if cors.max_age > 0 {
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from(cors.max_age),
        );
    }
    r
}

/// `application/x-protobuf` → false, `application/json` → true (parameters allowed).
fn content_type(headers: &HeaderMap) -> Option<bool> {
    let v = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let media = v.split(';').next()?.trim().to_ascii_lowercase();
    match media.as_str() {
        "application/x-protobuf" => Some(false),
        "application/json" => Some(true),
        _ => None,
    }
}

async fn handle(
    req: Request<Incoming>,
    core: &ReceiverCore,
    s: &Settings,
) -> Response<Full<Bytes>> {
    if req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return preflight(req.headers(), s);
    }
    let Some(signal) = s
        .paths
        .iter()
        .find(|(p, _)| p == req.uri().path())
        .map(|(_, sig)| *sig)
        .filter(|sig| core.serves(*sig))
    else {
        return text(StatusCode::NOT_FOUND, "404 page not found\n");
    };
    if req.method() != Method::POST {
        let mut r = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "405 method not allowed, supported: [POST]",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let Some(json) = content_type(req.headers()) else {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "415 unsupported media type, supported: [application/json, application/x-protobuf]",
        );
    };
    let enc_name = req
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let encoding = Encoding::parse(&enc_name).filter(|_| {
        s.encodings.contains(&enc_name)
            || (enc_name == "identity" && s.encodings.iter().any(String::is_empty))
    });
    let Some(encoding) = encoding else {
        core.failed_early(signal);
        return status(
            StatusCode::BAD_REQUEST,
            json,
            CODE_INVALID_ARGUMENT,
            &format!("unsupported Content-Encoding: {enc_name}"),
        );
    };
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if length.is_some_and(|l| l > s.max_body) {
        core.failed_early(signal);
        return too_large(json, s.max_body);
    }
    let metadata = s.include_metadata.then(|| {
        Arc::new(Metadata::new(req.headers().iter().filter_map(|(k, v)| {
            Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned()))
        })))
    });
    // Admission: reserve the announced length before reading anything.
    let Some(reservation) = core.budget.try_reserve(length.unwrap_or(0)) else {
        core.refused_early(signal);
        return status(
            StatusCode::SERVICE_UNAVAILABLE,
            json,
            CODE_UNAVAILABLE,
            super::OVER_BUDGET,
        );
    };
    let body = req.into_body();
    let read = tokio::time::timeout(
        s.body_timeout,
        read_body(body, length, s.max_body, reservation),
    )
    .await;
    let (raw, reservation) = match read {
        Ok(Ok(r)) => r,
        Ok(Err(BodyError::TooLarge)) => {
            core.failed_early(signal);
            return too_large(json, s.max_body);
        }
        Ok(Err(BodyError::OverBudget)) => {
            core.refused_early(signal);
            return status(
                StatusCode::SERVICE_UNAVAILABLE,
                json,
                CODE_UNAVAILABLE,
                super::OVER_BUDGET,
            );
        }
        Ok(Err(BodyError::Io(e))) => {
            core.failed_early(signal);
            return status(
                StatusCode::BAD_REQUEST,
                json,
                CODE_INVALID_ARGUMENT,
                &format!("failed to read the request body: {e}"),
            );
        }
        Err(_) => {
            core.failed_early(signal);
            return status(
                StatusCode::REQUEST_TIMEOUT,
                json,
                CODE_UNAVAILABLE,
                "timed out reading the request body",
            );
        }
    };
    let (body, reservation) = if encoding == Encoding::Identity {
        (raw, reservation)
    } else {
        let Some(mut out_reservation) = core.budget.try_reserve(0) else {
            core.refused_early(signal);
            return status(
                StatusCode::SERVICE_UNAVAILABLE,
                json,
                CODE_UNAVAILABLE,
                super::OVER_BUDGET,
            );
        };
        match compression::decompress(encoding, &raw, s.max_body, &mut out_reservation) {
            Ok(out) => {
                drop((raw, reservation));
                (out, out_reservation)
            }
            Err(DecompressError::TooLarge(_)) => {
                core.failed_early(signal);
                return too_large(json, s.max_body);
            }
            Err(DecompressError::OverBudget) => {
                core.refused_early(signal);
                return status(
                    StatusCode::SERVICE_UNAVAILABLE,
                    json,
                    CODE_UNAVAILABLE,
                    super::OVER_BUDGET,
                );
            }
            Err(e @ DecompressError::Corrupt(_)) => {
                core.failed_early(signal);
                return status(
                    StatusCode::BAD_REQUEST,
                    json,
                    CODE_INVALID_ARGUMENT,
                    &e.to_string(),
                );
            }
        }
    };
    match core
        .receive(signal, body, reservation, json, metadata, None)
        .await
    {
        Outcome::Accepted => success(json),
        Outcome::Invalid(m) => status(StatusCode::BAD_REQUEST, json, CODE_INVALID_ARGUMENT, &m),
        Outcome::Refused(m) => status(StatusCode::SERVICE_UNAVAILABLE, json, CODE_UNAVAILABLE, &m),
        Outcome::Failed(m) => status(StatusCode::INTERNAL_SERVER_ERROR, json, CODE_INTERNAL, &m),
    }
}

fn too_large(json: bool, max: usize) -> Response<Full<Bytes>> {
    status(
        StatusCode::PAYLOAD_TOO_LARGE,
        json,
        CODE_RESOURCE_EXHAUSTED,
        &format!("request body too large: the limit is {max} bytes"),
    )
}

enum BodyError {
    TooLarge,
    OverBudget,
    Io(hyper::Error),
}

/// Reads the body into one buffer of at most `max` bytes, growing the reservation when the
/// length was not announced.
async fn read_body(
    mut body: Incoming,
    length: Option<usize>,
    max: usize,
    mut reservation: Reservation,
) -> Result<(Vec<u8>, Reservation), BodyError> {
    let mut buf: Vec<u8> = Vec::with_capacity(length.unwrap_or(0));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::Io)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let new_len = buf.len() + data.len();
        if new_len > max {
            return Err(BodyError::TooLarge);
        }
        if new_len > buf.capacity() {
            // Grow as a Vec would, but with the budget told first and never past `max`.
            let cap = new_len.max(buf.capacity().saturating_mul(2)).min(max);
            if cap > reservation.bytes() && !reservation.try_grow(cap - reservation.bytes()) {
                return Err(BodyError::OverBudget);
            }
            buf.reserve_exact(cap - buf.len());
        }
        buf.extend_from_slice(&data);
    }
    Ok((buf, reservation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let p = vec![
            "https://*.example.com".to_owned(),
            "http://localhost:3000".to_owned(),
        ];
        assert!(origin_allowed(&p, "https://app.example.com"));
        assert!(origin_allowed(&p, "http://localhost:3000"));
        assert!(!origin_allowed(&p, "https://example.org"));
        assert!(origin_allowed(&["*".to_owned()], "https://anything"));
    }

    #[test]
    fn content_types_with_parameters() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert_eq!(content_type(&h), Some(true));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/X-Protobuf"),
        );
        assert_eq!(content_type(&h), Some(false));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert_eq!(content_type(&h), None);
    }
}
