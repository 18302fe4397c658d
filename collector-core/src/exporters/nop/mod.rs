//! The `nop` exporter: takes every payload and drops it, successfully. A placeholder for a
//! pipeline that must end somewhere (core `exporter/nopexporter`, v0.138: its config is an
//! empty struct and its consumer `consumertest.NewNop()`, which answers nil).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::Kind;
use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::config::validate::{Problems, Validate};
use crate::otlp::Payload;
use crate::pipeline::build::{Build, Context, Factory};
use crate::pipeline::exporter::queue::QueueConfig;
use crate::pipeline::exporter::retry::RetryConfig;
use crate::pipeline::exporter::{BoxFuture, ExportError, Exporter, ExporterRuntime};
use crate::{Error, Signal};

/// The `nop` exporter type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: Kind::Exporter,
        name: "nop",
        aliases: &[],
        signals: &Signal::ALL,
        decode: decode::<NopConfig>,
    },
    build: Build::Exporter(build),
};

/// `nop` exporter configuration: no settings.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct NopConfig {}

impl Validate for NopConfig {
    fn validate(&self, _: &mut Problems) {}
}

impl ComponentType for NopConfig {}

/// Go's nop exporter has no queue and no retries: the payload is dropped in the caller.
fn build(ctx: &Context<'_>, cfg: &dyn ComponentConfig) -> Result<Arc<ExporterRuntime>, Error> {
    cfg.get::<NopConfig>()?;
    let direct = QueueConfig {
        enabled: false,
        ..QueueConfig::default()
    };
    let no_retry = RetryConfig {
        enabled: false,
        ..RetryConfig::default()
    };
    Ok(ctx.exporter(Arc::new(Nop), &direct, &no_retry))
}

struct Nop;

impl Exporter for Nop {
    fn export<'a>(&'a self, _: &'a Payload) -> BoxFuture<'a, Result<(), ExportError>> {
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::config::Config;
    use crate::{Collector, Signal};

    #[tokio::test]
    async fn takes_everything_and_keeps_nothing() {
        let cfg = Config::from_yaml(
            "receivers: {embedded: {}}
exporters: {nop: , nop/2: {}}
service:
  pipelines:
    traces: {receivers: [embedded], exporters: [nop, nop/2]}
    logs: {receivers: [embedded], exporters: [nop]}
    metrics: {receivers: [embedded], exporters: [nop]}",
        )
        .unwrap();
        let h = Collector::new(cfg).embedded().start().await.unwrap();
        let json = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[
            {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b171"},
            {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b172"},
            {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b173"}]}]}]}"#;
        let body = crate::otlp::Payload::from_json(Signal::Traces, json).unwrap();
        h.ingest(Signal::Traces, body.to_bytes()).unwrap();
        h.flush(Duration::from_secs(5)).await.unwrap();
        assert_eq!(h.memory_in_use(), 0, "nothing held");
        let report = h.shutdown(Duration::from_secs(5)).await;
        // Each of the two exporters took all three spans.
        assert_eq!((report.delivered_items, report.dropped_items), (6, 0));
    }

    #[test]
    fn has_no_settings() {
        // Go: `struct{}` decoded with ErrorUnused, so any key is an error.
        let e = Config::from_yaml(
            "receivers: {embedded: {}}
exporters: {nop: {endpoint: x}}
service: {pipelines: {traces: {receivers: [embedded], exporters: [nop]}}}",
        )
        .unwrap_err();
        assert!(e.to_string().contains("exporters::nop"), "{e}");
        assert!(e.to_string().contains("endpoint"), "{e}");
    }
}
