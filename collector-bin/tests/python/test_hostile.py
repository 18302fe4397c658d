"""Hostile clients: every byte a request makes the collector hold is on its memory budget.

The collector runs with the memory_limiter of the issue that found these problems
(`limit_mib: 64`, `spike_limit_mib: 16`) and exports to a real OTLP/gRPC backend (grpcio).
While hostile clients send compression bombs, hold thousands of idle connections or open
header-only HTTP/2 streams, a well-behaved OpenTelemetry SDK client must lose nothing and
the collector's peak RSS (VmHWM) must stay bounded.
"""

import gzip
import socket
import struct
import threading
import time

import requests
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from conftest import SpanSink

CONFIG = """
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc}
        GRPC_EXTRA
      http:
        endpoint: 127.0.0.1:{http}
        HTTP_EXTRA
processors:
  memory_limiter:
    check_interval: 100ms
    limit_mib: 64
    spike_limit_mib: 16
  batch:
    timeout: 100ms
exporters:
  otlp:
    endpoint: 127.0.0.1:SINK
    tls:
      insecure: true
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
"""

MIB = 1 << 20


def config(sink, grpc_extra="", http_extra=""):
    return CONFIG.replace("SINK", str(sink.port)).replace("GRPC_EXTRA", grpc_extra).replace("HTTP_EXTRA", http_extra)


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def good_client(port, n, service="good-client"):
    """The OpenTelemetry Python SDK over gRPC: `n` spans, flushed; returns the provider."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"127.0.0.1:{port}", insecure=True), schedule_delay_millis=50)
    )
    tracer = provider.get_tracer("hostile")
    for i in range(n):
        with tracer.start_as_current_span("GET /api/items") as s:
            s.set_attribute("i", i)
    assert provider.force_flush(30_000)
    return provider


def json_bomb():
    """18 MiB of OTLP/JSON that carries nothing: an unknown key holding zeros (17 KiB gzipped)."""
    body = b'{"x":[' + b"0," * (9 * MIB - 1) + b'0]}'
    return gzip.compress(body, 9)


def entry_bomb():
    """18 MiB of empty ResourceSpans entries (`0a 00` repeated), 17 KiB gzipped."""
    return gzip.compress(b"\x0a\x00" * (9 * MIB), 9)


def test_compression_bombs_while_a_good_client_sends(collector):
    sink = SpanSink()
    try:
        c = collector(config(sink))
        idle = status_kib(c.proc.pid, "VmRSS")
        bombs = [("json", json_bomb()), ("proto", entry_bomb())]
        assert all(len(b) < 20 << 10 for _, b in bombs)
        answers = []
        lock = threading.Lock()

        def bomber(kind, body):
            ct = "application/json" if kind == "json" else "application/x-protobuf"
            r = requests.post(
                f"http://127.0.0.1:{c.http}/v1/traces",
                data=body,
                headers={"Content-Type": ct, "Content-Encoding": "gzip"},
                timeout=60,
            )
            with lock:
                answers.append((kind, r.status_code, r.text[:200]))

        threads = [threading.Thread(target=bomber, args=bombs[i % 2]) for i in range(20)]
        for t in threads:
            t.start()
        provider = good_client(c.grpc, 500)
        for t in threads:
            t.join(timeout=120)
            assert not t.is_alive()
        provider.shutdown()

        # Every span of the good client arrives, once.
        assert sink.wait_for(500) == 500
        assert len(sink.ids) == 500
        # The entry bomb is refused for what decoding it would build, or for memory;
        # the JSON bomb, a valid request carrying no telemetry, is accepted as empty
        # (OTLP receivers must ignore unknown fields) unless memory is short.
        assert len(answers) == 20
        for kind, status, text in answers:
            if kind == "proto":
                assert status in (400, 413, 503), (kind, status, text)
                if status == 400:
                    assert "resource entries" in text, text
            else:
                assert status in (200, 413, 503), (kind, status, text)
        assert any(s == 400 for k, s, _ in answers if k == "proto"), answers
        peak = status_kib(c.proc.pid, "VmHWM")
        print(f"idle RSS {idle} KiB, peak RSS under bombs {peak} KiB")
        assert peak < 96 * 1024, f"peak RSS {peak} KiB (idle {idle} KiB)"
        assert requests.get(f"http://127.0.0.1:{c.health}/", timeout=2).status_code == 200
        assert c.stop() == 0
    finally:
        sink.stop()


def open_idle(port, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        socks.append(s)
    return socks


def closed_by_peer(s, timeout=0.5):
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def test_idle_connection_floods_do_not_refuse_good_clients(collector):
    sink = SpanSink()
    try:
        c = collector(
            config(
                sink,
                grpc_extra="max_connections: 2100\n        handshake_timeout: 6s",
                http_extra="read_header_timeout: 6s",
            )
        )
        idle = status_kib(c.proc.pid, "VmRSS")
        started = time.time()
        grpc_socks = open_idle(c.grpc, 2000)
        http_socks = open_idle(c.http, 1000)
        # Past the HTTP listener's default limit of 1000: accepted and closed at once.
        extra = open_idle(c.http, 50)
        time.sleep(0.5)
        assert all(closed_by_peer(s, 2) for s in extra)
        assert c.wait_metric("otelcol_receiver_connections_refused_total", 50, 'reason="max_connections"') == 50
        flood = status_kib(c.proc.pid, "VmRSS")
        per_conn = (flood - idle) * 1024 / 3000
        print(f"idle RSS {idle} KiB, with 3000 idle connections {flood} KiB: {per_conn:.0f} bytes each")
        assert per_conn <= 4096, f"{per_conn:.0f} bytes per idle connection"

        # A good client is served, and the memory limiter does not refuse it.
        provider = good_client(c.grpc, 300)
        provider.shutdown()
        assert sink.wait_for(300) == 300
        assert c.metric("otelcol_receiver_refused_spans_total") == 0
        assert c.metric("otelcol_processor_refused_spans_total") == 0
        assert time.time() - started < 6, "the flood must still be open while the good client sends"

        # Connections that never sent a request are closed after the timeout.
        time.sleep(max(0.0, started + 7 - time.time()))
        assert all(closed_by_peer(s) for s in grpc_socks[:50] + grpc_socks[-50:])
        assert all(closed_by_peer(s) for s in http_socks[:50] + http_socks[-50:])
        assert c.wait_metric("otelcol_receiver_connections_closed_total", 3000, 'reason="no_request"') == 3000
        for s in grpc_socks + http_socks + extra:
            s.close()
        assert c.stop() == 0
    finally:
        sink.stop()


def h2_frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def hpack_literal(name, value):
    """A header field as a literal without indexing, with a literal name (RFC 7541 6.2.2)."""
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def read_frames(s, until):
    """Reads frames until `until` (a time) passes or the connection closes; returns them."""
    frames = []
    buf = b""
    s.settimeout(0.2)
    while time.time() < until:
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        if not data:
            break
        buf += data
        while len(buf) >= 9:
            length = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + length:
                break
            frames.append((buf[3], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF, buf[9 : 9 + length]))
            buf = buf[9 + length :]
    return frames


def test_header_only_stream_flood_is_capped(collector):
    sink = SpanSink()
    try:
        c = collector(config(sink))
        idle = status_kib(c.proc.pid, "VmRSS")
        s = socket.create_connection(("127.0.0.1", c.grpc))
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2_frame(4, 0, 0))
        headers = b"".join(
            [
                b"\x83",  # :method POST
                b"\x86",  # :scheme http
                hpack_literal(b":path", b"/opentelemetry.proto.collector.trace.v1.TraceService/Export"),
                hpack_literal(b":authority", b"127.0.0.1"),
                hpack_literal(b"content-type", b"application/grpc"),
                hpack_literal(b"te", b"trailers"),
            ]
        )
        # 1,000 requests whose bodies never come, ignoring the server's stream limit.
        frames = b"".join(h2_frame(1, 0x4, 2 * i + 1, headers) for i in range(1000))
        s.sendall(frames)
        got = read_frames(s, time.time() + 3)
        settings = [p for k, sid, p in got if k == 4 and sid == 0 and p]
        limits = {
            int.from_bytes(p[i : i + 2], "big"): int.from_bytes(p[i + 2 : i + 6], "big")
            for p in settings
            for i in range(0, len(p), 6)
        }
        assert limits.get(3) == 100, limits  # SETTINGS_MAX_CONCURRENT_STREAMS
        refused = [sid for k, sid, p in got if k == 3 and int.from_bytes(p, "big") == 7]  # REFUSED_STREAM
        goaway = [p for k, sid, p in got if k == 7]
        # Streams past the 100th were refused, or the connection was told to go away.
        assert len(refused) >= 800 or goaway, (len(refused), goaway)
        rss = status_kib(c.proc.pid, "VmRSS")
        print(f"idle RSS {idle} KiB, with a 1000-stream flood {rss} KiB")
        assert rss - idle < 16 * 1024, f"RSS grew by {rss - idle} KiB"
        s.close()
        # The good client is served meanwhile and after.
        provider = good_client(c.grpc, 100)
        provider.shutdown()
        assert sink.wait_for(100) == 100
        assert c.stop() == 0
    finally:
        sink.stop()


def settings_of(port, send_request=False):
    """Opens HTTP/2 (prior knowledge) to `port`; returns the server's SETTINGS and the
    socket."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2_frame(4, 0, 0))
    got = read_frames(s, time.time() + 1)
    settings = [p for k, sid, p in got if k == 4 and sid == 0 and p]
    return {
        int.from_bytes(p[i : i + 2], "big"): int.from_bytes(p[i + 2 : i + 6], "big")
        for p in settings
        for i in range(0, len(p), 6)
    }, s


def test_http_receiver_speaks_h2c_capped_at_250_streams(collector):
    c = collector()
    limits, s = settings_of(c.http)
    assert limits.get(3) == 250, limits
    s.close()
    assert c.stop() == 0


def test_idle_grpc_connections_are_closed_after_max_connection_idle(collector):
    sink = SpanSink()
    try:
        c = collector(
            config(
                sink,
                grpc_extra="keepalive:\n          server_parameters:\n            max_connection_idle: 500ms",
            )
        )
        # A client that sends one request and then idles gets a GOAWAY.
        provider = good_client(c.grpc, 5)
        assert sink.wait_for(5) == 5
        assert c.wait_metric("otelcol_receiver_connections_closed_total", 1, 'reason="idle"', timeout=5) >= 1
        provider.shutdown()
        assert c.stop() == 0
    finally:
        sink.stop()


def test_health_answers_under_its_path_prefix(collector):
    c = collector()
    for path in ["/", "/health", "/healthz", "/anything/deeper"]:
        r = requests.get(f"http://127.0.0.1:{c.health}{path}", timeout=2)
        assert r.status_code == 200, path
        assert r.json()["status"] == "Server available"
    assert c.stop() == 0
    c = collector(args=["--set=extensions.health_check.path=/health/status"], health_path="/health/status")
    assert requests.get(f"http://127.0.0.1:{c.health}/health/status", timeout=2).status_code == 200
    assert requests.get(f"http://127.0.0.1:{c.health}/healthz", timeout=2).status_code == 404
    assert c.stop() == 0
