"""The seed's log bridge (../shared/seed/otel-sidecars-on-fargate.txt, "Log Bridge"): a
`LoggingHandler` subclass on every framework logger and the root logger stamps each record
with the current trace context and the request context from a ContextVar; in-process, the
records reach the backend as OTLP logs with trace_id/span_id set."""

import contextvars
import logging

from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from collector_ffi import Collector, LogExporter, SpanExporter
from conftest import attrs, config

request_context_var = contextvars.ContextVar("request_context", default={})


class OTelLogHandler(LoggingHandler):
    """As in the seed: trace correlation and request context on every record."""

    def emit(self, record):
        ctx = trace.get_current_span().get_span_context()
        record.trace_id = format(ctx.trace_id, "032x")
        record.span_id = format(ctx.span_id, "016x")
        request_ctx = request_context_var.get()
        record.request_id = request_ctx.get("request_id", "")
        record.user_id = request_ctx.get("user_id", "")
        record.organisation_id = request_ctx.get("organisation_id", "")
        super().emit(record)


def test_logging_records_carry_trace_and_request_context(sink):
    resource = Resource.create({"service.name": "api"})
    with Collector(config(sink)) as c:
        tracer_provider = TracerProvider(resource=resource)
        tracer_provider.add_span_processor(BatchSpanProcessor(SpanExporter(c)))
        tracer = tracer_provider.get_tracer("myapp")
        logger_provider = LoggerProvider(resource=resource)
        logger_provider.add_log_record_processor(BatchLogRecordProcessor(LogExporter(c)))
        handler = OTelLogHandler(level=logging.INFO, logger_provider=logger_provider)
        names = ["myapp", "myapp.middleware", "gunicorn.error", "sqlalchemy", "botocore"]
        saved_level = logging.root.level
        for name in names:
            logging.getLogger(name).addHandler(handler)
        logging.root.addHandler(handler)
        logging.root.setLevel(logging.INFO)
        ids = []
        try:
            for i in range(20):
                request_context_var.set({"request_id": f"req_{i}", "user_id": "user_12345", "organisation_id": "org_789"})
                with tracer.start_as_current_span(f"POST /api/v1/users/{i}") as span:
                    ids.append((span.get_span_context().trace_id, span.get_span_context().span_id))
                    # A named logger with its own handler (and, propagating, the root's) and
                    # one that only the root logger catches.
                    logging.getLogger("myapp.api.users").info("User created successfully")
                    logging.getLogger("uncovered.library").warning("slow call")
            logging.getLogger("myapp").info("outside any request")
            assert logger_provider.force_flush(10_000) and tracer_provider.force_flush(10_000)
            c.flush(10)
        finally:
            for name in names:
                logging.getLogger(name).removeHandler(handler)
            logging.root.removeHandler(handler)
            logging.root.setLevel(saved_level)
            logger_provider.shutdown()
            tracer_provider.shutdown()
    logs = sink.wait("logs", 62, timeout=5)
    # "myapp.api.users" and "myapp" reach both the handler on "myapp" and the root's (the
    # same handler: two records per call, as the seed's setup produces).
    created = [r for _, _, r in logs if r.body.string_value == "User created successfully"]
    slow = [r for _, _, r in logs if r.body.string_value == "slow call"]
    assert len(created) == 40 and len(slow) == 20 and len(logs) == 62
    spans = {(s.trace_id, s.span_id): s for _, _, s in sink.wait("spans", 20)}
    for r in created + slow:
        key = (r.trace_id, r.span_id)
        assert key in spans, "the record's trace_id/span_id are a span's"
        a = attrs(r.attributes)
        n = spans[key].name.rsplit("/", 1)[1]
        assert a["request_id"] == f"req_{n}"
        assert (a["user_id"], a["organisation_id"]) == ("user_12345", "org_789")
        assert a["trace_id"] == r.trace_id.hex() and a["span_id"] == r.span_id.hex()
    assert {r.severity_number for r in created} == {9} and {r.severity_number for r in slow} == {13}
    assert {(int.from_bytes(t, "big"), int.from_bytes(s, "big")) for t, s in spans} == set(ids)
    outside = [r for _, _, r in logs if r.body.string_value == "outside any request"]
    assert len(outside) == 2 and all(r.trace_id == b"" for r in outside)
