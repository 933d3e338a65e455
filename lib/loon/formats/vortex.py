"""The ``vortex`` format through the Vortex library (PyPI ``vortex-data``).

Explore takes every regular file directly inside a directory, as for Parquet: the provider has no
``list`` and the engine lists the directory through its own filesystem (row counts are left to
``get_file_info``). A file's rows and schema come from its footer; reads are the library's Arrow
stream (``VortexFile.to_arrow``) over a projection and a row range.

On object stores the file is opened through a ``vortex.store`` store of its bucket, built from
the engine's storage options (object_store keys: the HTTP client's keys go to ``client_options``,
the rest to the store's ``config``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import pyarrow as pa

from ._bridge import Location
from ._cache import OpenCache

FORMAT = "vortex"
PACKAGE = "vortex-data"
MODULE = "vortex"

# object_store's HTTP client keys (ClientConfigKey); every other option configures the store.
_CLIENT_KEYS = frozenset({
    "allow_http", "allow_invalid_certificates", "connect_timeout", "default_content_type", "http1_only",
    "http2_only", "http2_keep_alive_interval", "http2_keep_alive_timeout", "http2_keep_alive_while_idle",
    "pool_idle_timeout", "pool_max_idle_per_host", "proxy_url", "proxy_ca_certificate", "proxy_excludes",
    "timeout", "user_agent",
})


def _vortex() -> Any:
    import vortex  # imported on first use: `import loon` stays quick

    return vortex


_FILES = OpenCache()
_STORES_LOCK = threading.Lock()
_STORES: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}


def _store(bucket_url: str, location: Location) -> Any:
    """The ``vortex.store`` store of one bucket with the options of ``location`` (built once, reused)."""
    options = location.storage_options
    key = (bucket_url, options)
    with _STORES_LOCK:
        store = _STORES.get(key)
    if store is None:
        client = {k: v for k, v in options if k in _CLIENT_KEYS}
        config = {k: v for k, v in options if k not in _CLIENT_KEYS}
        retry = {"max_retries": 3, "retry_timeout": timedelta(seconds=location.retry_seconds)}
        store = _vortex().store.from_url(bucket_url, config=config, client_options=client, retry_config=retry)
        with _STORES_LOCK:
            _STORES[key] = store
    return store


def _open_remote(location: Location) -> Any:
    scheme, rest = location.uri.split("://", 1)
    bucket, _, key = rest.partition("/")
    if not key:
        raise IsADirectoryError(f"{location} is a bucket, not a Vortex file")
    store = _store(f"{scheme}://{bucket}", location)
    try:
        return _vortex().open(key, store=store)
    except RuntimeError as exc:
        if "not found" in str(exc).lower():
            raise FileNotFoundError(f"{location} does not exist") from None
        raise


def _open(location: Location) -> Any:
    if not location.is_local:
        # No cheap change stamp on an object store: opened per call (the footer is small).
        return _open_remote(location)
    path = location.uri
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} does not exist") from None
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory, not a Vortex file")
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    return _FILES.get(path, stamp, lambda: _vortex().open(path))


class VortexProvider:
    """Format provider of ``vortex`` files on local storage and object stores."""

    def describe(self, location: Location, fragment_id: int, properties: Mapping[str, str]) -> tuple[int, pa.Schema]:
        if fragment_id >= 0:
            raise ValueError(f"a Vortex file has no fragments (fragment {fragment_id} of {location})")
        f = _open(location)
        return len(f), f.dtype.to_arrow_schema()

    def open(
        self,
        location: Location,
        fragment_id: int,
        columns: Sequence[str],
        start: int,
        end: int,
        properties: Mapping[str, str],
    ) -> pa.RecordBatchReader:
        if fragment_id >= 0:
            raise ValueError(f"a Vortex file has no fragments (fragment {fragment_id} of {location})")
        vx = _vortex()
        f = _open(location)
        indices = None
        if start != 0 or end != len(f):
            # Strictly increasing row numbers select the range; the library prunes by them.
            indices = vx.array(pa.array(range(start, end), pa.uint64()))
        return f.to_arrow(projection=list(columns), indices=indices)

    def take(
        self,
        location: Location,
        fragment_id: int,
        columns: Sequence[str],
        rows: Sequence[int],
        properties: Mapping[str, str],
    ) -> pa.RecordBatchReader:
        if fragment_id >= 0:
            raise ValueError(f"a Vortex file has no fragments (fragment {fragment_id} of {location})")
        vx = _vortex()
        # The engine asks ascending distinct rows: the library's indices (it prunes by them).
        return _open(location).to_arrow(projection=list(columns), indices=vx.array(pa.array(rows, pa.uint64())))
