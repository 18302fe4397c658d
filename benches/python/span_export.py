#!/usr/bin/env python3
"""What exporting spans costs a Python application: process CPU per span and the latency of
`span.end()` on the application thread, for the same spans sent four ways to the same OTLP
backend (`target/release/sink --validate`, on 127.0.0.1).

Variants (`--variants`, comma separated, in this order by default):

- `sdk`: the SDK's `BatchSpanProcessor(OTLPSpanExporter(endpoint=http://SINK/v1/traces))`
  (opentelemetry-exporter-otlp-proto-http);
- `fastotel`: `fastotel.OTLPSpanProcessor(endpoint=http://SINK/v1/traces)` (Rust, OTLP/HTTP);
- `ffi-exporter`: the SDK's `BatchSpanProcessor(collector_ffi.SpanExporter(collector))`, the
  collector running `embedded` -> `batch` -> `otlphttp` (compression none) to the sink;
- `ffi-fast`: `collector_ffi.BatchSpanProcessor(collector)`, same collector config.

A variant whose imports fail (say `collector_ffi.BatchSpanProcessor` does not exist yet) is
skipped, and the table says so. Every processor gets `max_queue_size=32768` (nothing is
dropped), the other batching settings are the defaults (batches of 512, 5 s delay).

Each run is a fresh child process (so that one variant's threads never add to another's
process CPU) with a fresh sink. The child imports everything, then, on one application
thread:

    t0 = time.process_time()         # all threads of the process
    make the collector (ffi variants), the processor and the TracerProvider
    20,000 x: span = tracer.start_span("op", attributes={str, int, float}); span.end()
              (time.perf_counter_ns() around span.end(): the end() latency)
    provider.force_flush() (+ collector.flush() for the ffi variants)
    poll the sink's GET /report until it has counted every span
    t1 = time.process_time()

`none` (a TracerProvider without any span processor, doing the same) runs in every round
too; a variant's CPU per span is its (t1 - t0) / spans minus the median of `none`'s. The
runs of a round go in alternating order (forward, then reversed, ...), `--rounds` rounds
(3); the table gives the median over rounds. After each run the parent checks that the sink
counted exactly `--spans` spans and no invalid request, and fails otherwise.

During each run the parent reads the machine's CPU time (/proc/stat): what neither the child
nor the sink used is shown as `other` (in cores) in the raw rounds, with a warning when it is
more than 0.15 core (someone else's build is running: the numbers are suspect).

`--profile VARIANT` instead runs one variant in this process under cProfile (every Python
thread: the application thread and the processor's background thread, whose profiles are
merged) and prints the top 25 functions by tottime, then the same for the application
thread alone and for the other threads alone. Times are each thread's CPU time
(`time.thread_time`; `--profile-clock wall` for cProfile's default wall clock, where a thread
waiting for the GIL after a ctypes call counts that wait in its caller). A ctypes call's
time (the library's work on that thread) shows as the tottime of the Python function that
makes it.

    target/bench-venv/bin/python benches/python/span_export.py \
        [--variants sdk,fastotel,ffi-exporter,ffi-fast] [--rounds 3] [--spans 20000] \
        [--sink target/release/sink] [--json FILE] [--profile VARIANT [--profile-clock cpu|wall]]

The collector library is `COLLECTOR_FFI_LIBRARY` if set, else target/release/libcollector_ffi.so
(build it with `cargo build --release -p collector-ffi`); the package comes from
collector-ffi/python in this tree.
"""

import argparse
import array
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "collector-ffi", "python"))
os.environ.setdefault("COLLECTOR_FFI_LIBRARY", os.path.join(ROOT, "target", "release", "libcollector_ffi.so"))

VARIANTS = ("sdk", "fastotel", "ffi-exporter", "ffi-fast")
BASELINE = "none"
QUEUE = 32768
SKIP_EXIT = 3
OTHER_WARN_CORES = 0.15

COLLECTOR_CONFIG = """
receivers: {{embedded: {{}}}}
processors: {{batch: {{}}}}
exporters:
  otlphttp:
    endpoint: "http://{addr}"
    compression: none
service:
  pipelines:
    traces: {{receivers: [embedded], processors: [batch], exporters: [otlphttp]}}
"""


# --- the sink ---------------------------------------------------------------------------


class Sink:
    """`sink --validate` on 127.0.0.1, an ephemeral port."""

    def __init__(self, binary):
        self.proc = subprocess.Popen([binary, "--validate"], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise SystemExit(f"sink did not start: {line!r}")
        self.addr = line[len("listening on ") :]

    def report(self):
        return sink_report(self.addr)

    def cpu_s(self):
        """utime + stime of the sink so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self):
        self.proc.kill()
        self.proc.wait()


def sink_report(addr):
    with urllib.request.urlopen(f"http://{addr}/report", timeout=10) as r:
        return json.load(r)


def wait_for_spans(addr, n, timeout_s=60.0):
    """Polls the sink until it has counted n spans; returns what it counted (more than n
    also returns at once: the caller fails on it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = sink_report(addr).get("items", {}).get("traces", 0)
        if got >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.005)


# --- the variants (in the child) ---------------------------------------------------------


def import_variant(variant):
    """Imports what the variant needs (before the measurement starts); returns a function
    that builds (provider, flush, check) for a sink address. ImportError if unavailable."""
    from opentelemetry.sdk.trace import TracerProvider

    if variant == BASELINE:

        def make(addr):
            return TracerProvider(), (lambda: None), (lambda: {})

        return make

    if variant == "sdk":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        def make(addr):
            exporter = OTLPSpanExporter(endpoint=f"http://{addr}/v1/traces")
            provider = TracerProvider()
            provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=QUEUE))
            return provider, (lambda: None), (lambda: {})

        return make

    if variant == "fastotel":
        import fastotel
        from fastotel import OTLPSpanProcessor

        def make(addr):
            processor = OTLPSpanProcessor(endpoint=f"http://{addr}/v1/traces", max_queue_size=QUEUE)
            provider = TracerProvider()
            provider.add_span_processor(processor)

            def check():
                n = processor._native
                return {
                    "fastotel": fastotel.__version__,
                    "dropped": n.dropped_spans(),
                    "failed": n.failed_spans(),
                    "rejected": n.rejected_spans(),
                    "retries": n.retries(),
                    "panics": n.panics(),
                }

            return provider, (lambda: None), check

        return make

    if variant in ("ffi-exporter", "ffi-fast"):
        import collector_ffi

        if variant == "ffi-exporter":
            from collector_ffi import SpanExporter
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            def processor_for(collector):
                return BatchSpanProcessor(SpanExporter(collector), max_queue_size=QUEUE)

        else:
            from collector_ffi import BatchSpanProcessor

            def processor_for(collector):
                return BatchSpanProcessor(collector, max_queue_size=QUEUE)

        def make(addr):
            collector = collector_ffi.Collector(COLLECTOR_CONFIG.format(addr=addr)).start()
            provider = TracerProvider()
            provider.add_span_processor(processor_for(collector))

            def check():
                return {"library": os.environ.get("COLLECTOR_FFI_LIBRARY"), "collector": collector}

            return provider, (lambda: collector.flush(timeout_s=60)), check

        return make

    raise SystemExit(f"unknown variant {variant!r}")


def make_spans(tracer, n, lat):
    """The application: n spans with 3 attributes, end() timed into lat."""
    perf = time.perf_counter_ns
    start = tracer.start_span
    for i in range(n):
        span = start("op", attributes={"http.route": "/api/items/{id}", "item.id": i, "ratio": i * 0.25})
        t = perf()
        span.end()
        lat[i] = perf() - t


def run_child(variant, addr, n):
    try:
        make = import_variant(variant)
    except ImportError as e:
        print("RESULT " + json.dumps({"skipped": f"{type(e).__name__}: {e}"}), flush=True)
        sys.exit(SKIP_EXIT)
    import gc

    lat = array.array("q", bytes(8 * n))
    gc.collect()
    w0 = time.perf_counter()
    t0 = time.process_time()
    provider, flush, check = make(addr)
    t_setup = time.process_time()
    tracer = provider.get_tracer("span_export")
    make_spans(tracer, n, lat)
    t_spans = time.process_time()
    w_spans = time.perf_counter()
    provider.force_flush(timeout_millis=60000)
    flush()
    got = n if variant == BASELINE else wait_for_spans(addr, n)
    t1 = time.process_time()
    w1 = time.perf_counter()
    info = check()
    collector = info.pop("collector", None)
    provider.shutdown()
    if collector is not None:
        report = collector.shutdown(timeout_s=10)
        info["collector_delivered"], info["collector_dropped"] = report
    s = sorted(lat)
    print(
        "RESULT "
        + json.dumps(
            {
                "variant": variant,
                "spans": n,
                "sink_spans": got,
                "cpu_s": t1 - t0,
                "setup_cpu_s": t_setup - t0,
                "spans_cpu_s": t_spans - t_setup,
                "wall_s": w1 - w0,
                "spans_wall_s": w_spans - w0,
                "end_median_us": s[n // 2] / 1000.0,
                "end_p99_us": s[min(n - 1, (n * 99) // 100)] / 1000.0,
                "info": info,
            }
        ),
        flush=True,
    )


# --- the parent --------------------------------------------------------------------------


def machine_busy_s():
    """CPU seconds the whole machine spent busy (not idle nor iowait), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest is within user)
    busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]
    return busy / os.sysconf("SC_CLK_TCK")


def run_one(variant, args):
    sink = Sink(args.sink)
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy0 = machine_busy_s()
        w0 = time.monotonic()
        proc = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--child", variant, "--addr", sink.addr, "--spans", str(args.spans)],
            stdout=subprocess.PIPE,
            text=True,
        )
        wall = time.monotonic() - w0
        busy = machine_busy_s() - busy0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        sink_cpu = sink.cpu_s()
        report = sink.report()
    finally:
        sink.close()
    lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
    if not lines:
        raise SystemExit(f"{variant}: the child failed (exit {proc.returncode}):\n{proc.stdout}")
    result = json.loads(lines[-1][len("RESULT ") :])
    if proc.returncode == SKIP_EXIT and "skipped" in result:
        return result
    if proc.returncode != 0:
        raise SystemExit(f"{variant}: the child failed (exit {proc.returncode}):\n{proc.stdout}")
    child_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    result["other_cores"] = max(0.0, busy - child_cpu - sink_cpu) / wall
    result["sink_cpu_s"] = sink_cpu
    got = report.get("items", {}).get("traces", 0)
    expected = 0 if variant == BASELINE else args.spans
    if got != expected or report.get("invalid", 0):
        raise SystemExit(
            f"FAIL: {variant}: the sink counted {got} spans (expected exactly {expected}), "
            f"{report.get('invalid', 0)} invalid requests; report: {json.dumps(report)}"
        )
    result["sink_requests"] = report.get("requests", {}).get("traces", 0)
    return result


def fmt_ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"


def main_bench(args):
    variants = [v for v in args.variants.split(",") if v]
    for v in variants:
        if v not in VARIANTS:
            raise SystemExit(f"unknown variant {v!r} (known: {', '.join(VARIANTS)})")
    print(
        f"{args.spans} spans x 3 attributes, {args.rounds} rounds, max_queue_size={QUEUE}; "
        f"library {os.environ['COLLECTOR_FFI_LIBRARY']}; python {sys.version.split()[0]}",
        flush=True,
    )
    order = [BASELINE] + variants
    results = {v: [] for v in order}
    skipped = {}
    for r in range(args.rounds):
        this = order if r % 2 == 0 else order[::-1]
        for v in this:
            if v in skipped:
                continue
            res = run_one(v, args)
            if "skipped" in res:
                skipped[v] = res["skipped"]
                print(f"round {r + 1}: {v}: SKIPPED ({res['skipped']})", flush=True)
                continue
            results[v].append(res)
            warn = "  WARNING: other CPU load" if res["other_cores"] > OTHER_WARN_CORES else ""
            print(
                f"round {r + 1}: {v:13s} cpu {res['cpu_s'] * 1e6 / args.spans:7.2f} us/span gross "
                f"(setup {res['setup_cpu_s'] * 1e3:6.1f} ms), end() median {res['end_median_us']:6.2f} "
                f"p99 {res['end_p99_us']:7.2f} us, wall {res['wall_s']:.2f} s, "
                f"other {res['other_cores']:.2f} cores{warn}",
                flush=True,
            )

    n = args.spans
    base = statistics.median(x["cpu_s"] for x in results[BASELINE]) * 1e6 / n
    net = {}
    for v in variants:
        if results[v]:
            net[v] = [x["cpu_s"] * 1e6 / n - base for x in results[v]]
    med = {v: statistics.median(xs) for v, xs in net.items()}

    print()
    base_rounds = ", ".join(f"{x['cpu_s'] * 1e6 / n:.2f}" for x in results[BASELINE])
    base_end = statistics.median(x["end_median_us"] for x in results[BASELINE])
    print(f"baseline `none` (TracerProvider without processors): {base:.2f} us/span "
          f"(rounds: {base_rounds}); end() median {base_end:.2f} us")
    print()
    header = ("variant", "CPU us/span", "vs sdk", "vs fastotel", "end() med us", "end() p99 us", "setup ms", "rounds (net us/span)")
    rows = []
    for v in variants:
        if v in skipped:
            rows.append((v, "skipped", "", "", "", "", "", skipped[v][:60]))
            continue
        rs = results[v]
        rows.append(
            (
                v,
                f"{med[v]:.2f}",
                fmt_ratio(med[v], med.get("sdk")),
                fmt_ratio(med[v], med.get("fastotel")),
                f"{statistics.median(x['end_median_us'] for x in rs):.2f}",
                f"{statistics.median(x['end_p99_us'] for x in rs):.2f}",
                f"{statistics.median(x['setup_cpu_s'] for x in rs) * 1e3:.1f}",
                ", ".join(f"{x:.2f}" for x in net[v]),
            )
        )
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
    print()
    print("CPU us/span: process CPU (all threads) from before the provider is made until the sink has every")
    print("span, per span, minus the baseline's; median of the rounds. Ratios are of those medians.")
    for v in variants:
        for x in results[v]:
            if x.get("info"):
                print(f"{v}: {json.dumps(x['info'])}; sink requests {x['sink_requests']}")
                break
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"spans": n, "baseline_us": base, "results": results, "skipped": skipped}, f, indent=1)


# --- --profile ---------------------------------------------------------------------------


def short_path(path):
    """site-packages/opentelemetry/... -> opentelemetry/..., this tree's files relative to it,
    the standard library's as stdlib/..."""
    if "site-packages/" in path:
        return path.rsplit("site-packages/", 1)[1]
    if path.startswith(ROOT + os.sep):
        return os.path.relpath(path, ROOT)
    stdlib = os.path.dirname(os.__file__) + os.sep
    if path.startswith(stdlib):
        return "stdlib/" + path[len(stdlib) :]
    return path


def shorten_paths(stats):
    """Rewrites the file names of a pstats.Stats in place with short_path."""
    import pstats

    def key(k):
        return (short_path(k[0]), k[1], k[2])

    new = {}
    for k, (cc, nc, tt, ct, callers) in stats.stats.items():
        callers2 = {}
        for ck, cv in callers.items():
            ck2 = key(ck)
            if ck2 in callers2:
                cv = pstats.add_callers({ck2: callers2[ck2]}, {ck2: cv})[ck2]
            callers2[ck2] = cv
        k2 = key(k)
        if k2 in new:
            new[k2] = pstats.add_func_stats(new[k2], (cc, nc, tt, ct, callers2))
        else:
            new[k2] = (cc, nc, tt, ct, callers2)
    stats.stats = new
    stats.fcn_list = None


def main_profile(args):
    import cProfile
    import pstats
    import threading

    variant = args.profile
    # Each thread's own CPU time by default: with the wall clock, a thread waiting for the GIL
    # (after a ctypes call, up to the 5 ms switch interval) shows as time spent in its caller.
    timer = (time.thread_time_ns, 1e-9) if args.profile_clock == "cpu" else ()
    if variant not in VARIANTS + (BASELINE,):
        raise SystemExit(f"unknown variant {variant!r}")
    try:
        make = import_variant(variant)
    except ImportError as e:
        raise SystemExit(f"{variant}: cannot import: {e}")
    sink = Sink(args.sink)
    try:
        thread_profiles = []
        lock = threading.Lock()

        def start_thread_profiler(frame, event, arg):
            # Runs on a new thread's first event: replaces itself with a profiler of that thread.
            p = cProfile.Profile(*timer)
            with lock:
                thread_profiles.append((threading.current_thread().name, p))
            p.enable()

        threading.setprofile(start_thread_profiler)
        main = cProfile.Profile(*timer)
        lat = array.array("q", bytes(8 * args.spans))
        t0 = time.process_time()
        main.enable()
        provider, flush, check = make(sink.addr)
        make_spans(provider.get_tracer("span_export"), args.spans, lat)
        provider.force_flush(timeout_millis=60000)
        flush()
        main.disable()
        got = wait_for_spans(sink.addr, args.spans) if variant != BASELINE else args.spans
        t1 = time.process_time()
        info = check()
        collector = info.pop("collector", None)
        provider.shutdown()  # joins the processor's thread: its profile is complete
        if collector is not None:
            collector.shutdown(timeout_s=10)
        threading.setprofile(None)
    finally:
        sink.close()
    if got != args.spans:
        raise SystemExit(f"FAIL: the sink counted {got} spans, expected {args.spans}")
    print(f"{variant}: {args.spans} spans under cProfile ({args.profile_clock} clock), process CPU {(t1 - t0) * 1e6 / args.spans:.1f} us/span "
          f"(profiled, not comparable with the benchmark)")
    print(f"threads profiled besides the application thread: {[name for name, _ in thread_profiles]}")

    def show(title, profiles):
        stats = None
        for p in profiles:
            if stats is None:
                stats = pstats.Stats(p)
            else:
                stats.add(p)
        if stats is not None:
            shorten_paths(stats)
        if stats is None:
            print(f"\n=== {title}: no Python code ran there")
            return
        print(f"\n=== {title}: total tottime {stats.total_tt:.3f} s ({stats.total_tt * 1e6 / args.spans:.2f} us/span)")
        stats.sort_stats("tottime").print_stats(25)

    # Main first: Stats() on a profiler disables profiling on the calling thread.
    others = [p for _, p in thread_profiles]
    show("all threads", [main] + others)
    show("application thread", [main])
    show("other threads (the processor's background work)", others)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma separated, of " + ", ".join(VARIANTS))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--spans", type=int, default=20000)
    ap.add_argument("--sink", default=os.path.join(ROOT, "target", "release", "sink"))
    ap.add_argument("--json", help="write the raw results here")
    ap.add_argument("--profile", metavar="VARIANT", help="profile one variant in this process instead")
    ap.add_argument(
        "--profile-clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="cpu (each thread's CPU time, the default) or wall (time.perf_counter, cProfile's default)",
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--addr", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        run_child(args.child, args.addr, args.spans)
    elif args.profile:
        main_profile(args)
    else:
        main_bench(args)


if __name__ == "__main__":
    main()
