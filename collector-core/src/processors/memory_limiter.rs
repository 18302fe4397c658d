//! The `memory_limiter` processor.

use serde::{Deserialize, Serialize};

use crate::config::Duration;
use crate::config::validate::{Problems, Validate};

/// `memory_limiter` configuration, as in the Go collector v0.138
/// (`internal/memorylimiter/config.go`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct MemoryLimiterConfig {
    /// How often usage is measured; must be set.
    pub check_interval: Duration,
    /// Go's minimum interval between forced GCs above the soft limit; accepted for
    /// compatibility (there is no GC to force here).
    pub min_gc_interval_when_soft_limited: Duration,
    /// As above, above the hard limit.
    pub min_gc_interval_when_hard_limited: Duration,
    /// Hard limit in MiB; takes precedence over `limit_percentage`.
    pub limit_mib: u32,
    /// Headroom below the hard limit; the soft limit is `limit - spike`. Default 20% of
    /// the limit.
    pub spike_limit_mib: u32,
    /// Hard limit as a percentage of total memory (the cgroup limit, else physical).
    pub limit_percentage: u32,
    /// Spike as a percentage of total memory.
    pub spike_limit_percentage: u32,
}

impl Default for MemoryLimiterConfig {
    fn default() -> Self {
        MemoryLimiterConfig {
            check_interval: Duration::ZERO,
            min_gc_interval_when_soft_limited: Duration::from_secs(10),
            min_gc_interval_when_hard_limited: Duration::ZERO,
            limit_mib: 0,
            spike_limit_mib: 0,
            limit_percentage: 0,
            spike_limit_percentage: 0,
        }
    }
}

impl Validate for MemoryLimiterConfig {
    fn validate(&self, p: &mut Problems) {
        if self.check_interval.as_nanos() <= 0 {
            p.key(
                "check_interval",
                "'check_interval' must be greater than zero",
            );
        }
        if self.min_gc_interval_when_soft_limited < self.min_gc_interval_when_hard_limited {
            p.root("'min_gc_interval_when_soft_limited' should be larger than 'min_gc_interval_when_hard_limited'");
        }
        if self.limit_mib == 0 && self.limit_percentage == 0 {
            p.root("'limit_mib' or 'limit_percentage' must be greater than zero");
        }
        if self.limit_percentage > 100 || self.spike_limit_percentage > 100 {
            p.root("'limit_percentage' and 'spike_limit_percentage' must be greater than zero and less than or equal to hundred");
        }
        if self.limit_mib > 0 && self.limit_mib <= self.spike_limit_mib {
            p.key(
                "spike_limit_mib",
                "'spike_limit_mib' must be smaller than 'limit_mib'",
            );
        }
        if self.limit_percentage > 0 && self.limit_percentage <= self.spike_limit_percentage {
            p.key(
                "spike_limit_percentage",
                "'spike_limit_percentage' must be smaller than 'limit_percentage'",
            );
        }
    }
}
