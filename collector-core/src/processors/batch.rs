//! The `batch` processor.

use serde::{Deserialize, Serialize};

use crate::config::Duration;
use crate::config::validate::{Problems, Validate};

/// `batch` configuration, as in the Go collector v0.138 (`processor/batchprocessor`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct BatchConfig {
    /// Flush after this long since the last flush; 0 sends at once.
    pub timeout: Duration,
    /// Flush when this many items are pending; 0 disables the size trigger.
    pub send_batch_size: u32,
    /// Split batches above this many items; 0 means no limit.
    pub send_batch_max_size: u32,
    /// Client metadata keys that partition batches.
    pub metadata_keys: Vec<String>,
    /// How many distinct metadata combinations may exist; 0 means unlimited.
    pub metadata_cardinality_limit: u32,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            timeout: Duration::from_millis(200),
            send_batch_size: 8192,
            send_batch_max_size: 0,
            metadata_keys: Vec::new(),
            metadata_cardinality_limit: 1000,
        }
    }
}

impl Validate for BatchConfig {
    fn validate(&self, p: &mut Problems) {
        if self.send_batch_max_size > 0 && self.send_batch_max_size < self.send_batch_size {
            p.key(
                "send_batch_max_size",
                "send_batch_max_size must be greater or equal to send_batch_size",
            );
        }
        let mut seen: Vec<String> = Vec::new();
        for k in &self.metadata_keys {
            let lower = k.to_lowercase();
            if seen.contains(&lower) {
                p.key(
                    "metadata_keys",
                    format!("duplicate entry in metadata_keys: {lower:?} (case-insensitive)"),
                );
            }
            seen.push(lower);
        }
        if self.timeout.is_negative() {
            p.key("timeout", "timeout must be greater or equal to 0");
        }
    }
}
