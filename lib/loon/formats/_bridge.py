"""The engine's format-provider ABI (``ffi_format_provider.h``, our extension) for Python providers.

A provider is any object with the methods of ``FormatProvider`` (``list`` optional: without it
the engine lists a directory's regular files itself); ``register`` hands the engine one set of
cffi callbacks that dispatch to it. Each call names its data by a ``Location``: a URI and the
storage options (object_store configuration keys) that reach the engine's store with the same
endpoint and credentials (for local storage an absolute path and no options). The engine calls them from its worker
threads: cffi takes the GIL for each call. A Python exception becomes a failed call carrying its
message (``FileNotFoundError`` -> code 12, ``IsADirectoryError`` -> code 1, anything else -> 3);
streams are exported with the Arrow C stream interface, never copied row by row.

The registration keeps the provider alive until the engine releases it (``release`` callback):
after ``unregister`` or a replacement, once its last running call has returned.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa

from .._ffi import ffi, library
from ..arrow_c import ptr_int
from ..errors import check

ABI_VERSION = 3
"""LOON_FORMAT_PROVIDER_ABI_VERSION of the header this binding was generated from."""

_NOT_FOUND = 12
_INVALID = 1
_FAILED = 3


@dataclass(frozen=True)
class Location:
    """Where a directory, file or dataset is, as the engine hands it to a provider."""

    uri: str
    """Local storage: the absolute OS path; object stores: ``s3://``, ``gs://`` or ``az://`` + bucket/key."""
    storage_options: tuple[tuple[str, str], ...] = ()
    """object_store configuration keys (``aws_endpoint``, ``google_service_account_key``, ...), sorted."""

    @property
    def is_local(self) -> bool:
        return "://" not in self.uri

    @property
    def options(self) -> dict[str, str]:
        return dict(self.storage_options)

    @property
    def retry_seconds(self) -> float:
        """How long a library may keep retrying one request: 3 x the engine's ``connect_timeout``
        (``fs.request_timeout_ms``), so an unreachable store fails about as soon as the engine's
        own client would (the libraries' default is 10 retries within 3 minutes)."""
        timeout = self.options.get("connect_timeout", "3000ms")
        ms = float(timeout[:-2]) if timeout.endswith("ms") else 3000.0
        return max(1.0, 3 * ms / 1000.0)

    def __str__(self) -> str:
        return self.uri


@dataclass(frozen=True)
class Entry:
    """One item of a listing: a plain file (``fragment_id`` -1, ``name`` its base name) or a fragment."""

    name: str = ""
    fragment_id: int = -1
    num_rows: int = -1


class FormatProvider(Protocol):
    """What the engine asks of a format.

    ``list(location, properties) -> Sequence[Entry]`` is optional: the data files directly inside
    directory ``location``, or the fragments of the dataset there. Without it the engine lists
    the directory's regular files itself.

    ``take(location, fragment_id, columns, rows, properties)`` is optional: exactly ``rows``
    (ascending, distinct row numbers after deletions) of one file or fragment, in that order, as
    ``open`` returns them. Without it the engine takes rows from spans read through ``open``.
    """

    def describe(self, location: Location, fragment_id: int, properties: Mapping[str, str]) -> tuple[int, pa.Schema]:
        """Row count (after deletions) and Arrow schema of one file (fragment_id -1) or fragment."""
        ...

    def open(
        self,
        location: Location,
        fragment_id: int,
        columns: Sequence[str],
        start: int,
        end: int,
        properties: Mapping[str, str],
    ) -> Any:
        """Rows [start, end) of ``columns``: a pyarrow.RecordBatchReader or an ``__arrow_c_stream__`` object."""
        ...


def supported() -> bool:
    """Whether the loaded engine has the provider ABI (ours does; a real milvus-storage build does not)."""
    return _has(library(), "loon_format_provider_register")


def _has(lib: Any, name: str) -> bool:
    try:
        getattr(lib, name)
        return True
    except AttributeError:
        return False


def _properties(c_props: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    if c_props == ffi.NULL:
        return out
    for i in range(c_props.count):
        item = c_props.properties[i]
        out[ffi.string(item.key).decode()] = ffi.string(item.value).decode()
    return out


def _location(c_location: Any) -> Location:
    options = _properties(c_location.storage_options)
    return Location(ffi.string(c_location.uri).decode(), tuple(sorted(options.items())))


def _message(exc: BaseException) -> str:
    # The Rust libraries append a backtrace when RUST_BACKTRACE is set: keep the error itself.
    text = str(exc).split("\nBacktrace:", 1)[0].strip()
    if len(text) > 2000:
        text = text[:2000] + "..."
    return f"{type(exc).__name__}: {text}"


def _fail(sink: Any, exc: BaseException) -> int:
    message = _message(exc).encode(errors="replace")
    library().loon_format_sink_set_error(sink, message)
    if isinstance(exc, FileNotFoundError):
        return _NOT_FOUND
    if isinstance(exc, IsADirectoryError):
        return _INVALID
    return _FAILED


def _provider(private_data: Any) -> FormatProvider:
    return ffi.from_handle(private_data)


def _as_reader(stream: Any) -> pa.RecordBatchReader:
    if isinstance(stream, pa.RecordBatchReader):
        return stream
    if hasattr(stream, "__arrow_c_stream__"):
        return pa.RecordBatchReader.from_stream(stream)
    raise TypeError(f"a provider stream must be a RecordBatchReader or export __arrow_c_stream__, not {type(stream)}")


def _on_error(exc_type: Any, exc: BaseException, tb: Any) -> None:
    # Only reached when even _fail raised (e.g. during interpreter shutdown): say so, never crash.
    traceback.print_exception(exc_type, exc, tb)


@ffi.callback(
    "int(void*, const LoonFormatLocation*, const LoonProperties*, LoonFormatSink*)", error=_FAILED, onerror=_on_error
)
def _list(private_data, location, c_props, sink):
    try:
        entries = _provider(private_data).list(_location(location), _properties(c_props))
        for e in entries:
            name = e.name.encode() if e.name else ffi.NULL
            library().loon_format_sink_add_entry(sink, name, int(e.fragment_id), int(e.num_rows))
        return 0
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the engine
        return _fail(sink, exc)


@ffi.callback(
    "int(void*, const LoonFormatLocation*, int64_t, const LoonProperties*, int64_t*, struct ArrowSchema*, "
    "LoonFormatSink*)",
    error=_FAILED,
    onerror=_on_error,
)
def _describe(private_data, location, fragment_id, c_props, out_rows, out_schema, sink):
    try:
        rows, schema = _provider(private_data).describe(_location(location), int(fragment_id), _properties(c_props))
        if out_schema != ffi.NULL:
            schema._export_to_c(ptr_int(out_schema))
        out_rows[0] = int(rows)
        return 0
    except BaseException as exc:  # noqa: BLE001
        return _fail(sink, exc)


@ffi.callback(
    "int(void*, const LoonFormatLocation*, int64_t, const char* const*, size_t, int64_t, int64_t, "
    "const LoonProperties*, struct ArrowArrayStream*, LoonFormatSink*)",
    error=_FAILED,
    onerror=_on_error,
)
def _open_stream(private_data, location, fragment_id, columns, num_columns, start, end, c_props, out_stream, sink):
    try:
        names = [ffi.string(columns[i]).decode() for i in range(num_columns)]
        stream = _provider(private_data).open(
            _location(location), int(fragment_id), names, int(start), int(end), _properties(c_props)
        )
        _as_reader(stream)._export_to_c(ptr_int(out_stream))
        return 0
    except BaseException as exc:  # noqa: BLE001
        return _fail(sink, exc)


@ffi.callback(
    "int(void*, const LoonFormatLocation*, int64_t, const char* const*, size_t, const int64_t*, size_t, "
    "const LoonProperties*, struct ArrowArrayStream*, LoonFormatSink*)",
    error=_FAILED,
    onerror=_on_error,
)
def _take(private_data, location, fragment_id, columns, num_columns, rows, num_rows, c_props, out_stream, sink):
    try:
        names = [ffi.string(columns[i]).decode() for i in range(num_columns)]
        wanted = [int(rows[i]) for i in range(num_rows)]
        provider = _provider(private_data)
        stream = provider.take(_location(location), int(fragment_id), names, wanted, _properties(c_props))
        _as_reader(stream)._export_to_c(ptr_int(out_stream))
        return 0
    except BaseException as exc:  # noqa: BLE001
        return _fail(sink, exc)


_alive_lock = threading.Lock()
_alive: dict[int, Any] = {}  # id of a registration's handle -> the handle (keeps the provider alive)


@ffi.callback("void(void*)", onerror=_on_error)
def _release(private_data):
    with _alive_lock:
        _alive.pop(int(ffi.cast("uintptr_t", private_data)), None)


def register(format: str, provider: FormatProvider) -> None:
    """Registers ``provider`` for ``format`` with the engine, replacing an earlier registration."""
    handle = ffi.new_handle(provider)
    key = int(ffi.cast("uintptr_t", handle))
    with _alive_lock:
        _alive[key] = handle
    c = ffi.new("LoonFormatProvider*")
    c.abi_version = ABI_VERSION
    c.private_data = handle
    c.list = _list if callable(getattr(provider, "list", None)) else ffi.NULL
    c.describe = _describe
    c.open_stream = _open_stream
    c.take = _take if callable(getattr(provider, "take", None)) else ffi.NULL
    c.release = _release
    try:
        check(library().loon_format_provider_register(format.encode(), c), "loon_format_provider_register")
    except BaseException:
        with _alive_lock:  # not registered: the engine never calls release
            _alive.pop(key, None)
        raise


def unregister(format: str) -> bool:
    """Removes the registration of ``format``; whether there was one."""
    removed = ffi.new("bool*")
    check(library().loon_format_provider_unregister(format.encode(), removed), "loon_format_provider_unregister")
    return bool(removed[0])


def registered_count() -> int:
    """Registrations the engine still holds (released ones are gone): for tests of the lifetime."""
    with _alive_lock:
        return len(_alive)
