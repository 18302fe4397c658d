"""Loads the collector's C library (``collector-ffi/include/otelcol.h``) with ctypes.

ctypes releases the GIL for the length of every foreign call (``ctypes.CDLL``, not
``PyDLL``), so Python threads keep running while the collector starts, flushes or shuts
down. Every function the header declares is given its exact signature here; a call with
the wrong argument types fails in Python before it reaches C.

Where the library comes from: ``COLLECTOR_FFI_LIBRARY`` (a path, for running against the
library cargo built, as the tests do), else the copy the wheel installed next to this file.
"""

import ctypes
import glob
import os

ENV_LIBRARY = "COLLECTOR_FFI_LIBRARY"


class Report(ctypes.Structure):
    """``otelcol_report``."""

    _fields_ = [("delivered_items", ctypes.c_uint64), ("dropped_items", ctypes.c_uint64)]


def _path():
    explicit = os.environ.get(ENV_LIBRARY)
    if explicit:
        return explicit
    here = os.path.dirname(os.path.abspath(__file__))
    for pattern in ("_native*.so", "_native*.dylib", "_native*.pyd", "_native*.dll"):
        found = sorted(glob.glob(os.path.join(here, pattern)))
        if found:
            return found[0]
    raise ImportError(
        "collector_ffi: the native library is not installed next to the package "
        f"({here}); install the package with pip, or set {ENV_LIBRARY} to the path of "
        "libcollector_ffi built by cargo"
    )


def _load():
    lib = ctypes.CDLL(_path())
    handle = ctypes.c_void_p
    res = ctypes.c_int
    signatures = {
        "otelcol_collector_new": (res, [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(handle)]),
        "otelcol_collector_start": (res, [handle]),
        "otelcol_collector_ingest": (res, [handle, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t]),
        "otelcol_collector_ingest_packed_spans": (res, [handle, ctypes.c_char_p, ctypes.c_size_t]),
        "otelcol_collector_flush": (res, [handle, ctypes.c_uint32]),
        "otelcol_collector_shutdown": (res, [handle, ctypes.c_uint32, ctypes.POINTER(Report)]),
        "otelcol_collector_items_on_disk": (res, [handle, ctypes.POINTER(ctypes.c_uint64)]),
        "otelcol_collector_free": (None, [handle]),
        "otelcol_last_error": (ctypes.c_char_p, []),
        "otelcol_result_str": (ctypes.c_char_p, [ctypes.c_int]),
        "otelcol_version": (ctypes.c_char_p, []),
        "otelcol_after_fork_child": (None, []),
    }
    for name, (restype, argtypes) in signatures.items():
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = argtypes
    return lib


lib = _load()
