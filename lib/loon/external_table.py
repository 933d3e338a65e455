"""External tables (ffi_c.h 2.9; README "External tables"): importing data files the engine did not write.

The engine's three calls:

- ``loon_exttable_explore`` lists the regular files directly inside a directory and *commits* them
  as one column group (URIs ``local:///local/<path>``, ranges ``[-1, -1)``) to a staging base path;
- ``loon_exttable_get_file_info`` gives the row count of one file;
- ``loon_exttable_read_manifest`` reads the committed manifest by path.

Explored entries carry no real row ranges, so an import turns them into a ``ColumnGroup`` of
``[0, rows)`` files and commits that to the target dataset with a ``Transaction``
(``add_column_group`` or ``append_files``)::

    ext = ExternalTable(props)                      # props: the backend's fs.* keys
    result = ext.import_dirs("db/table", ["ext/data"], columns=["id", "name"])
    loon.read_dataset("db/table", schema, ext.properties)

Reading URIs needs an ``extfs.<alias>.*`` configuration whose bucket matches (``local`` for local
storage); ``ExternalTable.properties`` carries it (see ``extfs_properties``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ._ffi import ffi, library
from .column_groups import ColumnGroup, ColumnGroupFile, ColumnGroups
from .errors import InvalidArgumentError, check, engine_text
from .filesystem import EngineFile, Filesystem
from .manifest import Manifest, read_manifest_file
from .properties import Properties, as_properties
from .transaction import Resolve, Transaction

__all__ = [
    "FORMATS",
    "PARTITION_PREFIX",
    "ExploreResult",
    "ExternalTable",
    "ImportResult",
    "extfs_properties",
    "partition_values",
    "split_uri",
    "with_partition_columns",
    "write_parquet",
]

FORMATS = ("parquet", "vortex", "lance-table")
"""Format names of external column groups in milvus-storage (README "External tables")."""

PARTITION_PREFIX = "partition."
"""Per-file property prefix under which ``import_dirs`` records hive partition values."""

_URI = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<address>[^/]*)/(?P<bucket>[^/?]*)/?(?P<key>[^?]*)")
_MANIFEST_VERSION = re.compile(r"manifest-(\d+)\.avro$")


def extfs_properties(properties: Mapping[str, Any], alias: str = "external") -> dict[str, str]:
    """The ``extfs.<alias>.*`` keys that resolve explored URIs of the ``fs.*`` filesystem in ``properties``.

    Local storage records files as ``local:///local/<root-relative path>`` (README "External tables"), so the alias
    is the same root with bucket ``local``. Other storage types record
    ``<type>://<address>/<bucket>/<key>``; their alias repeats every ``fs.*`` key.
    """
    if not alias or "." in alias:
        raise ValueError(f"extfs alias must be a non-empty name without dots, got {alias!r}")
    props = as_properties(properties)
    prefix = f"extfs.{alias}."
    storage_type = props.get("fs.storage_type", "local")
    if storage_type == "local":
        root = props.get("fs.root_path")
        if not root:
            raise ValueError("extfs_properties: fs.root_path is not set")
        return {
            prefix + "storage_type": "local",
            prefix + "root_path": str(Path(root).absolute()),
            prefix + "bucket_name": "local",
        }
    return {prefix + key[len("fs.") :]: value for key, value in props.items() if key.startswith("fs.")}


def split_uri(uri: str) -> tuple[str, str, str, str]:
    """``(scheme, address, bucket, key)`` of ``scheme://address/bucket/key`` (a ``?query`` is dropped)."""
    match = _URI.match(uri)
    if not match:
        raise ValueError(f"not an external file URI: {uri!r} (expected scheme://address/bucket/key)")
    return match["scheme"], match["address"], match["bucket"], match["key"]


def partition_values(path: str) -> dict[str, str]:
    """Hive-style ``key=value`` directory names in ``path`` (outermost first), e.g. ``{"year": "2024"}``."""
    parts = path.split("?", 1)[0].split("/")[:-1]  # directories only, not the file name
    values: dict[str, str] = {}
    for part in parts:
        if "=" in part:
            key, _, value = part.partition("=")
            if key:
                values[key] = value
    return values


def with_partition_columns(table: pa.Table, group: ColumnGroup, fields: Sequence[pa.Field]) -> pa.Table:
    """``table`` (a scan of ``group``, rows in file order) plus one column per partition field.

    Each file's rows get the values recorded under ``partition.<name>`` in that file's properties,
    cast to the field's type.
    """
    if table.num_rows != group.num_rows:
        raise ValueError(f"table has {table.num_rows} rows, the column group {group.num_rows}")
    for f in fields:
        pieces = []
        for file in group.files:
            raw = file.properties.get(PARTITION_PREFIX + f.name)
            if raw is None:
                raise KeyError(f"file {file.path} has no partition value for {f.name!r}")
            pieces.append(pa.array([raw] * file.num_rows, pa.string()).cast(f.type))
        column = pa.chunked_array(pieces, f.type) if pieces else pa.chunked_array([], f.type)
        table = table.append_column(f, column)
    return table


@dataclass
class ExploreResult:
    """What one ``loon_exttable_explore`` call committed."""

    num_files: int
    manifest_path: str

    @property
    def version(self) -> int:
        """The version number in ``manifest_path``."""
        match = _MANIFEST_VERSION.search(self.manifest_path)
        if not match:
            raise ValueError(f"unexpected manifest path {self.manifest_path!r}")
        return int(match.group(1))


@dataclass
class ImportResult:
    """An import: the explores done, the imported group (real ranges) and the target's new version."""

    explores: list[ExploreResult]
    group: ColumnGroup
    version: int
    staging_path: str
    file_rows: dict[str, int] = field(default_factory=dict)

    @property
    def num_rows(self) -> int:
        return self.group.num_rows


class ExternalTable:
    """External files of one ``format`` on the backend of ``properties``.

    ``properties`` are the backend's ``fs.*`` keys (and any other engine keys); the extfs alias
    needed to read explored URIs is added (``self.properties``).
    """

    def __init__(self, properties: Mapping[str, Any], format: str = "parquet", alias: str = "external"):
        if not isinstance(format, str) or not format:
            raise ValueError("ExternalTable: format must be a non-empty string")
        self.format = format
        self.alias = alias
        self.backend_properties = as_properties(properties)
        self.properties: Properties = self.backend_properties.merged(extfs_properties(properties, alias))

    def explore(self, explore_dir: str, base_dir: str, columns: Sequence[str]) -> ExploreResult:
        """Lists the files directly inside ``explore_dir`` and commits them as one column group to ``base_dir``.

        A directory without data files gives 0 files (committed as a group without files).
        Raises InvalidArgumentError (code 1) for no columns or a format the engine cannot read,
        LoonFileNotFoundError (12) for a missing directory, LogicalError (4) when ``base_dir``
        holds groups of other columns/format, TransactionConflictError (112)
        or TransactionExhaustedRetryError (111) when concurrent commits win.
        """
        if isinstance(columns, str):
            raise TypeError("explore: columns must be a sequence of names, not a string")
        names = [ffi.new("char[]", c.encode()) for c in columns]  # owners live until the call returns
        c_columns = ffi.new("const char*[]", names) if names else ffi.NULL
        num, path = ffi.new("uint64_t*"), ffi.new("char**")
        with self.properties.as_c() as c_props:
            check(
                library().loon_exttable_explore(
                    c_columns,
                    len(names),
                    self.format.encode(),
                    base_dir.encode(),
                    explore_dir.encode(),
                    c_props,
                    num,
                    path,
                ),
                "loon_exttable_explore",
            )
        try:
            manifest_path = engine_text(path[0], "the committed manifest path")
        finally:
            library().loon_free_cstr(path[0])
        return ExploreResult(int(num[0]), manifest_path)

    def read_manifest(self, manifest_path: str) -> Manifest:
        """The manifest file at ``manifest_path`` (``loon_exttable_read_manifest``)."""
        return read_manifest_file(manifest_path, self.properties)

    def explored_files(self, result: ExploreResult | str) -> list[ColumnGroupFile]:
        """Every file of the explored column group at the version of ``result`` (ranges still ``-1``)."""
        path = result.manifest_path if isinstance(result, ExploreResult) else result
        groups = self.read_manifest(path).column_groups
        if len(groups) != 1:
            raise ValueError(f"{path}: an explore manifest has one column group, found {len(groups)}")
        return list(groups[0].files)

    def file_info(self, path: str) -> int:
        """Row count of one external file (a URI or an fs-relative path).

        Raises LoonFileNotFoundError (12) when absent, InvalidArgumentError (1) for a directory or
        a format the engine cannot read, ArrowError (3) when the file cannot be read.
        """
        out = ffi.new("uint64_t*")
        with self.properties.as_c() as c_props:
            check(
                library().loon_exttable_get_file_info(self.format.encode(), path.encode(), c_props, out),
                "loon_exttable_get_file_info",
            )
        return int(out[0])

    def file_schema(self, path: str) -> pa.Schema:
        """The Arrow schema of one external Parquet file, read from its footer through the engine's filesystem."""
        if self.format != "parquet":
            raise InvalidArgumentError(1, f"file_schema reads Parquet footers only, not {self.format!r}", "file_schema")
        if "://" in path:
            _, _, _, key = split_uri(path)
            fs = Filesystem(self.properties, path)
        else:
            key, fs = path, Filesystem(self.properties)
        with fs:
            size = fs.file_size(key)
            with fs.open_reader(key, size) as reader:
                return pq.ParquetFile(pa.PythonFile(EngineFile(reader, size), mode="r")).schema_arrow

    def column_group(
        self,
        files: Sequence[str | ColumnGroupFile],
        columns: Sequence[str],
        rows: Mapping[str, int] | None = None,
        hive_partitions: bool = False,
    ) -> ColumnGroup:
        """A column group over ``files`` with real ranges ``[0, rows)`` from ``file_info``.

        ``rows`` may give known counts (others are asked for). With ``hive_partitions`` every
        ``key=value`` directory of a file's path is kept as the file property ``partition.<key>``.
        """
        entries = []
        for f in files:
            path = f.path if isinstance(f, ColumnGroupFile) else f
            n = rows[path] if rows and path in rows else self.file_info(path)
            props = {}
            if hive_partitions:
                props = {PARTITION_PREFIX + k: v for k, v in partition_values(path).items()}
            entries.append(ColumnGroupFile(path, 0, n, props))
        return ColumnGroup(list(columns), self.format, entries)

    def import_dirs(
        self,
        target: str,
        explore_dirs: Sequence[str],
        columns: Sequence[str] | None = None,
        staging: str | None = None,
        append: bool = False,
        hive_partitions: bool = False,
        resolve: Resolve | int = Resolve.FAIL,
    ) -> ImportResult:
        """Explores each directory into ``staging`` and commits the files with real ranges to ``target``.

        ``columns`` default to the first file's schema (Parquet). The group is committed with
        ``add_column_group`` (new columns of the target; on a dataset with groups, the row count must
        match) or, with ``append=True``, with ``append_files`` (same columns and format as the
        target's single group). ``staging`` defaults to ``<target>_explore``; every explore commits
        a version there, and the last version lists every explored file.
        """
        if isinstance(explore_dirs, str):
            raise TypeError("import_dirs: explore_dirs must be a sequence of directories, not a string")
        if not explore_dirs:
            raise InvalidArgumentError(1, "import_dirs: no directory to explore", "import_dirs")
        staging = staging or f"{target.rstrip('/')}_explore"
        explores: list[ExploreResult] = []
        cols = list(columns) if columns is not None else None
        for directory in explore_dirs:
            if cols is None:
                cols = self._columns_of_first_file(directory)
            explores.append(self.explore(directory, staging, cols))
        assert cols is not None
        files = self.explored_files(explores[-1])
        # Only this import's files: a reused staging base also lists earlier explores.
        first_version = explores[0].version
        earlier = set()
        if first_version > 1:
            earlier = {f.path for f in self.explored_files(_manifest_path(explores[0], first_version - 1))}
        files = [f for f in files if f.path not in earlier]
        group = self.column_group(files, cols, hive_partitions=hive_partitions)
        with Transaction(target, self.properties, resolve=resolve) as txn:
            if append:
                txn.append_files(ColumnGroups([group]))
            else:
                txn.add_column_group(group)
        assert txn.committed_version is not None
        return ImportResult(explores, group, txn.committed_version, staging, {f.path: f.num_rows for f in group.files})

    def _columns_of_first_file(self, directory: str) -> list[str]:
        if "://" in directory:
            scheme, address, bucket, key = split_uri(directory)
            with Filesystem(self.properties, directory) as fs:
                names = sorted(f.path for f in fs.list_dir(key) if not f.is_dir)
            names = [f"{scheme}://{address}/{bucket}/{name.lstrip('/')}" for name in names]
        else:
            with Filesystem(self.properties) as fs:
                names = sorted(f.path for f in fs.list_dir(directory) if not f.is_dir)
        if not names:
            raise InvalidArgumentError(1, f"no file in {directory!r} to take the columns from", "import_dirs")
        return list(self.file_schema(names[0]).names)


def write_parquet(properties: Mapping[str, Any], path: str, table: pa.Table, row_group_size: int | None = None) -> int:
    """Writes ``table`` with pyarrow as one plain Parquet file at ``path`` of the backend; returns its size.

    The file is produced outside the engine (no engine footer keys), as an external table would be,
    and stored through the engine's filesystem so it works on every backend.
    """
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=row_group_size)
    blob = sink.getvalue().to_pybytes()
    with Filesystem(as_properties(properties)) as fs:
        fs.write(path, blob)
    return len(blob)


def _manifest_path(result: ExploreResult, version: int) -> str:
    return _MANIFEST_VERSION.sub(f"manifest-{version}.avro", result.manifest_path)
