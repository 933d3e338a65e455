"""Manifests (ffi_c.h 3.4; README "Manifest files") as a Python object tree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._ffi import ffi, library
from .column_groups import ColumnGroups
from .errors import check, engine_text
from .properties import as_properties


def _s(ptr: Any) -> str:
    return engine_text(ptr, "a manifest string")


@dataclass
class DeltaLog:
    path: str
    num_entries: int


@dataclass
class Stat:
    files: list[str]
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class LobFile:
    path: str
    field_id: int
    total_rows: int
    valid_rows: int
    file_size_bytes: int


@dataclass
class Index:
    column_name: str
    index_name: str
    index_type: str
    path: str
    field_id: int
    index_id: int
    build_id: int
    index_version: int
    num_rows: int
    serialized_size: int
    mem_size: int
    index_file_keys: list[str] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class Manifest:
    """One committed version of a dataset: its column groups, delta logs, stats, LOBs, indexes."""

    column_groups: ColumnGroups = field(default_factory=ColumnGroups)
    delta_logs: list[DeltaLog] = field(default_factory=list)
    stats: dict[str, Stat] = field(default_factory=dict)
    lob_files: list[LobFile] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    debug_string: str = ""

    @property
    def num_rows(self) -> int:
        return self.column_groups.num_rows

    @property
    def columns(self) -> list[str]:
        return self.column_groups.columns

    @classmethod
    def from_c(cls, m: Any) -> Manifest:
        """Deep copy of a library-allocated ``LoonManifest*`` (caller still destroys it)."""
        groups = ColumnGroups.from_c(ffi.addressof(m, "column_groups"))
        dl = m.delta_logs
        delta_logs = [
            DeltaLog(_s(dl.delta_log_paths[i]), int(dl.delta_log_num_entries[i])) for i in range(dl.num_delta_logs)
        ]
        st = m.stats
        stats = {}
        for i in range(st.num_stats):
            files = [_s(st.stat_files[i][j]) for j in range(st.stat_file_counts[i])]
            meta = {}
            if st.stat_metadata_keys != ffi.NULL and st.stat_metadata_keys[i] != ffi.NULL:
                meta = {
                    _s(st.stat_metadata_keys[i][j]): _s(st.stat_metadata_values[i][j])
                    for j in range(st.stat_metadata_counts[i])
                }
            stats[_s(st.stat_keys[i])] = Stat(files, meta)
        lob = m.lob_files
        lob_files = [
            LobFile(_s(f.path), f.field_id, f.total_rows, f.valid_rows, f.file_size_bytes)
            for f in (lob.files[i] for i in range(lob.num_files))
        ]
        ix = m.indexes
        indexes = []
        for i in range(ix.num_indexes):
            x = ix.indexes[i]
            indexes.append(
                Index(
                    _s(x.column_name),
                    _s(x.index_name),
                    _s(x.index_type),
                    _s(x.path),
                    x.field_id,
                    x.index_id,
                    x.build_id,
                    x.index_version,
                    x.num_rows,
                    x.serialized_size,
                    x.mem_size,
                    [_s(x.index_file_keys[k]) for k in range(x.num_index_file_keys)],
                    {_s(x.property_keys[k]): _s(x.property_values[k]) for k in range(x.num_properties)},
                )
            )
        raw = library().loon_manifest_debug_string(m)
        try:
            text = _s(raw)
        finally:
            library().loon_free_cstr(raw)
        return cls(groups, delta_logs, stats, lob_files, indexes, text)


def take_manifest(ptr: Any) -> Manifest:
    """Copies a library-allocated manifest into Python and destroys the C object."""
    try:
        return Manifest.from_c(ptr)
    finally:
        library().loon_manifest_destroy(ptr)


def read_manifest_file(path: str, properties: Any = None) -> Manifest:
    """Reads one manifest file by path (``loon_exttable_read_manifest``)."""
    out = ffi.new("LoonManifest**")
    with as_properties(properties).as_c() as c_props:
        check(library().loon_exttable_read_manifest(path.encode(), c_props, out), "loon_exttable_read_manifest")
    return take_manifest(out[0])
