#!/usr/bin/env python3
"""Peak RSS of the collector under the hostile cases of issue 13, against its idle RSS in the
same run (BENCHMARKS.md, "Hardening (issue 13)").

The cases and their clients are those of `collector-bin/tests/python/test_hostile.py`
(imported from there, so the two cannot drift apart), run against one binary and measured
instead of asserted:

- `bombs`: 20 concurrent 17 KiB gzip bombs over OTLP/HTTP (10 of OTLP/JSON `{"x":[0,0,...]}`,
  10 of `0a 00` repeated, 18 MiB each once inflated) while the OpenTelemetry SDK sends
  500 spans over gRPC;
- `idle`: 2,000 idle gRPC and 1,000 idle HTTP connections (nothing sent on them), then the
  SDK sends 300 spans;
- `streams`: 1,000 header-only HTTP/2 streams on one gRPC connection, then the SDK sends
  100 spans.

Each case starts a fresh collector (the test's config: memory_limiter 64 / 16 MiB, batch,
OTLP/gRPC export to a grpcio backend, all on 127.0.0.1), reads its idle RSS (VmRSS) 0.5 s
after its health check answers, runs the case, and reads its peak RSS (VmHWM, sampled every
10 ms by a thread as well, so a collector that dies still has a figure).

    COLLECTOR_BIN=target/release/collector /work/main/.venv/bin/python benches/hostile_rss.py
        [--cases bombs,idle,streams] [--old-config] [--as-limit-gib 6] [--json FILE]

`--old-config` leaves out the keys the tree before issue 13 does not know (`max_connections`).
`--as-limit-gib` caps the collector's address space (RLIMIT_AS, through a `sh` wrapper that
execs it, so the pid is the collector's): a collector without the budget can need many GB
for the bombs, and this machine is shared; an allocation past the cap aborts the collector,
which is then reported instead of a peak.
"""

import argparse
import collections
import json
import os
import select
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../collector-bin/tests/python"))

import conftest  # noqa: E402
import requests  # noqa: E402
import test_hostile as th  # noqa: E402
from conftest import Collector, SpanSink  # noqa: E402


class Peak:
    """Polls VmHWM and VmRSS of `pid` every 10 ms until stopped; keeps the last values."""

    def __init__(self, pid):
        self.pid = pid
        self.hwm = 0
        self.rss = 0
        self.stop_ev = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop_ev.is_set():
            try:
                self.hwm = max(self.hwm, th.status_kib(self.pid, "VmHWM"))
                self.rss = th.status_kib(self.pid, "VmRSS")
            except (OSError, KeyError):
                return
            time.sleep(0.01)

    def stop(self):
        self.stop_ev.set()
        self.t.join()
        try:
            self.hwm = max(self.hwm, th.status_kib(self.pid, "VmHWM"))
        except (OSError, KeyError):
            pass
        return self.hwm


def start(yaml):
    c = Collector(yaml)
    time.sleep(0.5)
    idle = th.status_kib(c.proc.pid, "VmRSS")
    return c, idle


def finish(c, peak, out):
    out["peak_kib"] = peak.stop()
    out["alive"] = c.proc.poll() is None
    if out["alive"]:
        try:
            out["exit"] = c.stop()
        except subprocess.TimeoutExpired:
            out["exit"] = "still running 10 s after SIGTERM: killed"
    else:
        out["exit"] = c.proc.returncode
        out["log_tail"] = c.output()[-600:]
    if c.proc.poll() is None:
        c.proc.kill()
        c.proc.wait()
    out["ratio"] = out["peak_kib"] / out["idle_kib"]
    return out


def good(c, sink, n):
    """The SDK client sends `n` spans; returns how many the backend received."""
    try:
        th.good_client(c.grpc, n).shutdown()
    except Exception as e:  # a dead collector: counted below
        print(f"  good client: {type(e).__name__}: {e}", file=sys.stderr)
    return sink.wait_for(n, timeout=20)


def case_bombs(args):
    bombs = [("json", th.json_bomb()), ("proto", th.entry_bomb())]
    sink = SpanSink()
    try:
        c, idle = start(th.config(sink))
        out = {"case": "bombs", "idle_kib": idle}
        peak = Peak(c.proc.pid)
        answers = collections.Counter()
        lock = threading.Lock()

        def bomber(kind, body):
            ct = "application/json" if kind == "json" else "application/x-protobuf"
            try:
                r = requests.post(
                    f"http://127.0.0.1:{c.http}/v1/traces",
                    data=body,
                    headers={"Content-Type": ct, "Content-Encoding": "gzip"},
                    timeout=120,
                )
                a = str(r.status_code)
            except requests.RequestException as e:
                a = type(e).__name__
            with lock:
                answers[f"{kind} {a}"] += 1

        t0 = time.time()
        threads = [threading.Thread(target=bomber, args=bombs[i % 2]) for i in range(20)]
        for t in threads:
            t.start()
        out["spans_received"] = good(c, sink, 500)
        out["spans_sent"] = 500
        for t in threads:
            t.join(timeout=180)
        out["seconds"] = round(time.time() - t0, 1)
        out["answers"] = dict(sorted(answers.items()))
        return finish(c, peak, out)
    finally:
        sink.stop()


def count_closed(socks):
    """How many of `socks` the peer has closed (readable with nothing to read), without waiting."""
    p = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        p.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    closed = 0
    for fd, ev in p.poll(0):
        s = by_fd[fd]
        if ev & (select.POLLHUP | select.POLLERR):
            closed += 1
            continue
        try:
            s.setblocking(False)
            if s.recv(1, socket.MSG_PEEK) == b"":
                closed += 1
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            closed += 1
    return closed


def case_idle(args):
    sink = SpanSink()
    try:
        extra = "" if args.old_config else "max_connections: 2100"
        c, idle = start(th.config(sink, grpc_extra=extra))
        out = {"case": "idle", "idle_kib": idle}
        peak = Peak(c.proc.pid)
        t0 = time.time()
        socks = th.open_idle(c.grpc, 2000) + th.open_idle(c.http, 1000)
        out["open_seconds"] = round(time.time() - t0, 1)
        time.sleep(0.5)
        flood = th.status_kib(c.proc.pid, "VmRSS")
        out["flood_rss_kib"] = flood
        out["closed_by_collector"] = count_closed(socks)
        out["bytes_per_conn"] = round((flood - idle) * 1024 / 3000)
        out["spans_received"] = good(c, sink, 300)
        out["spans_sent"] = 300
        try:
            out["refused_spans"] = c.metric("otelcol_receiver_refused_spans_total") + c.metric(
                "otelcol_processor_refused_spans_total"
            )
        except requests.RequestException:
            out["refused_spans"] = None
        out["seconds_to_served"] = round(time.time() - t0, 1)
        out["closed_after_client"] = count_closed(socks)
        res = finish(c, peak, out)
        for s in socks:
            s.close()
        return res
    finally:
        sink.stop()


def case_streams(args):
    sink = SpanSink()
    try:
        c, idle = start(th.config(sink))
        out = {"case": "streams", "idle_kib": idle}
        peak = Peak(c.proc.pid)
        s = socket.create_connection(("127.0.0.1", c.grpc))
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + th.h2_frame(4, 0, 0))
        headers = b"".join(
            [
                b"\x83",
                b"\x86",
                th.hpack_literal(b":path", b"/opentelemetry.proto.collector.trace.v1.TraceService/Export"),
                th.hpack_literal(b":authority", b"127.0.0.1"),
                th.hpack_literal(b"content-type", b"application/grpc"),
                th.hpack_literal(b"te", b"trailers"),
            ]
        )
        s.sendall(b"".join(th.h2_frame(1, 0x4, 2 * i + 1, headers) for i in range(1000)))
        got = th.read_frames(s, time.time() + 3)
        settings = [p for k, sid, p in got if k == 4 and sid == 0 and p]
        limits = {
            int.from_bytes(p[i : i + 2], "big"): int.from_bytes(p[i + 2 : i + 6], "big")
            for p in settings
            for i in range(0, len(p), 6)
        }
        out["max_concurrent_streams"] = limits.get(3)
        out["refused_streams"] = sum(1 for k, sid, p in got if k == 3 and int.from_bytes(p, "big") == 7)
        out["rst_streams"] = sum(1 for k, sid, p in got if k == 3)
        out["goaway"] = any(k == 7 for k, sid, p in got)
        out["flood_rss_kib"] = th.status_kib(c.proc.pid, "VmRSS")
        s.close()
        out["spans_received"] = good(c, sink, 100)
        out["spans_sent"] = 100
        return finish(c, peak, out)
    finally:
        sink.stop()


CASES = {"bombs": case_bombs, "idle": case_idle, "streams": case_streams}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", default="bombs,idle,streams")
    ap.add_argument("--old-config", action="store_true")
    ap.add_argument("--as-limit-gib", type=float, default=6.0)
    ap.add_argument("--json")
    args = ap.parse_args()
    binary = os.path.abspath(os.environ.get("COLLECTOR_BIN", conftest.BIN))
    if not os.access(binary, os.X_OK):
        sys.exit(f"no collector at {binary} (set COLLECTOR_BIN)")
    wrapper = tempfile.NamedTemporaryFile("w", prefix="collector-as-", suffix=".sh", delete=False)
    wrapper.write(f'#!/bin/sh\nulimit -v {int(args.as_limit_gib * 1024 * 1024)}\nexec "{binary}" "$@"\n')
    wrapper.close()
    os.chmod(wrapper.name, stat.S_IRWXU)
    conftest.BIN = wrapper.name
    print(f"collector {binary}, address space capped at {args.as_limit_gib} GiB", file=sys.stderr)
    results = []
    for name in args.cases.split(","):
        print(f"case {name} ...", file=sys.stderr)
        r = CASES[name](args)
        results.append(r)
        print(json.dumps(r), file=sys.stderr)
    os.unlink(wrapper.name)
    mib = lambda k: k / 1024  # noqa: E731
    print("| case | idle RSS MiB | peak RSS (VmHWM) MiB | peak / idle | spans sent / received | notes |")
    print("|---|---|---|---|---|---|")
    for r in results:
        notes = []
        if r["case"] == "bombs":
            notes.append(", ".join(f"{k}: {v}" for k, v in r["answers"].items()))
        if r["case"] == "idle":
            notes.append(
                f"RSS with 3000 open {mib(r['flood_rss_kib']):.1f} MiB, {r['bytes_per_conn']} B/conn, "
                f"opened in {r['open_seconds']} s, closed by collector {r['closed_by_collector']}, "
                f"refused spans {r['refused_spans']}"
            )
        if r["case"] == "streams":
            notes.append(
                f"RSS after flood {mib(r['flood_rss_kib']):.1f} MiB, SETTINGS_MAX_CONCURRENT_STREAMS "
                f"{r['max_concurrent_streams']}, REFUSED_STREAM {r['refused_streams']}, GOAWAY {r['goaway']}"
            )
        if not r["alive"]:
            notes.append(f"COLLECTOR DIED (exit {r['exit']})")
        elif r["exit"] != 0:
            notes.append(f"stop: {r['exit']}")
        print(
            f"| {r['case']} | {mib(r['idle_kib']):.1f} | {mib(r['peak_kib']):.1f} | {r['ratio']:.2f} | "
            f"{r['spans_sent']} / {r['spans_received']} | {'; '.join(notes)} |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
