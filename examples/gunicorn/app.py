"""A plain WSGI app traced with OpenTelemetry through an in-process collector.

    gunicorn -w 2 app:app              # each worker imports this module itself
    gunicorn --preload -w 2 app:app    # the master imports it once, workers are forks

Both work unchanged. With ``--preload`` the master builds and starts the collector below and
then forks the workers; the Collector handle notices it is in a new process on first use
and starts a fresh collector of its own there (the SDK's BatchSpanProcessor likewise
restarts its thread in the child). So every worker exports its own spans straight to the
backend, and the master, which serves no requests, exports nothing.

On a graceful exit (SIGTERM, SIGINT, ``max_requests`` recycling) the worker's interpreter
runs its atexit handlers: the TracerProvider flushes its batch processor into the collector
and collector_ffi shuts the collector down, delivering what it holds within 5 s.
"""

import os
import pathlib

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import collector_ffi
from collector_ffi import Collector, SpanExporter

HERE = pathlib.Path(__file__).resolve().parent
CONFIG = pathlib.Path(os.environ.get("COLLECTOR_CONFIG", HERE / "collector.yaml"))

# Started at import: with --preload that is the master, and a forked worker's first span
# starts that worker's own collector. Nothing to do in a post_fork hook.
collector = Collector(CONFIG).start()

provider = TracerProvider(resource=Resource.create({"service.name": "gunicorn-example"}))
if os.environ.get("SPAN_PROCESSOR", "fast") == "fast":
    # The fast path: no OTLP encoding in Python; one call into the library per batch.
    provider.add_span_processor(collector_ffi.BatchSpanProcessor(collector))
else:
    # The SDK's processor with our exporter: encodes OTLP in Python, then hands it over.
    provider.add_span_processor(BatchSpanProcessor(SpanExporter(collector)))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer(__name__)


def app(environ, start_response):
    # The resource is built once, in the master under --preload, so the pid that served
    # the request goes on the spans themselves.
    pid = os.getpid()
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/"
    with tracer.start_as_current_span(
        f"{method} {path}",
        kind=trace.SpanKind.SERVER,
        attributes={"http.request.method": method, "url.path": path, "process.pid": pid},
    ) as span:
        with tracer.start_as_current_span("render", attributes={"process.pid": pid}):
            body = f"hello from pid {pid}\n".encode()
        span.set_attribute("http.response.status_code", 200)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
