"""Column groups (ffi_c.h 3.3 column groups) as Python objects, converted to and from the C structs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._ffi import ffi, library
from .errors import engine_text


@dataclass
class ColumnGroupFile:
    """One data file of a column group: rows ``[start_index, end_index)`` of ``path``."""

    path: str
    start_index: int = 0
    end_index: int = 0
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def num_rows(self) -> int:
        return self.end_index - self.start_index

    @property
    def file_size(self) -> int | None:
        value = self.properties.get("file_size")
        return int(value) if value is not None else None


@dataclass
class ColumnGroup:
    """Columns stored together, in one format, across a list of files."""

    columns: list[str]
    format: str = "parquet"
    files: list[ColumnGroupFile] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        return sum(f.num_rows for f in self.files)


def _string(ptr: Any) -> str:
    return engine_text(ptr, "a column group string (column name, format, path or property)")


class ColumnGroups(list):
    """A list of ColumnGroup, as returned by ``Writer.close`` or held by a manifest."""

    @property
    def num_rows(self) -> int:
        """Rows of the dataset (group 0's total; all groups are row-aligned)."""
        return self[0].num_rows if self else 0

    @property
    def files(self) -> list[ColumnGroupFile]:
        return [f for g in self for f in g.files]

    @property
    def columns(self) -> list[str]:
        return [c for g in self for c in g.columns]

    @classmethod
    def from_c(cls, c_groups: Any) -> ColumnGroups:
        """Deep copy of a ``LoonColumnGroups*`` (the caller still owns and frees it)."""
        out = cls()
        for gi in range(c_groups.num_of_column_groups):
            g = c_groups.column_group_array[gi]
            files = []
            for fi in range(g.num_of_files):
                f = g.files[fi]
                props = {_string(f.property_keys[p]): _string(f.property_values[p]) for p in range(f.num_properties)}
                files.append(ColumnGroupFile(_string(f.path), f.start_index, f.end_index, props))
            columns = [_string(g.columns[c]) for c in range(g.num_of_columns)]
            out.append(ColumnGroup(columns, _string(g.format), files))
        return out

    def to_c(self) -> CColumnGroups:
        """A caller-built ``LoonColumnGroups`` (kept alive by the returned holder)."""
        return CColumnGroups(self)

    def debug_string(self) -> str:
        """The engine's human-readable dump of these groups."""
        holder = self.to_c()
        raw = library().loon_column_groups_debug_string(holder.ptr)
        try:
            return _string(raw)
        finally:
            library().loon_free_cstr(raw)


class _Keep:
    """Collects cffi allocations so they live as long as the struct that points at them."""

    def __init__(self) -> None:
        self.items: list[Any] = []

    def str(self, text: str) -> Any:
        buf = ffi.new("char[]", text.encode())
        self.items.append(buf)
        return buf

    def str_array(self, texts: list[str]) -> Any:
        if not texts:
            return ffi.NULL
        array = ffi.new("const char*[]", [self.str(t) for t in texts])
        self.items.append(array)
        return array


def fill_column_group(group: ColumnGroup, c_group: Any, keep: _Keep) -> None:
    """Points ``c_group`` (a LoonColumnGroup) at copies of ``group`` owned by ``keep``."""
    c_group.columns = keep.str_array(group.columns)
    c_group.num_of_columns = len(group.columns)
    c_group.format = keep.str(group.format)
    c_group.num_of_files = len(group.files)
    if group.files:
        files = ffi.new("LoonColumnGroupFile[]", len(group.files))
        keep.items.append(files)
        for i, f in enumerate(group.files):
            files[i].path = keep.str(f.path)
            files[i].start_index = f.start_index
            files[i].end_index = f.end_index
            files[i].property_keys = keep.str_array(list(f.properties.keys()))
            files[i].property_values = keep.str_array(list(f.properties.values()))
            files[i].num_properties = len(f.properties)
        c_group.files = files
    else:
        c_group.files = ffi.NULL


class CColumnGroups:
    """A caller-owned ``LoonColumnGroups*`` built from Python objects (never freed by C)."""

    def __init__(self, groups: list[ColumnGroup]):
        self._keep = _Keep()
        self.ptr = ffi.new("LoonColumnGroups*")
        self.ptr.num_of_column_groups = len(groups)
        if groups:
            array = ffi.new("LoonColumnGroup[]", len(groups))
            self._keep.items.append(array)
            for i, g in enumerate(groups):
                fill_column_group(g, array[i], self._keep)
            self.ptr.column_group_array = array


class CColumnGroup:
    """A caller-owned ``LoonColumnGroup*`` for ``loon_transaction_add_column_group``."""

    def __init__(self, group: ColumnGroup):
        self._keep = _Keep()
        self.ptr = ffi.new("LoonColumnGroup*")
        fill_column_group(group, self.ptr, self._keep)
