"""Writer output layout and values: ~1 MiB row groups (128 KiB per column in wide groups) with
columns in schema order, several writers at once with column groups flushed concurrently,
encrypted files, every codec."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import loon
from loon.suite import data, parquet_meta

SPLIT = {"writer.policy": "schema_based", "writer.split.schema_based.patterns": "id|name,value"}
KEY = b"0123456789abcdef"


def local_files(fs_root, groups) -> list:
    return [fs_root / f.path for g in groups for f in g.files]


def test_row_group_layout_and_values(props, fs_root):
    table = data.make_table(200_000)
    groups = loon.write_dataset("layout", table, props.merged({"writer.compression": "zstd"}))
    (path,) = local_files(fs_root, groups)
    meta = pq.ParquetFile(path).metadata
    # ~1 MiB of in-memory data per row group (README "Data files"): 7 MB -> about 7 row groups.
    assert abs(meta.num_row_groups - table.nbytes / (1 << 20)) <= 1.5, meta.num_row_groups
    for rg in range(meta.num_row_groups):
        names = [meta.row_group(rg).column(c).path_in_schema for c in range(meta.num_columns)]
        assert names == ["id", "name", "value"]
        assert {meta.row_group(rg).column(c).compression for c in range(meta.num_columns)} == {"ZSTD"}
    assert pq.read_table(path).equals(table)
    with loon.Reader(groups, table.schema, properties=props) as reader:
        assert reader.scan().equals(table)


def test_wide_groups_get_row_groups_of_128_kib_per_column(props, fs_root):
    # A group of many columns gets row groups of 128 KiB of in-memory data per column, not 1 MiB
    # in all (which made 2 KiB column chunks for 500 float64 columns); a narrow group keeps 1 MiB.
    rows, cols = 20_000, 100
    rng = np.random.default_rng(5)
    columns = {f"c{i}": pa.array(rng.random(rows)) for i in range(cols - 1)}
    table = pa.table({**columns, "few": pa.array(np.arange(rows) % 10)})
    groups = loon.write_dataset("wide", table, props)
    (path,) = local_files(fs_root, groups)
    meta = pq.ParquetFile(path).metadata
    # Distinct floats are written plain (decided on a prefix), a low-cardinality column keeps its dictionary.
    encodings = _encodings(fs_root, groups)
    assert "RLE_DICTIONARY" in encodings["few"] and "RLE_DICTIONARY" not in encodings["c0"], encodings["few"]
    per_column = (128 << 10) // 8  # float64 values per 128 KiB
    assert meta.num_row_groups == -(-rows // per_column), meta.num_row_groups
    assert meta.row_group(0).num_rows == per_column
    assert pq.read_table(path).equals(table)
    with loon.Reader(groups, table.schema, properties=props) as reader:
        assert reader.scan().equals(table)
    narrow = pa.table({"a": pa.array(rng.random(100_000)), "b": pa.array(rng.random(100_000))})
    (narrow_path,) = local_files(fs_root, loon.write_dataset("narrow", narrow, props))
    assert pq.ParquetFile(narrow_path).metadata.row_group(0).num_rows == (1 << 20) // 16


def test_concurrent_writers_with_two_groups(props):
    table = data.make_table(120_000)
    wprops = props.merged({"writer.compression": "snappy", "writer.file_rolling.size": table.nbytes // 2, **SPLIT})

    def write(i: int):
        with loon.Writer(f"w{i}", table.schema, wprops) as w:
            for batch in table.to_batches(20_000):
                w.write(batch)
                w.flush()
        return w.column_groups

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(write, range(4)))
    for groups in results:
        assert [g.columns for g in groups] == [["id", "name"], ["value"]]
        with loon.Reader(groups, table.schema, properties=wprops) as reader:
            assert reader.scan().equals(table)


def test_encrypted_buffered_row_groups(props, fs_root):
    table = data.make_table(100_000)
    eprops = props.merged(
        {
            "writer.enc.enable": True,
            "writer.enc.key": KEY.decode(),
            "writer.enc.meta": "kms-1",
            "writer.compression": "zstd",
        }
    )
    groups = loon.write_dataset("enc", table, eprops)
    for path in local_files(fs_root, groups):
        assert path.read_bytes()[-4:] == b"PARE"
    with loon.Reader(groups, table.schema, properties=eprops) as reader:
        reader.set_key_retriever(parquet_meta.key_retriever({b"kms-1": KEY}))
        assert reader.scan().equals(table)
        assert reader.take([99_999, 0, 50_000]).equals(table.take([99_999, 0, 50_000]))


@pytest.mark.parametrize("codec", ["uncompressed", "snappy", "gzip", "lz4", "zstd"])
def test_codecs_round_trip(props, codec):
    table = data.make_table(30_000)
    groups = loon.write_dataset(f"c-{codec}", table, props.merged({"writer.compression": codec}))
    with loon.Reader(groups, table.schema, properties=props) as reader:
        assert reader.scan().equals(table)


def _encodings(fs_root, groups) -> dict[str, set[str]]:
    meta = pq.ParquetFile(local_files(fs_root, groups)[0]).metadata
    rg = meta.row_group(0)
    return {rg.column(c).path_in_schema: set(rg.column(c).encodings) for c in range(meta.num_columns)}


def test_dictionary_decided_from_the_whole_sample(props, fs_root):
    # Columns whose distinct values in a row group's worth of rows exceed the dictionary page limit
    # are written plain; a low-cardinality prefix must not hide a high-cardinality rest.
    rows = 200_000
    ids = np.arange(rows, dtype=np.int64)
    table = pa.table(
        {
            "distinct": pa.array(ids),
            "late_distinct": pa.array(np.where(ids < 40_000, 0, ids)),
            "few": pa.array(ids % 100),
            "vector": pa.FixedSizeListArray.from_arrays(
                pa.array(np.random.default_rng(3).random(rows * 8, dtype=np.float32)), 8
            ),
        }
    )
    for column in ("distinct", "late_distinct", "few"):
        groups = loon.write_dataset(f"dict-{column}", table.select([column]), props)
        enc = _encodings(fs_root, groups)[column]
        assert ("RLE_DICTIONARY" in enc) == (column == "few"), (column, enc)
    groups = loon.write_dataset("dict-vector", table.select(["vector"]), props)
    assert "RLE_DICTIONARY" not in _encodings(fs_root, groups)["vector.list.element"]
