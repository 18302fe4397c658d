"""The persistent queue under SIGKILL: the collector binary with `file_storage` is killed at
random instants while a gRPC client (grpcio) sends, and restarted; at the end every span
the client saw acknowledged has reached the backend (a grpcio server). Duplicates are
allowed (at-least-once) and reported."""

import os
import random
import tempfile
import threading
import time

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from conftest import Collector, SpanSink
from test_overload import span_request

KILLS = int(os.environ.get("OTELCOL_DURABILITY_KILLS", "20"))

CONFIG = """
extensions:
  health_check:
    endpoint: 127.0.0.1:{health}
  file_storage:
    directory: DIRECTORY
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
      http:
        endpoint: 127.0.0.1:{http}
processors:
  batch:
    timeout: 50ms
exporters:
  otlp:
    endpoint: 127.0.0.1:SINK
    tls:
      insecure: true
    retry_on_failure:
      initial_interval: 20ms
      max_interval: 200ms
      max_elapsed_time: 0s
    sending_queue:
      storage: file_storage
      queue_size: 100000
service:
  extensions: [health_check, file_storage]
  telemetry:
    metrics:
      address: 127.0.0.1:{metrics}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
"""


def sender(port, first_tag, acked, stop):
    """Sends 50-span requests with fresh ids until `stop` is set or the collector is gone;
    records the ids of every request answered OK."""
    tag = first_tag
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        stub = trace_service_pb2_grpc.TraceServiceStub(ch)
        while not stop.is_set():
            req = span_request(tag, 50)
            tag += 1
            try:
                stub.Export(req, timeout=2)
            except grpc.RpcError:
                # Killed mid-request, or refused: not acknowledged, not counted.
                continue
            acked.update(s.span_id for s in req.resource_spans[0].scope_spans[0].spans)


def test_sigkill_at_random_instants_loses_nothing_acknowledged():
    rng = random.Random(int(os.environ.get("OTELCOL_DURABILITY_SEED", "16")))
    sink = SpanSink()
    directory = tempfile.mkdtemp(prefix="collector-durability-")
    yaml = (
        CONFIG.replace("DIRECTORY", directory)
        .replace("SINK", str(sink.port))
    )
    acked = set()
    try:
        for kill in range(KILLS):
            # The backend is down for some of the rounds: data piles up on disk.
            if rng.random() < 0.4:
                sink.stalled.set()
            else:
                sink.stalled.clear()
            c = Collector(yaml)
            stop = threading.Event()
            senders = [
                threading.Thread(target=sender, args=(c.grpc, (kill * 4 + i) << 12, acked, stop))
                for i in range(2)
            ]
            for s in senders:
                s.start()
            time.sleep(rng.uniform(0.05, 0.5))
            c.proc.kill()
            c.proc.wait()
            stop.set()
            for s in senders:
                s.join()
        sink.stalled.clear()
        c = Collector(yaml)
        deadline = time.time() + 60
        while time.time() < deadline:
            with sink.lock:
                missing = len(acked - sink.ids)
            if missing == 0:
                break
            time.sleep(0.05)
        with sink.lock:
            lost = acked - sink.ids
            duplicates = sink.received - len(sink.ids)
        print(f"\n{KILLS} kills: {len(acked)} spans acknowledged, {len(lost)} lost, {duplicates} duplicates")
        assert acked, "nothing was acknowledged"
        assert not lost, f"{len(lost)} acknowledged spans never arrived:\n" + c.output()[-3000:]
        assert c.stop() == 0
    finally:
        sink.stop()
