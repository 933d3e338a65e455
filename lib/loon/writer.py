"""Writer: record batches in, column groups out (ffi_c.h 2.5 writer). Nothing is committed here."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from . import _exit
from ._ffi import ffi, library
from ._handle import FinishedHandle
from .arrow_c import exported_batch, exported_schema
from .column_groups import ColumnGroups
from .errors import check
from .properties import as_properties


class Writer(FinishedHandle):
    """Writes batches under ``base_path`` and returns the resulting column groups on close.

    Use as a context manager: a clean exit closes the writer (the groups are in
    ``writer.column_groups``); an exception destroys it, leaving orphan files no manifest refers to.

    >>> with Writer("ds", schema, {"writer.file_rolling.size": 1 << 20}) as w:
    ...     w.write(batch)
    >>> groups = w.column_groups
    """

    _destroy_fn = "loon_writer_destroy"

    def __init__(self, base_path: str, schema: pa.Schema, properties: Mapping[str, Any] | None = None):
        self.base_path = base_path
        self.schema = schema
        self.properties = as_properties(properties)
        self.column_groups: ColumnGroups | None = None
        self.bytes_written = 0
        self.rows_written = 0
        self.call_lock = threading.RLock()  # held by every engine call: the exit hook never destroys mid-call
        handle = ffi.new("LoonWriterHandle*")
        with self.properties.as_c() as c_props, exported_schema(schema) as c_schema:
            check(library().loon_writer_new(base_path.encode(), c_schema, c_props, handle), "loon_writer_new")
        self._handle = handle[0]
        _exit.track(self)  # aborted at interpreter exit if still open (loon._exit says why)

    @property
    def handle(self) -> int:
        """The raw handle (0 once destroyed), for tests of the C ABI."""
        return self._handle

    def write(self, data: pa.RecordBatch | pa.Table) -> None:
        """Writes a batch, or every batch of a table, in order."""
        batches = data.to_batches() if isinstance(data, pa.Table) else [data]
        for batch in batches:
            with exported_batch(batch) as c_array, self.call_lock:
                check(library().loon_writer_write(self._handle, c_array), "loon_writer_write")
            self.bytes_written += batch.nbytes
            self.rows_written += batch.num_rows

    def flush(self) -> None:
        with self.call_lock:
            check(library().loon_writer_flush(self._handle), "loon_writer_flush")

    def close(self, metadata: Mapping[str, str] | None = None) -> ColumnGroups:
        """Finishes all files and returns their column groups (to be committed by a Transaction)."""
        metadata = metadata or {}
        keys = [ffi.new("char[]", k.encode()) for k in metadata]
        values = [ffi.new("char[]", v.encode()) for v in metadata.values()]
        c_keys = ffi.new("char*[]", keys) if keys else ffi.NULL
        c_values = ffi.new("char*[]", values) if values else ffi.NULL
        out = ffi.new("LoonColumnGroups**")
        with self.call_lock:
            check(library().loon_writer_close(self._handle, c_keys, c_values, len(metadata), out), "loon_writer_close")
        try:
            self.column_groups = ColumnGroups.from_c(out[0])
        finally:
            library().loon_column_groups_destroy(out[0])
        self.destroy()
        return self.column_groups

    def destroy(self) -> None:
        """Frees the writer (abandoning unclosed data); safe to call more than once."""
        with self.call_lock:
            super().destroy()

    def _finish_on_exit(self) -> None:
        if self._handle:
            self.close()


def write_dataset(
    base_path: str,
    data: pa.Table | pa.RecordBatch | list[pa.RecordBatch],
    properties: Mapping[str, Any] | None = None,
    schema: pa.Schema | None = None,
) -> ColumnGroups:
    """Writes ``data`` in one writer session and returns the column groups."""
    if isinstance(data, list):
        schema = schema or data[0].schema
    else:
        schema = schema or data.schema
    with Writer(base_path, schema, properties) as writer:
        for part in data if isinstance(data, list) else [data]:
            writer.write(part)
    assert writer.column_groups is not None
    return writer.column_groups
