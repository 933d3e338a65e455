"""Per-case dataset paths on the configured backend, cleaned before and after each case.

A notebook's session (``loon.suite.session``) creates one ``Storage`` from its backend config and
hands each case a dataset named after the case::

    with suite.dataset() as ds:                      # inside test_file_rolling_by_size
        ds.append(table, ds.properties(**{"writer.file_rolling.size": 1 << 20}))
        checks.assert_tables_equal(ds.read(), table)

The path is ``<base_path>/<category>/<case>-<uuid>``: fresh per call, so reruns and parallel
notebooks never share data. It is emptied before the case (in case a previous run died) and
removed afterwards unless ``keep=True`` (useful when debugging in Jupyter), or unless the case fails
under the runner's ``--keep-data``: then its location is recorded with the failure and printed.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..column_groups import ColumnGroups
from ..errors import LoonError
from ..filesystem import EngineFile, Filesystem
from ..manifest import Manifest
from ..properties import Properties
from ..reader import Reader
from ..transaction import LATEST, commit_groups, open_manifest, read_dataset
from ..writer import write_dataset
from . import cases, data
from .backend import arrow_filesystem
from .config import BackendConfig
from .fault_cases import assert_intact
from .workloads import add_columns


@dataclass(frozen=True)
class StoredFile:
    """A file on the configured backend, reached through the engine's filesystem (any backend).

    ``pyarrow.parquet`` reads it through ``open()``: ``pq.ParquetFile(f.open())``.
    """

    path: str
    properties: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def size(self) -> int:
        with Filesystem(self.properties) as fs:
            return fs.file_size(self.path)

    def read_bytes(self) -> bytes:
        with Filesystem(self.properties) as fs:
            return fs.read_all(self.path)

    def open(self) -> EngineFile:
        """A read-only seekable file object (close it, or use it in a ``with`` block)."""
        with Filesystem(self.properties) as fs:
            size = fs.file_size(self.path)
            return EngineFile(fs.open_reader(self.path, size), size)

    def __str__(self) -> str:
        return self.path


def stored_files(groups: ColumnGroups, properties: Mapping[str, Any]) -> list[StoredFile]:
    """Every data file of ``groups``, group by group, as ``StoredFile``s."""
    return [StoredFile(f.path, dict(properties)) for g in groups for f in g.files]


@dataclass
class CaseDataset:
    """One case's dataset: its path relative to the backend root and the backend properties."""

    path: str
    backend_properties: dict[str, str]

    def properties(self, extra: dict[str, Any] | None = None, **more: Any) -> Properties:
        """Backend properties plus ``extra``/``more`` (later ones win), as engine Properties."""
        merged: dict[str, Any] = dict(self.backend_properties)
        merged.update(extra or {})
        merged.update(more)
        return Properties(merged)

    def sub(self, name: str) -> str:
        """A path below this dataset (e.g. a second dataset of the same case)."""
        return f"{self.path}/{name}"

    # The operations most cases are made of, on this dataset with its backend properties.

    def write(self, table: pa.Table | pa.RecordBatch, properties: Properties | None = None) -> ColumnGroups:
        """Writes ``table`` in one writer session (not committed); returns its column groups."""
        return write_dataset(self.path, table, properties or self.properties())

    def append(self, table: pa.Table | pa.RecordBatch, properties: Properties | None = None, **commit: Any) -> int:
        """Writes ``table`` and appends it in one transaction on the latest version; returns the new version."""
        props = properties or self.properties()
        return commit_groups(self.path, write_dataset(self.path, table, props), props, **commit)

    def roundtrip(
        self, table: pa.Table, properties: Properties | None = None, columns: list[str] | None = None
    ) -> tuple[ColumnGroups, pa.Table]:
        """Writes ``table`` in one writer session and reads the groups back (uncommitted): (groups, table read)."""
        props = properties or self.properties()
        groups = write_dataset(self.path, table, props)
        with Reader(groups, table.schema, columns, properties=props) as reader:
            return groups, reader.scan()

    def add_columns(self, table: pa.Table, **commit: Any) -> int:
        """Adds ``table``'s columns (one value per existing row) as one new column group; returns the version."""
        return add_columns(self.path, self.properties(), table, **commit)

    def read(self, schema: pa.Schema = data.SCHEMA, version: int = LATEST, **scan: Any) -> pa.Table:
        """Scans ``version`` (latest by default) with ``schema``; ``columns``/``predicate`` pass through."""
        return read_dataset(self.path, schema, self.properties(), version, **scan)

    def manifest(self, version: int = LATEST) -> Manifest:
        """The manifest of ``version`` (latest by default)."""
        return open_manifest(self.path, self.properties(), version)[1]

    def latest_version(self) -> int:
        return open_manifest(self.path, self.properties())[0]

    def files(self, version: int = LATEST) -> list[str]:
        """Paths of the data files ``version`` references, group by group."""
        return [f.path for f in self.manifest(version).column_groups.files]

    def assert_intact(self, expected: pa.Table, version: int) -> None:
        """The latest version is ``version``, holds exactly ``expected`` and validates clean."""
        assert_intact(self.path, self.properties(), expected, version)


class Storage:
    """Hands out per-case dataset paths of one category on one backend."""

    def __init__(self, cfg: BackendConfig, category: str, keep: bool = False):
        self.cfg = cfg
        self.category = category
        self.keep = keep
        self._arrow_fs: Any = None

    def _remove(self, path: str) -> None:
        with Filesystem(self.cfg.properties) as fs:
            with contextlib.suppress(LoonError):
                fs.remove_files(path)
        # The FFI has no directory delete: drop the empty tree (GCS directory markers included).
        if self.cfg.is_local:
            shutil.rmtree(self.local_path(path), ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                self.arrow_fs().delete_dir(path)

    def arrow_fs(self) -> Any:
        """A ``pyarrow.fs`` filesystem onto this backend, rooted where dataset paths start (cached)."""
        if self._arrow_fs is None:
            self._arrow_fs = arrow_filesystem(self.cfg.properties)
        return self._arrow_fs

    @contextlib.contextmanager
    def dataset(self, case_name: str) -> Iterator[CaseDataset]:
        """A fresh, empty dataset path for ``case_name``; removed on exit unless ``keep``."""
        path = self.cfg.case_path(self.category, case_name)
        self._remove(path)
        try:
            yield CaseDataset(path, dict(self.cfg.properties))
        except BaseException:
            if cases.keep_failed_data():
                cases.note_kept_data(self.location(path))
            elif not self.keep:
                self._remove(path)
            raise
        if not self.keep:
            self._remove(path)

    def location(self, path: str) -> str:
        """Where a dataset path is for a person: the local directory, or the backend's URI."""
        if self.cfg.is_local:
            return str(self.local_path(path))
        bucket = self.cfg.properties.get("fs.bucket_name", "")
        return f"{self.cfg.storage_type}://{bucket + '/' if bucket else ''}{path}"

    def local_path(self, path: str) -> Path:
        """The local filesystem path of a dataset path (local backend only: cases needing it
        ``require_backend("posix_files")``; everything else goes through ``StoredFile``)."""
        return self.cfg.local_root() / path
