"""The collector's own telemetry over OTLP, as the Go collector v0.138 configures it
(`service::telemetry`, otelconf keys): its log lines through a `batch` log processor and its
metrics through a `periodic` reader, both to an OTLP/HTTP backend on 127.0.0.1 that decodes
them with the reference protobuf types."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from conftest import Collector


class Backend:
    def __init__(self):
        self.lock = threading.Lock()
        self.logs = []
        self.metrics = []
        self.headers = []
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with backend.lock:
                    backend.headers.append(dict(self.headers))
                    if self.path == "/v1/logs":
                        backend.logs.append(ExportLogsServiceRequest.FromString(body))
                    elif self.path == "/custom/metrics":
                        backend.metrics.append(ExportMetricsServiceRequest.FromString(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


CONFIG = """
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{grpc}"}}
exporters:
  debug: {{verbosity: basic}}
extensions:
  health_check: {{endpoint: "127.0.0.1:{health}"}}
service:
  extensions: [health_check]
  telemetry:
    resource:
      service.name: my-sidecar
    logs:
      processors:
        - batch:
            schedule_delay: 100
            exporter:
              otlp:
                protocol: http/protobuf
                endpoint: http://127.0.0.1:PORT
                headers: [{{name: x-api-key, value: secret}}]
    metrics:
      readers:
        - periodic:
            interval: 100
            exporter:
              otlp:
                protocol: http/protobuf
                endpoint: http://127.0.0.1:PORT/custom/metrics
  pipelines:
    traces: {{receivers: [otlp], exporters: [debug]}}
"""


def records(backend):
    with backend.lock:
        return [
            (rl.resource, r)
            for req in backend.logs
            for rl in req.resource_logs
            for sl in rl.scope_logs
            for r in sl.log_records
        ]


def test_own_logs_and_metrics_reach_an_otlp_backend():
    backend = Backend()
    c = Collector(CONFIG.replace("PORT", str(backend.port)))
    try:
        deadline = time.time() + 10
        while time.time() < deadline and not any(
            "Everything is ready" in r.body.string_value for _, r in records(backend)
        ):
            time.sleep(0.05)
        got = records(backend)
        ready = [r for _, r in got if "Everything is ready" in r.body.string_value]
        assert ready, [r.body.string_value for _, r in got]
        assert ready[0].severity_number == 9 and ready[0].severity_text == "info"
        assert ready[0].time_unix_nano > 0
        resource = {kv.key: kv.value.string_value for kv in got[0][0].attributes}
        assert resource["service.name"] == "my-sidecar"
        with backend.lock:
            assert any(h.get("x-api-key") == "secret" for h in backend.headers)
        deadline = time.time() + 10
        while time.time() < deadline:
            with backend.lock:
                if backend.metrics:
                    break
            time.sleep(0.05)
        with backend.lock:
            names = {m.name for req in backend.metrics for rm in req.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
        assert "otelcol_process_uptime" in names, names
    finally:
        assert c.stop() == 0
    # What the collector logs while it stops is shipped before it exits (up to the
    # extensions' stop: "Shutdown complete." comes after, as in Go, where the logger
    # provider is shut down with the service).
    assert any("Starting shutdown" in r.body.string_value for _, r in records(backend)), c.output()
