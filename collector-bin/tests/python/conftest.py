"""Start the `collector` binary (built by cargo) on free 127.0.0.1 ports."""

import os
import re
import signal
import socket
import subprocess
import tempfile
import time

import threading
from concurrent import futures

import grpc
import pytest
import requests
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

BIN = os.environ.get("COLLECTOR_BIN", os.path.join(os.path.dirname(__file__), "../../../target/debug/collector"))


class SpanSink(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP/gRPC trace backend on 127.0.0.1 (grpcio) that keeps the span ids it got and
    answers UNAVAILABLE while `stalled` is set."""

    def __init__(self, stalled=False):
        self.stalled = threading.Event()
        if stalled:
            self.stalled.set()
        self.lock = threading.Lock()
        self.ids = set()
        self.received = 0
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=4), options=[("grpc.max_receive_message_length", 64 << 20)]
        )
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def Export(self, request, context):
        if self.stalled.is_set():
            context.abort(grpc.StatusCode.UNAVAILABLE, "backend stalled")
        ids = [s.span_id for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
        with self.lock:
            self.ids.update(ids)
            self.received += len(ids)
        return trace_service_pb2.ExportTraceServiceResponse()

    def wait_for(self, n, timeout=30):
        """Waits until `n` spans arrived (or `timeout` passed); returns how many did."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if self.received >= n:
                    return self.received
            time.sleep(0.02)
        with self.lock:
            return self.received

    def stop(self):
        self.server.stop(0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector:
    """A running collector process with its ports and captured stderr."""

    def __init__(self, yaml=None, args=(), health_path="/"):
        self.grpc = free_port()
        self.http = free_port()
        self.health = free_port()
        self.metrics = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="collector-", suffix=".log", delete=False)
        cmd = [BIN]
        if yaml is not None:
            self.cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
            self.cfg.write(yaml.format(grpc=self.grpc, http=self.http, health=self.health, metrics=self.metrics))
            self.cfg.flush()
            cmd += ["--config", self.cfg.name]
        else:
            cmd += [
                f"--set=receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{self.grpc}",
                f"--set=receivers.otlp.protocols.http.endpoint=127.0.0.1:{self.http}",
                f"--set=extensions.health_check.endpoint=127.0.0.1:{self.health}",
                f"--set=service.telemetry.metrics.address=127.0.0.1:{self.metrics}",
            ]
        cmd += list(args)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{self.health}{health_path}", timeout=0.5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError("collector did not become healthy:\n" + self.output())

    def output(self):
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def metric(self, name, labels=""):
        text = requests.get(f"http://127.0.0.1:{self.metrics}/metrics", timeout=2).text
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name) and labels in line:
                total += float(line.rsplit(" ", 1)[1])
        return total

    def wait_metric(self, name, value, labels="", timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self.metric(name, labels)
            if got >= value:
                return got
            time.sleep(0.05)
        return self.metric(name, labels)

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=timeout)
        return self.proc.returncode

    def debug_counts(self, key):
        """Sum of `"<key>": N` over the debug exporter's basic lines."""
        return sum(int(n) for n in re.findall(r'"%s": (\d+)' % re.escape(key), self.output()))


BASIC = """
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
      http:
        endpoint: 127.0.0.1:{http}
exporters:
  debug:
    verbosity: basic
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
      exporters: [debug]
    metrics:
      receivers: [otlp]
      exporters: [debug]
    logs:
      receivers: [otlp]
      exporters: [debug]
"""


@pytest.fixture
def collector():
    started = []

    def start(yaml=BASIC, args=(), health_path="/"):
        c = Collector(yaml, args, health_path)
        started.append(c)
        return c

    yield start
    for c in started:
        if c.proc.poll() is None:
            c.proc.kill()
            c.proc.wait()
