//! The `nop` receiver: receives nothing. A placeholder for a pipeline that must start
//! somewhere (core `receiver/nopreceiver`, v0.138: an empty config struct, a receiver
//! whose start and shutdown do nothing).

use serde::{Deserialize, Serialize};

use crate::config::Kind;
use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::config::validate::{Problems, Validate};
use crate::pipeline::build::{Build, Context, Factory, Receiver, Targets};
use crate::{Error, Signal};

/// The `nop` receiver type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: Kind::Receiver,
        name: "nop",
        aliases: &[],
        signals: &Signal::ALL,
        decode: decode::<NopConfig>,
    },
    build: Build::Receiver(build),
};

/// `nop` receiver configuration: no settings.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct NopConfig {}

impl Validate for NopConfig {
    fn validate(&self, _: &mut Problems) {}
}

impl ComponentType for NopConfig {}

/// Nothing to run: its pipelines are built and get nothing from it.
fn build(
    _: &Context<'_>,
    cfg: &dyn ComponentConfig,
    _: Targets,
) -> Result<Option<Box<dyn Receiver>>, Error> {
    cfg.get::<NopConfig>()?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::Collector;
    use crate::config::Config;

    #[tokio::test]
    async fn starts_listens_nowhere_and_stops() {
        let cfg = Config::from_yaml(
            "receivers: {nop: }
processors: {batch: {}}
exporters: {debug: {}}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [nop], processors: [batch], exporters: [debug]}
    metrics: {receivers: [nop], exporters: [debug]}",
        )
        .unwrap();
        let h = Collector::new(cfg).start().await.unwrap();
        assert!(h.listen_addrs().is_empty(), "{:?}", h.listen_addrs());
        let report = h.shutdown(Duration::from_secs(5)).await;
        assert_eq!((report.delivered_items, report.dropped_items), (0, 0));
    }

    #[test]
    fn has_no_settings() {
        let e = Config::from_yaml(
            "receivers: {nop: {endpoint: x}}
exporters: {debug: {}}
service: {pipelines: {traces: {receivers: [nop], exporters: [debug]}}}",
        )
        .unwrap_err();
        assert!(e.to_string().contains("receivers::nop"), "{e}");
        assert!(e.to_string().contains("endpoint"), "{e}");
    }
}
