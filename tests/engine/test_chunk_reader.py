"""Chunk reader (ffi_c.h 2.7 chunk reader): all nine functions through the C ABI and ``loon.ChunkReader``.

Chunks are compared with what pyarrow.parquet reads from the same files: one chunk per Parquet
row group intersected with its file's ``[start_index, end_index)`` range.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import loon
from loon._ffi import ffi, library
from loon.arrow_c import import_batch, import_batches
from loon.column_groups import ColumnGroupFile, ColumnGroups
from loon.suite import data

from .ffi_results import code_of

BIG = 100_000  # one batch; the engine cuts ~1 MiB row groups: 3 in group 0's first file, 1 in group 1's


def row_group_slices(root: Path, group: loon.ColumnGroup) -> list[pa.Table]:
    """The expected chunks of a group, read with pyarrow.parquet."""
    chunks = []
    for f in group.files:
        pf = pq.ParquetFile(root / f.path)
        start = 0
        for i in range(pf.metadata.num_row_groups):
            rows = pf.metadata.row_group(i).num_rows
            lo, hi = max(start, f.start_index), min(start + rows, f.end_index)
            if lo < hi:
                chunks.append(pf.read_row_group(i).slice(lo - start, hi - lo))
            start += rows
    return chunks


def recorded_memory(root: Path, group: loon.ColumnGroup) -> list[int]:
    """``memory_size`` of every row group from the footer key ``row_group_metadata`` (README "Data files")."""
    out = []
    for f in group.files:
        entries = pq.ParquetFile(root / f.path).metadata.metadata[b"row_group_metadata"].decode().split(";")
        out += [int(e.split("|")[0]) for e in entries]
    return out


@pytest.fixture(scope="module")
def dataset_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("chunks")


@pytest.fixture(scope="module")
def dataset(dataset_root):
    """Group 0 (id, name): one 3-row-group file + two rolled files; group 1 (value): 1 + 2 files.

    Module-scoped (written once): every test only reads it.
    """
    props = loon.Properties({"fs.storage_type": "local", "fs.root_path": str(dataset_root)})
    fs_root = dataset_root
    table = data.make_table(BIG + 2000, batch_rows=BIG)
    wprops = props.merged(
        {
            "writer.policy": "schema_based",
            "writer.split.schema_based.patterns": "id|name",
            "writer.file_rolling.size": 1,
        }
    )
    with loon.Writer("ds", table.schema, wprops) as w:
        w.write(table.slice(0, BIG))
        w.flush()
        for off in (BIG, BIG + 1000):
            w.write(table.slice(off, 1000))
            w.flush()
    groups = w.column_groups
    assert [len(g.files) for g in groups] == [3, 3]
    assert pq.ParquetFile(fs_root / groups[0].files[0].path).metadata.num_row_groups >= 3
    return table.combine_chunks(), groups, props


@pytest.fixture
def reader(dataset):
    table, groups, props = dataset
    with loon.Reader(groups, table.schema, properties=props) as r:
        yield r


def test_chunks_match_parquet_row_groups(dataset, reader, dataset_root):
    table, groups, _ = dataset
    fs_root = dataset_root
    for gi, group in enumerate(groups):
        expected = row_group_slices(fs_root, group)
        with reader.chunk_reader(gi) as cr:
            assert cr.num_chunks == len(expected)
            meta = cr.metadata(loon.ALL_METADATA)
            assert meta["num_rows"] == [t.num_rows for t in expected]
            assert meta["estimated_memory"] == recorded_memory(fs_root, group)
            for i, exp in enumerate(expected):
                assert pa.Table.from_batches([cr.get_chunk(i)]).equals(exp.combine_chunks()), (gi, i)
            whole = pa.Table.from_batches(list(cr.iter_chunks()))
        assert whole.equals(table.select(group.columns))


@pytest.mark.parametrize("kinds, names", [(0x01, ["estimated_memory"]), (0x02, ["num_rows"]), (0x03, None)])
def test_metadata_kinds_and_order(reader, kinds, names):
    with reader.chunk_reader(0) as cr:
        out = ffi.new("LoonChunkMetadatas*")
        assert code_of(library().loon_get_chunk_metadatas(cr.handle, kinds | 0xF0, out)) == 0  # other bits ignored
        try:
            types = [out.metadatas[i].metadata_type for i in range(out.metadatas_size)]
            assert types == ([0x01, 0x02] if names is None else [kinds])  # estimated memory first
            assert all(out.metadatas[i].number_of_chunks == cr.num_chunks for i in range(out.metadatas_size))
        finally:
            library().loon_free_chunk_metadatas(out)
        assert out.metadatas == ffi.NULL and out.metadatas_size == 0  # reset to {NULL, 0}
        assert sum(cr.metadata(loon.NUM_OF_ROWS)["num_rows"]) == BIG + 2000


def test_partial_chunks_from_cut_file_ranges(dataset, dataset_root):
    table, groups, props = dataset
    fs_root = dataset_root
    first = groups[0].files[0]
    pf = pq.ParquetFile(fs_root / first.path)
    rg0 = pf.metadata.row_group(0).num_rows
    cut = ColumnGroups(
        [
            loon.ColumnGroup(
                groups[0].columns,
                "parquet",
                [ColumnGroupFile(first.path, 100, rg0 + 500, dict(first.properties)), groups[0].files[1]],
            )
        ]
    )
    expected = row_group_slices(fs_root, cut[0])
    assert [t.num_rows for t in expected] == [rg0 - 100, 500, 1000]
    full = recorded_memory(fs_root, groups[0])
    with loon.Reader(cut, table.schema.remove(2), properties=props) as reader:
        with reader.chunk_reader(0) as cr:
            meta = cr.metadata()
            assert meta["num_rows"] == [rg0 - 100, 500, 1000]
            rg1 = pf.metadata.row_group(1).num_rows
            # estimated memory is scaled by the fraction of rows kept
            assert abs(meta["estimated_memory"][0] - full[0] * (rg0 - 100) / rg0) <= 1
            assert abs(meta["estimated_memory"][1] - full[1] * 500 / rg1) <= 1
            for i, exp in enumerate(expected):
                assert pa.Table.from_batches([cr.get_chunk(i)]).equals(exp.combine_chunks())
        kept = pa.concat_tables([table.slice(100, rg0 + 400), table.slice(BIG, 1000)]).select(["id", "name"])
        assert reader.scan().equals(kept.combine_chunks())


def test_foreign_parquet_file_falls_back_to_row_group_byte_size(props, fs_root):
    table = data.make_table(3000)
    path = fs_root / "foreign" / "f.parquet"
    path.parent.mkdir()
    pq.write_table(table, path, row_group_size=1000)
    meta = pq.ParquetFile(path).metadata
    groups = ColumnGroups(
        [loon.ColumnGroup(table.schema.names, "parquet", [ColumnGroupFile("foreign/f.parquet", 0, 3000)])]
    )
    with loon.Reader(groups, table.schema, properties=props) as reader:
        with reader.chunk_reader(0) as cr:
            md = cr.metadata()
            assert md["num_rows"] == [1000, 1000, 1000]
            assert md["estimated_memory"] == [meta.row_group(i).total_byte_size for i in range(3)]
            assert cr.get_chunk(2).equals(table.slice(2000).combine_chunks().to_batches()[0])


def test_chunk_reader_projection(reader, dataset):
    table, _, _ = dataset
    with reader.chunk_reader(0, ["name", "value", "id"]) as cr:  # value lives in group 1: dropped
        batch = cr.get_chunk(cr.num_chunks - 1)
    assert batch.schema.names == ["name", "id"]
    assert batch.equals(table.select(["name", "id"]).slice(BIG + 1000).combine_chunks().to_batches()[0])


@pytest.mark.parametrize(
    "rows, chunks",
    [
        ([0], [0]),
        ([BIG + 1999, 0, 5, BIG, BIG + 1000], [4, 0, 3]),  # distinct, first-seen order
        ([BIG - 1, BIG], [2, 3]),
        (list(range(0, BIG + 2000, 997)), [0, 1, 2, 3, 4]),
    ],
)
def test_chunk_indices(reader, rows, chunks):
    with reader.chunk_reader(0) as cr:
        assert cr.chunk_indices(rows) == chunks


def test_get_chunks_duplicates_and_order(reader, dataset):
    table, groups, _ = dataset
    with reader.chunk_reader(0) as cr:
        singles = [cr.get_chunk(i) for i in range(cr.num_chunks)]
        for parallelism in (1, 4):
            got = cr.get_chunks([4, 0, 4, 2, 1], parallelism=parallelism)
            assert [b.equals(singles[i]) for b, i in zip(got, [4, 0, 4, 2, 1])] == [True] * 5


def test_raw_get_chunk_schema_optional(reader):
    lib = library()
    with reader.chunk_reader(0) as cr:
        c_array = ffi.new("struct ArrowArray*")
        assert code_of(lib.loon_get_chunk(cr.handle, 3, c_array, ffi.NULL)) == 0  # out_schema may be NULL
        schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("name", pa.string())])
        batch = pa.RecordBatch._import_from_c(int(ffi.cast("uintptr_t", c_array)), schema)
        assert batch.num_rows == 1000 and batch.column(0)[0].as_py() == BIG
        arrays = ffi.new("struct ArrowArray**")
        count = ffi.new("size_t*")
        idx = ffi.new("int64_t[]", [1, 3])
        assert code_of(lib.loon_get_chunks(cr.handle, idx, 2, 1, arrays, count, ffi.NULL)) == 0
        try:
            assert count[0] == 2
            assert [b.num_rows for b in import_batches(arrays[0], 2, schema)] == [cr.metadata()["num_rows"][1], 1000]
        finally:
            lib.loon_free_chunk_arrays(arrays[0], count[0])


def test_free_chunk_arrays_releases_unmoved_batches(reader):
    """Arrays never moved into pyarrow are released by loon_free_chunk_arrays (no growth per cycle)."""
    lib = library()
    idx = ffi.new("int64_t[]", [0, 1, 0])

    def cycle():
        arrays = ffi.new("struct ArrowArray**")
        count = ffi.new("size_t*")
        c_schema = ffi.new("struct ArrowSchema*")
        assert code_of(lib.loon_get_chunks(cr.handle, idx, 3, 2, arrays, count, c_schema)) == 0
        assert count[0] == 3 and all(arrays[0][i].release != ffi.NULL for i in range(3))
        c_schema.release(c_schema)
        lib.loon_free_chunk_arrays(arrays[0], count[0])

    with reader.chunk_reader(0) as cr:
        cycle()
        cycle()
        settled = pa.total_allocated_bytes()
        for _ in range(5):
            cycle()
        assert pa.total_allocated_bytes() <= settled + 4096
    lib.loon_free_chunk_arrays(ffi.NULL, 0)
    lib.loon_free_chunk_arrays(ffi.NULL, 3)


def test_chunk_reader_outlives_reader(dataset):
    table, groups, props = dataset
    reader = loon.Reader(groups, table.schema, properties=props)
    cr = reader.chunk_reader(1)
    library().loon_reader_destroy(reader.handle)  # destroy the parent first, as the GC may
    reader._handle = 0
    assert pa.Table.from_batches(list(cr.iter_chunks())).equals(table.select(["value"]))
    cr.close()


# ---------------------------------------------------------------------------------------------
# error paths


def test_null_handle_code_1_everywhere():
    lib = library()
    n = ffi.new("uint64_t*")
    metas = ffi.new("LoonChunkMetadatas*")
    rows = ffi.new("int64_t[]", [0])
    out_idx = ffi.new("int64_t**")
    count = ffi.new("size_t*")
    c_array = ffi.new("struct ArrowArray*")
    arrays = ffi.new("struct ArrowArray**")
    assert code_of(lib.loon_get_number_of_chunks(0, n)) == 1
    assert code_of(lib.loon_get_chunk_metadatas(0, 3, metas)) == 1
    assert code_of(lib.loon_get_chunk_indices(0, rows, 1, out_idx, count)) == 1
    assert code_of(lib.loon_get_chunk(0, 0, c_array, ffi.NULL)) == 1
    assert code_of(lib.loon_get_chunks(0, rows, 1, 1, arrays, count, ffi.NULL)) == 1
    assert c_array.release == ffi.NULL and metas.metadatas == ffi.NULL
    lib.loon_chunk_reader_destroy(0)
    lib.loon_free_chunk_indices(ffi.NULL)
    lib.loon_free_chunk_metadatas(ffi.NULL)
    lib.loon_free_chunk_metadatas(metas)  # {NULL, 0}


def test_null_outputs_and_empty_inputs_code_1(reader):
    lib = library()
    rows = ffi.new("int64_t[]", [0])
    out_idx = ffi.new("int64_t**")
    count = ffi.new("size_t*")
    arrays = ffi.new("struct ArrowArray**")
    metas = ffi.new("LoonChunkMetadatas*")
    with reader.chunk_reader(0) as cr:
        h = cr.handle
        assert code_of(lib.loon_get_number_of_chunks(h, ffi.NULL)) == 1
        assert code_of(lib.loon_get_chunk_metadatas(h, 3, ffi.NULL)) == 1
        assert code_of(lib.loon_get_chunk_metadatas(h, 0, metas)) == 1  # no valid bit
        assert code_of(lib.loon_get_chunk_metadatas(h, 0x04, metas)) == 1
        assert metas.metadatas == ffi.NULL
        assert code_of(lib.loon_get_chunk_indices(h, ffi.NULL, 1, out_idx, count)) == 1
        assert code_of(lib.loon_get_chunk_indices(h, rows, 0, out_idx, count)) == 1
        assert code_of(lib.loon_get_chunk_indices(h, rows, 1, ffi.NULL, count)) == 1
        assert code_of(lib.loon_get_chunk_indices(h, rows, 1, out_idx, ffi.NULL)) == 1
        assert code_of(lib.loon_get_chunk(h, 0, ffi.NULL, ffi.NULL)) == 1
        assert code_of(lib.loon_get_chunks(h, ffi.NULL, 1, 1, arrays, count, ffi.NULL)) == 1
        assert code_of(lib.loon_get_chunks(h, rows, 0, 1, arrays, count, ffi.NULL)) == 1
        assert code_of(lib.loon_get_chunks(h, rows, 1, 0, arrays, count, ffi.NULL)) == 1  # parallelism 0
        assert code_of(lib.loon_get_chunks(h, rows, 1, 1, ffi.NULL, count, ffi.NULL)) == 1
        assert code_of(lib.loon_get_chunks(h, rows, 1, 1, arrays, ffi.NULL, ffi.NULL)) == 1
        assert cr.num_chunks == 5  # still usable


@pytest.mark.parametrize("bad", [-1, 5, 1 << 40])
def test_chunk_out_of_range_code_3(reader, bad):
    lib = library()
    with reader.chunk_reader(0) as cr:
        c_array = ffi.new("struct ArrowArray*")
        c_schema = ffi.new("struct ArrowSchema*")
        assert code_of(lib.loon_get_chunk(cr.handle, bad, c_array, c_schema)) == 3
        assert c_array.release == ffi.NULL and c_schema.release == ffi.NULL  # nothing handed out
        idx = ffi.new("int64_t[]", [0, bad])
        arrays = ffi.new("struct ArrowArray**")
        count = ffi.new("size_t*")
        assert code_of(lib.loon_get_chunks(cr.handle, idx, 2, 1, arrays, count, ffi.NULL)) == 3


@pytest.mark.parametrize("rows", [[-1], [BIG + 2000], [0, BIG + 5000]])
def test_chunk_indices_out_of_range_code_3(reader, rows):
    with reader.chunk_reader(0) as cr:
        with pytest.raises(loon.ArrowError) as info:
            cr.chunk_indices(rows)
        assert info.value.code == 3


@pytest.mark.parametrize("point, expected", [("chunk_reader.read.fail", 8), ("column_group.read.fail", 3)])
def test_injected_chunk_read_faults(reader, point, expected):
    if not loon.fault_injection_enabled():
        pytest.skip("engine built without fault injection")
    with reader.chunk_reader(0) as cr:
        good = cr.get_chunk(1)
        with loon.injected(point, 1):
            with pytest.raises(loon.LoonError) as info:
                cr.get_chunk(1)
        assert info.value.code == expected
        if point == "column_group.read.fail":
            with loon.injected(point, 1):
                with pytest.raises(loon.ArrowError):
                    cr.get_chunks([0, 1], parallelism=2)
        assert cr.get_chunk(1).equals(good)  # one-time: the chunk reader recovers


def test_raw_get_chunk_with_schema_moves_both_out(reader, dataset):
    table, _, _ = dataset
    with reader.chunk_reader(1) as cr:
        c_array = ffi.new("struct ArrowArray*")
        c_schema = ffi.new("struct ArrowSchema*")
        assert code_of(library().loon_get_chunk(cr.handle, cr.num_chunks - 1, c_array, c_schema)) == 0
        assert c_array.release != ffi.NULL and c_schema.release != ffi.NULL  # caller-owned outputs
        batch = import_batch(c_array, c_schema)
        assert c_array.release == ffi.NULL and c_schema.release == ffi.NULL  # moved into pyarrow
    assert batch.equals(table.select(["value"]).slice(BIG + 1000).combine_chunks().to_batches()[0])
