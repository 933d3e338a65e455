"""Reader (ffi_c.h 2.6 reader) through the C ABI and ``loon.Reader``: scans, projections, predicates, take,
key retrievers, and every error code of the section."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import loon
from loon._ffi import ffi, library
from loon.arrow_c import import_batches, import_schema, ptr_int, release_schema
from loon.column_groups import ColumnGroups
from loon.suite import data

from .ffi_results import code_of
from .test_writer import c_schema_of

ROWS = 3000
SPLIT = {"writer.policy": "schema_based", "writer.split.schema_based.patterns": "id|name,value"}
WIDE = data.SCHEMA.append(pa.field("extra", pa.int32()))  # a field no group holds


@pytest.fixture(params=["one group", "two groups"])
def dataset(request, props):
    """ROWS rows in several rolled files; "two groups" splits id|name and value."""
    table = data.make_table(ROWS, batch_rows=700)
    extra = SPLIT if request.param == "two groups" else {}
    with loon.Writer("ds", table.schema, props.merged({"writer.file_rolling.size": 1, **extra})) as w:
        for batch in table.to_batches():
            w.write(batch)
            w.flush()
    groups = w.column_groups
    assert len(groups) == (2 if extra else 1) and all(len(g.files) == 5 for g in groups)
    return table.combine_chunks(), groups, props


def raw_reader_new(groups, schema, props, columns=None, c_groups=None):
    """``loon_reader_new`` -> (code, handle, schema consumed?); an unconsumed schema is released."""
    c_schema = c_schema_of(schema)
    holder = ColumnGroups(groups).to_c()
    bufs = [ffi.new("char[]", c.encode()) if c is not None else ffi.NULL for c in columns or []]
    c_cols = ffi.new("const char*[]", bufs) if bufs else ffi.NULL
    out = ffi.new("LoonReaderHandle*")
    with props.as_c() as c_props:
        err = code_of(
            library().loon_reader_new(
                c_groups if c_groups is not None else holder.ptr, c_schema, c_cols, len(bufs), c_props, out
            )
        )
    consumed = c_schema.release == ffi.NULL
    release_schema(c_schema)
    return err, int(out[0]), consumed


def stream_table(handle: int, predicate: bytes | None = None) -> pa.Table:
    stream = ffi.new("struct ArrowArrayStream*")
    assert code_of(library().loon_get_record_batch_reader(handle, predicate or ffi.NULL, stream)) == 0
    return pa.RecordBatchReader._import_from_c(ptr_int(stream)).read_all()


def raw_take(handle: int, indices, parallelism=1, columns=None, with_schema=True):
    """``loon_take`` -> (code, table or None); arrays are freed with loon_free_chunk_arrays."""
    idx = ffi.new("int64_t[]", list(indices)) if indices else ffi.NULL
    bufs = [ffi.new("char[]", c.encode()) for c in columns or []]
    c_cols = ffi.new("const char*[]", bufs) if bufs else ffi.NULL
    arrays = ffi.new("struct ArrowArray**")
    count = ffi.new("size_t*")
    c_schema = ffi.new("struct ArrowSchema*") if with_schema else ffi.NULL
    err = code_of(
        library().loon_take(handle, idx, len(indices or []), parallelism, c_cols, len(bufs), arrays, count, c_schema)
    )
    if err:
        return err, None
    try:
        if not with_schema:
            return err, int(count[0])
        schema = import_schema(c_schema)
        return err, pa.Table.from_batches(import_batches(arrays[0], count[0], schema), schema=schema)
    finally:
        library().loon_free_chunk_arrays(arrays[0], count[0])


# ---------------------------------------------------------------------------------------------
# scans and projections


def test_scan_equals_written_rows(dataset):
    table, groups, props = dataset
    with loon.Reader(groups, table.schema, properties=props) as reader:
        assert reader.scan().equals(table)


def test_raw_reader_default_projection_and_move_semantics(dataset):
    table, groups, props = dataset
    err, handle, consumed = raw_reader_new(groups, WIDE, props, columns=["value", None, "extra", "id"])
    assert err == 0 and handle and consumed  # schema moved in; NULL entries are skipped
    try:
        got = stream_table(handle)
        assert got.schema.names == ["value", "extra", "id"]  # projection order, not schema order
        wide = table.append_column("extra", pa.nulls(ROWS, pa.int32()))
        assert got.equals(wide.select(["value", "extra", "id"]))
        assert stream_table(handle, b"").equals(got)  # empty predicate = none
    finally:
        library().loon_reader_destroy(handle)


def test_column_groups_are_copied_by_reader_new(dataset):
    table, groups, props = dataset
    holder = ColumnGroups(groups).to_c()
    c_schema = c_schema_of(table.schema)
    out = ffi.new("LoonReaderHandle*")
    with props.as_c() as c_props:
        assert code_of(library().loon_reader_new(holder.ptr, c_schema, ffi.NULL, 0, c_props, out)) == 0
    # scribble over and drop the caller's struct: the reader must not point into it
    holder.ptr.num_of_column_groups = 0
    holder.ptr.column_group_array = ffi.NULL
    del holder
    try:
        assert stream_table(out[0]).equals(table)
    finally:
        library().loon_reader_destroy(out[0])


@pytest.mark.parametrize("columns", [["id"], ["value", "name"], ["extra"], ["name", "extra", "id", "value"]])
def test_projection_and_absent_fields_read_as_nulls(dataset, columns):
    table, groups, props = dataset
    expected = table.append_column("extra", pa.nulls(ROWS, pa.int32())).select(columns)
    with loon.Reader(groups, WIDE, columns=columns, properties=props) as reader:
        got = reader.scan()
    assert got.equals(expected)
    assert got.num_rows == ROWS  # all-null columns are sized by the dataset's rows


def test_projection_of_a_non_schema_column_is_code_3(dataset):
    table, groups, props = dataset
    err, handle, _ = raw_reader_new(groups, table.schema, props, columns=["nope"])
    if err == 0:  # the engine may defer the check to the first read
        try:
            stream = ffi.new("struct ArrowArrayStream*")
            err = code_of(library().loon_get_record_batch_reader(handle, ffi.NULL, stream))
        finally:
            library().loon_reader_destroy(handle)
    assert err == 3


@pytest.mark.parametrize("max_rows", [1000, 333])
def test_record_batch_max_rows(dataset, max_rows):
    table, groups, props = dataset
    with loon.Reader(groups, table.schema, properties=props.merged({"reader.record_batch_max_rows": max_rows})) as r:
        batches = list(r.iter_batches())
    assert all(0 < b.num_rows <= max_rows for b in batches)
    # batches never cross a chunk boundary (files of 700 rows here)
    bounds = {700 * i for i in range(1, 5)}
    start = 0
    for b in batches:
        assert not any(start < x < start + b.num_rows for x in bounds)
        start += b.num_rows
    assert pa.Table.from_batches(batches).equals(table)


def test_zero_column_groups_give_empty_stream_with_full_schema(props):
    with loon.Reader(ColumnGroups(), WIDE, columns=["id"], properties=props) as reader:
        got = reader.scan()
    assert got.num_rows == 0 and got.schema == WIDE


def test_stream_outlives_reader(dataset):
    table, groups, props = dataset
    reader = loon.Reader(groups, table.schema, properties=props)
    stream = reader.iter_batches()
    reader.close()  # loon_reader_destroy before the stream is consumed
    assert stream.read_all().equals(table)


# ---------------------------------------------------------------------------------------------
# predicates (exact filtering of Parquet scans is an engine extension)

PREDICATES = {
    "id < 100": pc.field("id") < 100,
    "id >= 2990 OR id = 5": (pc.field("id") >= 2990) | (pc.field("id") == 5),
    "name = 'name_3_ccc'": pc.field("name") == "name_3_ccc",
    "value > 500.5 AND NOT id < 1000": (pc.field("value") > 500.5) & ~(pc.field("id") < 1000),
    "id IN (1, 2, 2999)": pc.field("id").isin([1, 2, 2999]),
    "(id <> 3) AND id <= 10": (pc.field("id") != 3) & (pc.field("id") <= 10),
    "id > -1": pc.field("id") > -1,
    "id > 99999": pc.field("id") > 99999,
}


@pytest.mark.parametrize("predicate", list(PREDICATES))
def test_predicate_filters_exactly(dataset, our_engine, predicate):
    table, groups, props = dataset
    with loon.Reader(groups, table.schema, properties=props) as reader:
        got = reader.scan(predicate)
    assert got.equals(table.filter(PREDICATES[predicate]))


@pytest.mark.parametrize("predicate", ["nope < 3", "id < 3 garbage", "id <", "id = 'x", "AND"])
def test_bad_predicate_is_code_3(dataset, predicate):
    table, groups, props = dataset
    err, handle, _ = raw_reader_new(groups, table.schema, props)
    try:
        stream = ffi.new("struct ArrowArrayStream*")
        assert code_of(library().loon_get_record_batch_reader(handle, predicate.encode(), stream)) == 3
        assert stream.release == ffi.NULL  # nothing to release on failure
    finally:
        library().loon_reader_destroy(handle)


# ---------------------------------------------------------------------------------------------
# take

TAKES = [
    [0],
    [ROWS - 1],
    [0, 699, 700, 701, 2099, 2100, ROWS - 1],  # around file boundaries
    list(range(0, ROWS, 7)),
    list(range(ROWS)),
]


@pytest.mark.parametrize("indices", TAKES, ids=lambda i: f"{len(i)}rows")
def test_take_sorted_indices_by_value(dataset, indices):
    table, groups, props = dataset
    err, handle, _ = raw_reader_new(groups, table.schema, props)
    try:
        err, got = raw_take(handle, indices, parallelism=2)
        assert err == 0
        assert got.equals(table.take(indices))
        err, got = raw_take(handle, indices, columns=["value", "id"])
        assert err == 0 and got.equals(table.take(indices).select(["value", "id"]))
    finally:
        library().loon_reader_destroy(handle)


def test_take_any_order_duplicates_and_absent_field(dataset, our_engine):
    table, groups, props = dataset
    idx = [2999, 0, 5, 5, 1400, 3]
    with loon.Reader(groups, WIDE, properties=props) as reader:
        got = reader.take(idx)
        assert got.equals(table.take(idx).append_column("extra", pa.nulls(len(idx), pa.int32())))
        assert reader.take(idx, ["extra"]).equals(pa.table({"extra": pa.nulls(len(idx), pa.int32())}))


def test_take_out_schema_may_be_null(dataset):
    table, groups, props = dataset
    err, handle, _ = raw_reader_new(groups, table.schema, props)
    try:
        err, count = raw_take(handle, [1, 2, 3], with_schema=False)
        assert err == 0 and count >= 1
    finally:
        library().loon_reader_destroy(handle)


@pytest.mark.parametrize(
    "indices, parallelism, expected",
    [
        ([ROWS], 1, 3),  # out of range
        ([0, ROWS + 5], 1, 3),
        ([-1], 1, 3),
        ([], 1, 1),  # empty: NULL pointer and 0 count
        ([0], 0, 1),  # parallelism 0
    ],
)
def test_take_bad_arguments(dataset, indices, parallelism, expected):
    table, groups, props = dataset
    err, handle, _ = raw_reader_new(groups, table.schema, props)
    try:
        assert raw_take(handle, indices, parallelism)[0] == expected
    finally:
        library().loon_reader_destroy(handle)


def test_take_null_outputs_unknown_column_and_null_handle(dataset):
    table, groups, props = dataset
    lib = library()
    idx = ffi.new("int64_t[]", [0])
    count = ffi.new("size_t*")
    arrays = ffi.new("struct ArrowArray**")
    assert code_of(lib.loon_take(0, idx, 1, 1, ffi.NULL, 0, arrays, count, ffi.NULL)) == 1
    err, handle, _ = raw_reader_new(groups, table.schema, props)
    try:
        assert code_of(lib.loon_take(handle, idx, 1, 1, ffi.NULL, 0, ffi.NULL, count, ffi.NULL)) == 1
        assert code_of(lib.loon_take(handle, idx, 1, 1, ffi.NULL, 0, arrays, ffi.NULL, ffi.NULL)) == 1
        assert code_of(lib.loon_take(handle, ffi.NULL, 1, 1, ffi.NULL, 0, arrays, count, ffi.NULL)) == 1
        assert code_of(lib.loon_take(handle, idx, 0, 1, ffi.NULL, 0, arrays, count, ffi.NULL)) == 1
        assert raw_take(handle, [0], columns=["nope"])[0] == 3
    finally:
        lib.loon_reader_destroy(handle)


def test_python_take_raises_mapped_exceptions(dataset):
    table, groups, props = dataset
    with loon.Reader(groups, table.schema, properties=props) as reader:
        with pytest.raises(loon.ArrowError):
            reader.take([ROWS])
        with pytest.raises(loon.InvalidArgumentError):
            reader.take([])
        with pytest.raises(loon.InvalidArgumentError):
            reader.take([0], parallelism=0)


# ---------------------------------------------------------------------------------------------
# reader_new, null handles and broken datasets


def test_reader_new_null_arguments_keep_schema_with_caller(dataset):
    table, groups, props = dataset
    lib = library()
    holder = ColumnGroups(groups).to_c()
    out = ffi.new("LoonReaderHandle*")
    with props.as_c() as c_props:
        for c_groups, c_p, c_out in [
            (ffi.NULL, c_props, out),
            (holder.ptr, ffi.NULL, out),
            (holder.ptr, c_props, ffi.NULL),
        ]:
            c_schema = c_schema_of(table.schema)
            assert code_of(lib.loon_reader_new(c_groups, c_schema, ffi.NULL, 0, c_p, c_out)) == 1
            assert c_schema.release != ffi.NULL  # early failure: still the caller's
            release_schema(c_schema)
        assert code_of(lib.loon_reader_new(holder.ptr, ffi.NULL, ffi.NULL, 0, c_props, out)) == 1
    assert out[0] == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"reader.record_batch_max_rows": "0"},
        {"reader.record_batch_max_rows": "many"},
        {"reader.record_batch_max_size": "-5"},
        {"reader.metadata_cache.enable": "maybe"},
        {"reader.logical_chunk_rows": "-1"},
        {"fs.storage_type": "floppy"},
    ],
    ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items()),
)
def test_reader_new_bad_properties_code_7(dataset, bad):
    table, groups, props = dataset
    err, handle, consumed = raw_reader_new(groups, table.schema, props.merged(bad))
    assert (err, handle, consumed) == (7, 0, False)


def test_reader_new_unknown_property_key_accepted(dataset):
    table, groups, props = dataset
    with loon.Reader(groups, table.schema, properties=props.merged({"reader.custom": "1", "zzz": ""})) as reader:
        assert reader.scan().equals(table)


def test_reader_new_malformed_groups_code_4(dataset):
    table, groups, props = dataset
    bad = ffi.new("LoonColumnGroups*")
    bad.num_of_column_groups = 2  # count > 0 with a NULL array
    err, handle, consumed = raw_reader_new(groups, table.schema, props, c_groups=bad)
    assert (err, handle, consumed) == (4, 0, False)


def test_reader_open_fault_code_8(dataset):
    if not loon.fault_injection_enabled():
        pytest.skip("engine built without fault injection")
    table, groups, props = dataset
    with loon.injected("reader.open.fail", 1):
        err, handle, consumed = raw_reader_new(groups, table.schema, props)
    assert (err, handle, consumed) == (8, 0, False)
    with loon.Reader(groups, table.schema, properties=props) as reader:  # one-time: next open works
        assert reader.scan().num_rows == ROWS


def test_scan_fault_surfaces_through_the_stream(dataset):
    if not loon.fault_injection_enabled():
        pytest.skip("engine built without fault injection")
    table, groups, props = dataset
    with loon.Reader(groups, table.schema, properties=props) as reader:
        with loon.injected("column_group.read.fail", 0):
            with pytest.raises((pa.ArrowException, OSError)):  # the stream's get_next error
                reader.iter_batches().read_all()
        assert reader.scan().equals(table)  # disarmed: the same reader reads again


def test_null_reader_handles_code_1(dataset):
    table, groups, props = dataset
    lib = library()
    stream = ffi.new("struct ArrowArrayStream*")
    out = ffi.new("LoonChunkReaderHandle*")
    assert code_of(lib.loon_get_record_batch_reader(0, ffi.NULL, stream)) == 1
    assert code_of(lib.loon_get_chunk_reader(0, 0, ffi.NULL, 0, out)) == 1
    err, handle, _ = raw_reader_new(groups, table.schema, props)
    try:
        assert code_of(lib.loon_get_record_batch_reader(handle, ffi.NULL, ffi.NULL)) == 1
        assert code_of(lib.loon_get_chunk_reader(handle, 0, ffi.NULL, 0, ffi.NULL)) == 1
    finally:
        lib.loon_reader_destroy(handle)
    lib.loon_reader_destroy(0)  # no-op


@pytest.mark.parametrize("group_id", [-1, 2, 1 << 40])
def test_chunk_reader_group_out_of_range_code_3(dataset, group_id):
    table, groups, props = dataset
    err, handle, _ = raw_reader_new(groups, table.schema, props)
    try:
        out = ffi.new("LoonChunkReaderHandle*")
        assert code_of(library().loon_get_chunk_reader(handle, group_id, ffi.NULL, 0, out)) == 3
        assert out[0] == 0
    finally:
        library().loon_reader_destroy(handle)


def test_chunk_reader_projection_without_group_columns_code_3(props):
    table = data.make_table(100)
    groups = loon.write_dataset("p", table, props.merged(SPLIT))
    with loon.Reader(groups, WIDE, properties=props) as reader:
        for columns in (["value"], ["extra"], ["nope"]):
            with pytest.raises(loon.ArrowError):
                reader.chunk_reader(0, columns)  # group 0 holds id, name only
        with reader.chunk_reader(0, ["value", "name"]) as cr:
            assert cr.get_chunk(0).schema.names == ["name"]


def test_missing_data_file_code_12(dataset):
    table, groups, props = dataset
    os.remove(os.path.join(props["fs.root_path"], groups[-1].files[2].path))
    with loon.Reader(groups, table.schema, properties=props) as reader:
        with pytest.raises(loon.LoonFileNotFoundError):
            reader.scan()
        with pytest.raises(loon.LoonFileNotFoundError):
            reader.take([1500])
        with pytest.raises(loon.LoonFileNotFoundError):
            reader.chunk_reader(len(groups) - 1)  # opening a group reads every file footer


def test_groups_with_unequal_rows_code_3(props):
    table = data.make_table(400)
    g1 = loon.write_dataset("a", table, props.merged({**SPLIT, "writer.split.schema_based.patterns": "id|name"}))
    g2 = loon.write_dataset("b", data.make_table(300), props)
    mixed = ColumnGroups([g1[0], loon.ColumnGroup(["value"], "parquet", g2[0].files)])
    with loon.Reader(mixed, data.SCHEMA, properties=props) as reader:
        with pytest.raises(loon.ArrowError):
            reader.scan()
        with pytest.raises(loon.ArrowError):
            reader.take([0])


# ---------------------------------------------------------------------------------------------
# encryption and the key retriever


@pytest.fixture(params=[("AES_GCM_V1", 16), ("AES_GCM_CTR_V1", 24), ("AES_GCM_V1", 32)], ids=lambda p: f"{p[0]}-{p[1]}")
def encrypted(request, props):
    algorithm, size = request.param
    key = bytes(range(65, 65 + size))
    table = data.make_table(1500, batch_rows=500)
    wprops = {
        "writer.enc.enable": True,
        "writer.enc.key": key.decode(),
        "writer.enc.meta": f"meta-{size}",
        "writer.enc.algorithm": algorithm,
        "writer.file_rolling.size": 1,
    }
    with loon.Writer("enc", table.schema, props.merged(wprops)) as w:
        for b in table.to_batches():
            w.write(b)
            w.flush()
    return table.combine_chunks(), w.column_groups, props, key, f"meta-{size}".encode()


def test_key_retriever_reads_encrypted_data(encrypted):
    table, groups, props, key, meta = encrypted
    seen: list[bytes] = []
    with loon.Reader(groups, table.schema, properties=props) as reader:
        reader.set_key_retriever(lambda m: (seen.append(m), key)[1])
        assert reader.scan().equals(table)
        assert reader.take([0, 700, 1499]).equals(table.take([0, 700, 1499]))
        with reader.chunk_reader(0) as cr:
            assert pa.Table.from_batches(list(cr.iter_chunks())).equals(table)
    assert seen and set(seen) == {meta}


@pytest.mark.parametrize("retriever", ["none", "wrong key", "returns NULL"])
def test_encrypted_data_without_the_right_key_code_3(encrypted, retriever):
    table, groups, props, key, _ = encrypted
    with loon.Reader(groups, table.schema, properties=props) as reader:
        if retriever == "wrong key":
            reader.set_key_retriever(lambda m: b"z" * len(key))
        elif retriever == "returns NULL":
            reader.set_key_retriever(lambda m: None)
        for call in (reader.scan, lambda: reader.take([1]), lambda: reader.chunk_reader(0)):
            with pytest.raises(loon.LoonError) as info:
                call()
            assert info.value.code == 3  # an error, never garbage rows


def test_set_keyretriever_ignores_null_arguments(encrypted):
    table, groups, props, key, _ = encrypted
    keep = ffi.new("char[]", key)

    @ffi.callback("const char*(const char*)")
    def retriever(metadata):
        return keep

    lib = library()
    lib.loon_reader_set_keyretriever(0, retriever)  # ignored, no crash
    err, handle, _ = raw_reader_new(groups, table.schema, props)
    try:
        lib.loon_reader_set_keyretriever(handle, ffi.NULL)  # ignored: still no key
        stream = ffi.new("struct ArrowArrayStream*")
        assert code_of(lib.loon_get_record_batch_reader(handle, ffi.NULL, stream)) == 3
        lib.loon_reader_set_keyretriever(handle, retriever)
        assert stream_table(handle).equals(table)
    finally:
        lib.loon_reader_destroy(handle)


def test_encrypted_without_key_metadata_asks_retriever_for_empty_metadata(props):
    """writer.enc.meta left empty: parquet has no metadata to hand to a retriever, so such files were
    unreadable ("No footer key or key metadata"); the engine asks the retriever for the key of b""."""
    table = data.make_table(800, batch_rows=400)
    key = b"0123456789abcdef"
    groups = loon.write_dataset(
        "nometa", table, props.merged({"writer.enc.enable": True, "writer.enc.key": key.decode()})
    )
    seen: list[bytes] = []
    with loon.Reader(groups, table.schema, properties=props) as reader:
        reader.set_key_retriever(lambda m: (seen.append(m), key)[1])
        assert reader.scan().equals(table.combine_chunks())
        assert reader.take([799, 0]).equals(table.take([799, 0]))
    assert seen and set(seen) == {b""}
    with loon.Reader(groups, table.schema, properties=props) as reader:
        reader.set_key_retriever(lambda m: b"z" * 16)
        with pytest.raises(loon.ArrowError):
            reader.scan()  # a wrong key is still an error
        reader.set_key_retriever(lambda m: None)
        with pytest.raises(loon.ArrowError):
            reader.take([0])


def test_scan_batches_never_cross_a_chunk_boundary_of_any_group(props):
    """Two groups chunked differently (files of 500 vs 700 rows): no batch spans either boundary."""
    table = data.make_table(3500).combine_chunks()

    def group(base: str, columns: list[str], rows_per_file: int) -> loon.ColumnGroup:
        part = table.select(columns)
        with loon.Writer(base, part.schema, props.merged({"writer.file_rolling.size": 1})) as w:
            for start in range(0, table.num_rows, rows_per_file):
                w.write(part.slice(start, rows_per_file).combine_chunks().to_batches()[0])
                w.flush()
        assert [f.num_rows for f in w.column_groups[0].files] == [rows_per_file] * (3500 // rows_per_file)
        return w.column_groups[0]

    groups = ColumnGroups([group("a", ["id", "name"], 500), group("b", ["value"], 700)])
    bounds = set(range(500, 3500, 500)) | set(range(700, 3500, 700))
    with loon.Reader(groups, table.schema, properties=props.merged({"reader.record_batch_max_rows": 4096})) as r:
        batches = list(r.iter_batches())
    start = 0
    for b in batches:
        assert not any(start < x < start + b.num_rows for x in bounds), (start, b.num_rows)
        start += b.num_rows
    assert pa.Table.from_batches(batches).equals(table)


def test_take_rows_fault_code_3(dataset):
    if not loon.fault_injection_enabled():
        pytest.skip("engine built without fault injection")
    table, groups, props = dataset
    err, handle, _ = raw_reader_new(groups, table.schema, props)
    try:
        with loon.injected("take_rows.fail", 1):
            assert raw_take(handle, [0, 5])[0] == 3
        err, got = raw_take(handle, [0, 5])  # one-time: the next take works
        assert err == 0 and got.equals(table.take([0, 5]))
    finally:
        library().loon_reader_destroy(handle)
