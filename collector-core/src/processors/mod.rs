//! Processors: what happens to payloads between receivers and exporters.

pub mod actions;
pub mod attributes;
pub mod batch;
pub mod memory_limiter;
pub mod redaction;
pub mod resource;
pub mod resourcedetection;
#[cfg(test)]
pub(crate) mod test_panic;

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::Config;
use crate::config::component::ComponentConfig;
use crate::config::component::Kind;
use crate::memory::Budget;
use crate::pipeline::Tally;
use crate::pipeline::{Consumer, Counted, Guarded, Processor};
use crate::telemetry::{Counter, Registry};
use crate::{Error, ErrorKind, Signal};

use memory_limiter::{LimiterState, MemoryLimiter};
use resourcedetection::{Detection, ResourceDetectionProcessor};

/// One pipeline's processors: the consumer a receiver feeds, and the processors first to
/// last (to start, flush and stop).
pub(crate) type Chain = (Arc<dyn Consumer>, Vec<Arc<dyn Processor>>);

/// Builds the processor chains of a configuration's pipelines. What Go shares per
/// processor id across pipelines is shared here too: one memory limiter state and one
/// resource detection per id; everything else is one instance per pipeline.
pub(crate) struct ChainBuilder<'a> {
    cfg: &'a Config,
    registry: &'a Registry,
    budget: Budget,
    tally: Arc<Tally>,
    limiters: HashMap<String, Arc<LimiterState>>,
    detections: HashMap<String, Arc<Detection>>,
}

impl<'a> ChainBuilder<'a> {
    /// Creates the limiter states of every pipeline's `memory_limiter`s and lowers the
    /// budget's admission limit to the smallest soft limit among them.
    pub(crate) fn new(
        cfg: &'a Config,
        registry: &'a Registry,
        budget: Budget,
        tally: Arc<Tally>,
    ) -> Result<ChainBuilder<'a>, Error> {
        let mut limiters: HashMap<String, Arc<LimiterState>> = HashMap::new();
        for p in cfg.service.pipelines.values() {
            for pid in &p.processors {
                if limiters.contains_key(pid) {
                    continue;
                }
                if let ComponentConfig::MemoryLimiter(m) =
                    &cfg.component(Kind::Processor, pid)?.config
                {
                    let state = LimiterState::new(pid, m, budget.clone(), tally.panics.clone())
                        .map_err(|e| in_proc(pid, e))?;
                    limiters.insert(pid.clone(), state);
                }
            }
        }
        if let Some(soft) = limiters.values().map(|l| l.limits().soft).min() {
            budget.set_limit(usize::try_from(soft).unwrap_or(usize::MAX));
        }
        Ok(ChainBuilder {
            cfg,
            registry,
            budget,
            tally,
            limiters,
            detections: HashMap::new(),
        })
    }

    /// The processors `ids` of one pipeline in front of `tail`: the consumer a receiver
    /// feeds, and the processors first to last (to start and stop). Each is wrapped in
    /// Go's `processorhelper` item counters.
    pub(crate) fn chain(
        &mut self,
        signal: Signal,
        ids: &[String],
        tail: Arc<dyn Consumer>,
    ) -> Result<Chain, Error> {
        let mut next = tail;
        let mut built_all: Vec<Arc<dyn Processor>> = Vec::with_capacity(ids.len());
        for id in ids.iter().rev() {
            let (incoming, outgoing) = counters(self.registry, id, signal);
            // What the processor passes on is counted on the way out.
            let out: Arc<dyn Consumer> = Arc::new(Counted::outgoing(next, outgoing));
            let built = self.one(signal, id, out)?;
            let guarded = Guarded::new(built.clone(), id, self.tally.clone());
            next = Arc::new(Counted::incoming(guarded, incoming));
            built_all.push(built);
        }
        built_all.reverse();
        Ok((next, built_all))
    }

    fn one(
        &mut self,
        signal: Signal,
        id: &str,
        next: Arc<dyn Consumer>,
    ) -> Result<Arc<dyn Processor>, Error> {
        let c = self.cfg.component(Kind::Processor, id)?;
        let registry = self.registry;
        Ok(match &c.config {
            ComponentConfig::MemoryLimiter(_) => {
                let state = self.limiters.get(id).cloned().ok_or_else(|| {
                    Error::new(ErrorKind::Internal, format!("limiter {id} vanished"))
                })?;
                Arc::new(MemoryLimiter::new(id, signal, state, next, registry))
            }
            ComponentConfig::Batch(b) => Arc::new(batch::BatchProcessor::new(
                id,
                signal,
                b,
                next,
                self.budget.clone(),
                self.tally.clone(),
                registry,
            )),
            ComponentConfig::Resource(r) => Arc::new(
                resource::ResourceProcessor::new(id, r, next, registry)
                    .map_err(|e| in_proc(id, e))?,
            ),
            ComponentConfig::Attributes(a) => Arc::new(
                attributes::AttributesProcessor::new(signal, a, next, self.budget.clone())
                    .map_err(|e| in_proc(id, e))?,
            ),
            ComponentConfig::Redaction(r) => Arc::new(
                redaction::RedactionProcessor::new(
                    id,
                    signal,
                    r,
                    next,
                    self.budget.clone(),
                    registry,
                )
                .map_err(|e| in_proc(id, e))?,
            ),
            ComponentConfig::ResourceDetection(r) => {
                let detection = self
                    .detections
                    .entry(id.to_owned())
                    .or_insert_with(|| Detection::new(id, r, self.tally.panics.clone()))
                    .clone();
                ResourceDetectionProcessor::new(detection, r.override_, next)
            }
            #[cfg(test)]
            ComponentConfig::TestPanic(t) => Arc::new(test_panic::TestPanic::new(t, next)),
            _ => {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("processor {id}: not built yet"),
                ));
            }
        })
    }
}

/// Go's `processorhelper` counters (v0.138): `otelcol_processor_incoming_items` and
/// `otelcol_processor_outgoing_items`, labels `processor` and `otel.signal`.
fn counters(registry: &Registry, id: &str, signal: Signal) -> (Counter, Counter) {
    let labels = [("processor", id), ("otel_signal", signal.as_str())];
    (
        registry.counter(
            "otelcol_processor_incoming_items",
            "Number of items passed to the processor.",
            &labels,
        ),
        registry.counter(
            "otelcol_processor_outgoing_items",
            "Number of items emitted from the processor.",
            &labels,
        ),
    )
}

fn in_proc(id: &str, e: Error) -> Error {
    Error::new(e.kind(), format!("processor {id}: {}", e.message()))
}
