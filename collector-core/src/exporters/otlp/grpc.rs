//! The `otlp` exporter: unary OTLP/gRPC calls over hyper's HTTP/2, with the Go exporter's
//! retry classification (OTLP specification, `exporter/otlpexporter/otlp.go`).

use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Uri, header};
use http_body_util::BodyExt;

use super::config::{OtlpGrpcExporterConfig, grpc_target};
use crate::Signal;
use crate::compression::{self, Encoding};
use crate::error::error_chain;
use crate::otlp::Payload;
use crate::otlp::wire::{Fields, Value};
use crate::pipeline::exporter::client::{self, ChunksBody, Client, partial_success};
use crate::pipeline::exporter::{BoxFuture, ExportError, Exporter};
use crate::telemetry::{Counter, Registry};

/// One `otlp` exporter instance (per id and signal).
pub(crate) struct GrpcExporter {
    id: String,
    client: Client,
    uri: Uri,
    headers: HeaderMap,
    compression: Option<Encoding>,
    timeout: Duration,
    rejected: Counter,
    /// A configured header no call can carry as metadata: Go loads the config and every
    /// call fails (grpc-go refuses it with `Internal`, a permanent error for the
    /// exporter); so does ours, rather than failing start-up after `validate` passed.
    bad_header: Option<String>,
}

impl GrpcExporter {
    pub(crate) fn new(
        id: &str,
        signal: Signal,
        cfg: &OtlpGrpcExporterConfig,
        registry: &Registry,
    ) -> Result<GrpcExporter, crate::Error> {
        let target = grpc_target(&cfg.endpoint);
        let tls = cfg.endpoint.starts_with("https://")
            || !cfg.tls.insecure
            || !cfg.tls.ca_file.is_empty()
            || !cfg.tls.ca_pem.is_empty();
        let scheme = if tls { "https" } else { "http" };
        let path = match signal {
            Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
            Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        };
        let uri: Uri = format!("{scheme}://{target}{path}").parse().map_err(|e| {
            crate::Error::new(
                crate::ErrorKind::Config,
                format!("exporter {id}: invalid endpoint {:?}: {e}", cfg.endpoint),
            )
        })?;
        let compression = match cfg.compression.as_str() {
            "" | "none" => None,
            c => Some(Encoding::parse(c).ok_or_else(|| {
                crate::Error::new(
                    crate::ErrorKind::Config,
                    format!("exporter {id}: unsupported compression type {c:?}"),
                )
            })?),
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc"),
        );
        headers.insert(header::TE, HeaderValue::from_static("trailers"));
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_static(concat!("collector/", env!("CARGO_PKG_VERSION"))),
        );
        if let Some(c) = compression {
            let name = match c {
                Encoding::Zstd => "zstd",
                Encoding::Snappy => "snappy",
                _ => "gzip",
            };
            headers.insert("grpc-encoding", HeaderValue::from_static(name));
        }
        if cfg.timeout.as_nanos() > 0 {
            let ms = cfg.timeout.to_std().as_millis().max(1);
            if let Ok(v) = HeaderValue::from_str(&format!("{ms}m")) {
                headers.insert("grpc-timeout", v);
            }
        }
        let mut bad_header = None;
        for (k, v) in &cfg.headers {
            let name = HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes());
            let value = HeaderValue::from_str(v.expose());
            match (name, value) {
                (Ok(n), Ok(mut v)) => {
                    v.set_sensitive(true);
                    headers.insert(n, v);
                }
                (Err(_), _) => {
                    bad_header.get_or_insert(format!(
                        "rpc error: code = Internal desc = header key {k:?} contains illegal characters"
                    ));
                }
                (Ok(_), Err(_)) => {
                    bad_header.get_or_insert(format!(
                        "rpc error: code = Internal desc = header key {k:?} contains value with non-printable ASCII characters"
                    ));
                }
            }
        }
        if let Some(m) = &bad_header {
            tracing::warn!(exporter = id, "{m}: every call will fail");
        }
        if !cfg.authority.is_empty() {
            tracing::warn!(
                exporter = id,
                "authority override is not supported; ignored"
            );
        }
        Ok(GrpcExporter {
            id: id.to_owned(),
            client: client::client(&uri, &cfg.tls, true, cfg.keepalive.as_ref())?,
            uri,
            headers,
            compression,
            timeout: client::attempt_timeout(cfg.timeout),
            rejected: client::rejected_counter(registry, id, signal),
            bad_header,
        })
    }

    async fn call(&self, payload: &Payload) -> Result<(), ExportError> {
        if let Some(m) = &self.bad_header {
            return Err(ExportError::Permanent(m.clone()));
        }
        let (flag, chunks) = match self.compression {
            None => (0u8, payload.chunks()),
            Some(enc) => {
                let c = compression::compress(enc, &payload.chunks())
                    .map_err(|e| ExportError::Permanent(format!("compression failed: {e}")))?;
                (1u8, vec![Bytes::from(c)])
            }
        };
        let len: usize = chunks.iter().map(Bytes::len).sum();
        let mut prefix = [flag, 0, 0, 0, 0];
        prefix[1..].copy_from_slice(&(len as u32).to_be_bytes());
        let mut body = Vec::with_capacity(chunks.len() + 1);
        body.push(Bytes::copy_from_slice(&prefix));
        body.extend(chunks);
        let mut req = Request::post(self.uri.clone())
            .body(ChunksBody::new(body))
            .map_err(|e| ExportError::Permanent(e.to_string()))?;
        *req.headers_mut() = self.headers.clone();
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| ExportError::Retryable {
                message: format!("rpc error: code = Unavailable desc = {}", error_chain(&e)),
                throttle: None,
            })?;
        let http_status = resp.status();
        let headers = resp.headers().clone();
        let collected = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| ExportError::Retryable {
                message: format!("rpc error: code = Unavailable desc = reading the response: {e}"),
                throttle: None,
            })?;
        let trailers = collected.trailers().cloned().unwrap_or_default();
        let body = collected.to_bytes();
        let get = |k: &str| trailers.get(k).or_else(|| headers.get(k)).cloned();
        let code = match get("grpc-status").and_then(|v| v.to_str().ok()?.parse::<u32>().ok()) {
            Some(c) => c,
            // No gRPC status: map the HTTP status as gRPC clients do.
            None => match http_status.as_u16() {
                200 => 2,
                400 => 13,
                401 => 16,
                403 => 7,
                404 => 12,
                429 | 502 | 503 | 504 => 14,
                _ => 2,
            },
        };
        let message = get("grpc-message")
            .and_then(|v| v.to_str().ok().map(percent_decode))
            .unwrap_or_default();
        if code == 0 {
            if let Some((rejected, msg)) = body.get(5..).and_then(partial_success) {
                self.rejected.add(rejected.max(0) as u64);
                tracing::warn!(
                    exporter = %self.id,
                    message = %msg,
                    rejected,
                    "Partial success response"
                );
            }
            return Ok(());
        }
        let info = get("grpc-status-details-bin").and_then(|v| retry_info(v.as_bytes()));
        let throttle = info.flatten();
        let text = format!("rpc error: code = {} desc = {message}", code_name(code));
        // OTLP's retryable codes; RESOURCE_EXHAUSTED when the server sent a RetryInfo,
        // with a delay or not (Go's `shouldRetry` tests for the detail, not the delay).
        let retryable = matches!(code, 1 | 4 | 10 | 11 | 14 | 15) || (code == 8 && info.is_some());
        if retryable {
            Err(ExportError::Retryable {
                message: text,
                throttle,
            })
        } else {
            Err(ExportError::Permanent(text))
        }
    }
}

impl Exporter for GrpcExporter {
    fn export<'a>(&'a self, payload: &'a Payload) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            match tokio::time::timeout(self.timeout, self.call(payload)).await {
                Ok(r) => r,
                Err(_) => Err(ExportError::Retryable {
                    message: format!(
                        "rpc error: code = DeadlineExceeded desc = context deadline exceeded after {:?}",
                        self.timeout
                    ),
                    throttle: None,
                }),
            }
        })
    }
}

fn code_name(code: u32) -> &'static str {
    match code {
        1 => "Canceled",
        2 => "Unknown",
        3 => "InvalidArgument",
        4 => "DeadlineExceeded",
        5 => "NotFound",
        6 => "AlreadyExists",
        7 => "PermissionDenied",
        8 => "ResourceExhausted",
        9 => "FailedPrecondition",
        10 => "Aborted",
        11 => "OutOfRange",
        12 => "Unimplemented",
        13 => "Internal",
        14 => "Unavailable",
        15 => "DataLoss",
        16 => "Unauthenticated",
        _ => "Unknown",
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `RetryInfo` in a `grpc-status-details-bin` trailer (base64 of a
/// `google.rpc.Status` whose `details` hold `Any`s): `Some(delay)` when there is one,
/// where the delay itself may be absent.
pub(crate) fn retry_info(b64: &[u8]) -> Option<Option<Duration>> {
    let raw = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(
            b64.strip_suffix(b"==")
                .or_else(|| b64.strip_suffix(b"="))
                .unwrap_or(b64),
        )
        .ok()?;
    for (f, v) in Fields::new(&raw) {
        let (3, Value::Len(any)) = (f, v) else {
            continue;
        };
        let mut type_url = &b""[..];
        let mut value = &b""[..];
        for (f, v) in Fields::new(any) {
            match (f, v) {
                (1, Value::Len(t)) => type_url = t,
                (2, Value::Len(x)) => value = x,
                _ => {}
            }
        }
        if !type_url.ends_with(b"google.rpc.RetryInfo") {
            continue;
        }
        for (f, v) in Fields::new(value) {
            let (1, Value::Len(d)) = (f, v) else { continue };
            let (mut secs, mut nanos) = (0i64, 0i32);
            for (f, v) in Fields::new(d) {
                match (f, v) {
                    (1, Value::Varint(s)) => secs = s as i64,
                    (2, Value::Varint(n)) => nanos = n as i32,
                    _ => {}
                }
            }
            return Some(Some(Duration::new(secs.max(0) as u64, nanos.max(0) as u32)));
        }
        return Some(None);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::wire::{WireType, put_key, put_len_field, put_nested, put_varint};

    #[test]
    fn retry_info_from_status_details() {
        let mut status = Vec::new();
        put_key(&mut status, 1, WireType::Varint);
        put_varint(&mut status, 8);
        put_nested(&mut status, 3, |any| {
            put_len_field(any, 1, b"type.googleapis.com/google.rpc.RetryInfo");
            put_nested(any, 2, |ri| {
                put_nested(ri, 1, |d| {
                    put_key(d, 1, WireType::Varint);
                    put_varint(d, 3);
                    put_key(d, 2, WireType::Varint);
                    put_varint(d, 500_000_000);
                })
            });
        });
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&status);
        assert_eq!(
            retry_info(b64.as_bytes()),
            Some(Some(Duration::from_millis(3500)))
        );
        let padded = base64::engine::general_purpose::STANDARD.encode(&status);
        assert_eq!(
            retry_info(padded.as_bytes()),
            Some(Some(Duration::from_millis(3500)))
        );
        assert_eq!(retry_info(b"bm90aGluZw"), None);
        // A RetryInfo without a delay is still a RetryInfo.
        let mut bare = Vec::new();
        put_key(&mut bare, 1, WireType::Varint);
        put_varint(&mut bare, 8);
        put_nested(&mut bare, 3, |any| {
            put_len_field(any, 1, b"type.googleapis.com/google.rpc.RetryInfo");
            put_nested(any, 2, |_| {});
        });
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bare);
        assert_eq!(retry_info(b64.as_bytes()), Some(None));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%25c%C3%A9"), "a b%cé");
        assert_eq!(percent_decode("trailing%2"), "trailing%2");
    }
}
