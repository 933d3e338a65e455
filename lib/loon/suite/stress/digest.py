"""TableDigest: an exact, chunking-independent SHA-256 of rows, to check large data without holding it twice."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# --------------------------------------------------------------------------------------------
# TableDigest: an exact, chunking-independent checksum of rows
# --------------------------------------------------------------------------------------------


class TableDigest:
    """SHA-256 of every column of a stream of batches, independent of how rows are split into batches.

    Each column feeds separate streams: fixed-width values (nulls zeroed), element lengths and bytes of
    strings/binaries, list lengths and flattened items, and the global positions of nulls. Two
    digests are equal when both saw the same column names, types, row count and values in the same
    row order.
    """

    def __init__(self) -> None:
        self.num_rows = 0
        self.schema: pa.Schema | None = None
        # column -> stream key within the column (e.g. "", "#len", "[]#nulls", ".x") -> hash
        self._streams: dict[str, dict[str, Any]] = {}
        self._counts: dict[tuple[str, str], int] = {}

    def _feed(self, column: str, key: str, payload: Any) -> None:
        streams = self._streams.setdefault(column, {})
        stream = streams.get(key)
        if stream is None:
            stream = streams[key] = hashlib.sha256()
        stream.update(payload)

    def _array(self, column: str, path: str, arr: pa.Array) -> None:
        """Feeds ``arr``, the part ``path`` ("" for the column itself) of column ``column``."""
        start = self._counts.get((column, path), 0)
        self._counts[(column, path)] = start + len(arr)
        t = arr.type
        if pa.types.is_dictionary(t):
            arr = arr.dictionary_decode()
            t = arr.type
        if arr.null_count:
            positions = np.flatnonzero(~arr.is_valid().to_numpy(zero_copy_only=False)).astype(np.int64) + start
            self._feed(column, path + "#nulls", positions.tobytes())
        if pa.types.is_null(t):
            return
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
            if arr.null_count:
                arr = arr.fill_null(pa.scalar(b"" if pa.types.is_binary(t) or pa.types.is_large_binary(t) else "", t))
            width = np.int64 if pa.types.is_large_string(t) or pa.types.is_large_binary(t) else np.int32
            offsets = np.frombuffer(arr.buffers()[1], dtype=width)[arr.offset : arr.offset + len(arr) + 1]
            self._feed(column, path + "#len", np.diff(offsets).astype(np.int64).tobytes())
            data_buffer = arr.buffers()[2]
            if data_buffer is not None and offsets[-1] > offsets[0]:
                self._feed(column, path + "#bytes", memoryview(data_buffer)[int(offsets[0]) : int(offsets[-1])])
            return
        if pa.types.is_fixed_size_binary(t):
            width = t.byte_width
            if arr.null_count:
                arr = arr.fill_null(pa.scalar(b"\0" * width, t))
            buffer = arr.buffers()[1]
            self._feed(column, path, memoryview(buffer)[arr.offset * width : (arr.offset + len(arr)) * width])
            return
        if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
            lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False)
            self._feed(column, path + "#len", lengths.astype(np.int64).tobytes())
            self._array(column, path + "[]", pc.list_flatten(arr))
            return
        if pa.types.is_struct(t):
            for i, child in enumerate(arr.flatten()):
                self._array(column, f"{path}.{i}", child)
            return
        if pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_temporal(t):
            if arr.null_count:
                zero = False if pa.types.is_boolean(t) else 0
                arr = arr.fill_null(pa.scalar(zero, t) if not pa.types.is_temporal(t) else pa.scalar(0, t))
            self._feed(column, path, np.ascontiguousarray(arr.to_numpy(zero_copy_only=False)).tobytes())
            return
        raise TypeError(f"TableDigest: column {column!r}{' part ' + path if path else ''} has unsupported type {t}")

    def update(self, batch: pa.RecordBatch | pa.Table) -> TableDigest:
        """Adds the rows of ``batch`` (a record batch or a table); returns self."""
        if self.schema is None:
            if len(set(batch.schema.names)) != len(batch.schema.names):
                raise ValueError(f"TableDigest: duplicate column names in {batch.schema.names}")
            self.schema = batch.schema
        elif batch.schema.names != self.schema.names or batch.schema.types != self.schema.types:
            raise ValueError(f"TableDigest: schema changed from {self.schema} to {batch.schema}")
        for name, column in zip(batch.schema.names, batch.columns):
            for chunk in column.chunks if isinstance(column, pa.ChunkedArray) else [column]:
                self._array(name, "", chunk)
        self.num_rows += batch.num_rows
        return self

    def update_all(self, batches: Iterable[pa.RecordBatch | pa.Table]) -> TableDigest:
        for batch in batches:
            self.update(batch)
        return self

    def columns(self) -> dict[str, str]:
        """Per-column hex digests (a column's streams combined), for messages naming what differs."""
        names = self.schema.names if self.schema is not None else []
        out = {}
        for name in names:
            h = hashlib.sha256(str(self.schema.field(name).type).encode())
            streams = self._streams.get(name, {})
            for key in sorted(streams):
                h.update(key.encode() + b"\0" + streams[key].digest())
            out[name] = h.hexdigest()
        return out

    def hexdigest(self) -> str:
        h = hashlib.sha256(str(self.num_rows).encode())
        for name, digest in self.columns().items():
            h.update(name.encode() + b"=" + digest.encode())
        return h.hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TableDigest) and self.hexdigest() == other.hexdigest()

    def __hash__(self) -> int:  # digests are mutable accumulators; hash by current value
        return hash(self.hexdigest())

    def difference(self, expected: TableDigest) -> str:
        """Empty when equal, else what differs (rows, column names, or the columns whose data differ)."""
        if self == expected:
            return ""
        if self.num_rows != expected.num_rows:
            return f"row count {self.num_rows:,} != expected {expected.num_rows:,}"
        mine, theirs = self.columns(), expected.columns()
        if list(mine) != list(theirs):
            return f"columns {list(mine)} != expected {list(theirs)}"
        differing = [name for name in mine if mine[name] != theirs[name]]
        return f"data differs in columns {differing}"

    def assert_equals(self, expected: TableDigest, what: str = "data read back") -> None:
        diff = self.difference(expected)
        if diff:
            raise AssertionError(f"{what} differs from the data written: {diff}")

    @classmethod
    def of(cls, batches: Iterable[pa.RecordBatch | pa.Table]) -> TableDigest:
        return cls().update_all(batches)
