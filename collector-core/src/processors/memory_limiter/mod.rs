//! The `memory_limiter` processor.

use serde::{Deserialize, Serialize};

use crate::config::Duration;
use crate::config::Kind as FactoryKind;
use crate::config::component::{ComponentConfig, ComponentType, ConfigFactory, decode};
use crate::config::validate::{Problems, Validate};
use crate::pipeline::build::{Build, Context, Factory};

/// `memory_limiter` configuration, as in the Go collector v0.138
/// (`internal/memorylimiter/config.go`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct MemoryLimiterConfig {
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

/// The `memory_limiter` processor type.
pub(crate) static FACTORY: Factory = Factory {
    config: ConfigFactory {
        kind: FactoryKind::Processor,
        name: "memory_limiter",
        aliases: &[],
        signals: &crate::Signal::ALL,
        decode: decode::<MemoryLimiterConfig>,
    },
    build: Build::Processor(build),
};

impl ComponentType for MemoryLimiterConfig {}

fn build(
    ctx: &Context<'_>,
    cfg: &dyn ComponentConfig,
    next: std::sync::Arc<dyn crate::pipeline::Consumer>,
) -> Result<std::sync::Arc<dyn crate::pipeline::Processor>, crate::Error> {
    let cfg = cfg.get::<MemoryLimiterConfig>()?;
    // One state per id, however many pipelines list it (as Go's shared limiter).
    let state = ctx
        .shared(|| LimiterState::new(ctx.id, cfg, ctx.budget.clone(), ctx.tally.panics.clone()))?;
    // Receivers admit against the smallest soft limit of the collector's limiters.
    ctx.budget
        .lower_limit(usize::try_from(state.limits().soft).unwrap_or(usize::MAX));
    Ok(std::sync::Arc::new(MemoryLimiter::new(
        ctx.id,
        ctx.signal,
        state,
        next,
        ctx.registry,
    )))
}

/// The limits a limiter enforces, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) hard: u64,
    pub(crate) soft: u64,
}

impl MemoryLimiterConfig {
    /// Hard and soft limits as the Go limiter computes them: `limit_mib` wins over
    /// percentages; the spike defaults to 20% of the limit; soft = hard - spike.
    pub(crate) fn limits(&self) -> Result<Limits, crate::Error> {
        let (hard, spike) = if self.limit_mib > 0 {
            let hard = u64::from(self.limit_mib) << 20;
            let spike = if self.spike_limit_mib > 0 {
                u64::from(self.spike_limit_mib) << 20
            } else {
                hard / 5
            };
            (hard, spike)
        } else {
            let total = crate::cgroup::total_memory().ok_or_else(|| {
                crate::Error::new(
                    crate::ErrorKind::Config,
                    "failed to get total memory, use fixed memory settings (limit_mib)",
                )
            })?;
            let hard = total * u64::from(self.limit_percentage) / 100;
            let spike = if self.spike_limit_percentage > 0 {
                total * u64::from(self.spike_limit_percentage) / 100
            } else {
                hard / 5
            };
            tracing::info!(
                total_memory_mib = total >> 20,
                limit_percentage = self.limit_percentage,
                spike_limit_percentage = self.spike_limit_percentage,
                "Using percentage memory limiter"
            );
            (hard, spike)
        };
        Ok(Limits {
            hard,
            soft: hard.saturating_sub(spike),
        })
    }
}

/// The state one limiter id shares across its pipelines: the limits, the refusal flag, and
/// the ticker that measures usage every `check_interval`.
pub(crate) struct LimiterState {
    limits: Limits,
    refusing: std::sync::atomic::AtomicBool,
    budget: crate::memory::Budget,
    interval: std::time::Duration,
    task: parking_lot::Mutex<Option<tokio::task::JoinHandle<()>>>,
    id: String,
    panics: crate::pipeline::panics::Panics,
}

impl LimiterState {
    pub(crate) fn new(
        id: &str,
        cfg: &MemoryLimiterConfig,
        budget: crate::memory::Budget,
        panics: crate::pipeline::panics::Panics,
    ) -> Result<std::sync::Arc<LimiterState>, crate::Error> {
        let limits = cfg.limits()?;
        tracing::info!(
            limit_mib = limits.hard >> 20,
            spike_limit_mib = (limits.hard - limits.soft) >> 20,
            check_interval = %cfg.check_interval,
            "Memory limiter configured"
        );
        Ok(std::sync::Arc::new(LimiterState {
            limits,
            refusing: std::sync::atomic::AtomicBool::new(false),
            budget,
            interval: cfg.check_interval.to_std(),
            task: parking_lot::Mutex::new(None),
            id: id.to_owned(),
            panics,
        }))
    }

    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    /// What the limiter compares with its limits: the larger of the exact payload bytes
    /// held and the allocator's heap in use.
    fn usage(&self) -> u64 {
        (self.budget.used() as u64).max(crate::cgroup::heap_in_use() as u64)
    }

    /// One check: refuse at or above the soft limit, resume below it.
    pub(crate) fn check(&self) {
        use std::sync::atomic::Ordering;
        let usage = self.usage();
        let above = usage >= self.limits.soft;
        let was = self.refusing.swap(above, Ordering::Relaxed);
        if above && !was {
            tracing::warn!(
                cur_mem_mib = usage >> 20,
                soft_limit_mib = self.limits.soft >> 20,
                "Memory usage is above soft limit. Refusing data."
            );
        } else if !above && was {
            tracing::info!(
                cur_mem_mib = usage >> 20,
                "Memory usage back within limits. Resuming normal operation."
            );
        }
    }

    pub(crate) fn refusing(&self) -> bool {
        self.refusing.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Starts the ticker (once, however many pipelines share the limiter).
    pub(crate) fn start(self: &std::sync::Arc<Self>) {
        let mut task = self.task.lock();
        if task.is_some() {
            return;
        }
        let me = std::sync::Arc::downgrade(self);
        let interval = self.interval;
        *task = Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(state) = me.upgrade() else { return };
                // A panic skips this check; the next tick tries again.
                state.panics.catch(&state.id, || state.check());
            }
        }));
    }

    pub(crate) fn stop(&self) {
        if let Some(t) = self.task.lock().take() {
            t.abort();
        }
    }
}

/// The `memory_limiter` in one pipeline: refuses (retryable) while its shared state says
/// so, and counts what it accepted and refused with the v0.138 metric names
/// (`otelcol_processor_accepted_spans`..., label `processor`; Go source
/// `processor/memorylimiterprocessor/internal/metadata/generated_telemetry.go` at v0.138.0).
pub(crate) struct MemoryLimiter {
    state: std::sync::Arc<LimiterState>,
    next: std::sync::Arc<dyn crate::pipeline::Consumer>,
    accepted: crate::telemetry::Counter,
    refused: crate::telemetry::Counter,
}

impl MemoryLimiter {
    pub(crate) fn new(
        id: &str,
        signal: crate::Signal,
        state: std::sync::Arc<LimiterState>,
        next: std::sync::Arc<dyn crate::pipeline::Consumer>,
        registry: &crate::telemetry::Registry,
    ) -> MemoryLimiter {
        let item = signal.item_name();
        let labels = [("processor", id)];
        MemoryLimiter {
            state,
            next,
            accepted: registry.counter(
                &format!("otelcol_processor_accepted_{item}"),
                "Number of items successfully pushed into the next component in the pipeline.",
                &labels,
            ),
            refused: registry.counter(
                &format!("otelcol_processor_refused_{item}"),
                "Number of items that were rejected by the next component in the pipeline.",
                &labels,
            ),
        }
    }
}

impl crate::pipeline::Consumer for MemoryLimiter {
    fn consume(&self, payload: crate::otlp::Payload) -> Result<(), crate::pipeline::Refusal> {
        let items = payload.items();
        if self.state.refusing() {
            self.refused.add(items);
            return Err(crate::pipeline::Refusal::Retryable(
                "data refused due to high memory usage".to_owned(),
            ));
        }
        self.accepted.add(items);
        self.next.consume(payload)
    }
}

impl crate::pipeline::Processor for MemoryLimiter {
    fn start(&self) {
        self.state.start();
    }

    fn shutdown(
        &self,
        _deadline: std::time::Instant,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        self.state.stop();
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_as_go_computes_them() {
        let c = MemoryLimiterConfig {
            check_interval: crate::config::Duration::from_secs(1),
            limit_mib: 1000,
            spike_limit_mib: 200,
            ..Default::default()
        };
        let l = c.limits().unwrap();
        assert_eq!((l.hard, l.soft), (1000 << 20, 800 << 20));
        let c = MemoryLimiterConfig {
            spike_limit_mib: 0,
            ..c
        };
        assert_eq!(c.limits().unwrap().soft, (1000 << 20) - (1000 << 20) / 5);
        let p = MemoryLimiterConfig {
            check_interval: crate::config::Duration::from_secs(1),
            limit_percentage: 75,
            spike_limit_percentage: 25,
            ..Default::default()
        };
        let total = crate::cgroup::total_memory().unwrap();
        let l = p.limits().unwrap();
        assert_eq!(l.hard, total * 75 / 100);
        assert_eq!(l.soft, total * 75 / 100 - total * 25 / 100);
    }

    #[test]
    fn refuses_at_soft_and_resumes_below() {
        let budget = crate::memory::Budget::new(usize::MAX);
        let heap = crate::cgroup::heap_in_use() as u64;
        let cfg = MemoryLimiterConfig {
            check_interval: crate::config::Duration::from_secs(1),
            // Soft limit well above the heap, so only the payload bytes decide.
            limit_mib: (((heap >> 20) + 64) as u32) + 16,
            spike_limit_mib: 16,
            ..Default::default()
        };
        let state =
            LimiterState::new("memory_limiter", &cfg, budget.clone(), Default::default()).unwrap();
        state.check();
        assert!(!state.refusing());
        let r = budget.force_reserve((state.limits().soft as usize).saturating_sub(1) + 1);
        state.check();
        assert!(state.refusing());
        drop(r);
        state.check();
        assert!(!state.refusing());
    }
}
