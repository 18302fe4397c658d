"""Packs finished SDK spans into the packed spans format (``docs/packed-spans.md``, version 1)
that the library turns into OTLP (``otelcol_collector_ingest_packed_spans``).

Everything here runs on the fast path's background thread, and every line of the per-span
loop is paid per span, so the loop reads the SDK's span fields directly (``_context``,
``_attributes._dict``...: one attribute load each, where the public properties are a call
each) and appends to plain lists; the lists become ``array`` buffers and one joined string
once per batch. A span whose fields are not where this loop expects them (a ``ReadableSpan``
built by hand, another SDK version) goes through the public API instead.

What the result means is what the SDK's OTLP encoder
(``opentelemetry-exporter-otlp-proto-common``) makes of the same spans; the tests compare
the two field by field.
"""

import logging
import time
from array import array
from collections.abc import Mapping, Sequence

from opentelemetry.trace import SpanKind, StatusCode

_logger = logging.getLogger(__name__)

MAGIC = b"OTPS"
VERSION = 1
_M64 = (1 << 64) - 1
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1
# The `flags` token: OTLP span flags (bit 8: "is_remote is known", bit 9: "parent is
# remote", as the SDK's encoder sets them) and bit 32: "has a parent".
_NO_PARENT = 0x100
_LOCAL_PARENT = 0x100000100
_REMOTE_PARENT = 0x100000300

# AnyValue tags.
_EMPTY, _FALSE, _TRUE, _STR, _INT, _DOUBLE, _BYTES, _ARRAY, _KVLIST = range(9)

_last_skip_log = 0.0
_UNSET = object()
# Enum members are singletons, and `.value` is a descriptor call: looked up by identity.
_KIND = {id(k): k.value + 1 for k in SpanKind}
_CODE = {id(c): c.value for c in StatusCode}


def _skipped(key, value):
    # The SDK's encoder logs and skips an attribute it cannot encode; so do we (at most
    # once a minute: this runs per attribute).
    global _last_skip_log
    now = time.monotonic()
    if now - _last_skip_log > 60:
        _last_skip_log = now
        _logger.warning("collector_ffi: skipped attribute %r: cannot encode a %s", key, type(value).__name__)


class _Out:
    """One batch being packed: the token, integer, double and bytes streams and the strings."""

    __slots__ = ("tok", "ints", "floats", "blobs", "strs", "intern", "big")

    def __init__(self, big):
        self.tok = []
        self.ints = []
        self.floats = []
        self.blobs = []
        self.strs = []
        self.intern = {}
        # Integers outside int64 (which the SDK's encoder cannot encode either) are written
        # as strings in the second try of a batch that had one.
        self.big = big

    def key(self, s):
        i = self.intern.get(s)
        if i is None:
            i = self.intern[s] = len(self.strs)
            self.strs.append(s)
        return i

    def ref(self, s):
        """A string reference: 0 for none or empty, else index + 1."""
        if not s:
            return 0
        self.strs.append(s)
        return len(self.strs)

    def value(self, v, depth=0):
        """Appends one AnyValue; False if `v` cannot be encoded (nothing appended)."""
        tok = self.tok
        if v is None:
            tok.append(_EMPTY)
        elif isinstance(v, bool):
            tok.append(_TRUE if v else _FALSE)
        elif isinstance(v, str):
            tok.append(_STR)
            tok.append(len(self.strs))
            self.strs.append(v)
        elif isinstance(v, int):
            if self.big and not _I64_MIN <= v <= _I64_MAX:
                tok.append(_STR)
                tok.append(len(self.strs))
                self.strs.append(str(v))
            else:
                tok.append(_INT)
                self.ints.append(int(v))
        elif isinstance(v, float):
            tok.append(_DOUBLE)
            self.floats.append(v)
        elif isinstance(v, bytes):
            tok.append(_BYTES)
            tok.append(len(v))
            self.blobs.append(v)
        elif depth < 32 and isinstance(v, Sequence):
            mark = len(tok)
            tok.append(_ARRAY)
            tok.append(len(v))
            for x in v:
                if not self.value(x, depth + 1):
                    del tok[mark:]
                    return False
        elif depth < 32 and isinstance(v, Mapping):
            mark = len(tok)
            tok.append(_KVLIST)
            tok.append(len(v))
            for k, x in v.items():
                tok.append(self.key(str(k)))
                if not self.value(x, depth + 1):
                    del tok[mark:]
                    return False
        else:
            return False
        return True

    def attrs(self, mapping):
        """`n` then the key-values of `mapping` (a dict, a Mapping or None)."""
        tok = self.tok
        at = len(tok)
        tok.append(0)
        n = 0
        if mapping:
            for k, v in mapping.items():
                mark = len(tok)
                tok.append(self.key(k))
                if self.value(v):
                    n += 1
                else:
                    del tok[mark:]
                    _skipped(k, v)
        tok[at] = n

    def span_slow(self, s, ri, si):
        """A span through the public API."""
        ctx = s.context
        parent = s.parent
        if parent is None:
            fl, pid = _NO_PARENT, 0
        else:
            fl, pid = (_REMOTE_PARENT if parent.is_remote else _LOCAL_PARENT), parent.span_id
        status = s.status
        ts = ctx.trace_state
        self.tok.extend(
            (
                ri,
                si,
                ctx.trace_id >> 64,
                ctx.trace_id & _M64,
                ctx.span_id,
                fl,
                pid,
                s.kind.value + 1,
                s.start_time or 0,
                s.end_time or 0,
                self.key(s.name) + 1 if s.name else 0,
                self.ref(",".join(f"{k}={v}" for k, v in ts.items())) if ts else 0,
                status.status_code.value if status is not None else 0,
                self.ref(status.description) if status is not None else 0,
                s.dropped_attributes,
                s.dropped_events,
                s.dropped_links,
            )
        )
        self.attrs(s.attributes)
        self.events_links(s.events, s.links)

    def events_links(self, events, links):
        tok = self.tok
        tok.append(len(events))
        for e in events:
            tok.extend((e.timestamp or 0, self.key(e.name) + 1 if e.name else 0, e.dropped_attributes))
            self.attrs(e.attributes)
        tok.append(len(links))
        for link in links:
            c = link.context
            tid = c.trace_id
            tok.extend((tid >> 64, tid & _M64, c.span_id, 0x300 if c.is_remote else 0x100, link.dropped_attributes))
            self.attrs(link.attributes)


def pack(spans, big=False):
    """The packed form (``bytes``) of a sequence of finished SDK spans."""
    out = _Out(big)
    tok = out.tok
    ext = tok.extend
    ap = tok.append
    ints_ap = out.ints.append
    floats_ap = out.floats.append
    strs = out.strs
    strs_ap = strs.append
    intern = out.intern
    res_of = {}
    scope_of = {}
    resources = []
    scopes = []
    last_r = last_sc = _UNSET
    ri = si = 0
    for s in spans:
        # Consecutive spans mostly share their resource and scope: an identity check.
        r = s._resource
        if r is not last_r:
            last_r = r
            ri = res_of.get(id(r))
            if ri is None:
                ri = res_of[id(r)] = len(resources)
                resources.append(r)
        sc = s._instrumentation_scope
        if sc is not last_sc:
            last_sc = sc
            si = scope_of.get(id(sc))
            if si is None:
                si = scope_of[id(sc)] = len(scopes)
                scopes.append(sc)
        try:
            # Every read first: a span without these fields takes the slow path with
            # nothing of it appended yet.
            ctx = s._context
            tid = ctx.trace_id
            sid = ctx.span_id
            p = s._parent
            status = s._status
            code = _CODE[id(status._status_code)]
            desc = status._description
            a = s._attributes
            d = a._dict
            da = a.dropped
            ev = s._events
            lk = s._links
            de = ev.dropped
            dl = lk.dropped
            # The containers' own truth values are Python-level __len__ calls.
            has_events = ev._dq or lk._dq
            ts = ctx.trace_state
            has_state = ts._dict
            name = s._name
            kind = _KIND[id(s._kind)]
            start = s._start_time
            end = s._end_time
        except (AttributeError, KeyError):
            out.span_slow(s, ri, si)
            continue
        if p is None:
            fl = _NO_PARENT
            pid = 0
        else:
            fl = _REMOTE_PARENT if p.is_remote else _LOCAL_PARENT
            pid = p.span_id
        ni = intern.get(name)
        if ni is None:
            ni = intern[name] = len(strs)
            strs_ap(name)
        ext(
            (
                ri,
                si,
                tid >> 64,
                tid & _M64,
                sid,
                fl,
                pid,
                kind,
                start,
                end,
                ni + 1,
                out.ref(",".join(f"{k}={v}" for k, v in ts.items())) if has_state else 0,
                code,
                0 if desc is None else out.ref(desc),
                da,
                de,
                dl,
                len(d),
            )
        )
        at = len(tok) - 1
        n = 0
        for k, v in d.items():
            ki = intern.get(k)
            if ki is None:
                ki = intern[k] = len(strs)
                strs_ap(k)
            t = type(v)
            if t is str:
                ext((ki, _STR, len(strs)))
                strs_ap(v)
            elif t is int and (not big or _I64_MIN <= v <= _I64_MAX):
                ext((ki, _INT))
                ints_ap(v)
            elif t is float:
                ext((ki, _DOUBLE))
                floats_ap(v)
            elif t is bool:
                ext((ki, _TRUE if v else _FALSE))
            else:
                mark = len(tok)
                ap(ki)
                if not out.value(v):
                    del tok[mark:]
                    _skipped(k, v)
                    continue
            n += 1
        if n != len(d):
            tok[at] = n
        if has_events:
            out.events_links(ev, lk)
        else:
            ext((0, 0))
    # The resource and scope tables go first; their values use the streams from the
    # start, so they are packed into their own and put in front.
    head = _Out(big)
    head.strs = strs
    head.intern = intern
    head.tok.append(len(resources))
    for r in resources:
        head.tok.append(head.ref(r.schema_url))
        head.attrs(r.attributes)
    head.tok.append(len(scopes))
    for sc in scopes:
        if sc is None:
            head.tok.extend((0, 0, 0, 0))
            continue
        head.tok.extend((head.key(sc.name) + 1 if sc.name else 0, head.ref(sc.version), head.ref(sc.schema_url)))
        head.attrs(getattr(sc, "attributes", None))
    head.tok.append(len(spans))
    try:
        tokens = array("Q", head.tok)
        tokens.extend(array("Q", tok))
        ints = array("q", head.ints)
        ints.extend(array("q", out.ints))
    except OverflowError:
        if big:
            raise
        return pack(spans, big=True)
    floats = array("d", head.floats)
    floats.extend(array("d", out.floats))
    lens = array("I", map(len, strs))
    text = "".join(strs).encode("utf-8", "replace")
    blob = b"".join(head.blobs + out.blobs)
    header = array(
        "I", (VERSION, len(tokens), len(ints), len(floats), len(lens), len(text), len(blob))
    )
    if header.itemsize != 4 or tokens.itemsize != 8:  # pragma: no cover - every CPython
        raise RuntimeError("collector_ffi: unexpected array item sizes")
    if _BIG_ENDIAN:  # pragma: no cover - the format is little-endian
        for a in (header, tokens, ints, floats, lens):
            a.byteswap()
    return b"".join((MAGIC, header.tobytes(), tokens.tobytes(), ints.tobytes(), floats.tobytes(), lens.tobytes(), text, blob))


import sys as _sys  # noqa: E402

_BIG_ENDIAN = _sys.byteorder == "big"
