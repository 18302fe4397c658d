//! `retry_on_failure`: the exporterhelper's exponential backoff (`configretry`).

use serde::{Deserialize, Serialize};

use crate::config::Duration;
use crate::config::validate::Problems;

/// `retry_on_failure` configuration.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct RetryConfig {
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

/// Exponential backoff with jitter, as the Go exporterhelper's retry sender (cenkalti
/// backoff): each wait is drawn from `[1-f, 1+f]` times the current interval, the interval
/// grows by `multiplier` up to `max_interval`, a server's throttle (RetryInfo, Retry-After)
/// raises the wait, and nothing is retried past `max_elapsed_time`.
#[derive(Debug)]
pub(crate) struct Backoff {
    current: std::time::Duration,
    max: std::time::Duration,
    multiplier: f64,
    randomization: f64,
    deadline: Option<std::time::Instant>,
    seed: u64,
}

impl Backoff {
    pub(crate) fn new(cfg: &RetryConfig) -> Backoff {
        let now = std::time::Instant::now();
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15)
            | 1;
        Backoff {
            current: cfg.initial_interval.to_std(),
            max: cfg.max_interval.to_std(),
            multiplier: cfg.multiplier,
            randomization: cfg.randomization_factor,
            deadline: (cfg.max_elapsed_time.as_nanos() > 0)
                .then(|| now + cfg.max_elapsed_time.to_std()),
            seed,
        }
    }

    fn unit(&mut self) -> f64 {
        // xorshift64*: jitter only, no need for a cryptographic source.
        self.seed ^= self.seed >> 12;
        self.seed ^= self.seed << 25;
        self.seed ^= self.seed >> 27;
        (self.seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The wait before the next attempt, or `None` when the elapsed-time budget would be
    /// exceeded (give up now).
    pub(crate) fn next(
        &mut self,
        throttle: Option<std::time::Duration>,
    ) -> Option<std::time::Duration> {
        let base = self.current.as_secs_f64();
        let delta = self.randomization * base;
        let jittered = base - delta + self.unit() * (2.0 * delta);
        let mut wait = std::time::Duration::from_secs_f64(jittered.max(0.0));
        let grown = (base * self.multiplier).min(self.max.as_secs_f64());
        self.current = std::time::Duration::from_secs_f64(grown.max(0.0));
        if let Some(t) = throttle {
            wait = wait.max(t);
        }
        match self.deadline {
            Some(d) if std::time::Instant::now() + wait > d => None,
            _ => Some(wait),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_follow_go_sequence_within_jitter() {
        let cfg = RetryConfig::default();
        let mut b = Backoff::new(&cfg);
        let expected = [5.0, 7.5, 11.25, 16.875, 25.3125, 30.0, 30.0];
        for e in expected {
            let w = b.next(None).unwrap().as_secs_f64();
            assert!(
                w >= e * 0.5 - 1e-9 && w <= e * 1.5 + 1e-9,
                "{w} not around {e}"
            );
        }
        // A throttle raises the wait.
        assert!(
            b.next(Some(std::time::Duration::from_secs(100)))
                .unwrap()
                .as_secs()
                >= 100
        );
    }

    #[test]
    fn gives_up_after_max_elapsed_time() {
        let cfg = RetryConfig {
            initial_interval: Duration::from_secs(5),
            max_elapsed_time: Duration::from_secs(1),
            ..RetryConfig::default()
        };
        assert!(Backoff::new(&cfg).next(None).is_none());
        let forever = RetryConfig {
            max_elapsed_time: Duration::ZERO,
            ..RetryConfig::default()
        };
        assert!(
            Backoff::new(&forever)
                .next(Some(std::time::Duration::from_secs(3600)))
                .is_some()
        );
    }
}
