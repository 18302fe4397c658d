//! `otlp` exporter configuration (Go `exporter/otlpexporter`, v0.138).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Duration;
use crate::config::component::ComponentType;
use crate::config::net::{
    AuthConfig, KeepaliveClientConfig, MiddlewareConfig, Opaque, TlsClientConfig, validate_client,
};
use crate::config::validate::{Problems, Validate};
use crate::pipeline::exporter::queue::QueueConfig;
use crate::pipeline::exporter::retry::RetryConfig;
use crate::pipeline::exporter::validate_helper;

/// `otlp` exporter configuration (Go `exporter/otlpexporter`, `configgrpc.ClientConfig`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct OtlpGrpcExporterConfig {
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
            false,
            &self.auth,
            &self.middlewares,
        );
    }
}

impl ComponentType for OtlpGrpcExporterConfig {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_targets() {
        assert_eq!(
            grpc_target("https://ingest.signoz.io:443"),
            "ingest.signoz.io:443"
        );
        assert_eq!(grpc_target("dns:///collector:4317"), "collector:4317");
        assert_eq!(grpc_target("localhost:4317"), "localhost:4317");
    }

    #[test]
    fn secret_0123_through_env_arrives_as_text() {
        let yaml = "receivers:
  otlp:
    protocols:
      grpc:
exporters:
  otlp:
    endpoint: sink:4317
    headers:
      signoz-ingestion-key: ${env:KEY}
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp]
";
        let cfg = crate::config::Loader::new()
            .env(|k| (k == "KEY").then(|| "0123".to_owned()))
            .document("c.yaml", yaml)
            .load()
            .unwrap();
        let exp = cfg.exporters[0]
            .config
            .get::<OtlpGrpcExporterConfig>()
            .unwrap();
        assert_eq!(exp.headers["signoz-ingestion-key"].expose(), "0123");
        assert!(
            !format!("{exp:?}").contains("0123"),
            "Debug shows the secret"
        );
    }
}
