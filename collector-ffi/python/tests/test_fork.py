"""fork() and exit, each in a fresh interpreter (the SDK's global providers and the exit
hooks are per process): multiprocessing with the fork start method, a fork loop while
threads ingest, and interpreter exit, which delivers what is held and never hangs."""

import os
import subprocess
import sys
import textwrap
import time

from conftest import PACKAGE_DIR, attrs, config


def run(script, timeout=60, **env):
    e = dict(os.environ, PYTHONPATH=PACKAGE_DIR, **env)
    start = time.monotonic()
    p = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], env=e, capture_output=True, text=True, timeout=timeout
    )
    return p, time.monotonic() - start


SETUP = """
    import os, sys, multiprocessing
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from collector_ffi import Collector, SpanExporter

    collector = Collector(sys.argv[1] if len(sys.argv) > 1 else os.environ["CONFIG"]).start()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(SpanExporter(collector)))
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer("fork-test")
"""


def test_multiprocessing_fork_children_deliver_every_span(sink):
    # The children end without flushing anything themselves: multiprocessing leaves through
    # os._exit, so the package's multiprocessing finalizer flushes the SDK and the collector.
    script = SETUP + """
    def child(i):
        for j in range(100):
            with tracer.start_as_current_span("child", attributes={"child": i, "pid": os.getpid()}):
                pass

    if __name__ == "__main__":
        for j in range(10):
            with tracer.start_as_current_span("parent", attributes={"pid": os.getpid()}):
                pass
        provider.force_flush()   # the parent's collector is running when it forks
        ctx = multiprocessing.get_context("fork")
        procs = [ctx.Process(target=child, args=(i,)) for i in range(4)]
        for p in procs: p.start()
        for p in procs: p.join(30)
        assert [p.exitcode for p in procs] == [0, 0, 0, 0], [p.exitcode for p in procs]
        print("parent", os.getpid())
    """
    p, _ = run(script, CONFIG=config(sink, signals=("traces",)))
    assert p.returncode == 0, p.stderr
    got = sink.wait("spans", 410, timeout=10)
    assert len(got) == 410
    assert len({s.span_id for _, _, s in got}) == 410
    kids = [attrs(s.attributes) for _, _, s in got if s.name == "child"]
    assert sorted(a["child"] for a in kids) == sorted(i for i in range(4) for _ in range(100))
    pids = {a["pid"] for a in kids}
    parent = int(p.stdout.split()[-1])
    assert len(pids) == 4 and parent not in pids


def test_fork_loop_while_threads_ingest(sink):
    # 20 forks while two threads ingest in the parent: each child ingests into its own fresh
    # collector and exits through sys.exit (atexit delivers); nothing deadlocks.
    script = """
    import os, sys, threading
    from collector_ffi import Collector
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

    def req(tag, n):
        return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[
            Span(trace_id=os.urandom(16), span_id=os.urandom(8), name=tag) for _ in range(n)])])]).SerializeToString()

    c = Collector(os.environ["CONFIG"]).start()
    stop = threading.Event()
    sent = [0, 0]
    def work(k):
        while not stop.is_set():
            c.ingest("traces", req("parent", 5))
            sent[k] += 5
    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads: t.start()
    children = []
    for i in range(20):
        pid = os.fork()
        if pid == 0:
            c.ingest("traces", req("child", 3))
            sys.exit(0)   # atexit: delivers the child's 3 spans
        children.append(pid)
    codes = [os.waitpid(pid, 0)[1] for pid in children]
    stop.set()
    for t in threads: t.join()
    assert codes == [0] * 20, codes
    c.flush(20)
    print(sum(sent))
    """
    p, _ = run(script, CONFIG=config(sink, signals=("traces",)))
    assert p.returncode == 0, p.stderr
    parent_sent = int(p.stdout.split()[-1])
    got = sink.wait("spans", parent_sent + 60, timeout=10)
    assert len([s for _, _, s in got if s.name == "child"]) == 60
    assert len([s for _, _, s in got if s.name == "parent"]) == parent_sent


def test_exit_delivers_what_is_held(sink):
    # No flush, no shutdown, and a provider that does not shut itself down at exit: the
    # package's exit hook flushes the SDK's queue into the collector and delivers it all.
    script = SETUP.replace("TracerProvider()", "TracerProvider(shutdown_on_exit=False)") + """
    for i in range(300):
        with tracer.start_as_current_span("at-exit"):
            pass
    """
    p, _ = run(script, CONFIG=config(sink, signals=("traces",)))
    assert p.returncode == 0, p.stderr
    assert len(sink.wait("spans", 300, timeout=5)) == 300


def test_exit_never_hangs_on_a_dead_backend(sink):
    # The backend refuses everything: exit gives up after exit_timeout_s (here 1 s; 5 s by
    # default) instead of retrying for minutes. The SDK provider is made after the collector
    # started, so its own exit handler (which shuts our exporter down) was registered after
    # ours: the bound holds whichever runs first.
    sink.status = 503
    script = """
    import os
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from collector_ffi import Collector, SpanExporter
    c = Collector(os.environ["CONFIG"], exit_timeout_s=1.0).start()
    exporter = SpanExporter(c)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("t")
    for i in range(10):
        with tracer.start_as_current_span("x"):
            pass
    provider.force_flush()   # in the collector now, which cannot deliver it
    """
    p, took = run(script, CONFIG=config(sink, signals=("traces",)))
    assert p.returncode == 0, p.stderr
    assert took < 4, took
