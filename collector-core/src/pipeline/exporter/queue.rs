//! `sending_queue`: each exporter's bounded queue (exporterhelper `QueueBatchConfig`).

use serde::{Deserialize, Serialize};

use crate::config::Duration;
use crate::config::validate::Problems;

/// What a queue's size counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Sizer {
    /// Requests (batches).
    #[default]
    Requests,
    /// Items (spans, data points, log records).
    Items,
    /// Encoded bytes.
    Bytes,
}

impl Sizer {
    /// What a request of `items` items and `bytes` encoded bytes counts.
    pub(crate) fn units(self, items: u64, bytes: u64) -> u64 {
        match self {
            Sizer::Requests => 1,
            Sizer::Items => items,
            Sizer::Bytes => bytes,
        }
    }
}

/// `sending_queue::batch` (exporter-side batching).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct QueueBatchConfig {
    /// Flush after this long.
    pub flush_timeout: Duration,
    /// What the sizes count (`items` or `bytes`).
    pub sizer: Sizer,
    /// Flush at this size.
    pub min_size: i64,
    /// Split above this size (0: never).
    pub max_size: i64,
}

impl Default for QueueBatchConfig {
    fn default() -> Self {
        QueueBatchConfig {
            flush_timeout: Duration::from_millis(200),
            sizer: Sizer::Items,
            min_size: 8192,
            max_size: 0,
        }
    }
}

/// `sending_queue` configuration.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub(crate) struct QueueConfig {
    /// Queue at all (without a queue, export happens in the caller).
    pub enabled: bool,
    /// Make the caller wait for the export result.
    pub wait_for_result: bool,
    /// What `queue_size` counts.
    pub sizer: Sizer,
    /// Capacity.
    pub queue_size: i64,
    /// Wait for room instead of dropping when full.
    pub block_on_overflow: bool,
    /// Persistent queue storage extension id.
    pub storage: Option<String>,
    /// Concurrent senders.
    pub num_consumers: i64,
    /// Exporter-side batching (not supported; use the batch processor).
    #[serde(default, deserialize_with = "crate::config::net::present")]
    pub batch: Option<QueueBatchConfig>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            enabled: true,
            wait_for_result: false,
            sizer: Sizer::Requests,
            queue_size: 1000,
            block_on_overflow: false,
            storage: None,
            num_consumers: 10,
            batch: None,
        }
    }
}

impl QueueConfig {
    /// Go's `queuebatch.Config.Validate` (skipped when disabled).
    pub(crate) fn validate(&self, p: &mut Problems) {
        if !self.enabled {
            return;
        }
        if self.num_consumers <= 0 {
            p.key("num_consumers", "`num_consumers` must be positive");
        }
        if self.queue_size <= 0 {
            p.key("queue_size", "`queue_size` must be positive");
        }
        if self.storage.is_some() && self.wait_for_result {
            p.root("`wait_for_result` is not supported with a persistent queue configured with `storage`");
        }
        if let Some(b) = &self.batch {
            if b.sizer == Sizer::Requests {
                p.key(
                    "batch::sizer",
                    "`batch` supports only `items` or `bytes` sizer, found \"requests\"",
                );
            }
            if b.flush_timeout.as_nanos() <= 0 {
                p.key(
                    "batch::flush_timeout",
                    format!(
                        "`flush_timeout` must be positive, found {}",
                        b.flush_timeout.as_nanos()
                    ),
                );
            }
            if b.min_size < 0 {
                p.key(
                    "batch::min_size",
                    format!("`min_size` must be non-negative, found {}", b.min_size),
                );
            }
            if b.max_size < 0 {
                p.key(
                    "batch::max_size",
                    format!("`max_size` must be non-negative, found {}", b.max_size),
                );
            }
            if b.max_size > 0 && b.max_size < b.min_size {
                p.key(
                    "batch::max_size",
                    format!(
                        "`max_size` ({}) must be greater or equal to `min_size` ({})",
                        b.max_size, b.min_size
                    ),
                );
            }
            if b.sizer == self.sizer && b.min_size > self.queue_size {
                p.root("`min_size` must be less than or equal to `queue_size`");
            }
            p.key(
                "batch",
                "exporter-side batching is not supported by this collector: use the batch processor",
            );
        }
    }
}

/// A queued payload, and who waits for its outcome (`wait_for_result`), if anyone.
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) payload: crate::otlp::Payload,
    pub(crate) done: Option<tokio::sync::oneshot::Sender<Result<(), crate::pipeline::Refusal>>>,
}

impl From<crate::otlp::Payload> for Queued {
    fn from(payload: crate::otlp::Payload) -> Queued {
        Queued {
            payload,
            done: None,
        }
    }
}

/// The runtime queue: bounded by `capacity` in `sizer` units, lock-light (one short critical
/// section per push or pop), with a wake-up for the consumers.
pub(crate) struct Queue {
    state: parking_lot::Mutex<QueueState>,
    ready: tokio::sync::Notify,
    /// Woken whenever an item leaves the queue.
    pub(crate) room: std::sync::Arc<tokio::sync::Notify>,
    /// Woken whenever a taken item is done with (`flush` waits on it).
    settled: tokio::sync::Notify,
    capacity: u64,
    sizer: Sizer,
}

struct QueueState {
    items: std::collections::VecDeque<Queued>,
    size: u64,
    closed: bool,
    /// Items ever pushed: the position the next push gets.
    pushed: u64,
    /// Items ever taken (popped or drained), in push order: every position below it has
    /// left the queue.
    taken: u64,
    /// Positions popped and not yet [`done`](Queue::done) (being exported).
    in_flight: std::collections::BTreeSet<u64>,
}

impl Queue {
    pub(crate) fn new(capacity: u64, sizer: Sizer) -> Queue {
        Queue {
            state: parking_lot::Mutex::new(QueueState {
                items: std::collections::VecDeque::new(),
                size: 0,
                closed: false,
                pushed: 0,
                taken: 0,
                in_flight: std::collections::BTreeSet::new(),
            }),
            ready: tokio::sync::Notify::new(),
            room: std::sync::Arc::new(tokio::sync::Notify::new()),
            settled: tokio::sync::Notify::new(),
            capacity,
            sizer,
        }
    }

    fn units(&self, q: &Queued) -> u64 {
        let p = &q.payload;
        self.sizer.units(p.items(), p.encoded_len() as u64)
    }

    /// Adds `p`, or gives it back when the queue is full or closed.
    pub(crate) fn try_push(&self, p: Queued) -> Result<(), Queued> {
        let units = self.units(&p);
        {
            let mut s = self.state.lock();
            // A single item larger than the whole queue still fits an empty queue, so it
            // is not refused forever.
            if s.closed || (s.size + units > self.capacity && !s.items.is_empty()) {
                return Err(p);
            }
            s.size += units;
            s.pushed += 1;
            s.items.push_back(p);
        }
        self.ready.notify_one();
        Ok(())
    }

    /// The next payload and its position; `None` once the queue is closed and empty.
    /// The position stays in flight until [`done`](Self::done) is called with it.
    pub(crate) async fn pop(&self) -> Option<(u64, Queued)> {
        loop {
            let notified = self.ready.notified();
            {
                let mut s = self.state.lock();
                if let Some(p) = s.items.pop_front() {
                    s.size -= self.units(&p);
                    let position = s.taken;
                    s.taken += 1;
                    s.in_flight.insert(position);
                    let more = !s.items.is_empty();
                    drop(s);
                    self.room.notify_waiters();
                    if more {
                        // Keep the other consumers going.
                        self.ready.notify_one();
                    }
                    return Some((position, p));
                }
                if s.closed {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// Refuses new items; consumers drain what is queued, then see `None`.
    pub(crate) fn close(&self) {
        self.state.lock().closed = true;
        self.ready.notify_waiters();
    }

    /// A popped payload has been delivered or dropped.
    pub(crate) fn done(&self, position: u64) {
        self.state.lock().in_flight.remove(&position);
        self.settled.notify_waiters();
    }

    /// Takes everything still queued (at the shutdown deadline), and forgets what is in
    /// flight (the caller counts it as dropped).
    pub(crate) fn drain(&self) -> Vec<Queued> {
        let mut s = self.state.lock();
        s.size = 0;
        let left: Vec<_> = s.items.drain(..).collect();
        s.taken += left.len() as u64;
        s.in_flight.clear();
        drop(s);
        self.settled.notify_waiters();
        left
    }

    /// The position the next push gets: every payload pushed so far is below it.
    pub(crate) fn mark(&self) -> u64 {
        self.state.lock().pushed
    }

    /// Waits until every payload pushed below `mark` has been delivered or dropped, or
    /// `deadline` passes (false).
    pub(crate) async fn settled(&self, mark: u64, deadline: tokio::time::Instant) -> bool {
        loop {
            let notified = self.settled.notified();
            tokio::pin!(notified);
            // Registered before the check, so a completion in between is not missed.
            notified.as_mut().enable();
            {
                let s = self.state.lock();
                if s.taken >= mark && s.in_flight.first().is_none_or(|&p| p >= mark) {
                    return true;
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return false;
            }
        }
    }

    /// Current size in sizer units.
    pub(crate) fn size(&self) -> u64 {
        self.state.lock().size
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Signal;
    use crate::otlp::Payload;

    fn payload(spans: usize) -> Payload {
        let mut out = Vec::new();
        crate::otlp::wire::put_nested(&mut out, 1, |rs| {
            crate::otlp::wire::put_nested(rs, 2, |ss| {
                for _ in 0..spans {
                    crate::otlp::wire::put_nested(ss, 2, |_| {});
                }
            })
        });
        Payload::decode(Signal::Traces, bytes::Bytes::from(out)).unwrap()
    }

    #[tokio::test]
    async fn bounded_by_sizer_and_drained_after_close() {
        let q = Queue::new(5, Sizer::Items);
        q.try_push(Queued::from(payload(3))).unwrap();
        assert!(q.try_push(Queued::from(payload(3))).is_err());
        q.try_push(Queued::from(payload(2))).unwrap();
        assert_eq!(q.size(), 5);
        q.close();
        assert!(q.try_push(Queued::from(payload(1))).is_err());
        assert_eq!(q.pop().await.unwrap().1.payload.items(), 3);
        assert_eq!(q.pop().await.unwrap().1.payload.items(), 2);
        assert!(q.pop().await.is_none());
        // An item larger than the queue fits an empty queue.
        let q = Queue::new(1, Sizer::Items);
        q.try_push(Queued::from(payload(4))).unwrap();
    }

    #[tokio::test]
    async fn consumers_wake_up() {
        let q = std::sync::Arc::new(Queue::new(10, Sizer::Requests));
        let q2 = q.clone();
        let t = tokio::spawn(async move { q2.pop().await.map(|(_, p)| p.payload.items()) });
        tokio::task::yield_now().await;
        q.try_push(Queued::from(payload(7))).unwrap();
        assert_eq!(t.await.unwrap(), Some(7));
    }

    #[tokio::test]
    async fn settled_waits_for_what_was_pushed_before_the_mark_only() {
        let q = std::sync::Arc::new(Queue::new(10, Sizer::Requests));
        let soon = || tokio::time::Instant::now() + std::time::Duration::from_millis(50);
        assert!(
            q.settled(q.mark(), soon()).await,
            "an empty queue is settled"
        );
        q.try_push(Queued::from(payload(1))).unwrap();
        q.try_push(Queued::from(payload(2))).unwrap();
        let mark = q.mark();
        let (a, _) = q.pop().await.unwrap();
        let (b, _) = q.pop().await.unwrap();
        // Pushed after the mark: not waited for.
        q.try_push(Queued::from(payload(3))).unwrap();
        q.done(b);
        assert!(
            !q.settled(mark, soon()).await,
            "the first is still in flight"
        );
        let q2 = q.clone();
        let waiter = tokio::spawn(async move {
            q2.settled(
                mark,
                tokio::time::Instant::now() + std::time::Duration::from_secs(5),
            )
            .await
        });
        tokio::task::yield_now().await;
        q.done(a);
        assert!(waiter.await.unwrap());
        // Drained at shutdown: settled too.
        let mark = q.mark();
        assert_eq!(q.drain().len(), 1);
        assert!(q.settled(mark, soon()).await);
    }
}
