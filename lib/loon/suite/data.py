"""Deterministic test data: the same arguments always give the same batches.

Values depend only on a row's ``id`` (and ``seed``), never on how rows are split into batches, so
``make_batch(100)`` equals ``make_batch(50)`` followed by ``make_batch(50, offset=50)``. That lets
a case write in one chunking and compare against data generated in another.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "SCHEMA",
    "batches",
    "batches_of_bytes",
    "compressible_batch",
    "fixed_width_batch",
    "make_batch",
    "make_table",
    "make_vector_batch",
    "vector_schema",
]

SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("name", pa.string()),
        pa.field("value", pa.float64()),
    ]
)

_SUFFIXES = pa.array(["", "_a", "_bb", "_ccc", "_dddd", "_eeeee", "_ffffff", "_ggggggg"])


def _ids(num_rows: int, offset: int) -> np.ndarray:
    if num_rows < 0:
        raise ValueError(f"num_rows must be >= 0, got {num_rows}")
    return np.arange(offset, offset + num_rows, dtype=np.int64)


def _mix(ids: np.ndarray, seed: int) -> np.ndarray:
    """A cheap deterministic hash of ids (splitmix64 finaliser) as uint64."""
    with np.errstate(over="ignore"):
        x = ids.astype(np.uint64) + (np.uint64(seed % (1 << 64)) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def make_batch(num_rows: int, offset: int = 0, seed: int = 0) -> pa.RecordBatch:
    """Rows ``offset .. offset+num_rows-1`` of ``SCHEMA``.

    ``name`` is ``name_<id>`` with a suffix of varying length (so string sizes differ); ``value`` is
    a pseudo-random float in [0, 1000) derived from ``id`` and ``seed``.
    """
    ids = _ids(num_rows, offset)
    id_array = pa.array(ids, pa.int64())
    # Arrow kernels, not a Python loop: the stress profiles generate up to 100M rows.
    suffixes = _SUFFIXES.take(pa.array(ids % len(_SUFFIXES)))
    names = pc.binary_join_element_wise("name_", pc.cast(id_array, pa.string()), suffixes, "")
    values = (_mix(ids, seed) % np.uint64(1_000_000)).astype(np.float64) / 1000.0
    return pa.RecordBatch.from_arrays([id_array, names, pa.array(values, pa.float64())], schema=SCHEMA)


def fixed_width_batch(num_rows: int, offset: int = 0) -> pa.RecordBatch:
    """Rows of ``SCHEMA`` whose size depends only on the row count: ``name`` is ``n<id>`` padded to
    12 characters, so every batch of ``num_rows`` rows has the same ``nbytes`` (rolling tests need
    batches of exactly equal size)."""
    ids = _ids(num_rows, offset)
    names = pc.utf8_rpad(pc.binary_join_element_wise("n", pc.cast(pa.array(ids, pa.int64()), pa.string()), ""), 12, "_")
    values = (_mix(ids, 0) % np.uint64(1_000_000)).astype(np.float64) / 1000.0
    return pa.RecordBatch.from_arrays([pa.array(ids, pa.int64()), names, pa.array(values, pa.float64())], schema=SCHEMA)


def batches(num_rows: int, batch_rows: int = 10_000, offset: int = 0, seed: int = 0) -> Iterator[pa.RecordBatch]:
    """``num_rows`` rows of ``SCHEMA`` from ``offset`` in batches of at most ``batch_rows`` rows.

    A generator, so large row counts (``full`` profile) need not fit in memory at once.
    """
    if batch_rows <= 0:
        raise ValueError(f"batch_rows must be > 0, got {batch_rows}")
    for start in range(0, num_rows, batch_rows):
        yield make_batch(min(batch_rows, num_rows - start), offset + start, seed)


def make_table(num_rows: int, batch_rows: int = 10_000, offset: int = 0, seed: int = 0) -> pa.Table:
    """``num_rows`` rows of ``SCHEMA`` as a table made of batches of ``batch_rows`` rows."""
    return pa.Table.from_batches(list(batches(num_rows, batch_rows, offset, seed)), schema=SCHEMA)


def vector_schema(dim: int) -> pa.Schema:
    """``id`` (int64, not null) and ``vector`` (fixed_size_list<float32, dim>)."""
    if dim <= 0:
        raise ValueError(f"dim must be > 0, got {dim}")
    return pa.schema(
        [
            pa.field("id", pa.int64(), nullable=False),
            pa.field("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def make_vector_batch(num_rows: int, dim: int, offset: int = 0, seed: int = 0) -> pa.RecordBatch:
    """Rows ``offset .. offset+num_rows-1`` of ``vector_schema(dim)``; components in [0, 1)."""
    schema = vector_schema(dim)
    ids = _ids(num_rows, offset)
    # One hash per (row, component): mixing id*dim + j keeps rows independent of batching.
    cells = (ids[:, None] * dim + np.arange(dim, dtype=np.int64)[None, :]).reshape(-1)
    flat = ((_mix(cells, seed) % np.uint64(1 << 24)).astype(np.float32)) / np.float32(1 << 24)
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), dim)
    return pa.RecordBatch.from_arrays([pa.array(ids, pa.int64()), vectors], schema=schema)


def batches_of_bytes(
    target_bytes: int, batch_rows: int = 10_000, offset: int = 0, seed: int = 0
) -> Iterator[pa.RecordBatch]:
    """Yields consecutive ``make_batch`` batches until their summed ``nbytes`` reaches ``target_bytes``.

    A generator, so large targets (``full`` profile) need not fit in memory at once.
    """
    if batch_rows <= 0:
        raise ValueError(f"batch_rows must be > 0, got {batch_rows}")
    produced = 0
    start = offset
    while produced < target_bytes:
        batch = make_batch(batch_rows, start, seed)
        produced += batch.nbytes
        start += batch_rows
        yield batch


def compressible_batch(num_rows: int, offset: int = 0) -> pa.RecordBatch:
    """Rows of ``SCHEMA`` that compress very well: long repeated strings and few distinct values."""
    ids = _ids(num_rows, offset)
    patterns = ["A" * 200, "B" * 200, "C" * 200, "D" * 200]
    names = [patterns[i % len(patterns)] for i in ids.tolist()]
    values = (ids % 4).astype(np.float64)
    return pa.RecordBatch.from_arrays(
        [pa.array(ids, pa.int64()), pa.array(names, pa.string()), pa.array(values, pa.float64())],
        schema=SCHEMA,
    )
