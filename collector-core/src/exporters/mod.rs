//! Exporters: where payloads leave.
//!
//! Every exporter instance (one per component id and signal, as in the Go collector) sits
//! behind its own bounded [`queue::Queue`] with `num_consumers` sender tasks, retrying
//! retryable failures with [`retry::Backoff`]. The pipeline only ever offers payloads to the
//! queue ([`ExporterQueue`]), so a slow backend never blocks a receiver or another exporter.

pub mod debug;
pub(crate) mod debug_format;
pub mod file;
pub mod otlp;
pub mod queue;
pub mod retry;
pub mod s3;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::Signal;
use crate::otlp::Payload;
use crate::pipeline::{DropReason, ExporterQueue, Refusal, Tally};
use crate::telemetry::{Counter, Registry};
use queue::{Queue, QueueConfig};
use retry::{Backoff, RetryConfig};

/// A boxed future, for the object-safe exporter trait.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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

struct Shared {
    id: String,
    signal: Signal,
    queue: Queue,
    exporter: Arc<dyn Exporter>,
    retry: RetryConfig,
    metrics: Metrics,
    tally: Arc<Tally>,
    stopping: watch::Receiver<bool>,
    /// `block_on_overflow`: wait for room instead of dropping.
    block: bool,
    /// Items taken off the queue and not yet delivered or dropped: what an abort at the
    /// shutdown deadline cuts off.
    in_flight: std::sync::atomic::AtomicU64,
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
        // Without a queue (`enabled: false`) an exporter still needs somewhere to hold the
        // payload while it is sent: one slot per sender.
        let (capacity, consumers) = if queue.enabled {
            (
                queue.queue_size.max(1) as u64,
                queue.num_consumers.max(1) as usize,
            )
        } else {
            (1, 1)
        };
        let sizer = if queue.enabled {
            queue.sizer
        } else {
            queue::Sizer::Requests
        };
        let (stop, stopping) = watch::channel(false);
        let shared = Arc::new(Shared {
            id: id.to_owned(),
            signal,
            queue: Queue::new(capacity, sizer),
            exporter,
            retry: retry.clone(),
            metrics,
            tally,
            stopping,
            block: queue.enabled && queue.block_on_overflow,
            in_flight: std::sync::atomic::AtomicU64::new(0),
        });
        let s = shared.clone();
        registry.gauge_fn(
            "otelcol_exporter_queue_size",
            "Current size of the retry queue (in batches)",
            &labels,
            move || s.queue.size() as f64,
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
                while let Some((position, p)) = s.queue.pop().await {
                    let items = p.items();
                    s.in_flight
                        .fetch_add(items, std::sync::atomic::Ordering::Relaxed);
                    // A panic in the exporter drops this payload, counted, and the sender
                    // goes on with the next one.
                    let sent = s.tally.panics.catch_future(s.id.clone(), s.send(p)).await;
                    if sent.is_none() {
                        s.metrics.send_failed.add(items);
                        s.tally.drop_items(&s.id, DropReason::Panic, items);
                    }
                    s.in_flight
                        .fetch_sub(items, std::sync::atomic::Ordering::Relaxed);
                    s.queue.done(position);
                }
            }));
        }
    }

    /// Stops retrying, gives every queued payload one attempt until `deadline`, then counts
    /// what is left as dropped.
    pub(crate) async fn shutdown(&self, deadline: Instant) {
        let _ = self.stop.send(true);
        self.shared.queue.close();
        let mut tasks: Vec<_> = std::mem::take(&mut *self.tasks.lock());
        let all = async {
            for t in &mut tasks {
                let _ = t.await;
            }
        };
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
        // Given at least a second even past the deadline: flushing a local buffer is
        // short, and skipping it would lose data already counted as delivered.
        let grace = deadline.max(Instant::now() + Duration::from_secs(1));
        if tokio::time::timeout_at(grace.into(), self.shared.exporter.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(exporter = %self.shared.id, "Exporter shutdown timed out.");
        }
        let left: u64 = self.shared.queue.drain().iter().map(Payload::items).sum();
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
    }
}

impl ExporterRuntime {
    /// Waits until everything queued before the call has been delivered or dropped; false
    /// when `deadline` passed first.
    pub(crate) async fn flush(&self, deadline: Instant) -> bool {
        let mark = self.shared.queue.mark();
        self.shared.queue.settled(mark, deadline.into()).await
    }
}

impl ExporterQueue for ExporterRuntime {
    fn offer(&self, payload: Payload) -> Result<(), Refusal> {
        let items = payload.items();
        match self.shared.queue.try_push(payload) {
            Ok(()) => Ok(()),
            Err(_) => {
                self.shared.metrics.enqueue_failed.add(items);
                Err(Refusal::Retryable("sending queue is full".to_owned()))
            }
        }
    }

    fn blocked(&self) -> Option<Arc<tokio::sync::Notify>> {
        (self.shared.block && self.shared.queue.is_full()).then(|| self.shared.queue.room.clone())
    }

    fn dropped_full(&self, items: u64) {
        self.shared.metrics.dropped_full.add(items);
        self.shared
            .tally
            .drop_items(&self.shared.id, DropReason::QueueFull, items);
        tracing::warn!(
            exporter = %self.shared.id,
            data_type = self.shared.signal.as_str(),
            dropped_items = items,
            "Sending queue is full; dropping data for this exporter (other exporters of the pipeline took it)."
        );
    }
}

impl Shared {
    fn stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    async fn send(&self, p: Payload) {
        let items = p.items();
        let mut backoff = Backoff::new(&self.retry);
        let mut stopping = self.stopping.clone();
        loop {
            let (error, reason) = match self.exporter.export(&p).await {
                Ok(()) => {
                    self.metrics.sent.add(items);
                    self.tally.delivered.add(items);
                    return;
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
            self.tally.drop_items(&self.id, reason, items);
            tracing::error!(
                exporter = %self.id,
                error = %error,
                dropped_items = items,
                "Exporting failed. Dropping data."
            );
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let exp = Arc::new(Scripted {
            errors: Mutex::new(errors),
            calls: AtomicUsize::new(0),
        });
        let tally = Arc::new(Tally::default());
        let rt = ExporterRuntime::new(
            "otlp/test",
            Signal::Traces,
            exp.clone(),
            &QueueConfig::default(),
            &fast_retry(),
            registry,
            tally.clone(),
        );
        (rt, exp, tally)
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
        rt.offer(payload()).unwrap();
        for _ in 0..500 {
            if tally.delivered.get() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        rt.shutdown(Instant::now() + Duration::from_secs(5)).await;
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
        rt.offer(payload()).unwrap();
        rt.shutdown(Instant::now() + Duration::from_secs(5)).await;
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
            rt.offer(payload()).unwrap();
        }
        // The senders are spawned on this single-threaded runtime and first run when
        // shutdown awaits, after it has set the stop flag: every payload gets exactly one
        // attempt, fails it, and is dropped. Retrying (there are ten scripted failures,
        // then successes) would show as more calls and delivered items.
        rt.start();
        rt.shutdown(Instant::now() + Duration::from_secs(5)).await;
        assert_eq!(tally.dropped.get(), 6);
        assert_eq!(tally.delivered.get(), 0);
        assert_eq!(exp.calls.load(Ordering::Relaxed), 3);
    }
}
