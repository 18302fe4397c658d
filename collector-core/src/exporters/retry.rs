//! `retry_on_failure`: the exporterhelper's exponential backoff (`configretry`).

use serde::{Deserialize, Serialize};

use crate::config::Duration;
use crate::config::validate::Problems;

/// `retry_on_failure` configuration.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct RetryConfig {
    /// Retry retryable failures at all.
    pub enabled: bool,
    /// First wait.
    pub initial_interval: Duration,
    /// Jitter: each wait is drawn from `[1-f, 1+f]` times the current interval.
    pub randomization_factor: f64,
    /// Growth of the interval after each attempt.
    pub multiplier: f64,
    /// Cap on the interval.
    pub max_interval: Duration,
    /// Give up after this long (0: never).
    pub max_elapsed_time: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            enabled: true,
            initial_interval: Duration::from_secs(5),
            randomization_factor: 0.5,
            multiplier: 1.5,
            max_interval: Duration::from_secs(30),
            max_elapsed_time: Duration::from_secs(300),
        }
    }
}

impl RetryConfig {
    /// Go's `BackOffConfig.Validate` (v0.138: skipped when disabled).
    pub(crate) fn validate(&self, p: &mut Problems) {
        if !self.enabled {
            return;
        }
        if self.initial_interval.is_negative() {
            p.key(
                "initial_interval",
                "'initial_interval' must be non-negative",
            );
        }
        if !(0.0..=1.0).contains(&self.randomization_factor) {
            p.key(
                "randomization_factor",
                "'randomization_factor' must be within [0, 1]",
            );
        }
        if self.multiplier < 0.0 || self.multiplier.is_nan() {
            p.key("multiplier", "'multiplier' must be non-negative");
        }
        if self.max_interval.is_negative() {
            p.key("max_interval", "'max_interval' must be non-negative");
        }
        if self.max_elapsed_time.is_negative() {
            p.key(
                "max_elapsed_time",
                "'max_elapsed_time' must be non-negative",
            );
        }
        if self.max_elapsed_time.as_nanos() > 0 {
            if self.max_elapsed_time < self.initial_interval {
                p.key(
                    "max_elapsed_time",
                    "'max_elapsed_time' must not be less than 'initial_interval'",
                );
            }
            if self.max_elapsed_time < self.max_interval {
                p.key(
                    "max_elapsed_time",
                    "'max_elapsed_time' must not be less than 'max_interval'",
                );
            }
        }
    }
}
