//! The `service` section: pipelines, extensions and the collector's own telemetry.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Duration;
use super::validate::{Problems, Validate};

/// One pipeline: receivers, processors in order, exporters.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct PipelineConfig {
    /// Receiver ids.
    pub receivers: Vec<String>,
    /// Processor ids, in order.
    pub processors: Vec<String>,
    /// Exporter ids.
    pub exporters: Vec<String>,
}

/// `service::telemetry::logs::sampling`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct LogSamplingConfig {
    /// Sample repeated log lines.
    pub enabled: bool,
    /// Sampling window.
    pub tick: Duration,
    /// Lines logged per window before sampling.
    pub initial: i64,
    /// Then every n-th line.
    pub thereafter: i64,
}

impl Default for LogSamplingConfig {
    fn default() -> Self {
        LogSamplingConfig {
            enabled: true,
            tick: Duration::from_secs(10),
            initial: 10,
            thereafter: 100,
        }
    }
}

/// `service::telemetry::logs`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct LogsConfig {
    /// `debug`, `info`, `warn`, `error` (and zap's `dpanic`, `panic`, `fatal`).
    pub level: String,
    /// Development mode (accepted).
    pub development: bool,
    /// `console` or `json`.
    pub encoding: String,
    /// Omit the caller (accepted).
    pub disable_caller: bool,
    /// Omit stack traces (accepted).
    pub disable_stacktrace: bool,
    /// Sampling (accepted).
    pub sampling: Option<LogSamplingConfig>,
    /// Where logs go (only `stderr` and `stdout` are supported).
    pub output_paths: Vec<String>,
    /// Where internal logger errors go (accepted).
    pub error_output_paths: Vec<String>,
    /// Fields added to every line.
    pub initial_fields: BTreeMap<String, serde_json::Value>,
    /// Log processors shipping the collector's own logs over OTLP.
    pub processors: Vec<LogProcessorConfig>,
}

impl Default for LogsConfig {
    fn default() -> Self {
        LogsConfig {
            level: "info".to_owned(),
            development: false,
            encoding: "console".to_owned(),
            disable_caller: false,
            disable_stacktrace: false,
            sampling: Some(LogSamplingConfig::default()),
            output_paths: vec!["stderr".to_owned()],
            error_output_paths: vec!["stderr".to_owned()],
            initial_fields: BTreeMap::new(),
            processors: Vec::new(),
        }
    }
}

/// `logs::processors[].batch` / `.simple` (`otelconf` v0.3).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct LogProcessorSpec {
    /// Milliseconds between exports (batch; default 1000).
    pub schedule_delay: Option<u64>,
    /// Milliseconds an export may take (default 30000).
    pub export_timeout: Option<u64>,
    /// Records held at most; more are dropped (default 2048).
    pub max_queue_size: Option<usize>,
    /// Records per export at most (default 512).
    pub max_export_batch_size: Option<usize>,
    /// The exporter.
    pub exporter: PushExporterConfig,
}

/// One log processor for the collector's own logs.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct LogProcessorConfig {
    /// Batching processor.
    pub batch: Option<LogProcessorSpec>,
    /// One export per record (treated as a batch with a short delay).
    pub simple: Option<LogProcessorSpec>,
}

impl LogProcessorConfig {
    /// The processor's settings, whichever kind it is.
    pub(crate) fn spec(&self) -> Option<&LogProcessorSpec> {
        self.batch.as_ref().or(self.simple.as_ref())
    }
}

/// `readers[].pull.exporter.prometheus`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct PrometheusConfig {
    /// Listen host (`localhost`: loopback only).
    pub host: String,
    /// Listen port.
    pub port: u16,
    /// Accepted.
    pub without_scope_info: bool,
    /// Accepted.
    pub without_units: bool,
    /// Accepted.
    pub without_type_suffix: bool,
    /// Accepted.
    pub with_resource_constant_labels: Option<serde_json::Value>,
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        PrometheusConfig {
            host: "localhost".to_owned(),
            port: 8888,
            without_scope_info: true,
            without_units: true,
            without_type_suffix: true,
            with_resource_constant_labels: None,
        }
    }
}

/// `readers[].pull.exporter`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct PullExporterConfig {
    /// The Prometheus endpoint.
    pub prometheus: Option<PrometheusConfig>,
}

/// `readers[].pull`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct PullReaderConfig {
    /// The exporter.
    pub exporter: PullExporterConfig,
}

/// `headers[]` of an OTLP exporter in the `otelconf` schema.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct NameValue {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: crate::config::net::Opaque,
}

/// `readers[].periodic.exporter.otlp` (`otelconf` v0.3, as the Go collector v0.138 reads it).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct OtlpPushConfig {
    /// `grpc` or `http/protobuf` (`http/json` is not supported).
    pub protocol: String,
    /// `http(s)://host:port[/path]`: gRPC takes the host, HTTP the URL (path default
    /// `/v1/metrics`).
    pub endpoint: String,
    /// Headers on every request.
    pub headers: Vec<NameValue>,
    /// Headers as `name=value,name=value`.
    pub headers_list: Option<String>,
    /// `gzip` or `none` (accepted; requests are sent uncompressed).
    pub compression: Option<String>,
    /// Per-request timeout, milliseconds (default 10000).
    pub timeout: Option<u64>,
    /// Accepted (an `http://` endpoint is cleartext, `https://` TLS).
    pub insecure: Option<bool>,
    /// CA file for `https`.
    pub certificate: Option<String>,
    /// Client key file (mutual TLS).
    pub client_key: Option<String>,
    /// Client certificate file (mutual TLS).
    pub client_certificate: Option<String>,
    /// Accepted: the collector's own metrics are cumulative.
    pub temporality_preference: Option<String>,
    /// Accepted.
    pub default_histogram_aggregation: Option<String>,
}

impl Default for OtlpPushConfig {
    fn default() -> Self {
        OtlpPushConfig {
            protocol: "http/protobuf".to_owned(),
            endpoint: String::new(),
            headers: Vec::new(),
            headers_list: None,
            compression: None,
            timeout: None,
            insecure: None,
            certificate: None,
            client_key: None,
            client_certificate: None,
            temporality_preference: None,
            default_histogram_aggregation: None,
        }
    }
}

/// `readers[].periodic.exporter`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct PushExporterConfig {
    /// OTLP.
    pub otlp: Option<OtlpPushConfig>,
    /// Printing to the console (not supported).
    pub console: Option<serde_json::Value>,
}

/// `readers[].periodic`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct PeriodicReaderConfig {
    /// Milliseconds between pushes (default 60000).
    pub interval: Option<u64>,
    /// Milliseconds a push may take (default 30000).
    pub timeout: Option<u64>,
    /// The exporter.
    pub exporter: PushExporterConfig,
}

/// One metric reader.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct ReaderConfig {
    /// A pull (Prometheus) reader.
    pub pull: Option<PullReaderConfig>,
    /// A periodic (push) reader: OTLP.
    pub periodic: Option<PeriodicReaderConfig>,
}

/// `service::telemetry::metrics`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct MetricsConfig {
    /// `none`, `basic`, `normal` or `detailed`.
    pub level: String,
    /// The older form of the endpoint (`host:port`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Readers: a Prometheus pull reader, OTLP periodic readers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readers: Option<Vec<ReaderConfig>>,
    /// Metric views (not supported).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<serde_json::Value>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            level: "normal".to_owned(),
            address: None,
            readers: None,
            views: Vec::new(),
        }
    }
}

impl MetricsConfig {
    /// Where `/metrics` is served, or `None` when metrics are off.
    pub(crate) fn endpoint(&self) -> Option<String> {
        if self.level.eq_ignore_ascii_case("none") {
            return None;
        }
        if let Some(a) = &self.address {
            return Some(a.clone());
        }
        match &self.readers {
            None => Some("localhost:8888".to_owned()),
            Some(readers) => readers
                .iter()
                .filter_map(|r| r.pull.as_ref()?.exporter.prometheus.as_ref())
                .map(|p| format!("{}:{}", p.host, p.port))
                .next(),
        }
    }
}

/// `service::telemetry`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct TelemetryConfig {
    /// The collector's own logs.
    pub logs: LogsConfig,
    /// The collector's own metrics.
    pub metrics: MetricsConfig,
    /// The collector's own traces (not supported; accepted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traces: Option<serde_json::Value>,
    /// Resource attributes of the collector's own telemetry.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub resource: BTreeMap<String, Option<String>>,
}

impl Validate for TelemetryConfig {
    fn validate(&self, p: &mut Problems) {
        let level = self.logs.level.to_lowercase();
        if !matches!(
            level.as_str(),
            "" | "debug" | "info" | "warn" | "error" | "dpanic" | "panic" | "fatal"
        ) {
            p.key(
                "logs::level",
                format!("unrecognized level: {:?}", self.logs.level),
            );
        }
        if !matches!(self.logs.encoding.as_str(), "console" | "json") {
            p.key(
                "logs::encoding",
                format!("no encoder registered for name {:?}", self.logs.encoding),
            );
        }
        for o in &self.logs.output_paths {
            if !matches!(o.as_str(), "stderr" | "stdout") {
                p.key(
                    "logs::output_paths",
                    format!(
                        "output path {o:?} is not supported by this collector (stderr or stdout)"
                    ),
                );
            }
        }
        for (i, proc) in self.logs.processors.iter().enumerate() {
            match proc.spec() {
                None => p.key(
                    format!("logs::processors::{i}"),
                    "a log processor is `batch` or `simple`",
                ),
                Some(spec) => {
                    check_push_exporter(p, &format!("logs::processors::{i}"), &spec.exporter)
                }
            }
        }
        let m = &self.metrics;
        if !matches!(
            m.level.to_lowercase().as_str(),
            "none" | "basic" | "normal" | "detailed"
        ) {
            p.key(
                "metrics::level",
                format!("unknown metrics level {:?}", m.level),
            );
        }
        if let Some(readers) = &m.readers {
            if readers.is_empty() && !m.level.eq_ignore_ascii_case("none") {
                p.key(
                    "metrics",
                    "collector telemetry metrics reader should exist when metric level is not none",
                );
            }
            for (i, r) in readers.iter().enumerate() {
                if let Some(per) = &r.periodic {
                    check_push_exporter(
                        p,
                        &format!("metrics::readers::{i}::periodic"),
                        &per.exporter,
                    );
                }
                if r.pull
                    .as_ref()
                    .is_some_and(|x| x.exporter.prometheus.is_none())
                {
                    p.key(
                        format!("metrics::readers::{i}::pull::exporter"),
                        "only the prometheus pull exporter is supported",
                    );
                }
            }
        }
        if !m.views.is_empty() && !m.level.eq_ignore_ascii_case("detailed") {
            p.key(
                "metrics::views",
                "service::telemetry::metrics::views can only be set when service::telemetry::metrics::level is detailed",
            );
        }
        if let Some(addr) = &m.address
            && addr
                .rsplit_once(':')
                .is_none_or(|(_, port)| port.parse::<u16>().is_err())
        {
            p.key(
                "metrics::address",
                format!("invalid address {addr:?}: expected host:port"),
            );
        }
    }
}

/// The `service` section.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct ServiceConfig {
    /// Extensions to start, in order.
    pub extensions: Vec<String>,
    /// Pipelines by id (`traces`, `logs/audit`...).
    pub pipelines: BTreeMap<String, PipelineConfig>,
    /// The collector's own telemetry.
    pub telemetry: TelemetryConfig,
}

/// The signal of a pipeline id (`traces`, `logs/s3`...); validation has checked it.
pub(crate) fn pipeline_signal(id: &str) -> crate::Signal {
    match id.split('/').next() {
        Some("metrics") => crate::Signal::Metrics,
        Some("logs") => crate::Signal::Logs,
        _ => crate::Signal::Traces,
    }
}

/// An `otelconf` exporter of the collector's own telemetry: OTLP, over `grpc` or
/// `http/protobuf`, to an `http(s)` URL.
fn check_push_exporter(p: &mut Problems, at: &str, exporter: &PushExporterConfig) {
    let at = format!("{at}::exporter");
    let Some(o) = &exporter.otlp else {
        p.key(
            at,
            "only the otlp exporter is supported for the collector's own telemetry",
        );
        return;
    };
    if !matches!(o.protocol.as_str(), "grpc" | "http/protobuf") {
        p.key(
            format!("{at}::otlp::protocol"),
            format!(
                "unsupported protocol {:?} (grpc or http/protobuf)",
                o.protocol
            ),
        );
    }
    match o.endpoint.parse::<http::Uri>() {
        Ok(u) if matches!(u.scheme_str(), Some("http" | "https")) => {}
        _ => p.key(
            format!("{at}::otlp::endpoint"),
            format!(
                "invalid endpoint {:?}: expected http(s)://host:port[/path]",
                o.endpoint
            ),
        ),
    }
}
