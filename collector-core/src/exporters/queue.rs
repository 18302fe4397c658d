//! `sending_queue`: each exporter's bounded queue (exporterhelper `QueueBatchConfig`).

use serde::{Deserialize, Serialize};

use crate::config::Duration;
use crate::config::validate::Problems;

/// What a queue's size counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sizer {
    /// Requests (batches).
    #[default]
    Requests,
    /// Items (spans, data points, log records).
    Items,
    /// Encoded bytes.
    Bytes,
}

/// `sending_queue::batch` (exporter-side batching).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct QueueBatchConfig {
    /// Flush after this long.
    pub flush_timeout: Duration,
    /// What the sizes count (`items` or `bytes`).
    pub sizer: Sizer,
    /// Flush at this size.
    pub min_size: i64,
    /// Split above this size (0: never).
    pub max_size: i64,
}

impl Default for QueueBatchConfig {
    fn default() -> Self {
        QueueBatchConfig {
            flush_timeout: Duration::from_millis(200),
            sizer: Sizer::Items,
            min_size: 8192,
            max_size: 0,
        }
    }
}

/// `sending_queue` configuration.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct QueueConfig {
    /// Queue at all (without a queue, export happens in the caller).
    pub enabled: bool,
    /// Make the caller wait for the export result.
    pub wait_for_result: bool,
    /// What `queue_size` counts.
    pub sizer: Sizer,
    /// Capacity.
    pub queue_size: i64,
    /// Wait for room instead of dropping when full.
    pub block_on_overflow: bool,
    /// Persistent queue storage extension id.
    pub storage: Option<String>,
    /// Concurrent senders.
    pub num_consumers: i64,
    /// Exporter-side batching (not supported; use the batch processor).
    #[serde(default, deserialize_with = "crate::config::net::present")]
    pub batch: Option<QueueBatchConfig>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            enabled: true,
            wait_for_result: false,
            sizer: Sizer::Requests,
            queue_size: 1000,
            block_on_overflow: false,
            storage: None,
            num_consumers: 10,
            batch: None,
        }
    }
}

impl QueueConfig {
    /// Go's `queuebatch.Config.Validate` (skipped when disabled).
    pub(crate) fn validate(&self, p: &mut Problems) {
        if !self.enabled {
            return;
        }
        if self.num_consumers <= 0 {
            p.key("num_consumers", "`num_consumers` must be positive");
        }
        if self.queue_size <= 0 {
            p.key("queue_size", "`queue_size` must be positive");
        }
        if self.storage.is_some() && self.wait_for_result {
            p.root("`wait_for_result` is not supported with a persistent queue configured with `storage`");
        }
        if self.storage.is_some() {
            p.key(
                "storage",
                "persistent queues (file_storage) are not supported by this collector yet",
            );
        }
        if let Some(b) = &self.batch {
            if b.sizer == Sizer::Requests {
                p.key(
                    "batch::sizer",
                    "`batch` supports only `items` or `bytes` sizer, found \"requests\"",
                );
            }
            if b.flush_timeout.as_nanos() <= 0 {
                p.key(
                    "batch::flush_timeout",
                    format!(
                        "`flush_timeout` must be positive, found {}",
                        b.flush_timeout.as_nanos()
                    ),
                );
            }
            if b.min_size < 0 {
                p.key(
                    "batch::min_size",
                    format!("`min_size` must be non-negative, found {}", b.min_size),
                );
            }
            if b.max_size < 0 {
                p.key(
                    "batch::max_size",
                    format!("`max_size` must be non-negative, found {}", b.max_size),
                );
            }
            if b.max_size > 0 && b.max_size < b.min_size {
                p.key(
                    "batch::max_size",
                    format!(
                        "`max_size` ({}) must be greater or equal to `min_size` ({})",
                        b.max_size, b.min_size
                    ),
                );
            }
            if b.sizer == self.sizer && b.min_size > self.queue_size {
                p.root("`min_size` must be less than or equal to `queue_size`");
            }
            p.key(
                "batch",
                "exporter-side batching is not supported by this collector: use the batch processor",
            );
        }
    }
}
