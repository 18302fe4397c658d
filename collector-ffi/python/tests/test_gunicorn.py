"""examples/gunicorn under `gunicorn --preload -w 2`: the master builds and starts the
collector at import, each forked worker gets a fresh one on first use, and a SIGTERM to the
master delivers every span the workers made (atexit flush) before everything exits."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from conftest import PACKAGE_DIR, REPO, attrs, library_path

EXAMPLE = os.path.join(REPO, "examples", "gunicorn")
GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")
REQUESTS = 300
THREADS = 4

pytestmark = pytest.mark.skipif(not os.path.exists(GUNICORN), reason="gunicorn is not installed in this venv")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        assert r.status == 200
        return r.read().decode()


def alive(pid):
    """True while `pid` runs (a zombie counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("processor", ["exporter", "fast"])
def test_preload_workers_deliver_every_span(sink, tmp_path, processor):
    port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_DIR, env.get("PYTHONPATH")) if p)
    env["COLLECTOR_FFI_LIBRARY"] = library_path()
    env["OTLP_ENDPOINT"] = sink.endpoint
    # The SDK's processor with our SpanExporter, or the fast path (BatchSpanProcessor).
    env["SPAN_PROCESSOR"] = processor
    env.pop("COLLECTOR_CONFIG", None)
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [GUNICORN, "--preload", "-w", "2", "-b", f"127.0.0.1:{port}", "--no-control-socket", "app:app"],
            cwd=EXAMPLE,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, to clean up after a failure
        )
    output = lambda: log_path.read_text(errors="replace")  # noqa: E731
    url = f"http://127.0.0.1:{port}/hello"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, f"gunicorn exited with {proc.returncode}:\n{output()}"
            try:
                get(url, timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline, f"gunicorn did not answer in 20 s:\n{output()}"
                time.sleep(0.1)

        served_by, errors, lock = [], [], threading.Lock()

        def client(n):
            try:
                for _ in range(n):
                    body = get(url)
                    with lock:
                        served_by.append(int(body.rsplit(" ", 1)[1]))
            except Exception as e:  # reported below
                errors.append(e)

        # The probe above made 2 spans too.
        per_thread = [(REQUESTS - 1) // THREADS + (i < (REQUESTS - 1) % THREADS) for i in range(THREADS)]
        threads = [threading.Thread(target=client, args=(n,)) for n in per_thread]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert len(served_by) == REQUESTS - 1
        workers = set(served_by)

        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"gunicorn did not exit within 30 s of SIGTERM:\n{output()}")
        assert proc.returncode == 0, output()
        assert not [p for p in workers if alive(p)], "workers outlived the master"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    spans = sink.wait("spans", 2 * REQUESTS, timeout=10)
    time.sleep(0.3)  # anything extra would show up now
    spans = list(sink.spans)
    assert len(spans) == 2 * REQUESTS, f"{len(spans)} spans:\n{output()}"
    assert len({s.span_id for _, _, s in spans}) == 2 * REQUESTS

    server = [s for _, _, s in spans if s.kind == s.SPAN_KIND_SERVER]
    children = [s for _, _, s in spans if s.kind != s.SPAN_KIND_SERVER]
    assert len(server) == len(children) == REQUESTS
    assert {s.parent_span_id for s in children} == {s.span_id for s in server}

    pids = {attrs(s.attributes)["process.pid"] for _, _, s in spans}
    assert len(workers) == 2, f"requests were served by {workers}"
    assert pids == workers, f"spans came from {pids}, requests were served by {workers}"
    assert proc.pid not in pids
    assert "Traceback" not in output(), output()
