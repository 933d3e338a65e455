"""Independent inspection of the Parquet files the engine writes (pyarrow.parquet metadata).

A file is a ``StoredFile`` (``Session.data_files``: any backend, read through the engine's
filesystem) or a local path (tests of the engine on a temporary directory).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq


class _Stored(Protocol):
    size: int

    def open(self) -> Any: ...


ParquetSource = str | Path | _Stored


def metadata(source: ParquetSource) -> pq.FileMetaData:
    """The Parquet footer of a stored file or local path."""
    if isinstance(source, str | os.PathLike):
        return pq.ParquetFile(source).metadata
    with source.open() as handle:
        return pq.ParquetFile(handle).metadata


def codecs(path: ParquetSource) -> set[str]:
    """Compression codecs (upper case, e.g. ``ZSTD``) of every column chunk of the file."""
    meta = metadata(path)
    return {
        meta.row_group(r).column(c).compression.upper()
        for r in range(meta.num_row_groups)
        for c in range(meta.num_columns)
    }


def encodings(path: ParquetSource) -> set[str]:
    """All encodings (e.g. ``PLAIN``, ``RLE_DICTIONARY``) used by any column chunk of the file."""
    meta = metadata(path)
    found: set[str] = set()
    for r in range(meta.num_row_groups):
        for c in range(meta.num_columns):
            found.update(meta.row_group(r).column(c).encodings)
    return found


def uses_dictionary(path: ParquetSource) -> bool:
    """True if any column chunk of the file is dictionary encoded."""
    return any("DICTIONARY" in e for e in encodings(path))


def total_size(paths: list[ParquetSource]) -> int:
    """Summed stored size in bytes of ``paths``."""
    return sum(Path(p).stat().st_size if isinstance(p, str | os.PathLike) else p.size for p in paths)


def key_retriever(keys: Mapping[bytes, bytes], seen: list[bytes] | None = None) -> Callable[[bytes], bytes | None]:
    """A key retriever returning ``keys[metadata]`` (None if unknown); records every metadata in ``seen``."""

    def retrieve(metadata: bytes) -> bytes | None:
        if seen is not None:
            seen.append(metadata)
        return keys.get(metadata)

    return retrieve


def wide_table(num_rows: int, num_columns: int) -> pa.Table:
    """``num_columns`` int64 columns ``c0000..``; cell (r, c) = r * num_columns + c."""
    return pa.table(
        {f"c{c:04d}": pa.array([r * num_columns + c for r in range(num_rows)], pa.int64()) for c in range(num_columns)}
    )


def nested_table(num_rows: int) -> pa.Table:
    """``id``, a ``list<list<list<int64>>>`` column and a struct with a nested list and struct."""
    deep = [[[list(range(r % 3)), [r]], []] if r % 5 else None for r in range(num_rows)]
    rec = [{"a": r, "b": {"c": str(r), "d": [float(r)] * (r % 2)}} for r in range(num_rows)]
    return pa.table(
        {
            "id": pa.array(range(num_rows), pa.int64()),
            "deep": pa.array(deep, pa.list_(pa.list_(pa.list_(pa.int64())))),
            "rec": pa.array(
                rec,
                pa.struct([("a", pa.int64()), ("b", pa.struct([("c", pa.string()), ("d", pa.list_(pa.float64()))]))]),
            ),
        }
    )
