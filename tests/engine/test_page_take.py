"""Take by pages and the metadata cache.

Data files carry the Parquet page index and small pages; a take decodes only the pages holding
its rows. Checked here: such files stay plain Parquet (pyarrow reads them, and so does the engine
with ``reader.metadata_cache.enable=false``); take returns exactly the rows pyarrow returns, for
random index sets, nested and nullable types, files with and without a page index and files
whose page index is damaged; a file rewritten under the same path with a new size or
modification time is read again rather than served from the cache.
"""

from __future__ import annotations

import os
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import loon
from loon import ColumnGroup, ColumnGroupFile, ColumnGroups

ROWS = 6000
NO_CACHE = {"reader.metadata_cache.enable": "false"}


def make_table(rows: int, seed: int = 0) -> pa.Table:
    """Every shape the page path handles, with nulls: flat, strings, fixed-size and variable
    lists (one leaf, repeated), a low-cardinality (dictionary-encoded) string and a struct
    (two leaves: read by whole row groups)."""
    rng = np.random.default_rng(seed)
    dim = 64
    valid = rng.random(rows) > 0.1
    lengths = rng.integers(0, 5, rows)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    return pa.table(
        {
            "id": pa.array(np.arange(rows, dtype=np.int64) * 7 + seed),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(rng.random(rows * dim, dtype=np.float32)), dim),
            "name": pa.array([f"name-{i}-{seed}" if v else None for i, v in enumerate(valid)]),
            "tags": pa.ListArray.from_arrays(pa.array(offsets), pa.array(rng.integers(0, 1000, offsets[-1]))),
            "color": pa.array([["red", "green", "blue"][i % 3] for i in range(rows)]),
            "point": pa.StructArray.from_arrays(
                [pa.array(rng.random(rows)), pa.array(rng.integers(0, 9, rows))], names=["x", "y"]
            ),
        }
    )


def index_sets(rows: int) -> list[list[int]]:
    rng = random.Random(11)
    return [
        [0],
        [rows - 1],
        [rows - 1, 0, 5, 5, rows // 2],  # any order, duplicates
        rng.sample(range(rows), 10),
        rng.sample(range(rows), 100),
        [rng.randrange(rows) for _ in range(1000)],  # repeats
        sorted(rng.sample(range(rows), rows // 2)),
    ]


def data_files(fs_root, groups: ColumnGroups) -> list[str]:
    return [str(fs_root / f.path) for g in groups for f in g.files]


@pytest.fixture
def written(props, fs_root, our_engine):
    """A dataset written by the engine in two column groups and several files per group."""
    table = make_table(ROWS)
    wprops = props.merged(
        {
            "writer.policy": "schema_based",
            "writer.split.schema_based.patterns": "id|vector|name,tags|color|point",
            "writer.file_rolling.size": table.nbytes // 40,
        }
    )
    with loon.Writer("pages", table.schema, wprops) as w:
        for batch in table.to_batches(1000):
            w.write(batch)
            w.flush()
    groups = w.column_groups
    assert len(groups) == 2 and all(len(g.files) >= 2 for g in groups)
    return table, groups


def test_written_files_have_a_page_index_and_stay_plain_parquet(written, fs_root):
    table, groups = written
    for path in data_files(fs_root, groups):
        meta = pq.ParquetFile(path).metadata
        for rg in range(meta.num_row_groups):
            for c in range(meta.num_columns):
                assert meta.row_group(rg).column(c).has_offset_index, (path, rg, c)
    # pyarrow reads them (with page checksums verified) and gets the rows written.
    first = groups[0]
    got = pa.concat_tables(pq.read_table(str(fs_root / f.path), page_checksum_verification=True) for f in first.files)
    assert got.equals(table.select(first.columns))
    # Small pages: a 256-byte vector row group chunk of ~1 MiB spans many pages.
    meta = pq.ParquetFile(data_files(fs_root, groups)[0]).metadata
    vector = next(c for c in range(meta.num_columns) if meta.row_group(0).column(c).path_in_schema.startswith("vector"))
    chunk = meta.row_group(0).column(vector)
    assert chunk.total_uncompressed_size > 8 * 16 * 1024, "test needs a chunk larger than a few pages"


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_take_returns_the_rows_pyarrow_returns(written, props, cache):
    table, groups = written
    rprops = props if cache else props.merged(NO_CACHE)
    with loon.Reader(groups, table.schema, properties=rprops) as reader:
        assert reader.scan().equals(table)
        for idx in index_sets(ROWS):
            assert reader.take(idx).equals(table.take(idx)), idx[:5]
            assert reader.take(idx, parallelism=1).equals(table.take(idx))
        cols = ["name", "tags"]
        assert reader.take([3, 2, 1], columns=cols).equals(table.select(cols).take([3, 2, 1]))


def foreign_group(fs_root, name: str, table: pa.Table, **write_options) -> ColumnGroups:
    """A column group over one file written by pyarrow (no engine metadata)."""
    path = fs_root / f"{name}.parquet"
    pq.write_table(table, path, **write_options)
    return ColumnGroups(
        [ColumnGroup(table.column_names, "parquet", [ColumnGroupFile(f"{name}.parquet", 0, table.num_rows)])]
    )


@pytest.mark.parametrize(
    "options",
    [
        {"write_page_index": False, "row_group_size": 700},  # older/foreign files: whole row groups
        {"write_page_index": True, "row_group_size": 2500, "data_page_size": 2048},  # pages of another writer
        {"write_page_index": True, "row_group_size": 2500, "data_page_version": "2.0", "compression": "snappy"},
        # ZSTD pages are decompressed by the engine itself (v2: levels stored apart, uncompressed)
        {"write_page_index": True, "row_group_size": 2500, "data_page_version": "2.0", "compression": "zstd"},
        {"write_page_index": True, "row_group_size": 2500, "compression": "zstd", "write_page_checksum": True},
    ],
    ids=["no-page-index", "page-index", "page-index-v2-pages", "zstd-v2-pages", "zstd-v1-pages-crc"],
)
def test_take_from_files_of_another_writer(props, fs_root, our_engine, options):
    table = make_table(ROWS, seed=3)
    groups = foreign_group(fs_root, "foreign", table, **options)
    for rprops in (props, props.merged(NO_CACHE)):
        with loon.Reader(groups, table.schema, properties=rprops) as reader:
            for idx in index_sets(ROWS):
                assert reader.take(idx).equals(table.take(idx)), idx[:5]


def index_region(path: str) -> tuple[int, int]:
    """Byte range between the last column chunk and the footer: where the page index lives."""
    meta = pq.ParquetFile(path).metadata
    end = 0
    for rg in range(meta.num_row_groups):
        for c in range(meta.num_columns):
            col = meta.row_group(rg).column(c)
            start = col.dictionary_page_offset if col.has_dictionary_page else col.data_page_offset
            end = max(end, start + col.total_compressed_size)
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        f.seek(size - 8)
        footer_len = int.from_bytes(f.read(4), "little")
    return end, size - 8 - footer_len


@pytest.mark.parametrize("seed", range(6))
def test_damaged_page_index_gives_the_right_rows_or_an_error(props, fs_root, our_engine, seed):
    """The page index is untrusted input: damage in it must never turn into wrong rows."""
    table = make_table(3000, seed=seed)
    groups = foreign_group(fs_root, "damaged", table, write_page_index=True, row_group_size=1000, data_page_size=1024)
    path = str(fs_root / "damaged.parquet")
    begin, end = index_region(path)
    assert end - begin > 100
    rng = random.Random(seed)
    blob = bytearray(open(path, "rb").read())
    for _ in range(1 + seed * 3):
        pos = rng.randrange(begin, end)
        blob[pos] ^= 1 << rng.randrange(8)
    open(path, "wb").write(bytes(blob))
    idx = random.Random(seed).sample(range(3000), 200)
    with loon.Reader(groups, table.schema, properties=props.merged(NO_CACHE)) as reader:
        try:
            got = reader.take(idx)
        except loon.LoonError:
            return
    assert got.equals(table.take(idx))


@pytest.mark.parametrize("column", ["id", "vector", "color"])
def test_damaged_data_page_is_an_error_not_wrong_rows(props, fs_root, our_engine, column):
    """A flipped bit inside a ZSTD page (CRC present): takes from that row group fail, others work."""
    table = make_table(3000, seed=5)
    groups = foreign_group(fs_root, "bitrot", table, write_page_index=True, row_group_size=1000,
                           data_page_size=1024, compression="zstd", write_page_checksum=True)
    path = str(fs_root / "bitrot.parquet")
    meta = pq.ParquetFile(path).metadata
    paths = [meta.row_group(1).column(c).path_in_schema.split(".")[0] for c in range(meta.num_columns)]
    leaf = paths.index(column)
    chunk = meta.row_group(1).column(leaf)
    blob = bytearray(open(path, "rb").read())
    start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
    blob[start + chunk.total_compressed_size // 2] ^= 0x10  # inside some page of row group 1
    open(path, "wb").write(bytes(blob))
    with loon.Reader(groups, table.schema, properties=props.merged(NO_CACHE)) as reader:
        assert reader.take([0, 2999], columns=[column]).equals(table.select([column]).take([0, 2999]))
        with pytest.raises(loon.LoonError):
            reader.take(list(range(1000, 2000)), columns=[column])


def single_file_group(fs_root, name: str, table: pa.Table) -> ColumnGroups:
    # Uncompressed, plain, fixed-width: a rewrite with other values has exactly the same size.
    pq.write_table(table, fs_root / name, compression="none", use_dictionary=False, write_statistics=False)
    return ColumnGroups([ColumnGroup(table.column_names, "parquet", [ColumnGroupFile(name, 0, table.num_rows)])])


def ints(rows: int, start: int) -> pa.Table:
    return pa.table({"v": pa.array(np.arange(start, start + rows, dtype=np.int64))})


def test_file_rewritten_with_new_size_is_read_again(props, fs_root, our_engine):
    first = ints(1000, 0)
    groups = single_file_group(fs_root, "same.parquet", first)
    with loon.Reader(groups, first.schema, properties=props) as reader:
        assert reader.scan().equals(first)
    second = ints(1500, 10_000)  # more rows: a bigger file and another footer
    single_file_group(fs_root, "same.parquet", second)
    groups = ColumnGroups([ColumnGroup(["v"], "parquet", [ColumnGroupFile("same.parquet", 0, 1500)])])
    with loon.Reader(groups, first.schema, properties=props) as reader:
        assert reader.scan().equals(second)
        assert reader.take([1499, 0]).equals(second.take([1499, 0]))


def chunk_rows(reader: loon.Reader) -> list[int]:
    with reader.chunk_reader(0) as chunks:
        return chunks.metadata(loon.NUM_OF_ROWS)["num_rows"]


def test_file_rewritten_with_same_size_and_new_mtime_is_read_again(props, fs_root, our_engine):
    """Same size and row count; only the modification time tells the two files apart. Their
    footers differ in where the row groups split (500 + 500 rows, then 400 + 600), which a stale
    cached footer would still report."""
    path = fs_root / "same.parquet"
    table = ints(1000, 0)
    groups = ColumnGroups([ColumnGroup(["v"], "parquet", [ColumnGroupFile("same.parquet", 0, 1000)])])

    def write(first_rows: int, stamp_ns: int) -> None:
        options = {"compression": "none", "use_dictionary": False, "write_statistics": False}
        with pq.ParquetWriter(path, table.schema, **options) as w:
            w.write_table(table.slice(0, first_rows))
            w.write_table(table.slice(first_rows))
        os.utime(path, ns=(stamp_ns, stamp_ns))

    write(500, 1_600_000_000_000_000_000)
    size = os.path.getsize(path)
    with loon.Reader(groups, table.schema, properties=props) as reader:
        assert chunk_rows(reader) == [500, 500]
    write(400, 1_700_000_000_000_000_000)
    assert os.path.getsize(path) == size, "the rewrite must keep the size for this test"
    with loon.Reader(groups, table.schema, properties=props) as reader:
        assert chunk_rows(reader) == [400, 600]
        assert reader.scan().equals(table)
        assert reader.take([999, 3, 450]).equals(table.take([999, 3, 450]))


def test_unchanged_footers_come_from_the_cache_unless_disabled(props, fs_root, our_engine):
    """Opening a reader again reads no footer bytes while the file is unchanged; with the cache
    disabled every open reads the footer."""
    table = ints(5000, 0)
    groups = single_file_group(fs_root, "cached.parquet", table)
    fs = loon.Filesystem(props)

    def bytes_read_by_open(rprops) -> int:
        fs.reset_metrics()
        with loon.Reader(groups, table.schema, properties=rprops) as reader:
            assert reader.chunk_reader(0).num_chunks >= 1
        return fs.metrics()["read_bytes"]

    assert bytes_read_by_open(props) > 0  # first open: footer parsed
    assert bytes_read_by_open(props) == 0  # again: from the cache
    assert bytes_read_by_open(props.merged(NO_CACHE)) > 0
    assert bytes_read_by_open(props.merged(NO_CACHE)) > 0
