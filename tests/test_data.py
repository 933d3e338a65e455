"""loon.suite.data: deterministic batch generators."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loon.suite import data


def test_make_batch_schema_and_ids():
    batch = data.make_batch(10, offset=5)
    assert batch.schema == data.SCHEMA
    assert batch.schema.field("id").nullable is False
    assert batch.column("id").to_pylist() == list(range(5, 15))
    assert batch.column("name")[0].as_py().startswith("name_5")
    assert batch.column("name").null_count == 0 and batch.column("value").null_count == 0


def test_make_batch_is_deterministic_and_independent_of_chunking():
    whole = data.make_batch(1000)
    assert whole.equals(data.make_batch(1000))
    halves = pa.Table.from_batches([data.make_batch(400), data.make_batch(600, offset=400)])
    assert pa.Table.from_batches([whole]).equals(halves)


def test_seed_changes_values_not_ids():
    a, b = data.make_batch(100, seed=1), data.make_batch(100, seed=2)
    assert a.column("id").equals(b.column("id"))
    assert not a.column("value").equals(b.column("value"))


def test_names_vary_in_length_and_values_in_range():
    batch = data.make_batch(100)
    assert len({len(name) for name in batch.column("name").to_pylist()}) > 3
    values = batch.column("value").to_pylist()
    assert all(0 <= v < 1000 for v in values)
    assert len(set(values)) > 90


def test_empty_and_invalid():
    assert data.make_batch(0).num_rows == 0
    with pytest.raises(ValueError):
        data.make_batch(-1)
    with pytest.raises(ValueError):
        data.make_table(10, batch_rows=0)
    with pytest.raises(ValueError):
        data.vector_schema(0)


def test_make_table():
    table = data.make_table(2500, batch_rows=1000)
    assert table.num_rows == 2500
    assert [len(b) for b in table.to_batches()] == [1000, 1000, 500]
    assert table.equals(pa.Table.from_batches([data.make_batch(2500)]))


@pytest.mark.parametrize("rows,offset", [(1, 0), (37, 5), (1000, 123_456_789)])
def test_make_batch_names_follow_the_documented_pattern(rows, offset):
    suffixes = ["", "_a", "_bb", "_ccc", "_dddd", "_eeeee", "_ffffff", "_ggggggg"]
    expected = [f"name_{i}{suffixes[i % len(suffixes)]}" for i in range(offset, offset + rows)]
    assert data.make_batch(rows, offset).column("name").to_pylist() == expected


def test_batches_cover_rows_in_order():
    batches = list(data.batches(250, batch_rows=100, offset=10))
    assert [b.num_rows for b in batches] == [100, 100, 50]
    assert pa.Table.from_batches(batches).equals(data.make_table(250, offset=10))
    with pytest.raises(ValueError, match="batch_rows"):
        list(data.batches(10, batch_rows=0))


def test_vector_batch():
    batch = data.make_vector_batch(50, dim=8, offset=10)
    assert batch.schema == data.vector_schema(8)
    assert batch.schema.field("vector").type == pa.list_(pa.float32(), 8)
    assert batch.column("id").to_pylist() == list(range(10, 60))
    vectors = batch.column("vector").to_pylist()
    assert all(len(v) == 8 and all(0.0 <= x < 1.0 for x in v) for v in vectors)
    # Chunking independent like make_batch.
    assert data.make_vector_batch(20, 8, offset=15).equals(batch.slice(5, 20))


def test_batches_of_bytes_reaches_target():
    target = 2_000_000
    batches = list(data.batches_of_bytes(target, batch_rows=5000))
    total = sum(b.nbytes for b in batches)
    assert total >= target
    assert total - batches[-1].nbytes < target  # stops as soon as the target is reached
    ids = pa.concat_arrays([b.column("id") for b in batches]).to_pylist()
    assert ids == list(range(len(ids)))
    assert list(data.batches_of_bytes(0)) == []


def test_compressible_batch_compresses():
    batch = data.compressible_batch(20_000)
    assert batch.schema == data.SCHEMA
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_batches([batch]), buffer, compression="zstd")
    assert len(buffer.getvalue()) * 20 < batch.nbytes
