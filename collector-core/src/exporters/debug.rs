//! The `debug` exporter.

use serde::{Deserialize, Serialize};

use crate::config::validate::{Problems, Validate};
use crate::exporters::queue::QueueConfig;

/// How much the debug exporter prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verbosity {
    /// One summary line per batch.
    #[default]
    Basic,
    /// One line per item.
    Normal,
    /// Every field of every item.
    Detailed,
    /// Each batch's spans drawn as trees with durations (our addition).
    Tree,
}

/// `debug` exporter configuration (Go `exporter/debugexporter`, v0.138).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct DebugConfig {
    /// `basic`, `normal`, `detailed` or `tree`.
    pub verbosity: Verbosity,
    /// Batches printed per second before sampling starts.
    pub sampling_initial: i64,
    /// After that, print every n-th batch in the second.
    pub sampling_thereafter: i64,
    /// Print through the collector's logger (stderr) rather than to stdout.
    pub use_internal_logger: bool,
    /// The exporter's own queue (a slow terminal never blocks other exporters).
    pub sending_queue: QueueConfig,
}

impl Default for DebugConfig {
    fn default() -> Self {
        DebugConfig {
            verbosity: Verbosity::Basic,
            sampling_initial: 2,
            sampling_thereafter: 1,
            use_internal_logger: true,
            sending_queue: QueueConfig {
                queue_size: 1,
                ..QueueConfig::default()
            },
        }
    }
}

impl Validate for DebugConfig {
    fn validate(&self, p: &mut Problems) {
        if self.sampling_initial < 0 {
            p.key("sampling_initial", "sampling_initial must not be negative");
        }
        if self.sampling_thereafter < 0 {
            p.key(
                "sampling_thereafter",
                "sampling_thereafter must not be negative",
            );
        }
        let mut q = Problems::default();
        self.sending_queue.validate(&mut q);
        p.nested("sending_queue", q);
    }
}
