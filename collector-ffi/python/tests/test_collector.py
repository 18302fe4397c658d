"""The Collector object: configs as str/dict/path, errors as exceptions, the GIL released."""

import threading
import time

import pytest

import collector_ffi
from collector_ffi import (
    Collector,
    CollectorError,
    ConfigError,
    InvalidDataError,
    NotRunningError,
    RetryableError,
)
from conftest import config
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span


def request(n, name="op", pad=0):
    spans = [
        Span(trace_id=bytes([1] * 16), span_id=(i + 1).to_bytes(8, "big"), name=name + "x" * pad) for i in range(n)
    ]
    return ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])]
    ).SerializeToString()


def test_ingest_bytes_reach_the_backend_and_shutdown_reports(sink, tmp_path):
    # The same config three ways: YAML text, a dict (sent as JSON, which is YAML), a path.
    text = config(sink, signals=("traces",))
    path = tmp_path / "c.yaml"
    path.write_text(text)
    as_dict = {
        "receivers": {"embedded": {}},
        "processors": {"batch": {"timeout": "50ms"}},
        "exporters": {"otlphttp": {"endpoint": sink.endpoint, "compression": "none"}},
        "service": {"pipelines": {"traces": {"receivers": ["embedded"], "processors": ["batch"], "exporters": ["otlphttp"]}}},
    }
    for cfg in (text, as_dict, path):
        with Collector(cfg) as c:
            c.ingest("traces", request(3))
            c.ingest(collector_ffi.TRACES, bytearray(request(2)))
            c.flush(timeout_s=10)
            report = c.shutdown()
        assert report == (5, 0)
        assert report.delivered_items == 5
    assert len(sink.wait("spans", 15)) == 15
    assert collector_ffi.version() == collector_ffi.__version__


def test_bad_config_names_key_and_line():
    with pytest.raises(ConfigError) as e:
        Collector("receivers:\n  embedded: {}\nexporters:\n  debug: {verbosity: loud}\n"
                  "service:\n  pipelines:\n    traces: {receivers: [embedded], exporters: [debug]}\n")
    msg = str(e.value)
    assert "exporters::debug::verbosity" in msg and ":4" in msg, msg
    assert e.value.code == 2 and isinstance(e.value, ValueError) and isinstance(e.value, CollectorError)
    with pytest.raises(ConfigError, match="empty"):
        Collector("")
    with pytest.raises(ConfigError):
        Collector("receivers: [unclosed")
    with pytest.raises(ConfigError, match="nope"):
        Collector({"receivers": {"nope": {}}})


def test_wrong_types_raise_type_error(sink):
    for bad in (None, 42, b"receivers: {}", ["a"]):
        with pytest.raises(TypeError):
            Collector(bad)
    with pytest.raises(TypeError):
        Collector({"exporters": {"debug": {"x": object()}}})
    c = Collector(config(sink, signals=("traces",))).start()
    try:
        with pytest.raises(TypeError):
            c.ingest("traces", "not bytes")
        with pytest.raises(TypeError):
            c.ingest(None, b"")
        with pytest.raises(ValueError):
            c.ingest("spans", b"")
        with pytest.raises(ValueError):
            c.ingest(7, b"")
        with pytest.raises(TypeError):
            c.flush("soon")
        with pytest.raises(ValueError):
            c.flush(-1)
        with pytest.raises(TypeError):
            c.shutdown(timeout_s=None)
        with pytest.raises(TypeError):
            Collector(config(sink), exit_timeout_s="5")
    finally:
        c.shutdown()


def test_invalid_data_and_use_before_start_and_after_shutdown(sink):
    c = Collector(config(sink, signals=("traces",)))
    with pytest.raises(NotRunningError, match="not started"):
        c.ingest("traces", request(1))
    with pytest.raises(NotRunningError):
        c.flush(1)
    c.start()
    c.start()  # starting twice is harmless
    with pytest.raises(InvalidDataError) as e:
        c.ingest("traces", b"\x0a\xff\xff\xff")
    assert e.value.code == 3 and str(e.value)
    c.ingest("traces", request(1))  # the bad request lost nothing that was accepted
    assert c.shutdown() == (1, 0)
    assert c.shutdown() == (1, 0)  # a second shutdown reports again
    with pytest.raises(NotRunningError, match="shut down"):
        c.ingest("traces", request(1))
    with pytest.raises(NotRunningError):
        c.start()
    c.close()
    c.close()
    with pytest.raises(NotRunningError, match="closed"):
        c.ingest("traces", request(1))
    with pytest.raises(NotRunningError):
        c.items_on_disk()


def test_refused_is_retryable_and_flush_times_out(sink):
    # A memory_limiter whose 1 MiB soft limit is below what this process uses refuses
    # requests ("try again later"), as the Go limiter does above its soft limit.
    limiter = "  memory_limiter: {check_interval: 1s, limit_mib: 2, spike_limit_mib: 1}\n"
    c = Collector(config(sink, signals=("traces",), extra_processors=limiter, processors=["memory_limiter"])).start()
    try:
        with pytest.raises(RetryableError) as e:
            for _ in range(1000):
                c.ingest("traces", request(50, pad=1000))
        assert e.value.code == 4
    finally:
        c.shutdown(timeout_s=30)
    # A backend that refuses everything: what was taken cannot be delivered in time.
    sink.status = 503
    c = Collector(config(sink, signals=("traces",))).start()
    try:
        c.ingest("traces", request(1))
        with pytest.raises(collector_ffi.TimeoutError) as t:
            c.flush(timeout_s=0.3)
        assert isinstance(t.value, TimeoutError)  # the builtin, too
        assert t.value.code == 6
    finally:
        sink.status = 200
        c.shutdown(timeout_s=30)


def test_gil_is_released_while_the_library_blocks(sink):
    # flush blocks in Rust for its whole timeout against a refusing backend; a Python thread
    # must keep running meanwhile.
    sink.status = 503
    c = Collector(config(sink, signals=("traces",))).start()
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    c.ingest("traces", request(1))
    t = threading.Thread(target=count)
    t.start()
    time.sleep(0.05)
    before = len(ticks)
    start = time.monotonic()
    with pytest.raises(collector_ffi.TimeoutError):
        c.flush(timeout_s=1.0)
    assert time.monotonic() - start >= 0.9
    during = len(ticks) - before
    stop.set()
    t.join()
    sink.status = 200
    c.shutdown()
    assert during > 100, f"the counting thread ran {during} times while flush blocked"


def test_threads_ingest_at_once(sink):
    with Collector(config(sink, signals=("traces",))) as c:
        def work():
            for _ in range(50):
                c.ingest("traces", request(4))

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        c.flush(10)
    assert len(sink.wait("spans", 800)) == 800


def test_close_waits_for_calls_on_other_threads(sink):
    # close() while another thread is inside flush: the handle is freed after that call
    # returns, never under it (which would crash the interpreter).
    sink.status = 503
    c = Collector(config(sink, signals=("traces",))).start()
    c.ingest("traces", request(1))
    errors = []

    def flusher():
        try:
            c.flush(timeout_s=1.0)
        except collector_ffi.TimeoutError:
            pass
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=flusher)
    t.start()
    time.sleep(0.2)
    sink.status = 200  # the flush still waits out the exporter's retry backoff
    start = time.monotonic()
    c.close()
    assert time.monotonic() - start >= 0.5  # waited for the flush
    t.join()
    assert not errors
    with pytest.raises(NotRunningError, match="closed"):
        c.flush(1)
    with pytest.raises(ConfigError, match="UTF-8"):
        Collector("receivers: {embedded: {}}\n# \udcff")
