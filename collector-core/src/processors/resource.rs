//! The `resource` processor.

use serde::{Deserialize, Serialize};

use super::actions::{ActionConfig, validate_actions};
use crate::config::validate::{Problems, Validate};

/// `resource` configuration (contrib `processor/resourceprocessor`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ResourceConfig {
    /// Actions applied in order to every resource's attributes.
    pub attributes: Vec<ActionConfig>,
}

impl Validate for ResourceConfig {
    fn validate(&self, p: &mut Problems) {
        if self.attributes.is_empty() {
            p.root("missing required field \"attributes\"");
        } else if let Some(e) = validate_actions(&self.attributes) {
            p.key("attributes", e);
        }
    }
}
