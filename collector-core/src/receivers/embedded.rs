//! The `embedded` receiver: payloads handed to the collector in-process (`ingest`).

use serde::{Deserialize, Serialize};

use crate::config::validate::{Problems, Validate};

/// `embedded` receiver configuration: no settings.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct EmbeddedConfig {}

impl Validate for EmbeddedConfig {
    fn validate(&self, _: &mut Problems) {}
}

// ---------------------------------------------------------------------------------------
// Runtime
// ---------------------------------------------------------------------------------------

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::Notify;

use crate::memory::Budget;
use crate::otlp::Payload;
use crate::otlp::payload::DecodeError;
use crate::pipeline::Tally;
use crate::pipeline::{Consumer, DropReason, ReceiverFanout, Refusal};
use crate::telemetry::{Counter, Registry};
use crate::{Error, ErrorKind, Signal};

/// How often a held payload looks again, in case a wake-up came between its check and its
/// wait.
const HELD_POLL: Duration = Duration::from_millis(50);

/// Per-signal counters, named as the OTLP receiver's (`transport="inprocess"`).
struct SignalCounters {
    accepted: Counter,
    refused: Counter,
    failed: Counter,
}

/// The in-process receiver behind [`CollectorHandle::ingest`](crate::CollectorHandle::ingest):
/// the pipelines that list an `embedded` receiver, per signal.
pub(crate) struct EmbeddedReceiver {
    consumers: [Option<Arc<dyn Consumer>>; 3],
    counters: [SignalCounters; 3],
    budget: Budget,
    tally: Arc<Tally>,
    /// Payloads accepted but held (resource detection running, or a `block_on_overflow`
    /// exporter full), waiting on a task to be offered again.
    held: Arc<AtomicU64>,
    released: Arc<Notify>,
}

impl EmbeddedReceiver {
    /// The receiver for `targets` (per signal, in [`Signal::ALL`] order).
    pub(crate) fn new(
        targets: [Vec<Arc<dyn Consumer>>; 3],
        budget: Budget,
        tally: Arc<Tally>,
        registry: &Registry,
    ) -> EmbeddedReceiver {
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
        let consumers = targets.map(|t| {
            (!t.is_empty()).then(|| Arc::new(ReceiverFanout::new(t)) as Arc<dyn Consumer>)
        });
        EmbeddedReceiver {
            consumers,
            counters,
            budget,
            tally,
            held: Arc::new(AtomicU64::new(0)),
            released: Arc::new(Notify::new()),
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
        let Some(consumer) = &self.consumers[signal.index()] else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "no pipeline takes {signal} in-process: list an `embedded` receiver in a {signal} pipeline"
                ),
            ));
        };
        let c = &self.counters[signal.index()];
        let Some(reservation) = self.budget.try_reserve(data.len()) else {
            return Err(self.over_budget());
        };
        let payload = match Payload::decode_received(signal, data, reservation) {
            Ok(p) => p,
            Err(DecodeError::Invalid(e)) => return Err(e),
            Err(DecodeError::OverBudget) => return Err(self.over_budget()),
        };
        let items = payload.items();
        if items == 0 {
            return Ok(());
        }
        match consumer.consume(payload) {
            Ok(()) => {
                c.accepted.add(items);
                Ok(())
            }
            Err(Refusal::Retryable(msg)) => {
                c.refused.add(items);
                Err(Error::new(ErrorKind::Retryable, msg))
            }
            Err(Refusal::Permanent(msg) | Refusal::Dropped(msg)) => {
                c.failed.add(items);
                Err(Error::new(ErrorKind::Internal, msg))
            }
            Err(Refusal::Blocked(room, back)) => {
                c.accepted.add(items);
                self.hold(consumer.clone(), room, *back, runtime);
                Ok(())
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

    /// Offers `payload` again each time `room` is signalled (or every [`HELD_POLL`])
    /// until a stage takes it; a later refusal drops it, counted and logged (it was
    /// accepted).
    fn hold(
        &self,
        consumer: Arc<dyn Consumer>,
        mut room: Arc<Notify>,
        mut payload: Payload,
        runtime: &tokio::runtime::Handle,
    ) {
        self.held.fetch_add(1, Ordering::AcqRel);
        let held = self.held.clone();
        let released = self.released.clone();
        let tally = self.tally.clone();
        runtime.spawn(async move {
            loop {
                let _ = tokio::time::timeout(HELD_POLL, room.notified()).await;
                let items = payload.items();
                match consumer.consume(payload) {
                    Ok(()) => break,
                    Err(Refusal::Blocked(r, back)) => {
                        room = r;
                        payload = *back;
                    }
                    Err(Refusal::Dropped(_)) => break,
                    Err(Refusal::Retryable(msg) | Refusal::Permanent(msg)) => {
                        tracing::error!(dropped_items = items, error = %msg, "Ingested data held back could not be delivered; dropping it.");
                        tally.drop_items("embedded", DropReason::Permanent, items);
                        break;
                    }
                }
            }
            held.fetch_sub(1, Ordering::AcqRel);
            released.notify_waiters();
        });
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
