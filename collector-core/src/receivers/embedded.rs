//! The `embedded` receiver: payloads handed to the collector in-process (`ingest`).

use serde::{Deserialize, Serialize};

use crate::config::validate::{Problems, Validate};

/// `embedded` receiver configuration: no settings.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct EmbeddedConfig {}

impl Validate for EmbeddedConfig {
    fn validate(&self, _: &mut Problems) {}
}
