//! The `health_check` extension.

use serde::{Deserialize, Serialize};

use crate::config::validate::{Problems, Validate};

/// `response_body`: static bodies instead of the JSON status.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ResponseBodyConfig {
    /// Body when healthy.
    pub healthy: String,
    /// Body when not.
    pub unhealthy: String,
}

/// `check_collector_pipeline`: documented as broken in the Go collector; not supported.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct CheckPipelineConfig {
    /// Turn the check on.
    pub enabled: bool,
    /// Window (a duration string).
    pub interval: String,
    /// Failures tolerated in the window.
    pub exporter_failure_threshold: i64,
}

impl Default for CheckPipelineConfig {
    fn default() -> Self {
        CheckPipelineConfig {
            enabled: false,
            interval: "5m".to_owned(),
            exporter_failure_threshold: 5,
        }
    }
}

crate::config::net::http_server_struct! {
    /// `health_check` configuration (contrib `extension/healthcheckextension`, legacy keys).
    pub struct HealthCheckConfig {
        /// Path served (any method).
        pub path: String = "/".to_owned(),
        /// Static response bodies.
        pub response_body: Option<ResponseBodyConfig> = None,
        /// Pipeline health from exporter failures (not supported).
        pub check_collector_pipeline: CheckPipelineConfig = CheckPipelineConfig::default(),
    }
    endpoint = "localhost:13133";
}

impl Validate for HealthCheckConfig {
    fn validate(&self, p: &mut Problems) {
        if self.endpoint.is_empty() {
            p.key("endpoint", "bad config: endpoint must be specified");
        }
        if !self.path.starts_with('/') {
            p.key("path", "bad config: path must start with /");
        }
        let c = &self.check_collector_pipeline;
        if c.exporter_failure_threshold <= 0 {
            p.key(
                "check_collector_pipeline::exporter_failure_threshold",
                "bad config: exporter_failure_threshold expects a positive number",
            );
        }
        if let Err(e) = crate::config::Duration::parse(&c.interval) {
            p.key(
                "check_collector_pipeline::interval",
                format!("bad config: invalid interval {:?}: {e}", c.interval),
            );
        }
        if c.enabled {
            p.key(
                "check_collector_pipeline::enabled",
                "check_collector_pipeline is not supported (the Go collector documents it as broken, contrib #11780)",
            );
        }
        let mut inner = Problems::default();
        self.server().validate(&mut inner);
        p.0.extend(inner.0);
    }
}
