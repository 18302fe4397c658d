//! The `otlphttp` exporter: OTLP/HTTP POSTs, retrying what the OTLP specification calls
//! retryable (429, 502, 503, 504) and honouring `Retry-After`.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Uri, header};
use http_body_util::BodyExt;

use super::config::{HttpEncoding, OtlpHttpExporterConfig};
use crate::Signal;
use crate::compression::{self, Encoding};
use crate::error::error_chain;
use crate::otlp::Payload;
use crate::pipeline::exporter::client::{self, ChunksBody, Client, partial_success};
use crate::pipeline::exporter::{BoxFuture, ExportError, Exporter};
use crate::telemetry::{Counter, Registry};

/// One `otlphttp` exporter instance (per id and signal).
pub(crate) struct HttpExporter {
    id: String,
    client: Client,
    uri: Uri,
    headers: HeaderMap,
    compression: Option<Encoding>,
    json: bool,
    timeout: Duration,
    rejected: Counter,
    /// A configured header no request can carry: Go loads the config and every request
    /// fails (net/http refuses it), retryably; so does ours, rather than failing start-up
    /// after `validate` passed.
    bad_header: Option<String>,
}

impl HttpExporter {
    pub(crate) fn new(
        id: &str,
        signal: Signal,
        cfg: &OtlpHttpExporterConfig,
        registry: &Registry,
    ) -> Result<HttpExporter, crate::Error> {
        let config_err = |m: String| crate::Error::new(crate::ErrorKind::Config, m);
        let url = cfg.signal_url(signal).ok_or_else(|| {
            config_err(format!(
                "exporter {id}: either endpoint or {}_endpoint must be specified",
                signal.as_str()
            ))
        })?;
        let uri: Uri = url
            .parse()
            .map_err(|e| config_err(format!("exporter {id}: {url:?} is not a valid URL: {e}")))?;
        let compression = match cfg.compression.as_str() {
            "" | "none" => None,
            c => Some(Encoding::parse(c).ok_or_else(|| {
                config_err(format!("exporter {id}: unsupported compression type {c:?}"))
            })?),
        };
        let json = cfg.encoding == HttpEncoding::Json;
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(if json {
                "application/json"
            } else {
                "application/x-protobuf"
            }),
        );
        headers.insert(
            header::USER_AGENT,
            HeaderValue::from_static(concat!("collector/", env!("CARGO_PKG_VERSION"))),
        );
        if compression.is_some() {
            // The configured name, as Go's confighttp sends it (`zlib` and `deflate` are
            // the same bytes under two names).
            let name = HeaderValue::from_str(&cfg.compression).map_err(|_| {
                config_err(format!(
                    "exporter {id}: bad compression {:?}",
                    cfg.compression
                ))
            })?;
            headers.insert(header::CONTENT_ENCODING, name);
        }
        let mut bad_header = None;
        for (k, v) in &cfg.headers {
            match (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v.expose()),
            ) {
                (Ok(n), Ok(mut v)) => {
                    v.set_sensitive(true);
                    headers.insert(n, v);
                }
                (Err(_), _) => {
                    bad_header.get_or_insert(format!(
                        "failed to make an HTTP request: net/http: invalid header field name {k:?}"
                    ));
                }
                (Ok(_), Err(_)) => {
                    bad_header.get_or_insert(format!(
                        "failed to make an HTTP request: net/http: invalid header field value for {k:?}"
                    ));
                }
            }
        }
        if let Some(m) = &bad_header {
            tracing::warn!(exporter = id, "{m}: every request will fail");
        }
        Ok(HttpExporter {
            id: id.to_owned(),
            client: client::client(&uri, &cfg.tls, false, None)?,
            uri,
            headers,
            compression,
            json,
            timeout: client::attempt_timeout(cfg.timeout),
            rejected: client::rejected_counter(registry, id, signal),
            bad_header,
        })
    }

    async fn post(&self, payload: &Payload) -> Result<(), ExportError> {
        if let Some(m) = &self.bad_header {
            return Err(ExportError::Retryable {
                message: m.clone(),
                throttle: None,
            });
        }
        let chunks = if self.json {
            vec![Bytes::from(payload.to_json())]
        } else {
            payload.chunks()
        };
        let chunks = match self.compression {
            None => chunks,
            Some(enc) => vec![Bytes::from(compression::compress(enc, &chunks).map_err(
                |e| ExportError::Permanent(format!("compression failed: {e}")),
            )?)],
        };
        let mut req = Request::post(self.uri.clone())
            .body(ChunksBody::new(chunks))
            .map_err(|e| ExportError::Permanent(e.to_string()))?;
        *req.headers_mut() = self.headers.clone();
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| ExportError::Retryable {
                message: format!("failed to make an HTTP request: {}", error_chain(&e)),
                throttle: None,
            })?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let json_body = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("application/json"));
        let body = resp
            .into_body()
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        if (200..300).contains(&status) {
            let partial = if json_body {
                json_partial_success(&body)
            } else {
                partial_success(&body)
            };
            if let Some((rejected, msg)) = partial {
                self.rejected.add(rejected.max(0) as u64);
                tracing::warn!(exporter = %self.id, message = %msg, rejected, "Partial success response");
            }
            return Ok(());
        }
        let detail = status_message(&body, json_body);
        let message = format!(
            "error exporting items, request to {} responded with HTTP Status Code {status}{detail}",
            self.uri
        );
        if matches!(status, 429 | 502 | 503 | 504) {
            Err(ExportError::Retryable {
                message,
                throttle: retry_after,
            })
        } else {
            Err(ExportError::Permanent(message))
        }
    }
}

impl Exporter for HttpExporter {
    fn export<'a>(&'a self, payload: &'a Payload) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async move {
            match tokio::time::timeout(self.timeout, self.post(payload)).await {
                Ok(r) => r,
                Err(_) => Err(ExportError::Retryable {
                    message: format!("request timed out after {:?}", self.timeout),
                    throttle: None,
                }),
            }
        })
    }
}

/// `Retry-After`: delay seconds, or an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    httpdate_delay(v.trim())
}

/// Seconds from now until an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn httpdate_delay(v: &str) -> Option<Duration> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    let [_, day, mon, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == mon)? as i64
        + 1;
    let (d, y): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let t: Vec<i64> = time.split(':').filter_map(|x| x.parse().ok()).collect();
    let [h, mi, s] = t.as_slice() else {
        return None;
    };
    // Days from civil (Howard Hinnant).
    let y2 = if month <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let at = days * 86_400 + h * 3600 + mi * 60 + s;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs() as i64;
    Some(Duration::from_secs((at - now).max(0) as u64))
}

fn json_partial_success(body: &[u8]) -> Option<(i64, String)> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let ps = v
        .get("partialSuccess")
        .or_else(|| v.get("partial_success"))?;
    let rejected = [
        "rejectedSpans",
        "rejectedLogRecords",
        "rejectedDataPoints",
        "rejected_spans",
        "rejected_log_records",
        "rejected_data_points",
    ]
    .iter()
    .find_map(|k| ps.get(*k))
    .and_then(|r| r.as_i64().or_else(|| r.as_str()?.parse().ok()))
    .unwrap_or(0);
    let msg = ps
        .get("errorMessage")
        .or_else(|| ps.get("error_message"))
        .and_then(|m| m.as_str())
        .unwrap_or("")
        .to_owned();
    (rejected != 0 || !msg.is_empty()).then_some((rejected, msg))
}

/// `, Message=...` from an error body's `google.rpc.Status`, when there is one.
fn status_message(body: &[u8], json: bool) -> String {
    let msg = if json {
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("message")?.as_str().map(str::to_owned))
    } else {
        crate::otlp::wire::Fields::new(body).find_map(|(f, v)| match (f, v) {
            (2, crate::otlp::wire::Value::Len(m)) => Some(String::from_utf8_lossy(m).into_owned()),
            _ => None,
        })
    };
    msg.map(|m| format!(", Message={m}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        let later = httpdate_delay("Fri, 01 Jan 2100 00:00:00 GMT").unwrap();
        assert!(later.as_secs() > 365 * 86_400);
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn partial_success_in_json() {
        assert_eq!(
            json_partial_success(
                br#"{"partialSuccess":{"rejectedSpans":"3","errorMessage":"bad"}}"#
            ),
            Some((3, "bad".to_owned()))
        );
        assert_eq!(json_partial_success(br#"{"partialSuccess":{}}"#), None);
    }
}
