"""Exporters for the OpenTelemetry Python SDK that hand data to an in-process
:class:`~collector_ffi.Collector` instead of a socket.

They encode with the SDK's own OTLP encoder (``opentelemetry-exporter-otlp-proto-common``),
so what reaches the collector is byte for byte what ``OTLPSpanExporter`` would send. An
export succeeds once the collector has taken the request (delivery, retries to the backend
and the persistent queue are the collector's job). When the collector is over its memory
budget it answers "retryable", and the exporter backs off the way the SDK's OTLP exporters
do (``2**n`` seconds with 20 % jitter, at most 6 attempts, within ``timeout``), then
reports failure. ``force_flush`` and ``shutdown`` wait for the collector to deliver what it
was given (``shutdown`` does not stop the collector: several exporters may share it).

Supported: opentelemetry-sdk 1.30 and newer. The logs API is still underscored in the SDK
(``opentelemetry.sdk._logs``); the base class and result type are looked up by name so that
both the 1.30 names (``LogExporter``, ``LogExportResult``) and the newer ones
(``LogRecordExporter``, ``LogRecordExportResult``) work.
"""

import logging
import os
import random
import threading
import time

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.sdk.trace.export import SpanExporter as _SdkSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.metrics.export import MetricExporter as _SdkMetricExporter
from opentelemetry.sdk.metrics.export import MetricExportResult
import opentelemetry.sdk._logs.export as _sdk_logs_export

from . import _collector
from ._errors import CollectorError, RetryableError

_logger = logging.getLogger(__name__)

_LogBase = getattr(_sdk_logs_export, "LogRecordExporter", None) or _sdk_logs_export.LogExporter
_LogResult = getattr(_sdk_logs_export, "LogRecordExportResult", None) or _sdk_logs_export.LogExportResult

# The OTLP metric exporters' handling of temporality and aggregation preferences.
from opentelemetry.exporter.otlp.proto.common._internal.metrics_encoder import (
    OTLPMetricExporterMixin as _MetricMixin,
)

# The SDK's OTLP exporters: at most 6 attempts, backoff 2**n s with +-20 % jitter.
_MAX_ATTEMPTS = 6
_JITTER = 0.2
_DEFAULT_TIMEOUT_S = 10.0


def _timeout_from_env(signal_var):
    """``timeout`` as the SDK's OTLP exporters read it: the signal's variable, then
    ``OTEL_EXPORTER_OTLP_TIMEOUT`` (seconds), then 10 s."""
    for name in (signal_var, "OTEL_EXPORTER_OTLP_TIMEOUT"):
        raw = os.environ.get(name)
        if raw:
            try:
                return float(raw)
            except ValueError:
                _logger.warning("%s=%r is not a number of seconds; using %s", name, raw, _DEFAULT_TIMEOUT_S)
    return _DEFAULT_TIMEOUT_S


class _Sender:
    """What the three exporters share: ingest with backoff, flush, shutdown."""

    def __init__(self, collector, timeout, signal, env_var, what):
        if not isinstance(collector, _collector.Collector):
            raise TypeError(f"collector must be a collector_ffi.Collector, not {type(collector).__name__}")
        if timeout is None:
            timeout = _timeout_from_env(env_var)
        elif isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
            raise TypeError(f"timeout must be a number of seconds >= 0, not {timeout!r}")
        self.collector = collector
        self.timeout = float(timeout)
        self.signal = signal
        self.what = what
        self.stopped = threading.Event()

    def send(self, encode, batch):
        """True once the collector took the batch."""
        if self.stopped.is_set():
            _logger.warning("Exporter already shutdown, ignoring batch")
            return False
        _collector.run_exit_hook_first()
        try:
            data = encode(batch).SerializePartialToString()
        except Exception as e:  # the SDK's exporters report an encoding failure the same way
            _logger.error("Failed to encode %s batch: %s", self.what, e)
            return False
        deadline = time.monotonic() + self.timeout
        if _collector.exit_deadline is not None:
            deadline = min(deadline, _collector.exit_deadline)
        for attempt in range(_MAX_ATTEMPTS):
            try:
                self.collector.ingest(self.signal, data)
                return True
            except RetryableError as e:
                backoff = 2**attempt * random.uniform(1 - _JITTER, 1 + _JITTER)
                if attempt + 1 == _MAX_ATTEMPTS or backoff > deadline - time.monotonic():
                    _logger.error("Failed to export %s batch: %s", self.what, e)
                    return False
                _logger.warning("Transient error %s while exporting %s batch, retrying in %.2fs.", e, self.what, backoff)
                if self.stopped.wait(backoff):
                    _logger.warning("Shutdown in progress, aborting retry.")
                    return False
            except CollectorError as e:
                _logger.error("Failed to export %s batch: %s", self.what, e)
                return False
        return False

    def flush(self, timeout_millis):
        try:
            self.collector.flush(timeout_s=max(timeout_millis, 0) / 1000.0)
            return True
        except CollectorError as e:
            _logger.warning("%s exporter flush: %s", self.what, e)
            return False

    def shutdown(self, timeout_millis=None):
        if self.stopped.is_set():
            _logger.warning("Exporter already shutdown, ignoring call")
            return
        self.stopped.set()
        # Delivers what this exporter handed over; the collector itself keeps running. The
        # SDK shuts exporters down from its own exit handler: bounded like exit itself.
        ms = self.timeout * 1000.0 if timeout_millis is None else timeout_millis
        ms = min(ms, self.collector._exit_ms)
        try:
            self.collector.flush(timeout_s=max(ms, 0) / 1000.0)
        except CollectorError:
            pass  # not running any more (shut down at exit), or the deadline passed


class SpanExporter(_SdkSpanExporter):
    """An SDK ``SpanExporter`` that feeds ``collector``'s ``embedded`` receiver; use it
    where ``OTLPSpanExporter`` goes, typically in a ``BatchSpanProcessor``. ``timeout``
    (seconds) bounds the retries when the collector is over budget; by default
    ``OTEL_EXPORTER_OTLP_TRACES_TIMEOUT``, ``OTEL_EXPORTER_OTLP_TIMEOUT`` or 10."""

    def __init__(self, collector, *, timeout=None):
        self._sender = _Sender(collector, timeout, "traces", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "span")

    def export(self, spans):
        return SpanExportResult.SUCCESS if self._sender.send(encode_spans, spans) else SpanExportResult.FAILURE

    def shutdown(self):
        self._sender.shutdown()

    def force_flush(self, timeout_millis=30000):
        return self._sender.flush(timeout_millis)


class LogExporter(_LogBase):
    """An SDK log exporter (``LogRecordExporter``, or ``LogExporter`` in older SDKs) that feeds
    ``collector``'s ``embedded`` receiver; use it in a ``BatchLogRecordProcessor`` under a
    ``LoggingHandler`` to bridge Python ``logging``. ``timeout`` as for
    :class:`SpanExporter` (``OTEL_EXPORTER_OTLP_LOGS_TIMEOUT``)."""

    def __init__(self, collector, *, timeout=None):
        self._sender = _Sender(collector, timeout, "logs", "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "logs")

    def export(self, batch):
        return _LogResult.SUCCESS if self._sender.send(encode_logs, batch) else _LogResult.FAILURE

    def shutdown(self):
        self._sender.shutdown()

    def force_flush(self, timeout_millis=30000):
        return self._sender.flush(timeout_millis)


class MetricExporter(_SdkMetricExporter, _MetricMixin):
    """An SDK ``MetricExporter`` that feeds ``collector``'s ``embedded`` receiver; use it in
    a ``PeriodicExportingMetricReader``. ``preferred_temporality`` and
    ``preferred_aggregation`` behave as in ``OTLPMetricExporter`` (including
    ``OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE``); ``timeout`` as for
    :class:`SpanExporter` (``OTEL_EXPORTER_OTLP_METRICS_TIMEOUT``)."""

    def __init__(self, collector, *, preferred_temporality=None, preferred_aggregation=None, timeout=None):
        sender = _Sender(collector, timeout, "metrics", "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "metrics")
        self._common_configuration(preferred_temporality, preferred_aggregation)
        self._sender = sender

    def export(self, metrics_data, timeout_millis=10000, **kwargs):
        ok = self._sender.send(encode_metrics, metrics_data)
        return MetricExportResult.SUCCESS if ok else MetricExportResult.FAILURE

    def shutdown(self, timeout_millis=30000, **kwargs):
        self._sender.shutdown(timeout_millis)

    def force_flush(self, timeout_millis=10000):
        return self._sender.flush(timeout_millis)
