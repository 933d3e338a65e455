"""Take and chunk access by value: the engine takes per chunk (not from every chunk concatenated)
and puts the rows back in the order asked; index lists may be Python ints or numpy arrays."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

import loon
from loon.suite import data

ROWS = 30_000
SPLIT = {"writer.policy": "schema_based", "writer.split.schema_based.patterns": "id|name,value"}


@pytest.fixture(params=["one group", "two groups"])
def dataset(request, props, our_engine):
    """ROWS rows in several rolled files (and, for "two groups", two column groups rolled apart)."""
    table = data.make_table(ROWS)
    extra = SPLIT if request.param == "two groups" else {}
    wprops = props.merged({"writer.file_rolling.size": table.nbytes // 3, **extra})
    with loon.Writer("take", table.schema, wprops) as w:
        for batch in table.to_batches(3000):
            w.write(batch)
            w.flush()
    assert sum(len(g.files) for g in w.column_groups) >= 3
    return table, w.column_groups, props


def index_lists() -> list[list[int]]:
    rng = random.Random(7)
    return [
        [0],
        [ROWS - 1, 0, 3, 3, ROWS // 2],  # any order, duplicates
        sorted(rng.sample(range(ROWS), 1500)),  # ascending: the no-reorder path
        [rng.randrange(ROWS) for _ in range(2000)],  # random with repeats across files
        list(range(ROWS)),  # every row: whole chunks pass through untouched
        list(range(5000, 15000))[::-1],  # descending across a file boundary
    ]


def test_take_equals_pyarrow_take(dataset):
    table, groups, props = dataset
    schema = data.SCHEMA.append(pa.field("missing", pa.int32()))
    with loon.Reader(groups, schema, properties=props) as reader:
        for idx in index_lists():
            expected = table.take(idx).append_column("missing", pa.nulls(len(idx), pa.int32()))
            assert reader.take(idx).equals(expected), idx[:5]
            for cols in (["value"], ["name", "id"], ["missing", "value"]):
                assert reader.take(idx, cols, parallelism=3).equals(expected.select(cols)), (cols, idx[:5])


def test_take_accepts_numpy_and_arrow_indices(dataset):
    table, groups, props = dataset
    idx = [ROWS - 1, 7, 7, 20_000, 1]
    with loon.Reader(groups, data.SCHEMA, properties=props) as reader:
        expected = table.take(idx)
        for form in (np.array(idx), np.array(idx, dtype=np.int32), np.array(idx, dtype=np.uint64), pa.array(idx)):
            assert reader.take(form).equals(expected), type(form)
        with reader.chunk_reader(0) as cr:
            assert cr.chunk_indices(np.array(idx)) == cr.chunk_indices(idx)
            chunks = np.array([cr.num_chunks - 1, 0])
            assert [b.num_rows for b in cr.get_chunks(chunks)] == [b.num_rows for b in cr.get_chunks([*chunks])]


def test_take_bad_indices_are_errors(dataset):
    _, groups, props = dataset
    with loon.Reader(groups, data.SCHEMA, properties=props) as reader:
        with pytest.raises(loon.LoonError, match="out of range"):
            reader.take(np.array([0, ROWS]))
        with pytest.raises(loon.LoonError, match="out of range"):
            reader.take([-1])
        with pytest.raises(OverflowError):
            reader.take(np.array([2**63], dtype=np.uint64))
        with pytest.raises(ValueError):
            reader.take(["x"])
        with pytest.raises(loon.InvalidArgumentError, match="empty"):
            reader.take(np.array([], dtype=np.int64))
