//! The `otlp` receiver.

use serde::{Deserialize, Serialize};

use crate::config::net::GrpcServerConfig;
use crate::config::validate::{Problems, Validate};

crate::config::net::http_server_struct! {
    /// The HTTP protocol block: an HTTP server plus the OTLP URL paths.
    pub struct OtlpHttpConfig {
        /// Path for traces.
        pub traces_url_path: String = "/v1/traces".to_owned(),
        /// Path for metrics.
        pub metrics_url_path: String = "/v1/metrics".to_owned(),
        /// Path for logs.
        pub logs_url_path: String = "/v1/logs".to_owned(),
    }
    endpoint = "localhost:4318";
}

/// `protocols` of the OTLP receiver: a protocol is enabled when its key is present, even
/// without a value (`grpc:`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ProtocolsConfig {
    /// OTLP/gRPC.
    #[serde(deserialize_with = "crate::config::net::present")]
    pub grpc: Option<GrpcServerConfig>,
    /// OTLP/HTTP.
    #[serde(deserialize_with = "crate::config::net::present")]
    pub http: Option<OtlpHttpConfig>,
}

/// `otlp` receiver configuration (Go `receiver/otlpreceiver`, v0.138).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct OtlpReceiverConfig {
    /// Which protocols to serve.
    pub protocols: ProtocolsConfig,
}

impl Validate for OtlpReceiverConfig {
    fn validate(&self, p: &mut Problems) {
        if self.protocols.grpc.is_none() && self.protocols.http.is_none() {
            p.root("must specify at least one protocol when using the OTLP receiver");
        }
        if let Some(g) = &self.protocols.grpc {
            let mut inner = Problems::default();
            g.validate(&mut inner);
            p.nested("protocols::grpc", inner);
        }
        if let Some(h) = &self.protocols.http {
            let mut inner = Problems::default();
            h.server().validate(&mut inner);
            for (k, v) in [
                ("traces_url_path", &h.traces_url_path),
                ("metrics_url_path", &h.metrics_url_path),
                ("logs_url_path", &h.logs_url_path),
            ] {
                if v.contains(char::is_whitespace) || v.contains("://") {
                    inner.key(k, format!("invalid HTTP URL path set for signal: {v:?}"));
                }
            }
            p.nested("protocols::http", inner);
        }
    }
}
