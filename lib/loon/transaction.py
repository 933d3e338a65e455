"""Transactions (ffi_c.h 2.8 transaction): snapshot a version at begin, record edits, commit a new version."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from ._ffi import ffi, library
from ._handle import FinishedHandle
from .column_groups import CColumnGroup, ColumnGroup, ColumnGroups
from .errors import LogicalError, check
from .manifest import Manifest, take_manifest
from .properties import as_properties
from .reader import Reader

LATEST = -1


class Resolve(enum.IntEnum):
    """Conflict strategies (``resolve_id``). MERGE is an extension of our engine (FAIL upstream)."""

    FAIL = 0
    MERGE = 1
    OVERWRITE = 2


class Transaction(FinishedHandle):
    """A transaction on ``base_path``; as a context manager it commits on success, aborts on error.

    >>> with Transaction("ds", props) as txn:
    ...     txn.append_files(groups)
    >>> txn.committed_version
    """

    _destroy_fn = "loon_transaction_destroy"

    def __init__(
        self,
        base_path: str,
        properties: Mapping[str, Any] | None = None,
        read_version: int = LATEST,
        resolve: Resolve | int = Resolve.FAIL,
        retry_limit: int = 1,
    ):
        self.base_path = base_path
        self.properties = as_properties(properties)
        self.committed_version: int | None = None
        handle = ffi.new("LoonTransactionHandle*")
        with self.properties.as_c() as c_props:
            check(
                library().loon_transaction_begin(
                    base_path.encode(), c_props, read_version, int(resolve), retry_limit, handle
                ),
                "loon_transaction_begin",
            )
        self._handle = handle[0]

    @property
    def handle(self) -> int:
        return self._handle

    @property
    def read_version(self) -> int:
        out = ffi.new("int64_t*")
        check(library().loon_transaction_get_read_version(self._handle, out), "loon_transaction_get_read_version")
        return int(out[0])

    def manifest(self) -> Manifest:
        """The manifest read at begin (pending edits not included)."""
        out = ffi.new("LoonManifest**")
        check(library().loon_transaction_get_manifest(self._handle, out), "loon_transaction_get_manifest")
        return take_manifest(out[0])

    def append_files(self, groups: ColumnGroups | list[ColumnGroup]) -> None:
        c_groups = ColumnGroups(groups).to_c()
        check(library().loon_transaction_append_files(self._handle, c_groups.ptr), "loon_transaction_append_files")

    def add_column_group(self, group: ColumnGroup) -> None:
        c_group = CColumnGroup(group)
        check(
            library().loon_transaction_add_column_group(self._handle, c_group.ptr), "loon_transaction_add_column_group"
        )

    def drop_column(self, name: str) -> None:
        check(library().loon_transaction_drop_column(self._handle, name.encode()), "loon_transaction_drop_column")

    def drop_index(self, index_id: int) -> None:
        check(library().loon_transaction_drop_index(self._handle, index_id), "loon_transaction_drop_index")

    def add_delta_log(self, path: str, num_entries: int) -> None:
        check(
            library().loon_transaction_add_delta_log(self._handle, path.encode(), num_entries),
            "loon_transaction_add_delta_log",
        )

    def update_stat(self, key: str, files: Sequence[str], metadata: Mapping[str, str] | None = None) -> None:
        keep = [ffi.new("char[]", f.encode()) for f in files]
        # The C API wants a non-NULL array even for an empty list (as milvus-storage requires).
        c_files = ffi.new("const char*[]", keep) if keep else ffi.new("const char*[1]")
        meta = metadata or {}
        mk = [ffi.new("char[]", k.encode()) for k in meta]
        mv = [ffi.new("char[]", v.encode()) for v in meta.values()]
        c_mk = ffi.new("const char*[]", mk) if mk else ffi.NULL
        c_mv = ffi.new("const char*[]", mv) if mv else ffi.NULL
        check(
            library().loon_transaction_update_stat(
                self._handle, key.encode(), c_files, len(keep), c_mk, c_mv, len(meta)
            ),
            "loon_transaction_update_stat",
        )

    def commit(self) -> int:
        """Writes a new version and returns its number. A transaction commits at most once."""
        if self.committed_version is not None:
            raise LogicalError(4, f"transaction already committed version {self.committed_version}", "commit")
        out = ffi.new("int64_t*")
        check(library().loon_transaction_commit(self._handle, out), "loon_transaction_commit")
        self.committed_version = int(out[0])
        return self.committed_version

    def abort(self) -> None:
        """Destroys the transaction without committing (storage stays untouched)."""
        self.destroy()

    def _finish_on_exit(self) -> None:
        if self.committed_version is None:
            self.commit()


def open_manifest(
    base_path: str, properties: Mapping[str, Any] | None = None, version: int = LATEST
) -> tuple[int, Manifest]:
    """The manifest of ``version`` (LATEST by default) and the version actually read."""
    txn = Transaction(base_path, properties, read_version=version)
    try:
        return txn.read_version, txn.manifest()
    finally:
        txn.abort()


def latest_version(base_path: str, properties: Mapping[str, Any] | None = None) -> int:
    return open_manifest(base_path, properties)[0]


def commit_groups(
    base_path: str,
    groups: ColumnGroups,
    properties: Mapping[str, Any] | None = None,
    resolve: Resolve | int = Resolve.FAIL,
    retry_limit: int = 1,
) -> int:
    """Appends ``groups`` in one transaction on the latest version; returns the new version."""
    with Transaction(base_path, properties, resolve=resolve, retry_limit=retry_limit) as txn:
        txn.append_files(groups)
    assert txn.committed_version is not None
    return txn.committed_version


def read_dataset(
    base_path: str,
    schema: pa.Schema,
    properties: Mapping[str, Any] | None = None,
    version: int = LATEST,
    columns: Sequence[str] | None = None,
    predicate: str | None = None,
) -> pa.Table:
    """Scans the dataset at ``version`` with the logical ``schema``."""
    _, manifest = open_manifest(base_path, properties, version)
    with Reader(manifest.column_groups, schema, columns, properties) as reader:
        return reader.scan(predicate)
