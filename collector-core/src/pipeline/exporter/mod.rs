//! The exporter helper (Go's `exporterhelper`): what every exporter wraps around the one
//! thing it does, sending a payload ([`Exporter`]).
//!
//! Every exporter instance (one per component id and signal, as in the Go collector) sits
//! behind its own bounded [`queue::Queue`] with `num_consumers` sender tasks, retrying
//! retryable failures with [`retry::Backoff`]. The pipeline only ever offers payloads to the
//! queue ([`ExporterQueue`]), so a slow backend never blocks a receiver or another exporter.

pub(crate) mod client;
pub(crate) mod queue;
pub(crate) mod retry;

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::Signal;
use crate::otlp::Payload;
use crate::pipeline::{Consumer, DropReason, ExporterQueue, Pending, Refusal, Tally};
use crate::telemetry::{Counter, Registry};
use queue::{Queue, QueueConfig};
use retry::{Backoff, RetryConfig};

pub(crate) use crate::pipeline::BoxFuture;

/// The exporterhelper parts every exporter has: timeout, queue, retry.
pub(crate) fn validate_helper(
    p: &mut crate::config::validate::Problems,
    timeout: crate::config::Duration,
    queue: &QueueConfig,
    retry: &RetryConfig,
) {
    if timeout.is_negative() {
        p.key("timeout", "'timeout' must be non-negative");
    }
    let mut q = crate::config::validate::Problems::default();
    queue.validate(&mut q);
    p.nested("sending_queue", q);
    let mut r = crate::config::validate::Problems::default();
    retry.validate(&mut r);
    p.nested("retry_on_failure", r);
}

/// Why an export attempt failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ExportError {
    /// Worth another attempt (backend down, 503, UNAVAILABLE...); `throttle` is the wait the
    /// server asked for (RetryInfo, Retry-After).
    Retryable {
        message: String,
        throttle: Option<Duration>,
    },
    /// Never worth retrying (400, INVALID_ARGUMENT...).
    Permanent(String),
}

/// Sends one payload somewhere.
pub(crate) trait Exporter: Send + Sync + 'static {
    /// One attempt. The exporter applies its own per-attempt timeout.
    fn export<'a>(&'a self, payload: &'a Payload) -> BoxFuture<'a, Result<(), ExportError>>;

    /// Called once after the last export, when the runtime shuts down: where an exporter
    /// that holds resources (the file exporter's buffers) flushes and closes them.
    fn shutdown(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

struct Metrics {
    sent: Counter,
    send_failed: Counter,
    enqueue_failed: Counter,
    dropped_full: Counter,
}

/// How an exporter takes payloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Into its queue; the sender is answered at once (the default).
    Queued,
    /// Into its queue; the sender waits for the export's outcome (`wait_for_result`).
    QueuedWaiting,
    /// No queue (`sending_queue: {enabled: false}`): exported while the sender waits, as
    /// Go's exporterhelper does then.
    Direct,
}

struct Shared {
    id: String,
    signal: Signal,
    queue: Queue,
    exporter: Arc<dyn Exporter>,
    retry: RetryConfig,
    metrics: Metrics,
    tally: Arc<Tally>,
    stopping: watch::Receiver<bool>,
    mode: Mode,
    /// `block_on_overflow`: a full queue makes the sender wait for room.
    block: bool,
    /// Items taken off the queue and not yet delivered or dropped: what an abort at the
    /// shutdown deadline cuts off.
    in_flight: std::sync::atomic::AtomicU64,
    /// With `storage`: this exporter's share of the disk.
    disk: Option<DiskShare>,
}

/// An exporter's share of the persistent queue's disk (`queue_size` in `sizer` units,
/// over every pipeline's log that feeds it).
pub(crate) struct DiskShare {
    /// The `sending_queue::storage` extension id.
    pub(crate) storage: String,
    capacity: u64,
    sizer: queue::Sizer,
    used: std::sync::atomic::AtomicU64,
}

impl DiskShare {
    /// What a record of `items` items and `bytes` bytes counts.
    pub(crate) fn units(&self, items: u64, bytes: u64) -> u64 {
        self.sizer.units(items, bytes)
    }

    /// Takes `units` of the share; false when they do not fit (an empty share takes
    /// anything, so one oversized record is not refused forever).
    pub(crate) fn try_charge(&self, units: u64) -> bool {
        use std::sync::atomic::Ordering;
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                (used == 0 || used + units <= self.capacity).then_some(used + units)
            })
            .is_ok()
    }

    /// Takes `units` whether they fit or not (what recovery finds on disk).
    pub(crate) fn force_charge(&self, units: u64) {
        self.used
            .fetch_add(units, std::sync::atomic::Ordering::AcqRel);
    }

    /// Gives back `units`.
    pub(crate) fn uncharge(&self, units: u64) {
        use std::sync::atomic::Ordering;
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(units))
            });
    }

    /// Units in use.
    pub(crate) fn used(&self) -> u64 {
        self.used.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// A sender's payload while it is being exported. Dropped while `armed` (the task was
/// aborted at the shutdown deadline), it is kept: its log records stay for the next start,
/// and it leaves the in-flight count that the shutdown counts as dropped.
struct KeepOnAbort {
    payload: Payload,
    shared: Arc<Shared>,
    armed: bool,
}

impl Drop for KeepOnAbort {
    fn drop(&mut self) {
        if self.armed && self.payload.keep() {
            self.shared
                .in_flight
                .fetch_sub(self.payload.items(), std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// One exporter instance with its queue and sender tasks.
pub(crate) struct ExporterRuntime {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    consumers: usize,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl ExporterRuntime {
    pub(crate) fn new(
        id: &str,
        signal: Signal,
        exporter: Arc<dyn Exporter>,
        queue: &QueueConfig,
        retry: &RetryConfig,
        registry: &Registry,
        tally: Arc<Tally>,
    ) -> Arc<ExporterRuntime> {
        let labels = [("exporter", id), ("data_type", signal.as_str())];
        let item = signal.item_name();
        let metric = |what: &str, help: &str| {
            registry.counter(&format!("otelcol_exporter_{what}_{item}"), help, &labels)
        };
        let metrics = Metrics {
            sent: metric("sent", "Number of items successfully sent to destination."),
            send_failed: metric(
                "send_failed",
                "Number of items in failed attempts to send to destination.",
            ),
            enqueue_failed: metric(
                "enqueue_failed",
                "Number of items failed to be added to the sending queue.",
            ),
            dropped_full: metric(
                "dropped",
                "Items dropped for this exporter because its queue was full while another exporter of the pipeline took them.",
            ),
        };
        let mode = match (queue.enabled, queue.wait_for_result) {
            (false, _) => Mode::Direct,
            (true, true) => Mode::QueuedWaiting,
            (true, false) => Mode::Queued,
        };
        let (capacity, consumers) = if queue.enabled {
            (
                queue.queue_size.max(1) as u64,
                queue.num_consumers.max(1) as usize,
            )
        } else {
            (0, 0)
        };
        // With storage the backlog is on disk: in memory only what keeps the senders busy,
        // and the log's reader waits for room (docs/guarantees.md).
        let disk = queue
            .storage
            .as_ref()
            .filter(|_| queue.enabled)
            .map(|storage| DiskShare {
                storage: storage.clone(),
                capacity,
                sizer: queue.sizer,
                used: std::sync::atomic::AtomicU64::new(0),
            });
        let (memory_capacity, memory_sizer) = match &disk {
            Some(_) => (consumers as u64, queue::Sizer::Requests),
            None => (capacity, queue.sizer),
        };
        let (stop, stopping) = watch::channel(false);
        let shared = Arc::new(Shared {
            id: id.to_owned(),
            signal,
            queue: Queue::new(memory_capacity, memory_sizer),
            exporter,
            retry: retry.clone(),
            metrics,
            tally,
            stopping,
            mode,
            block: queue.enabled && (queue.block_on_overflow || disk.is_some()),
            in_flight: std::sync::atomic::AtomicU64::new(0),
            disk,
        });
        let s = shared.clone();
        registry.gauge_fn(
            "otelcol_exporter_queue_size",
            "Current size of the retry queue (in batches)",
            &labels,
            move || match &s.disk {
                // As Go's persistent queue: what is stored, in flight included.
                Some(d) => d.used() as f64,
                None => s.queue.size() as f64,
            },
        );
        registry
            .gauge(
                "otelcol_exporter_queue_capacity",
                "Fixed capacity of the retry queue (in batches)",
                &labels,
            )
            .set(capacity as i64);
        Arc::new(ExporterRuntime {
            shared,
            stop,
            consumers,
            tasks: Mutex::new(Vec::new()),
        })
    }

    /// Starts the sender tasks.
    pub(crate) fn start(&self) {
        let mut tasks = self.tasks.lock();
        for _ in 0..self.consumers {
            let s = self.shared.clone();
            tasks.push(tokio::spawn(async move {
                while let Some((position, q)) = s.queue.pop().await {
                    let items = q.payload.items();
                    s.in_flight
                        .fetch_add(items, std::sync::atomic::Ordering::Relaxed);
                    let mut guard = KeepOnAbort {
                        payload: q.payload,
                        shared: s.clone(),
                        armed: true,
                    };
                    // A panic in the exporter drops this payload, counted, and the sender
                    // goes on with the next one.
                    let sent = s
                        .tally
                        .panics
                        .catch_future(s.id.clone(), s.attempts(&guard.payload))
                        .await;
                    let outcome = match sent {
                        Some(r) => r,
                        None => {
                            s.metrics.send_failed.add(items);
                            Err((
                                Refusal::Permanent(
                                    "the exporter failed with an internal error".to_owned(),
                                ),
                                DropReason::Panic,
                            ))
                        }
                    };
                    // Released before anyone hears it is settled: a flush that returns
                    // finds the budget free of it. Dropped at shutdown, it stays on disk.
                    guard.armed = false;
                    let kept =
                        matches!(outcome, Err((_, DropReason::Shutdown))) && guard.payload.keep();
                    drop(guard);
                    // Kept on disk is not dropped: nothing to count.
                    s.settle(q.done, outcome, if kept { 0 } else { items });
                    s.in_flight
                        .fetch_sub(items, std::sync::atomic::Ordering::Relaxed);
                    s.queue.done(position);
                }
            }));
        }
    }

    /// Stops retrying, lets the senders work through the queue until `deadline` (one
    /// attempt each from now on), then drops what is left, counted; then calls the
    /// exporter's own shutdown (a file exporter flushes), bounded by `hard_deadline`.
    pub(crate) async fn shutdown(&self, deadline: Instant, hard_deadline: Instant) {
        let _ = self.stop.send(true);
        self.shared.queue.close();
        let mut tasks: Vec<_> = std::mem::take(&mut *self.tasks.lock());
        let all = super::join_in_order(&mut tasks);
        if tokio::time::timeout_at(deadline.into(), all).await.is_err() {
            for t in &tasks {
                t.abort();
            }
            for t in tasks {
                let _ = t.await;
            }
        }
        let cut = self
            .shared
            .in_flight
            .swap(0, std::sync::atomic::Ordering::Relaxed);
        self.shared
            .tally
            .drop_items(&self.shared.id, DropReason::Shutdown, cut);
        let mut left = 0;
        for q in self.shared.queue.drain() {
            if q.payload.keep() {
                // Stays on disk for the next start: not dropped.
                continue;
            }
            left += q.payload.items();
            if let Some(done) = q.done {
                let _ = done.send(Err(Refusal::Retryable(
                    "the collector is shutting down".to_owned(),
                )));
            }
        }
        if left > 0 {
            tracing::error!(
                exporter = %self.shared.id,
                data_type = self.shared.signal.as_str(),
                dropped_items = left,
                "Shutdown deadline reached: dropping data still queued."
            );
            self.shared
                .tally
                .drop_items(&self.shared.id, DropReason::Shutdown, left);
        }
        if tokio::time::timeout_at(hard_deadline.into(), self.shared.exporter.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(exporter = %self.shared.id, "Exporter shutdown timed out.");
        }
    }
}

impl ExporterRuntime {
    /// The component id.
    pub(crate) fn id(&self) -> &str {
        &self.shared.id
    }

    /// Counts Go's `otelcol_exporter_enqueue_failed_*` for a payload this exporter's
    /// persistent queue could not take (its share of the disk full, or a write error).
    pub(crate) fn enqueue_failed(&self, items: u64) {
        self.shared.metrics.enqueue_failed.add(items);
    }

    /// The share of the persistent queue's disk, with `sending_queue::storage`.
    pub(crate) fn disk(&self) -> Option<&DiskShare> {
        self.shared.disk.as_ref()
    }

    /// Waits until everything queued before the call has been delivered or dropped; false
    /// when `deadline` passed first.
    pub(crate) async fn flush(&self, deadline: Instant) -> bool {
        let mark = self.shared.queue.mark();
        self.shared.queue.settled(mark, deadline.into()).await
    }
}

impl ExporterQueue for ExporterRuntime {
    fn offer(
        &self,
        payload: Payload,
        resume: &dyn Fn() -> Arc<dyn Consumer>,
    ) -> Result<(), Refusal> {
        let s = &self.shared;
        let items = payload.items();
        if s.mode == Mode::Direct {
            let s = s.clone();
            return Err(Refusal::Pending(Pending::Outcome(Box::pin(async move {
                let sent = s
                    .tally
                    .panics
                    .catch_future(s.id.clone(), s.attempts(&payload))
                    .await;
                match sent {
                    Some(Ok(())) => Ok(()),
                    Some(Err((refusal, _))) => Err(refusal),
                    None => {
                        s.metrics.send_failed.add(items);
                        Err(Refusal::Permanent(
                            "the exporter failed with an internal error".to_owned(),
                        ))
                    }
                }
            }))));
        }
        let (done, outcome) = if s.mode == Mode::QueuedWaiting {
            let (tx, rx) = tokio::sync::oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        match s.queue.try_push(queue::Queued { payload, done }) {
            Ok(()) => match outcome {
                None => Ok(()),
                Some(rx) => Err(Refusal::Pending(Pending::Outcome(Box::pin(async move {
                    rx.await.unwrap_or_else(|_| {
                        Err(Refusal::Retryable("the exporter stopped".to_owned()))
                    })
                })))),
            },
            Err(back) if s.block => Err(Refusal::Pending(Pending::Room {
                room: s.queue.room.clone(),
                payload: Box::new(back.payload),
                resume: resume(),
            })),
            Err(_) => {
                s.metrics.enqueue_failed.add(items);
                Err(Refusal::Retryable("sending queue is full".to_owned()))
            }
        }
    }

    fn blocks(&self) -> bool {
        self.shared.block
    }

    fn dropped(&self, items: u64, reason: DropReason) {
        let s = &self.shared;
        if reason == DropReason::QueueFull {
            s.metrics.dropped_full.add(items);
        }
        s.tally.drop_items(&s.id, reason, items);
        tracing::warn!(
            exporter = %s.id,
            data_type = s.signal.as_str(),
            dropped_items = items,
            reason = reason.as_str(),
            "Dropping data for this exporter (other exporters of the pipeline took it)."
        );
    }
}

impl Shared {
    fn stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// What happens once a queued payload's attempts are over: whoever waits hears the
    /// outcome (and counts a failure itself, knowing whether another exporter took the
    /// payload); without a waiter, a failure is dropped data, counted here.
    fn settle(
        &self,
        done: Option<tokio::sync::oneshot::Sender<Result<(), Refusal>>>,
        outcome: Result<(), (Refusal, DropReason)>,
        items: u64,
    ) {
        let (refusal, reason) = match outcome {
            Ok(()) => {
                if let Some(done) = done {
                    let _ = done.send(Ok(()));
                }
                return;
            }
            Err(e) => e,
        };
        // If the waiter gave up, the failure is ours to count.
        if let Some(done) = done
            && done.send(Err(refusal)).is_ok()
        {
            return;
        }
        self.tally.drop_items(&self.id, reason, items);
    }

    /// Sends `p` with retries: `Ok` once delivered, else the refusal to report and the
    /// reason to count it under. Counts Go's `sent` and `send_failed` series.
    async fn attempts(&self, p: &Payload) -> Result<(), (Refusal, DropReason)> {
        let items = p.items();
        let mut backoff = Backoff::new(&self.retry);
        let mut stopping = self.stopping.clone();
        loop {
            let (error, reason) = match self.exporter.export(p).await {
                Ok(()) => {
                    self.metrics.sent.add(items);
                    self.tally.delivered.add(items);
                    return Ok(());
                }
                Err(ExportError::Permanent(m)) => (m, DropReason::Permanent),
                Err(ExportError::Retryable { message, throttle }) => {
                    let wait = if self.retry.enabled && !self.stopping() {
                        backoff.next(throttle)
                    } else {
                        None
                    };
                    match wait {
                        Some(wait) => {
                            tracing::info!(
                                exporter = %self.id,
                                error = %message,
                                interval = ?wait,
                                "Exporting failed. Will retry the request after interval."
                            );
                            tokio::select! {
                                _ = tokio::time::sleep(wait) => {}
                                // On shutdown the wait ends and the payload gets its last attempt.
                                _ = stopping.wait_for(|s| *s) => {}
                            }
                            continue;
                        }
                        None if self.stopping() => (message, DropReason::Shutdown),
                        None if self.retry.enabled => (
                            format!("no more retries left: {message}"),
                            DropReason::RetriesExhausted,
                        ),
                        None => (message, DropReason::RetriesExhausted),
                    }
                }
            };
            self.metrics.send_failed.add(items);
            tracing::error!(
                exporter = %self.id,
                error = %error,
                dropped_items = items,
                "Exporting failed. Dropping data."
            );
            let refusal = if reason == DropReason::Permanent {
                Refusal::Rejected(error)
            } else {
                Refusal::Retryable(error)
            };
            return Err((refusal, reason));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Settled;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Fails with `errors` in turn, then succeeds.
    struct Scripted {
        errors: Mutex<Vec<ExportError>>,
        calls: AtomicUsize,
    }

    impl Exporter for Scripted {
        fn export<'a>(&'a self, _: &'a Payload) -> BoxFuture<'a, Result<(), ExportError>> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            let next = self.errors.lock().pop();
            Box::pin(async move { next.map_or(Ok(()), Err) })
        }
    }

    /// Offers as a pipeline would; a blocking exporter would resume at a no-op.
    fn offer(rt: &ExporterRuntime, p: Payload) -> Result<(), Refusal> {
        struct Nowhere;
        impl Consumer for Nowhere {
            fn consume(&self, _: Payload) -> Result<(), Refusal> {
                Ok(())
            }
        }
        rt.offer(p, &|| Arc::new(Nowhere) as Arc<dyn Consumer>)
    }

    fn payload() -> Payload {
        let mut out = Vec::new();
        crate::otlp::wire::put_nested(&mut out, 1, |rs| {
            crate::otlp::wire::put_nested(rs, 2, |ss| {
                crate::otlp::wire::put_nested(ss, 2, |_| {});
                crate::otlp::wire::put_nested(ss, 2, |_| {});
            })
        });
        Payload::decode(Signal::Traces, bytes::Bytes::from(out)).unwrap()
    }

    fn fast_retry() -> RetryConfig {
        RetryConfig {
            initial_interval: crate::config::Duration::from_millis(1),
            max_interval: crate::config::Duration::from_millis(2),
            ..RetryConfig::default()
        }
    }

    fn runtime(
        errors: Vec<ExportError>,
        registry: &Registry,
    ) -> (Arc<ExporterRuntime>, Arc<Scripted>, Arc<Tally>) {
        runtime_with(errors, registry, &QueueConfig::default())
    }

    fn runtime_with(
        errors: Vec<ExportError>,
        registry: &Registry,
        queue: &QueueConfig,
    ) -> (Arc<ExporterRuntime>, Arc<Scripted>, Arc<Tally>) {
        let exp = Arc::new(Scripted {
            errors: Mutex::new(errors),
            calls: AtomicUsize::new(0),
        });
        let tally = Arc::new(Tally::default());
        let rt = ExporterRuntime::new(
            "otlp/test",
            Signal::Traces,
            exp.clone(),
            queue,
            &fast_retry(),
            registry,
            tally.clone(),
        );
        (rt, exp, tally)
    }

    fn later() -> tokio::time::Instant {
        tokio::time::Instant::now() + Duration::from_secs(5)
    }

    /// The outcome a sender waiting on `offer` hears.
    async fn outcome(rt: &ExporterRuntime) -> Settled {
        match offer(rt, payload()) {
            Err(Refusal::Pending(p)) => p.settle(later(), None).await,
            Ok(()) => panic!("taken without a wait"),
            Err(r) => Settled::Refused(r),
        }
    }

    #[tokio::test]
    async fn without_a_queue_the_sender_hears_the_exporters_answer() {
        let registry = Registry::default();
        let direct = QueueConfig {
            enabled: false,
            ..QueueConfig::default()
        };
        let retry = ExportError::Retryable {
            message: "unavailable".into(),
            throttle: None,
        };
        // Popped from the end: a permanent refusal, then two retryable failures that a
        // retry gets past.
        let (rt, exp, tally) = runtime_with(
            vec![
                retry.clone(),
                retry.clone(),
                ExportError::Permanent("bad request".into()),
            ],
            &registry,
            &direct,
        );
        rt.start();
        assert!(matches!(
            outcome(&rt).await,
            Settled::Refused(Refusal::Rejected(m)) if m.contains("bad request")
        ));
        // Retries (fast here) run while the sender waits.
        assert!(matches!(outcome(&rt).await, Settled::Taken));
        assert_eq!(exp.calls.load(Ordering::Relaxed), 4);
        // Nothing is counted as dropped: the sender was told.
        assert_eq!((tally.delivered.get(), tally.dropped.get()), (2, 0));
        rt.shutdown(Instant::now(), Instant::now()).await;
    }

    #[tokio::test]
    async fn wait_for_result_makes_the_sender_wait_for_the_queued_export() {
        let registry = Registry::default();
        let waiting = QueueConfig {
            wait_for_result: true,
            ..QueueConfig::default()
        };
        let (rt, _, tally) = runtime_with(
            vec![ExportError::Permanent("schema mismatch".into())],
            &registry,
            &waiting,
        );
        rt.start();
        assert!(matches!(
            outcome(&rt).await,
            Settled::Refused(Refusal::Rejected(_))
        ));
        assert!(matches!(outcome(&rt).await, Settled::Taken));
        assert_eq!((tally.delivered.get(), tally.dropped.get()), (2, 0));
        rt.shutdown(Instant::now(), Instant::now()).await;
    }

    #[tokio::test]
    async fn block_on_overflow_waits_where_a_partly_full_queue_would_drop() {
        let registry = Registry::default();
        // Room for 5 items; 3 queued; 3 more do not fit though the queue is not "full".
        let blocking = QueueConfig {
            sizer: queue::Sizer::Items,
            queue_size: 5,
            block_on_overflow: true,
            ..QueueConfig::default()
        };
        let (rt, _, tally) = runtime_with(Vec::new(), &registry, &blocking);
        let three = || {
            let mut out = Vec::new();
            crate::otlp::wire::put_nested(&mut out, 1, |rs| {
                crate::otlp::wire::put_nested(rs, 2, |ss| {
                    for _ in 0..3 {
                        crate::otlp::wire::put_nested(ss, 2, |_| {});
                    }
                })
            });
            Payload::decode(Signal::Traces, bytes::Bytes::from(out)).unwrap()
        };
        offer(&rt, three()).unwrap();
        let Err(Refusal::Pending(p @ Pending::Room { .. })) = offer(&rt, three()) else {
            panic!("expected a wait for room")
        };
        // Senders start, make room; the wait ends in the stage it resumes at.
        rt.start();
        assert!(matches!(p.settle(later(), None).await, Settled::Taken));
        rt.shutdown(
            Instant::now() + Duration::from_secs(5),
            Instant::now() + Duration::from_secs(5),
        )
        .await;
        assert_eq!(tally.dropped.get(), 0);
    }

    #[tokio::test]
    async fn retryable_then_success_delivers() {
        let registry = Registry::default();
        let retry = ExportError::Retryable {
            message: "unavailable".into(),
            throttle: None,
        };
        let (rt, exp, tally) = runtime(vec![retry.clone(), retry], &registry);
        rt.start();
        offer(&rt, payload()).unwrap();
        for _ in 0..500 {
            if tally.delivered.get() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        rt.shutdown(
            Instant::now() + Duration::from_secs(5),
            Instant::now() + Duration::from_secs(5),
        )
        .await;
        assert_eq!(exp.calls.load(Ordering::Relaxed), 3);
        assert_eq!((tally.delivered.get(), tally.dropped.get()), (2, 0));
        let text = registry.render();
        assert!(
            text.contains(
                "otelcol_exporter_sent_spans_total{exporter=\"otlp/test\",data_type=\"traces\"} 2"
            ),
            "{text}"
        );
    }

    #[tokio::test]
    async fn permanent_errors_are_dropped_after_one_attempt() {
        let registry = Registry::default();
        let (rt, exp, tally) = runtime(
            vec![ExportError::Permanent("bad request".into())],
            &registry,
        );
        rt.start();
        offer(&rt, payload()).unwrap();
        rt.shutdown(
            Instant::now() + Duration::from_secs(5),
            Instant::now() + Duration::from_secs(5),
        )
        .await;
        assert_eq!(exp.calls.load(Ordering::Relaxed), 1);
        assert_eq!((tally.delivered.get(), tally.dropped.get()), (0, 2));
        assert!(registry.render().contains("otelcol_exporter_send_failed_spans_total{exporter=\"otlp/test\",data_type=\"traces\"} 2"));
    }

    #[tokio::test]
    async fn shutdown_gives_queued_items_one_attempt() {
        let registry = Registry::default();
        let errs = (0..10)
            .map(|_| ExportError::Retryable {
                message: "down".into(),
                throttle: None,
            })
            .collect();
        let (rt, exp, tally) = runtime(errs, &registry);
        for _ in 0..3 {
            offer(&rt, payload()).unwrap();
        }
        // The senders are spawned on this single-threaded runtime and first run when
        // shutdown awaits, after it has set the stop flag: every payload gets exactly one
        // attempt, fails it, and is dropped. Retrying (there are ten scripted failures,
        // then successes) would show as more calls and delivered items.
        rt.start();
        rt.shutdown(
            Instant::now() + Duration::from_secs(5),
            Instant::now() + Duration::from_secs(5),
        )
        .await;
        assert_eq!(tally.dropped.get(), 6);
        assert_eq!(tally.delivered.get(), 0);
        assert_eq!(exp.calls.load(Ordering::Relaxed), 3);
    }
}
