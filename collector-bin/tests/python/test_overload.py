"""Overload: senders that retry push 10x what a stalled backend lets the collector hold.

A real gRPC sink (grpcio, 127.0.0.1) answers UNAVAILABLE while stalled. Four raw grpcio
clients and two OpenTelemetry SDK HTTP exporters keep offering data. The collector must
keep its payload bytes under the memory_limiter's soft limit and its heap under the hard
limit, stay healthy, answer UNAVAILABLE / 503, deliver every item it accepted once the sink
recovers, and stop refusing once the backlog has drained.

With OVERLOAD_REPORT=1 (and -s) it prints the collector's memory over time, the table in
BENCHMARKS.md.
"""

import os
import threading
import time

import grpc
import requests
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from conftest import SpanSink

LIMIT_MIB = 40
SPIKE_MIB = 16
SOFT = (LIMIT_MIB - SPIKE_MIB) << 20
HARD = LIMIT_MIB << 20
OVERLOAD = 10 * SOFT

CONFIG = """
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
      http:
        endpoint: 127.0.0.1:{http}
processors:
  memory_limiter:
    check_interval: 100ms
    limit_mib: %d
    spike_limit_mib: %d
  batch:
    send_batch_size: 2000
    send_batch_max_size: 2000
    timeout: 100ms
exporters:
  otlp:
    endpoint: 127.0.0.1:SINK
    tls:
      insecure: true
    sending_queue:
      queue_size: 4
      num_consumers: 2
    retry_on_failure:
      initial_interval: 20ms
      max_interval: 200ms
      max_elapsed_time: 0s
extensions:
  health_check:
    endpoint: 127.0.0.1:{health}
service:
  extensions: [health_check]
  telemetry:
    metrics:
      address: 127.0.0.1:{metrics}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp]
""" % (LIMIT_MIB, SPIKE_MIB)


class Offered:
    """Bytes offered to the collector (every attempt) and refusals seen, by all senders."""

    def __init__(self):
        self.lock = threading.Lock()
        self.bytes = 0
        self.refused = 0

    def add(self, n, refused):
        with self.lock:
            self.bytes += n
            self.refused += int(refused)


def span_request(tag, n):
    """An export request of `n` spans with ids unique to `tag`, about 200 bytes each."""
    attrs = [common_pb2.KeyValue(key="http.route", value=common_pb2.AnyValue(string_value="/api/v1/items/{id}"))]
    spans = []
    for i in range(n):
        sid = (tag << 20 | i).to_bytes(8, "big")
        spans.append(
            trace_pb2.Span(
                trace_id=b"\x01" * 8 + sid,
                span_id=sid,
                name="GET /api/v1/items/{id}",
                kind=trace_pb2.Span.SPAN_KIND_SERVER,
                start_time_unix_nano=1_700_000_000_000_000_000 + i,
                end_time_unix_nano=1_700_000_000_000_500_000 + i,
                attributes=attrs + [common_pb2.KeyValue(key="payload", value=common_pb2.AnyValue(string_value="x" * 80))],
            )
        )
    res = resource_pb2.Resource(
        attributes=[common_pb2.KeyValue(key="service.name", value=common_pb2.AnyValue(string_value="overload"))]
    )
    return trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(resource=res, scope_spans=[trace_pb2.ScopeSpans(spans=spans)])]
    )


def raw_sender(port, tags, offered, accepted, errors):
    """Sends each request until accepted, retrying UNAVAILABLE after 20 ms."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        stub = trace_service_pb2_grpc.TraceServiceStub(ch)
        for tag in tags:
            req = span_request(tag, 1000)
            size = req.ByteSize()
            deadline = time.time() + 120
            while True:
                try:
                    stub.Export(req, timeout=10)
                    offered.add(size, False)
                    accepted.update(s.span_id for s in req.resource_spans[0].scope_spans[0].spans)
                    break
                except grpc.RpcError as e:
                    if e.code() != grpc.StatusCode.UNAVAILABLE or time.time() > deadline:
                        errors.append(f"{e.code()}: {e.details()}")
                        return
                    offered.add(size, True)
                    time.sleep(0.02)


def sdk_sender(port, n_batches, offered, accepted, sdk_results):
    """The SDK's HTTP exporter, which retries 503 itself with exponential backoff."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExportResult

    class Keep(SpanProcessor):
        def __init__(self):
            self.spans = []

        def on_end(self, span):
            self.spans.append(span)

    exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces", timeout=60)
    keep = Keep()
    provider = TracerProvider(resource=Resource.create({"service.name": "overload-sdk"}))
    provider.add_span_processor(keep)
    tracer = provider.get_tracer("overload")
    for _ in range(n_batches):
        keep.spans = []
        for i in range(500):
            with tracer.start_as_current_span("work") as s:
                s.set_attribute("payload", "y" * 80)
                s.set_attribute("i", i)
        batch = keep.spans
        result = exporter.export(batch)
        sdk_results.append(result)
        # The SDK hides its retries; count one attempt of about 200 bytes per span.
        offered.add(200 * len(batch), result != SpanExportResult.SUCCESS)
        if result == SpanExportResult.SUCCESS:
            accepted.update(s.context.span_id.to_bytes(8, "big") for s in batch)
    exporter.shutdown()


def test_overload_is_refused_then_everything_accepted_is_delivered(collector):
    sink = SpanSink(stalled=True)
    try:
        c = collector(CONFIG.replace("SINK", str(sink.port)))
        offered = Offered()
        accepted = set()
        errors = []
        sdk_results = []
        samples = []
        health = []
        stop_sampling = threading.Event()
        phase = ["idle"]
        started = time.time()

        def sample():
            while not stop_sampling.is_set():
                try:
                    samples.append(
                        (
                            c.metric("otelcol_memory_budget_used"),
                            c.metric("otelcol_process_runtime_heap_alloc_bytes"),
                            c.metric("otelcol_process_memory_rss"),
                            time.time() - started,
                            phase[0],
                            offered.bytes,
                        )
                    )
                    health.append(requests.get(f"http://127.0.0.1:{c.health}/", timeout=2).status_code)
                except requests.RequestException as e:
                    health.append(str(e))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        time.sleep(0.3)
        phase[0] = "stalled"
        senders = [
            threading.Thread(target=raw_sender, args=(c.grpc, range(t * 100, t * 100 + 40), offered, accepted, errors))
            for t in range(4)
        ] + [threading.Thread(target=sdk_sender, args=(c.http, 20, offered, accepted, sdk_results)) for _ in range(2)]
        for t in senders:
            t.start()

        # Stalled until the senders have offered ten times the soft limit.
        deadline = time.time() + 90
        while offered.bytes < OVERLOAD and time.time() < deadline:
            time.sleep(0.05)
        assert offered.bytes >= OVERLOAD, f"offered only {offered.bytes} bytes"
        assert offered.refused > 0
        assert sink.received == 0
        sink.stalled.clear()
        phase[0] = "recovered"

        for t in senders:
            t.join(timeout=180)
            assert not t.is_alive()
        assert not errors, errors
        assert accepted, "nothing was accepted"

        # Every accepted item reaches the backend once it recovers.
        deadline = time.time() + 60
        while time.time() < deadline:
            with sink.lock:
                if accepted <= sink.ids:
                    break
            time.sleep(0.1)
        with sink.lock:
            missing = len(accepted - sink.ids)
        assert missing == 0, f"{missing} accepted spans never delivered"

        phase[0] = "drained"
        # Refusals stop once the backlog has drained: new data is taken at first try.
        refused_before = c.metric("otelcol_receiver_requests_total", 'outcome="refused"')
        with grpc.insecure_channel(f"127.0.0.1:{c.grpc}") as ch:
            stub = trace_service_pb2_grpc.TraceServiceStub(ch)
            for tag in range(900, 910):
                stub.Export(span_request(tag, 1000), timeout=10)
        assert c.metric("otelcol_receiver_requests_total", 'outcome="refused"') == refused_before
        stop_sampling.set()
        sampler.join()

        # Memory stayed bounded, and the collector healthy, throughout.
        assert samples
        max_budget = max(s[0] for s in samples)
        max_heap = max(s[1] for s in samples)
        assert max_budget <= SOFT + (1 << 20), f"budget peaked at {max_budget}"
        assert max_heap < HARD, f"heap peaked at {max_heap}"
        assert all(h == 200 for h in health), [h for h in health if h != 200][:5]
        assert c.metric("otelcol_receiver_requests_total", 'outcome="refused"') > 0
        assert c.metric("otelcol_exporter_send_failed_spans_total") == 0
        assert c.stop() == 0
        assert '"dropped_items":0' in c.output().replace(" ", "")
        print(
            f"offered {offered.bytes >> 20} MiB ({offered.refused} refused attempts), "
            f"accepted {len(accepted)} spans, budget peak {max_budget / (1 << 20):.1f} MiB, "
            f"heap peak {max_heap / (1 << 20):.1f} MiB, rss peak {max(s[2] for s in samples) / (1 << 20):.1f} MiB"
        )
        if os.environ.get("OVERLOAD_REPORT"):
            report(samples)
    finally:
        sink.stop()


def report(samples):
    """Memory over time, one row per half second."""
    mib = 1 << 20
    print(f"\n| t (s) | phase | offered (MiB) | payload budget (MiB) | heap (MiB) | RSS (MiB) | RSS / idle RSS |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    idle = samples[0][2]
    next_t = 0.0
    for budget, heap, rss, t, phase, offered in samples:
        if t >= next_t:
            print(
                f"| {t:.1f} | {phase} | {offered / mib:.0f} | {budget / mib:.1f} | {heap / mib:.1f} "
                f"| {rss / mib:.1f} | {rss / idle:.2f} |"
            )
            next_t = t + 0.5
