"""Schema-evolution helpers: columns of many Arrow types, and the layout of written column groups."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..column_groups import ColumnGroups

__all__ = ["group_layout", "typed_columns", "typed_table", "with_nulls"]


def typed_columns(num_rows: int, offset: int = 0) -> dict[str, pa.Array]:
    """One deterministic column per type: int32, int64, float32, float64, string, bool, binary, list, struct.

    Values depend only on the row number (``offset`` + i), so tables built in parts compare equal.
    """
    rows = range(offset, offset + num_rows)
    return {
        "c_int32": pa.array([i % 1000 for i in rows], pa.int32()),
        "c_int64": pa.array([i * 7 for i in rows], pa.int64()),
        "c_float32": pa.array([i * 0.25 for i in rows], pa.float32()),
        "c_float64": pa.array([i / 3 for i in rows], pa.float64()),
        "c_string": pa.array([f"s{i}" * (i % 4 + 1) for i in rows], pa.string()),
        "c_bool": pa.array([i % 3 == 0 for i in rows], pa.bool_()),
        "c_binary": pa.array([bytes([i % 256]) * (i % 6) for i in rows], pa.binary()),
        "c_list": pa.array([list(range(i % 4)) for i in rows], pa.list_(pa.int64())),
        "c_struct": pa.array(
            [{"x": i, "y": f"y{i}"} for i in rows], pa.struct([("x", pa.int64()), ("y", pa.string())])
        ),
    }


def typed_table(num_rows: int, offset: int = 0, with_id: bool = True) -> pa.Table:
    """``typed_columns`` as a table, led by an ``id`` column (int64, not null) unless ``with_id`` is False."""
    columns = typed_columns(num_rows, offset)
    if with_id:
        ids = pa.array(range(offset, offset + num_rows), pa.int64())
        fields = [pa.field("id", pa.int64(), nullable=False)] + [pa.field(k, v.type) for k, v in columns.items()]
        return pa.Table.from_arrays([ids, *columns.values()], schema=pa.schema(fields))
    return pa.table(columns)


def with_nulls(table: pa.Table, every: int = 3, skip: tuple[str, ...] = ("id",)) -> pa.Table:
    """``table`` with every ``every``-th value of each column (except ``skip``) set to null."""
    arrays = []
    for name, column in zip(table.column_names, table.columns):
        if name in skip:
            arrays.append(column)
            continue
        mask = pa.array([i % every == 0 for i in range(table.num_rows)])
        arrays.append(pc.if_else(mask, pa.scalar(None, column.type), column))
    return pa.Table.from_arrays(arrays, schema=table.schema)


def group_layout(groups: ColumnGroups) -> list[list[str]]:
    """The columns of each group, in group order (what a policy decided)."""
    return [list(g.columns) for g in groups]
