"""Exceptions raised for failed loon calls, one class per FFI error code (ffi_c.h 4.1 error codes)."""

from __future__ import annotations

from ._ffi import ffi, library


class LoonError(Exception):
    """A loon function reported a failure.

    Attributes: ``code`` (the FFI error code), ``message`` (the engine's text) and ``function``
    (the C function that failed). Tests assert on ``code`` or the class, never on wording.
    """

    code: int = -1

    def __init__(self, code: int, message: str, function: str = ""):
        self.code = code
        self.message = message
        self.function = function
        where = f"{function}: " if function else ""
        super().__init__(f"{where}[code {code}] {message}")


class InvalidArgumentError(LoonError, ValueError):
    """Code 1: a NULL or empty argument the function cannot work with."""


class LoonMemoryError(LoonError, MemoryError):
    """Code 2: allocation failed."""


class ArrowError(LoonError):
    """Code 3: generic data or I/O failure."""


class StreamReadError(ArrowError, OSError):
    """Code 3: a read failed in the middle of a record-batch stream (the Arrow C stream carries
    no FFI code). Also an OSError, as pyarrow reports stream failures."""


class LogicalError(LoonError):
    """Code 4: logical or state failure (e.g. commit validation)."""


class GotExceptionError(LoonError):
    """Code 5: a C++ exception was caught at the ABI boundary."""


class UnreachableError(LoonError):
    """Code 6."""


class InvalidPropertiesError(LoonError, ValueError):
    """Code 7: a property value failed validation."""


class FaultInjectedError(LoonError):
    """Code 8: an injected fault at the FFI level."""


class NotSupportedError(LoonError):
    """Code 9: the operation is not supported by this filesystem."""


class LoonFileNotFoundError(LoonError, FileNotFoundError):
    """Code 12: the path does not exist."""


class ObjectStoreError(LoonError):
    """Codes 102-106: permanent object-store failures (conflict, precondition, access ...)."""


class TransientError(LoonError):
    """Codes 101, 107-110: retryable failures."""


class TransactionExhaustedRetryError(LoonError):
    """Code 111: commit lost the create-only race more often than the retry limit allows."""


class TransactionConflictError(LoonError):
    """Code 112: a newer version appeared and the resolve strategy could not apply the edits."""


_CLASSES: dict[int, type[LoonError]] = {
    1: InvalidArgumentError,
    2: LoonMemoryError,
    3: ArrowError,
    4: LogicalError,
    5: GotExceptionError,
    6: UnreachableError,
    7: InvalidPropertiesError,
    8: FaultInjectedError,
    9: NotSupportedError,
    12: LoonFileNotFoundError,
    101: TransientError,
    102: ObjectStoreError,
    103: ObjectStoreError,
    104: ObjectStoreError,
    105: ObjectStoreError,
    106: ObjectStoreError,
    107: TransientError,
    108: TransientError,
    109: TransientError,
    110: TransientError,
    111: TransactionExhaustedRetryError,
    112: TransactionConflictError,
}


def error_class(code: int) -> type[LoonError]:
    """The exception class for an FFI error code (LoonError for unknown codes)."""
    return _CLASSES.get(code, LoonError)


def check(result, function: str = "") -> None:
    """Raise the mapped exception if ``result`` (a LoonFFIResult) is a failure.

    The message is copied and released exactly once with ``loon_ffi_free_result``.
    """
    code = result.err_code
    if code == 0:
        return
    holder = ffi.new("LoonFFIResult*", result)
    raw = library().loon_ffi_get_errmsg(holder)
    message = ffi.string(raw).decode("utf-8", "replace") if raw != ffi.NULL else ""
    library().loon_ffi_free_result(holder)
    raise error_class(code)(code, message, function)


class EngineTextError(ArrowError, UnicodeError):
    """Code 3: a string the engine returned (a path, a column name) is not valid UTF-8 — the data
    it came from (a manifest, a directory listing) is damaged. Also a UnicodeError, so callers
    catching decode failures still do; never a bare UnicodeDecodeError."""


def engine_text(ptr, what: str = "string", length: int | None = None, function: str = "") -> str:
    """The C string ``ptr`` (NUL-terminated, or ``length`` bytes) from the engine as ``str``.

    NULL gives ``""``; invalid UTF-8 raises :class:`EngineTextError` (code 3) naming ``what`` and
    showing the bytes escaped.
    """
    if ptr == ffi.NULL:
        return ""
    raw = ffi.string(ptr, length) if length is not None else ffi.string(ptr)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        shown = raw[:200].decode("utf-8", "backslashreplace")
        raise EngineTextError(3, f"{what} is not valid UTF-8 (byte {exc.start}): {shown!r}", function) from None


def is_retryable(code: int) -> bool:
    """Whether the engine classifies ``code`` as retryable."""
    return bool(library().loon_ffi_is_retryable_errcode(code))
