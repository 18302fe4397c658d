"""The fast path: `collector_ffi.BatchSpanProcessor` packs spans (docs/packed-spans.md) and
the library builds the OTLP. What it builds must be what the SDK's own encoder builds."""

import os
import struct
import subprocess
import sys
import textwrap
import time

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from collector_ffi import BatchSpanProcessor, Collector, InvalidDataError
from collector_ffi._packed import pack
from conftest import PACKAGE_DIR, attrs, config
import packed_corpus


def to_otlp(packed, tmp_path):
    """The OTLP request the library builds from `packed` (through the `file` exporter)."""
    out = tmp_path / f"out-{time.monotonic_ns()}.pb"
    c = Collector(
        "receivers: {embedded: {}}\n"
        f"exporters: {{file: {{path: {out}, format: proto}}}}\n"
        "service: {pipelines: {traces: {receivers: [embedded], exporters: [file]}}}\n"
    ).start()
    c.ingest_packed_spans(packed)
    c.shutdown()
    raw = out.read_bytes()
    (n,) = struct.unpack(">I", raw[:4])
    assert len(raw) == 4 + n, "one request"
    return raw[4:]


def test_same_otlp_as_the_sdk_encoder(tmp_path):
    spans = packed_corpus.spans()
    assert len(spans) >= 40
    for batch in (spans, spans[:1], spans[-2:], spans[5:40]):
        ours = to_otlp(pack(batch), tmp_path)
        sdk = encode_spans(batch).SerializeToString()
        a, b = ExportTraceServiceRequest.FromString(ours), ExportTraceServiceRequest.FromString(sdk)
        if not packed_corpus.newest_encoder():
            # 1.30's encoder leaves out ScopeSpans.schema_url (newer ones write it, as we do).
            for rs in a.resource_spans:
                for ss in rs.scope_spans:
                    ss.schema_url = ""
            assert a == b
            continue
        # Field by field (protobuf message equality), and, as our writer follows field
        # order as protobuf does, byte for byte.
        assert a == b
        assert ours == sdk
    # The corpus covers what it claims to.
    req = ExportTraceServiceRequest.FromString(to_otlp(pack(spans), tmp_path))
    all_spans = [s for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans]
    kinds = {
        kv.value.WhichOneof("value") for s in all_spans for kv in s.attributes
    } | {kv.value.array_value.values[0].WhichOneof("value") for s in all_spans for kv in s.attributes if kv.value.HasField("array_value")}
    assert {"string_value", "int_value", "double_value", "bool_value", "array_value"} <= kinds
    assert len(req.resource_spans) == 2 and any(rs.schema_url for rs in req.resource_spans)
    assert any(s.trace_state for s in all_spans) and any(s.links for s in all_spans)
    assert any(s.dropped_attributes_count for s in all_spans) and any(s.dropped_events_count for s in all_spans)
    assert any(s.dropped_links_count for s in all_spans) and any(s.flags == 0x300 for s in all_spans)
    assert {s.kind for s in all_spans} == {1, 2, 3, 4, 5} and {s.status.code for s in all_spans} == {0, 1, 2}


def test_value_types_the_sdk_does_not_produce(tmp_path):
    # Attributes straight on a ReadableSpan (not cleaned by the SDK): bytes, mappings,
    # nested arrays, big integers, a type nothing can encode (skipped, as the SDK skips it).
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import SpanContext

    ctx = SpanContext(trace_id=1, span_id=2, is_remote=False)
    values = {"bytes": b"\x00\xff", "map": {"a": 1, "b": [True, "x"]}, "nested": [[1], [2]], "obj": object()}
    span = ReadableSpan(name="raw", context=ctx, attributes=values, start_time=1, end_time=2, resource=Resource.create({}))
    req = ExportTraceServiceRequest.FromString(to_otlp(pack([span]), tmp_path))
    s = req.resource_spans[0].scope_spans[0].spans[0]
    got = {kv.key: kv.value for kv in s.attributes}
    assert set(got) == {"bytes", "map", "nested"}
    assert got["bytes"].bytes_value == b"\x00\xff"
    assert attrs(got["map"].kvlist_value.values)["a"] == 1
    assert [v.array_value.values[0].int_value for v in got["nested"].array_value.values] == [1, 2]
    # Outside int64: the SDK's encoder fails the whole batch; ours sends it as a string.
    big = ReadableSpan(name="big", context=ctx, attributes={"n": 2**70}, start_time=1, end_time=2, resource=Resource.create({}))
    req = ExportTraceServiceRequest.FromString(to_otlp(pack([big, span]), tmp_path))
    s = req.resource_spans[0].scope_spans[0].spans[0]
    assert s.attributes[0].value.string_value == str(2**70)


def test_bad_bytes_are_invalid_data_not_a_crash(sink):
    good = pack(packed_corpus.spans()[:3])
    with Collector(config(sink, signals=("traces",))) as c:
        for bad in (b"", b"junk", good[:-1], good[:40], b"OTPS" + b"\xff" * 60, good.replace(b"OTPS", b"OTPX", 1)):
            with pytest.raises(InvalidDataError, match="packed spans"):
                c.ingest_packed_spans(bad)
        with pytest.raises(TypeError):
            c.ingest_packed_spans("text")
        c.ingest_packed_spans(good)  # accepted after all that
        c.flush(10)
    assert len(sink.wait("spans", 3)) == 3


def test_processor_delivers_and_flushes(sink):
    with Collector(config(sink, signals=("traces",))) as c:
        provider = TracerProvider(resource=Resource.create({"service.name": "fast"}))
        bsp = BatchSpanProcessor(c, max_export_batch_size=100, schedule_delay_millis=60_000)
        provider.add_span_processor(bsp)
        t = provider.get_tracer("fast")
        for i in range(1050):
            with t.start_as_current_span("op", attributes={"i": i}):
                pass
        # Ten full batches went without waiting for the 60 s delay; force_flush hands over
        # the rest and waits for delivery.
        got = sink.wait("spans", 1000, timeout=10)
        assert len(got) >= 1000
        assert bsp.force_flush(10_000)
        got = sink.wait("spans", 1050, timeout=5)
        provider.shutdown()
    assert len(got) == 1050 and len({s.span_id for _, _, s in got}) == 1050
    assert sorted(attrs(s.attributes)["i"] for _, _, s in got) == list(range(1050))
    assert bsp.dropped_spans == 0


def test_queue_full_drops_and_counts(sink):
    with Collector(config(sink, signals=("traces",))) as c:
        provider = TracerProvider()
        bsp = BatchSpanProcessor(c, max_queue_size=10, max_export_batch_size=10, schedule_delay_millis=60_000)
        provider.add_span_processor(bsp)
        t = provider.get_tracer("drop")
        bsp._export_lock.acquire()  # hold the worker off, as a busy one would be
        try:
            for i in range(25):
                with t.start_as_current_span("op"):
                    pass
        finally:
            bsp._export_lock.release()
        assert bsp.dropped_spans == 15
        assert bsp.force_flush(10_000)
        provider.shutdown()
    assert len(sink.wait("spans", 10)) == 10


def test_retryable_keeps_the_batch_until_the_collector_takes_it(sink):
    # A refusing backend and a two-request exporter queue: once full, the collector says
    # "retryable"; the batch stays with the processor and goes when there is room again.
    sink.status = 503
    queue = ", sending_queue: {queue_size: 2, num_consumers: 1}, retry_on_failure: {initial_interval: 50ms, max_interval: 100ms}"
    c = Collector(config(sink, signals=("traces",), batch=False, exporter=queue)).start()
    try:
        provider = TracerProvider()
        bsp = BatchSpanProcessor(c, max_export_batch_size=10, schedule_delay_millis=50, max_queue_size=1000)
        provider.add_span_processor(bsp)
        t = provider.get_tracer("retry")
        for i in range(60):
            with t.start_as_current_span("op", attributes={"i": i}):
                pass
        deadline = time.time() + 5
        while bsp._held is None and time.time() < deadline:
            time.sleep(0.02)
        assert bsp._held is not None, "a batch is held back"
        sink.status = 200
        assert bsp.force_flush(20_000)
        provider.shutdown()
    finally:
        sink.status = 200
        c.shutdown()
    got = sink.wait("spans", 60, timeout=5)
    assert sorted(attrs(s.attributes)["i"] for _, _, s in got) == list(range(60))
    assert bsp.dropped_spans == 0


def test_arguments_and_environment(monkeypatch, sink):
    c = Collector(config(sink, signals=("traces",)))
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "64")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "250")
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "16")
    monkeypatch.setenv("OTEL_BSP_EXPORT_TIMEOUT", "1000")
    b = BatchSpanProcessor(c)
    assert (b._max_queue, b._delay, b._batch, b._timeout) == (64, 0.25, 16, 1.0)
    b = BatchSpanProcessor(c, max_queue_size=8, max_export_batch_size=8, schedule_delay_millis=10, export_timeout_millis=5)
    assert (b._max_queue, b._batch) == (8, 8)
    monkeypatch.delenv("OTEL_BSP_MAX_QUEUE_SIZE")
    monkeypatch.delenv("OTEL_BSP_SCHEDULE_DELAY")
    monkeypatch.delenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE")
    monkeypatch.delenv("OTEL_BSP_EXPORT_TIMEOUT")
    b = BatchSpanProcessor(c)
    assert (b._max_queue, b._delay, b._batch, b._timeout) == (2048, 5.0, 512, 30.0)  # the SDK's
    with pytest.raises(ValueError):
        BatchSpanProcessor(c, max_queue_size=10, max_export_batch_size=11)
    with pytest.raises(ValueError):
        BatchSpanProcessor(c, schedule_delay_millis=0)
    with pytest.raises(TypeError):
        BatchSpanProcessor("collector")


def test_multiprocessing_fork_children_deliver_every_span(sink):
    script = textwrap.dedent("""
        import os, multiprocessing
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from collector_ffi import BatchSpanProcessor, Collector

        collector = Collector(os.environ["CONFIG"]).start()
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(collector))
        trace.set_tracer_provider(provider)
        tracer = trace.get_tracer("fork")

        def child(i):
            for j in range(250):
                with tracer.start_as_current_span("child", attributes={"child": i}):
                    pass

        if __name__ == "__main__":
            for j in range(10):
                with tracer.start_as_current_span("parent"):
                    pass
            provider.force_flush()
            ctx = multiprocessing.get_context("fork")
            procs = [ctx.Process(target=child, args=(i,)) for i in range(4)]
            for p in procs: p.start()
            for p in procs: p.join(30)
            assert [p.exitcode for p in procs] == [0] * 4
    """)
    env = dict(os.environ, PYTHONPATH=PACKAGE_DIR, CONFIG=config(sink, signals=("traces",)))
    p = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    got = sink.wait("spans", 1010, timeout=10)
    assert len(got) == 1010 and len({s.span_id for _, _, s in got}) == 1010
    kids = sorted(attrs(s.attributes)["child"] for _, _, s in got if s.name == "child")
    assert kids == sorted(i for i in range(4) for _ in range(250))
