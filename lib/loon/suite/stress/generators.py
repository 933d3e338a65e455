"""Stress data generators: wide tables, large strings, vectors, gradual fields.

Values depend only on the row id, never on how rows are split into batches, so a case can
regenerate any slice to check what it reads back."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import data
from .scale import MB

# --------------------------------------------------------------------------------------------
# Data generators (vectorised; values depend only on the row id, never on batching)
# --------------------------------------------------------------------------------------------

_WIDE_TYPES = (pa.string(), pa.int64(), pa.float64())  # by column number j % 3


def wide_schema(num_columns: int) -> pa.Schema:
    """``id`` plus ``num_columns - 1`` columns ``c1..`` cycling int64, float64, string."""
    if num_columns < 1:
        raise ValueError(f"num_columns must be >= 1, got {num_columns}")
    fields = [pa.field("id", pa.int64(), nullable=False)]
    fields += [pa.field(f"c{j}", _WIDE_TYPES[j % 3]) for j in range(1, num_columns)]
    return pa.schema(fields)


def wide_batch(num_rows: int, num_columns: int, offset: int = 0) -> pa.RecordBatch:
    """Rows of ``wide_schema(num_columns)``: column ``cj`` of row ``i`` depends only on ``i`` and ``j``."""
    schema = wide_schema(num_columns)
    ids = data._ids(num_rows, offset)
    id_array = pa.array(ids, pa.int64())
    text = pc.cast(id_array, pa.string())
    arrays: list[pa.Array] = [id_array]
    for j in range(1, num_columns):
        kind = j % 3
        if kind == 0:
            arrays.append(pc.binary_join_element_wise(f"c{j}_", text, ""))
        elif kind == 1:
            arrays.append(pa.array(ids * j, pa.int64()))
        else:
            arrays.append(pa.array((data._mix(ids, j) % np.uint64(1 << 40)).astype(np.float64) / 7.0, pa.float64()))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


_STRING_POOL_SIZE = 4 << 20
_ALPHABET = np.frombuffer(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", dtype=np.uint8)
_pool_cache: dict[int, np.ndarray] = {}


def _ascii_pool(size: int) -> np.ndarray:
    """A deterministic pool of ASCII letters that string values are sliced from."""
    if size not in _pool_cache:
        rng = np.random.default_rng(20240901)
        _pool_cache[size] = _ALPHABET[rng.integers(0, len(_ALPHABET), size)]
    return _pool_cache[size]


def large_string_lengths(ids: np.ndarray, min_len: int = 1 << 10, max_len: int = 1 << 20) -> np.ndarray:
    """Byte lengths of the large strings of ``ids``: log-uniform in [min_len, max_len].

    Id 0 gets exactly ``min_len`` and id 1 exactly ``max_len``, so both bounds are always written.
    """
    if not 0 < min_len <= max_len:
        raise ValueError(f"need 0 < min_len <= max_len, got {min_len}, {max_len}")
    u = (data._mix(ids, 7) % np.uint64(1 << 20)).astype(np.float64) / float(1 << 20)
    lengths = np.floor(min_len * (max_len / min_len) ** u).astype(np.int64)
    lengths = np.clip(lengths, min_len, max_len)
    lengths[ids == 0] = min_len
    lengths[ids == 1] = max_len
    return lengths


def large_string_batch(
    num_rows: int, offset: int = 0, min_len: int = 1 << 10, max_len: int = 1 << 20
) -> pa.RecordBatch:
    """``id`` and ``text`` (string): row ``i`` holds ``large_string_lengths`` ASCII bytes chosen by ``i``."""
    ids = data._ids(num_rows, offset)
    lengths = large_string_lengths(ids, min_len, max_len)
    pool = _ascii_pool(max(_STRING_POOL_SIZE, 2 * max_len))
    starts = (data._mix(ids, 11) % np.uint64(len(pool) - max_len)).astype(np.int64)
    offsets = np.zeros(num_rows + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] >= 1 << 31:
        raise ValueError(f"{offsets[-1]} bytes of strings do not fit one string array; use fewer rows per batch")
    body = np.concatenate([pool[s : s + n] for s, n in zip(starts.tolist(), lengths.tolist())]) if num_rows else b""
    text = pa.Array.from_buffers(
        pa.string(), num_rows, [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(np.asarray(body))]
    )
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("text", pa.string())])
    return pa.RecordBatch.from_arrays([pa.array(ids, pa.int64()), text], schema=schema)


def large_string_batches(total_bytes: int, min_len: int = 1 << 10, max_len: int = 1 << 20) -> Iterator[pa.RecordBatch]:
    """Large-string batches of about 64 MB each until ``total_bytes`` of string data (at least 2 rows)."""
    produced, offset = 0, 0
    mean = (max_len - min_len) / math.log(max_len / min_len) if max_len > min_len else min_len
    most = max(2, int(64 * MB / mean))
    while produced < total_bytes or offset < 2:
        rows = min(most, max(2, math.ceil((total_bytes - produced) / mean)))
        batch = large_string_batch(rows, offset, min_len, max_len)
        produced += batch.nbytes
        offset += rows
        yield batch


def vector_schema(dim: int) -> pa.Schema:
    """``id`` and ``vector``: a float32 vector of ``dim`` components stored as ``fixed_size_binary(4*dim)``."""
    if dim <= 0:
        raise ValueError(f"dim must be > 0, got {dim}")
    return pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("vector", pa.binary(4 * dim))])


_VECTOR_POOL = 1 << 20


def vector_values(ids: np.ndarray, dim: int) -> np.ndarray:
    """The float32 components of the vectors of ``ids`` (shape ``len(ids) x dim``), in [0, 1)."""
    rng = np.random.default_rng(1536)
    pool = rng.random(_VECTOR_POOL + dim, dtype=np.float32)
    starts = (data._mix(ids, 13) % np.uint64(_VECTOR_POOL)).astype(np.int64)
    return np.lib.stride_tricks.sliding_window_view(pool, dim)[starts]


def vector_batch(num_rows: int, dim: int, offset: int = 0) -> pa.RecordBatch:
    """Rows of ``vector_schema(dim)`` (binary vectors, as Milvus stores float vectors)."""
    ids = data._ids(num_rows, offset)
    flat = np.ascontiguousarray(vector_values(ids, dim), dtype="<f4")
    vectors = pa.Array.from_buffers(pa.binary(4 * dim), num_rows, [None, pa.py_buffer(flat)])
    return pa.RecordBatch.from_arrays([pa.array(ids, pa.int64()), vectors], schema=vector_schema(dim))


def field_schema(fields: int) -> pa.Schema:
    """``data.SCHEMA`` plus int64 fields ``f1..f<fields>`` (gradual schema evolution)."""
    return pa.schema(list(data.SCHEMA) + [pa.field(f"f{k}", pa.int64()) for k in range(1, fields + 1)])


def field_values(ids: np.ndarray, k: int) -> pa.Array:
    """Values of field ``f<k>``: ``id * 1000 + k``."""
    return pa.array(ids * 1000 + k, pa.int64())


def gradual_batch(num_rows: int, fields: int, offset: int = 0) -> pa.RecordBatch:
    """Rows of ``field_schema(fields)``: ``data.make_batch`` plus ``field_values`` for each field."""
    base = data.make_batch(num_rows, offset)
    ids = data._ids(num_rows, offset)
    arrays = list(base.columns) + [field_values(ids, k) for k in range(1, fields + 1)]
    return pa.RecordBatch.from_arrays(arrays, schema=field_schema(fields))
