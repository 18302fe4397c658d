"""The one real install: `pip install ./collector-ffi/python` builds the library with cargo
(setuptools-rust; the dev profile into the workspace's target directory, so CI does not build
the library twice) and installs a wheel; the installed package then runs without
COLLECTOR_FFI_LIBRARY, on the library inside the wheel."""

import os
import subprocess
import sys
import textwrap

from conftest import PACKAGE_DIR, REPO, config


def test_pip_install_builds_a_working_wheel(sink, tmp_path):
    target = tmp_path / "site"
    env = dict(
        os.environ,
        CARGO_TARGET_DIR=os.path.join(REPO, "target"),
        SETUPTOOLS_RUST_CARGO_PROFILE="dev",
    )
    # No build isolation: setuptools-rust and wheel come from the test virtualenv (pinned in
    # its requirements), not from the network.
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-build-isolation", "--no-deps", "--target", str(target), PACKAGE_DIR],
        env=env, check=True, timeout=900,
    )
    installed = target / "collector_ffi"
    natives = [p for p in os.listdir(installed) if p.startswith("_native")]
    assert len(natives) == 1, os.listdir(installed)
    assert any(p.name.endswith(".dist-info") for p in target.iterdir())

    run_env = {k: v for k, v in os.environ.items() if k != "COLLECTOR_FFI_LIBRARY"}
    run_env["PYTHONPATH"] = str(target)
    run_env["CONFIG"] = config(sink, signals=("traces",))
    script = textwrap.dedent("""
        import os, collector_ffi
        from collector_ffi import Collector, SpanExporter, _lib
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        assert collector_ffi.__file__.startswith(os.environ["PYTHONPATH"]), collector_ffi.__file__
        assert _lib.lib._name.startswith(os.environ["PYTHONPATH"]), _lib.lib._name
        with Collector(os.environ["CONFIG"]) as c:
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(SpanExporter(c)))
            for i in range(7):
                with provider.get_tracer("pip").start_as_current_span("installed"):
                    pass
            c.flush(10)
        print(collector_ffi.version())
    """)
    p = subprocess.run([sys.executable, "-c", script], env=run_env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "0.1.0"
    assert len(sink.wait("spans", 7)) == 7
