"""``BatchSpanProcessor``: the fast path from the SDK to an in-process collector.

A drop-in for the SDK's ``BatchSpanProcessor(OTLPSpanExporter(...))``. The application
thread records the few fields of a finished span that are needed (``on_end``: one tuple,
so the span itself is freed at once); a background thread packs a batch into
the packed spans format (``_packed``) and crosses the C ABI once per batch; the library
builds the OTLP request and the collector's pipelines take it from there. Encoding OTLP in
Python, most of what exporting costs with the SDK's exporters, does not happen.

Same keyword arguments, ``OTEL_BSP_*`` variables and defaults as the SDK's processor. When
the collector answers "retryable" the batch stays and is tried again next cycle; when the
queue is full new spans are dropped, counted in :attr:`BatchSpanProcessor.dropped_spans`
and logged at most once a minute.
"""

import collections
import logging
import os
import threading
import time
import weakref

from opentelemetry.sdk.trace import SpanProcessor

from . import _collector
from ._errors import CollectorError, RetryableError
from ._packed import pack_records, record

_logger = logging.getLogger(__name__)


def _env_int(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        _logger.exception("Unable to parse value for %s as integer. Defaulting to %s.", name, default)
        return default


class BatchSpanProcessor(SpanProcessor):
    """Queues finished spans and hands them to ``collector`` in packed batches.

    ``max_queue_size`` (``OTEL_BSP_MAX_QUEUE_SIZE``, 2048), ``schedule_delay_millis``
    (``OTEL_BSP_SCHEDULE_DELAY``, 5000), ``max_export_batch_size``
    (``OTEL_BSP_MAX_EXPORT_BATCH_SIZE``, 512) and ``export_timeout_millis``
    (``OTEL_BSP_EXPORT_TIMEOUT``, 30000) mean what they mean for the SDK's processor.
    """

    def __init__(
        self,
        collector,
        max_queue_size=None,
        schedule_delay_millis=None,
        max_export_batch_size=None,
        export_timeout_millis=None,
    ):
        if not isinstance(collector, _collector.Collector):
            raise TypeError(f"collector must be a collector_ffi.Collector, not {type(collector).__name__}")
        if max_queue_size is None:
            max_queue_size = _env_int("OTEL_BSP_MAX_QUEUE_SIZE", 2048)
        if schedule_delay_millis is None:
            schedule_delay_millis = _env_int("OTEL_BSP_SCHEDULE_DELAY", 5000)
        if max_export_batch_size is None:
            max_export_batch_size = _env_int("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512)
        if export_timeout_millis is None:
            export_timeout_millis = _env_int("OTEL_BSP_EXPORT_TIMEOUT", 30000)
        # The SDK's checks and messages.
        if max_queue_size <= 0:
            raise ValueError("max_queue_size must be a positive integer.")
        if schedule_delay_millis <= 0:
            raise ValueError("schedule_delay_millis must be positive.")
        if max_export_batch_size <= 0:
            raise ValueError("max_export_batch_size must be a positive integer.")
        if max_export_batch_size > max_queue_size:
            raise ValueError("max_export_batch_size must be less than or equal to max_queue_size.")
        self._collector = collector
        self._max_queue = max_queue_size
        self._delay = schedule_delay_millis / 1000.0
        self._batch = max_export_batch_size
        self._timeout = export_timeout_millis / 1000.0
        #: Spans dropped because the queue was full.
        self.dropped_spans = 0
        self._last_drop_log = 0.0
        self._shutdown = False
        self._init_state()
        ref = weakref.WeakMethod(self._at_fork_reinit)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=lambda: ref() and ref()())

    def _init_state(self):
        self._queue = collections.deque()
        # A batch the collector refused for now (retryable), with how many spans it holds.
        self._held = None
        self._held_spans = 0
        self._cond = threading.Condition(threading.Lock())
        # One exporter at a time: the worker or a flushing caller.
        self._export_lock = threading.Lock()
        self._wake = False
        self._worker = threading.Thread(target=self._run, name="collector_ffi BatchSpanProcessor", daemon=True)
        self._worker.start()

    def _at_fork_reinit(self):
        # The parent's worker thread does not exist here, and its queue is the parent's to
        # export: start empty, with a thread and locks of our own.
        if not self._shutdown:
            self._init_state()

    def on_start(self, span, parent_context=None):
        pass

    def on_end(self, span):
        if self._shutdown:
            return
        try:
            sampled = span._context[3] & 1  # trace_flags, without two property calls
        except (AttributeError, TypeError, IndexError):
            sampled = span.context.trace_flags.sampled
        if not sampled:
            return
        q = self._queue
        n = len(q)
        if n + self._held_spans >= self._max_queue:
            self._drop()
            return
        # The fields, not the span: a span kept alive until its batch is packed costs more
        # in garbage collection than packing it does.
        q.append(record(span))
        if n + 1 == self._batch:
            with self._cond:
                self._wake = True
                self._cond.notify()

    def _drop(self):
        self.dropped_spans += 1
        now = time.monotonic()
        if now - self._last_drop_log >= 60:
            self._last_drop_log = now
            _logger.warning(
                "Queue is full, likely spans will be dropped (%d dropped so far).", self.dropped_spans
            )

    def _run(self):
        refused = False
        while not self._shutdown:
            with self._cond:
                # After a "retryable" the next try is the next cycle, however full the queue.
                if refused or (not self._wake and len(self._queue) < self._batch):
                    self._cond.wait(self._delay)
                self._wake = False
            if self._shutdown:
                break
            with self._export_lock:
                refused = not self._export(deadline=None)

    def _export(self, deadline):
        """Hands over what is queued, a batch at a time. With no deadline (the worker) it
        stops at the first "retryable" and keeps that batch for the next cycle; with one
        (flush, shutdown) it retries until the deadline. True when the queue is empty."""
        q = self._queue
        while True:
            if self._held is None:
                n = min(len(q), self._batch)
                if n == 0:
                    return True
                records = [q.popleft() for _ in range(n)]
                try:
                    self._held = pack_records(records)
                except Exception:  # a bug, or a span the SDK should not have produced
                    _logger.exception("collector_ffi: could not pack %d spans; dropped", n)
                    continue
                self._held_spans = n
            try:
                self._collector.ingest_packed_spans(self._held)
            except RetryableError:
                if deadline is None:
                    return False
                if _collector.exit_deadline is not None:
                    deadline = min(deadline, _collector.exit_deadline)
                if time.monotonic() >= deadline:
                    return False
                time.sleep(min(0.05, max(deadline - time.monotonic(), 0)))
                continue
            except CollectorError as e:
                _logger.error("collector_ffi: dropped %d spans: %s", self._held_spans, e)
            self._held = None
            self._held_spans = 0

    def force_flush(self, timeout_millis=30000):
        """Hands over every queued span and waits until the collector delivered it, within
        ``timeout_millis``; True if all of it was."""
        deadline = time.monotonic() + timeout_millis / 1000.0
        if not self._export_lock.acquire(timeout=max(deadline - time.monotonic(), 0)):
            return False
        try:
            if not self._export(deadline):
                return False
        finally:
            self._export_lock.release()
        try:
            self._collector.flush(timeout_s=max(deadline - time.monotonic(), 0))
        except CollectorError as e:
            _logger.warning("collector_ffi: flush: %s", e)
            return False
        return True

    def shutdown(self):
        """Stops the worker and hands over what is queued (within ``export_timeout_millis``),
        then waits for the collector to deliver it. The collector keeps running."""
        if self._shutdown:
            return
        self._shutdown = True
        with self._cond:
            self._cond.notify()
        self._worker.join(self._timeout)
        # Bounded like exit (the SDK calls this from its exit handler).
        bound = min(self._timeout, self._collector._exit_ms / 1000.0)
        if _collector.exit_deadline is not None:
            bound = min(bound, max(_collector.exit_deadline - time.monotonic(), 0))
        self.force_flush(int(bound * 1000))
