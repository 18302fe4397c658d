"""``Collector``: one in-process collector behind an ``otelcol_collector`` handle.

Process life, which is what this module is mostly about:

- fork: ``os.register_at_fork`` tells the library it runs in a new child, which then never
  touches the parent's collector and starts a fresh one (no listener, fresh memory budget)
  on first use. The Python objects are shared by the copy, the collectors are not.
- exit: an ``atexit`` handler, registered at import, first asks the SDK's global providers
  (if the SDK is loaded) to flush what their batch processors hold into our exporters, then
  shuts every running collector down, all within the collectors' ``exit_timeout_s`` (5 s by
  default), so exit never hangs. A ``multiprocessing`` child started by fork leaves through
  ``os._exit`` and runs no ``atexit`` handler: there the same work runs as a
  ``multiprocessing`` finalizer.
"""

import atexit
import json
import os
import sys
import threading
import time
import weakref
from collections import namedtuple

from . import _errors
from ._lib import Report as _CReport
from ._lib import lib

import ctypes

TRACES = 1
METRICS = 2
LOGS = 3
_SIGNALS = {"traces": TRACES, "metrics": METRICS, "logs": LOGS, TRACES: TRACES, METRICS: METRICS, LOGS: LOGS}

#: The largest timeout the C ABI takes (u32 milliseconds, about 49 days).
_MAX_MS = 2**32 - 1

ShutdownReport = namedtuple("ShutdownReport", ["delivered_items", "dropped_items"])
ShutdownReport.__doc__ = "What a collector delivered and dropped over its life."


def _check(rc):
    if rc != 0:
        msg = lib.otelcol_last_error() or lib.otelcol_result_str(rc) or b""
        raise _errors.error_for(rc, msg.decode("utf-8", "replace"))


def _millis(timeout_s, what):
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)):
        raise TypeError(f"{what} must be a number of seconds, not {type(timeout_s).__name__}")
    if timeout_s != timeout_s or timeout_s < 0:
        raise ValueError(f"{what} must be a number of seconds >= 0, not {timeout_s!r}")
    return int(min(timeout_s * 1000.0, _MAX_MS))


def _config_text(config):
    if isinstance(config, dict):
        # JSON is YAML; indented so that an error's line number points at the key.
        try:
            return json.dumps(config, indent=2)
        except (TypeError, ValueError) as e:
            raise TypeError(f"config dict is not plain data (str, numbers, lists, dicts): {e}") from None
    if isinstance(config, str):
        return config
    if isinstance(config, os.PathLike):
        with open(config, encoding="utf-8") as f:
            return f.read()
    raise TypeError(f"config must be YAML text (str), a dict or a path, not {type(config).__name__}")


class Collector:
    """An OpenTelemetry collector running inside this process.

    ``config`` is the collector's YAML (a ``str``), the same configuration as a ``dict``, or
    a path to a YAML file (``os.PathLike``). Pipelines that take in-process data list the
    ``embedded`` receiver. The configuration is parsed and validated here
    (:class:`ConfigError` names the key and the line); nothing starts until :meth:`start`.

    Every method is thread-safe and releases the GIL while the library works. Use it as a
    context manager to start it and shut it down::

        with Collector(yaml) as c:
            c.ingest("traces", request_bytes)
    """

    def __init__(self, config, *, exit_timeout_s=5.0):
        text = _config_text(config)
        self._exit_ms = _millis(exit_timeout_s, "exit_timeout_s")
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise _errors.ConfigError(f"the configuration is not valid UTF-8 text: {e}", 2) from None
        if not data:
            raise _errors.ConfigError("the configuration is empty", 2)
        handle = ctypes.c_void_p()
        _check(lib.otelcol_collector_new(data, len(data), ctypes.byref(handle)))
        self._handle = handle
        self._started = False
        # Calls in flight: close() waits for them, so a handle is never freed under a call
        # on another thread.
        self._cv = threading.Condition(threading.Lock())
        self._busy = 0
        _LIVE.add(self)

    def _call(self, fn, *args):
        with self._cv:
            h = self._handle
            if h is None:
                raise _errors.NotRunningError("the collector is closed", 5)
            self._busy += 1
        try:
            _check(fn(h, *args))
        finally:
            with self._cv:
                self._busy -= 1
                if not self._busy:
                    self._cv.notify_all()

    def _after_fork_child(self):
        # The parent's threads are gone: so are their calls, and the lock one may have held.
        self._cv = threading.Condition(threading.Lock())
        self._busy = 0

    def start(self):
        """Starts the collector on threads of its own (and the listeners its config asks
        for); returns when it is ready. Starting a running collector does nothing."""
        self._call(lib.otelcol_collector_start)
        self._started = True
        run_exit_hook_first()
        return self

    def ingest(self, signal, data):
        """Hands one encoded OTLP export request (``ExportTraceServiceRequest``,
        ``ExportMetricsServiceRequest`` or ``ExportLogsServiceRequest`` bytes) to the
        pipelines that list an ``embedded`` receiver. ``signal`` is ``"traces"``,
        ``"metrics"`` or ``"logs"``. Never blocks: over the memory budget it raises
        :class:`RetryableError`; bytes that are not OTLP raise :class:`InvalidDataError`."""
        try:
            code = _SIGNALS[signal]
        except (KeyError, TypeError):
            raise (TypeError if not isinstance(signal, (str, int)) else ValueError)(
                f"signal must be 'traces', 'metrics' or 'logs', not {signal!r}"
            ) from None
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        elif not isinstance(data, bytes):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        self._call(lib.otelcol_collector_ingest, code, data, len(data))

    def ingest_packed_spans(self, data):
        """Hands a batch of spans in the packed format (``docs/packed-spans.md``, what
        :class:`collector_ffi.BatchSpanProcessor` sends) to the traces pipelines that list
        an ``embedded`` receiver; the library builds the OTLP request. Errors as
        :meth:`ingest`."""
        if not isinstance(data, bytes):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        self._call(lib.otelcol_collector_ingest_packed_spans, data, len(data))

    def flush(self, timeout_s=30):
        """Waits until everything ingested before the call is delivered (or counted as
        dropped); raises :class:`TimeoutError` if that takes longer than ``timeout_s``."""
        ms = _millis(timeout_s, "timeout_s")
        self._call(lib.otelcol_collector_flush, ms)

    def shutdown(self, timeout_s=30):
        """Stops the collector, delivering what it holds within ``timeout_s``, and returns
        a :class:`ShutdownReport`. A second call returns the same report."""
        ms = _millis(timeout_s, "timeout_s")
        report = _CReport()
        self._call(lib.otelcol_collector_shutdown, ms, ctypes.byref(report))
        return ShutdownReport(report.delivered_items, report.dropped_items)

    def items_on_disk(self):
        """How many items the persistent queues (``sending_queue.storage``) hold: written to
        disk and not yet delivered. 0 without a persistent queue."""
        n = ctypes.c_uint64()
        self._call(lib.otelcol_collector_items_on_disk, ctypes.byref(n))
        return n.value

    def close(self):
        """Shuts the collector down if it runs (up to 5 s) and frees it; later calls raise
        :class:`NotRunningError`. Waits for calls other threads are making. Garbage
        collection does this too."""
        with self._cv:
            h, self._handle = self._handle, None
            while self._busy:
                self._cv.wait()
        if h is not None:
            lib.otelcol_collector_free(h)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self._handle is not None:
            self.shutdown()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter teardown: module globals may be gone
            pass

    def __repr__(self):
        state = "closed" if self._handle is None else ("started" if self._started else "created")
        return f"<collector_ffi.Collector {state}>"


# Every collector not yet garbage collected, for the exit handler.
_LIVE = weakref.WeakSet()
_EXIT_LOCK = threading.Lock()
_exit_done_pid = None
# While the process exits: the time by which our exporters stop retrying.
exit_deadline = None


def _flush_sdk_providers(deadline):
    """Flushes the SDK's global providers (only if the SDK is loaded): their batch
    processors hold finished spans and log records that have not reached our exporters yet,
    and their own exit hooks may run after ours (or, in a multiprocessing child, never)."""
    getters = []
    if "opentelemetry.trace" in sys.modules:
        getters.append(sys.modules["opentelemetry.trace"].get_tracer_provider)
    if "opentelemetry._logs" in sys.modules:
        getters.append(sys.modules["opentelemetry._logs"].get_logger_provider)
    if "opentelemetry.metrics" in sys.modules:
        getters.append(sys.modules["opentelemetry.metrics"].get_meter_provider)
    for get in getters:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            provider = get()
            flush = getattr(provider, "force_flush", None)
            if flush is not None:
                flush(timeout_millis=int(remaining * 1000))
        except Exception:  # a provider's failure must not stop the collectors' shutdown
            pass


def _at_exit():
    """Delivers what this process holds, within the collectors' exit bounds."""
    global _exit_done_pid, exit_deadline
    with _EXIT_LOCK:
        if _exit_done_pid == os.getpid():
            return
        _exit_done_pid = os.getpid()
    running = [c for c in list(_LIVE) if c._started and c._handle is not None]
    if not running:
        return
    bound = max(c._exit_ms for c in running) / 1000.0
    exit_deadline = time.monotonic() + bound
    _flush_sdk_providers(exit_deadline)
    for c in running:
        remaining = max(exit_deadline - time.monotonic(), 0.0)
        try:
            c.shutdown(timeout_s=min(remaining, c._exit_ms / 1000.0))
        except Exception:
            pass


def _mp_child(_):
    # A multiprocessing child made by fork ends with os._exit: no atexit handlers run.
    import multiprocessing.util

    multiprocessing.util.Finalize(None, _at_exit, exitpriority=-100)


class _MpHook:
    """A long-lived object for ``multiprocessing.util.register_after_fork`` (which keeps
    weak references)."""


_MP_HOOK = _MpHook()


def _after_fork_child():
    global _EXIT_LOCK, exit_deadline
    lib.otelcol_after_fork_child()
    # A lock the parent held at fork stays held in the child.
    _EXIT_LOCK = threading.Lock()
    for c in list(_LIVE):
        c._after_fork_child()
    exit_deadline = None


_exit_first_pid = None


def run_exit_hook_first():
    """Makes our exit handler the next ``atexit`` runs (handlers run last registered first).
    Called on start and on an exporter's first export in each process, by when the SDK's
    providers, whose own exit handlers shut our exporters down with their longer timeouts,
    have registered theirs: ours then flushes them within the exit bound first."""
    global _exit_first_pid
    pid = os.getpid()
    if _exit_first_pid != pid:
        _exit_first_pid = pid
        atexit.unregister(_at_exit)
        atexit.register(_at_exit)


atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_child)
try:
    import multiprocessing.util as _mp_util

    _mp_util.register_after_fork(_MP_HOOK, _mp_child)
except ImportError:  # pragma: no cover - multiprocessing is in every CPython build
    pass


def version():
    """The collector library's version."""
    return lib.otelcol_version().decode()
