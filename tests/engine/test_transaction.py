"""Transactions (ffi_c.h 2.8 transaction) through the C ABI and ``loon.Transaction``: every function, its success
path with values checked, its error codes, the fixed apply order and the conflict strategies."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastavro
import pyarrow as pa
import pytest

import loon
from loon._ffi import ffi, library
from loon.column_groups import CColumnGroup, ColumnGroup, ColumnGroupFile, ColumnGroups
from loon.errors import check
from loon.manifest import Manifest, take_manifest
from loon.suite.avro_manifest import parse_manifest

from .ffi_results import code_of

FAIL, MERGE, OVERWRITE = 0, 1, 2
BASE = "ds"


# ---- helpers ---------------------------------------------------------------------------------


def group(columns: list[str], rows: list[int], name: str = "g", fmt: str = "parquet", base: str = BASE) -> ColumnGroup:
    """A column group of fabricated files (metadata only: commits never open data files)."""
    files = [
        ColumnGroupFile(f"{base}/_data/{name}_{i}.parquet", 0, n, {"file_size": str(100 + i)})
        for i, n in enumerate(rows)
    ]
    return ColumnGroup(list(columns), fmt, files)


class Handles:
    """Raw transaction handles of one test, destroyed (= aborted) at teardown."""

    def __init__(self, props: loon.Properties):
        self.props = props
        self.open: list[int] = []

    def begin_code(
        self,
        base: str = BASE,
        read_version: int = -1,
        resolve: int = FAIL,
        retry_limit: int = 1,
        props: loon.Properties | None = None,
    ) -> tuple[int, int]:
        out = ffi.new("LoonTransactionHandle*")
        with (props if props is not None else self.props).as_c() as c_props:
            code = code_of(
                library().loon_transaction_begin(base.encode(), c_props, read_version, resolve, retry_limit, out)
            )
        if out[0]:
            self.open.append(out[0])
        return code, out[0]

    def begin(self, *args: Any, **kwargs: Any) -> int:
        code, handle = self.begin_code(*args, **kwargs)
        assert code == 0 and handle != 0
        return handle

    def destroy(self, handle: int) -> None:
        self.open.remove(handle)
        library().loon_transaction_destroy(handle)

    def close_all(self) -> None:
        for handle in self.open:
            library().loon_transaction_destroy(handle)
        self.open.clear()


@pytest.fixture
def txns(props) -> Iterator[Handles]:
    handles = Handles(props)
    yield handles
    handles.close_all()


def read_version(handle: int) -> int:
    out = ffi.new("int64_t*", 12345)
    check(library().loon_transaction_get_read_version(handle, out))
    return int(out[0])


def manifest_of(handle: int) -> Manifest:
    out = ffi.new("LoonManifest**")
    check(library().loon_transaction_get_manifest(handle, out))
    assert out[0] != ffi.NULL
    return take_manifest(out[0])


def append(handle: int, groups: list[ColumnGroup]) -> int:
    holder = ColumnGroups(groups).to_c()
    return code_of(library().loon_transaction_append_files(handle, holder.ptr))


def add_group(handle: int, g: ColumnGroup) -> int:
    holder = CColumnGroup(g)
    return code_of(library().loon_transaction_add_column_group(handle, holder.ptr))


def commit_code(handle: int) -> tuple[int, int]:
    out = ffi.new("int64_t*", -7)
    code = code_of(library().loon_transaction_commit(handle, out))
    return code, int(out[0])


def commit(handle: int) -> int:
    code, version = commit_code(handle)
    assert code == 0, f"commit failed with code {code}"
    return version


def versions(fs_root: Path, base: str = BASE) -> list[int]:
    meta = fs_root / base / "_metadata"
    if not meta.exists():
        return []
    return sorted(int(p.name[len("manifest-") : -len(".avro")]) for p in meta.glob("manifest-*.avro") if p.is_file())


def seed(props: loon.Properties, n_versions: int, rows: int = 10) -> None:
    """``n_versions`` committed versions of BASE, each appending one file of ``rows`` rows."""
    for v in range(n_versions):
        loon.commit_groups(BASE, ColumnGroups([group(["id", "vec"], [rows], name=f"v{v}")]), props)


def install_manifest(fs_root: Path, base: str, version: int, record: dict[str, Any]) -> None:
    """Writes ``record`` as version ``version`` of ``base`` with fastavro, using the schema of
    version 1 (written by the engine): how a dataset with indexes and LOB files is made, since
    the FFI has no call that adds either."""
    meta = fs_root / base / "_metadata"
    schema = parse_manifest((meta / "manifest-1.avro").read_bytes()).schema
    buf = io.BytesIO()
    fastavro.writer(buf, fastavro.parse_schema(schema), [record])
    (meta / f"manifest-{version}.avro").write_bytes(buf.getvalue())


def index_record(column: str, index_id: int, name: str) -> dict[str, Any]:
    return {
        "column_name": column,
        "index_name": name,
        "index_type": "HNSW",
        "path": f"{name}.idx",
        "field_id": 100 + index_id,
        "index_id": index_id,
        "build_id": 7,
        "index_version": 2,
        "num_rows": 10,
        "serialized_size": 4096,
        "mem_size": 8192,
        "current_index_version": 3,
        "current_scalar_index_version": 4,
        "index_store_path_version": 1,
        "index_file_keys": [f"{name}/k0", f"{name}/k1"],
        "properties": {"metric": "L2"},
    }


@pytest.fixture
def indexed(props, fs_root) -> Path:
    """BASE at version 2: groups [id] and [vec] of 10 rows, indexes 11 (id), 12 and 13 (vec)."""
    with loon.Transaction(BASE, props) as txn:
        txn.append_files(ColumnGroups([group(["id"], [10], "a"), group(["vec"], [10], "b")]))
    record = parse_manifest((fs_root / BASE / "_metadata" / "manifest-1.avro").read_bytes()).record
    record["indexes"] = [index_record("id", 11, "pk"), index_record("vec", 12, "ann"), index_record("vec", 13, "ann2")]
    install_manifest(fs_root, BASE, 2, record)
    return fs_root


# ---- begin / get_read_version / get_manifest ------------------------------------------------


def test_begin_latest_on_empty_path_reads_version_0(txns):
    h = txns.begin(read_version=-1)
    assert read_version(h) == 0
    out = ffi.new("LoonManifest**")
    check(library().loon_transaction_get_manifest(h, out))
    m = out[0]
    try:
        assert m.column_groups.num_of_column_groups == 0
        assert m.delta_logs.num_delta_logs == 0
        assert m.stats.num_stats == 0
        assert m.lob_files.num_files == 0
        assert m.indexes.num_indexes == 0
    finally:
        library().loon_manifest_destroy(m)


def test_begin_latest_reads_newest_version(txns, props):
    seed(props, 3)
    h = txns.begin(read_version=-1)
    assert read_version(h) == 3
    m = manifest_of(h)
    assert [f.path for f in m.column_groups.files] == [f"{BASE}/_data/v{v}_0.parquet" for v in range(3)]
    assert m.num_rows == 30


def test_begin_exact_and_zero_versions(txns, props):
    seed(props, 3)
    h1 = txns.begin(read_version=1)
    assert read_version(h1) == 1
    assert [f.path for f in manifest_of(h1).column_groups.files] == [f"{BASE}/_data/v0_0.parquet"]
    h2 = txns.begin(read_version=2)
    assert manifest_of(h2).num_rows == 20
    h0 = txns.begin(read_version=0)
    assert read_version(h0) == 0
    m0 = manifest_of(h0)
    assert m0.column_groups == [] and m0.delta_logs == [] and m0.stats == {}


def test_begin_other_negative_version_is_kept_and_behaves_like_0(txns, props, fs_root):
    seed(props, 1)
    h = txns.begin(read_version=-5)
    assert read_version(h) == -5
    assert manifest_of(h).column_groups == []
    # Like version 0: a FAIL commit conflicts with version 1 that exists.
    assert append(h, [group(["id", "vec"], [4])]) == 0
    assert commit_code(h)[0] == 112
    assert versions(fs_root) == [1]


@pytest.mark.parametrize("missing", [1, 5])
def test_begin_at_missing_version_is_code_12(txns, props, missing):
    if missing == 5:
        seed(props, 2)
    code, handle = txns.begin_code(read_version=missing)
    assert code == 12
    assert handle == 0


def test_begin_argument_errors(props):
    lib = library()
    out = ffi.new("LoonTransactionHandle*")
    with props.as_c() as c_props:
        assert code_of(lib.loon_transaction_begin(ffi.NULL, c_props, -1, 0, 1, out)) == 1
        assert code_of(lib.loon_transaction_begin(BASE.encode(), c_props, -1, 0, 1, ffi.NULL)) == 1
    assert code_of(lib.loon_transaction_begin(BASE.encode(), ffi.NULL, -1, 0, 1, out)) == 1
    assert out[0] == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"transaction.commit.num-retries": "11"},
        {"transaction.commit.num-retries": "-1"},
        {"transaction.commit.num-retries": "three"},
        {"fs.storage_type": "floppy"},
    ],
)
def test_begin_bad_properties_is_code_7(txns, props, bad):
    code, handle = txns.begin_code(props=props.merged(bad))
    assert code == 7 and handle == 0


def test_get_manifest_and_read_version_argument_errors(txns):
    lib = library()
    h = txns.begin()
    assert code_of(lib.loon_transaction_get_manifest(0, ffi.new("LoonManifest**"))) == 1
    assert code_of(lib.loon_transaction_get_manifest(h, ffi.NULL)) == 1
    assert code_of(lib.loon_transaction_get_read_version(0, ffi.new("int64_t*"))) == 1
    assert code_of(lib.loon_transaction_get_read_version(h, ffi.NULL)) == 1


def test_get_manifest_excludes_pending_edits(txns):
    h = txns.begin()
    assert append(h, [group(["id"], [3])]) == 0
    check(library().loon_transaction_add_delta_log(h, b"ds/_delta/x", 1))
    m = manifest_of(h)
    assert m.column_groups == [] and m.delta_logs == []


# ---- append_files ---------------------------------------------------------------------------


def test_append_files_into_empty_dataset_then_accumulate(txns, props):
    h = txns.begin()
    assert append(h, [group(["id", "vec"], [5, 6], "a"), group(["blob"], [11], "b")]) == 0
    assert commit(h) == 1
    h2 = txns.begin()
    # Column order inside a group is ignored; two calls accumulate in call order.
    assert append(h2, [group(["vec", "id"], [1], "c"), group(["blob"], [1], "d")]) == 0
    assert append(h2, [group(["id", "vec"], [2], "e"), group(["blob"], [2], "f")]) == 0
    assert commit(h2) == 2
    _, m = loon.open_manifest(BASE, props)
    assert [g.columns for g in m.column_groups] == [["id", "vec"], ["blob"]]
    assert [f.path for f in m.column_groups[0].files] == [
        f"{BASE}/_data/{n}.parquet" for n in ("a_0", "a_1", "c_0", "e_0")
    ]
    assert [(f.start_index, f.end_index) for f in m.column_groups[1].files] == [(0, 11), (0, 1), (0, 2)]
    assert m.column_groups[0].files[1].properties == {"file_size": "101"}
    assert m.num_rows == 14 and m.column_groups[1].num_rows == 14


def test_append_files_argument_errors(txns):
    lib = library()
    h = txns.begin()
    holder = ColumnGroups([group(["id"], [1])]).to_c()
    assert code_of(lib.loon_transaction_append_files(0, holder.ptr)) == 1
    assert code_of(lib.loon_transaction_append_files(h, ffi.NULL)) == 1
    bad = ffi.new("LoonColumnGroups*")
    bad.num_of_column_groups = 2  # count > 0 with a NULL array
    assert code_of(lib.loon_transaction_append_files(h, bad)) == 4


@pytest.mark.parametrize(
    "groups",
    [
        [group(["id", "vec"], [1])],  # one group instead of two
        [group(["id", "vec"], [1]), group(["blob"], [1]), group(["x"], [1])],  # three
        [group(["id", "other"], [1]), group(["blob"], [1])],  # different column set
        [group(["id"], [1]), group(["blob"], [1])],  # different column count
        [group(["id", "vec"], [1], fmt="vortex"), group(["blob"], [1])],  # different format
    ],
    ids=["fewer-groups", "more-groups", "column-set", "column-count", "format"],
)
def test_append_files_shape_mismatch_fails_commit_with_4(txns, props, fs_root, groups):
    loon.commit_groups(BASE, ColumnGroups([group(["id", "vec"], [3]), group(["blob"], [3])]), props)
    h = txns.begin()
    assert append(h, groups) == 0  # recorded; validated at commit
    assert commit_code(h)[0] == 4
    assert versions(fs_root) == [1]


def test_two_appends_into_empty_dataset_must_agree(txns, fs_root):
    h = txns.begin()
    assert append(h, [group(["id"], [1])]) == 0
    assert append(h, [group(["id", "x"], [1])]) == 0
    assert commit_code(h)[0] == 4
    assert versions(fs_root) == []


# ---- add_column_group -------------------------------------------------------------------------


def test_add_column_group_matching_rows(txns, props):
    loon.commit_groups(BASE, ColumnGroups([group(["id"], [4, 6])]), props)
    h = txns.begin()
    assert add_group(h, group(["emb"], [7, 3], "e")) == 0
    assert commit(h) == 2
    m = manifest_of(txns.begin())
    assert [g.columns for g in m.column_groups] == [["id"], ["emb"]]
    assert [g.num_rows for g in m.column_groups] == [10, 10]
    assert m.column_groups[1].files[0].properties == {"file_size": "100"}


def test_add_column_group_into_empty_dataset_takes_any_rows(txns, props):
    h = txns.begin()
    assert add_group(h, group(["a"], [3])) == 0
    assert add_group(h, group(["b"], [3])) == 0
    assert commit(h) == 1
    assert [g.columns for g in manifest_of(txns.begin()).column_groups] == [["a"], ["b"]]


@pytest.mark.parametrize(
    "added",
    [group(["id"], [10]), group(["new", "id"], [10]), group(["new"], [9]), group([], [10])],
    ids=["existing-column", "one-existing-column", "row-mismatch", "no-columns"],
)
def test_add_column_group_validation_is_code_4(txns, props, fs_root, added):
    loon.commit_groups(BASE, ColumnGroups([group(["id"], [10])]), props)
    h = txns.begin()
    assert add_group(h, added) == 0
    assert commit_code(h)[0] == 4
    assert versions(fs_root) == [1]


def test_two_added_groups_may_not_share_a_column(txns, props, fs_root):
    loon.commit_groups(BASE, ColumnGroups([group(["id"], [10])]), props)
    h = txns.begin()
    assert add_group(h, group(["x"], [10])) == 0
    assert add_group(h, group(["x"], [10])) == 0
    assert commit_code(h)[0] == 4


def test_add_column_group_argument_errors(txns):
    lib = library()
    h = txns.begin()
    holder = CColumnGroup(group(["x"], [1]))
    assert code_of(lib.loon_transaction_add_column_group(0, holder.ptr)) == 1
    assert code_of(lib.loon_transaction_add_column_group(h, ffi.NULL)) == 1
    bad = ffi.new("LoonColumnGroup*")
    bad.num_of_columns = 1  # count > 0 with a NULL columns array
    assert code_of(lib.loon_transaction_add_column_group(h, bad)) == 4


def test_added_group_rows_compare_with_rows_before_this_transactions_appends(txns, props, fs_root):
    """Apply order (2.8): added groups are validated before appended files are applied."""
    loon.commit_groups(BASE, ColumnGroups([group(["id"], [10])]), props)
    h = txns.begin()
    assert append(h, [group(["id"], [5], "more")]) == 0
    assert add_group(h, group(["emb"], [15])) == 0  # rows after the append: rejected
    assert commit_code(h)[0] == 4
    txns.destroy(h)
    h = txns.begin()
    assert append(h, [group(["id"], [5], "more")]) == 0
    assert add_group(h, group(["emb"], [10])) == 0  # rows before the append: accepted
    assert commit(h) == 2
    m = manifest_of(txns.begin())
    assert [(g.columns, g.num_rows) for g in m.column_groups] == [(["id"], 15), (["emb"], 10)]


def test_append_and_add_group_on_empty_dataset(txns):
    """Appended files become the groups first, the added group is placed after them."""
    h = txns.begin()
    assert add_group(h, group(["emb"], [2])) == 0
    assert append(h, [group(["id"], [2])]) == 0
    assert commit(h) == 1
    assert [g.columns for g in manifest_of(txns.begin()).column_groups] == [["id"], ["emb"]]


# ---- drop_column / drop_index -------------------------------------------------------------------


def test_drop_column_removes_it_and_empty_groups(txns, props):
    loon.commit_groups(BASE, ColumnGroups([group(["id", "a"], [4]), group(["b"], [4])]), props)
    h = txns.begin()
    check(library().loon_transaction_drop_column(h, b"a"))
    check(library().loon_transaction_drop_column(h, b"b"))
    assert commit(h) == 2
    m = manifest_of(txns.begin())
    assert [g.columns for g in m.column_groups] == [["id"]]
    assert m.column_groups[0].files[0].path == f"{BASE}/_data/g_0.parquet"  # data files untouched


def test_drop_unknown_column_is_a_noop_edit(txns, props):
    loon.commit_groups(BASE, ColumnGroups([group(["id"], [4])]), props)
    h = txns.begin()
    check(library().loon_transaction_drop_column(h, b"nope"))
    assert commit(h) == 2  # recorded edit: a new, identical version
    assert [g.columns for g in manifest_of(txns.begin()).column_groups] == [["id"]]


def test_drop_then_re_add_same_column_in_one_transaction(txns, props):
    """Apply order: drops come before the validation of added groups."""
    loon.commit_groups(BASE, ColumnGroups([group(["id"], [4]), group(["emb"], [4])]), props)
    h = txns.begin()
    check(library().loon_transaction_drop_column(h, b"emb"))
    assert add_group(h, group(["emb"], [4], "emb2")) == 0
    assert commit(h) == 2
    m = manifest_of(txns.begin())
    assert [g.columns for g in m.column_groups] == [["id"], ["emb"]]
    assert m.column_groups[1].files[0].path == f"{BASE}/_data/emb2_0.parquet"


def test_drop_column_and_drop_index_argument_errors(txns):
    lib = library()
    h = txns.begin()
    assert code_of(lib.loon_transaction_drop_column(0, b"a")) == 1
    assert code_of(lib.loon_transaction_drop_column(h, ffi.NULL)) == 1
    assert code_of(lib.loon_transaction_drop_index(0, 5)) == 1
    assert code_of(lib.loon_transaction_drop_index(h, 0)) == 1


def test_indexes_are_exposed_by_get_manifest(txns, indexed):
    h = txns.begin()
    assert read_version(h) == 2
    ix = manifest_of(h).indexes
    assert [(x.column_name, x.index_id) for x in ix] == [("id", 11), ("vec", 12), ("vec", 13)]
    first = ix[0]
    assert (first.index_name, first.index_type, first.path) == ("pk", "HNSW", f"{BASE}/_index/pk.idx")
    assert (first.field_id, first.build_id, first.index_version, first.num_rows) == (111, 7, 2, 10)
    assert (first.serialized_size, first.mem_size) == (4096, 8192)
    assert first.index_file_keys == ["pk/k0", "pk/k1"] and first.properties == {"metric": "L2"}


def test_drop_index_removes_matching_entries(txns, indexed):
    h = txns.begin()
    check(library().loon_transaction_drop_index(h, 12))
    check(library().loon_transaction_drop_index(h, 999))  # unknown id: nothing to remove
    assert commit(h) == 3
    assert [x.index_id for x in manifest_of(txns.begin()).indexes] == [11, 13]


def test_drop_column_removes_its_indexes(txns, indexed):
    h = txns.begin()
    check(library().loon_transaction_drop_column(h, b"vec"))
    assert commit(h) == 3
    m = manifest_of(txns.begin())
    assert [g.columns for g in m.column_groups] == [["id"]]
    assert [x.index_id for x in m.indexes] == [11]


def test_append_files_drops_indexes_of_the_touched_groups(txns, indexed):
    h = txns.begin()
    assert append(h, [group(["id"], [], "a2"), group(["vec"], [5], "b2")]) == 0
    assert commit(h) == 3
    # Group 0 received no file, so only group 1's (vec) indexes are dropped.
    assert [x.index_id for x in manifest_of(txns.begin()).indexes] == [11]


# ---- add_delta_log / update_stat ------------------------------------------------------------------


def test_add_delta_log_accumulates_in_order(txns, props):
    h = txns.begin()
    lib = library()
    check(lib.loon_transaction_add_delta_log(h, f"{BASE}/_delta/d1.parquet".encode(), 3))
    check(lib.loon_transaction_add_delta_log(h, b"elsewhere/d2.parquet", 0))
    assert commit(h) == 1
    h2 = txns.begin()
    check(lib.loon_transaction_add_delta_log(h2, f"{BASE}/_delta/d3.parquet".encode(), 70000))
    assert commit(h2) == 2
    logs = manifest_of(txns.begin()).delta_logs
    assert [(d.path, d.num_entries) for d in logs] == [
        (f"{BASE}/_delta/d1.parquet", 3),
        (f"{BASE}/_delta/elsewhere/d2.parquet", 0),  # path rule trap (README "Manifest files")
        (f"{BASE}/_delta/d3.parquet", 70000),
    ]


def test_add_delta_log_argument_errors(txns):
    lib = library()
    h = txns.begin()
    assert code_of(lib.loon_transaction_add_delta_log(0, b"x", 1)) == 1
    assert code_of(lib.loon_transaction_add_delta_log(h, ffi.NULL, 1)) == 1


def _update_stat(h: int, key: bytes | None, files: list[bytes | None] | None, meta: dict | None, meta_len=None):
    keep = [ffi.new("char[]", f) if f is not None else ffi.NULL for f in files or []]
    c_files = ffi.NULL if files is None else ffi.new("const char*[]", keep or 1)
    c_keys = c_values = ffi.NULL
    if meta is not None:
        mk = [ffi.new("char[]", k) if k is not None else ffi.NULL for k in meta]
        mv = [ffi.new("char[]", v) if v is not None else ffi.NULL for v in meta.values()]
        keep += mk + mv
        c_keys, c_values = ffi.new("const char*[]", mk), ffi.new("const char*[]", mv)
    n_meta = len(meta or {}) if meta_len is None else meta_len
    c_key = ffi.NULL if key is None else ffi.new("char[]", key)
    return code_of(
        library().loon_transaction_update_stat(h, c_key, c_files, len(files or []), c_keys, c_values, n_meta)
    )


def test_update_stat_last_call_wins_and_null_entries_are_skipped(txns):
    h = txns.begin()
    assert _update_stat(h, b"zeta", [b"ds/_stats/old"], {b"k": b"old"}) == 0
    assert _update_stat(h, b"zeta", [b"ds/_stats/z1", None, b"ds/_stats/z2"], {b"k": b"v", None: b"x"}) == 0
    assert _update_stat(h, b"alpha", [], None) == 0  # empty list, non-NULL array: allowed
    assert commit(h) == 1
    stats = manifest_of(txns.begin()).stats
    assert list(stats) == ["alpha", "zeta"]  # sorted by key
    assert stats["zeta"].files == ["ds/_stats/z1", "ds/_stats/z2"]
    assert stats["zeta"].metadata == {"k": "v"}
    assert stats["alpha"].files == [] and stats["alpha"].metadata == {}


def test_update_stat_replaces_a_committed_stat(txns, props):
    with loon.Transaction(BASE, props) as txn:
        txn.update_stat("bloom", ["ds/_stats/a"], {"m": "1"})
        txn.update_stat("other", ["ds/_stats/o"])
    h = txns.begin()
    assert _update_stat(h, b"bloom", [b"ds/_stats/b"], None) == 0
    assert commit(h) == 2
    stats = manifest_of(txns.begin()).stats
    assert stats["bloom"].files == ["ds/_stats/b"] and stats["bloom"].metadata == {}
    assert stats["other"].files == ["ds/_stats/o"]


def test_update_stat_metadata_needs_both_arrays(txns):
    h = txns.begin()
    keep = [ffi.new("char[]", b"k")]
    keys = ffi.new("const char*[]", keep)
    files = ffi.new("const char*[]", [ffi.new("char[]", b"f")])
    check(library().loon_transaction_update_stat(h, b"s", files, 0, keys, ffi.NULL, 1))
    assert commit(h) == 1
    assert manifest_of(txns.begin()).stats["s"].metadata == {}


def test_update_stat_argument_errors(txns):
    h = txns.begin()
    assert _update_stat(0, b"k", [b"f"], None) == 1
    assert _update_stat(h, None, [b"f"], None) == 1
    assert _update_stat(h, b"k", None, None) == 1  # NULL files even with files_len == 0


# ---- commit / destroy -------------------------------------------------------------------------------


def test_commit_argument_errors_and_empty_transaction(txns, fs_root):
    lib = library()
    assert code_of(lib.loon_transaction_commit(0, ffi.new("int64_t*"))) == 1
    h = txns.begin()
    assert commit_code(h) == (4, -7)  # nothing recorded; out untouched
    assert versions(fs_root) == []


def test_commit_without_out_pointer_still_commits(txns, fs_root, our_engine):
    h = txns.begin()
    assert append(h, [group(["id"], [1])]) == 0
    check(library().loon_transaction_commit(h, ffi.NULL))
    assert versions(fs_root) == [1]


def test_commit_writes_latest_plus_one_at_commit_time(txns, props, fs_root):
    h = txns.begin(resolve=OVERWRITE)
    seed(props, 2)  # versions 1 and 2 appear after begin
    assert append(h, [group(["id", "vec"], [1])]) == 0
    assert commit(h) == 3


def test_commit_twice_fail_then_overwrite(txns, fs_root):
    h = txns.begin(resolve=FAIL)
    assert append(h, [group(["id"], [1])]) == 0
    assert commit(h) == 1
    assert commit_code(h)[0] == 112  # the handle re-applies its edits; version 1 is now newer
    ho = txns.begin(resolve=OVERWRITE)
    assert append(ho, [group(["id"], [2], "o")]) == 0
    assert commit(ho) == 2
    assert commit(ho) == 3  # OVERWRITE writes another version
    assert versions(fs_root) == [1, 2, 3]


def test_python_transaction_refuses_a_second_commit(props):
    txn = loon.Transaction(BASE, props)
    try:
        txn.append_files(ColumnGroups([group(["id"], [1])]))
        assert txn.commit() == 1
        with pytest.raises(loon.LogicalError) as info:
            txn.commit()
        assert info.value.code == 4
    finally:
        txn.abort()


def test_destroy_without_commit_is_abort(txns, props, fs_root):
    seed(props, 1)
    before = sorted(p.name for p in (fs_root / BASE).rglob("*"))
    h = txns.begin()
    assert append(h, [group(["id", "vec"], [5])]) == 0
    check(library().loon_transaction_add_delta_log(h, b"x", 1))
    txns.destroy(h)
    library().loon_transaction_destroy(0)  # 0 is a no-op
    assert sorted(p.name for p in (fs_root / BASE).rglob("*")) == before
    assert loon.latest_version(BASE, props) == 1


def test_python_transaction_aborts_on_exception(props, fs_root):
    with pytest.raises(RuntimeError), loon.Transaction(BASE, props) as txn:
        txn.append_files(ColumnGroups([group(["id"], [1])]))
        raise RuntimeError("boom")
    assert versions(fs_root) == []


# ---- conflicts, strategies and retries --------------------------------------------------------------


def test_fail_strategy_conflict_is_112(txns, props, fs_root):
    seed(props, 1)
    a, b = txns.begin(resolve=FAIL), txns.begin(resolve=FAIL)
    assert append(a, [group(["id", "vec"], [1], "a")]) == 0
    assert append(b, [group(["id", "vec"], [1], "b")]) == 0
    assert commit(a) == 2
    assert commit_code(b)[0] == 112
    assert versions(fs_root) == [1, 2]


def test_unknown_resolve_id_behaves_as_fail(txns, props):
    seed(props, 1)
    a, b = txns.begin(resolve=7), txns.begin(resolve=-3)
    assert append(a, [group(["id", "vec"], [1], "a")]) == 0
    assert append(b, [group(["id", "vec"], [1], "b")]) == 0
    assert commit(a) == 2
    assert commit_code(b)[0] == 112


def test_overwrite_discards_concurrent_versions(txns, props):
    seed(props, 1)
    a, b = txns.begin(resolve=FAIL), txns.begin(resolve=OVERWRITE)
    assert append(a, [group(["id", "vec"], [1], "a")]) == 0
    assert append(b, [group(["id", "vec"], [2], "b")]) == 0
    assert commit(a) == 2
    assert commit(b) == 3
    paths = [f.path for f in manifest_of(txns.begin()).column_groups.files]
    assert paths == [f"{BASE}/_data/v0_0.parquet", f"{BASE}/_data/b_0.parquet"]  # a's file is gone


def test_merge_rebases_commuting_appends_and_refuses_drops(txns, props, our_engine):
    seed(props, 1)
    a, b, c = txns.begin(resolve=MERGE), txns.begin(resolve=MERGE), txns.begin(resolve=MERGE)
    assert append(a, [group(["id", "vec"], [1], "a")]) == 0
    assert append(b, [group(["id", "vec"], [2], "b")]) == 0
    check(library().loon_transaction_drop_column(c, b"vec"))
    assert commit(a) == 2
    assert commit(b) == 3
    assert commit_code(c)[0] == 112
    paths = [f.path for f in manifest_of(txns.begin()).column_groups.files]
    assert paths == [f"{BASE}/_data/{n}_0.parquet" for n in ("v0", "a", "b")]


def test_merge_refuses_a_concurrently_changed_stat(txns, props, our_engine):
    a, b = txns.begin(resolve=MERGE), txns.begin(resolve=MERGE)
    assert _update_stat(a, b"s", [b"x"], None) == 0
    assert _update_stat(b, b"s", [b"y"], None) == 0
    assert commit(a) == 1
    assert commit_code(b)[0] == 112


def _block_version(fs_root: Path, version: int) -> None:
    """A directory named like version ``version``: listing ignores it (latest stays below), the
    create-only publish of that name always fails, so every commit attempt loses the race."""
    (fs_root / BASE / "_metadata" / f"manifest-{version}.avro").mkdir(parents=True)


@pytest.mark.parametrize(
    ("retry_limit", "num_retries", "attempts"),
    [(0, None, 1), (2, None, 3), (0, "3", 4), (4, "2", 5), (0, "0", 1)],
)
def test_lost_races_exhaust_retries_with_111(txns, props, fs_root, retry_limit, num_retries, attempts):
    """retry_limit extra attempts; ``transaction.commit.num-retries`` raises the budget
    (README "Compatibility": the larger of the two wins). Attempts are counted by the filesystem's
    output-stream opens (one temp file per publish attempt)."""
    _block_version(fs_root, 1)
    p = props if num_retries is None else props.merged({"transaction.commit.num-retries": num_retries})
    h = txns.begin(retry_limit=retry_limit, props=p)
    assert append(h, [group(["id"], [1])]) == 0
    with loon.Filesystem(props) as fs:
        fs.reset_metrics()
        assert commit_code(h)[0] == 111
        assert fs.metrics()["write_count"] == attempts
    assert versions(fs_root) == []


def test_retry_after_a_lost_race_resolves_against_the_new_version(txns, props, fs_root):
    """A real race: the first committer sleeps after resolving (sleep.before.commit.manifest),
    a second one commits meanwhile; with retries the sleeper re-resolves (FAIL -> 112,
    OVERWRITE -> next version), without retries it reports 111."""
    if not loon.fault_injection_enabled():
        pytest.skip("engine built without fault injection")
    seed(props, 1)
    slow = {s: txns.begin(resolve=s, retry_limit=r) for s, r in ((FAIL, 0), (OVERWRITE, 1))}
    slow_fail_retry = txns.begin(resolve=FAIL, retry_limit=1)
    for i, h in enumerate([*slow.values(), slow_fail_retry]):
        assert append(h, [group(["id", "vec"], [1], f"slow{i}")]) == 0
    results: dict[int, tuple[int, int]] = {}

    def run(h: int) -> None:
        results[h] = commit_code(h)

    threads = [threading.Thread(target=run, args=(h,)) for h in [*slow.values(), slow_fail_retry]]
    fast = txns.begin()
    assert append(fast, [group(["id", "vec"], [1], "fast")]) == 0
    with loon.Filesystem(props) as fs:  # the instance the transactions use: its listings count
        try:
            loon.faults.enable("sleep.before.commit.manifest", 3)  # each slow committer sleeps once
            fs.reset_metrics()
            for t in threads:
                t.start()
            # Each slow commit lists _metadata once (resolving against version 1), then sleeps 5 s. On a
            # loaded machine the threads can take seconds to get there: wait for all three listings (a
            # fast commit before one of them would change what it resolves against), then a moment for
            # the last one to reach its sleep, leaving the fast commit seconds before the first wakes.
            deadline = time.monotonic() + 60
            while fs.metrics()["get_file_info_count"] < 3:
                assert time.monotonic() < deadline, f"slow committers never listed: {fs.metrics()}"
                time.sleep(0.01)
            time.sleep(1.0)
            assert commit(fast) == 2  # the sleep count is spent: this commit does not sleep
            for t in threads:
                t.join(20)
        finally:
            loon.faults.disable_all()
    assert results[slow[FAIL]][0] == 111
    assert results[slow_fail_retry][0] == 112
    assert results[slow[OVERWRITE]] == (0, 3)
    paths = [f.path for f in manifest_of(txns.begin()).column_groups.files]
    assert paths == [f"{BASE}/_data/v0_0.parquet", f"{BASE}/_data/slow1_0.parquet"]


def test_base_path_cannot_leave_the_root(txns, fs_root):
    """Regression: begin on '../x' used to list and read outside fs.root_path (commit then failed
    with 4); the filesystem now refuses '..' at begin, with begin's fallback code 3."""
    (fs_root.parent / "outside" / "_metadata").mkdir(parents=True)
    code, handle = txns.begin_code(base="../outside")
    assert code == 3 and handle == 0
    code, handle = txns.begin_code(base="ok/../../outside", read_version=1)
    assert code == 3 and handle == 0
    assert list((fs_root.parent / "outside" / "_metadata").iterdir()) == []


def test_base_path_with_a_uri_goes_to_the_extfs_alias(props, fs_root, tmp_path):
    """Spec 1.8: a base path with a scheme is served by the matching ``extfs.<alias>.*`` set."""
    ext_root = tmp_path / "ext"
    p = props.merged(
        {"extfs.e.storage_type": "local", "extfs.e.root_path": str(ext_root), "extfs.e.bucket_name": "local"}
    )
    uri = "local:///local/ds"
    g = ColumnGroups([ColumnGroup(["id"], "parquet", [ColumnGroupFile(f"{uri}/_data/x.parquet", 0, 3)])])
    assert loon.commit_groups(uri, g, p) == 1
    assert (ext_root / "ds" / "_metadata" / "manifest-1.avro").is_file()
    assert versions(fs_root) == []  # nothing under the default root
    version, m = loon.open_manifest(uri, p)
    assert version == 1 and [f.path for f in m.column_groups.files] == [f"{uri}/_data/x.parquet"]
    with pytest.raises(loon.ArrowError) as info:  # no alias for this bucket
        loon.Transaction("local:///elsewhere/ds", p)
    assert info.value.code == 3


def test_merge_of_added_groups_needs_matching_rows_on_the_newest_version(txns, props, our_engine):
    loon.commit_groups(BASE, ColumnGroups([group(["id"], [10])]), props)
    a, b, narrow = (txns.begin(resolve=MERGE) for _ in range(3))
    assert add_group(a, group(["x"], [10], "x")) == 0
    assert add_group(b, group(["y"], [10], "y")) == 0
    assert append(narrow, [group(["id"], [5], "narrow")]) == 0
    assert commit(a) == 2
    assert commit(b) == 3  # a different new column with the same rows commutes
    assert commit_code(narrow)[0] == 112  # one group appended, the newest version has three
    grow, late_add = txns.begin(resolve=MERGE), txns.begin(resolve=MERGE)
    assert append(grow, [group(["id"], [5], "i5"), group(["x"], [5], "x5"), group(["y"], [5], "y5")]) == 0
    assert add_group(late_add, group(["z"], [10], "z")) == 0  # matches its snapshot (10 rows)
    assert commit(grow) == 4
    assert commit_code(late_add)[0] == 112  # the newest version has 15 rows
    m = manifest_of(txns.begin())
    assert [(g.columns, g.num_rows) for g in m.column_groups] == [(["id"], 15), (["x"], 15), (["y"], 15)]


# ---- end to end with real data ----------------------------------------------------------------------


def test_versions_read_back_exactly_with_real_data(props):
    """Appends, an added column group and a drop, each a version; every version reads back its
    own rows (time travel through begin at an exact version)."""
    first = pa.table({"id": pa.array(range(6), pa.int64()), "name": [f"n{i}" for i in range(6)]})
    second = pa.table({"id": pa.array(range(6, 10), pa.int64()), "name": [f"n{i}" for i in range(6, 10)]})
    v1 = loon.commit_groups(BASE, loon.write_dataset(BASE, first, props), props)
    v2 = loon.commit_groups(BASE, loon.write_dataset(BASE, second, props), props)
    score = pa.table({"score": pa.array([i / 2 for i in range(10)], pa.float64())})
    with loon.Transaction(BASE, props) as txn:
        txn.add_column_group(loon.write_dataset(BASE, score, props)[0])
    with loon.Transaction(BASE, props) as txn:
        txn.drop_column("name")
    assert (v1, v2, txn.committed_version) == (1, 2, 4)

    wide = pa.schema([("id", pa.int64()), ("name", pa.string()), ("score", pa.float64())])
    both = pa.concat_tables([first, second])
    assert loon.read_dataset(BASE, first.schema, props, version=1).equals(first)
    assert loon.read_dataset(BASE, first.schema, props, version=2).equals(both)
    v3 = loon.read_dataset(BASE, wide, props, version=3)
    assert v3.equals(both.append_column("score", score.column("score")))
    # Version 2 read with the wide schema: the column no group holds comes back as nulls.
    assert loon.read_dataset(BASE, wide, props, version=2).column("score").null_count == 10
    v4 = loon.read_dataset(BASE, wide, props)
    assert v4.column("name").null_count == 10  # dropped: no group holds it any more
    assert v4.select(["id", "score"]).equals(v3.select(["id", "score"]))
