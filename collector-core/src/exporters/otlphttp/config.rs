//! `otlphttp` exporter configuration (Go `exporter/otlphttpexporter`, v0.138).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Duration;
use crate::config::component::ComponentType;
use crate::config::net::{
    AuthConfig, CompressionParams, CookiesConfig, MiddlewareConfig, Opaque, TlsClientConfig,
    validate_client,
};
use crate::config::validate::{Problems, Validate};
use crate::pipeline::exporter::queue::QueueConfig;
use crate::pipeline::exporter::retry::RetryConfig;
use crate::pipeline::exporter::validate_helper;

/// Body encoding of the OTLP/HTTP exporter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum HttpEncoding {
    /// `application/x-protobuf`.
    #[default]
    Proto,
    /// `application/json`.
    Json,
}

/// `otlphttp` exporter configuration (Go `exporter/otlphttpexporter`, `confighttp.ClientConfig`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct OtlpHttpExporterConfig {
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
            true,
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

impl ComponentType for OtlpHttpExporterConfig {}

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
}
