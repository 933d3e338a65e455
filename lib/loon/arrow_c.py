"""Moving Arrow data across the C data interface without leaks or double frees.

The engine takes ownership of an input only when a call succeeds; after a failed call the caller still owns it.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from ._ffi import ffi


def ptr_int(cdata: Any) -> int:
    """The address of a cffi pointer, as pyarrow's _export/_import functions take it."""
    return int(ffi.cast("uintptr_t", cdata))


@contextmanager
def exported_schema(schema: pa.Schema):
    """A ``struct ArrowSchema*`` the callee may consume; released here if it did not."""
    c_schema = ffi.new("struct ArrowSchema*")
    schema._export_to_c(ptr_int(c_schema))
    try:
        yield c_schema
    finally:
        release_schema(c_schema)


@contextmanager
def exported_batch(batch: pa.RecordBatch):
    """A ``struct ArrowArray*`` (struct array of the batch's columns) the callee may consume."""
    c_array = ffi.new("struct ArrowArray*")
    batch._export_to_c(ptr_int(c_array))
    try:
        yield c_array
    finally:
        release_array(c_array)


def release_schema(c_schema: Any) -> None:
    if c_schema.release != ffi.NULL:
        c_schema.release(c_schema)


def release_array(c_array: Any) -> None:
    if c_array.release != ffi.NULL:
        c_array.release(c_array)


def import_batch(c_array: Any, c_schema: Any) -> pa.RecordBatch:
    """Moves one exported struct array into pyarrow (leaves ``release == NULL``)."""
    return pa.RecordBatch._import_from_c(ptr_int(c_array), ptr_int(c_schema))


def import_schema(c_schema: Any) -> pa.Schema:
    return pa.Schema._import_from_c(ptr_int(c_schema))


def import_batches(arrays: Any, count: int, schema: pa.Schema) -> list[pa.RecordBatch]:
    """Moves ``count`` ArrowArrays of a C array into pyarrow batches of ``schema``."""
    batches = []
    for i in range(count):
        batches.append(pa.RecordBatch._import_from_c(ptr_int(arrays + i), schema))
    return batches
