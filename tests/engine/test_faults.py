"""Fault injection (ffi_c.h 2.11; README "Fault points") through the C ABI: enable/disable/disable_all/is_enabled, the
fail-count semantics (README "Fault points": 0 = always, 1 = once, n = next n), every exported key,
and representative points firing with the documented code, then succeeding once the count is spent."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest

import loon
from loon._ffi import ffi, library
from loon.column_groups import ColumnGroup, ColumnGroupFile, ColumnGroups
from loon.errors import check

from .ffi_results import code_of
from .spec_values import FAULT_KEYS

BASE = "ds"
ENGINE_ONLY_KEYS = {
    "fs_write_fail": "fs.write.fail",
    "writer_init_column_group_writers_fail": "writer.init_column_group_writers.fail",
    "commit_before_manifest_fail": "commit.before_manifest.fail",
    "fs_short_write_fail": "fs.short_write.fail",
}


def enable_code(name: bytes, count: int, name_len: int | None = None) -> int:
    c_name = ffi.NULL if name is None else name
    n = len(name or b"") if name_len is None else name_len
    return code_of(library().loon_fiu_enable(c_name, n, count))


def disable_code(name: bytes | None, name_len: int | None = None) -> int:
    c_name = ffi.NULL if name is None else name
    n = len(name or b"") if name_len is None else name_len
    return code_of(library().loon_fiu_disable(c_name, n))


@pytest.fixture(autouse=True)
def fiu() -> Iterator[None]:
    if not library().loon_fiu_is_enabled():
        pytest.skip("engine built without fault injection (libfiu)")
    library().loon_fiu_disable_all()
    yield
    library().loon_fiu_disable_all()


def group(name: str, rows: int = 5) -> ColumnGroups:
    return ColumnGroups([ColumnGroup(["id"], "parquet", [ColumnGroupFile(f"{BASE}/_data/{name}.parquet", 0, rows)])])


class PendingCommit:
    """A raw transaction with one recorded append, whose commit can be attempted repeatedly."""

    def __init__(self, props: loon.Properties, name: str = "f"):
        out = ffi.new("LoonTransactionHandle*")
        with props.as_c() as c_props:
            check(library().loon_transaction_begin(BASE.encode(), c_props, -1, 0, 1, out))
        self.handle = out[0]
        self._groups = group(name).to_c()
        check(library().loon_transaction_append_files(self.handle, self._groups.ptr))

    def attempt(self) -> tuple[int, int]:
        out = ffi.new("int64_t*", -1)
        return code_of(library().loon_transaction_commit(self.handle, out)), int(out[0])

    def close(self) -> None:
        library().loon_transaction_destroy(self.handle)


@pytest.fixture
def pending(props) -> Iterator[PendingCommit]:
    txn = PendingCommit(props)
    yield txn
    txn.close()


def versions(fs_root) -> list[str]:
    meta = fs_root / BASE / "_metadata"
    return sorted(p.name for p in meta.glob("manifest-*.avro")) if meta.exists() else []


# ---- the control functions --------------------------------------------------------------------------


def test_is_enabled_matches_library_info(engine):
    assert library().loon_fiu_is_enabled() == 1
    assert engine.fault_injection is True
    assert loon.fault_injection_enabled() is True


def test_enable_and_disable_argument_errors(our_engine):
    assert enable_code(None, 1, 5) == 1
    assert enable_code(b"manifest.commit.fail", 1, 0) == 1
    assert enable_code(b"manifest.commit.fail", -2) == 1  # a negative fail count is meaningless
    assert disable_code(None, 5) == 1
    assert disable_code(b"manifest.commit.fail", 0) == 1


def test_any_name_can_be_armed_and_disarming_an_unarmed_point_succeeds():
    assert enable_code(b"no.code.evaluates.this", 0) == 0
    assert disable_code(b"no.code.evaluates.this") == 0
    assert disable_code(b"never.armed") == 0
    assert disable_code(b"manifest.commit.fail") == 0


def test_every_exported_key_is_readable_and_armable(our_engine):
    exported = loon.faults.fault_points()
    for suffix, name in {**FAULT_KEYS, **ENGINE_ONLY_KEYS}.items():
        assert exported.get(suffix) == name, suffix
        raw = ffi.string(getattr(library(), f"loon_fiukey_{suffix}"))
        assert raw == name.encode()
        assert enable_code(raw, 1) == 0, name
        assert disable_code(raw) == 0, name


def test_name_is_taken_as_name_len_bytes(pending, fs_root):
    raw = b"manifest.commit.fail-and-more-bytes"
    assert enable_code(raw, 1, len(b"manifest.commit.fail")) == 0
    assert pending.attempt()[0] == 4
    assert pending.attempt() == (0, 1)


# ---- fail-count semantics (README "Fault points") ------------------------------------------------------------


def test_count_1_fails_once_then_the_retry_succeeds(pending, fs_root):
    assert enable_code(b"manifest.commit.fail", 1) == 0
    assert pending.attempt() == (4, -1)
    assert versions(fs_root) == []
    assert pending.attempt() == (0, 1)


def test_count_0_fails_until_disabled(pending, fs_root):
    assert enable_code(b"manifest.commit.fail", 0) == 0
    for _ in range(4):
        assert pending.attempt()[0] == 4
    assert versions(fs_root) == []
    assert disable_code(b"manifest.commit.fail") == 0
    assert pending.attempt() == (0, 1)


@pytest.mark.parametrize("n", [2, 5])
def test_count_n_fails_the_next_n_evaluations(pending, n, our_engine):
    assert enable_code(b"manifest.commit.fail", n) == 0
    assert [pending.attempt()[0] for _ in range(n)] == [4] * n
    assert pending.attempt() == (0, 1)


def test_re_arming_replaces_the_remaining_count(pending, our_engine):
    assert enable_code(b"manifest.commit.fail", 5) == 0
    assert enable_code(b"manifest.commit.fail", 1) == 0
    assert pending.attempt()[0] == 4
    assert pending.attempt() == (0, 1)


def test_disable_stops_a_counted_point_early(pending, our_engine):
    assert enable_code(b"manifest.commit.fail", 3) == 0
    assert pending.attempt()[0] == 4
    assert disable_code(b"manifest.commit.fail") == 0
    assert pending.attempt() == (0, 1)


def test_disable_all_disarms_every_builtin_point(pending, props):
    for name in (b"manifest.commit.fail", b"manifest.write.fail", b"fs.open_output.fail", b"fs.write.fail"):
        assert enable_code(name, 0) == 0
    assert pending.attempt()[0] == 4
    library().loon_fiu_disable_all()
    assert pending.attempt() == (0, 1)
    with loon.Filesystem(props) as fs:
        fs.write("after.bin", b"ok")
        assert fs.read_all("after.bin") == b"ok"


def test_fault_state_is_global_across_handles(props):
    a, b = PendingCommit(props, "a"), PendingCommit(props, "b")
    try:
        assert enable_code(b"manifest.commit.fail", 2) == 0
        assert a.attempt()[0] == 4
        assert b.attempt()[0] == 4  # the second evaluation, through another handle
        assert a.attempt() == (0, 1)
    finally:
        a.close()
        b.close()


# ---- representative points ----------------------------------------------------------------------------


def test_manifest_read_fail_fires_only_for_versions_above_0(props):
    loon.commit_groups(BASE, group("v1"), props)
    assert enable_code(b"manifest.read.fail", 1) == 0
    txn = loon.Transaction(BASE, props, read_version=0)  # version 0 loads nothing: not evaluated
    txn.abort()
    # Not evaluated by loon_exttable_read_manifest either.
    assert loon.read_manifest_file(f"{BASE}/_metadata/manifest-1.avro", props).num_rows == 5
    with pytest.raises(loon.ArrowError) as info:
        loon.Transaction(BASE, props, read_version=1)
    assert info.value.code == 3
    assert loon.open_manifest(BASE, props)[0] == 1  # the count is used up


@pytest.mark.parametrize(
    "point", ["manifest.write.fail", "fs.open_output.fail", "fs.write.fail", "fs.short_write.fail"]
)
def test_commit_write_faults_are_4_and_leave_no_version(pending, fs_root, point):
    assert enable_code(point.encode(), 1) == 0
    assert pending.attempt() == (4, -1)
    assert versions(fs_root) == []
    meta = fs_root / BASE / "_metadata"
    assert not meta.exists() or list(meta.iterdir()) == []  # no temp file left behind either
    assert pending.attempt() == (0, 1)


def test_fs_open_output_fail_in_filesystem_calls_is_3(props, fs_root):
    lib = library()
    with loon.Filesystem(props) as fs:
        assert enable_code(b"fs.open_output.fail", 2) == 0
        assert code_of(lib.loon_filesystem_write_file(fs.handle, b"w.bin", 5, b"data", 4, ffi.NULL, 0)) == 3
        out = ffi.new("FileSystemWriterHandle*")
        assert code_of(lib.loon_filesystem_open_writer(fs.handle, b"w.bin", 5, ffi.NULL, 0, False, out)) == 3
        assert not (fs_root / "w.bin").exists()
        fs.write("w.bin", b"data")
        assert (fs_root / "w.bin").read_bytes() == b"data"


def test_fs_open_input_fail_hits_opens_by_path(props):
    lib = library()
    with loon.Filesystem(props) as fs:
        fs.write("in.bin", b"0123456789")
        h = fs.handle
        buf = ffi.new("uint8_t[4]")
        data, size = ffi.new("uint8_t**"), ffi.new("uint64_t*")
        meta, count = ffi.new("LoonFileSystemMeta**"), ffi.new("uint32_t*")
        reader = ffi.new("FileSystemReaderHandle*")
        assert enable_code(b"fs.open_input.fail", 0) == 0
        assert code_of(lib.loon_filesystem_read_file(h, b"in.bin", 6, 0, 4, buf)) == 3
        assert code_of(lib.loon_filesystem_read_file_all(h, b"in.bin", 6, data, size)) == 3
        assert code_of(lib.loon_filesystem_get_file_stats(h, b"in.bin", 6, size, meta, count)) == 3
        assert code_of(lib.loon_filesystem_open_reader(h, b"in.bin", 6, 0, reader)) == 3
        # A reader opened with its known size does not look the file up: the point is not hit.
        check(lib.loon_filesystem_open_reader(h, b"in.bin", 6, 10, reader))
        try:
            check(lib.loon_filesystem_reader_readat(reader[0], 6, 4, buf))
            assert bytes(buf) == b"6789"
        finally:
            lib.loon_filesystem_reader_destroy(reader[0])
        assert disable_code(b"fs.open_input.fail") == 0
        assert fs.read("in.bin", 0, 4) == b"0123"


def test_writer_write_fail_then_the_writer_goes_on(props):
    table = pa.table({"id": pa.array(range(8), pa.int64())})
    with loon.Writer(BASE, table.schema, props) as writer:
        assert enable_code(b"writer.write.fail", 1) == 0
        with pytest.raises(loon.ArrowError) as info:
            writer.write(table)
        assert info.value.code == 3
        writer.write(table)  # the count is spent: the same batch goes in
    assert writer.column_groups is not None and writer.column_groups.num_rows == 8


def test_s3_points_never_fire_on_local_storage(pending, props):
    for suffix, name in FAULT_KEYS.items():
        if suffix.startswith("s3fs_"):
            assert enable_code(name.encode(), 0) == 0
    with loon.Filesystem(props) as fs:
        fs.write("s3.bin", b"local")
        assert fs.read_all("s3.bin") == b"local"
    assert pending.attempt() == (0, 1)


def test_fs_write_faults_in_filesystem_streams_are_3(props, fs_root, our_engine):
    lib = library()
    with loon.Filesystem(props) as fs:
        assert enable_code(b"fs.write.fail", 1) == 0
        assert code_of(lib.loon_filesystem_write_file(fs.handle, b"w.bin", 5, b"abcdef", 6, ffi.NULL, 0)) == 3
        assert enable_code(b"fs.short_write.fail", 1) == 0
        writer = fs.open_writer("torn.bin")
        try:
            assert code_of(lib.loon_filesystem_writer_write(writer._handle, b"abcdef", 6)) == 3
            check(lib.loon_filesystem_writer_close(writer._handle))
        finally:
            writer.destroy()
        assert (fs_root / "torn.bin").read_bytes() == b"abc"  # half the bytes, then the failure
        fs.write("w.bin", b"abcdef")  # both counts are spent
        assert fs.read_all("w.bin") == b"abcdef"


def test_fs_open_input_fail_breaks_manifest_reads(props):
    loon.commit_groups(BASE, group("v1"), props)
    # Without the metadata cache (which keeps the version this process just published) every
    # manifest read goes to storage.
    props = props.merged({"reader.metadata_cache.enable": "false"})
    assert enable_code(b"fs.open_input.fail", 2) == 0
    with pytest.raises(loon.ArrowError) as begin_error:
        loon.Transaction(BASE, props, read_version=1)
    with pytest.raises(loon.ArrowError) as read_error:
        loon.read_manifest_file(f"{BASE}/_metadata/manifest-1.avro", props)
    assert begin_error.value.code == 3 and read_error.value.code == 3
    assert loon.open_manifest(BASE, props)[1].num_rows == 5
