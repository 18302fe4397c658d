//! The `embedded` receiver: payloads handed to the collector in-process (`ingest`). It
//! has no settings and opens nothing: its pipelines join the collector's in-process entry
//! (`pipeline/ingest.rs`).

use serde::{Deserialize, Serialize};

use crate::config::Kind;
use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::config::validate::{Problems, Validate};
use crate::pipeline::build::{Build, Context, Factory, Receiver, Targets};
use crate::{Error, Signal};

/// The `embedded` receiver type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: Kind::Receiver,
        name: "embedded",
        aliases: &[],
        signals: &Signal::ALL,
        decode: decode::<EmbeddedConfig>,
    },
    build: Build::Receiver(build),
};

impl ComponentType for EmbeddedConfig {}

/// Adds its pipelines to what `ingest` feeds; nothing runs of its own.
fn build(
    ctx: &Context<'_>,
    cfg: &dyn ComponentConfig,
    targets: Targets,
) -> Result<Option<Box<dyn Receiver>>, Error> {
    cfg.get::<EmbeddedConfig>()?;
    let mut all = ctx.ingest.lock();
    for (all, mine) in all.iter_mut().zip(targets) {
        all.extend(mine);
    }
    Ok(None)
}

/// `embedded` receiver configuration: no settings.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct EmbeddedConfig {}

impl Validate for EmbeddedConfig {
    fn validate(&self, _: &mut Problems) {}
}
