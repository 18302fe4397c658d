"""The seed's sidecar configuration end to end.

`collector-core/tests/data/seed-sidecar.yaml` (a byte-for-byte copy of the seed's file) runs
unchanged, plus `yaml:` sources for what a test must change: plaintext to the backend, the
S3 endpoint (moto) with path-style addressing. Around it, all real: the OpenTelemetry
Python SDK as the application, the `sink` binary (decodes with prost) as SigNoz, moto
server as S3, and a local ECS task metadata endpoint (Fargate).

Network rule: each test runs itself again inside a private network namespace
(`unshare -n`, then `ip link set lo up`) and starts every server and client in there, so
nothing (the ECS and EC2 detectors, the AWS credential chain) can reach off the machine.
That also leaves the seed's fixed ports 4317/4318 free for its receivers.
"""

import gzip
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import requests

from conftest import BIN, free_port

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../../.."))
SEED = os.path.join(ROOT, "collector-core/tests/data/seed-sidecar.yaml")
SINK_BIN = os.environ.get("SINK_BIN", os.path.join(os.path.dirname(BIN), "sink"))
INNER = "SEED_TEST_NETNS"

KEY = "ingest-key-planted-7731"
BUCKET = "seed-otel-logs"
TASK_ARN = "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123abcd"

SPANS = 250
LOGS = 40


def in_netns(test):
    """Runs `test` (a test function of this file) again inside `unshare -n`."""
    if os.environ.get(INNER) == test.__name__:
        return False
    script = 'ip link set lo up && exec "$0" -m pytest -q -p no:cacheprovider -W ignore::DeprecationWarning "$1"'
    r = subprocess.run(
        ["unshare", "-n", "sh", "-c", script, sys.executable, f"{__file__}::{test.__name__}"],
        env={**os.environ, INNER: test.__name__},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert r.returncode == 0, f"inside unshare -n:\n{r.stdout}\n{r.stderr}"
    return True


class EcsMetadata(http.server.BaseHTTPRequestHandler):
    """Task metadata v4 of a Fargate task with the collector and one application container."""

    def do_GET(self):
        me = {"DockerId": "collector", "Name": "otel-collector", "Type": "NORMAL", "KnownStatus": "RUNNING"}
        if self.path == "/v4/abc":
            body = me
        elif self.path == "/v4/abc/task":
            body = {
                "Cluster": "prod",
                "TaskARN": TASK_ARN,
                "Family": "checkout",
                "Revision": "12",
                "AvailabilityZone": "eu-west-1b",
                "LaunchType": "FARGATE",
                "Containers": [
                    me,
                    {
                        "DockerId": "app",
                        "Name": "checkout",
                        "Type": "NORMAL",
                        "KnownStatus": "RUNNING",
                        "LogDriver": "awslogs",
                        "LogOptions": {
                            "awslogs-group": "/ecs/checkout",
                            "awslogs-region": "eu-west-1",
                            "awslogs-stream": "ecs/checkout/0123abcd",
                        },
                    },
                ],
            }
        else:
            self.send_error(404)
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def wait_port(port, proc=None, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


class World:
    """Sink, moto, ECS metadata and the collector, all on 127.0.0.1 inside the namespace."""

    def __init__(self, with_s3=True):
        self.procs = []
        self.sink = subprocess.Popen(
            [SINK_BIN, "--record-header", "signoz-ingestion-key"], stdout=subprocess.PIPE, text=True
        )
        self.procs.append(self.sink)
        line = self.sink.stdout.readline()
        self.sink_addr = line.strip().rsplit(" ", 1)[1]

        self.moto_port = free_port()
        if with_s3:
            moto = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.moto_port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self.procs.append(moto)
            wait_port(self.moto_port, moto)
            self.s3().create_bucket(
                Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )

        self.ecs = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EcsMetadata)
        threading.Thread(target=self.ecs.serve_forever, daemon=True).start()

    def s3(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{self.moto_port}",
            region_name="eu-west-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def start_collector(self):
        env = {
            **os.environ,
            "SIGNOZ_ENDPOINT": self.sink_addr,
            "SIGNOZ_INGESTION_KEY": KEY,
            "AWS_REGION": "eu-west-1",
            "S3_LOGS_BUCKET": BUCKET,
            "ENVIRONMENT": "production",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "ECS_CONTAINER_METADATA_URI_V4": f"http://127.0.0.1:{self.ecs.server_port}/v4/abc",
        }
        env.pop("OTEL_RESOURCE_ATTRIBUTES", None)
        self.log = tempfile.NamedTemporaryFile(prefix="seed-", suffix=".log", delete=False)
        self.collector = subprocess.Popen(
            [
                BIN,
                "--config", SEED,
                "--config", "yaml:exporters::otlp/signoz::tls::insecure: true",
                "--config", f"yaml:exporters::awss3::s3uploader::endpoint: http://127.0.0.1:{self.moto_port}",
                "--config", "yaml:exporters::awss3::s3uploader::s3_force_path_style: true",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(self.collector)
        wait_port(4317, self.collector)
        wait_port(4318, self.collector)

    def output(self):
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop_collector(self):
        self.collector.send_signal(signal.SIGTERM)
        rc = self.collector.wait(timeout=40)
        assert rc == 0, self.output()

    def report(self):
        return requests.get(f"http://{self.sink_addr}/report", timeout=5).json()

    def close(self):
        self.ecs.shutdown()
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def send_with_the_sdk():
    """What one of the seed's Python services sends: spans over gRPC, logs over HTTP,
    metrics over gRPC, with a resource that already carries `cloud.region`."""
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": "checkout", "cloud.region": "sdk-region"})

    tp = TracerProvider(resource=resource)
    tp.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint="127.0.0.1:4317", insecure=True), max_export_batch_size=100)
    )
    tracer = tp.get_tracer("checkout")
    for i in range(SPANS):
        with tracer.start_as_current_span(f"op-{i % 7}") as s:
            s.set_attribute("order.id", i)
    assert tp.force_flush(30_000)
    tp.shutdown()

    lp = LoggerProvider(resource=resource)
    lp.add_log_record_processor(BatchLogRecordProcessor(HttpLogExporter(endpoint="http://127.0.0.1:4318/v1/logs")))
    lp.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint="127.0.0.1:4317", insecure=True)))
    logger = lp.get_logger("checkout")
    from opentelemetry._logs import LogRecord, SeverityNumber

    for i in range(LOGS // 2):
        logger.emit(LogRecord(body=f"order {i} paid", severity_number=SeverityNumber.INFO))
    assert lp.force_flush(30_000)
    lp.shutdown()

    reader = InMemoryMetricReader()
    mp = MeterProvider(resource=resource, metric_readers=[reader])
    counter = mp.get_meter("checkout").create_counter("orders")
    for i in range(5):
        counter.add(1, {"shard": str(i)})
    data = reader.get_metrics_data()
    points = sum(
        len(m.data.data_points) for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    )
    exporter = OTLPMetricExporter(endpoint="127.0.0.1:4317", insecure=True)
    assert exporter.export(data).name == "SUCCESS"
    exporter.shutdown()
    mp.shutdown()
    # Each log record went out twice (HTTP and gRPC exporters).
    return SPANS, LOGS, points


def check_backend(world, spans, logs, points):
    r = world.report()
    assert r["items"] == {"traces": spans, "logs": logs, "metrics": points}, r
    assert r["invalid"] == 0, r
    # Everything the collector sent was gzip (the seed's `compression: gzip`).
    assert set(r["encodings"]) == {"gzip"}, r
    assert r["headers"] == {"signoz-ingestion-key": [KEY]}, r
    assert r["resources"], r
    for res in r["resources"]:
        assert res["service.name"] == "checkout", res
        # The resource processor's upserts.
        assert res["cloud.provider"] == "aws", res
        assert res["deployment.environment"] == "production", res
        # override: false: what the SDK set wins over the ECS detector's cloud.region.
        assert res["cloud.region"] == "sdk-region", res
        # The ECS detector (Fargate); the EC2 detector skipped.
        assert res["aws.ecs.task.arn"] == TASK_ARN, res
        assert res["aws.ecs.launchtype"] == "fargate", res
        assert res["cloud.platform"] == "aws_ecs", res
        assert res["aws.log.group.names"] == "[/ecs/checkout]", res
        assert "host.id" not in res, res
        # The system detector.
        assert res["host.name"], res


def test_seed_sidecar_end_to_end():
    if in_netns(test_seed_sidecar_end_to_end):
        return
    world = World()
    try:
        world.start_collector()
        spans, logs, points = send_with_the_sdk()
        world.stop_collector()
        check_backend(world, spans, logs, points)

        # Logs in S3 as OTLP JSON, under the seed's prefix and contrib's key layout.
        s3 = world.s3()
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
        assert keys, "no object in S3:\n" + world.output()
        layout = re.compile(
            r"^otel-logs/production/year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/minute=\d{2}/logs_\d{9}\.json$"
        )
        records = 0
        for k in keys:
            assert layout.match(k), k
            body = s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()
            if body[:2] == b"\x1f\x8b":
                body = gzip.decompress(body)
            doc = json.loads(body)
            for rl in doc["resourceLogs"]:
                attrs = {a["key"]: a["value"].get("stringValue") for a in rl["resource"]["attributes"]}
                assert attrs["deployment.environment"] == "production", attrs
                assert attrs["aws.ecs.task.arn"] == TASK_ARN, attrs
                records += sum(len(sl.get("logRecords", [])) for sl in rl["scopeLogs"])
        assert records == logs, (records, keys)

        # The ingestion key is in no log line (headers are never logged).
        out = world.output()
        assert KEY not in out, out
        assert "Everything is ready" in out, out
    finally:
        world.close()


def test_seed_with_s3_down_still_delivers_everything_to_the_backend():
    if in_netns(test_seed_with_s3_down_still_delivers_everything_to_the_backend):
        return
    world = World(with_s3=False)
    try:
        world.start_collector()
        spans, logs, points = send_with_the_sdk()
        world.stop_collector()
        check_backend(world, spans, logs, points)
        out = world.output()
        assert KEY not in out, out
        # The S3 side failed (its last attempt, at shutdown), counted and said so.
        assert re.search(r'Exporting failed\. Dropping data\..*"exporter":"awss3"', out), out
    finally:
        world.close()
