//! The `otlp` (gRPC; alias `otlp_grpc`) and `otlphttp` (alias `otlp_http`) exporters.
//!
//! Both send a payload's chunks as they are (a vectored body of the received slices), or
//! one compressed buffer; nothing is decoded or re-encoded on the way out.

pub(crate) mod grpc;
pub(crate) mod http;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Duration;
use crate::config::net::{
    AuthConfig, CompressionParams, CookiesConfig, KeepaliveClientConfig, MiddlewareConfig, Opaque,
    TlsClientConfig, validate_client_compression,
};
use crate::config::validate::{Problems, Validate};
use crate::exporters::queue::QueueConfig;
use crate::exporters::retry::RetryConfig;

/// `otlp` exporter configuration (Go `exporter/otlpexporter`, `configgrpc.ClientConfig`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct OtlpGrpcExporterConfig {
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// The exporter's queue.
    pub sending_queue: QueueConfig,
    /// Retries of retryable failures.
    pub retry_on_failure: RetryConfig,
    /// `host:port`; an `http://` or `https://` prefix is stripped.
    pub endpoint: String,
    /// `gzip` (default), `zstd`, `snappy` or `none`.
    pub compression: String,
    /// TLS; on unless `insecure: true`.
    pub tls: TlsClientConfig,
    /// HTTP/2 keepalive pings.
    pub keepalive: Option<KeepaliveClientConfig>,
    /// Socket read buffer hint.
    pub read_buffer_size: i64,
    /// Socket write buffer hint.
    pub write_buffer_size: i64,
    /// Wait for the connection instead of failing fast.
    pub wait_for_ready: bool,
    /// Metadata sent with every request (values never logged).
    pub headers: BTreeMap<String, Opaque>,
    /// gRPC load balancing policy.
    pub balancer_name: String,
    /// `:authority` override.
    pub authority: String,
    /// Authenticator (not supported).
    pub auth: Option<AuthConfig>,
    /// Middleware extensions (not supported).
    pub middlewares: Vec<MiddlewareConfig>,
}

impl Default for OtlpGrpcExporterConfig {
    fn default() -> Self {
        OtlpGrpcExporterConfig {
            timeout: Duration::from_secs(5),
            sending_queue: QueueConfig::default(),
            retry_on_failure: RetryConfig::default(),
            endpoint: String::new(),
            compression: "gzip".to_owned(),
            tls: TlsClientConfig::default(),
            keepalive: None,
            read_buffer_size: 0,
            write_buffer_size: 512 * 1024,
            wait_for_ready: false,
            headers: BTreeMap::new(),
            balancer_name: String::new(),
            authority: String::new(),
            auth: None,
            middlewares: Vec::new(),
        }
    }
}

/// `http://`/`https://` and `dns:///` prefixes removed, as Go's otlp exporter dials.
pub(crate) fn grpc_target(endpoint: &str) -> &str {
    let e = endpoint
        .strip_prefix("http://")
        .or_else(|| endpoint.strip_prefix("https://"))
        .unwrap_or(endpoint);
    e.strip_prefix("dns:///")
        .or_else(|| e.strip_prefix("dns://"))
        .unwrap_or(e)
}

/// The exporterhelper parts every exporter has: timeout, queue, retry.
pub(crate) fn validate_helper(
    p: &mut Problems,
    timeout: Duration,
    queue: &QueueConfig,
    retry: &RetryConfig,
) {
    if timeout.is_negative() {
        p.key("timeout", "'timeout' must be non-negative");
    }
    let mut q = Problems::default();
    queue.validate(&mut q);
    p.nested("sending_queue", q);
    let mut r = Problems::default();
    retry.validate(&mut r);
    p.nested("retry_on_failure", r);
}

/// The client parts of both OTLP exporters.
fn validate_client(
    p: &mut Problems,
    tls: &TlsClientConfig,
    compression: &str,
    auth: &Option<AuthConfig>,
    middlewares: &[MiddlewareConfig],
) {
    let mut t = Problems::default();
    tls.validate(&mut t);
    p.nested("tls", t);
    validate_client_compression(compression, p);
    AuthConfig::reject(auth, p);
    MiddlewareConfig::reject_all(middlewares, p);
}

impl Validate for OtlpGrpcExporterConfig {
    fn validate(&self, p: &mut Problems) {
        if self.endpoint == "unix://" {
            p.key("endpoint", "unix socket path cannot be empty");
        } else if self.endpoint.starts_with("unix://") {
            p.key(
                "endpoint",
                "unix socket endpoints are not supported by this collector",
            );
        } else {
            let target = grpc_target(&self.endpoint);
            if target.is_empty() {
                p.key("endpoint", "requires a non-empty \"endpoint\"");
            } else {
                match target.rsplit_once(':') {
                    None => p.key(
                        "endpoint",
                        format!("address {target}: missing port in address"),
                    ),
                    Some((_, port)) if port.parse::<u16>().is_err() => {
                        p.key("endpoint", format!("invalid port {port:?}"))
                    }
                    _ => {}
                }
            }
        }
        if !matches!(
            self.balancer_name.as_str(),
            "" | "pick_first" | "round_robin"
        ) {
            p.key(
                "balancer_name",
                format!("invalid balancer_name: {}", self.balancer_name),
            );
        }
        validate_helper(p, self.timeout, &self.sending_queue, &self.retry_on_failure);
        validate_client(
            p,
            &self.tls,
            &self.compression,
            &self.auth,
            &self.middlewares,
        );
    }
}

/// Body encoding of the OTLP/HTTP exporter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpEncoding {
    /// `application/x-protobuf`.
    #[default]
    Proto,
    /// `application/json`.
    Json,
}

/// `otlphttp` exporter configuration (Go `exporter/otlphttpexporter`, `confighttp.ClientConfig`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct OtlpHttpExporterConfig {
    /// Base URL; `/v1/<signal>` is appended unless a signal endpoint is given.
    pub endpoint: String,
    /// Outgoing proxy (not supported).
    pub proxy_url: String,
    /// TLS for `https://` endpoints.
    pub tls: TlsClientConfig,
    /// Socket read buffer hint.
    pub read_buffer_size: i64,
    /// Socket write buffer hint.
    pub write_buffer_size: i64,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// Headers sent with every request (values never logged).
    pub headers: BTreeMap<String, Opaque>,
    /// Authenticator (not supported).
    pub auth: Option<AuthConfig>,
    /// `gzip` (default), `zstd`, `snappy` or `none`.
    pub compression: String,
    /// Compression level.
    pub compression_params: CompressionParams,
    /// Connection pool size.
    pub max_idle_conns: i64,
    /// Idle connections kept per host.
    pub max_idle_conns_per_host: i64,
    /// Connections per host (0: unlimited).
    pub max_conns_per_host: i64,
    /// Idle connection lifetime.
    pub idle_conn_timeout: Duration,
    /// One request per connection.
    pub disable_keep_alives: bool,
    /// HTTP/2 health-check ping interval.
    pub http2_read_idle_timeout: Duration,
    /// HTTP/2 ping timeout.
    pub http2_ping_timeout: Duration,
    /// Cookie handling.
    pub cookies: CookiesConfig,
    /// Prefer HTTP/2.
    pub force_attempt_http2: bool,
    /// Middleware extensions (not supported).
    pub middlewares: Vec<MiddlewareConfig>,
    /// The exporter's queue.
    pub sending_queue: QueueConfig,
    /// Retries of retryable failures.
    pub retry_on_failure: RetryConfig,
    /// Full URL for traces.
    pub traces_endpoint: String,
    /// Full URL for metrics.
    pub metrics_endpoint: String,
    /// Full URL for logs.
    pub logs_endpoint: String,
    /// Full URL for profiles (profiles are not supported).
    pub profiles_endpoint: String,
    /// `proto` (default) or `json`.
    pub encoding: HttpEncoding,
}

impl Default for OtlpHttpExporterConfig {
    fn default() -> Self {
        OtlpHttpExporterConfig {
            endpoint: String::new(),
            proxy_url: String::new(),
            tls: TlsClientConfig::default(),
            read_buffer_size: 0,
            write_buffer_size: 512 * 1024,
            timeout: Duration::from_secs(30),
            headers: BTreeMap::new(),
            auth: None,
            compression: "gzip".to_owned(),
            compression_params: CompressionParams::default(),
            max_idle_conns: 100,
            max_idle_conns_per_host: 0,
            max_conns_per_host: 0,
            idle_conn_timeout: Duration::from_secs(90),
            disable_keep_alives: false,
            http2_read_idle_timeout: Duration::ZERO,
            http2_ping_timeout: Duration::ZERO,
            cookies: CookiesConfig::default(),
            force_attempt_http2: true,
            middlewares: Vec::new(),
            sending_queue: QueueConfig::default(),
            retry_on_failure: RetryConfig::default(),
            traces_endpoint: String::new(),
            metrics_endpoint: String::new(),
            logs_endpoint: String::new(),
            profiles_endpoint: String::new(),
            encoding: HttpEncoding::Proto,
        }
    }
}

impl OtlpHttpExporterConfig {
    /// The URL for a signal, as Go composes it: the signal's own endpoint as given, else
    /// `endpoint` + `/v1/<signal>` (no slash doubled, nothing de-duplicated).
    pub(crate) fn signal_url(&self, signal: crate::Signal) -> Option<String> {
        let own = match signal {
            crate::Signal::Traces => &self.traces_endpoint,
            crate::Signal::Metrics => &self.metrics_endpoint,
            crate::Signal::Logs => &self.logs_endpoint,
        };
        if !own.is_empty() {
            return Some(own.clone());
        }
        if self.endpoint.is_empty() {
            return None;
        }
        let sep = if self.endpoint.ends_with('/') {
            ""
        } else {
            "/"
        };
        Some(format!("{}{sep}v1/{}", self.endpoint, signal.as_str()))
    }
}

fn valid_url(u: &str) -> bool {
    match u.split_once("://") {
        Some((scheme, rest)) => matches!(scheme, "http" | "https") && !rest.is_empty(),
        None => false,
    }
}

impl Validate for OtlpHttpExporterConfig {
    fn validate(&self, p: &mut Problems) {
        if self.endpoint.is_empty()
            && self.traces_endpoint.is_empty()
            && self.metrics_endpoint.is_empty()
            && self.logs_endpoint.is_empty()
            && self.profiles_endpoint.is_empty()
        {
            p.root("at least one endpoint must be specified");
        }
        if !self.endpoint.is_empty() && !valid_url(&self.endpoint) {
            p.key("endpoint", "endpoint must be a valid URL");
        }
        for (key, v) in [
            ("traces_endpoint", &self.traces_endpoint),
            ("metrics_endpoint", &self.metrics_endpoint),
            ("logs_endpoint", &self.logs_endpoint),
        ] {
            if !v.is_empty() && !valid_url(v) {
                p.key(key, format!("{key} must be a valid URL"));
            }
        }
        if !self.proxy_url.is_empty() {
            p.key("proxy_url", "proxy_url is not supported by this collector");
        }
        let level = self.compression_params.level;
        let level_ok = match self.compression.as_str() {
            "gzip" | "zlib" | "deflate" => (-2..=9).contains(&level),
            "zstd" => true,
            _ => level == 0,
        };
        if !level_ok {
            p.key(
                "compression_params",
                format!(
                    "unsupported parameters {{Level:{level}}} for compression type {:?}",
                    self.compression
                ),
            );
        }
        validate_helper(p, self.timeout, &self.sending_queue, &self.retry_on_failure);
        validate_client(
            p,
            &self.tls,
            &self.compression,
            &self.auth,
            &self.middlewares,
        );
    }

    fn validate_signal(&self, signal: crate::Signal, p: &mut Problems) {
        if self.signal_url(signal).is_none() {
            p.root(format!(
                "either endpoint or {}_endpoint must be specified",
                signal.as_str()
            ));
        }
    }
}

/// A request body made of the payload's chunks, sent as they are.
pub(crate) struct ChunksBody {
    chunks: std::collections::VecDeque<bytes::Bytes>,
    len: u64,
}

impl ChunksBody {
    pub(crate) fn new(chunks: Vec<bytes::Bytes>) -> ChunksBody {
        let len = chunks.iter().map(|c| c.len() as u64).sum();
        ChunksBody {
            chunks: chunks.into(),
            len,
        }
    }
}

impl http_body::Body for ChunksBody {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        let next = self.chunks.pop_front();
        if let Some(c) = &next {
            self.len -= c.len() as u64;
        }
        std::task::Poll::Ready(next.map(|c| Ok(http_body::Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.len)
    }
}

/// An HTTP client over TLS or cleartext for one exporter.
pub(crate) type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    ChunksBody,
>;

/// Builds the exporter's client: TLS from `tls` (used for `https` URIs), HTTP/2 only for
/// gRPC, keepalive pings when asked.
pub(crate) fn client(
    tls: &TlsClientConfig,
    http2_only: bool,
    keepalive: Option<&KeepaliveClientConfig>,
) -> Result<Client, crate::Error> {
    // The connector sets ALPN from the enabled HTTP versions (and panics if it is preset).
    let tls_config = crate::tls::client_config(tls)?;
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let mut builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls_config)
        .https_or_http();
    if !tls.server_name_override.is_empty() {
        let name = rustls::pki_types::ServerName::try_from(tls.server_name_override.clone())
            .map_err(|e| {
                crate::Error::new(
                    crate::ErrorKind::Config,
                    format!(
                        "invalid server_name_override {:?}: {e}",
                        tls.server_name_override
                    ),
                )
            })?;
        builder =
            builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name));
    }
    let connector = if http2_only {
        builder.enable_http2().wrap_connector(http)
    } else {
        builder.enable_http1().enable_http2().wrap_connector(http)
    };
    let mut b = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new());
    b.timer(hyper_util::rt::TokioTimer::new());
    b.pool_timer(hyper_util::rt::TokioTimer::new());
    if http2_only {
        b.http2_only(true);
    }
    if let Some(k) = keepalive {
        if k.time.as_nanos() > 0 {
            b.http2_keep_alive_interval(k.time.to_std());
        }
        if k.timeout.as_nanos() > 0 {
            b.http2_keep_alive_timeout(k.timeout.to_std());
        }
        b.http2_keep_alive_while_idle(k.permit_without_stream);
    }
    Ok(b.build(connector))
}

/// Reads `partial_success` (field 1: rejected count = 1, error_message = 2) from an
/// encoded `Export*ServiceResponse`.
pub(crate) fn partial_success(response: &[u8]) -> Option<(i64, String)> {
    use crate::otlp::wire::{Fields, Value};
    let mut rejected = 0i64;
    let mut message = String::new();
    let mut found = false;
    for (f, v) in Fields::new(response) {
        if let (1, Value::Len(ps)) = (f, v) {
            found = true;
            for (f2, v2) in Fields::new(ps) {
                match (f2, v2) {
                    (1, Value::Varint(n)) => rejected = n as i64,
                    (2, Value::Len(m)) => message = String::from_utf8_lossy(m).into_owned(),
                    _ => {}
                }
            }
        }
    }
    (found && (rejected != 0 || !message.is_empty())).then_some((rejected, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_urls_as_go() {
        let mut c = OtlpHttpExporterConfig {
            endpoint: "http://h:4318".into(),
            ..Default::default()
        };
        assert_eq!(
            c.signal_url(crate::Signal::Traces).as_deref(),
            Some("http://h:4318/v1/traces")
        );
        c.endpoint = "http://h:4318/".into();
        assert_eq!(
            c.signal_url(crate::Signal::Logs).as_deref(),
            Some("http://h:4318/v1/logs")
        );
        c.metrics_endpoint = "https://m/custom".into();
        assert_eq!(
            c.signal_url(crate::Signal::Metrics).as_deref(),
            Some("https://m/custom")
        );
    }

    #[test]
    fn grpc_targets() {
        assert_eq!(
            grpc_target("https://ingest.signoz.io:443"),
            "ingest.signoz.io:443"
        );
        assert_eq!(grpc_target("dns:///collector:4317"), "collector:4317");
        assert_eq!(grpc_target("localhost:4317"), "localhost:4317");
    }
}
