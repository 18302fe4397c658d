"""Fixtures for the Python package's tests: an OTLP/HTTP backend on 127.0.0.1 and a config
that feeds it from the `embedded` receiver.

The package is imported from the source tree (`collector-ffi/python`) with the library cargo
built (`COLLECTOR_FFI_LIBRARY`, set by ./scripts/test); only test_pip_install.py builds and
installs the wheel.
"""

import gzip
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_DIR = os.path.dirname(HERE)
REPO = os.path.abspath(os.path.join(PACKAGE_DIR, "..", ".."))
if PACKAGE_DIR not in sys.path:
    sys.path.insert(0, PACKAGE_DIR)


def library_path():
    """The library cargo built, as the tests load it."""
    explicit = os.environ.get("COLLECTOR_FFI_LIBRARY")
    if explicit:
        return explicit
    for d in ("target/debug/deps", "target/debug"):
        p = os.path.join(REPO, d, "libcollector_ffi.so")
        if os.path.exists(p):
            os.environ["COLLECTOR_FFI_LIBRARY"] = p
            return p
    raise RuntimeError("build the library first (cargo build -p collector-ffi) or set COLLECTOR_FFI_LIBRARY")


library_path()

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest  # noqa: E402
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest  # noqa: E402
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest  # noqa: E402

_REQUESTS = {
    "/v1/traces": ExportTraceServiceRequest,
    "/v1/logs": ExportLogsServiceRequest,
    "/v1/metrics": ExportMetricsServiceRequest,
}


def attrs(kvs):
    """OTLP `KeyValue`s as a dict of Python values."""
    out = {}
    for kv in kvs:
        v = kv.value
        out[kv.key] = getattr(v, v.WhichOneof("value")) if v.WhichOneof("value") else None
    return out


class Sink:
    """An OTLP/HTTP (protobuf) backend on 127.0.0.1 that keeps what it receives. While
    `status` is not 200 it refuses every request with that status."""

    def __init__(self):
        self.lock = threading.Lock()
        self.spans, self.logs, self.points = [], [], []
        self.status = 200
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if sink.status != 200:
                    self.send_response(sink.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                req = _REQUESTS[self.path].FromString(body)
                sink._keep(self.path, req)
                out = b""
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def _keep(self, path, req):
        with self.lock:
            if path == "/v1/traces":
                for rs in req.resource_spans:
                    for ss in rs.scope_spans:
                        for s in ss.spans:
                            self.spans.append((rs.resource, ss.scope, s))
            elif path == "/v1/logs":
                for rl in req.resource_logs:
                    for sl in rl.scope_logs:
                        for r in sl.log_records:
                            self.logs.append((rl.resource, sl.scope, r))
            else:
                for rm in req.resource_metrics:
                    for sm in rm.scope_metrics:
                        for m in sm.metrics:
                            kind = m.WhichOneof("data")
                            for p in getattr(m, kind).data_points:
                                self.points.append((rm.resource, m, p))

    def wait(self, what, n, timeout=30):
        """Waits until `n` items of `what` ("spans", "logs", "points") arrived; returns them."""
        deadline = time.time() + timeout
        while True:
            with self.lock:
                got = list(getattr(self, what))
            if len(got) >= n or time.time() > deadline:
                return got
            time.sleep(0.02)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink():
    s = Sink()
    yield s
    s.stop()


def config(sink, signals=("traces", "logs", "metrics"), extra_processors="", processors=(), batch=True, exporter=""):
    """YAML: the `embedded` receiver, `batch` (short timeout) and `otlphttp` to `sink`;
    `exporter` adds keys to the exporter (`, sending_queue: {...}`)."""
    procs = ", ".join(list(processors) + (["batch"] if batch else []))
    pipelines = "".join(
        f"    {s}: {{receivers: [embedded], processors: [{procs}], exporters: [otlphttp]}}\n" for s in signals
    )
    return (
        "receivers:\n  embedded: {}\n"
        f"processors:\n  batch: {{timeout: 50ms}}\n{extra_processors}"
        f"exporters:\n  otlphttp: {{endpoint: {sink.endpoint}, compression: none{exporter}}}\n"
        f"service:\n  pipelines:\n{pipelines}"
    )
