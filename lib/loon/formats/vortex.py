"""The ``vortex`` format through the Vortex library (PyPI ``vortex-data``).

Explore takes every regular file directly inside a directory (as for Parquet: no extension
filter, row counts left to ``get_file_info``); a file's rows and schema come from its footer;
reads are the library's Arrow stream (``VortexFile.to_arrow``) over a projection and a row range.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from ._bridge import Entry
from ._cache import OpenCache

FORMAT = "vortex"
PACKAGE = "vortex-data"
MODULE = "vortex"


def _vortex() -> Any:
    import vortex  # imported on first use: `import loon` stays quick

    return vortex


_FILES = OpenCache()


def _open(location: str) -> Any:
    try:
        st = os.stat(location)
    except FileNotFoundError:
        raise FileNotFoundError(f"{location} does not exist") from None
    if os.path.isdir(location):
        raise IsADirectoryError(f"{location} is a directory, not a Vortex file")
    stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    return _FILES.get(location, stamp, lambda: _vortex().open(location))


class VortexProvider:
    """Format provider of ``vortex`` files on local storage."""

    def list(self, location: str, properties: Mapping[str, str]) -> list[Entry]:
        with os.scandir(location) as it:
            return [Entry(name=e.name) for e in it if e.is_file()]

    def describe(self, location: str, fragment_id: int, properties: Mapping[str, str]) -> tuple[int, pa.Schema]:
        if fragment_id >= 0:
            raise ValueError(f"a Vortex file has no fragments (fragment {fragment_id} of {location})")
        f = _open(location)
        return len(f), f.dtype.to_arrow_schema()

    def open(
        self,
        location: str,
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
