"""Per-case dataset paths on the configured backend, cleaned before and after each case.

A notebook creates one ``Storage`` from its backend config; each case asks it for a dataset::

    store = Storage(cfg, "write_read")
    with store.dataset("test_file_rolling_by_size") as ds:
        loon.write_dataset(ds.path, table, ds.properties(**{"writer.file_rolling.size": 1 << 20}))

The path is ``<base_path>/<category>/<case>-<uuid>``: fresh per call, so reruns and parallel
notebooks never share data. It is emptied before the case (in case a previous run died) and
removed afterwards unless ``keep=True`` (useful when debugging in Jupyter), or unless the case fails
under the runner's ``--keep-data``: then its location is recorded with the failure and printed.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LoonError
from ..filesystem import Filesystem
from ..properties import Properties
from . import cases
from .config import BackendConfig


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


class Storage:
    """Hands out per-case dataset paths of one category on one backend."""

    def __init__(self, cfg: BackendConfig, category: str, keep: bool = False):
        self.cfg = cfg
        self.category = category
        self.keep = keep

    def _remove(self, path: str) -> None:
        with Filesystem(self.cfg.properties) as fs:
            with contextlib.suppress(LoonError):
                fs.remove_files(path)
        if self.cfg.is_local:  # the FFI has no directory delete; drop the empty tree
            shutil.rmtree(self.local_path(path), ignore_errors=True)

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
        """The local filesystem path of a dataset path (local backend only)."""
        return self.cfg.local_root() / path
