"""The SDK exporters: traces, logs and metrics from the OpenTelemetry Python SDK through an
in-process collector to an OTLP/HTTP backend, with exact counts and attributes. Run with the
newest SDK (.venv) and the oldest supported one (.venv-sdk-oldest, 1.30)."""

import logging
import time

import pytest
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, MetricExportResult, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from opentelemetry.sdk.metrics import Counter

from collector_ffi import Collector, LogExporter, MetricExporter, SpanExporter
from conftest import attrs, config

RESOURCE = Resource.create({"service.name": "checkout", "deployment.environment": "test"})


def test_spans_reach_the_backend(sink):
    with Collector(config(sink)) as c:
        provider = TracerProvider(resource=RESOURCE)
        provider.add_span_processor(BatchSpanProcessor(SpanExporter(c)))
        tracer = provider.get_tracer("shop", "1.2.3")
        for i in range(250):
            with tracer.start_as_current_span("GET /items", attributes={"http.route": "/items", "i": i}):
                with tracer.start_as_current_span("db") as child:
                    child.set_attribute("db.rows", 3)
                    child.add_event("fetched", {"n": 3})
        assert provider.force_flush(10_000)  # SDK queue -> our exporter -> the collector, delivered
        got = sink.wait("spans", 500, timeout=5)
        provider.shutdown()
    assert len(got) == 500
    assert len({s.span_id for _, _, s in got}) == 500
    resource, scope, _ = got[0]
    assert attrs(resource.attributes)["service.name"] == "checkout"
    assert (scope.name, scope.version) == ("shop", "1.2.3")
    servers = sorted((s for _, _, s in got if s.name == "GET /items"), key=lambda s: attrs(s.attributes)["i"])
    assert [attrs(s.attributes)["i"] for s in servers] == list(range(250))
    assert attrs(servers[0].attributes)["http.route"] == "/items"
    db = [s for _, _, s in got if s.name == "db"]
    assert len(db) == 250
    parents = {s.span_id for s in servers}
    assert all(s.parent_span_id in parents for s in db)
    assert attrs(db[0].attributes) == {"db.rows": 3}
    assert db[0].events[0].name == "fetched" and attrs(db[0].events[0].attributes) == {"n": 3}


def test_logs_reach_the_backend(sink):
    with Collector(config(sink)) as c:
        provider = LoggerProvider(resource=RESOURCE)
        provider.add_log_record_processor(BatchLogRecordProcessor(LogExporter(c)))
        log = logging.getLogger("test_exporters.logs")
        log.propagate = False
        log.setLevel(logging.INFO)
        handler = LoggingHandler(level=logging.INFO, logger_provider=provider)
        log.addHandler(handler)
        try:
            for i in range(120):
                log.warning("order %d failed", i, extra={"order.id": f"o-{i}"})
            log.debug("not at INFO")
            assert provider.force_flush(10_000)
            got = sink.wait("logs", 120, timeout=5)
        finally:
            log.removeHandler(handler)
            provider.shutdown()
    assert len(got) == 120
    bodies = sorted(r.body.string_value for _, _, r in got)
    assert bodies == sorted(f"order {i} failed" for i in range(120))
    _, _, r = got[0]
    assert r.severity_text in ("WARN", "WARNING") and r.severity_number == 13
    assert attrs(r.attributes)["order.id"].startswith("o-")
    assert attrs(got[0][0].attributes)["service.name"] == "checkout"


def test_metrics_reach_the_backend(sink):
    with Collector(config(sink)) as c:
        exporter = MetricExporter(c, preferred_temporality={Counter: AggregationTemporality.DELTA})
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
        provider = MeterProvider(resource=RESOURCE, metric_readers=[reader])
        meter = provider.get_meter("shop")
        orders = meter.create_counter("orders", unit="1")
        latency = meter.create_histogram("latency", unit="ms")
        for i in range(10):
            orders.add(2, {"region": "eu"})
            orders.add(1, {"region": "us"})
            latency.record(i * 10.0, {"region": "eu"})
        assert provider.force_flush(10_000)
        got = sink.wait("points", 3, timeout=5)
        provider.shutdown()
    by = {(m.name, attrs(p.attributes)["region"]): (m, p) for _, m, p in got}
    assert set(by) == {("orders", "eu"), ("orders", "us"), ("latency", "eu")}
    m, p = by[("orders", "eu")]
    assert p.as_int == 20 and m.sum.is_monotonic
    assert m.sum.aggregation_temporality == 1  # DELTA, as preferred
    assert by[("orders", "us")][1].as_int == 10
    _, h = by[("latency", "eu")]
    assert h.count == 10 and h.sum == 450.0


def test_retryable_backs_off_then_fails_within_timeout(sink):
    # A refusing backend and a two-request queue: the collector says "retryable" once the
    # queue is full. The exporter retries with the SDK's backoff (1 s, 2 s, ...) until its
    # timeout, then reports FAILURE.
    sink.status = 503
    queue = ", sending_queue: {queue_size: 2, num_consumers: 1}"
    c = Collector(config(sink, signals=("traces",), batch=False, exporter=queue)).start()
    try:
        provider = TracerProvider(resource=RESOURCE)
        tracer = provider.get_tracer("t")
        exporter = SpanExporter(c, timeout=2.5)
        results = []
        for _ in range(400):
            spans = []
            for _ in range(50):
                with tracer.start_as_current_span("x" * 1000) as s:
                    pass
                spans.append(s)
            start = time.monotonic()
            results.append(exporter.export(spans))
            if results[-1] is SpanExportResult.FAILURE:
                break
        took = time.monotonic() - start
        assert results[-1] is SpanExportResult.FAILURE
        assert results[0] is SpanExportResult.SUCCESS
        # backoff ~1 s, then ~2 s would pass the 2.5 s deadline: one retry, then failure
        assert 0.7 < took < 2.6, took
        exporter.shutdown()
        assert exporter.export(spans) is SpanExportResult.FAILURE  # after shutdown, as the SDK's
    finally:
        sink.status = 200
        c.shutdown(timeout_s=30)


def test_exporter_checks_its_arguments():
    with pytest.raises(TypeError):
        SpanExporter("not a collector")
    with pytest.raises(TypeError):
        LogExporter(None)
    with pytest.raises(TypeError):
        MetricExporter(object())


def test_metric_export_result_enum_is_the_sdks(sink):
    with Collector(config(sink)) as c:
        e = MetricExporter(c)
        assert e.force_flush(1000) is True
        e.shutdown()
    assert MetricExportResult.SUCCESS
