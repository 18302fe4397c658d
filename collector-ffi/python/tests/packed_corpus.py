"""Spans covering every field and attribute value type of the packed spans format, made by
the SDK itself; shared by the equality test and the fuzz seeds.

    python packed_corpus.py --seeds ../../../fuzz/seeds/packed    # (re)writes the seeds
"""

import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState
from opentelemetry.trace import set_span_in_context
from opentelemetry.sdk.trace import SpanLimits


def newest_encoder():
    """What this SDK's OTLP encoder does that 1.30's does not: scope attributes and None
    inside arrays (1.30 skips such an attribute)."""
    from opentelemetry.exporter.otlp.proto.common._internal import _encode_value

    try:
        _encode_value(None)
        return True
    except Exception:
        return False


def spans():
    """Finished spans from two providers (two resources), several scopes, every kind and
    status, events, links (local and remote), trace_state, dropped counts, remote parents."""
    newest = newest_encoder()
    out = []
    for res in (
        Resource.create({"service.name": "api", "n": 7, "ok": True, "ratio": 0.25, "tags": ("a", "b")}),
        Resource({"service.name": "worker"}, schema_url="https://opentelemetry.io/schemas/1.21.0"),
    ):
        mem = InMemorySpanExporter()
        tp = TracerProvider(resource=res, span_limits=SpanLimits(max_span_attributes=12, max_events=2, max_links=2))
        tp.add_span_processor(SimpleSpanProcessor(mem))
        tracers = [
            tp.get_tracer("plain"),
            tp.get_tracer("versioned", "1.2.3", schema_url="https://example.com/schema"),
        ]
        if newest:
            tracers.append(tp.get_tracer("with-attrs", "0.1", attributes={"scope.attr": "x", "scope.n": 3}))
        for ti, t in enumerate(tracers):
            for kind in SpanKind:
                attrs = {
                    "str": "value é ü 漢字 🎉",
                    "empty": "",
                    "int": -(2**63),
                    "max": 2**63 - 1,
                    "zero": 0,
                    "float": -1.5e300,
                    "t": True,
                    "f": False,
                    "strs": ("a", "", "ç"),
                    "ints": [1, -2, 3],
                    "floats": (0.5, float("inf")),
                    "bools": [True, False],
                }
                if newest:
                    attrs["nones"] = ["x", None]
                with t.start_as_current_span(f"op-{kind.name}", kind=kind, attributes=attrs) as s:
                    s.add_event("first", {"e": 1, "es": "v"})
                    s.add_event("no attrs")
                    s.add_event("dropped-by-limit")  # max_events=2: counted as dropped
                    s.set_attribute("over.limit", "dropped")  # 13th attribute: dropped
                    s.set_status(Status(StatusCode.ERROR, "it broke") if ti == 0 else Status(StatusCode.OK))
                    with t.start_as_current_span("child", links=[Link(s.get_span_context(), {"l": 1}), Link(s.get_span_context())]):
                        pass
        # A remote parent with a trace_state, and links to remote contexts.
        remote = SpanContext(
            trace_id=0xFFEEDDCCBBAA99887766554433221100,
            span_id=0x0102030405060708,
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
            trace_state=TraceState([("vendor", "a1"), ("other", "b")]),
        )
        ctx = set_span_in_context(NonRecordingSpan(remote))
        t = tracers[0]
        with t.start_as_current_span(
            "remote-child", context=ctx, links=[Link(remote, {"k": "v"}), Link(remote), Link(remote)]
        ):
            pass
        with t.start_as_current_span(""):  # an empty name
            pass
        out.extend(mem.get_finished_spans())
    return out


def write_seeds(directory):
    import os

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from collector_ffi._packed import pack

    all_spans = spans()
    os.makedirs(directory, exist_ok=True)
    for name, batch in (("all", all_spans), ("one", all_spans[:1]), ("remote", all_spans[-2:]), ("empty", [])):
        with open(os.path.join(directory, name), "wb") as f:
            f.write(pack(batch))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--seeds":
        write_seeds(sys.argv[2])
    else:
        sys.exit(__doc__)
