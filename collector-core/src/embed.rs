//! [`EmbeddedCollector`]: a collector on threads of its own, driven by blocking calls, for
//! callers without a tokio runtime (the C ABI, the Python package, plain threads).

use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;

use crate::collector::{Collector, CollectorHandle, ShutdownReport};
use crate::config::Config;
use crate::{Error, ErrorKind, Signal};

/// How long dropping a running [`EmbeddedCollector`] waits for its data to be delivered.
pub(crate) const DROP_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// A collector that runs on its own tokio runtime. Every method blocks the calling thread
/// (never a runtime thread of the collector's), except [`ingest`](Self::ingest), which
/// never waits.
///
/// It opens no listener unless its configuration asks for one (an OTLP receiver, the
/// health check, an explicit metrics address); data comes in through `ingest` and an
/// `embedded` receiver.
///
/// ```no_run
/// use collector_core::{Config, EmbeddedCollector, Signal};
/// let yaml = "receivers: {embedded: {}}\nexporters: {debug: {}}\n\
///             service: {pipelines: {traces: {receivers: [embedded], exporters: [debug]}}}";
/// let c = EmbeddedCollector::start(Config::from_yaml(yaml)?)?;
/// # let request: Vec<u8> = Vec::new();
/// c.ingest(Signal::Traces, request.into())?;
/// c.flush(std::time::Duration::from_secs(5))?;
/// let report = c.shutdown(std::time::Duration::from_secs(5))?;
/// println!("delivered {} items", report.delivered_items);
/// # Ok::<(), collector_core::Error>(())
/// ```
pub struct EmbeddedCollector {
    handle: CollectorHandle,
    /// Taken by shutdown: dropped off a runtime thread once everything has stopped.
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
}

impl std::fmt::Debug for EmbeddedCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedCollector")
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}

impl EmbeddedCollector {
    /// Builds a runtime (as many workers as [`worker_threads`](crate::worker_threads) says,
    /// named `otelcol-worker`) and starts the collector on it; returns once its ports, if
    /// any, are bound.
    ///
    /// # Errors
    ///
    /// What [`Collector::start`] returns, and [`ErrorKind::Io`] when threads cannot be
    /// created.
    pub fn start(config: Config) -> Result<EmbeddedCollector, Error> {
        EmbeddedCollector::start_with(Collector::new(config).embedded())
    }

    /// Like [`start`](Self::start), for a collector already set up (budget, listeners).
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub fn start_with(collector: Collector) -> Result<EmbeddedCollector, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(crate::worker_threads())
            .thread_name("otelcol-worker")
            .enable_all()
            .build()
            .map_err(|e| {
                Error::with_source(ErrorKind::Io, format!("cannot start threads: {e}"), e)
            })?;
        let handle = runtime.block_on(collector.start())?;
        Ok(EmbeddedCollector {
            handle,
            runtime: Mutex::new(Some(runtime)),
        })
    }

    /// The async handle (metrics, readiness, the same `ingest`).
    pub fn handle(&self) -> &CollectorHandle {
        &self.handle
    }

    /// See [`CollectorHandle::ingest`]: validated, never waits.
    ///
    /// # Errors
    ///
    /// As [`CollectorHandle::ingest`].
    pub fn ingest(&self, signal: Signal, data: Bytes) -> Result<(), Error> {
        self.handle.ingest(signal, data)
    }

    /// See [`CollectorHandle::ingest_packed_spans`]: a batch in the packed spans format.
    ///
    /// # Errors
    ///
    /// As [`CollectorHandle::ingest_packed_spans`].
    pub fn ingest_packed_spans(&self, packed: &[u8]) -> Result<(), Error> {
        self.handle.ingest_packed_spans(packed)
    }

    /// See [`CollectorHandle::items_on_disk`]: what persistent queues still hold.
    pub fn items_on_disk(&self) -> u64 {
        self.handle.items_on_disk()
    }

    /// Blocks until everything ingested before the call is delivered or counted as dropped.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Timeout`] after `timeout`, [`ErrorKind::NotRunning`] after shutdown.
    pub fn flush(&self, timeout: Duration) -> Result<(), Error> {
        let handle = self.handle.clone();
        self.block_on(async move { handle.flush(timeout).await })?
    }

    /// Stops the collector, delivering what it holds within `timeout`, and reports what was
    /// delivered and dropped over its life. Later calls return the same report.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotRunning`] only if the runtime is gone without a report (a bug).
    pub fn shutdown(&self, timeout: Duration) -> Result<ShutdownReport, Error> {
        let runtime = self.runtime.lock().take();
        let Some(runtime) = runtime else {
            return self
                .handle
                .report()
                .ok_or_else(|| Error::new(ErrorKind::NotRunning, "the collector is not running"));
        };
        let handle = self.handle.clone();
        let report = runtime.block_on(async move { handle.shutdown(timeout).await });
        // Tasks left (a held payload's wait, idle connections) end with the runtime.
        runtime.shutdown_timeout(Duration::from_millis(500));
        Ok(report)
    }

    fn block_on<T: Send + 'static>(
        &self,
        f: impl std::future::Future<Output = T> + Send + 'static,
    ) -> Result<T, Error> {
        // The lock is held only to spawn: the wait does not block shutdown or other calls.
        let (task, rt_handle) = {
            let guard = self.runtime.lock();
            let Some(rt) = guard.as_ref() else {
                return Err(Error::new(
                    ErrorKind::NotRunning,
                    "the collector has been shut down",
                ));
            };
            (rt.spawn(f), rt.handle().clone())
        };
        rt_handle
            .block_on(task)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("task failed: {e}")))
    }
}

impl Drop for EmbeddedCollector {
    fn drop(&mut self) {
        if self.runtime.lock().is_some() {
            let _ = self.shutdown(DROP_SHUTDOWN_TIMEOUT);
        }
    }
}
