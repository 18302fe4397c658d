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
import sys
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
_BIG_ENDIAN = sys.byteorder == "big"
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


def record(s):
    """The few fields of a finished span the packer needs, as one tuple: what the fast
    path's ``on_end`` keeps instead of the span. Keeping spans alive until a batch is packed
    is what costs most (the garbage collector walks every one of them, again and again);
    this tuple holds only numbers, strings and the attributes' dict, and the span is freed
    at once."""
    try:
        # A SpanContext is a tuple whose fields are properties (a Python call each):
        # unpacked instead.
        tid, sid, _, _, ts, _ = s._context
        p = s._parent
        status = s._status
        a = s._attributes
        ev = s._events
        lk = s._links
        if p is None:
            fl = _NO_PARENT
            pid = 0
        else:
            _, pid, remote, _, _, _ = p
            fl = _REMOTE_PARENT if remote else _LOCAL_PARENT
        return (
            s._resource,
            s._instrumentation_scope,
            tid,
            sid,
            fl,
            pid,
            _KIND[id(s._kind)],
            s._start_time,
            s._end_time,
            s._name,
            # The containers' own truth values are Python-level __len__ calls.
            ",".join(f"{k}={v}" for k, v in ts.items()) if ts._dict else None,
            _CODE[id(status._status_code)],
            status._description,
            a._dict,
            a.dropped,
            tuple(ev) if ev._dq else None,
            ev.dropped,
            tuple(lk) if lk._dq else None,
            lk.dropped,
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        return _record_slow(s)


def _record_slow(s):
    """`record` through the public API (a ``ReadableSpan`` built by hand, another SDK)."""
    ctx = s.context
    p = s.parent
    if p is None:
        fl, pid = _NO_PARENT, 0
    else:
        fl, pid = (_REMOTE_PARENT if p.is_remote else _LOCAL_PARENT), p.span_id
    status = s.status
    ts = ctx.trace_state
    return (
        s.resource,
        s.instrumentation_scope,
        ctx.trace_id,
        ctx.span_id,
        fl,
        pid,
        s.kind.value + 1,
        s.start_time or 0,
        s.end_time or 0,
        s.name,
        ",".join(f"{k}={v}" for k, v in ts.items()) if ts else None,
        status.status_code.value if status is not None else 0,
        status.description if status is not None else None,
        s.attributes,
        s.dropped_attributes,
        tuple(s.events) or None,
        s.dropped_events,
        tuple(s.links) or None,
        s.dropped_links,
    )


def pack(spans, big=False):
    """The packed form (``bytes``) of a sequence of finished SDK spans."""
    return pack_records([record(s) for s in spans], big)


def pack_records(records, big=False):
    """The packed form (``bytes``) of spans taken by :func:`record`."""
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
    for r, sc, tid, sid, fl, pid, kind, start, end, name, ts, code, desc, d, da, ev, de, lk, dl in records:
        # Consecutive spans mostly share their resource and scope: an identity check.
        if r is not last_r:
            last_r = r
            ri = res_of.get(id(r))
            if ri is None:
                ri = res_of[id(r)] = len(resources)
                resources.append(r)
        if sc is not last_sc:
            last_sc = sc
            si = scope_of.get(id(sc))
            if si is None:
                si = scope_of[id(sc)] = len(scopes)
                scopes.append(sc)
        if name:
            ni = intern.get(name)
            if ni is None:
                ni = intern[name] = len(strs)
                strs_ap(name)
            ni += 1
        else:
            ni = 0
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
                ni,
                0 if not ts else out.ref(ts),
                code,
                0 if desc is None else out.ref(desc),
                da,
                de,
                dl,
                len(d) if d else 0,
            )
        )
        if not d:
            if ev or lk:
                out.events_links(ev or (), lk or ())
            else:
                ext((0, 0))
            continue
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
        if ev or lk:
            out.events_links(ev or (), lk or ())
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
    head.tok.append(len(records))
    try:
        tokens = array("Q", head.tok)
        tokens.extend(array("Q", tok))
        ints = array("q", head.ints)
        ints.extend(array("q", out.ints))
    except OverflowError:
        if big:
            raise
        return pack_records(records, big=True)
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
