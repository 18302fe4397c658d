//! The collector's own logs over OTLP: `service::telemetry::logs::processors[]` (`batch` or
//! `simple`, each with an `otlp` exporter, the `otelconf` keys the Go collector v0.138
//! reads). The library installs no logger; whoever formats the log lines (the `collector`
//! binary's Go-style logger) hands each record to [`crate::own_log`], which queues it for
//! every running collector that ships its logs. A shipper sends `ExportLogsServiceRequest`s
//! every `schedule_delay` (or as soon as a batch is full), and what is left when the
//! collector stops. A full queue drops new records (counted in
//! `otelcol_own_logs_dropped`); a failed export is not retried: these are the collector's
//! own diagnostics, and the same lines went to stderr.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;

use super::push;
use super::{Counter, Registry};
use crate::config::service::LogProcessorSpec;
use crate::otlp::wire::{WireType, put_key, put_len_field, put_nested, put_varint};
use crate::pipeline::BoxFuture;
use crate::pipeline::build::Extension;
use crate::{Error, ErrorKind};

/// One log record as the logger saw it.
struct Record {
    time: u64,
    severity: u64,
    severity_text: &'static str,
    message: String,
    attributes: Vec<(String, String)>,
}

/// The running shippers; `ACTIVE` is their count, so that logging costs one atomic load
/// when no collector ships its logs.
static SHIPPERS: Mutex<Vec<Weak<Shipper>>> = Mutex::new(Vec::new());
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// Queues a log record for every running collector that ships its own logs.
pub(crate) fn record(level: tracing::Level, message: &str, attributes: &[(&str, String)]) {
    if ACTIVE.load(Ordering::Relaxed) == 0 {
        return;
    }
    let (severity, severity_text) = match level {
        tracing::Level::ERROR => (17, "error"),
        tracing::Level::WARN => (13, "warn"),
        tracing::Level::INFO => (9, "info"),
        tracing::Level::DEBUG => (5, "debug"),
        tracing::Level::TRACE => (1, "trace"),
    };
    let shippers: Vec<Arc<Shipper>> = SHIPPERS.lock().iter().filter_map(Weak::upgrade).collect();
    for s in shippers {
        s.push(Record {
            time: push::now_nanos(),
            severity,
            severity_text,
            message: message.to_owned(),
            attributes: attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        });
    }
}

/// One processor's queue.
struct Shipper {
    queue: Mutex<VecDeque<Record>>,
    max: usize,
    batch: usize,
    full: tokio::sync::Notify,
    dropped: Counter,
}

impl Shipper {
    fn push(&self, r: Record) {
        let mut q = self.queue.lock();
        if q.len() >= self.max {
            self.dropped.add(1);
            return;
        }
        q.push_back(r);
        if q.len() >= self.batch {
            self.full.notify_one();
        }
    }

    fn take(&self) -> Vec<Record> {
        let mut q = self.queue.lock();
        let n = q.len().min(self.batch);
        q.drain(..n).collect()
    }
}

/// A running log processor; stopping it ships what is queued.
pub(crate) struct LogProcessor {
    shipper: Arc<Shipper>,
    stop: tokio::sync::watch::Sender<bool>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// Starts shipping the collector's own logs as `spec` says, under `resource`.
pub(crate) fn start(
    spec: &LogProcessorSpec,
    simple: bool,
    resource: Vec<(String, String)>,
    registry: &Registry,
) -> Result<LogProcessor, Error> {
    let otlp = spec
        .exporter
        .otlp
        .as_ref()
        .ok_or_else(|| Error::new(ErrorKind::Config, "only the otlp exporter is supported"))?;
    let target = Arc::new(push::target(otlp, push::LOGS)?);
    let shipper = Arc::new(Shipper {
        queue: Mutex::new(VecDeque::new()),
        max: spec.max_queue_size.unwrap_or(2048).max(1),
        batch: if simple {
            1
        } else {
            spec.max_export_batch_size.unwrap_or(512).max(1)
        },
        full: tokio::sync::Notify::new(),
        dropped: registry.counter(
            "otelcol_own_logs_dropped",
            "The collector's own log records dropped because the shipping queue was full.",
            &[],
        ),
    });
    let delay = Duration::from_millis(if simple {
        10
    } else {
        spec.schedule_delay.unwrap_or(1000).max(1)
    });
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let s = shipper.clone();
    let task = tokio::spawn(async move {
        loop {
            let last = tokio::select! {
                _ = tokio::time::sleep(delay) => false,
                _ = s.full.notified() => false,
                _ = stopped.changed() => true,
            };
            loop {
                let batch = s.take();
                if batch.is_empty() {
                    break;
                }
                // Not logged on failure: that would feed this queue with its own errors.
                let _ = push::push(&target, request(&resource, &batch)).await;
            }
            if last {
                break;
            }
        }
    });
    {
        let mut all = SHIPPERS.lock();
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&shipper));
    }
    ACTIVE.fetch_add(1, Ordering::Relaxed);
    Ok(LogProcessor {
        shipper,
        stop,
        task: Mutex::new(Some(task)),
    })
}

/// An `ExportLogsServiceRequest` with `records`.
fn request(resource: &[(String, String)], records: &[Record]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 * records.len() + 256);
    super::put_own_request(&mut out, resource, |sl| {
        for rec in records {
            put_nested(sl, 2, |l| {
                put_key(l, 1, WireType::I64);
                l.extend_from_slice(&rec.time.to_le_bytes());
                put_key(l, 2, WireType::Varint);
                put_varint(l, rec.severity);
                put_len_field(l, 3, rec.severity_text.as_bytes());
                put_nested(l, 5, |any| put_len_field(any, 1, rec.message.as_bytes()));
                for (k, v) in &rec.attributes {
                    super::put_string_kv(l, 6, k, v);
                }
                put_key(l, 11, WireType::I64);
                l.extend_from_slice(&rec.time.to_le_bytes());
            });
        }
    });
    out
}

impl Extension for LogProcessor {
    fn shutdown(&self, grace: Duration) -> BoxFuture<'_, ()> {
        {
            let mut all = SHIPPERS.lock();
            let me = Arc::as_ptr(&self.shipper);
            let before = all.len();
            all.retain(|w| w.as_ptr() != me);
            if all.len() < before {
                ACTIVE.fetch_sub(1, Ordering::Relaxed);
            }
        }
        let _ = self.stop.send(true);
        let task = self.task.lock().take();
        Box::pin(async move {
            if let Some(t) = task {
                let _ = tokio::time::timeout(grace.max(Duration::from_millis(500)), t).await;
            }
        })
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
