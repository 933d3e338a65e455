"""Writer (ffi_c.h 2.5 writer) through the C ABI and ``loon.Writer``: files, ranges, sizes and error codes.

The helpers at the top (``code``, ``raw_writer_new``, ``write_raw`` ...) are shared with the
reader and chunk-reader tests of this package.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import loon
from loon._ffi import ffi, library
from loon.arrow_c import ptr_int, release_array, release_schema
from loon.column_groups import ColumnGroups
from loon.suite import data

from .ffi_results import code_of

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
DATA_FILE = re.compile(rf"^(?P<base>.+)/_data/(?P<group>\d+)_{UUID}\.parquet$")


# ---------------------------------------------------------------------------------------------
# shared helpers


def c_schema_of(schema: pa.Schema) -> Any:
    c_schema = ffi.new("struct ArrowSchema*")
    schema._export_to_c(ptr_int(c_schema))
    return c_schema


def c_array_of(batch: pa.RecordBatch) -> Any:
    c_array = ffi.new("struct ArrowArray*")
    batch._export_to_c(ptr_int(c_array))
    return c_array


def raw_writer_new(base: str, schema: pa.Schema, props: loon.Properties) -> tuple[int, int, bool]:
    """``loon_writer_new`` -> (code, handle, schema consumed?); an unconsumed schema is released here."""
    c_schema = c_schema_of(schema)
    out = ffi.new("LoonWriterHandle*")
    with props.as_c() as c_props:
        err = code_of(library().loon_writer_new(base.encode(), c_schema, c_props, out))
    consumed = c_schema.release == ffi.NULL
    release_schema(c_schema)
    return err, int(out[0]), consumed


def write_raw(handle: int, batch: pa.RecordBatch) -> tuple[int, bool]:
    """``loon_writer_write`` -> (code, array consumed?); an unconsumed array is released here."""
    c_array = c_array_of(batch)
    err = code_of(library().loon_writer_write(handle, c_array))
    consumed = c_array.release == ffi.NULL
    release_array(c_array)
    return err, consumed


def close_raw(handle: int) -> tuple[int, ColumnGroups | None]:
    """``loon_writer_close`` without metadata -> (code, groups); the C groups are destroyed here."""
    out = ffi.new("LoonColumnGroups**")
    err = code_of(library().loon_writer_close(handle, ffi.NULL, ffi.NULL, 0, out))
    if err:
        return err, None
    try:
        return err, ColumnGroups.from_c(out[0])
    finally:
        library().loon_column_groups_destroy(out[0])


def read_files(root: Path, group: loon.ColumnGroup) -> pa.Table:
    """A group's rows read independently with pyarrow.parquet, honouring each file's range."""
    parts = [pq.read_table(root / f.path).slice(f.start_index, f.num_rows) for f in group.files]
    return pa.concat_tables(parts)


def footer_size(path: Path) -> int:
    """Parquet footer length incl. the 8-byte trailer (4-byte length + magic)."""
    tail = path.read_bytes()[-8:]
    assert tail[4:] in (b"PAR1", b"PARE")
    return struct.unpack("<I", tail[:4])[0] + 8


def check_file_properties(root: Path, groups: ColumnGroups) -> None:
    """Every listed file exists, has range [0, rows) and exact file_size/footer_size properties."""
    for gi, group in enumerate(groups):
        for f in group.files:
            m = DATA_FILE.match(f.path)
            assert m and int(m["group"]) == gi, f.path
            path = root / f.path
            assert f.start_index == 0 and f.end_index == pq.ParquetFile(path).metadata.num_rows > 0
            assert int(f.properties["file_size"]) == path.stat().st_size
            assert int(f.properties["footer_size"]) == footer_size(path)


# ---------------------------------------------------------------------------------------------
# success paths


def test_write_close_single_group_by_value(props, fs_root):
    table = data.make_table(5000, batch_rows=1700)
    with loon.Writer("ds", table.schema, props) as writer:
        writer.write(table)
    groups = writer.column_groups
    assert writer.handle == 0  # destroyed after the successful close
    assert len(groups) == 1
    assert groups[0].columns == table.schema.names and groups[0].format == "parquet"
    assert groups.num_rows == 5000
    check_file_properties(fs_root, groups)
    assert all(DATA_FILE.match(f.path)["base"] == "ds" for f in groups.files)
    assert read_files(fs_root, groups[0]).equals(table.combine_chunks())


def test_raw_writer_cycle_and_move_semantics(props, fs_root):
    batch = data.make_batch(300)
    err, handle, consumed = raw_writer_new("raw", batch.schema, props)
    assert err == 0 and handle != 0 and consumed  # the schema was moved in
    try:
        assert write_raw(handle, batch) == (0, True)  # the array was moved in
        assert write_raw(handle, data.make_batch(200, offset=300)) == (0, True)
        assert code_of(library().loon_writer_flush(handle)) == 0
        err, groups = close_raw(handle)
        assert err == 0
    finally:
        library().loon_writer_destroy(handle)
    check_file_properties(fs_root, groups)
    assert read_files(fs_root, groups[0]).equals(pa.Table.from_batches([data.make_batch(500)]))


def test_flush_with_rolling_makes_several_files(props, fs_root):
    table = data.make_table(6000, batch_rows=1000)
    wprops = props.merged({"writer.file_rolling.size": 1})  # roll at every flush that wrote bytes
    with loon.Writer("roll", table.schema, wprops) as writer:
        for batch in table.to_batches():
            writer.write(batch)
            writer.flush()
    groups = writer.column_groups
    assert len(groups[0].files) == 6
    assert [f.num_rows for f in groups[0].files] == [1000] * 6
    check_file_properties(fs_root, groups)
    assert read_files(fs_root, groups[0]).equals(table.combine_chunks())


def test_small_buffer_flushes_by_pressure(props, fs_root):
    table = data.make_table(4000, batch_rows=500)
    wprops = props.merged({"writer.buffer_size": 4096, "writer.file_rolling.size": 1})
    with loon.Writer("pressure", table.schema, wprops) as writer:
        writer.write(table)
    files = writer.column_groups[0].files
    assert len(files) > 1  # buffer pressure flushed (and rolled) without an explicit flush
    assert read_files(fs_root, writer.column_groups[0]).equals(table.combine_chunks())


def test_schema_based_policy_splits_columns(props, fs_root):
    table = data.make_table(1200)
    wprops = props.merged({"writer.policy": "schema_based", "writer.split.schema_based.patterns": "id|name,nomatch"})
    groups = loon.write_dataset("split", table, wprops)
    assert [g.columns for g in groups] == [["id", "name"], ["value"]]  # empty pattern group dropped
    check_file_properties(fs_root, groups)
    for g in groups:
        assert read_files(fs_root, g).equals(table.select(g.columns).combine_chunks())


def test_size_based_policy_never_emits_empty_group(props, fs_root):
    table = data.make_table(800)
    wprops = props.merged(
        {
            "writer.policy": "size_based",
            "writer.split.size_based.max_avg_column_size": 9,  # int64/float64 are 8 B/row, strings more
            "writer.split.size_based.max_columns_in_group": 2,
        }
    )
    groups = loon.write_dataset("sized", table, wprops)
    assert groups.columns == table.schema.names
    assert all(g.columns for g in groups) and len(groups) >= 2
    for g in groups:
        assert read_files(fs_root, g).equals(table.select(g.columns).combine_chunks())


@pytest.mark.parametrize("codec", ["uncompressed", "snappy", "gzip", "lz4", "zstd", "brotli"])
def test_compression_codecs(props, fs_root, codec):
    table = data.make_table(500)
    groups = loon.write_dataset("c", table, props.merged({"writer.compression": codec}))
    path = fs_root / groups.files[0].path
    column = pq.ParquetFile(path).metadata.row_group(0).column(0)
    expected = {"uncompressed": "UNCOMPRESSED", "lz4": "LZ4"}.get(codec, codec.upper())
    assert column.compression.startswith(expected)
    assert pq.read_table(path).equals(table)


def test_enable_dictionary_false(props, fs_root):
    table = data.make_table(500)
    groups = loon.write_dataset("d", table, props.merged({"writer.enable_dictionary": False}))
    meta = pq.ParquetFile(fs_root / groups.files[0].path).metadata
    encodings = {e for i in range(meta.num_columns) for e in meta.row_group(0).column(i).encodings}
    assert not encodings & {"PLAIN_DICTIONARY", "RLE_DICTIONARY"}


def test_encrypted_files_are_not_plain_parquet(props, fs_root):
    table = data.make_table(300)
    key = "k" * 16
    groups = loon.write_dataset(
        "enc", table, props.merged({"writer.enc.enable": True, "writer.enc.key": key, "writer.enc.meta": "m1"})
    )
    path = fs_root / groups.files[0].path
    assert path.read_bytes()[-4:] == b"PARE"  # encrypted footer
    assert int(groups.files[0].properties["footer_size"]) == footer_size(path)
    with pytest.raises((pa.ArrowException, OSError)):  # no key: pyarrow cannot read it
        pq.read_table(path)


def test_unknown_property_key_is_accepted(props, fs_root):
    table = data.make_table(50)
    groups = loon.write_dataset("u", table, props.merged({"custom.not_a_key": "anything", "writer.x": "y"}))
    assert read_files(fs_root, groups[0]).equals(table)


def test_close_metadata_pairs_accepted(props):
    batch = data.make_batch(10)
    with loon.Writer("meta", batch.schema, props) as writer:
        writer.write(batch)
        groups = writer.close({"k1": "v1", "k2": "v2"})
    assert groups.num_rows == 10


def test_no_data_and_zero_row_writes_give_zero_groups(props, fs_root):
    empty = data.make_batch(0)
    err, handle, _ = raw_writer_new("empty", empty.schema, props)
    assert err == 0
    try:
        assert write_raw(handle, empty) == (0, True)  # a 0-row write is a no-op
        assert code_of(library().loon_writer_flush(handle)) == 0
        err, groups = close_raw(handle)
    finally:
        library().loon_writer_destroy(handle)
    assert err == 0 and groups == []
    assert not list(fs_root.rglob("*.parquet"))

    with loon.Writer("nodata", data.SCHEMA, props) as writer:
        pass
    assert writer.column_groups == []


def test_zero_row_batch_between_writes(props, fs_root):
    with loon.Writer("mixed", data.SCHEMA, props) as writer:
        writer.write(data.make_batch(5))
        writer.write(data.make_batch(0))
        writer.write(data.make_batch(5, offset=5))
    assert read_files(fs_root, writer.column_groups[0]).equals(pa.Table.from_batches([data.make_batch(10)]))


def test_destroy_without_close_leaves_only_orphans(props, fs_root):
    batch = data.make_batch(1000)
    err, handle, _ = raw_writer_new("orphan", batch.schema, props)
    assert err == 0
    assert write_raw(handle, batch)[0] == 0
    assert code_of(library().loon_writer_flush(handle)) == 0
    library().loon_writer_destroy(handle)  # abandon: nothing is returned, nothing committed
    library().loon_writer_destroy(0)  # 0 is a no-op
    orphans = {p.relative_to(fs_root).as_posix() for p in fs_root.rglob("*.parquet")}
    groups = loon.write_dataset("orphan", data.make_table(20), props)
    assert not set(f.path for f in groups.files) & orphans
    assert not (fs_root / "orphan" / "_metadata").exists()  # no manifest written by a writer


# ---------------------------------------------------------------------------------------------
# error paths


def test_writer_new_null_arguments_keep_schema_with_caller(props):
    lib = library()
    schema = data.SCHEMA
    out = ffi.new("LoonWriterHandle*")
    with props.as_c() as c_props:
        cases = [
            (ffi.NULL, c_schema_of(schema), c_props, out),
            (b"x", c_schema_of(schema), ffi.NULL, out),
            (b"x", c_schema_of(schema), c_props, ffi.NULL),
        ]
        for base, c_schema, c_p, c_out in cases:
            assert code_of(lib.loon_writer_new(base, c_schema, c_p, c_out)) == 1
            assert c_schema.release != ffi.NULL  # early failure: the caller still owns it
            release_schema(c_schema)
        assert code_of(lib.loon_writer_new(b"x", ffi.NULL, c_props, out)) == 1
    assert out[0] == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"writer.policy": "bogus"},
        {"writer.buffer_size": "abc"},
        {"writer.buffer_size": "99999999999"},  # does not fit i32
        {"writer.compression": "bogus"},
        {"writer.compression_level": "high"},
        {"writer.enable_dictionary": "maybe"},
        {"writer.file_rolling.size": "-1"},
        {"writer.format": "csv"},
        {"writer.enc.algorithm": "ROT13"},
        {"writer.enc.enable": "true"},  # no key
        {"writer.enc.enable": "true", "writer.enc.key": "short"},  # not 16/24/32 bytes
        {"writer.split.size_based.max_columns_in_group": "1.5"},
        {"fs.storage_type": "floppy"},
    ],
    ids=lambda d: ",".join(f"{k}={v}" for k, v in d.items()),
)
def test_writer_new_bad_property_values_code_7(props, fs_root, bad):
    err, handle, consumed = raw_writer_new("bad", data.SCHEMA, props.merged(bad))
    assert (err, handle, consumed) == (7, 0, False)
    assert not any(fs_root.iterdir())


@pytest.mark.parametrize(
    "bad",
    [
        {  # formats list of another length than the patterns list
            "writer.policy": "schema_based",
            "writer.split.schema_based.patterns": "id,name",
            "writer.split.schema_based.formats": "parquet",
        },
        {"writer.policy": "schema_based", "writer.split.schema_based.patterns": "(unclosed"},
    ],
)
def test_writer_new_policy_construction_failure_code_3(props, bad):
    err, handle, _ = raw_writer_new("bad", data.SCHEMA, props.merged(bad))
    assert (err, handle) == (3, 0)


def test_writer_new_unimportable_schema_code_3(props):
    c_schema = ffi.new("struct ArrowSchema*")
    data.SCHEMA._export_to_c(ptr_int(c_schema))
    original = c_schema.format
    bogus = ffi.new("char[]", b"?not-a-format")
    c_schema.format = bogus
    out = ffi.new("LoonWriterHandle*")
    with props.as_c() as c_props:
        err = code_of(library().loon_writer_new(b"x", c_schema, c_props, out))
    c_schema.format = original
    release_schema(c_schema)
    assert err == 3 and out[0] == 0


def test_write_schema_mismatch_code_3_and_array_consumed(props):
    other = pa.record_batch({"id": pa.array([1, 2], pa.int32()), "x": pa.array(["a", "b"])})
    narrower = pa.record_batch({"id": pa.array([1, 2], pa.int64())})
    err, handle, _ = raw_writer_new("mm", data.SCHEMA, props)
    assert err == 0
    try:
        assert write_raw(handle, other) == (3, True)  # consumed also on failure
        assert write_raw(handle, narrower) == (3, True)
        assert write_raw(handle, data.make_batch(4)) == (0, True)  # the writer stays usable
        err, groups = close_raw(handle)
        assert err == 0 and groups.num_rows == 4
    finally:
        library().loon_writer_destroy(handle)


def test_null_handles_and_arguments_code_1(props):
    lib = library()
    batch = data.make_batch(3)
    assert write_raw(0, batch) == (1, False)  # early failure: the caller keeps the array
    assert code_of(lib.loon_writer_flush(0)) == 1
    out = ffi.new("LoonColumnGroups**")
    assert code_of(lib.loon_writer_close(0, ffi.NULL, ffi.NULL, 0, out)) == 1
    err, handle, _ = raw_writer_new("nulls", batch.schema, props)
    try:
        assert code_of(lib.loon_writer_write(handle, ffi.NULL)) == 1
        assert code_of(lib.loon_writer_close(handle, ffi.NULL, ffi.NULL, 0, ffi.NULL)) == 1
        assert code_of(lib.loon_writer_close(handle, ffi.NULL, ffi.NULL, 1, out)) == 1  # meta_len > 0, NULL arrays
        key = ffi.new("char[]", b"k")
        keys = ffi.new("char*[]", [key])
        vals = ffi.new("char*[]", [ffi.NULL])
        assert code_of(lib.loon_writer_close(handle, keys, vals, 1, out)) == 1  # NULL entry
        assert write_raw(handle, batch) == (0, True)  # none of the above closed the writer
        err, groups = close_raw(handle)
        assert err == 0 and groups.num_rows == 3
    finally:
        lib.loon_writer_destroy(handle)


def test_use_after_close_code_3(props):
    lib = library()
    batch = data.make_batch(3)
    err, handle, _ = raw_writer_new("after", batch.schema, props)
    try:
        assert write_raw(handle, batch)[0] == 0
        assert close_raw(handle)[0] == 0
        assert close_raw(handle) == (3, None)  # second close
        assert write_raw(handle, batch) == (3, True)  # write after close (array consumed)
        assert code_of(lib.loon_writer_flush(handle)) == 3
    finally:
        lib.loon_writer_destroy(handle)


def test_python_writer_raises_mapped_exceptions(props):
    with pytest.raises(loon.InvalidPropertiesError) as info:
        loon.Writer("p", data.SCHEMA, props.merged({"writer.policy": "bogus"}))
    assert info.value.code == 7 and info.value.function == "loon_writer_new"
    writer = loon.Writer("p", data.SCHEMA, props)
    with pytest.raises(loon.ArrowError) as info:
        writer.write(pa.record_batch({"id": pa.array([1], pa.int64())}))
    assert info.value.code == 3
    writer.destroy()
    writer.destroy()  # idempotent
    assert writer.handle == 0


@pytest.mark.parametrize(
    "point, step",
    [
        ("writer.write.fail", "write"),
        ("column_group.write.fail", "write"),
        ("writer.flush.fail", "flush"),
        ("writer.close.fail", "close"),
    ],
)
def test_injected_writer_faults_code_3(props, fs_root, point, step):
    if not loon.fault_injection_enabled():
        pytest.skip("engine built without fault injection")
    batch = data.make_batch(100)
    err, handle, _ = raw_writer_new("fault", batch.schema, props)
    try:
        with loon.injected(point, 1):
            if step == "write":
                assert write_raw(handle, batch) == (3, True)
            else:
                assert write_raw(handle, batch)[0] == 0
                if step == "flush":
                    assert code_of(library().loon_writer_flush(handle)) == 3
                else:
                    assert close_raw(handle) == (3, None)
        # one-time fault: the writer is still open and a retried close works
        err, groups = close_raw(handle)
        assert err == 0
        expected = 0 if step == "write" else 100
        assert (groups.num_rows if groups else 0) == expected
        if groups:
            assert read_files(fs_root, groups[0]).equals(pa.Table.from_batches([batch]))
    finally:
        library().loon_writer_destroy(handle)
