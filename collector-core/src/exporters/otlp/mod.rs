//! The `otlp` (gRPC; alias `otlp_grpc`) and `otlphttp` (alias `otlp_http`) exporters.

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
