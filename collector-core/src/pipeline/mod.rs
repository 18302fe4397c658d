//! Pipelines: how payloads flow from receivers through processors to exporters.
//!
//! Each stage is a [`Consumer`]; a processor wraps the next stage, so a pipeline is a chain
//! ending in an [`ExporterFanout`]. A receiver feeds a [`ReceiverFanout`] over the pipelines
//! that name it. Consuming is synchronous: processors run inline in the receiving task and
//! exporters take payloads into their own bounded queues, so no channel hop is paid per
//! request, and an embedder's `ingest` never blocks.

pub(crate) mod build;
pub(crate) mod exporter;
pub(crate) mod health;
pub(crate) mod ingest;
pub(crate) mod panics;
pub(crate) mod persist;

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
    /// It waited for a blocking stage past the bound, while another pipeline had taken it.
    BlockedTimeout,
    /// A pipeline refused it (its memory limiter, its exporters' queues full) while
    /// another pipeline of the receiver took it.
    Refused,
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
            DropReason::BlockedTimeout => "blocked_timeout",
            DropReason::Refused => "refused",
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
    /// Weak: exporters' gauges in the registry hold the tally.
    registry: crate::telemetry::WeakRegistry,
}

impl Tally {
    /// A tally whose counters are in `registry`.
    pub(crate) fn new(registry: &crate::telemetry::Registry) -> Tally {
        Tally {
            panics: panics::Panics::new(registry),
            registry: registry.downgrade(),
            delivered: crate::telemetry::Counter::default(),
            dropped: crate::telemetry::Counter::default(),
        }
    }

    /// Counts `items` that `component` dropped for `reason`: in the shutdown report and in
    /// `otelcol_dropped_items_total{component,reason}` (ours).
    pub(crate) fn drop_items(&self, component: &str, reason: DropReason, items: u64) {
        if items == 0 {
            return;
        }
        self.dropped.add(items);
        let Some(registry) = self.registry.upgrade() else {
            return;
        };
        registry
            .counter(
                "otelcol_dropped_items",
                "Items dropped, by component and reason (ours; Go's series count some of these without a reason).",
                &[("component", component), ("reason", reason.as_str())],
            )
            .add(items);
    }
}

/// Why a stage did not take a payload, or what its caller must wait for.
pub(crate) enum Refusal {
    /// Over budget, or every queue full: the sender should retry later
    /// (gRPC `UNAVAILABLE`, HTTP 503). Nothing downstream took any of it.
    Retryable(String),
    /// The payload can never be taken (gRPC `INTERNAL`, HTTP 500).
    Permanent(String),
    /// A backend refused the payload for good while the sender waited for the export (an
    /// exporter without a queue, or with `wait_for_result`): the sender hears
    /// `INVALID_ARGUMENT` / 400, as Go's receivers answer a permanent export error.
    Rejected(String),
    /// A stage dropped the payload and counted it (a component panicked): the sender
    /// hears an internal error (gRPC `INTERNAL`, HTTP 500) and must not count it again.
    Dropped(String),
    /// Not decided yet: the caller waits, holding the payload's budget, for what the
    /// [`Pending`] says (see [`Pending::settle`]).
    Pending(Pending),
}

impl std::fmt::Debug for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Retryable(m) => f.debug_tuple("Retryable").field(m).finish(),
            Refusal::Permanent(m) => f.debug_tuple("Permanent").field(m).finish(),
            Refusal::Rejected(m) => f.debug_tuple("Rejected").field(m).finish(),
            Refusal::Dropped(m) => f.debug_tuple("Dropped").field(m).finish(),
            Refusal::Pending(Pending::Room { .. }) => f.write_str("Pending(Room)"),
            Refusal::Pending(Pending::Outcome(_)) => f.write_str("Pending(Outcome)"),
            Refusal::Pending(Pending::Commit { seq, .. }) => write!(f, "Pending(Commit {seq})"),
        }
    }
}

/// A boxed future, for the object-safe traits of the pipeline.
/// Waits for `tasks` in order, removing each as it finishes: what is left when the wait is
/// cut short (a timeout drops this future) are the unfinished ones, which may be aborted
/// and awaited again. Awaiting a `JoinHandle` after it returned panics, so the finished
/// ones must not stay in the list.
pub(crate) async fn join_in_order<T>(tasks: &mut Vec<tokio::task::JoinHandle<T>>) {
    while let Some(t) = tasks.first_mut() {
        let _ = t.await;
        tasks.remove(0);
    }
}

pub(crate) type BoxFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// What a caller of a stage waits for before it knows whether its payload was taken.
///
/// Blocking waits in place (docs/architecture.md): a stage that cannot take a payload now
/// hands back the payload with itself as the place to resume, so that when the caller
/// offers it again nothing before that stage runs twice and no stage that already took it
/// gets it again.
pub(crate) enum Pending {
    /// A stage has no room now (a `block_on_overflow` queue is full, resource detection is
    /// still running): once `room` is signalled, offer `payload` to `resume`.
    Room {
        room: Arc<tokio::sync::Notify>,
        payload: Box<Payload>,
        resume: Arc<dyn Consumer>,
    },
    /// The payload was handed over and its outcome will be known (an export without a
    /// queue, or with `wait_for_result`).
    Outcome(BoxFuture<'static, Result<(), Refusal>>),
    /// The payload is written to a persistent queue's log and is taken once the log's
    /// group commit covers record `seq` (`fsync: true`). An embedder's `ingest` waits for
    /// this one in place (docs/guarantees.md).
    Commit {
        wal: Arc<crate::storage::Wal>,
        seq: u64,
    },
}

/// How long one wait for room lasts before the stage is offered the payload again, in case
/// the signal came between its refusal and the wait.
pub(crate) const ROOM_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// How a [`Pending`] ended.
#[derive(Debug)]
pub(crate) enum Settled {
    /// Taken.
    Taken,
    /// Refused for good or for now (never [`Refusal::Pending`]).
    Refused(Refusal),
    /// The deadline passed first; the payload is dropped with the wait.
    TimedOut,
}

/// Ends waits early: set when the collector stops (its receivers' drain is short).
pub(crate) type Stop = tokio::sync::watch::Receiver<bool>;

impl Pending {
    /// Waits until the payload is taken or refused, or `deadline` passes, or `stop` is set.
    pub(crate) async fn settle(
        self,
        deadline: tokio::time::Instant,
        stop: Option<Stop>,
    ) -> Settled {
        let mut stop = stop;
        let stopped = async |stop: &mut Option<Stop>| match stop {
            Some(s) => {
                let _ = s.wait_for(|v| *v).await;
            }
            None => std::future::pending::<()>().await,
        };
        let mut pending = self;
        loop {
            match pending {
                Pending::Commit { wal, seq } => {
                    return tokio::select! {
                        r = wal.synced(seq) => match r {
                            Ok(()) => Settled::Taken,
                            Err(e) => Settled::Refused(Refusal::Retryable(e)),
                        },
                        _ = stopped(&mut stop) => Settled::TimedOut,
                    };
                }
                Pending::Outcome(fut) => {
                    let outcome = tokio::select! {
                        r = tokio::time::timeout_at(deadline, fut) => r,
                        _ = stopped(&mut stop) => return Settled::TimedOut,
                    };
                    return match outcome {
                        Ok(Ok(())) => Settled::Taken,
                        Ok(Err(Refusal::Pending(p))) => {
                            pending = p;
                            continue;
                        }
                        Ok(Err(r)) => Settled::Refused(r),
                        Err(_) => Settled::TimedOut,
                    };
                }
                Pending::Room {
                    room,
                    payload,
                    resume,
                } => {
                    let now = tokio::time::Instant::now();
                    if now >= deadline || stop.as_ref().is_some_and(|s| *s.borrow()) {
                        return Settled::TimedOut;
                    }
                    let wait = (deadline - now).min(ROOM_POLL);
                    tokio::select! {
                        _ = tokio::time::timeout(wait, room.notified()) => {}
                        _ = stopped(&mut stop) => return Settled::TimedOut,
                    }
                    match resume.consume(*payload) {
                        Ok(()) => return Settled::Taken,
                        Err(Refusal::Pending(p)) => pending = p,
                        Err(r) => return Settled::Refused(r),
                    }
                }
            }
        }
    }
}

/// A stage that takes payloads.
pub(crate) trait Consumer: Send + Sync {
    /// Takes `payload`, says why not, or says what to wait for. Never blocks.
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
    fn ready(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
    /// Hands everything it holds to the next stage now, without stopping (an embedder's
    /// `flush`); false when `deadline` passed with some still held.
    fn flush(&self, _deadline: std::time::Instant) -> BoxFuture<'_, bool> {
        Box::pin(async { true })
    }
    /// Drains what it holds into the next stage before `deadline`.
    fn shutdown(&self, _deadline: std::time::Instant) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Counts the items offered to a stage (`incoming`: refused ones too) or passed on by it
/// (`outgoing`: only what the next stage took or is waiting to take). A payload waiting at
/// a later stage counts as passed, as Go's `processorhelper` counts before it calls the
/// next consumer; it is not counted again when it is offered there again.
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
            Ok(()) | Err(Refusal::Pending(_)) => true,
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
/// on serving. When the processor itself says to wait for room, the guard puts itself in
/// as the place to resume, so the offer made after the wait is guarded too.
pub(crate) struct Guarded {
    next: Arc<dyn Consumer>,
    id: String,
    tally: Arc<Tally>,
    me: std::sync::Weak<Guarded>,
}

impl Guarded {
    pub(crate) fn new(next: Arc<dyn Consumer>, id: &str, tally: Arc<Tally>) -> Arc<Guarded> {
        Arc::new_cyclic(|me| Guarded {
            next,
            id: id.to_owned(),
            tally,
            me: me.clone(),
        })
    }
}

/// Whether two consumers are the same object (their data pointers; vtables may differ).
fn same(a: &Arc<dyn Consumer>, b: &Arc<dyn Consumer>) -> bool {
    std::ptr::eq(Arc::as_ptr(a).cast::<()>(), Arc::as_ptr(b).cast::<()>())
}

impl Consumer for Guarded {
    fn consume(&self, payload: Payload) -> Result<(), Refusal> {
        let items = payload.items();
        match self
            .tally
            .panics
            .catch(&self.id, || self.next.consume(payload))
        {
            Some(Err(Refusal::Pending(Pending::Room {
                room,
                payload,
                resume,
            }))) if same(&resume, &self.next) => {
                let resume = match self.me.upgrade() {
                    Some(me) => me as Arc<dyn Consumer>,
                    None => resume,
                };
                Err(Refusal::Pending(Pending::Room {
                    room,
                    payload,
                    resume,
                }))
            }
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
/// payload (a reference-count clone).
///
/// Independence of pipelines: when one pipeline took the payload and another refused it
/// (or waited for room past the bound), the refusing one drops it and counts it, and the
/// sender is told it was taken: telling it to retry would send the payload twice to the
/// pipeline that took it. Only when no pipeline took it is the sender told to retry.
pub(crate) struct ReceiverFanout {
    pipelines: Vec<(String, Arc<dyn Consumer>)>,
    tally: Arc<Tally>,
}

/// What offering a payload to a receiver's pipelines gave, before any waiting.
pub(crate) struct Offered {
    items: u64,
    /// Some pipeline took it.
    taken: bool,
    /// Pipelines that refused it, by id.
    refused: Vec<(String, Refusal)>,
    /// Pipelines where it waited past the deadline, by id.
    timed_out: Vec<String>,
    /// Pipelines where it waits, by id.
    pending: Vec<(String, Pending)>,
}

impl ReceiverFanout {
    pub(crate) fn new(pipelines: Vec<(String, Arc<dyn Consumer>)>, tally: Arc<Tally>) -> Self {
        ReceiverFanout { pipelines, tally }
    }

    /// Offers `payload` to every pipeline, without waiting.
    pub(crate) fn offer(&self, payload: Payload) -> Offered {
        let mut offered = Offered {
            items: payload.items(),
            taken: false,
            refused: Vec::new(),
            timed_out: Vec::new(),
            pending: Vec::new(),
        };
        let Some(((last_id, last), rest)) = self.pipelines.split_last() else {
            offered.taken = true;
            return offered;
        };
        let mut outcome = |id: &String, r: Result<(), Refusal>| match r {
            Ok(()) => offered.taken = true,
            Err(Refusal::Pending(p)) => offered.pending.push((id.clone(), p)),
            Err(r) => offered.refused.push((id.clone(), r)),
        };
        for (id, p) in rest {
            outcome(id, p.consume(payload.clone()));
        }
        // The last pipeline takes the original: one clone fewer.
        outcome(last_id, last.consume(payload));
        offered
    }

    /// Offers `payload` to every pipeline and waits, up to `deadline` (or `stop`), where it
    /// must.
    pub(crate) async fn deliver(
        &self,
        payload: Payload,
        deadline: tokio::time::Instant,
        stop: Option<Stop>,
    ) -> Result<(), Refusal> {
        let offered = self.offer(payload);
        if offered.pending.is_empty() {
            return offered.decide(&self.tally);
        }
        offered.settle(&self.tally, deadline, stop).await
    }

    /// The tally drops are counted on.
    pub(crate) fn tally(&self) -> &Arc<Tally> {
        &self.tally
    }
}

impl Offered {
    /// Counts the payload as taken: the caller holds what waits until it is taken (the
    /// embedded receiver, which never makes its caller wait).
    pub(crate) fn hold(&mut self) {
        self.taken = true;
    }

    /// Waits in place, blocking the thread, for the persistent queues' commits
    /// ([`Pending::Commit`]): an embedder's `ingest` returns once its data is on stable
    /// storage, as `fsync: true` promises.
    pub(crate) fn commit_blocking(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        for (id, p) in pending {
            match p {
                Pending::Commit { wal, seq } => match wal.synced_blocking(seq) {
                    Ok(()) => self.taken = true,
                    Err(e) => self.refused.push((id, Refusal::Retryable(e))),
                },
                other => self.pending.push((id, other)),
            }
        }
    }

    /// Takes the waits out, for a caller that settles them itself (the embedded receiver
    /// holds them on a task); what is left decides as [`Offered::decide`] does.
    pub(crate) fn take_pending(&mut self) -> Vec<(String, Pending)> {
        std::mem::take(&mut self.pending)
    }

    /// Waits for every pending pipeline (up to `deadline`), then decides.
    pub(crate) async fn settle(
        mut self,
        tally: &Tally,
        deadline: tokio::time::Instant,
        stop: Option<Stop>,
    ) -> Result<(), Refusal> {
        for (id, p) in std::mem::take(&mut self.pending) {
            match p.settle(deadline, stop.clone()).await {
                Settled::Taken => self.taken = true,
                Settled::Refused(r) => self.refused.push((id, r)),
                Settled::TimedOut => self.timed_out.push(id),
            }
        }
        self.decide(tally)
    }

    /// With nothing pending: taken by any pipeline is taken (the others' refusals are
    /// dropped and counted); taken by none gives the first refusal, a retryable one first.
    pub(crate) fn decide(self, tally: &Tally) -> Result<(), Refusal> {
        if self.taken {
            for id in &self.timed_out {
                tally.drop_items(id, DropReason::BlockedTimeout, self.items);
                tracing::warn!(
                    pipeline = %id,
                    dropped_items = self.items,
                    "A pipeline had no room for data another pipeline of the receiver took before the wait ended; dropping it for this pipeline."
                );
            }
            for (id, r) in &self.refused {
                let reason = match r {
                    Refusal::Retryable(_) => DropReason::Refused,
                    Refusal::Permanent(_) | Refusal::Rejected(_) => DropReason::Permanent,
                    // Counted where it happened.
                    Refusal::Dropped(_) | Refusal::Pending(_) => continue,
                };
                tally.drop_items(id, reason, self.items);
                tracing::warn!(
                    pipeline = %id,
                    error = ?r,
                    dropped_items = self.items,
                    "A pipeline refused data another pipeline of the receiver took; dropping it for this pipeline."
                );
            }
            return Ok(());
        }
        let mut refused = self.refused;
        if let Some(i) = refused
            .iter()
            .position(|(_, r)| matches!(r, Refusal::Retryable(_)))
        {
            return Err(refused.swap_remove(i).1);
        }
        if let Some((_, r)) = refused.into_iter().next() {
            return Err(r);
        }
        Err(Refusal::Retryable(if self.timed_out.is_empty() {
            "no pipeline took the data".to_owned()
        } else {
            "timed out waiting for room in the pipeline".to_owned()
        }))
    }
}

/// An exporter as a pipeline sees it: a queue that may be full.
pub(crate) trait ExporterQueue: Send + Sync {
    /// Takes the payload into the exporter's queue; refuses when full (retryable), or with
    /// `block_on_overflow` says to wait for room ([`Pending::Room`] with `resume` as given),
    /// or, for an exporter without a queue or with `wait_for_result`, hands back the
    /// export's outcome to wait for ([`Pending::Outcome`]).
    fn offer(
        &self,
        payload: Payload,
        resume: &dyn Fn() -> Arc<dyn Consumer>,
    ) -> Result<(), Refusal>;
    /// Counts a payload dropped for this exporter while another exporter of the pipeline
    /// took it (the independence rule): its queue was full, or its export failed.
    fn dropped(&self, items: u64, reason: DropReason);
    /// Whether a full queue makes the pipeline wait (`block_on_overflow`).
    fn blocks(&self) -> bool {
        false
    }
}

/// The end of a pipeline: hands the payload to each exporter's queue.
///
/// Independence rule (`docs/architecture.md`, "Exporters"): when one exporter's queue is full and another exporter of
/// the pipeline took the payload, the full one drops it and counts it; only when no exporter
/// could take it is the payload refused (retryable), so nothing is lost silently and one
/// slow backend never blocks another.
///
/// Exporters with `block_on_overflow` couple the pipeline to them: they are offered the
/// payload first, and while one is full the pipeline waits at it, so that no exporter gets
/// the payload twice and the others get it once it had room (docs/runtime.md).
pub(crate) struct ExporterFanout {
    /// Blocking exporters first.
    exporters: Vec<Arc<dyn ExporterQueue>>,
    /// Exporters before this fanout (of the same pipeline) already took the payload.
    taken_before: bool,
}

impl ExporterFanout {
    pub(crate) fn new(mut exporters: Vec<Arc<dyn ExporterQueue>>) -> Arc<ExporterFanout> {
        // Stable: the configured order within each group.
        exporters.sort_by_key(|e| !e.blocks());
        Arc::new(ExporterFanout {
            exporters,
            taken_before: false,
        })
    }
}

impl Consumer for ExporterFanout {
    fn consume(&self, payload: Payload) -> Result<(), Refusal> {
        let items = payload.items();
        let mut taken = self.taken_before;
        let mut full = Vec::new();
        let mut outcomes = Vec::new();
        let mut last_err = None;
        for (i, e) in self.exporters.iter().enumerate() {
            // What to resume with if this exporter makes the pipeline wait: the exporters
            // from it on, remembering whether those before took it.
            let rest = |taken: bool| {
                move || -> Arc<dyn Consumer> {
                    Arc::new(ExporterFanout {
                        exporters: self.exporters[i..].to_vec(),
                        taken_before: taken,
                    })
                }
            };
            let resume = rest(taken);
            match e.offer(payload.clone(), &resume) {
                Ok(()) => taken = true,
                Err(Refusal::Pending(p @ Pending::Room { .. })) => {
                    return Err(Refusal::Pending(p));
                }
                Err(Refusal::Pending(p)) => outcomes.push((i, p)),
                Err(err) => {
                    full.push(i);
                    last_err = Some(err);
                }
            }
        }
        if outcomes.is_empty() {
            if taken {
                for i in full {
                    self.exporters[i].dropped(items, DropReason::QueueFull);
                }
                return Ok(());
            }
            return Err(last_err.unwrap_or_else(|| Refusal::Retryable("no exporter".to_owned())));
        }
        // Some exporters export while the caller waits: the outcome is theirs, unless
        // another exporter took the payload (then their failures are counted as drops).
        let full: Vec<Arc<dyn ExporterQueue>> = full
            .into_iter()
            .map(|i| self.exporters[i].clone())
            .collect();
        let waiting: Vec<Arc<dyn ExporterQueue>> = outcomes
            .iter()
            .map(|(i, _)| self.exporters[*i].clone())
            .collect();
        Err(Refusal::Pending(Pending::Outcome(Box::pin(async move {
            let bound = tokio::time::Instant::now() + SYNC_EXPORT_BOUND;
            let mut failed = Vec::new();
            for ((_, p), e) in outcomes.into_iter().zip(waiting) {
                match p.settle(bound, None).await {
                    Settled::Taken => taken = true,
                    Settled::Refused(r) => failed.push((e, r)),
                    Settled::TimedOut => failed.push((
                        e,
                        Refusal::Retryable("the export did not finish in time".to_owned()),
                    )),
                }
            }
            if taken {
                for e in full {
                    e.dropped(items, DropReason::QueueFull);
                }
                for (e, r) in failed {
                    let reason = match r {
                        Refusal::Permanent(_) | Refusal::Rejected(_) => DropReason::Permanent,
                        _ => DropReason::RetriesExhausted,
                    };
                    e.dropped(items, reason);
                }
                Ok(())
            } else {
                Err(failed
                    .into_iter()
                    .map(|(_, r)| r)
                    .next()
                    .or(last_err)
                    .unwrap_or_else(|| Refusal::Retryable("no exporter".to_owned())))
            }
        }))))
    }
}

/// The longest a synchronous export is waited for inside a fanout (the caller's own
/// deadline usually ends the wait first).
const SYNC_EXPORT_BOUND: std::time::Duration = std::time::Duration::from_secs(300);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Signal;

    /// A wait cut short leaves only the unfinished tasks, so aborting and awaiting the rest
    /// never polls a finished handle (which panics: a failed start that stopped an
    /// exporter at once crashed the binary about one time in twenty).
    #[tokio::test]
    async fn a_cut_short_join_keeps_only_unfinished_tasks() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let mut tasks = vec![
            tokio::spawn(async {}),
            tokio::spawn(async {
                let _ = rx.await;
            }),
        ];
        tokio::task::yield_now().await;
        let cut = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            join_in_order(&mut tasks),
        )
        .await;
        assert!(cut.is_err());
        assert_eq!(tasks.len(), 1, "the finished task left the list");
        for t in &tasks {
            t.abort();
        }
        join_in_order(&mut tasks).await;
        assert!(tasks.is_empty());
        drop(tx);
    }
    use parking_lot::Mutex;
    use tokio::sync::Notify;

    /// An exporter queue with `room` slots; with `blocks`, a full one makes the pipeline wait.
    struct Fake {
        room: Mutex<usize>,
        got: Mutex<u64>,
        dropped: Mutex<u64>,
        blocks: bool,
        freed: Arc<Notify>,
    }

    impl Fake {
        fn new(room: usize, blocks: bool) -> Arc<Fake> {
            Arc::new(Fake {
                room: Mutex::new(room),
                got: Mutex::new(0),
                dropped: Mutex::new(0),
                blocks,
                freed: Arc::new(Notify::new()),
            })
        }

        fn free(&self, n: usize) {
            *self.room.lock() += n;
            self.freed.notify_waiters();
        }
    }

    impl ExporterQueue for Fake {
        fn offer(&self, p: Payload, resume: &dyn Fn() -> Arc<dyn Consumer>) -> Result<(), Refusal> {
            let mut room = self.room.lock();
            if *room == 0 {
                if self.blocks {
                    return Err(Refusal::Pending(Pending::Room {
                        room: self.freed.clone(),
                        payload: Box::new(p),
                        resume: resume(),
                    }));
                }
                return Err(Refusal::Retryable("sending queue is full".into()));
            }
            *room -= 1;
            *self.got.lock() += p.items();
            Ok(())
        }
        fn dropped(&self, items: u64, _: DropReason) {
            *self.dropped.lock() += items;
        }
        fn blocks(&self) -> bool {
            self.blocks
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

    fn soon(ms: u64) -> tokio::time::Instant {
        tokio::time::Instant::now() + std::time::Duration::from_millis(ms)
    }

    #[test]
    fn independence_rule() {
        let a = Fake::new(1, false);
        let b = Fake::new(5, false);
        let fan = ExporterFanout::new(vec![a.clone(), b.clone()]);
        fan.consume(payload()).unwrap();
        fan.consume(payload()).unwrap();
        // `a` was full the second time: it dropped and counted, `b` took both.
        assert_eq!((*a.got.lock(), *a.dropped.lock()), (3, 3));
        assert_eq!((*b.got.lock(), *b.dropped.lock()), (6, 0));
        // Both full: refused, nothing counted as dropped.
        let c = Fake::new(0, false);
        let d = Fake::new(0, false);
        let fan = ExporterFanout::new(vec![c.clone(), d.clone()]);
        assert!(matches!(fan.consume(payload()), Err(Refusal::Retryable(_))));
        assert_eq!(*c.dropped.lock() + *d.dropped.lock(), 0);
    }

    #[tokio::test]
    async fn a_blocking_exporter_makes_the_pipeline_wait_in_place() {
        // `b` blocks and is full; `a` is listed first but is offered after `b`.
        let a = Fake::new(5, false);
        let b = Fake::new(0, true);
        let fan = ExporterFanout::new(vec![a.clone(), b.clone()]);
        let Err(Refusal::Pending(p)) = fan.consume(payload()) else {
            panic!("expected a wait")
        };
        assert_eq!(*a.got.lock(), 0, "nothing goes anywhere while `b` is full");
        let freer = {
            let b = b.clone();
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                b.free(1);
            })
        };
        assert!(matches!(p.settle(soon(5000), None).await, Settled::Taken));
        freer.await.unwrap();
        assert_eq!((*a.got.lock(), *b.got.lock()), (3, 3));
    }

    #[tokio::test]
    async fn resuming_skips_the_exporters_that_took_it() {
        // Two blocking exporters: the first takes it, the second is full. After the wait
        // only the second is offered the payload: the first does not get it twice.
        let a = Fake::new(5, true);
        let b = Fake::new(0, true);
        let fan = ExporterFanout::new(vec![a.clone(), b.clone()]);
        let Err(Refusal::Pending(p)) = fan.consume(payload()) else {
            panic!("expected a wait")
        };
        assert_eq!(*a.got.lock(), 3);
        b.free(1);
        assert!(matches!(p.settle(soon(5000), None).await, Settled::Taken));
        assert_eq!((*a.got.lock(), *b.got.lock()), (3, 3));
        // If the wait ends first, the second drops it, counted: the first had taken it.
        let c = Fake::new(5, true);
        let d = Fake::new(0, true);
        let fan = ExporterFanout::new(vec![c.clone(), d.clone()]);
        let Err(Refusal::Pending(p)) = fan.consume(payload()) else {
            panic!("expected a wait")
        };
        assert!(matches!(p.settle(soon(60), None).await, Settled::TimedOut));
        assert_eq!((*c.got.lock(), *d.got.lock()), (3, 0));
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
        let tally = Arc::new(Tally::default());
        let a = Arc::new(Count(Mutex::new(0), false));
        let b = Arc::new(Count(Mutex::new(0), false));
        let fan = ReceiverFanout::new(
            vec![
                ("traces/a".into(), a.clone()),
                ("traces/b".into(), b.clone()),
            ],
            tally.clone(),
        );
        fan.offer(payload()).decide(&tally).unwrap();
        assert_eq!((*a.0.lock(), *b.0.lock()), (3, 3));
        // One pipeline refuses while the other takes it: taken (a retry would give `a` the
        // payload twice), and the refusing pipeline's drop is counted.
        let bad = Arc::new(Count(Mutex::new(0), true));
        let fan = ReceiverFanout::new(
            vec![("traces/bad".into(), bad), ("traces/a".into(), a.clone())],
            tally.clone(),
        );
        fan.offer(payload()).decide(&tally).unwrap();
        assert_eq!(*a.0.lock(), 6);
        assert_eq!(tally.dropped.get(), 3);
        // Refused by all: the sender is told to retry.
        let bad2 = Arc::new(Count(Mutex::new(0), true));
        let fan = ReceiverFanout::new(vec![("traces/x".into(), bad2)], tally.clone());
        assert!(matches!(
            fan.offer(payload()).decide(&tally),
            Err(Refusal::Retryable(_))
        ));
    }

    #[tokio::test]
    async fn two_pipelines_one_blocked_each_gets_the_payload_once() {
        let tally = Arc::new(Tally::default());
        let fast = Fake::new(100, false);
        let slow = Fake::new(0, true);
        let p1: Arc<dyn Consumer> = ExporterFanout::new(vec![fast.clone()]);
        let p2: Arc<dyn Consumer> = ExporterFanout::new(vec![slow.clone()]);
        let fan = ReceiverFanout::new(
            vec![("traces/fast".into(), p1), ("traces/slow".into(), p2)],
            tally.clone(),
        );
        let freer = {
            let slow = slow.clone();
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(120)).await;
                slow.free(1);
            })
        };
        fan.deliver(payload(), soon(5000), None).await.unwrap();
        freer.await.unwrap();
        assert_eq!((*fast.got.lock(), *slow.got.lock()), (3, 3));
        // The wait ends before the slow pipeline has room: taken (the fast one has it), the
        // slow one's copy dropped and counted as a blocked timeout.
        fan.deliver(payload(), soon(60), None).await.unwrap();
        assert_eq!((*fast.got.lock(), *slow.got.lock()), (6, 3));
        assert_eq!(tally.dropped.get(), 3);
        // Nobody took it in time: retryable.
        let only_slow: Arc<dyn Consumer> = ExporterFanout::new(vec![slow.clone()]);
        let fan = ReceiverFanout::new(vec![("traces/slow".into(), only_slow)], tally.clone());
        assert!(matches!(
            fan.deliver(payload(), soon(60), None).await,
            Err(Refusal::Retryable(_))
        ));
    }
}
