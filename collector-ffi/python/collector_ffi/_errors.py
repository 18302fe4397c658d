"""The exceptions, one per ``otelcol_result`` code; each carries the library's message."""

import builtins


class CollectorError(Exception):
    """A call into the collector failed. ``code`` is the ``otelcol_result`` value and the
    message is the library's ``otelcol_last_error()``."""

    code = None

    def __init__(self, message, code=None):
        super().__init__(message)
        if code is not None:
            self.code = code


class ConfigError(CollectorError, ValueError):
    """The configuration did not parse or validate (OTELCOL_ERR_CONFIG)."""

    code = 2


class InvalidDataError(CollectorError, ValueError):
    """The bytes handed over are not a valid OTLP export request (OTELCOL_ERR_INVALID_DATA)."""

    code = 3


class RetryableError(CollectorError):
    """Over the memory budget or every queue full: try again later (OTELCOL_ERR_RETRYABLE)."""

    code = 4


class NotRunningError(CollectorError):
    """Not started, or already shut down (OTELCOL_ERR_NOT_RUNNING)."""

    code = 5


class TimeoutError(CollectorError, builtins.TimeoutError):  # noqa: A001 - the documented name
    """A flush or shutdown deadline passed (OTELCOL_ERR_TIMEOUT). Also a builtin
    ``TimeoutError``, so ``except TimeoutError`` catches it either way."""

    code = 6


_BY_CODE = {cls.code: cls for cls in (ConfigError, InvalidDataError, RetryableError, NotRunningError, TimeoutError)}


def error_for(code, message):
    """The exception for a failed call: a subclass for the codes callers act on,
    ``CollectorError`` for the rest (invalid argument, a caught panic, internal)."""
    cls = _BY_CODE.get(code, CollectorError)
    return cls(message, code)
