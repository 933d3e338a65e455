"""The ``lance-table`` format through the Lance library (PyPI ``pylance``).

A Lance dataset is a directory; explore lists its fragments with their visible row counts
(deleted rows excluded), recorded as ``<dataset-uri>?fragment_id=<n>`` with the range [0, rows).
A fragment's rows [start, end) are read with the library's fragment scanner (offset/limit count
visible rows) as an Arrow stream, or with its random-access take for a few rows; the engine's
takes use that random access directly (``take``).

On object stores the dataset is opened by URI with the engine's storage options (Lance's
``storage_options`` take the object_store keys the engine hands over unchanged).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from ._bridge import Entry, Location
from ._cache import OpenCache

FORMAT = "lance-table"
# Ranges up to this many rows are read with Fragment.take (random access; offsets count visible
# rows as the scanner's do): a scanner with an offset decodes from the fragment's start, ~4 ms
# for one row deep in a 250k-row fragment against ~2 ms for a take.
_TAKE_ROWS = 256
PACKAGE = "pylance"
MODULE = "lance"


_DATASETS = OpenCache()
_REMOTE_LOCK = threading.Lock()
_REMOTE: dict[Location, Any] = {}  # location -> the dataset opened there (version checked on reuse)
_REMOTE_CAPACITY = 32


def _stamp(location: str) -> tuple[int, int] | None:
    # Every commit of a Lance dataset adds a manifest under _versions/: the directory's mtime
    # and entry count change with it.
    try:
        st = os.stat(os.path.join(location, "_versions"))
        return st.st_mtime_ns, len(os.listdir(os.path.join(location, "_versions")))
    except OSError:
        return None


def _lance() -> Any:
    import lance  # imported on first use: `import loon` stays quick

    return lance


def _not_found(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "not found" in text or "does not exist" in text or "no such file" in text


def _open_remote(location: Location) -> Any:
    try:
        # Lance's own keys bound its retries (object_store's default: 10 within 3 minutes).
        retry = {"client_max_retries": "3", "client_retry_timeout": str(int(location.retry_seconds))}
        options = {**location.options, **retry}
        return _lance().dataset(location.uri, storage_options=options)
    except (OSError, ValueError) as exc:
        if _not_found(exc):
            raise FileNotFoundError(f"no Lance dataset at {location.uri}: {exc}") from None
        raise


def _remote_dataset(location: Location, check_version: bool = True) -> Any:
    # A dataset opened earlier is reused while it is still the latest version: one listing of
    # _versions/ instead of opening it again (a commit after an import is seen at once). Reads
    # (check_version False) reuse the dataset that list/describe checked when the engine opened
    # the read, without a listing per chunk; its row counts are the ones the engine checks against.
    with _REMOTE_LOCK:
        ds = _REMOTE.get(location)
    if ds is not None and not check_version:
        return ds
    if ds is not None:
        try:
            if ds.latest_version == ds.version:
                return ds
        except (OSError, ValueError):
            pass  # gone or unreadable now: open it again (and say why if that fails)
    ds = _open_remote(location)
    with _REMOTE_LOCK:
        _REMOTE[location] = ds
        while len(_REMOTE) > _REMOTE_CAPACITY:
            _REMOTE.pop(next(iter(_REMOTE)))
    return ds


def _dataset(location: Location, check_version: bool = True) -> Any:
    if not location.is_local:
        return _remote_dataset(location, check_version)
    path = location.uri
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} does not exist")
    return _DATASETS.get(path, _stamp(path), lambda: _lance().dataset(path))


def _fragment(location: Location, fragment_id: int, check_version: bool = True) -> Any:
    ds = _dataset(location, check_version)
    fragment = ds.get_fragment(fragment_id)
    if fragment is None:
        raise FileNotFoundError(f"the Lance dataset {location} has no fragment {fragment_id}")
    return ds, fragment


class LanceProvider:
    """Format provider of Lance datasets on local storage and object stores."""

    def list(self, location: Location, properties: Mapping[str, str]) -> list[Entry]:
        ds = _dataset(location)
        return [Entry(fragment_id=f.fragment_id, num_rows=f.count_rows()) for f in ds.get_fragments()]

    def describe(self, location: Location, fragment_id: int, properties: Mapping[str, str]) -> tuple[int, pa.Schema]:
        if fragment_id < 0:  # the whole dataset
            ds = _dataset(location)
            return ds.count_rows(), ds.schema
        ds, fragment = _fragment(location, fragment_id)
        return fragment.count_rows(), ds.schema

    def open(
        self,
        location: Location,
        fragment_id: int,
        columns: Sequence[str],
        start: int,
        end: int,
        properties: Mapping[str, str],
    ) -> pa.RecordBatchReader:
        if fragment_id < 0:
            raise IsADirectoryError(f"{location} is a Lance dataset: read it by fragment (?fragment_id=<n>)")
        _, fragment = _fragment(location, fragment_id, check_version=False)
        if end - start <= _TAKE_ROWS:
            # A few rows (a take): the library's random access, not a scan skipping to `start`.
            table = fragment.take(list(range(start, end)), columns=list(columns))
            return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
        return fragment.scanner(columns=list(columns), offset=start, limit=end - start).to_reader()

    def take(
        self,
        location: Location,
        fragment_id: int,
        columns: Sequence[str],
        rows: Sequence[int],
        properties: Mapping[str, str],
    ) -> pa.RecordBatchReader:
        if fragment_id < 0:
            raise IsADirectoryError(f"{location} is a Lance dataset: read it by fragment (?fragment_id=<n>)")
        _, fragment = _fragment(location, fragment_id, check_version=False)
        table = fragment.take(list(rows), columns=list(columns))
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
