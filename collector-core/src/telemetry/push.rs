//! The collector's own metrics pushed over OTLP: `service::telemetry::metrics::readers[]`
//! with a `periodic` reader and an `otlp` exporter (the `otelconf` schema the Go collector
//! v0.138 reads). Every `interval` the registry is written as an `ExportMetricsServiceRequest`
//! (cumulative, as Go's periodic reader exports by default) with the `service::telemetry::
//! resource` attributes, and sent over OTLP/HTTP (protobuf) or OTLP/gRPC; once more when the
//! collector stops. A failed push is logged and the next one tries again: these are the
//! collector's own numbers, not data it took responsibility for.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Uri};
use http_body_util::BodyExt;

use super::WeakRegistry;
use crate::config::net::TlsClientConfig;
use crate::config::service::{OtlpPushConfig, PeriodicReaderConfig};
use crate::pipeline::BoxFuture;
use crate::pipeline::build::Extension;
use crate::pipeline::exporter::client::{self, ChunksBody, Client};
use crate::{Error, ErrorKind};

/// The metrics service: HTTP path and gRPC method.
pub(crate) const METRICS: (&str, &str) = (
    "/v1/metrics",
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
);
/// The logs service: HTTP path and gRPC method.
pub(crate) const LOGS: (&str, &str) = (
    "/v1/logs",
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
);

/// Where and how the collector's own telemetry goes.
pub(crate) struct Target {
    client: Client,
    uri: Uri,
    grpc: bool,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
}

/// A running periodic reader; stopping it pushes once more.
pub(crate) struct Pusher {
    stop: tokio::sync::watch::Sender<bool>,
    task: parking_lot::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

fn config_error(msg: String) -> Error {
    Error::new(ErrorKind::Config, msg)
}

/// Starts pushing the metrics of `registry` as `cfg` says, with `resource` attributes.
pub(crate) fn start(
    registry: WeakRegistry,
    cfg: &PeriodicReaderConfig,
    resource: Vec<(String, String)>,
) -> Result<Pusher, Error> {
    let otlp = cfg
        .exporter
        .otlp
        .as_ref()
        .ok_or_else(|| config_error("only the otlp exporter is supported".to_owned()))?;
    let target = Arc::new(target(otlp, METRICS)?);
    let interval = Duration::from_millis(cfg.interval.unwrap_or(60_000).max(1));
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let started = now_nanos();
    let task = tokio::spawn(async move {
        loop {
            let last = tokio::select! {
                _ = tokio::time::sleep(interval) => false,
                _ = stopped.changed() => true,
            };
            let Some(reg) = registry.upgrade() else { break };
            let body = request(&reg, &resource, started);
            drop(reg);
            if let Err(e) = push(&target, body).await {
                tracing::warn!(endpoint = %target.uri, "pushing the collector's own metrics failed: {e}");
            }
            if last {
                break;
            }
        }
    });
    Ok(Pusher {
        stop,
        task: parking_lot::Mutex::new(Some(task)),
    })
}

/// The target `o` describes, for `service` (HTTP path, gRPC method).
pub(crate) fn target(o: &OtlpPushConfig, service: (&str, &str)) -> Result<Target, Error> {
    let grpc = o.protocol == "grpc";
    let given: Uri = o
        .endpoint
        .parse()
        .map_err(|e| config_error(format!("invalid endpoint {:?}: {e}", o.endpoint)))?;
    let scheme = given.scheme_str().unwrap_or("http");
    let authority = given
        .authority()
        .ok_or_else(|| config_error(format!("invalid endpoint {:?}: no host", o.endpoint)))?;
    // otelconf: gRPC takes the host; HTTP the URL, its path (as written: `http::Uri` shows
    // a missing path as "/") defaulting to the signal's.
    let written = o
        .endpoint
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("");
    let path = if grpc {
        service.1
    } else if written.is_empty() {
        service.0
    } else {
        given.path()
    };
    let uri: Uri = format!("{scheme}://{authority}{path}")
        .parse()
        .map_err(|e| config_error(format!("invalid endpoint {:?}: {e}", o.endpoint)))?;
    let tls = TlsClientConfig {
        ca_file: o.certificate.clone().unwrap_or_default(),
        cert_file: o.client_certificate.clone().unwrap_or_default(),
        key_file: o.client_key.clone().unwrap_or_default(),
        ..TlsClientConfig::default()
    };
    let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
    let listed = o
        .headers_list
        .iter()
        .flat_map(|l| l.split(','))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()));
    let named = o
        .headers
        .iter()
        .map(|h| (h.name.clone(), h.value.expose().to_owned()));
    for (k, v) in named.chain(listed) {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|e| config_error(format!("invalid header name {k:?}: {e}")))?;
        let value = HeaderValue::from_str(&v)
            .map_err(|e| config_error(format!("invalid value for header {k:?}: {e}")))?;
        headers.push((name, value));
    }
    Ok(Target {
        client: client::client(&uri, &tls, grpc, None)?,
        uri,
        grpc,
        headers,
        timeout: Duration::from_millis(o.timeout.unwrap_or(10_000)),
    })
}

pub(crate) fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// An `ExportMetricsServiceRequest` with every series of `reg`.
fn request(reg: &super::Registry, resource: &[(String, String)], started: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    super::put_own_request(&mut out, resource, |sm| {
        reg.write_otlp(sm, 2, started, now_nanos());
    });
    out
}

/// Sends one request body to `t`; an error says what went wrong.
pub(crate) async fn push(t: &Target, body: Vec<u8>) -> Result<(), String> {
    let (content_type, chunks) = if t.grpc {
        let mut prefix = vec![0u8];
        prefix.extend_from_slice(&(body.len() as u32).to_be_bytes());
        (
            "application/grpc",
            vec![Bytes::from(prefix), Bytes::from(body)],
        )
    } else {
        ("application/x-protobuf", vec![Bytes::from(body)])
    };
    let mut req = Request::post(t.uri.clone())
        .header(http::header::CONTENT_TYPE, content_type)
        .body(ChunksBody::new(chunks))
        .map_err(|e| e.to_string())?;
    if t.grpc {
        req.headers_mut()
            .insert(http::header::TE, HeaderValue::from_static("trailers"));
    }
    for (k, v) in &t.headers {
        req.headers_mut().insert(k.clone(), v.clone());
    }
    let call = async {
        let resp = t.client.request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let grpc_status = resp
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let collected = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        let trailer = collected
            .trailers()
            .and_then(|t| t.get("grpc-status"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        if t.grpc {
            match grpc_status.or(trailer).as_deref() {
                Some("0") => {}
                other => return Err(format!("gRPC status {}", other.unwrap_or("missing"))),
            }
        }
        Ok(())
    };
    tokio::time::timeout(t.timeout, call)
        .await
        .map_err(|_| format!("no answer within {:?}", t.timeout))?
}

impl Extension for Pusher {
    fn shutdown(&self, grace: Duration) -> BoxFuture<'_, ()> {
        let _ = self.stop.send(true);
        let task = self.task.lock().take();
        Box::pin(async move {
            if let Some(t) = task {
                // The last push, bounded: a dead backend must not hold the shutdown.
                if tokio::time::timeout(grace.max(Duration::from_millis(500)), t)
                    .await
                    .is_err()
                {
                    tracing::warn!("the last push of the collector's own metrics did not finish");
                }
            }
        })
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
