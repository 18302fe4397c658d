"""The OpenTelemetry Python SDK and grpcio against the collector binary (127.0.0.1 only)."""

import json
import logging
import os
import signal
import time

import grpc
import pytest
import requests
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

EXAMPLES = os.path.join(os.path.dirname(__file__), "../../../collector-core/tests/data/otlp-examples")


def send_spans(exporter, n, service="my-api"):
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=100))
    tracer = provider.get_tracer("test")
    for i in range(n):
        with tracer.start_as_current_span(f"span-{i}") as s:
            s.set_attribute("i", i)
    assert provider.force_flush(10_000)
    provider.shutdown()


def test_traces_over_grpc_and_http(collector):
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as Grpc
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http

    c = collector()
    send_spans(Grpc(endpoint=f"127.0.0.1:{c.grpc}", insecure=True), 250)
    send_spans(Http(endpoint=f"http://127.0.0.1:{c.http}/v1/traces"), 130)
    # gzip, as the SDK sends it when asked.
    from opentelemetry.exporter.otlp.proto.grpc.exporter import Compression

    send_spans(Grpc(endpoint=f"127.0.0.1:{c.grpc}", insecure=True, compression=Compression.Gzip), 20)
    assert c.wait_metric("otelcol_exporter_sent_spans_total", 400) == 400
    assert c.metric("otelcol_receiver_accepted_spans_total", 'transport="grpc"') == 270
    assert c.metric("otelcol_receiver_accepted_spans_total", 'transport="http"') == 130
    assert c.stop() == 0
    assert c.debug_counts("spans") == 400


def test_logs_over_grpc_and_http(collector):
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as Grpc
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as Http
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    c = collector()
    for exporter, n in [
        (Grpc(endpoint=f"127.0.0.1:{c.grpc}", insecure=True), 75),
        (Http(endpoint=f"http://127.0.0.1:{c.http}/v1/logs"), 25),
    ]:
        provider = LoggerProvider(resource=Resource.create({"service.name": "my-api"}))
        provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
        logger = logging.getLogger(f"myapp.{n}")
        logger.propagate = False
        handler = LoggingHandler(logger_provider=provider)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        for i in range(n):
            logger.info("User created successfully %d", i)
        assert provider.force_flush(10_000)
        provider.shutdown()
        logger.removeHandler(handler)
    assert c.wait_metric("otelcol_exporter_sent_log_records_total", 100) == 100
    assert c.stop() == 0
    assert c.debug_counts("log records") == 100


def test_metrics_over_grpc_and_http(collector):
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as Grpc
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as Http
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    c = collector()
    for exporter in [Grpc(endpoint=f"127.0.0.1:{c.grpc}", insecure=True), Http(endpoint=f"http://127.0.0.1:{c.http}/v1/metrics")]:
        reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
        provider = MeterProvider(metric_readers=[reader], resource=Resource.create({"service.name": "my-api"}))
        meter = provider.get_meter("test")
        counter = meter.create_counter("requests")
        histogram = meter.create_histogram("latency")
        for route in ["/a", "/b", "/c"]:
            counter.add(1, {"route": route})
        histogram.record(12.5, {"route": "/a"})
        before = c.metric("otelcol_receiver_accepted_metric_points_total")
        assert provider.force_flush(10_000)
        # Three counter points and one histogram point per export.
        assert c.wait_metric("otelcol_receiver_accepted_metric_points_total", before + 4) == before + 4
        provider.shutdown()  # exports once more
        assert c.wait_metric("otelcol_receiver_accepted_metric_points_total", before + 8) == before + 8


def test_grpcio_raw_malformed_bytes_get_invalid_argument(collector):
    c = collector()
    channel = grpc.insecure_channel(f"127.0.0.1:{c.grpc}")
    export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
    try:
        export(b"\x0a\x05\x12\x03\x0a", timeout=5)
        raise AssertionError("malformed request accepted")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, e
        assert "resource_spans[0]" in e.details(), e.details()
    # A valid (empty) request still works on the same channel, with gzip.
    assert export(b"", timeout=5, compression=grpc.Compression.Gzip) == b""
    assert requests.get(f"http://127.0.0.1:{c.health}/", timeout=2).status_code == 200
    channel.close()


def test_json_example_vectors_over_http(collector):
    c = collector()
    for name, path in [("trace.json", "traces"), ("logs.json", "logs"), ("metrics.json", "metrics")]:
        with open(os.path.join(EXAMPLES, name), "rb") as f:
            r = requests.post(
                f"http://127.0.0.1:{c.http}/v1/{path}",
                data=f.read(),
                headers={"Content-Type": "application/json"},
                timeout=5,
            )
        assert r.status_code == 200, r.text
        assert r.json() == {"partialSuccess": {}}


def test_default_config_draws_a_trace_tree(collector):
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    c = collector(yaml=None)
    provider = TracerProvider(resource=Resource.create({"service.name": "my-api"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"127.0.0.1:{c.grpc}", insecure=True)))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("HTTP POST /api/v1/users"):
        with tracer.start_as_current_span("validate_request"):
            time.sleep(0.002)
        with tracer.start_as_current_span("process_user_data"):
            with tracer.start_as_current_span("transform_data"):
                time.sleep(0.02)
    provider.force_flush(10_000)
    provider.shutdown()
    assert c.wait_metric("otelcol_exporter_sent_spans_total", 4) == 4
    assert c.stop() == 0
    out = c.output()
    assert "my-api: HTTP POST /api/v1/users" in out, out
    lines = out.splitlines()

    def line_of(prefix):
        # The tree's last line also carries the log record's fields after a tab.
        found = [l.split("\t")[0] for l in lines if l.startswith(prefix)]
        assert len(found) == 1, (prefix, out)
        return found[0]

    # process_user_data (holding the 20 ms transform_data) is the slower of the two
    # siblings and the only one marked; transform_data, an only child, is not.
    assert line_of("├── validate_request ").endswith(")"), out
    assert line_of("└── process_user_data ").endswith(") ◀ slowest"), out
    assert line_of("    └── transform_data ").endswith(")"), out
    assert out.count("◀ slowest") == 1, out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_data_accepted_before_the_signal_is_exported_before_exit(collector, sig):
    """SIGHUP drains and exits as SIGTERM does (Go reloads on SIGHUP; this collector does
    not reload yet, and the signal's default action would kill it without a drain)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    c = collector()
    send_spans(OTLPSpanExporter(endpoint=f"http://127.0.0.1:{c.http}/v1/traces"), 500)
    c.proc.send_signal(sig)
    assert c.proc.wait(timeout=10) == 0
    out = c.output()
    assert c.debug_counts("spans") == 500, out
    assert out.index("Starting shutdown...") < out.index("Shutdown complete.")
    assert "Everything is ready. Begin running and processing data." in out
    assert json.loads(out.split("Shutdown complete.\t")[1].splitlines()[0]) == {"delivered_items": 500, "dropped_items": 0}
