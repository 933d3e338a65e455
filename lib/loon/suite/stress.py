"""Stress workloads (seed "Stress Test Design"): large writes, high concurrency, long running.

Sizes come from the seed at ``full`` (100M rows, 10 GB, 100 threads, 1 hour, 10000 appends) and are
scaled down by ``StressScale`` for ``ci`` (about a minute on two cores) and ``smoke`` (seconds):

>>> S = stress_scale("ci")
>>> S.rows(100_000_000), S.bytes(10 * GB), S.threads(100), S.seconds(3600)

Correctness is checked without holding the data twice in memory: ``TableDigest`` is an exact,
chunking-independent SHA-256 of every column (values, string lengths and bytes, null positions), so
the digest of the batches a case generated while writing equals the digest of the batches a scan
returns exactly when the rows read back are the rows written, in the same order. Resource checks
use ``rss_bytes`` and ``open_fds`` (psutil when installed, else ``/proc/self``).

Every workload returns a result object with what it measured; the notebook records throughput
from it and asserts on it. Helpers raise ``AssertionError`` with a message naming what differs.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import math
import os
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..column_groups import ColumnGroups
from ..errors import LoonError
from ..filesystem import Filesystem
from ..reader import Reader
from ..transaction import LATEST, Resolve, Transaction, open_manifest
from ..writer import Writer
from . import data, workloads
from .config import Profile, get_profile

try:  # optional: richer resource numbers and the list of open files in leak messages
    import psutil
except ImportError:  # pragma: no cover - psutil is in requirements.txt, /proc is the fallback
    psutil = None

__all__ = [
    "BASE_OFFSET",
    "GB",
    "MB",
    "SEED",
    "STRESS_SCALES",
    "ContinuousResult",
    "GrowthResult",
    "ResourceMonitor",
    "ScanResult",
    "SnapshotRead",
    "StressScale",
    "TableDigest",
    "WriteResult",
    "assert_bounded_growth",
    "check_snapshots",
    "collector_thread",
    "commit_all",
    "committed_volume",
    "contend",
    "continuous_operation",
    "expect_failure",
    "expected_digest",
    "fd_targets",
    "field_schema",
    "field_values",
    "gc_pressure_worker",
    "gradual_batch",
    "growth_figure",
    "large_string_batch",
    "large_string_batches",
    "large_string_lengths",
    "load_cycle",
    "manifest_growth",
    "manifest_size",
    "open_fds",
    "rate",
    "read_snapshots",
    "release_free_memory",
    "remove_dataset",
    "rss_bytes",
    "scan_stream",
    "show_figure",
    "snapshot_checksum",
    "stress_scale",
    "threaded_rounds",
    "vector_batch",
    "vector_schema",
    "vector_values",
    "version_checksums",
    "wide_batch",
    "wide_schema",
    "write_stream",
]

MB = 1 << 20
GB = 1 << 30


# --------------------------------------------------------------------------------------------
# Scale
# --------------------------------------------------------------------------------------------

# The seed's numbers (integration-test-design.md, "Stress Test Design"); ``full`` runs them as given.
SEED: dict[str, Any] = {
    "row_counts": (1_000_000, 10_000_000, 100_000_000),
    "column_counts": (10, 50, 100, 500),
    "thread_counts": (10, 25, 50, 75, 100),
    "data_bytes": 10 * GB,  # "medium scale (10GB data volume)"
    "vector_dim": 1536,  # 6 KB float32 vectors, ~1.7M rows = 10 GB
    "string_min": 1 << 10,  # large strings: 1 KB ...
    "string_max": 1 << 20,  # ... 1 MB
    "mixed_threads": 100,  # 50 readers + 50 writers
    "contention_threads": 100,
    "duration_s": 3600.0,
    "appends": 10_000,
    "fields": 100,  # gradual evolution: one field every 100 appends, 100 fields
    "appends_per_field": 100,
}


@dataclass(frozen=True)
class StressScale:
    """How much of the seed's stress sizes one profile runs.

    ``data`` scales row counts and byte volumes, ``time`` durations, ``count`` the number of appends
    and fields; ``max_threads`` caps thread counts (the seed's counts are used up to it).
    """

    profile: str
    data: float
    time: float
    count: float
    max_threads: int

    def rows(self, seed_rows: int) -> int:
        """``seed_rows`` scaled (at least 1)."""
        return max(1, int(round(seed_rows * self.data)))

    def bytes(self, seed_bytes: int) -> int:
        """``seed_bytes`` scaled (at least 64 KiB)."""
        return max(64 << 10, int(seed_bytes * self.data))

    def seconds(self, seed_seconds: float) -> float:
        return max(0.5, seed_seconds * self.time)

    def count_of(self, seed_count: int, minimum: int = 2) -> int:
        """A seed count of appends/fields scaled (at least ``minimum``)."""
        return max(minimum, int(round(seed_count * self.count)))

    def threads(self, seed_threads: int) -> int:
        return max(1, min(seed_threads, self.max_threads))

    def describe(self, seed_value: int | float, actual: int | float, unit: str) -> str:
        """A note such as ``"100,000 rows (seed: 100,000,000 rows, scaled for profile ci)"``; the value alone
        when it is the seed's."""
        if actual == seed_value:
            return f"{actual:,} {unit}"
        return f"{actual:,} {unit} (seed: {seed_value:,} {unit}, scaled for profile {self.profile})"


STRESS_SCALES: dict[str, StressScale] = {
    # seconds for the whole notebook
    "smoke": StressScale("smoke", data=1e-4, time=1 / 3600, count=0.01, max_threads=10),
    # about two minutes on two cores; the seed's thread counts run unchanged
    "ci": StressScale("ci", data=1e-2, time=10 / 3600, count=0.05, max_threads=100),
    # the seed: 100M rows, 10 GB, 100 threads, 1 hour, 10000 appends
    "full": StressScale("full", data=1.0, time=1.0, count=1.0, max_threads=100),
}


def stress_scale(profile: str | Profile) -> StressScale:
    """The stress scale of a run profile (``smoke``, ``ci`` or ``full``)."""
    name = get_profile(profile).name
    try:
        return STRESS_SCALES[name]
    except KeyError:
        raise ValueError(f"no stress scale for profile {name!r}; known: {', '.join(STRESS_SCALES)}") from None


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


# --------------------------------------------------------------------------------------------
# Streaming write and scan
# --------------------------------------------------------------------------------------------


@dataclass
class WriteResult:
    """What ``write_stream`` wrote: column groups, digest of the batches, and the writer's own time."""

    groups: ColumnGroups
    digest: TableDigest
    rows: int
    bytes: int
    seconds: float
    version: int | None = None
    commit_seconds: float = 0.0


@dataclass
class ScanResult:
    """What ``scan_stream`` read: digest, rows, in-memory bytes, scan time and the version read."""

    digest: TableDigest
    rows: int
    bytes: int
    seconds: float
    version: int


def write_stream(
    base_path: str,
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    properties: Mapping[str, Any],
    commit: bool = True,
    resolve: Resolve | int = Resolve.FAIL,
    retry_limit: int = 1,
) -> WriteResult:
    """Writes ``batches`` through one Writer (and commits them as an append unless ``commit=False``).

    The batches are consumed one at a time (a generator never has to fit in memory); their digest is
    computed on the way. ``seconds`` counts only the Writer's calls (write and close), not the
    generation or hashing of the batches.
    """
    digest = TableDigest()
    rows = nbytes = 0
    seconds = 0.0
    with Writer(base_path, schema, properties) as writer:
        for batch in batches:
            start = time.perf_counter()
            writer.write(batch)
            seconds += time.perf_counter() - start
            digest.update(batch)
            rows += batch.num_rows
            nbytes += batch.nbytes
        start = time.perf_counter()
        groups = writer.close()
        seconds += time.perf_counter() - start
    result = WriteResult(groups, digest, rows, nbytes, seconds)
    if commit:
        start = time.perf_counter()
        with Transaction(base_path, properties, resolve=resolve, retry_limit=retry_limit) as txn:
            txn.append_files(groups)
        result.version = txn.committed_version
        result.commit_seconds = time.perf_counter() - start
    return result


def scan_stream(
    base_path: str,
    schema: pa.Schema,
    properties: Mapping[str, Any],
    version: int = LATEST,
    columns: Sequence[str] | None = None,
    groups: ColumnGroups | None = None,
) -> ScanResult:
    """Scans ``version`` (or the given ``groups``) batch by batch into a digest; times only the scan.

    ``ScanResult.version`` is the version read (``LATEST`` when ``groups`` are given).
    """
    if groups is None:
        version, manifest = open_manifest(base_path, properties, version)
        groups = manifest.column_groups
    digest = TableDigest()
    rows = nbytes = 0
    seconds = 0.0
    with Reader(groups, schema, columns, properties) as reader:
        start = time.perf_counter()
        stream = reader.iter_batches()
        seconds += time.perf_counter() - start
        try:
            while True:
                start = time.perf_counter()
                try:
                    batch = stream.read_next_batch()
                except StopIteration:
                    seconds += time.perf_counter() - start
                    break
                seconds += time.perf_counter() - start
                digest.update(batch)
                rows += batch.num_rows
                nbytes += batch.nbytes
        finally:
            stream.close()  # release the engine's stream before its reader
    return ScanResult(digest, rows, nbytes, seconds, version)


# --------------------------------------------------------------------------------------------
# Resources: RSS, file descriptors
# --------------------------------------------------------------------------------------------


def rss_bytes() -> int:
    """Resident set size of this process in bytes."""
    if psutil is not None:
        return int(psutil.Process().memory_info().rss)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def open_fds() -> int:
    """Number of open file descriptors of this process."""
    if psutil is not None:
        return int(psutil.Process().num_fds())
    return len(os.listdir("/proc/self/fd")) - 1  # minus the descriptor listdir itself held


def fd_targets() -> dict[int, str]:
    """Open descriptor -> what it points at (``readlink`` of ``/proc/self/fd/<n>``)."""
    out = {}
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            out[int(name)] = os.readlink(f"/proc/self/fd/{name}")
    return out


_libc: Any = None


def release_free_memory() -> None:
    """Returns memory the allocators hold but nobody uses to the OS, so RSS measures live memory.

    Arrow's pool (``release_unused``) and glibc's ``malloc_trim(0)``: with many threads, glibc keeps a
    heap arena per concurrent thread and RSS then reflects the peak concurrency, not a leak. Memory
    still referenced (a real leak) cannot be released and stays in RSS.
    """
    global _libc
    pa.default_memory_pool().release_unused()
    if _libc is None:
        import ctypes
        import ctypes.util

        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        except OSError:
            _libc = False
    trim = getattr(_libc, "malloc_trim", None) if _libc else None
    if trim is not None:
        trim(0)


def _settle(memory: bool = True) -> None:
    """Lets finalisers run (and, for memory samples, allocators release free memory), so samples
    reflect live objects only."""
    gc.collect()
    if memory:
        release_free_memory()


@dataclass
class ResourceMonitor:
    """Samples RSS, open descriptors and traced Python memory; ``baseline()`` marks the reference."""

    trace_python: bool = False
    rss: list[int] = field(default_factory=list)
    fds: list[int] = field(default_factory=list)
    python: list[int] = field(default_factory=list)
    base_fds: dict[int, str] = field(default_factory=dict)
    _started_trace: bool = False

    def __enter__(self) -> ResourceMonitor:
        if self.trace_python and not tracemalloc.is_tracing():
            tracemalloc.start()
            self._started_trace = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._started_trace:
            tracemalloc.stop()
            self._started_trace = False

    def baseline(self) -> None:
        """Clears the samples and records the reference sample (after warm-up)."""
        self.rss.clear()
        self.fds.clear()
        self.python.clear()
        _settle()
        self.base_fds = fd_targets()
        self.sample(settle=False)

    def sample(self, settle: bool = True) -> None:
        if settle:
            _settle()
        self.rss.append(rss_bytes())
        self.fds.append(open_fds())
        if tracemalloc.is_tracing():
            self.python.append(tracemalloc.get_traced_memory()[0])

    def leaked_fds(self) -> dict[int, str]:
        """Descriptors open now that were not open at ``baseline()``."""
        _settle(memory=False)
        now = fd_targets()
        return {fd: target for fd, target in now.items() if self.base_fds.get(fd) != target}

    def assert_no_fd_leak(self, tolerance: int = 0) -> None:
        """Open descriptors now <= baseline + ``tolerance``; the message lists the new ones."""
        _settle(memory=False)
        now = open_fds()
        base = self.fds[0] if self.fds else now
        if now > base + tolerance:
            leaked = self.leaked_fds()
            shown = ", ".join(f"{fd}->{t}" for fd, t in sorted(leaked.items())[:10])
            raise AssertionError(f"file descriptors leaked: {base} at baseline, {now} now; new: {shown}")

    def rss_growth(self) -> int:
        return (max(self.rss) - self.rss[0]) if self.rss else 0

    def summary(self) -> str:
        if not self.rss:
            return "no samples"
        text = (
            f"RSS {self.rss[0] / MB:.0f} -> {self.rss[-1] / MB:.0f} MiB (peak {max(self.rss) / MB:.0f}), "
            f"fds {self.fds[0]} -> {self.fds[-1]}"
        )
        if self.python:
            text += f", Python heap {self.python[0] / MB:.1f} -> {self.python[-1] / MB:.1f} MiB"
        return text


def assert_bounded_growth(samples: Sequence[int], limit: int, what: str = "RSS") -> None:
    """The samples never rise more than ``limit`` above the first one, and do not keep climbing.

    "Keep climbing": with 6+ samples, the mean of the last third may exceed the mean of the middle
    third by at most ``limit / 2`` — a steady leak grows both the peak and the tail.
    """
    if not samples:
        raise ValueError("assert_bounded_growth: no samples")
    growth = max(samples) - samples[0]
    if growth > limit:
        raise AssertionError(
            f"{what} grew by {growth / MB:.1f} MiB (limit {limit / MB:.1f} MiB): "
            f"{[round(s / MB, 1) for s in samples]} MiB"
        )
    if len(samples) >= 6:
        third = len(samples) // 3
        middle = sum(samples[third : 2 * third]) / third
        tail = sum(samples[-third:]) / third
        if tail - middle > limit / 2:
            raise AssertionError(
                f"{what} keeps growing: mean {middle / MB:.1f} MiB in the middle third, {tail / MB:.1f} MiB "
                f"in the last (limit {limit / 2 / MB:.1f} MiB): {[round(s / MB, 1) for s in samples]} MiB"
            )


# --------------------------------------------------------------------------------------------
# Concurrency
# --------------------------------------------------------------------------------------------


# Ids of a case's first ("base") rows: far above every committer's ``workloads.id_base`` range.
BASE_OFFSET = workloads.id_base(5_000, 0)


def expected_digest(
    outcomes: Sequence[workloads.CommitOutcome], base_rows: int = 0, base_offset: int = BASE_OFFSET
) -> TableDigest:
    """Digest of ``base_rows`` rows from ``base_offset`` followed by the rows of every successful commit
    in version order (what ``workloads.expected_table`` holds, without building the table)."""
    digest = TableDigest()
    if base_rows:
        digest.update_all(data.batches(base_rows, offset=base_offset))
    for o in sorted((o for o in outcomes if o.ok), key=lambda o: o.version or 0):
        digest.update_all(data.batches(o.num_rows, offset=o.first_id))
    if digest.schema is None:
        digest.update(data.SCHEMA.empty_table())
    return digest


def committed_volume(outcomes: Sequence[workloads.CommitOutcome]) -> tuple[int, int]:
    """In-memory bytes and rows of the successful commits' batches (for throughput records)."""
    ok = [o for o in outcomes if o.ok]
    return sum(data.make_batch(o.num_rows, o.first_id).nbytes for o in ok), sum(o.num_rows for o in ok)


def snapshot_checksum(ids: np.ndarray) -> tuple[int, int, int]:
    """Order-independent checksum of a set of ids: count, sum, and the sum of their splitmix64 hashes (mod 2^64)."""
    ids = np.asarray(ids, dtype=np.int64)
    with np.errstate(over="ignore"):
        mixed = int(np.sum(data._mix(ids, 99), dtype=np.uint64)) if len(ids) else 0
    return len(ids), int(ids.sum(dtype=np.int64)) if len(ids) else 0, mixed


def _add_checksums(a: tuple[int, int, int], b: tuple[int, int, int]) -> tuple[int, int, int]:
    return a[0] + b[0], a[1] + b[1], (a[2] + b[2]) % (1 << 64)


def version_checksums(
    outcomes: Sequence[workloads.CommitOutcome], base_version: int, base_ids: np.ndarray
) -> dict[int, tuple[int, int, int]]:
    """Version -> the id checksum the dataset must have there: base rows plus every commit up to it."""
    current = snapshot_checksum(base_ids)
    out = {base_version: current}
    for o in sorted((o for o in outcomes if o.ok), key=lambda o: o.version or 0):
        ids = np.arange(o.first_id, o.first_id + o.num_rows, dtype=np.int64)
        current = _add_checksums(current, snapshot_checksum(ids))
        out[int(o.version)] = current
    return out


@dataclass
class SnapshotRead:
    """One read of the latest version by a reader thread."""

    version: int
    checksum: tuple[int, int, int]
    seconds: float


def read_snapshots(
    base_path: str,
    properties: Mapping[str, Any],
    stop: threading.Event,
    min_reads: int = 1,
) -> tuple[list[SnapshotRead], list[str]]:
    """Reads the latest version's ids until ``stop`` is set (at least ``min_reads`` times).

    Returns the reads and the error messages of failed reads (a consistent engine has none).
    """
    reads: list[SnapshotRead] = []
    errors: list[str] = []
    while not stop.is_set() or len(reads) + len(errors) < min_reads:
        start = time.perf_counter()
        try:
            version, manifest = open_manifest(base_path, properties)
            with Reader(manifest.column_groups, data.SCHEMA, ["id"], properties) as reader:
                ids = reader.scan().column("id").to_numpy()
            reads.append(SnapshotRead(version, snapshot_checksum(ids), time.perf_counter() - start))
        except LoonError as exc:
            errors.append(str(exc))
    return reads, errors


def check_snapshots(reads: Sequence[SnapshotRead], expected: Mapping[int, tuple[int, int, int]]) -> int:
    """Every read saw exactly the rows of its version (no partial or lost commit); versions never go
    backwards within one reader. Returns the number of distinct versions seen."""
    previous = -1
    for r in reads:
        assert r.version in expected, (
            f"read version {r.version} that no commit produced (known {sorted(expected)[:5]}...)"
        )
        assert r.checksum == expected[r.version], (
            f"version {r.version}: read ids {r.checksum} != committed {expected[r.version]} (count, sum, hash)"
        )
        assert r.version >= previous, f"a reader went back from version {previous} to {r.version}"
        previous = r.version
    return len({r.version for r in reads})


def commit_all(
    base_path: str,
    properties: Mapping[str, Any],
    threads: int,
    commits: int,
    rows: int,
    resolve: Resolve | int = Resolve.MERGE,
) -> tuple[list[workloads.CommitOutcome], float]:
    """``threads`` committers with ``commits`` appends of ``rows`` each, started together.

    With MERGE the retry limit is the total number of commits: each lost race means another commit
    was published, so no commit can exhaust it — every commit must succeed.
    """
    total = threads * commits
    return workloads.run_concurrent(base_path, properties, threads, commits, rows, resolve, retry_limit=total)


# --------------------------------------------------------------------------------------------
# Long running
# --------------------------------------------------------------------------------------------


@dataclass
class GrowthResult:
    """Per-append manifest size and commit latency of ``manifest_growth``."""

    sizes: list[int]
    commit_seconds: list[float]
    rows_per_append: int
    write_seconds: float
    bytes_written: int

    @property
    def appends(self) -> int:
        return len(self.sizes)

    def increments(self) -> list[int]:
        return [b - a for a, b in zip(self.sizes, self.sizes[1:])]

    def decile_latency(self) -> tuple[float, float]:
        """Mean commit seconds of the first and of the last tenth of the appends."""
        n = max(1, len(self.commit_seconds) // 10)
        return sum(self.commit_seconds[:n]) / n, sum(self.commit_seconds[-n:]) / n

    def check(self, slack_s: float = 0.05) -> None:
        """Manifest size grows linearly (constant bytes per append) and commit time at most linearly
        with it: the last tenth's latency per manifest byte is at most twice the first tenth's, plus
        ``slack_s`` for scheduling noise on a loaded machine."""
        inc = self.increments()
        if inc:
            median = sorted(inc)[len(inc) // 2]
            assert min(inc) > 0, f"a manifest did not grow after an append: increments {sorted(set(inc))[:5]}"
            assert max(inc) <= 2 * median + 512, (
                f"manifest growth per append is not constant: median {median} B, max {max(inc)} B"
            )
        first, last = self.decile_latency()
        n = max(1, len(self.sizes) // 10)
        size_first = sum(self.sizes[:n]) / n
        size_last = sum(self.sizes[-n:]) / n
        bound = 2 * first * size_last / size_first + slack_s
        assert last <= bound, (
            f"commit latency grew faster than the manifest: {first * 1000:.1f} ms at {size_first / 1000:.1f} kB, "
            f"{last * 1000:.1f} ms at {size_last / 1000:.1f} kB (bound {bound * 1000:.1f} ms)"
        )


def manifest_size(fs: Filesystem, base_path: str, version: int) -> int:
    return fs.file_size(f"{base_path}/_metadata/manifest-{version}.avro")


def manifest_growth(base_path: str, properties: Mapping[str, Any], appends: int, rows: int) -> GrowthResult:
    """``appends`` sequential appends of ``rows`` rows (ids ``k*rows ..``); records each manifest's size
    and each commit's time. Versions must come out as 1..appends."""
    sizes: list[int] = []
    latencies: list[float] = []
    write_seconds = 0.0
    nbytes = 0
    with Filesystem(properties) as fs:
        for k in range(appends):
            batch = data.make_batch(rows, offset=k * rows)
            start = time.perf_counter()
            with Writer(base_path, data.SCHEMA, properties) as writer:
                writer.write(batch)
            groups = writer.column_groups
            write_seconds += time.perf_counter() - start
            nbytes += batch.nbytes
            start = time.perf_counter()
            with Transaction(base_path, properties) as txn:
                txn.append_files(groups)
            latencies.append(time.perf_counter() - start)
            assert txn.committed_version == k + 1, f"append {k + 1} committed version {txn.committed_version}"
            sizes.append(manifest_size(fs, base_path, k + 1))
    return GrowthResult(sizes, latencies, rows, write_seconds, nbytes)


@dataclass
class ContinuousResult:
    """Counters of ``continuous_operation``."""

    iterations: int = 0
    datasets: int = 0
    rows_written: int = 0
    bytes_written: int = 0
    rows_read: int = 0
    bytes_read: int = 0
    write_seconds: float = 0.0
    read_seconds: float = 0.0
    full_checks: int = 0
    seconds: float = 0.0


def continuous_operation(
    dataset_path: Callable[[int], str],
    properties: Mapping[str, Any],
    seconds: float,
    rows_per_append: int,
    appends_per_dataset: int,
    monitor: ResourceMonitor | None = None,
    on_dataset_done: Callable[[str], None] | None = None,
) -> ContinuousResult:
    """Loops append -> read back the new rows -> (every ``appends_per_dataset``) verify the whole dataset,
    until ``seconds`` have passed; then moves on to a fresh dataset (``dataset_path(i)``) so the manifest
    stays bounded however long it runs. Samples ``monitor`` after every dataset.

    Every append is read back by value through a Reader over its own files, and every finished dataset
    is compared by digest with all rows appended to it.
    """
    result = ContinuousResult()
    deadline = time.perf_counter() + seconds
    start_all = time.perf_counter()
    while result.iterations == 0 or time.perf_counter() < deadline:
        path = dataset_path(result.datasets)
        expected = TableDigest()
        for k in range(appends_per_dataset):
            batch = data.make_batch(rows_per_append, offset=k * rows_per_append)
            written = write_stream(path, data.SCHEMA, [batch], properties)
            assert written.version == k + 1, f"{path}: append {k + 1} committed version {written.version}"
            result.write_seconds += written.seconds + written.commit_seconds
            expected.update(batch)
            read = scan_stream(path, data.SCHEMA, properties, groups=written.groups)
            read.digest.assert_equals(written.digest, f"{path}: rows of append {k + 1}")
            result.read_seconds += read.seconds
            result.iterations += 1
            result.rows_written += batch.num_rows
            result.bytes_written += batch.nbytes
            result.rows_read += read.rows
            result.bytes_read += read.bytes
            if time.perf_counter() >= deadline:
                break
        full = scan_stream(path, data.SCHEMA, properties)
        full.digest.assert_equals(expected, f"{path}: whole dataset at version {full.version}")
        result.full_checks += 1
        result.rows_read += full.rows
        result.bytes_read += full.bytes
        result.read_seconds += full.seconds
        result.datasets += 1
        if on_dataset_done is not None:
            on_dataset_done(path)
        if monitor is not None:
            monitor.sample()
    result.seconds = time.perf_counter() - start_all
    return result


# --------------------------------------------------------------------------------------------
# Contention
# --------------------------------------------------------------------------------------------


def contend(
    base_path: str,
    properties: Mapping[str, Any],
    threads: int,
    rows: int,
    read_version: int,
    resolve: Resolve | int,
    retry_limit: int,
    round_no: int = 0,
) -> tuple[list[workloads.CommitOutcome], float]:
    """``threads`` transactions that all begin at ``read_version`` and commit an append together.

    Committer ``i`` uses ids of ``workloads.id_base(i, round_no)``; outcomes carry versions or codes.
    """
    jobs = [
        (
            lambda i=i: workloads.append_rows(
                base_path, properties, i, round_no, rows, resolve, retry_limit, read_version=read_version
            )
        )
        for i in range(threads)
    ]
    return workloads.run_threads(jobs)


def threaded_rounds(
    job: Callable[[int, int], Any], threads: int, rounds: int, monitor: ResourceMonitor, warmup: int = 1
) -> tuple[list[Any], float]:
    """Runs ``job(round, thread)`` in ``threads`` threads (started together), ``warmup + rounds`` times.

    The monitor's baseline is taken after the warm-up rounds, which run the same load: allocators
    and thread arenas reach their working size there, so growth across the measured rounds is what
    the load keeps, not what a first run of it needs. Returns every job's result (all rounds, in
    order) and the wall time of the measured rounds.
    """
    results: list[Any] = []
    seconds = 0.0
    for r in range(warmup + rounds):
        if r == warmup:
            monitor.baseline()
        out, elapsed = workloads.run_threads([functools.partial(job, r, i) for i in range(threads)])
        results.extend(out)
        if r >= warmup:
            seconds += elapsed
            monitor.sample()
    return results, seconds


# --------------------------------------------------------------------------------------------
# Resource cleanup and GC pressure
# --------------------------------------------------------------------------------------------


def remove_dataset(properties: Mapping[str, Any], path: str) -> int:
    """Deletes every file under ``path`` through the engine's filesystem; returns how many."""
    with Filesystem(properties) as fs:
        return fs.remove_files(path)


def expect_failure(call: Callable[[], Any], codes: Sequence[int]) -> int:
    """Runs ``call``, which must fail with one of ``codes``; returns the code."""
    try:
        call()
    except LoonError as exc:
        assert exc.code in codes, f"expected code {list(codes)}, got {exc.code}: {exc}"
        return exc.code
    raise AssertionError(f"call succeeded, expected a failure with code {list(codes)}")


def load_cycle(
    base_path: str,
    properties: Mapping[str, Any],
    committer: int,
    cycles: int,
    rows: int,
    retry_limit: int,
    resolve: Resolve | int = Resolve.MERGE,
) -> list[workloads.CommitOutcome]:
    """One thread of ``test_resource_cleanup_under_load``: ``cycles`` rounds of every handle kind.

    Each round appends ``rows`` rows (``resolve``: MERGE for concurrent callers), reads the latest
    version and finds its own ids there, reads a chunk, and runs calls that must fail (a version that
    does not exist, a missing file, an aborted transaction), so error paths release what they opened.
    """
    outcomes = []
    for c in range(cycles):
        outcome = workloads.append_rows(base_path, properties, committer, c, rows, resolve, retry_limit)
        outcomes.append(outcome)
        if not outcome.ok:
            continue
        version, manifest = open_manifest(base_path, properties)
        assert version >= outcome.version, f"latest version {version} < committed {outcome.version}"
        with Reader(manifest.column_groups, data.SCHEMA, ["id"], properties) as reader:
            ids = reader.scan().column("id").to_numpy()
            mine = np.count_nonzero((ids >= outcome.first_id) & (ids < outcome.first_id + rows))
            assert mine == rows, f"committer {committer}: {mine} of its {rows} rows in version {version}"
            with reader.chunk_reader(0) as chunks:
                assert chunks.get_chunk(0).num_rows > 0
        expect_failure(lambda v=version: open_manifest(base_path, properties, v + 1_000_000), (3, 4, 12))
        with Filesystem(properties) as fs:
            expect_failure(lambda fs=fs: fs.read_all(f"{base_path}/_data/missing-{committer}.parquet"), (3, 12))
        Transaction(base_path, properties).abort()
    return outcomes


def gc_pressure_worker(
    base_path: str, properties: Mapping[str, Any], committer: int, cycles: int, rows: int, retry_limit: int
) -> list[workloads.CommitOutcome]:
    """One thread of ``test_stress_with_gc_pressure``: each cycle leaves engine handles to the collector.

    A writer with written but unclosed data, a reader and an uncommitted transaction are dropped
    inside reference cycles (only the cyclic GC frees them, from whichever thread it runs in), many
    short-lived Arrow batches are created and exported, and one real append is committed (MERGE).
    """
    outcomes = []
    for c in range(cycles):
        garbage: dict[str, Any] = {}
        garbage["self"] = garbage
        garbage["writer"] = Writer(base_path, data.SCHEMA, properties)
        garbage["writer"].write(data.make_batch(rows, offset=workloads.id_base(committer, c) + rows))
        garbage["txn"] = Transaction(base_path, properties) if c > 0 or committer > 0 else None
        outcome = workloads.append_rows(base_path, properties, committer, c, rows, Resolve.MERGE, retry_limit)
        outcomes.append(outcome)
        if outcome.ok:
            _, manifest = open_manifest(base_path, properties)
            reader = Reader(manifest.column_groups, data.SCHEMA, ["id"], properties)
            garbage["reader"] = reader
            garbage["batches"] = [reader.take([0]) for _ in range(3)] + [data.make_batch(16, k) for k in range(20)]
        del garbage
    return outcomes


@contextlib.contextmanager
def collector_thread(interval: float = 0.001, threshold: tuple[int, int, int] = (50, 3, 3)) -> Iterator[dict[str, int]]:
    """Frequent garbage collection for the duration of the block: a low GC threshold plus a thread
    collecting every ``interval`` seconds (generations 0-1, every 20th time all). Yields counters
    (``collections``)."""
    old = gc.get_threshold()
    stop = threading.Event()
    counters = {"collections": 0}

    def loop() -> None:
        while not stop.is_set():
            # Young generations hold the dropped handles; a full collection every 20th round.
            gc.collect(2 if counters["collections"] % 20 == 0 else 1)
            counters["collections"] += 1
            time.sleep(interval)

    gc.set_threshold(*threshold)
    thread = threading.Thread(target=loop, name="gc-pressure", daemon=True)
    thread.start()
    try:
        yield counters
    finally:
        stop.set()
        thread.join()
        gc.set_threshold(*old)


# --------------------------------------------------------------------------------------------
# Reporting helpers
# --------------------------------------------------------------------------------------------


def rate(nbytes: int, rows: int, seconds: float) -> str:
    """``"123.4 MB/s, 5,678,901 rows/s"`` (MB = 10^6 bytes, as in the throughput table)."""
    if seconds <= 0:
        return "not timed"
    return f"{nbytes / 1e6 / seconds:.1f} MB/s, {rows / seconds:,.0f} rows/s"


def growth_figure(result: GrowthResult) -> Any:
    """Manifest size (kB) and commit latency (ms) per version, one axis each."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 3.2), layout="constrained")
    FigureCanvasAgg(fig)
    size_ax = fig.add_subplot()
    versions = list(range(1, result.appends + 1))
    size_ax.plot(versions, [s / 1000 for s in result.sizes], color="tab:blue", label="manifest kB")
    size_ax.set_xlabel("version")
    size_ax.set_ylabel("manifest size (kB)", color="tab:blue")
    latency_ax = size_ax.twinx()
    latency_ax.plot(versions, [s * 1000 for s in result.commit_seconds], color="tab:orange", lw=0.6)
    latency_ax.set_ylabel("commit (ms)", color="tab:orange")
    size_ax.set_title(f"manifest growth over {result.appends:,} appends")
    return fig


def show_figure(fig: Any, text: str) -> None:
    """Shows a matplotlib figure inline (``image/png``) with ``text`` as its plain-text form."""
    import base64

    from .cases import publish_bundle
    from .plots import figure_png

    publish_bundle({"image/png": base64.b64encode(figure_png(fig)).decode("ascii"), "text/plain": text})
