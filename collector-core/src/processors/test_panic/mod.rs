//! A processor that exists only in this crate's tests: it panics on payloads carrying a
//! marker, so that the panic guards around components can be tested through a real
//! collector (receiver, chain, health check).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::Kind as FactoryKind;
use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::config::validate::{Problems, Validate};
use crate::otlp::Payload;
use crate::pipeline::build::{Build, Context, Factory};
use crate::pipeline::{Consumer, Processor, Refusal};

/// `test_panic` configuration.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct TestPanicConfig {
    /// A resource attribute value that makes the processor panic.
    pub marker: String,
}

/// The `test_panic` processor type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: FactoryKind::Processor,
        name: "test_panic",
        aliases: &[],
        signals: &crate::Signal::ALL,
        decode: decode::<TestPanicConfig>,
    },
    build: Build::Processor(build),
};

impl ComponentType for TestPanicConfig {}

fn build(
    ctx: &Context<'_>,
    cfg: &dyn ComponentConfig,
    next: std::sync::Arc<dyn crate::pipeline::Consumer>,
) -> Result<std::sync::Arc<dyn crate::pipeline::Processor>, crate::Error> {
    let cfg = cfg.get::<TestPanicConfig>()?;
    let _ = ctx;
    Ok(std::sync::Arc::new(TestPanic::new(cfg, next)))
}

impl Validate for TestPanicConfig {
    fn validate(&self, _: &mut Problems) {}
}

/// Passes payloads on, except marked ones, on which it panics.
pub(crate) struct TestPanic {
    marker: String,
    next: Arc<dyn Consumer>,
}

impl TestPanic {
    pub(crate) fn new(cfg: &TestPanicConfig, next: Arc<dyn Consumer>) -> TestPanic {
        TestPanic {
            marker: cfg.marker.clone(),
            next,
        }
    }
}

impl Consumer for TestPanic {
    fn consume(&self, payload: Payload) -> Result<(), Refusal> {
        let marked = payload.resources().any(|r| {
            r.attributes()
                .any(|kv| kv.value().as_str() == Some(self.marker.as_str()))
        });
        assert!(!marked, "test_panic: marked payload");
        self.next.consume(payload)
    }
}

impl Processor for TestPanic {}
