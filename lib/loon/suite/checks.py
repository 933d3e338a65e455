"""Assertions shared by the notebooks: data compared by value, layout invariants, file counts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from ..column_groups import ColumnGroups
from ..filesystem import Filesystem


def _describe_difference(actual: pa.Table, expected: pa.Table) -> str:
    if actual.num_rows != expected.num_rows:
        return f"row count {actual.num_rows} != expected {expected.num_rows}"
    if actual.schema.names != expected.schema.names:
        return f"columns {actual.schema.names} != expected {expected.schema.names}"
    for name in expected.schema.names:
        a, e = actual.column(name), expected.column(name)
        if a.type != e.type:
            return f"column {name!r}: type {a.type} != expected {e.type}"
        if not a.equals(e):
            a_list, e_list = a.to_pylist(), e.to_pylist()
            for i, (x, y) in enumerate(zip(a_list, e_list)):
                same = x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))
                if not same:
                    return f"column {name!r}, row {i}: {x!r} != expected {y!r}"
    return "tables differ"


def assert_tables_equal(actual: pa.Table, expected: pa.Table, sort_by: str | None = None) -> None:
    """Asserts equal schemas (names and types) and equal values, row by row.

    NaN equals NaN here (pyarrow's ``equals`` already treats NaNs in the same slot as equal).
    """
    if isinstance(actual, pa.RecordBatch):
        actual = pa.Table.from_batches([actual])
    if isinstance(expected, pa.RecordBatch):
        expected = pa.Table.from_batches([expected])
    if sort_by is not None:
        actual = actual.sort_by(sort_by)
        expected = expected.sort_by(sort_by)
    actual = actual.combine_chunks()
    expected = expected.combine_chunks()
    if actual.num_rows == expected.num_rows and actual.schema.names == expected.schema.names:
        if all(actual.column(n).equals(expected.column(n)) for n in expected.schema.names):
            return
    raise AssertionError("data read back differs from data written: " + _describe_difference(actual, expected))


def data_files(properties: Mapping[str, Any], base_path: str) -> list[str]:
    """Paths of the files under ``<base_path>/_data`` (via the engine's filesystem)."""
    with Filesystem(properties) as fs:
        return sorted(f.path for f in fs.list_files(f"{base_path}/_data"))


def assert_ranges_cover_rows(groups: ColumnGroups, num_rows: int) -> None:
    """Every group's files have ranges [0, n) with n > 0 and together hold exactly ``num_rows``."""
    for i, group in enumerate(groups):
        for f in group.files:
            assert f.start_index == 0, f"group {i} file {f.path}: starts at {f.start_index}"
            assert f.end_index > 0, f"group {i} file {f.path}: empty range"
            assert int(f.properties.get("file_size", "0")) > 0, f"group {i} file {f.path}: no file_size"
            assert int(f.properties.get("footer_size", "0")) > 0, f"group {i} file {f.path}: no footer_size"
        assert group.num_rows == num_rows, f"group {i} holds {group.num_rows} rows, expected {num_rows}"


def files_per_group(groups: ColumnGroups) -> list[int]:
    return [len(g.files) for g in groups]


def expected_rolled_files(batch_bytes: int, num_batches: int, threshold: int) -> int:
    """Files produced when each batch is flushed on its own and a file closes once it holds
    at least ``threshold`` in-memory bytes (the writer checks after each flush, README
    "Storage layout"): ceil(batches / batches-per-file)."""
    per_file = max(1, math.ceil(threshold / batch_bytes))
    return math.ceil(num_batches / per_file)


def expected_rows_per_file(batch_bytes: int, batch_rows: int, num_batches: int, threshold: int) -> list[int]:
    """Rows of each file when equal batches are flushed one by one and a file closes once it holds
    at least ``threshold`` bytes: full files of ceil(threshold / batch_bytes) batches, then the rest."""
    per_file = max(1, math.ceil(threshold / batch_bytes))
    full, rest = divmod(num_batches, per_file)
    return [per_file * batch_rows] * full + ([rest * batch_rows] if rest else [])


def rows_per_file(group: Any) -> list[int]:
    """Rows each file of a column group contributes (its range)."""
    return [f.end_index - f.start_index for f in group.files]


def assert_unique(values: Sequence[Any], what: str) -> None:
    seen: set[Any] = set()
    dups = [v for v in values if v in seen or seen.add(v)]
    assert not dups, f"duplicate {what}: {dups[:10]}"
