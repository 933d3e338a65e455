"""Manifest and column-group objects (ffi_c.h 2.3 and 3.4; README "Manifest files") and ``loon_exttable_read_manifest``
(2.9) through the C ABI: every section of a full manifest, debug strings, destroy, path rules."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import loon
from loon._ffi import ffi, library
from loon.column_groups import ColumnGroup, ColumnGroupFile, ColumnGroups
from loon.errors import check
from loon.manifest import Manifest, read_manifest_file, take_manifest
from loon.suite import fixtures
from loon.suite.avro_manifest import parse_manifest

from .test_transaction import BASE, code_of, group, index_record, install_manifest


def _take_string(raw: Any) -> str:
    assert raw != ffi.NULL
    try:
        return ffi.string(raw).decode()
    finally:
        library().loon_free_cstr(raw)


@pytest.fixture
def full(props, fs_root) -> Path:
    """BASE at version 2 with every manifest section filled: two groups, delta logs, stats, one
    LOB file, two indexes. Version 1 is committed by the engine, version 2 written with fastavro
    on the engine's schema (the FFI has no call adding LOB files or indexes)."""
    with loon.Transaction(BASE, props) as txn:
        txn.append_files(ColumnGroups([group(["id", "name"], [4, 6], "a"), group(["vec"], [10], "b")]))
        txn.add_delta_log(f"{BASE}/_delta/del_1.parquet", 3)
        txn.add_delta_log(f"{BASE}/_delta/del_2.parquet", 5)
        txn.update_stat("zz.bloom", [f"{BASE}/_stats/bloom.bin"], {"fpp": "0.01"})
        txn.update_stat("aa.minmax", [f"{BASE}/_stats/mm.bin"])
    record = parse_manifest((fs_root / BASE / "_metadata" / "manifest-1.avro").read_bytes()).record
    record["indexes"] = [index_record("vec", 21, "ann"), index_record("id", 22, "pk")]
    record["lob_files"] = [
        {"path": "lob_0.bin", "field_id": 105, "total_rows": 10, "valid_rows": 8, "file_size_bytes": 65536}
    ]
    install_manifest(fs_root, BASE, 2, record)
    return fs_root


@pytest.fixture
def c_manifest(props, full) -> Iterator[Any]:
    """The raw ``LoonManifest*`` of version 2, destroyed after the test."""
    txn = loon.Transaction(BASE, props, read_version=2)
    out = ffi.new("LoonManifest**")
    check(library().loon_transaction_get_manifest(txn.handle, out))
    txn.abort()  # the manifest is an independent copy
    yield out[0]
    library().loon_manifest_destroy(out[0])


def _s(ptr: Any) -> str:
    return ffi.string(ptr).decode()


# ---- the C struct of a full manifest ------------------------------------------------------------


def test_manifest_layout_is_the_full_128_bytes():
    assert ffi.sizeof("LoonManifest") == 128
    assert ffi.offsetof("LoonManifest", "lob_files") == 96
    assert ffi.offsetof("LoonManifest", "indexes") == 112


def test_column_groups_section(c_manifest):
    cg = c_manifest.column_groups
    assert cg.num_of_column_groups == 2
    g0, g1 = cg.column_group_array[0], cg.column_group_array[1]
    assert [_s(g0.columns[i]) for i in range(g0.num_of_columns)] == ["id", "name"]
    assert _s(g0.format) == "parquet" and g0.num_of_files == 2
    f1 = g0.files[1]
    assert (_s(f1.path), f1.start_index, f1.end_index) == (f"{BASE}/_data/a_1.parquet", 0, 6)
    assert f1.num_properties == 1
    assert (_s(f1.property_keys[0]), _s(f1.property_values[0])) == ("file_size", "101")
    assert [_s(g1.columns[i]) for i in range(g1.num_of_columns)] == ["vec"]


def test_delta_logs_and_stats_sections(c_manifest):
    dl = c_manifest.delta_logs
    assert dl.num_delta_logs == 2
    assert [(_s(dl.delta_log_paths[i]), dl.delta_log_num_entries[i]) for i in range(2)] == [
        (f"{BASE}/_delta/del_1.parquet", 3),
        (f"{BASE}/_delta/del_2.parquet", 5),
    ]
    st = c_manifest.stats
    assert st.num_stats == 2
    assert [_s(st.stat_keys[i]) for i in range(2)] == ["aa.minmax", "zz.bloom"]  # sorted by key
    assert st.stat_file_counts[1] == 1 and _s(st.stat_files[1][0]) == f"{BASE}/_stats/bloom.bin"
    assert st.stat_metadata_counts[1] == 1
    assert (_s(st.stat_metadata_keys[1][0]), _s(st.stat_metadata_values[1][0])) == ("fpp", "0.01")
    assert st.stat_metadata_counts[0] == 0


def test_lob_files_and_indexes_sections(c_manifest):
    lob = c_manifest.lob_files
    assert lob.num_files == 1
    f = lob.files[0]
    assert (_s(f.path), f.field_id, f.total_rows, f.valid_rows, f.file_size_bytes) == (
        "lobs/lob_0.bin",  # stored relative to <base>/../lobs/; BASE's parent is the root
        105,
        10,
        8,
        65536,
    )
    ix = c_manifest.indexes
    assert ix.num_indexes == 2
    x = ix.indexes[0]
    assert (_s(x.column_name), _s(x.index_name), _s(x.index_type)) == ("vec", "ann", "HNSW")
    assert _s(x.path) == f"{BASE}/_index/ann.idx"
    assert (x.field_id, x.index_id, x.build_id, x.index_version) == (121, 21, 7, 2)
    assert (x.num_rows, x.serialized_size, x.mem_size) == (10, 4096, 8192)
    assert (x.current_index_version, x.current_scalar_index_version, x.index_store_path_version) == (3, 4, 1)
    assert [_s(x.index_file_keys[i]) for i in range(x.num_index_file_keys)] == ["ann/k0", "ann/k1"]
    assert x.num_properties == 1
    assert (_s(x.property_keys[0]), _s(x.property_values[0])) == ("metric", "L2")
    assert _s(ix.indexes[1].column_name) == "id"


def test_manifest_debug_string_names_every_section(c_manifest):
    text = _take_string(library().loon_manifest_debug_string(c_manifest))
    for needle in (
        "id",
        "vec",
        "parquet",
        f"{BASE}/_data/a_1.parquet",
        "del_2.parquet",
        "zz.bloom",
        "fpp",
        "lobs/lob_0.bin",
        "ann",
        "HNSW",
    ):
        assert needle in text, needle


def test_null_objects_are_handled():
    lib = library()
    assert "null" in _take_string(lib.loon_manifest_debug_string(ffi.NULL)).lower()
    assert "null" in _take_string(lib.loon_column_groups_debug_string(ffi.NULL)).lower()
    lib.loon_manifest_destroy(ffi.NULL)
    lib.loon_column_groups_destroy(ffi.NULL)
    lib.loon_free_cstr(ffi.NULL)


def test_empty_manifest_debug_string(props):
    txn = loon.Transaction(BASE, props)
    try:
        m = txn.manifest()
    finally:
        txn.abort()
    assert m.column_groups == [] and m.lob_files == [] and m.indexes == []
    assert m.debug_string.strip()  # a dump even when every section is empty


# ---- column groups: library-allocated and caller-built -----------------------------------------------


def test_writer_column_groups_debug_string_and_destroy(props):
    table = pa.table({"id": pa.array(range(20), pa.int64()), "v": pa.array([1.5] * 20)})
    writer = loon.Writer(BASE, table.schema, props)
    try:
        writer.write(table)
        out = ffi.new("LoonColumnGroups**")
        check(library().loon_writer_close(writer.handle, ffi.NULL, ffi.NULL, 0, out))
    finally:
        writer.destroy()
    groups = out[0]
    try:
        assert groups.num_of_column_groups == 1
        g = groups.column_group_array[0]
        path = _s(g.files[0].path)
        assert path.startswith(f"{BASE}/_data/0_") and path.endswith(".parquet")
        text = _take_string(library().loon_column_groups_debug_string(groups))
    finally:
        library().loon_column_groups_destroy(groups)
    for needle in ("id", "v", "parquet", path, "[0, 20)", "file_size", "footer_size"):
        assert needle in text, needle


def test_caller_built_column_groups_debug_string():
    groups = ColumnGroups(
        [
            ColumnGroup(["a", "b"], "parquet", [ColumnGroupFile("x/_data/f.parquet", 2, 9, {"file_size": "77"})]),
            ColumnGroup(["c"], "vortex", []),
        ]
    )
    text = groups.debug_string()
    for needle in ("a", "b", "c", "vortex", "x/_data/f.parquet", "[2, 9)", "77"):
        assert needle in text, needle


# ---- stored paths (5.6) -----------------------------------------------------------------------------


def test_paths_are_stored_relative_and_restored(props, fs_root):
    files = [
        ColumnGroupFile(f"{BASE}/_data/0_x.parquet", 0, 1),
        ColumnGroupFile("other/y.parquet", 0, 1),
        ColumnGroupFile("/abs/z.parquet", 0, 1),
        ColumnGroupFile("local:///local/u.parquet", 0, 1),
    ]
    with loon.Transaction(BASE, props) as txn:
        txn.append_files(ColumnGroups([ColumnGroup(["id"], "parquet", files)]))
        txn.add_delta_log(f"{BASE}/_delta/d.parquet", 1)
        txn.update_stat("s", [f"{BASE}/_stats/s.bin", "/abs/s2.bin"])
    stored = parse_manifest((fs_root / BASE / "_metadata" / "manifest-1.avro").read_bytes()).record
    assert [f["path"] for f in stored["column_groups"][0]["files"]] == [
        "0_x.parquet",
        "other/y.parquet",
        "/abs/z.parquet",
        "local:///local/u.parquet",
    ]
    assert stored["delta_logs"][0]["path"] == "d.parquet"
    assert stored["stats"]["s"]["paths"] == ["s.bin", "/abs/s2.bin"]
    _, m = loon.open_manifest(BASE, props)
    assert [f.path for f in m.column_groups.files] == [
        f"{BASE}/_data/0_x.parquet",
        f"{BASE}/_data/other/y.parquet",  # path rule trap (README "Manifest files")
        "/abs/z.parquet",
        "local:///local/u.parquet",
    ]
    assert m.delta_logs[0].path == f"{BASE}/_delta/d.parquet"
    assert m.stats["s"].files == [f"{BASE}/_stats/s.bin", "/abs/s2.bin"]


# ---- loon_exttable_read_manifest ----------------------------------------------------------------------


def _read_code(path: bytes | None, props: loon.Properties | None, out: Any = None) -> int:
    out = out if out is not None else ffi.new("LoonManifest**")
    c_path = ffi.NULL if path is None else path
    if props is None:
        return code_of(library().loon_exttable_read_manifest(c_path, ffi.NULL, out))
    with props.as_c() as c_props:
        return code_of(library().loon_exttable_read_manifest(c_path, c_props, out))


def _without_debug(m: Manifest) -> Manifest:
    m.debug_string = ""
    return m


def test_read_manifest_equals_the_transaction_view(props, full):
    for version in (1, 2):
        by_path = read_manifest_file(f"{BASE}/_metadata/manifest-{version}.avro", props)
        _, by_txn = loon.open_manifest(BASE, props, version)
        assert by_path.debug_string == by_txn.debug_string
        assert _without_debug(by_path) == _without_debug(by_txn)
    assert len(by_path.indexes) == 2 and len(by_path.lob_files) == 1


def test_read_manifest_derives_the_base_from_the_grandparent(props, full):
    target = full / "moved" / "deeper" / "_metadata"
    target.mkdir(parents=True)
    shutil.copy(full / BASE / "_metadata" / "manifest-1.avro", target / "manifest-9.avro")
    m = read_manifest_file("moved/deeper/_metadata/manifest-9.avro", props)
    assert m.column_groups.files[0].path == "moved/deeper/_data/a_0.parquet"
    assert m.delta_logs[0].path == "moved/deeper/_delta/del_1.parquet"


def test_read_manifest_does_not_need_a_version_name(props, full):
    shutil.copy(full / BASE / "_metadata" / "manifest-1.avro", full / BASE / "_metadata" / "snapshot.bin")
    m = read_manifest_file(f"{BASE}/_metadata/snapshot.bin", props)
    assert m.num_rows == 10 and m.columns == ["id", "name", "vec"]


@pytest.mark.parametrize("version", [1, 2, 3])
def test_read_manifest_of_legacy_raw_formats(props, version):
    fixtures.install_tree(fixtures.legacy_dir(version), props, "leg")
    m = read_manifest_file("leg/_metadata/manifest-1.avro", props)
    assert m.num_rows == fixtures.legacy_expected(version).num_rows
    assert sorted(m.columns) == ["id", "name", "value"]
    assert all(f.path.startswith("leg/_data/") for f in m.column_groups.files)


def test_read_manifest_argument_errors(props, full):
    path = f"{BASE}/_metadata/manifest-1.avro".encode()
    assert _read_code(None, props) == 1
    assert _read_code(b"", props) == 1
    assert _read_code(path, None) == 1
    with props.as_c() as c_props:
        assert code_of(library().loon_exttable_read_manifest(path, c_props, ffi.NULL)) == 1


def test_read_manifest_absent_file_is_12(props, full):
    out = ffi.new("LoonManifest**")
    assert _read_code(f"{BASE}/_metadata/manifest-77.avro".encode(), props, out) == 12
    assert out[0] == ffi.NULL


def test_read_manifest_bad_properties_is_3_not_7(props, full):
    bad = props.merged({"fs.storage_type": "floppy"})
    assert _read_code(f"{BASE}/_metadata/manifest-1.avro".encode(), bad) == 3


@pytest.mark.parametrize("content", [b"", b"not a manifest at all", b"Obj\x01" + b"\x00" * 40])
def test_read_manifest_of_garbage_is_3(props, fs_root, content):
    (fs_root / "junk" / "_metadata").mkdir(parents=True)
    (fs_root / "junk" / "_metadata" / "manifest-1.avro").write_bytes(content)
    out = ffi.new("LoonManifest**")
    assert _read_code(b"junk/_metadata/manifest-1.avro", props, out) == 3
    assert out[0] == ffi.NULL


def test_read_manifest_copy_outlives_the_file(props, full):
    out = ffi.new("LoonManifest**")
    assert _read_code(f"{BASE}/_metadata/manifest-2.avro".encode(), props, out) == 0
    shutil.rmtree(full / BASE)
    m = take_manifest(out[0])
    assert m.indexes[1].column_name == "id" and m.num_rows == 10
