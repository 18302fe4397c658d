//! Pipelines: how payloads flow from receivers through processors to exporters.
//!
//! Each stage is a [`Consumer`]; a processor wraps the next stage, so a pipeline is a chain
//! ending in an [`ExporterFanout`]. A receiver feeds a [`ReceiverFanout`] over the pipelines
//! that name it. Consuming is synchronous: processors run inline in the receiving task and
//! exporters take payloads into their own bounded queues, so no channel hop is paid per
//! request, and an embedder's `ingest` never blocks.

pub(crate) mod panics;

use std::sync::Arc;

use crate::otlp::Payload;

/// Why data was dropped: the `reason` label of `otelcol_dropped_items_total` (ours).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DropReason {
    /// An exporter's queue was full while another exporter of the pipeline took the data.
    QueueFull,
    /// The shutdown deadline passed with the data still held.
    Shutdown,
    /// The backend refused it for good (400, `INVALID_ARGUMENT`...).
    Permanent,
    /// Retries ran out (`max_elapsed_time`, or retry disabled).
    RetriesExhausted,
    /// A component panicked while holding it.
    Panic,
}

impl DropReason {
    /// The label value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DropReason::QueueFull => "queue_full",
            DropReason::Shutdown => "shutdown",
            DropReason::Permanent => "permanent",
            DropReason::RetriesExhausted => "retries_exhausted",
            DropReason::Panic => "panic",
        }
    }
}

/// What one collector delivered and dropped, for the shutdown report and the drop counters,
/// and the panics its components had.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Items exporters delivered.
    pub(crate) delivered: crate::telemetry::Counter,
    /// Items dropped, for any reason.
    pub(crate) dropped: crate::telemetry::Counter,
    /// Panics caught in components.
    pub(crate) panics: panics::Panics,
    registry: crate::telemetry::Registry,
}

impl Tally {
    /// A tally whose counters are in `registry`.
    pub(crate) fn new(registry: &crate::telemetry::Registry) -> Tally {
        Tally {
            panics: panics::Panics::new(registry),
            registry: registry.clone(),
            ..Tally::default()
        }
    }

    /// Counts `items` that `component` dropped for `reason`: in the shutdown report and in
    /// `otelcol_dropped_items_total{component,reason}` (ours).
    pub(crate) fn drop_items(&self, component: &str, reason: DropReason, items: u64) {
        if items == 0 {
            return;
        }
        self.dropped.add(items);
        self.registry
            .counter(
                "otelcol_dropped_items",
                "Items dropped, by component and reason (ours; Go's series count some of these without a reason).",
                &[("component", component), ("reason", reason.as_str())],
            )
            .add(items);
    }
}

/// Why a stage did not take a payload.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Over budget, or every queue full: the sender should retry later
    /// (gRPC `UNAVAILABLE`, HTTP 503).
    Retryable(String),
    /// An exporter with `block_on_overflow` is full: wait for the notification and offer
    /// the payload (given back) again. No exporter of that pipeline took it.
    Blocked(Arc<tokio::sync::Notify>, Box<Payload>),
    /// The payload can never be taken (gRPC `INTERNAL`, HTTP 500).
    Permanent(String),
    /// A stage dropped the payload and counted it (a component panicked): the sender
    /// hears an internal error (gRPC `INTERNAL`, HTTP 500) and must not count it again.
    Dropped(String),
}

/// A stage that takes payloads.
pub(crate) trait Consumer: Send + Sync {
    /// Takes `payload` or says why not. Never blocks.
    fn consume(&self, payload: Payload) -> Result<(), Refusal>;
}

/// A processor: a stage with a lifecycle (timers, background detection, draining).
pub(crate) trait Processor: Consumer {
    /// Starts background work. Called before any receiver starts.
    fn start(&self) {}
    /// True when [`ready`](Self::ready) may take time (so the collector waits for it).
    fn delays_readiness(&self) -> bool {
        false
    }
    /// Resolves when the processor can process data (resource detection has finished or
    /// timed out); the health check turns 200 once every processor is ready.
    fn ready(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(async {})
    }
    /// Hands everything it holds to the next stage now, without stopping (an embedder's
    /// `flush`); false when `deadline` passed with some still held.
    fn flush(
        &self,
        _deadline: std::time::Instant,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + '_>> {
        Box::pin(async { true })
    }
    /// Drains what it holds into the next stage before `deadline`.
    fn shutdown(
        &self,
        _deadline: std::time::Instant,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(async {})
    }
}

/// Counts the items offered to a stage (`incoming`: refused ones too, except those given
/// back to be offered again) or taken by it (`outgoing`: only what it accepted, so a batch
/// offered again after a refusal is counted once).
pub(crate) struct Counted {
    next: Arc<dyn Consumer>,
    counter: crate::telemetry::Counter,
    only_taken: bool,
}

impl Counted {
    pub(crate) fn incoming(next: Arc<dyn Consumer>, counter: crate::telemetry::Counter) -> Self {
        Counted {
            next,
            counter,
            only_taken: false,
        }
    }

    pub(crate) fn outgoing(next: Arc<dyn Consumer>, counter: crate::telemetry::Counter) -> Self {
        Counted {
            next,
            counter,
            only_taken: true,
        }
    }
}

impl Consumer for Counted {
    fn consume(&self, payload: Payload) -> Result<(), Refusal> {
        let items = payload.items();
        let result = self.next.consume(payload);
        let count = match &result {
            Ok(()) => true,
            Err(Refusal::Blocked(..)) => false,
            Err(_) => !self.only_taken,
        };
        if count {
            self.counter.add(items);
        }
        result
    }
}

/// A processor under the panic guard: a panic in its `consume` (or anything it calls
/// inline) drops the payload, counted with reason `panic`, and the task that called it goes
/// on serving.
pub(crate) struct Guarded {
    next: Arc<dyn Consumer>,
    id: String,
    tally: Arc<Tally>,
}

impl Guarded {
    pub(crate) fn new(next: Arc<dyn Consumer>, id: &str, tally: Arc<Tally>) -> Guarded {
        Guarded {
            next,
            id: id.to_owned(),
            tally,
        }
    }
}

impl Consumer for Guarded {
    fn consume(&self, payload: Payload) -> Result<(), Refusal> {
        let items = payload.items();
        match self
            .tally
            .panics
            .catch(&self.id, || self.next.consume(payload))
        {
            Some(result) => result,
            None => {
                self.tally.drop_items(&self.id, DropReason::Panic, items);
                Err(Refusal::Dropped(format!(
                    "{} failed with an internal error; the data was dropped",
                    self.id
                )))
            }
        }
    }
}

/// A receiver's view of the pipelines that name it, for one signal: every pipeline gets the
/// payload (a reference-count clone); the receiver is told of the first refusal.
pub(crate) struct ReceiverFanout {
    pipelines: Vec<Arc<dyn Consumer>>,
}

impl ReceiverFanout {
    pub(crate) fn new(pipelines: Vec<Arc<dyn Consumer>>) -> Self {
        ReceiverFanout { pipelines }
    }
}

impl Consumer for ReceiverFanout {
    fn consume(&self, payload: Payload) -> Result<(), Refusal> {
        let Some((last, rest)) = self.pipelines.split_last() else {
            return Ok(());
        };
        for p in rest {
            p.consume(payload.clone())?;
        }
        // The last pipeline takes the original: one clone fewer.
        last.consume(payload)
    }
}

/// An exporter as a pipeline sees it: a queue that may be full.
pub(crate) trait ExporterQueue: Send + Sync {
    /// Takes the payload into the exporter's queue, or refuses when full.
    fn offer(&self, payload: Payload) -> Result<(), Refusal>;
    /// Counts a payload the pipeline dropped for this exporter because its queue was full
    /// while another exporter of the pipeline took it (the independence rule).
    fn dropped_full(&self, items: u64);
    /// For an exporter configured with `block_on_overflow`: when its queue is full, what to
    /// wait on before offering again.
    fn blocked(&self) -> Option<Arc<tokio::sync::Notify>> {
        None
    }
}

/// The end of a pipeline: hands the payload to each exporter's queue.
///
/// Independence rule (DESIGN §3): when one exporter's queue is full and another exporter of
/// the pipeline took the payload, the full one drops it and counts it; only when no exporter
/// could take it is the payload refused (retryable), so nothing is lost silently and one slow
/// backend never blocks another.
pub(crate) struct ExporterFanout {
    exporters: Vec<Arc<dyn ExporterQueue>>,
}

impl ExporterFanout {
    pub(crate) fn new(exporters: Vec<Arc<dyn ExporterQueue>>) -> Self {
        ExporterFanout { exporters }
    }
}

impl Consumer for ExporterFanout {
    fn consume(&self, payload: Payload) -> Result<(), Refusal> {
        // `block_on_overflow` couples the pipeline to that exporter: nothing is offered to
        // anyone until it has room (documented in docs/runtime.md).
        if let Some(room) = self.exporters.iter().find_map(|e| e.blocked()) {
            return Err(Refusal::Blocked(room, Box::new(payload)));
        }
        let items = payload.items();
        if self.exporters.len() == 1 {
            return self.exporters[0].offer(payload);
        }
        let mut full = Vec::new();
        let mut taken = false;
        let mut last_err = None;
        for (i, e) in self.exporters.iter().enumerate() {
            match e.offer(payload.clone()) {
                Ok(()) => taken = true,
                Err(err) => {
                    full.push(i);
                    last_err = Some(err);
                }
            }
        }
        if taken {
            for i in full {
                self.exporters[i].dropped_full(items);
            }
            Ok(())
        } else {
            Err(last_err.unwrap_or_else(|| Refusal::Retryable("no exporter".to_owned())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Signal;
    use parking_lot::Mutex;

    struct Fake {
        room: Mutex<usize>,
        got: Mutex<u64>,
        dropped: Mutex<u64>,
    }

    impl Fake {
        fn new(room: usize) -> Arc<Fake> {
            Arc::new(Fake {
                room: Mutex::new(room),
                got: Mutex::new(0),
                dropped: Mutex::new(0),
            })
        }
    }

    impl ExporterQueue for Fake {
        fn offer(&self, p: Payload) -> Result<(), Refusal> {
            let mut room = self.room.lock();
            if *room == 0 {
                return Err(Refusal::Retryable("sending queue is full".into()));
            }
            *room -= 1;
            *self.got.lock() += p.items();
            Ok(())
        }
        fn dropped_full(&self, items: u64) {
            *self.dropped.lock() += items;
        }
    }

    fn payload() -> Payload {
        let mut out = Vec::new();
        crate::otlp::wire::put_nested(&mut out, 1, |rs| {
            crate::otlp::wire::put_nested(rs, 2, |ss| {
                for _ in 0..3 {
                    crate::otlp::wire::put_nested(ss, 2, |_| {});
                }
            })
        });
        Payload::decode(Signal::Traces, bytes::Bytes::from(out)).unwrap()
    }

    #[test]
    fn independence_rule() {
        let a = Fake::new(1);
        let b = Fake::new(5);
        let fan = ExporterFanout::new(vec![a.clone(), b.clone()]);
        fan.consume(payload()).unwrap();
        fan.consume(payload()).unwrap();
        // `a` was full the second time: it dropped and counted, `b` took both.
        assert_eq!((*a.got.lock(), *a.dropped.lock()), (3, 3));
        assert_eq!((*b.got.lock(), *b.dropped.lock()), (6, 0));
        // Both full: refused, nothing counted as dropped.
        let c = Fake::new(0);
        let d = Fake::new(0);
        let fan = ExporterFanout::new(vec![c.clone(), d.clone()]);
        assert!(matches!(fan.consume(payload()), Err(Refusal::Retryable(_))));
        assert_eq!(*c.dropped.lock() + *d.dropped.lock(), 0);
    }

    struct Count(Mutex<u64>, bool);
    impl Consumer for Count {
        fn consume(&self, p: Payload) -> Result<(), Refusal> {
            if self.1 {
                return Err(Refusal::Retryable("no".into()));
            }
            *self.0.lock() += p.items();
            Ok(())
        }
    }

    #[test]
    fn receiver_fanout_reaches_every_pipeline() {
        let a = Arc::new(Count(Mutex::new(0), false));
        let b = Arc::new(Count(Mutex::new(0), false));
        let fan = ReceiverFanout::new(vec![a.clone(), b.clone()]);
        fan.consume(payload()).unwrap();
        assert_eq!((*a.0.lock(), *b.0.lock()), (3, 3));
        let bad = Arc::new(Count(Mutex::new(0), true));
        let fan = ReceiverFanout::new(vec![a.clone(), bad]);
        assert!(fan.consume(payload()).is_err());
    }
}
