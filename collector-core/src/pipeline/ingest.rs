//! Payloads handed to the collector in-process (`CollectorHandle::ingest`, the C ABI's
//! `otelcol_collector_ingest`): fed to the pipelines that list an `embedded` receiver, with
//! a receiver's accounting and validation but no socket and no copy.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::Notify;

use super::Tally;
use super::{Consumer, DropReason, Pending, ReceiverFanout, Refusal, Settled};
use crate::memory::Budget;
use crate::otlp::Payload;
use crate::otlp::payload::DecodeError;
use crate::telemetry::{Counter, Registry};
use crate::{Error, ErrorKind, Signal};

/// How often a held payload looks again, in case a wake-up came between its check and its
/// wait.
const HELD_POLL: Duration = Duration::from_millis(50);

/// What one step of holding an ingested payload gave.
enum Held {
    Taken,
    /// Still waiting, maybe at another stage now.
    Again(Pending),
    /// Refused for good (never retryable: those stay held).
    Refused(Refusal),
    /// The collector is stopping.
    Stopped,
}

/// Waits for room (or [`HELD_POLL`]) once and offers the payload where it waits; a
/// retryable refusal there keeps it held, to be offered again.
async fn step(pending: Pending, stop: &mut tokio::sync::watch::Receiver<bool>) -> Held {
    if *stop.borrow() {
        return Held::Stopped;
    }
    match pending {
        Pending::Commit { .. } => {
            let far = tokio::time::Instant::now() + std::time::Duration::from_secs(3600);
            match pending.settle(far, Some(stop.clone())).await {
                Settled::Taken => Held::Taken,
                Settled::Refused(r) => Held::Refused(r),
                Settled::TimedOut => Held::Stopped,
            }
        }
        Pending::Outcome(fut) => tokio::select! {
            r = fut => match r {
                Ok(()) => Held::Taken,
                Err(Refusal::Pending(p)) => Held::Again(p),
                Err(r) => Held::Refused(r),
            },
            _ = stop.wait_for(|s| *s) => Held::Stopped,
        },
        Pending::Room {
            room,
            payload,
            resume,
        } => {
            tokio::select! {
                _ = tokio::time::timeout(HELD_POLL, room.notified()) => {}
                _ = stop.wait_for(|s| *s) => return Held::Stopped,
            }
            let keep = (*payload).clone();
            match resume.consume(*payload) {
                Ok(()) => Held::Taken,
                Err(Refusal::Pending(p)) => Held::Again(p),
                // Nothing downstream took it: keep it where it waits and try again.
                Err(Refusal::Retryable(_)) => Held::Again(Pending::Room {
                    room: Arc::new(Notify::new()),
                    payload: Box::new(keep),
                    resume,
                }),
                Err(r) => Held::Refused(r),
            }
        }
    }
}

/// Per-signal counters, named as the OTLP receiver's (`transport="inprocess"`).
struct SignalCounters {
    accepted: Counter,
    refused: Counter,
    failed: Counter,
}

/// The in-process receiver behind [`CollectorHandle::ingest`](crate::CollectorHandle::ingest):
/// the pipelines that list an `embedded` receiver, per signal.
pub(crate) struct Ingest {
    consumers: [Option<ReceiverFanout>; 3],
    counters: [SignalCounters; 3],
    budget: Budget,
    tally: Arc<Tally>,
    /// Payloads accepted but held (resource detection running, or a `block_on_overflow`
    /// exporter full), waiting on a task to be offered again.
    held: Arc<AtomicU64>,
    released: Arc<Notify>,
    /// Set at shutdown: held payloads give up.
    stop: tokio::sync::watch::Sender<bool>,
}

impl Ingest {
    /// The receiver for `targets` (per signal, in [`Signal::ALL`] order).
    pub(crate) fn new(
        targets: [Vec<(String, Arc<dyn Consumer>)>; 3],
        budget: Budget,
        tally: Arc<Tally>,
        registry: &Registry,
    ) -> Ingest {
        let counters = Signal::ALL.map(|s| {
            let labels = [("receiver", "embedded"), ("transport", "inprocess")];
            let item = s.item_name();
            SignalCounters {
                accepted: registry.counter(
                    &format!("otelcol_receiver_accepted_{item}"),
                    "Number of items successfully pushed into the pipeline.",
                    &labels,
                ),
                refused: registry.counter(
                    &format!("otelcol_receiver_refused_{item}"),
                    "Number of items that could not be pushed into the pipeline.",
                    &labels,
                ),
                failed: registry.counter(
                    &format!("otelcol_receiver_failed_{item}"),
                    "Number of items that failed to be processed.",
                    &labels,
                ),
            }
        });
        let consumers =
            targets.map(|t| (!t.is_empty()).then(|| ReceiverFanout::new(t, tally.clone())));
        Ingest {
            consumers,
            counters,
            budget,
            tally,
            held: Arc::new(AtomicU64::new(0)),
            released: Arc::new(Notify::new()),
            stop: tokio::sync::watch::channel(false).0,
        }
    }

    /// Validates `data` (accounted on the budget, not copied) and hands it to the
    /// pipelines. Never waits: over budget or with every queue full it refuses with
    /// [`ErrorKind::Retryable`]; a payload a processor holds back (resource detection
    /// still running) is accepted and offered again from a task on `runtime`.
    pub(crate) fn ingest(
        &self,
        signal: Signal,
        data: Bytes,
        runtime: &tokio::runtime::Handle,
    ) -> Result<(), Error> {
        let fanout = self.fanout(signal)?;
        let Some(reservation) = self.budget.try_reserve(data.len()) else {
            return Err(self.over_budget());
        };
        let payload = self.decoded(Payload::decode_received(signal, data, reservation))?;
        self.offer(fanout, signal, payload, runtime)
    }

    /// As [`ingest`](Self::ingest), for a batch in the packed spans format (the Python fast
    /// path): turned into OTLP protobuf on the budget, then validated and offered like any
    /// traces request.
    pub(crate) fn ingest_packed_spans(
        &self,
        packed: &[u8],
        runtime: &tokio::runtime::Handle,
    ) -> Result<(), Error> {
        let fanout = self.fanout(Signal::Traces)?;
        let (proto, reservation) =
            crate::otlp::packed::to_proto(packed, &self.budget).map_err(|e| {
                if e.kind() == ErrorKind::Retryable {
                    self.over_budget()
                } else {
                    e
                }
            })?;
        let payload = self.decoded(Payload::decode_received(Signal::Traces, proto, reservation))?;
        self.offer(fanout, Signal::Traces, payload, runtime)
    }

    fn fanout(&self, signal: Signal) -> Result<&ReceiverFanout, Error> {
        self.consumers[signal.index()].as_ref().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "no pipeline takes {signal} in-process: list an `embedded` receiver in a {signal} pipeline"
                ),
            )
        })
    }

    fn decoded(&self, r: Result<Payload, DecodeError>) -> Result<Payload, Error> {
        match r {
            Ok(p) => Ok(p),
            Err(DecodeError::Invalid(e)) => Err(e),
            Err(DecodeError::OverBudget) => Err(self.over_budget()),
        }
    }

    /// Hands a decoded payload to the pipelines of `signal`.
    fn offer(
        &self,
        fanout: &ReceiverFanout,
        signal: Signal,
        payload: Payload,
        runtime: &tokio::runtime::Handle,
    ) -> Result<(), Error> {
        let c = &self.counters[signal.index()];
        let items = payload.items();
        if items == 0 {
            return Ok(());
        }
        let mut offered = fanout.offer(payload);
        // The one wait in place: a persistent queue's commit (`fsync: true`).
        offered.commit_blocking();
        // Other waits are held on tasks: `ingest` never waits, so what waits is acknowledged.
        let pending = offered.take_pending();
        if !pending.is_empty() {
            offered.hold();
        }
        let result = offered.decide(fanout.tally());
        for (id, p) in pending {
            self.hold(id, p, items, runtime);
        }
        match result {
            Ok(()) => {
                c.accepted.add(items);
                Ok(())
            }
            Err(Refusal::Retryable(msg)) => {
                c.refused.add(items);
                Err(Error::new(ErrorKind::Retryable, msg))
            }
            Err(Refusal::Permanent(msg) | Refusal::Rejected(msg) | Refusal::Dropped(msg)) => {
                c.failed.add(items);
                Err(Error::new(ErrorKind::Internal, msg))
            }
            // `decide` answers with refusals only.
            Err(Refusal::Pending(_)) => {
                c.failed.add(items);
                Err(Error::new(ErrorKind::Internal, "left waiting"))
            }
        }
    }

    fn over_budget(&self) -> Error {
        Error::new(
            ErrorKind::Retryable,
            format!(
                "over the memory budget ({} of {} bytes in use): try again later",
                self.budget.used(),
                self.budget.limit()
            ),
        )
    }

    /// Holds what pipeline `id` waits for on a task until a stage takes it: after each
    /// signal of room (or every [`HELD_POLL`]) it is offered again where it waits, and a
    /// retryable refusal there keeps it held, so nothing `ingest` acknowledged is lost
    /// while the collector runs. A permanent refusal drops it, counted; so does shutdown.
    fn hold(&self, id: String, pending: Pending, items: u64, runtime: &tokio::runtime::Handle) {
        self.held.fetch_add(1, Ordering::AcqRel);
        let held = self.held.clone();
        let released = self.released.clone();
        let tally = self.tally.clone();
        let mut stop = self.stop.subscribe();
        runtime.spawn(async move {
            let mut pending = pending;
            loop {
                match step(pending, &mut stop).await {
                    Held::Taken => break,
                    Held::Again(p) => pending = p,
                    Held::Refused(r) => {
                        let reason = match r {
                            Refusal::Dropped(_) => break,
                            Refusal::Retryable(_) => DropReason::RetriesExhausted,
                            _ => DropReason::Permanent,
                        };
                        tracing::error!(pipeline = %id, dropped_items = items, error = ?r, "Ingested data held back could not be delivered; dropping it.");
                        tally.drop_items(&id, reason, items);
                        break;
                    }
                    Held::Stopped => {
                        tracing::error!(pipeline = %id, dropped_items = items, "Shutdown: dropping ingested data still held back.");
                        tally.drop_items(&id, DropReason::Shutdown, items);
                        break;
                    }
                }
            }
            held.fetch_sub(1, Ordering::AcqRel);
            released.notify_waiters();
        });
    }

    /// Makes held payloads give up (counted as dropped): the collector is stopping.
    pub(crate) fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Waits until no ingested payload is held back, or `deadline` (false).
    pub(crate) async fn settled(&self, deadline: tokio::time::Instant) -> bool {
        loop {
            let notified = self.released.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.held.load(Ordering::Acquire) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.held.load(Ordering::Acquire) == 0;
            }
        }
    }
}
