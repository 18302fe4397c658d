"""An OpenTelemetry collector inside your Python process.

:class:`Collector` runs the collector library (Rust, behind its C ABI) from a Go-collector
style YAML configuration; :class:`SpanExporter`, :class:`LogExporter` and
:class:`MetricExporter` plug it into the OpenTelemetry Python SDK (they need
``opentelemetry-sdk``, imported on first use); :class:`BatchSpanProcessor` is the fast
path for spans (no OTLP encoding in Python). Safe under ``fork()`` (Gunicorn
``--preload``, ``multiprocessing``): a child gets a fresh collector of its own on first use.
Interpreter exit delivers what is held, within ``exit_timeout_s`` (5 s).
"""

from ._collector import LOGS, METRICS, TRACES, Collector, ShutdownReport, version
from ._errors import (
    CollectorError,
    ConfigError,
    InvalidDataError,
    NotRunningError,
    RetryableError,
    TimeoutError,
)

__version__ = "0.1.0"

__all__ = [
    "Collector",
    "ShutdownReport",
    "TRACES",
    "METRICS",
    "LOGS",
    "version",
    "CollectorError",
    "ConfigError",
    "InvalidDataError",
    "RetryableError",
    "NotRunningError",
    "TimeoutError",
    "SpanExporter",
    "LogExporter",
    "MetricExporter",
    "BatchSpanProcessor",
]

_EXPORTERS = ("SpanExporter", "LogExporter", "MetricExporter")


def __getattr__(name):
    # The exporters import the SDK; a process that only ingests bytes does not need it.
    if name in _EXPORTERS:
        from . import exporters

        return getattr(exporters, name)
    if name == "BatchSpanProcessor":
        from .fast import BatchSpanProcessor

        return BatchSpanProcessor
    raise AttributeError(f"module 'collector_ffi' has no attribute {name!r}")
