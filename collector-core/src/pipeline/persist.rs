//! The persistent queue in a pipeline: exporters with `sending_queue::storage` are fed from
//! a write-ahead log, not from memory (docs/guarantees.md).
//!
//! A pipeline with such exporters is built as
//!
//! ```text
//! receivers -> processors before `batch` -> Persist -+-> batch.. -> exporters without storage
//!                                                    |
//!                                                log (disk)
//!                                                    +-> reader -> batch.. -> exporter A
//!                                                    +-> reader -> batch.. -> exporter B
//! ```
//!
//! [`Persist`] appends each payload to the log of each storage extension its exporters
//! name, with the set of those exporters that have room in their share of the disk, before
//! the receiver acknowledges it; replay after a restart re-enters after it, so nothing
//! before it runs twice. Each exporter with storage has a reader that takes the records
//! it needs from the log, in order, through its own copy of the processors after that
//! point; a record read carries a [`Hold`] that releases it for that exporter once every
//! part of it is gone: delivered, dropped for good (counted), or dropped on purpose by a
//! processor. Undelivered at shutdown, a part is kept ([`Hold::keep`]) and the record
//! stays on disk for the next start.
//!
//! A reader hands out at most [`READ_WINDOW`] bytes of records not yet released, so a
//! backlog stays on disk and not in memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::exporter::ExporterRuntime;
use super::{Consumer, DropReason, ExporterQueue, Pending, Refusal, Settled, Tally};
use crate::Signal;
use crate::memory::Budget;
use crate::otlp::Payload;
use crate::otlp::payload::{DecodeError, Hold};
use crate::storage::Wal;
use crate::telemetry::{Counter, Registry};

/// The processor type the log goes in front of (after the last processor without one).
pub(crate) const LOG_BEFORE: &str = "batch";

/// The most bytes of records one reader has handed out and not had released.
pub(crate) const READ_WINDOW: u64 = 8 << 20;

/// How often a reader with nothing to do writes pending releases.
const RELEASE_INTERVAL: Duration = Duration::from_secs(1);

/// How long a reader waits before offering a refused record again.
const RETRY: Duration = Duration::from_millis(50);

/// An exporter with storage, as one log feeds it.
pub(crate) struct Target {
    /// Its bit in the log's masks.
    pub(crate) bit: u64,
    pub(crate) exporter: Arc<ExporterRuntime>,
    /// The processors after the log, ending at this exporter alone.
    pub(crate) chain: Arc<dyn Consumer>,
    /// Bytes handed out and not yet released.
    window: AtomicU64,
    released: Notify,
    replayed: Counter,
    /// Records just written, as the payloads they were written from (in seq order, at
    /// most [`READ_WINDOW`] bytes): the reader takes these instead of reading the record
    /// back and decoding it again, when it has kept up.
    fresh: parking_lot::Mutex<std::collections::VecDeque<(u64, Payload)>>,
    fresh_bytes: AtomicU64,
}

impl Target {
    /// Offers the payload record `seq` was written from to the reader.
    fn remember(&self, seq: u64, payload: &Payload) {
        let len = payload.encoded_len() as u64;
        if self.fresh_bytes.load(Ordering::Acquire) + len > READ_WINDOW {
            // The reader is behind: it reads this one from disk when it gets there.
            return;
        }
        self.fresh_bytes.fetch_add(len, Ordering::AcqRel);
        self.fresh.lock().push_back((seq, payload.clone()));
    }

    /// The payload record `seq` was written from, if still remembered; forgets older ones
    /// (released or skipped meanwhile).
    fn recall(&self, seq: u64) -> Option<Payload> {
        let mut fresh = self.fresh.lock();
        while let Some((s, _)) = fresh.front() {
            if *s > seq {
                return None;
            }
            let (s, p) = fresh.pop_front()?;
            self.fresh_bytes
                .fetch_sub(p.encoded_len() as u64, Ordering::AcqRel);
            if s == seq {
                return Some(p);
            }
        }
        None
    }
}

/// One pipeline's log in one storage extension, and the exporters it feeds.
pub(crate) struct Log {
    pub(crate) pipeline: String,
    pub(crate) wal: Arc<Wal>,
    pub(crate) targets: Vec<Arc<Target>>,
    signal: Signal,
}

impl Log {
    /// A log for `targets` (their bits as the log gave them); charges each exporter's share
    /// with what recovery found on disk for it, and releases records for exporters that are
    /// no longer configured.
    pub(crate) fn new(
        pipeline: &str,
        storage_id: &str,
        signal: Signal,
        wal: Arc<Wal>,
        targets: Vec<(u64, Arc<ExporterRuntime>, Arc<dyn Consumer>)>,
        registry: &Registry,
    ) -> Arc<Log> {
        let labels = [("pipeline", pipeline), ("storage", storage_id)];
        let w = wal.clone();
        registry.gauge_fn(
            "otelcol_storage_disk_bytes",
            "Bytes of the persistent queue's log on disk (ours).",
            &labels,
            move || w.stats().0 as f64,
        );
        let w = wal.clone();
        registry.gauge_fn(
            "otelcol_storage_records",
            "Records in the persistent queue's log not yet released by every exporter (ours).",
            &labels,
            move || w.stats().1 as f64,
        );
        let targets: Vec<Arc<Target>> = targets
            .into_iter()
            .map(|(bit, exporter, chain)| {
                let replayed = registry.counter(
                    &format!("otelcol_exporter_replayed_{}", signal.item_name()),
                    "Items read back from the persistent queue after a restart: they may have been delivered before (ours).",
                    &[("exporter", exporter.id()), ("data_type", signal.as_str())],
                );
                Arc::new(Target {
                    bit,
                    exporter,
                    chain,
                    window: AtomicU64::new(0),
                    released: Notify::new(),
                    replayed,
                    fresh: parking_lot::Mutex::new(std::collections::VecDeque::new()),
                    fresh_bytes: AtomicU64::new(0),
                })
            })
            .collect();
        let known: u64 = targets.iter().map(|t| t.bit).fold(0, |a, b| a | b);
        let mut orphans = 0u64;
        for (seq, r) in wal.pending(u64::MAX, 0, usize::MAX) {
            for t in &targets {
                if r.mask & t.bit != 0
                    && let Some(d) = t.exporter.disk()
                {
                    let units = d.units(u64::from(r.items), u64::from(r.len));
                    if !d.try_charge(units) {
                        // Over the share after a config change: still delivered.
                        d.force_charge(units);
                    }
                }
            }
            let gone = r.mask & !known;
            if gone != 0 {
                orphans += u64::from(r.items);
                wal.release(seq, gone);
            }
        }
        if orphans > 0 {
            tracing::warn!(
                pipeline,
                dropped_items = orphans,
                "The persistent queue held data for exporters no longer in the pipeline; dropping it for them."
            );
        }
        Arc::new(Log {
            pipeline: pipeline.to_owned(),
            wal,
            targets,
            signal,
        })
    }

    /// Items in records still on disk.
    pub(crate) fn items_on_disk(&self) -> u64 {
        self.wal.stats().2
    }
}

/// The stage that writes payloads to the logs before the receiver acknowledges them.
pub(crate) struct Persist {
    logs: Vec<Arc<Log>>,
    /// The processors after the log, ending at the exporters without storage.
    rest: Option<Arc<dyn Consumer>>,
    pipeline: String,
    tally: Arc<Tally>,
}

impl Persist {
    pub(crate) fn new(
        pipeline: &str,
        logs: Vec<Arc<Log>>,
        rest: Option<Arc<dyn Consumer>>,
        tally: Arc<Tally>,
    ) -> Persist {
        Persist {
            logs,
            rest,
            pipeline: pipeline.to_owned(),
            tally,
        }
    }
}

impl Consumer for Persist {
    fn consume(&self, payload: Payload) -> Result<(), Refusal> {
        let items = payload.items();
        if items == 0 {
            return Ok(());
        }
        let bytes = payload.encoded_len() as u64;
        // The payload's chunks as received: written with one vectored write, not copied.
        let mut chunks: Option<Vec<bytes::Bytes>> = None;
        let mut written = false;
        let mut full: Vec<&Arc<Target>> = Vec::new();
        let mut failure: Option<String> = None;
        let mut syncs = Vec::new();
        for log in &self.logs {
            let mut mask = 0u64;
            for t in &log.targets {
                let Some(d) = t.exporter.disk() else { continue };
                if d.try_charge(d.units(items, bytes)) {
                    mask |= t.bit;
                } else {
                    full.push(t);
                }
            }
            if mask == 0 {
                continue;
            }
            let chunks = chunks.get_or_insert_with(|| payload.chunks());
            let remember = |seq| {
                for t in log.targets.iter().filter(|t| t.bit & mask != 0) {
                    t.remember(seq, &payload);
                }
            };
            match log.wal.append_then(mask, items, chunks, remember) {
                Ok(seq) => {
                    written = true;
                    log.wal.wake_readers();
                    if log.wal.syncs() {
                        syncs.push((log.wal.clone(), seq));
                    }
                }
                Err(e) => {
                    // A full disk is a full queue: the independence rule below decides.
                    for t in log.targets.iter().filter(|t| t.bit & mask != 0) {
                        if let Some(d) = t.exporter.disk() {
                            d.uncharge(d.units(items, bytes));
                        }
                        full.push(t);
                    }
                    tracing::error!(pipeline = %self.pipeline, error = %e, "Cannot write to the persistent queue.");
                    failure = Some(format!("cannot write to the persistent queue: {e}"));
                }
            }
        }
        // Exporters without storage take it from memory.
        let rest = self.rest.as_ref().map(|next| next.consume(payload));
        let rest_took = matches!(rest, Some(Ok(())) | Some(Err(Refusal::Pending(_))));
        for t in &full {
            t.exporter.enqueue_failed(items);
        }
        if !written && !rest_took {
            // Nobody took it: the sender retries, nothing is counted.
            return Err(match rest {
                Some(Err(r)) => r,
                _ => Refusal::Retryable(
                    failure.unwrap_or_else(|| "sending queue is full".to_owned()),
                ),
            });
        }
        for t in full {
            t.exporter.dropped(items, DropReason::QueueFull);
        }
        if let Some(Err(r)) = &rest
            && !matches!(r, Refusal::Pending(_) | Refusal::Dropped(_))
        {
            // The log took it; the exporters without storage refused it.
            self.tally
                .drop_items(&self.pipeline, DropReason::Refused, items);
        }
        let pending = match rest {
            Some(Err(Refusal::Pending(p))) => Some(p),
            _ => None,
        };
        if syncs.is_empty() && pending.is_none() {
            return Ok(());
        }
        if pending.is_none() && syncs.len() == 1 {
            let (wal, seq) = syncs.swap_remove(0);
            return Err(Refusal::Pending(Pending::Commit { wal, seq }));
        }
        // Acknowledged once the commit is done (`fsync: true`) and what the exporters
        // without storage make the sender wait for is settled.
        Err(Refusal::Pending(Pending::Outcome(Box::pin(async move {
            if let Some(p) = pending {
                let _ = p
                    .settle(tokio::time::Instant::now() + SYNC_BOUND, None)
                    .await;
            }
            for (wal, seq) in syncs {
                wal.synced(seq).await.map_err(Refusal::Retryable)?;
            }
            Ok(())
        }))))
    }
}

/// The longest a sender waits for the exporters without storage of a pipeline with a log.
const SYNC_BOUND: Duration = Duration::from_secs(300);

/// A record handed out to one exporter: released for it when the last part goes.
struct RecordHold {
    log: Arc<Log>,
    target: Arc<Target>,
    seq: u64,
    units: u64,
    len: u64,
    kept: AtomicBool,
}

impl std::fmt::Debug for RecordHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordHold")
            .field("seq", &self.seq)
            .field("bit", &self.target.bit)
            .finish_non_exhaustive()
    }
}

impl Hold for RecordHold {
    fn keep(&self) {
        self.kept.store(true, Ordering::Release);
    }
}

impl Drop for RecordHold {
    fn drop(&mut self) {
        if !self.kept.load(Ordering::Acquire) {
            self.log.wal.release(self.seq, self.target.bit);
            if let Some(d) = self.target.exporter.disk() {
                d.uncharge(self.units);
            }
        }
        self.target.window.fetch_sub(self.len, Ordering::AcqRel);
        self.target.released.notify_waiters();
    }
}

/// The readers of a collector's logs.
pub(crate) struct Readers {
    stop: watch::Sender<bool>,
    tasks: parking_lot::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    logs: Vec<Arc<Log>>,
}

impl Readers {
    /// Starts a reader per exporter of every log.
    pub(crate) fn start(logs: Vec<Arc<Log>>, budget: &Budget, tally: &Arc<Tally>) -> Readers {
        let (stop, _) = watch::channel(false);
        let mut tasks = Vec::new();
        for log in &logs {
            for t in &log.targets {
                let (log, t, budget, tally) =
                    (log.clone(), t.clone(), budget.clone(), tally.clone());
                let stop = stop.subscribe();
                let id = format!("{} (persistent queue reader)", t.exporter.id());
                let tally2 = tally.clone();
                tasks.push(tokio::spawn(async move {
                    // A panic loses nothing: the record stays on disk for the next start.
                    tally2
                        .panics
                        .catch_future(id, read(log, t, budget, tally, stop))
                        .await;
                }));
            }
        }
        Readers {
            stop,
            tasks: parking_lot::Mutex::new(tasks),
            logs,
        }
    }

    /// Stops reading: what is not handed out stays on disk.
    pub(crate) async fn stop(&self) {
        self.stop.send_replace(true);
        let mut tasks = std::mem::take(&mut *self.tasks.lock());
        super::join_in_order(&mut tasks).await;
    }

    /// Writes pending releases and closes the logs (after the exporters stopped).
    pub(crate) fn close(&self) {
        for log in &self.logs {
            log.wal.close();
        }
    }

    /// Items in records still on disk.
    pub(crate) fn items_on_disk(&self) -> u64 {
        self.logs.iter().map(|l| l.items_on_disk()).sum()
    }

    /// Where each log is now: [`released`](Self::released) tells when everything written
    /// before is released.
    pub(crate) fn marks(&self) -> Vec<u64> {
        self.logs.iter().map(|l| l.wal.next_seq()).collect()
    }

    /// Whether every record below `marks` is released by every exporter.
    pub(crate) fn released(&self, marks: &[u64]) -> bool {
        self.logs.iter().zip(marks).all(|(l, &mark)| {
            l.wal
                .pending(u64::MAX, 0, 1)
                .first()
                .is_none_or(|(seq, _)| *seq >= mark)
        })
    }
}

/// Waits `d`, or until `stop` is set (true).
async fn pause(d: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    let stopped = tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = stop.wait_for(|s| *s) => true,
    };
    stopped || *stop.borrow()
}

/// One exporter's reader: hands the records it needs, in order, to its chain.
async fn read(
    log: Arc<Log>,
    t: Arc<Target>,
    budget: Budget,
    tally: Arc<Tally>,
    mut stop: watch::Receiver<bool>,
) {
    let mut cursor = 0u64;
    let mut last_release = tokio::time::Instant::now();
    loop {
        if *stop.borrow() {
            return;
        }
        let (batch, next) = log.wal.pending_after(t.bit, cursor, 64);
        if batch.is_empty() {
            cursor = next;
            let appended = log.wal.appended.notified();
            tokio::pin!(appended);
            appended.as_mut().enable();
            if !log.wal.pending(t.bit, cursor, 1).is_empty() {
                continue;
            }
            if last_release.elapsed() >= RELEASE_INTERVAL {
                log.wal.write_releases();
                last_release = tokio::time::Instant::now();
            }
            tokio::select! {
                _ = appended => {}
                _ = tokio::time::sleep(RELEASE_INTERVAL) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            continue;
        }
        for (seq, r) in batch {
            let len = u64::from(r.len);
            // The window: wait for releases while enough is handed out.
            loop {
                let out = t.window.load(Ordering::Acquire);
                if out == 0 || out + len <= READ_WINDOW {
                    break;
                }
                let released = t.released.notified();
                tokio::pin!(released);
                released.as_mut().enable();
                if t.window.load(Ordering::Acquire) != out {
                    continue;
                }
                tokio::select! {
                    _ = released => {}
                    _ = tokio::time::sleep(RETRY) => {}
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
            // Just written: the payload it was written from, already decoded and on the
            // budget.
            if let Some(payload) = t.recall(seq) {
                cursor = seq + 1;
                if !hand_out(&log, &t, seq, &r, payload, &mut stop).await {
                    return;
                }
                continue;
            }
            // On the budget before it is read.
            let reservation = loop {
                if let Some(r) = budget.try_reserve(r.len as usize) {
                    break r;
                }
                if pause(RETRY, &mut stop).await {
                    return;
                }
            };
            let body = match log.wal.read(seq) {
                Ok(Some(b)) => b,
                // Released meanwhile (a config change dropped its exporters).
                Ok(None) => {
                    cursor = seq + 1;
                    continue;
                }
                Err(e) => {
                    tracing::error!(pipeline = %log.pipeline, exporter = %t.exporter.id(), error = %e, "Cannot read the persistent queue; will try again.");
                    if pause(Duration::from_secs(1), &mut stop).await {
                        return;
                    }
                    break;
                }
            };
            let payload = match Payload::decode_received(log.signal, body, reservation) {
                Ok(p) => p,
                Err(DecodeError::OverBudget) => {
                    if pause(RETRY, &mut stop).await {
                        return;
                    }
                    break;
                }
                Err(DecodeError::Invalid(e)) => {
                    // The checksum matched, so this was written so: never deliverable.
                    tracing::error!(pipeline = %log.pipeline, exporter = %t.exporter.id(), error = %e, "A persistent queue record is not a valid request; dropping it.");
                    tally.drop_items(t.exporter.id(), DropReason::Permanent, u64::from(r.items));
                    release_now(&log, &t, seq, &r);
                    cursor = seq + 1;
                    continue;
                }
            };
            cursor = seq + 1;
            if seq < log.wal.recovered_below {
                t.replayed.add(payload.items());
            }
            if !hand_out(&log, &t, seq, &r, payload, &mut stop).await {
                return;
            }
        }
    }
}

/// Hangs record `seq`'s hold on `payload` and delivers it; false when `stop` ended it.
async fn hand_out(
    log: &Arc<Log>,
    t: &Arc<Target>,
    seq: u64,
    r: &crate::storage::Record,
    mut payload: Payload,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let len = u64::from(r.len);
    let units = t
        .exporter
        .disk()
        .map_or(0, |d| d.units(u64::from(r.items), len));
    t.window.fetch_add(len, Ordering::AcqRel);
    payload.hold(Arc::new(RecordHold {
        log: log.clone(),
        target: t.clone(),
        seq,
        units,
        len,
        kept: AtomicBool::new(false),
    }));
    deliver(payload, &t.chain, stop).await
}

/// Releases a record for `t` without handing it out.
fn release_now(log: &Log, t: &Target, seq: u64, r: &crate::storage::Record) {
    log.wal.release(seq, t.bit);
    if let Some(d) = t.exporter.disk() {
        d.uncharge(d.units(u64::from(r.items), u64::from(r.len)));
    }
}

/// Offers `payload` to `chain` until it is taken or dealt with; false when `stop` ended
/// the wait (the payload is kept on disk).
async fn deliver(
    mut payload: Payload,
    chain: &Arc<dyn Consumer>,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    loop {
        // A clone keeps the record's hold alive whatever the chain does with the offer.
        let again = payload.clone();
        let refused = match chain.consume(payload) {
            Ok(()) => return true,
            Err(Refusal::Pending(p)) => {
                let far = tokio::time::Instant::now() + Duration::from_secs(365 * 24 * 3600);
                match p.settle(far, Some(stop.clone())).await {
                    Settled::Taken => return true,
                    Settled::TimedOut => {
                        let _ = again.keep();
                        return false;
                    }
                    Settled::Refused(r) => r,
                }
            }
            Err(r) => r,
        };
        match refused {
            // No room now: offered again.
            Refusal::Retryable(_) => {
                payload = again;
                if pause(RETRY, stop).await {
                    let _ = payload.keep();
                    return false;
                }
            }
            // Dropped for good, counted where it happened: released.
            _ => return true,
        }
    }
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers")
            .field("logs", &self.logs.len())
            .finish()
    }
}
