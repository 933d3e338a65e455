"""Reader and ChunkReader: scans, projections, predicates, take and chunk access (ffi_c.h 2.6, 2.7)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from ._ffi import ffi, library
from ._handle import OwnedHandle
from .arrow_c import exported_schema, import_batch, import_batches, import_schema, ptr_int
from .column_groups import ColumnGroups
from .errors import StreamReadError, check
from .properties import as_properties

ESTIMATED_MEMORY = 0x01
NUM_OF_ROWS = 0x02
ALL_METADATA = 0x03

KeyRetriever = Callable[[bytes], bytes | None]


_INT64_MAX = np.iinfo(np.int64).max


def default_parallelism() -> int:
    """Threads a take uses unless told otherwise: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # platforms without sched_getaffinity
        return max(1, os.cpu_count() or 1)


def _int64_array(values: Sequence[int]) -> Any:
    """A C ``int64_t[]`` of ``values`` (keep the result alive for the call).

    Integer arrays and lists of ints go through numpy in one step (a Python loop costs ~12 ms per
    100k indices, a quarter of a 100k-row take); anything else keeps the element-wise ``int()``
    conversion and its errors.
    """
    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if arr.ndim == 1 and arr.dtype.kind in "iu" and arr.size > 0:
        if arr.dtype.kind == "u" and arr.dtype.itemsize >= 8 and int(arr.max()) > _INT64_MAX:
            raise OverflowError(f"index {int(arr.max())} does not fit in int64")
        return ffi.from_buffer("int64_t[]", np.ascontiguousarray(arr, dtype=np.int64))
    return ffi.new("int64_t[]", [int(i) for i in values])


class _Columns:
    """A C array of column names kept alive for one call."""

    def __init__(self, columns: Sequence[str] | None):
        self.names = list(columns) if columns else []
        self._bufs = [ffi.new("char[]", c.encode()) for c in self.names]
        self.ptr = ffi.new("const char*[]", self._bufs) if self._bufs else ffi.NULL

    def __len__(self) -> int:
        return len(self.names)


def _coded_batches(raw: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
    """The batches of an engine stream; a failed read (a damaged data file found mid-scan) raises
    StreamReadError: code 3 like every other engine failure, and still an OSError."""
    with raw:
        while True:
            try:
                batch = raw.read_next_batch()
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as e:
                raise StreamReadError(3, str(e), "ArrowArrayStream.get_next") from None
            yield batch


class Reader(OwnedHandle):
    """Reads a dataset given by its column groups and logical schema.

    ``columns`` is the default projection (None = every schema field, in schema order).
    """

    _destroy_fn = "loon_reader_destroy"

    def __init__(
        self,
        column_groups: ColumnGroups,
        schema: pa.Schema,
        columns: Sequence[str] | None = None,
        properties: Mapping[str, Any] | None = None,
    ):
        if isinstance(columns, Mapping) or hasattr(columns, "as_c"):
            raise TypeError("Reader: columns must be a list of names; pass properties=... by keyword")
        self.column_groups = column_groups
        self.schema = schema
        self.columns = list(columns) if columns else None
        self.properties = as_properties(properties)
        self._key_callback = None
        self._keys: dict[bytes, Any] = {}
        handle = ffi.new("LoonReaderHandle*")
        c_groups = ColumnGroups(column_groups).to_c()
        names = _Columns(self.columns)
        with self.properties.as_c() as c_props, exported_schema(schema) as c_schema:
            check(
                library().loon_reader_new(c_groups.ptr, c_schema, names.ptr, len(names), c_props, handle),
                "loon_reader_new",
            )
        self._handle = handle[0]

    @property
    def handle(self) -> int:
        return self._handle

    def set_key_retriever(self, retriever: KeyRetriever) -> None:
        """Installs ``retriever(key_metadata) -> key bytes or None`` for encrypted files.

        The engine may call it from worker threads; returned keys are kept alive by this reader.
        """

        @ffi.callback("const char*(const char*)")
        def callback(metadata):
            try:
                meta = ffi.string(metadata) if metadata != ffi.NULL else b""
                key = retriever(meta)
                if key is None:
                    return ffi.NULL
                if meta not in self._keys or ffi.string(self._keys[meta]) != key:
                    self._keys[meta] = ffi.new("char[]", key)
                return self._keys[meta]
            except Exception:
                return ffi.NULL

        self._key_callback = callback
        library().loon_reader_set_keyretriever(self._handle, callback)

    def iter_batches(self, predicate: str | None = None) -> pa.RecordBatchReader:
        """A stream of record batches over all rows (optionally filtered by ``predicate``)."""
        stream = ffi.new("struct ArrowArrayStream*")
        c_pred = predicate.encode() if predicate else ffi.NULL
        check(library().loon_get_record_batch_reader(self._handle, c_pred, stream), "loon_get_record_batch_reader")
        raw = pa.RecordBatchReader._import_from_c(ptr_int(stream))
        return pa.RecordBatchReader.from_batches(raw.schema, _coded_batches(raw))

    def scan(self, predicate: str | None = None) -> pa.Table:
        """All rows of the projected columns as one table."""
        return self.iter_batches(predicate).read_all()

    def take(
        self, indices: Sequence[int], columns: Sequence[str] | None = None, parallelism: int | None = None
    ) -> pa.Table:
        """Rows at global ``indices`` (0-based across the dataset), in the order given.

        ``parallelism`` (threads reading at once) defaults to the machine's CPU count; the engine
        uses no more than there are runs of row groups to read.
        """
        if parallelism is None:
            parallelism = default_parallelism()
        idx = _int64_array(indices)
        names = _Columns(columns)
        out_arrays = ffi.new("struct ArrowArray**")
        num_arrays = ffi.new("size_t*")
        c_schema = ffi.new("struct ArrowSchema*")
        check(
            library().loon_take(
                self._handle, idx, len(indices), parallelism, names.ptr, len(names), out_arrays, num_arrays, c_schema
            ),
            "loon_take",
        )
        try:
            schema = import_schema(c_schema) if c_schema.release != ffi.NULL else None
            batches = import_batches(out_arrays[0], num_arrays[0], schema) if schema is not None else []
        finally:
            library().loon_free_chunk_arrays(out_arrays[0], num_arrays[0])
        if schema is None:
            raise RuntimeError("loon_take returned no schema")
        return pa.Table.from_batches(batches, schema=schema)

    def chunk_reader(self, column_group: int, columns: Sequence[str] | None = None) -> ChunkReader:
        """Random access to the chunks of one column group."""
        names = _Columns(columns)
        handle = ffi.new("LoonChunkReaderHandle*")
        check(
            library().loon_get_chunk_reader(self._handle, column_group, names.ptr, len(names), handle),
            "loon_get_chunk_reader",
        )
        return ChunkReader(handle[0], self)


class ChunkReader(OwnedHandle):
    """Chunks of one column group: a Parquet row group intersected with its file's row range."""

    _destroy_fn = "loon_chunk_reader_destroy"

    def __init__(self, handle: int, reader: Reader):
        self._handle = handle
        self._reader = reader  # keeps the key retriever callback alive

    @property
    def handle(self) -> int:
        return self._handle

    @property
    def num_chunks(self) -> int:
        out = ffi.new("uint64_t*")
        check(library().loon_get_number_of_chunks(self._handle, out), "loon_get_number_of_chunks")
        return int(out[0])

    def metadata(self, kinds: int = ALL_METADATA) -> dict[str, list[int]]:
        """Per-chunk ``estimated_memory`` and/or ``num_rows`` lists."""
        out = ffi.new("LoonChunkMetadatas*")
        check(library().loon_get_chunk_metadatas(self._handle, kinds, out), "loon_get_chunk_metadatas")
        try:
            result: dict[str, list[int]] = {}
            for i in range(out.metadatas_size):
                m = out.metadatas[i]
                values = [int(m.data[c].number_of_rows) for c in range(m.number_of_chunks)]
                result["estimated_memory" if m.metadata_type == ESTIMATED_MEMORY else "num_rows"] = values
            return result
        finally:
            library().loon_free_chunk_metadatas(out)

    def chunk_indices(self, row_indices: Sequence[int]) -> list[int]:
        """Distinct chunk numbers holding the given group-local rows, in first-seen order."""
        idx = _int64_array(row_indices)
        out = ffi.new("int64_t**")
        count = ffi.new("size_t*")
        check(
            library().loon_get_chunk_indices(self._handle, idx, len(row_indices), out, count), "loon_get_chunk_indices"
        )
        try:
            return [int(out[0][i]) for i in range(count[0])]
        finally:
            library().loon_free_chunk_indices(out[0])

    def get_chunk(self, index: int) -> pa.RecordBatch:
        c_array = ffi.new("struct ArrowArray*")
        c_schema = ffi.new("struct ArrowSchema*")
        check(library().loon_get_chunk(self._handle, index, c_array, c_schema), "loon_get_chunk")
        return import_batch(c_array, c_schema)

    def get_chunks(self, indices: Sequence[int], parallelism: int = 1) -> list[pa.RecordBatch]:
        """One batch per requested chunk, in request order (duplicates allowed)."""
        idx = _int64_array(indices)
        arrays = ffi.new("struct ArrowArray**")
        count = ffi.new("size_t*")
        c_schema = ffi.new("struct ArrowSchema*")
        check(
            library().loon_get_chunks(self._handle, idx, len(indices), parallelism, arrays, count, c_schema),
            "loon_get_chunks",
        )
        try:
            schema = import_schema(c_schema)
            return import_batches(arrays[0], count[0], schema)
        finally:
            library().loon_free_chunk_arrays(arrays[0], count[0])

    def iter_chunks(self) -> Iterator[pa.RecordBatch]:
        for i in range(self.num_chunks):
            yield self.get_chunk(i)
