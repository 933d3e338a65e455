"""Vortex and Lance fixtures of the external-table cases, written by the formats' own libraries.

Each fixture is made in a local temporary directory with ``vortex-data`` or ``pylance`` (a Lance
dataset can then be appended to and deleted from, as a user would) and uploaded file by file
through the engine's filesystem, so it lands on whichever backend the suite runs against. What
the library reports about the fixture (row counts, fragment ids, physical rows, the table itself)
is recorded beside it: the cases check the engine against those facts, not against constants.

Whether the engine reads a format is asked of the engine: ``call_or_skip`` runs a case's first
engine call on the fixture and skips the case, with the reason, only when the engine answers
code 1 (the format is refused) and our engine does not claim to read it.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa

from .. import formats
from ..errors import InvalidArgumentError, NotSupportedError
from ..filesystem import Filesystem
from ..properties import as_properties
from .cases import skip

T = TypeVar("T")

_LIBRARIES = {"vortex": ("vortex", "vortex-data"), "lance-table": ("lance", "pylance")}


def require_library(format: str) -> Any:
    """The writer library of ``format`` (skips the case, naming the package, when it is not installed)."""
    module, package = _LIBRARIES[format]
    if importlib.util.find_spec(module) is None:
        skip(f"needs the {package} package to write {format} fixtures (pip install {package})")
    return __import__(module)


def call_or_skip(format: str, call: Callable[[], T]) -> T:
    """``call()`` (a case's first engine call on its fixture); skips when the engine refuses ``format``.

    Code 1 on valid arguments means the engine cannot read the format. Against our engine that
    is only accepted as a skip when no provider is registered (e.g. the package is missing);
    otherwise the error propagates and the case fails. Code 9 means it cannot on this storage
    configuration (e.g. one whose settings cannot be handed to our providers, such as an
    assume-role or a custom CA certificate): a skip saying so.
    """
    try:
        return call()
    except NotSupportedError as exc:  # code 9: not with this storage configuration
        skip(f"this engine does not read {format} on this storage ({exc.message})")
        raise  # not reached
    except InvalidArgumentError as exc:
        if formats.engine_reads(format):
            raise
        _, package = _LIBRARIES[format]
        skip(f"this engine does not read {format} ({exc.message}); with our engine, pip install {package}")
        raise  # not reached


def upload_tree(properties: Mapping[str, Any], local_dir: Path, path: str) -> list[str]:
    """Copies every file under ``local_dir`` to ``path`` on the backend; the relative names copied."""
    names = []
    with Filesystem(as_properties(properties)) as fs:
        for root, _, files in os.walk(local_dir):
            for name in sorted(files):
                rel = os.path.relpath(os.path.join(root, name), local_dir)
                fs.write(f"{path}/{rel}", Path(root, name).read_bytes())
                names.append(rel)
    return sorted(names)


def write_vortex(properties: Mapping[str, Any], path: str, table: pa.Table) -> int:
    """Writes ``table`` with the Vortex library as one file at ``path`` of the backend.

    Returns the row count the library reads back from the file.
    """
    vx = require_library("vortex")
    with tempfile.TemporaryDirectory(prefix="loon-vortex-") as tmp:
        local = Path(tmp, "data.vortex")
        vx.io.write(table, str(local))
        rows = len(vx.open(str(local)))
        with Filesystem(as_properties(properties)) as fs:
            fs.write(path, local.read_bytes())
    return rows


def vortex_file_schema(properties: Mapping[str, Any], path: str) -> tuple[int, pa.Schema]:
    """Rows and Arrow schema the Vortex library reports for the file at ``path`` of the backend."""
    vx = require_library("vortex")
    with tempfile.TemporaryDirectory(prefix="loon-vortex-") as tmp:
        local = Path(tmp, "copy.vortex")
        with Filesystem(as_properties(properties)) as fs:
            local.write_bytes(fs.read_all(path))
        f = vx.open(str(local))
        return len(f), f.dtype.to_arrow_schema()


def same_columns(library_schema: pa.Schema, written: pa.Schema) -> bool:
    """Whether a library's schema holds the written columns, allowing view types for strings/binary."""
    if library_schema.names != written.names:
        return False
    views = {pa.string(): pa.string_view(), pa.binary(): pa.binary_view()}
    return all(
        got.type == want.type or got.type == views.get(want.type) for got, want in zip(library_schema, written)
    )


@dataclass(frozen=True)
class LanceFragment:
    """One fragment as the Lance library reports it."""

    fragment_id: int
    num_rows: int  # visible rows (deleted rows excluded)
    physical_rows: int
    num_deletions: int


@dataclass
class LanceFixture:
    """A Lance dataset on the backend at ``path`` and what the library reports about it."""

    path: str
    version: int
    fragments: list[LanceFragment]
    table: pa.Table  # the dataset's visible rows in fragment order
    fragment_tables: dict[int, pa.Table] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        return sum(f.num_rows for f in self.fragments)


def write_lance(
    properties: Mapping[str, Any],
    path: str,
    parts: Sequence[pa.Table],
    rows_per_fragment: int,
    delete: str | None = None,
) -> LanceFixture:
    """A Lance dataset at ``path``: ``parts[0]`` written in fragments of ``rows_per_fragment``
    rows, every further part appended (new fragments), then the rows matching ``delete`` deleted
    (a deletion file on the fragments holding them; a fragment losing every row disappears).
    """
    lance = require_library("lance-table")
    with tempfile.TemporaryDirectory(prefix="loon-lance-") as tmp:
        local = str(Path(tmp, "dataset.lance"))
        ds = lance.write_dataset(parts[0], local, max_rows_per_file=rows_per_fragment)
        for more in parts[1:]:
            ds = lance.write_dataset(more, local, mode="append", max_rows_per_file=rows_per_fragment)
        if delete:
            ds.delete(delete)
        ds = lance.dataset(local)
        fragments = []
        tables = {}
        for f in ds.get_fragments():
            meta = f.metadata
            physical = meta.physical_rows
            fragments.append(LanceFragment(f.fragment_id, f.count_rows(), physical, physical - f.count_rows()))
            tables[f.fragment_id] = f.to_table()
        fixture = LanceFixture(path, ds.version, fragments, ds.to_table(), tables)
        fixture.files = upload_tree(properties, Path(local), path)
    return fixture


def lance_fragments_at(local_path: str | os.PathLike[str]) -> list[LanceFragment]:
    """The fragments the Lance library reports for the dataset at a local path (after an import, say)."""
    lance = require_library("lance-table")
    ds = lance.dataset(str(local_path))
    out = []
    for f in ds.get_fragments():
        physical = f.metadata.physical_rows
        out.append(LanceFragment(f.fragment_id, f.count_rows(), physical, physical - f.count_rows()))
    return out


def lance_fragments_on(properties: Mapping[str, Any], path: str) -> list[LanceFragment]:
    """The fragments the Lance library reports for the dataset at ``path`` of the backend (any
    backend: the tree is copied through the engine's filesystem to a temporary directory)."""
    with tempfile.TemporaryDirectory(prefix="loon-lance-") as tmp, Filesystem(as_properties(properties)) as fs:
        prefix = path.strip("/") + "/"
        for info in fs.list_files(path):
            rel = info.path.strip("/")[len(prefix) :] if info.path.strip("/").startswith(prefix) else None
            if not rel:
                raise ValueError(f"listing of {path} returned {info.path}, which is not below it")
            local = Path(tmp, "dataset.lance", rel)
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(fs.read_all(info.path))
        return lance_fragments_at(Path(tmp, "dataset.lance"))


def chunk_count(ranges: Sequence[int], chunk_rows: int) -> int:
    """Chunks of a provider-format group: each file's rows cut in slices of at most ``chunk_rows``."""
    return sum(-(-rows // chunk_rows) for rows in ranges)
