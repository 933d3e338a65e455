"""Filesystem API (ffi_c.h 2.10 filesystem): all 23 functions, metrics and the instance cache through the C ABI,
each with its success path (values checked) and its error codes (1 / 4 / 7 / 12 / 102)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import loon
from loon._ffi import ffi, library
from loon.errors import check
from loon.filesystem import METRIC_FIELDS

from .ffi_results import code_of


def get_fs(props: loon.Properties, path: bytes = b"") -> tuple[int, int]:
    out = ffi.new("FileSystemHandle*", 99)
    with props.as_c() as c_props:
        code = code_of(library().loon_filesystem_get(c_props, path if path else ffi.NULL, len(path), out))
    return code, out[0]


@pytest.fixture
def fs(props) -> Iterator[int]:
    """A raw filesystem handle on the test's local root."""
    code, handle = get_fs(props)
    assert code == 0 and handle != 0
    yield handle
    library().loon_filesystem_destroy(handle)


def write(fs: int, path: str, data: bytes) -> None:
    raw = path.encode()
    check(library().loon_filesystem_write_file(fs, raw, len(raw), data, len(data), ffi.NULL, 0))


def metrics(fs: int) -> dict[str, int]:
    out = ffi.new("LoonFilesystemMetricsSnapshot*")
    check(library().loon_filesystem_get_metrics(fs, out))
    return {name: int(getattr(out, name)) for name in METRIC_FIELDS}


def path_info(fs: int, path: str) -> tuple[int, bool, bool, int]:
    raw = path.encode()
    exists, is_dir, mtime = ffi.new("bool*", True), ffi.new("bool*"), ffi.new("int64_t*")
    code = code_of(library().loon_filesystem_get_path_info(fs, raw, len(raw), exists, is_dir, mtime))
    return code, bool(exists[0]), bool(is_dir[0]), int(mtime[0])


# ---- get / destroy / close_filesystems ----------------------------------------------------------


def test_get_creates_a_missing_root(tmp_path):
    root = tmp_path / "not" / "yet"
    code, handle = get_fs(loon.Properties({"fs.storage_type": "local", "fs.root_path": str(root)}))
    try:
        assert code == 0 and handle != 0
        assert root.is_dir()
    finally:
        library().loon_filesystem_destroy(handle)


def test_get_with_a_file_as_root_fails(tmp_path):
    (tmp_path / "file").write_bytes(b"x")
    code, handle = get_fs(loon.Properties({"fs.storage_type": "local", "fs.root_path": str(tmp_path / "file")}))
    assert code == 3 and handle == 0


def test_get_argument_errors(props):
    lib = library()
    out = ffi.new("FileSystemHandle*")
    assert code_of(lib.loon_filesystem_get(ffi.NULL, ffi.NULL, 0, out)) == 1
    with props.as_c() as c_props:
        assert code_of(lib.loon_filesystem_get(c_props, ffi.NULL, 0, ffi.NULL)) == 1


@pytest.mark.parametrize(
    "bad",
    [{"fs.storage_type": "floppy"}, {"fs.use_ssl": "yes"}, {"fs.request_timeout_ms": "soon"}],
)
def test_get_bad_properties_is_7(props, bad):
    code, handle = get_fs(props.merged(bad))
    assert code == 7 and handle == 0


def test_handles_with_equal_properties_share_one_instance(props):
    _, a = get_fs(props)
    _, b = get_fs(loon.Properties(dict(props)))
    try:
        check(library().loon_filesystem_reset_metrics(a))
        write(a, "shared.bin", b"12345")
        assert metrics(b)["write_bytes"] == 5  # same counters through the other handle
        check(library().loon_filesystem_reset_metrics(b))
        assert metrics(a)["write_bytes"] == 0
    finally:
        library().loon_filesystem_destroy(a)
        library().loon_filesystem_destroy(b)
    library().loon_filesystem_destroy(0)  # 0 is a no-op


def test_close_filesystems_keeps_existing_handles_working(props, fs_root):
    _, old = get_fs(props)
    try:
        write(old, "before.bin", b"abc")
        library().loon_close_filesystems()
        write(old, "after.bin", b"defg")  # the old handle keeps its instance
        assert (fs_root / "after.bin").read_bytes() == b"defg"
        assert metrics(old)["write_bytes"] >= 7
        _, new = get_fs(props)
        try:
            assert metrics(new)["write_bytes"] == 0  # a fresh instance after the cache was emptied
        finally:
            library().loon_filesystem_destroy(new)
    finally:
        library().loon_filesystem_destroy(old)


def test_get_with_a_uri_uses_the_extfs_alias(props, tmp_path):
    ext_root = tmp_path / "ext"
    p = props.merged(
        {"extfs.side.storage_type": "local", "extfs.side.root_path": str(ext_root), "extfs.side.bucket_name": "local"}
    )
    code, handle = get_fs(p, b"local:///local/some/file.parquet")
    try:
        assert code == 0
        write(handle, "written.bin", b"ext")
        assert (ext_root / "written.bin").read_bytes() == b"ext"
    finally:
        library().loon_filesystem_destroy(handle)
    code, handle = get_fs(props, b"local:///local/some/file.parquet")  # no alias configured
    assert code != 0 and handle == 0


def test_leading_slash_does_not_escape_the_root(fs, fs_root):
    write(fs, "/tmp/inside.bin", b"root-relative")
    assert (fs_root / "tmp" / "inside.bin").read_bytes() == b"root-relative"


def test_path_len_is_a_byte_range(fs, fs_root):
    raw = b"exact.binTRAILING"
    check(library().loon_filesystem_write_file(fs, raw, 9, b"x", 1, ffi.NULL, 0))
    assert [p.name for p in fs_root.iterdir()] == ["exact.bin"]
    name = "d\u00e9j\u00e0.bin".encode()  # multi-byte UTF-8: lengths are bytes
    check(library().loon_filesystem_write_file(fs, name, len(name), b"y", 1, ffi.NULL, 0))
    assert (fs_root / "d\u00e9j\u00e0.bin").read_bytes() == b"y"


# ---- output streams ------------------------------------------------------------------------------


def open_writer(fs: int, path: str, conditional: bool = False, meta: Any = ffi.NULL, n_meta: int = 0):
    raw = path.encode()
    out = ffi.new("FileSystemWriterHandle*", 5)
    code = code_of(library().loon_filesystem_open_writer(fs, raw, len(raw), meta, n_meta, conditional, out))
    return code, out[0]


def test_writer_write_flush_close(fs, fs_root):
    lib = library()
    code, w = open_writer(fs, "dir/sub/stream.bin")
    assert code == 0 and w != 0
    try:
        check(lib.loon_filesystem_writer_write(w, b"hello ", 6))
        check(lib.loon_filesystem_writer_flush(w))
        check(lib.loon_filesystem_writer_write(w, b"world!", 6))
        check(lib.loon_filesystem_writer_close(w))
    finally:
        lib.loon_filesystem_writer_destroy(w)
    assert (fs_root / "dir" / "sub" / "stream.bin").read_bytes() == b"hello world!"


def test_writer_truncates_and_write_after_close_is_3(fs, fs_root):
    lib = library()
    (fs_root / "t.bin").write_bytes(b"old content that is long")
    _, w = open_writer(fs, "t.bin")
    try:
        check(lib.loon_filesystem_writer_write(w, b"new", 3))
        check(lib.loon_filesystem_writer_close(w))
        assert code_of(lib.loon_filesystem_writer_write(w, b"late", 4)) == 3
    finally:
        lib.loon_filesystem_writer_destroy(w)
    assert (fs_root / "t.bin").read_bytes() == b"new"


def test_conditional_writer_on_an_existing_file_is_102(fs, fs_root):
    lib = library()
    code, w = open_writer(fs, "once.bin", conditional=True)
    assert code == 0
    check(lib.loon_filesystem_writer_write(w, b"first", 5))
    check(lib.loon_filesystem_writer_close(w))
    lib.loon_filesystem_writer_destroy(w)
    code, w2 = open_writer(fs, "once.bin", conditional=True)
    assert code == 102 and w2 == 0
    assert (fs_root / "once.bin").read_bytes() == b"first"


def test_writer_destroy_without_close_abandons_the_stream(fs, fs_root):
    _, w = open_writer(fs, "abandoned.bin")
    check(library().loon_filesystem_writer_write(w, b"partial", 7))
    library().loon_filesystem_writer_destroy(w)
    library().loon_filesystem_writer_destroy(0)
    # The stream is gone without a crash; whatever reached the file is at most what was written.
    assert (fs_root / "abandoned.bin").is_file()
    assert len((fs_root / "abandoned.bin").read_bytes()) <= 7


def test_writer_argument_errors(fs):
    lib = library()
    out = ffi.new("FileSystemWriterHandle*")
    assert code_of(lib.loon_filesystem_open_writer(0, b"a", 1, ffi.NULL, 0, False, out)) == 1
    assert code_of(lib.loon_filesystem_open_writer(fs, b"a", 0, ffi.NULL, 0, False, out)) == 1
    assert code_of(lib.loon_filesystem_open_writer(fs, ffi.NULL, 1, ffi.NULL, 0, False, out)) == 1
    assert code_of(lib.loon_filesystem_open_writer(fs, b"a", 1, ffi.NULL, 0, False, ffi.NULL)) == 1
    assert code_of(lib.loon_filesystem_open_writer(fs, b"a", 1, ffi.NULL, 2, False, out)) == 1
    meta = ffi.new("LoonFileSystemMeta[1]")
    meta[0].key = key = ffi.new("char[]", b"k")
    assert code_of(lib.loon_filesystem_open_writer(fs, b"a", 1, meta, 1, False, out)) == 1  # NULL value
    del key
    _, w = open_writer(fs, "w.bin")
    try:
        assert code_of(lib.loon_filesystem_writer_write(w, ffi.NULL, 3)) == 1
        assert code_of(lib.loon_filesystem_writer_write(w, b"abc", 0)) == 1
        assert code_of(lib.loon_filesystem_writer_write(0, b"abc", 3)) == 1
        assert code_of(lib.loon_filesystem_writer_flush(0)) == 1
        assert code_of(lib.loon_filesystem_writer_close(0)) == 1
        check(lib.loon_filesystem_writer_close(w))
    finally:
        lib.loon_filesystem_writer_destroy(w)


def test_metadata_is_accepted_and_ignored_locally(fs, fs_root):
    lib = library()
    keep = [ffi.new("char[]", b"content-type"), ffi.new("char[]", b"text/plain")]
    meta = ffi.new("LoonFileSystemMeta[1]")
    meta[0].key, meta[0].value = keep
    code, w = open_writer(fs, "m.bin", meta=meta, n_meta=1)
    assert code == 0
    check(lib.loon_filesystem_writer_write(w, b"body", 4))
    check(lib.loon_filesystem_writer_close(w))
    lib.loon_filesystem_writer_destroy(w)
    check(lib.loon_filesystem_write_file(fs, b"m2.bin", 6, b"b2", 2, meta, 1))
    for name in (b"m.bin", b"m2.bin"):
        size, arr, count = ffi.new("uint64_t*"), ffi.new("LoonFileSystemMeta**"), ffi.new("uint32_t*", 9)
        check(lib.loon_filesystem_get_file_stats(fs, name, len(name), size, arr, count))
        assert count[0] == 0 and arr[0] == ffi.NULL  # never allocated for zero entries
    assert (fs_root / "m.bin").read_bytes() == b"body"


# ---- whole-file calls ----------------------------------------------------------------------------


def test_write_file_creates_overwrites_and_allows_empty(fs, fs_root):
    lib = library()
    write(fs, "a/b/c.bin", b"first version")
    write(fs, "a/b/c.bin", b"v2")
    assert (fs_root / "a" / "b" / "c.bin").read_bytes() == b"v2"
    check(lib.loon_filesystem_write_file(fs, b"empty.bin", 9, ffi.NULL, 0, ffi.NULL, 0))
    assert (fs_root / "empty.bin").read_bytes() == b""


def test_write_file_argument_errors(fs, fs_root):
    lib = library()
    assert code_of(lib.loon_filesystem_write_file(0, b"x", 1, b"d", 1, ffi.NULL, 0)) == 1
    assert code_of(lib.loon_filesystem_write_file(fs, b"x", 0, b"d", 1, ffi.NULL, 0)) == 1
    assert code_of(lib.loon_filesystem_write_file(fs, b"x", 1, ffi.NULL, 4, ffi.NULL, 0)) == 1
    assert code_of(lib.loon_filesystem_write_file(fs, b"x", 1, b"d", 1, ffi.NULL, 1)) == 1
    assert not (fs_root / "x").exists()


def test_read_file_all(fs):
    lib = library()
    payload = bytes(range(256)) * 40
    write(fs, "all.bin", payload)
    data, size = ffi.new("uint8_t**"), ffi.new("uint64_t*")
    check(lib.loon_filesystem_read_file_all(fs, b"all.bin", 7, data, size))
    try:
        assert size[0] == len(payload)
        assert bytes(ffi.buffer(data[0], size[0])) == payload
    finally:
        lib.loon_free_cstr(ffi.cast("char*", data[0]))
    write(fs, "zero.bin", b"")
    check(lib.loon_filesystem_read_file_all(fs, b"zero.bin", 8, data, size))
    assert size[0] == 0
    lib.loon_free_cstr(ffi.cast("char*", data[0]))


def test_read_file_all_errors(fs):
    lib = library()
    data, size = ffi.new("uint8_t**"), ffi.new("uint64_t*")
    assert code_of(lib.loon_filesystem_read_file_all(fs, b"absent", 6, data, size)) == 12
    assert data[0] == ffi.NULL
    assert code_of(lib.loon_filesystem_read_file_all(0, b"absent", 6, data, size)) == 1
    assert code_of(lib.loon_filesystem_read_file_all(fs, b"absent", 0, data, size)) == 1
    assert code_of(lib.loon_filesystem_read_file_all(fs, b"absent", 6, ffi.NULL, size)) == 1
    assert code_of(lib.loon_filesystem_read_file_all(fs, b"absent", 6, data, ffi.NULL)) == 1


def test_read_file_exact_range(fs):
    lib = library()
    write(fs, "r.bin", b"0123456789")
    buf = ffi.new("uint8_t[4]")
    check(lib.loon_filesystem_read_file(fs, b"r.bin", 5, 3, 4, buf))
    assert bytes(buf) == b"3456"
    check(lib.loon_filesystem_read_file(fs, b"r.bin", 5, 6, 4, buf))
    assert bytes(buf) == b"6789"


def test_read_file_errors(fs):
    lib = library()
    write(fs, "r.bin", b"0123456789")
    buf = ffi.new("uint8_t[8]")
    assert code_of(lib.loon_filesystem_read_file(fs, b"r.bin", 5, 5, 8, buf)) == 4  # only 5 bytes left
    assert code_of(lib.loon_filesystem_read_file(fs, b"r.bin", 5, 0, 0, buf)) == 1
    assert code_of(lib.loon_filesystem_read_file(fs, b"r.bin", 5, 0, 4, ffi.NULL)) == 1
    assert code_of(lib.loon_filesystem_read_file(fs, b"nope", 4, 0, 4, buf)) == 12
    assert code_of(lib.loon_filesystem_read_file(fs, b"r.bin", 0, 0, 4, buf)) == 1
    assert code_of(lib.loon_filesystem_read_file(0, b"r.bin", 5, 0, 4, buf)) == 1


# ---- random-access readers -------------------------------------------------------------------------


@pytest.mark.parametrize("known_size", [False, True])
def test_reader_readat(fs, known_size):
    lib = library()
    write(fs, "ra.bin", b"abcdefghij")
    out = ffi.new("FileSystemReaderHandle*")
    check(lib.loon_filesystem_open_reader(fs, b"ra.bin", 6, 10 if known_size else 0, out))
    r = out[0]
    try:
        buf = ffi.new("uint8_t[3]")
        check(lib.loon_filesystem_reader_readat(r, 7, 3, buf))
        assert bytes(buf) == b"hij"
        check(lib.loon_filesystem_reader_readat(r, 0, 3, buf))
        assert bytes(buf) == b"abc"
        assert code_of(lib.loon_filesystem_reader_readat(r, 8, 3, buf)) == 4  # short read
        assert code_of(lib.loon_filesystem_reader_readat(r, 0, 0, buf)) == 1
        assert code_of(lib.loon_filesystem_reader_readat(r, 0, 3, ffi.NULL)) == 1
        check(lib.loon_filesystem_reader_close(r))
    finally:
        lib.loon_filesystem_reader_destroy(r)
    lib.loon_filesystem_reader_destroy(0)


def test_reader_errors(fs):
    lib = library()
    out = ffi.new("FileSystemReaderHandle*", 3)
    assert code_of(lib.loon_filesystem_open_reader(fs, b"absent", 6, 0, out)) == 12
    assert out[0] == 0
    assert code_of(lib.loon_filesystem_open_reader(0, b"absent", 6, 0, out)) == 1
    assert code_of(lib.loon_filesystem_open_reader(fs, b"absent", 0, 0, out)) == 1
    assert code_of(lib.loon_filesystem_open_reader(fs, b"absent", 6, 0, ffi.NULL)) == 1
    assert code_of(lib.loon_filesystem_reader_readat(0, 0, 1, ffi.new("uint8_t[1]"))) == 1
    assert code_of(lib.loon_filesystem_reader_close(0)) == 1


# ---- info, stats, delete ----------------------------------------------------------------------------


def test_get_file_info_and_stats(fs):
    lib = library()
    write(fs, "s.bin", b"x" * 1234)
    size = ffi.new("uint64_t*")
    check(lib.loon_filesystem_get_file_info(fs, b"s.bin", 5, size))
    assert size[0] == 1234
    size[0] = 0
    check(lib.loon_filesystem_get_file_stats(fs, b"s.bin", 5, size, ffi.NULL, ffi.NULL))  # metadata skipped
    assert size[0] == 1234
    lib.loon_filesystem_free_meta_array(ffi.NULL, 0)


def test_get_file_info_and_stats_errors(fs, fs_root):
    lib = library()
    (fs_root / "adir").mkdir()
    size, arr, count = ffi.new("uint64_t*"), ffi.new("LoonFileSystemMeta**"), ffi.new("uint32_t*")
    assert code_of(lib.loon_filesystem_get_file_info(fs, b"absent", 6, size)) == 12
    assert code_of(lib.loon_filesystem_get_file_info(fs, b"adir", 4, size)) == 4
    assert code_of(lib.loon_filesystem_get_file_info(fs, b"absent", 6, ffi.NULL)) == 1
    assert code_of(lib.loon_filesystem_get_file_info(0, b"absent", 6, size)) == 1
    assert code_of(lib.loon_filesystem_get_file_info(fs, b"absent", 0, size)) == 1
    assert code_of(lib.loon_filesystem_get_file_stats(fs, b"absent", 6, size, arr, count)) == 12
    assert code_of(lib.loon_filesystem_get_file_stats(fs, b"absent", 6, ffi.NULL, arr, count)) == 1
    assert code_of(lib.loon_filesystem_get_file_stats(0, b"absent", 6, size, arr, count)) == 1
    assert code_of(lib.loon_filesystem_get_file_stats(fs, b"absent", 0, size, arr, count)) == 1


def test_delete_file(fs, fs_root):
    lib = library()
    write(fs, "gone.bin", b"x")
    check(lib.loon_filesystem_delete_file(fs, b"gone.bin", 8))
    assert not (fs_root / "gone.bin").exists()
    assert code_of(lib.loon_filesystem_delete_file(fs, b"gone.bin", 8)) == 12
    (fs_root / "adir").mkdir()
    assert code_of(lib.loon_filesystem_delete_file(fs, b"adir", 4)) == 4
    assert (fs_root / "adir").is_dir()
    assert code_of(lib.loon_filesystem_delete_file(0, b"adir", 4)) == 1
    assert code_of(lib.loon_filesystem_delete_file(fs, b"adir", 0)) == 1


def test_get_path_info(fs, fs_root):
    before = time.time_ns()
    write(fs, "d/f.bin", b"abc")
    code, exists, is_dir, mtime = path_info(fs, "d/f.bin")
    assert (code, exists, is_dir) == (0, True, False)
    assert abs(mtime - before) < 60 * 10**9  # nanoseconds since the epoch, close to now
    code, exists, is_dir, mtime = path_info(fs, "d")
    assert (code, exists, is_dir) == (0, True, True)
    lib = library()
    exists = ffi.new("bool*")
    check(lib.loon_filesystem_get_path_info(fs, b"d", 1, exists, ffi.NULL, ffi.NULL))  # optional outs
    assert exists[0]


def test_get_path_info_of_an_absent_path_is_12(fs):
    code, exists, _, _ = path_info(fs, "no/such/path")
    assert code == 12 and exists is False
    lib = library()
    assert code_of(lib.loon_filesystem_get_path_info(fs, b"x", 1, ffi.NULL, ffi.NULL, ffi.NULL)) == 1
    assert code_of(lib.loon_filesystem_get_path_info(0, b"x", 1, ffi.new("bool*"), ffi.NULL, ffi.NULL)) == 1
    assert code_of(lib.loon_filesystem_get_path_info(fs, b"x", 0, ffi.new("bool*"), ffi.NULL, ffi.NULL)) == 1


def test_python_exists_maps_12_to_false(props):
    with loon.Filesystem(props) as pyfs:
        assert pyfs.exists("no/such/path") is False
        pyfs.write("here.bin", b"1")
        assert pyfs.exists("here.bin") is True


# ---- directories --------------------------------------------------------------------------------


def test_create_dir(fs, fs_root):
    lib = library()
    check(lib.loon_filesystem_create_dir(fs, b"x/y/z", 5, True))
    assert (fs_root / "x" / "y" / "z").is_dir()
    check(lib.loon_filesystem_create_dir(fs, b"x/y/w", 5, False))  # parent exists
    assert (fs_root / "x" / "y" / "w").is_dir()
    assert code_of(lib.loon_filesystem_create_dir(fs, b"p/q", 3, False)) == 12
    assert not (fs_root / "p").exists()
    assert code_of(lib.loon_filesystem_create_dir(0, b"p", 1, True)) == 1
    assert code_of(lib.loon_filesystem_create_dir(fs, b"p", 0, True)) == 1


def list_dir(fs: int, path: str, recursive: bool) -> tuple[int, dict[str, tuple[bool, int, int]]]:
    raw = path.encode()
    out = ffi.new("LoonFileInfoList*")
    code = code_of(library().loon_filesystem_list_dir(fs, raw, len(raw), recursive, out))
    try:
        entries = {}
        for i in range(out.count):
            e = out.entries[i]
            name = ffi.string(e.path).decode()
            assert e.path_len == len(name.encode())
            entries[name] = (bool(e.is_dir), int(e.size), int(e.mtime_ns))
        return code, entries
    finally:
        library().loon_filesystem_free_file_info_list(out)
        assert out.count == 0 and out.entries == ffi.NULL


def test_list_dir(fs):
    write(fs, "top/a.bin", b"12345")
    write(fs, "top/sub/b.bin", b"1")
    code, flat = list_dir(fs, "top", recursive=False)
    assert code == 0
    assert {k: v[:2] for k, v in flat.items()} == {"top/a.bin": (False, 5), "top/sub": (True, 0)}
    assert flat["top/a.bin"][2] > 0
    code, deep = list_dir(fs, "top", recursive=True)
    assert code == 0
    assert {k: v[:2] for k, v in deep.items()} == {
        "top/a.bin": (False, 5),
        "top/sub": (True, 0),
        "top/sub/b.bin": (False, 1),
    }


def test_list_dir_of_empty_absent_and_file(fs):
    lib = library()
    check(lib.loon_filesystem_create_dir(fs, b"empty", 5, True))
    out = ffi.new("LoonFileInfoList*")
    check(lib.loon_filesystem_list_dir(fs, b"empty", 5, True, out))
    assert out.count == 0 and out.entries == ffi.NULL
    lib.loon_filesystem_free_file_info_list(out)
    lib.loon_filesystem_free_file_info_list(ffi.NULL)
    assert list_dir(fs, "absent", True)[0] == 12
    write(fs, "plain.bin", b"x")
    assert list_dir(fs, "plain.bin", False)[0] == 4
    assert code_of(lib.loon_filesystem_list_dir(fs, b"empty", 5, True, ffi.NULL)) == 1
    assert code_of(lib.loon_filesystem_list_dir(0, b"empty", 5, True, out)) == 1
    assert code_of(lib.loon_filesystem_list_dir(fs, b"empty", 0, True, out)) == 1


# ---- metrics -----------------------------------------------------------------------------------------


def test_metrics_count_each_kind_of_operation(fs):
    lib = library()
    check(lib.loon_filesystem_reset_metrics(fs))
    assert set(metrics(fs).values()) == {0}
    write(fs, "m/one.bin", b"0123456789")
    buf = ffi.new("uint8_t[4]")
    check(lib.loon_filesystem_read_file(fs, b"m/one.bin", 9, 2, 4, buf))
    assert path_info(fs, "m/one.bin")[0] == 0
    check(lib.loon_filesystem_create_dir(fs, b"m/d", 3, False))
    check(lib.loon_filesystem_delete_file(fs, b"m/one.bin", 9))
    assert code_of(lib.loon_filesystem_read_file(fs, b"m/one.bin", 9, 0, 4, buf)) == 12
    m = metrics(fs)
    assert m["write_count"] == 1 and m["write_bytes"] == 10
    assert m["read_count"] == 1 and m["read_bytes"] == 4
    assert m["get_file_info_count"] >= 2  # the path-info call and the delete's existence check
    assert m["create_dir_count"] == 1 and m["delete_file_count"] == 1
    assert m["failed_count"] == 1  # the read of the deleted file
    assert m["multi_part_upload_created"] == 0 and m["move_count"] == 0
    check(lib.loon_filesystem_reset_metrics(fs))
    assert set(metrics(fs).values()) == {0}


def test_metrics_argument_errors(fs):
    lib = library()
    assert code_of(lib.loon_filesystem_get_metrics(0, ffi.new("LoonFilesystemMetricsSnapshot*"))) == 1
    assert code_of(lib.loon_filesystem_get_metrics(fs, ffi.NULL)) == 1
    assert code_of(lib.loon_filesystem_reset_metrics(0)) == 1


def test_python_filesystem_round_trip(props, fs_root: Path):
    """The pythonic wrapper over the same calls (loon.Filesystem)."""
    with loon.Filesystem(props) as pyfs:
        pyfs.write("py/x.bin", b"payload")
        assert pyfs.read_all("py/x.bin") == b"payload"
        assert pyfs.read("py/x.bin", 3, 4) == b"load"
        assert pyfs.file_size("py/x.bin") == 7
        assert pyfs.file_stats("py/x.bin") == (7, {})
        assert pyfs.path_info("py").is_dir
        with pyfs.open_writer("py/y.bin") as w:
            w.write(b"streamed")
        with pyfs.open_reader("py/y.bin") as r:
            assert r.read_at(2, 3) == b"rea"
        assert sorted(f.path for f in pyfs.list_files("py")) == ["py/x.bin", "py/y.bin"]
        assert pyfs.remove_files("py") == 2
        assert pyfs.list_files("py") == []
        with pytest.raises(loon.LoonFileNotFoundError):
            pyfs.path_info("py/x.bin")
        assert pyfs.metrics()["delete_file_count"] >= 2


# ---- root confinement (README "Compatibility": ".." paths) ----------------------------------------------------


@pytest.mark.parametrize("path", ["../escape.bin", "a/../../escape.bin", "/../escape.bin", ".."])
def test_dot_dot_paths_cannot_leave_the_root(fs, fs_root, path):
    """Regression: every filesystem call used to follow '..' out of fs.root_path (a write landed
    next to the root); now each refuses such a path with its fallback code and touches nothing."""
    lib = library()
    raw = path.encode()
    buf = ffi.new("uint8_t[1]")
    data, size = ffi.new("uint8_t**"), ffi.new("uint64_t*")
    exists = ffi.new("bool*")
    out_list = ffi.new("LoonFileInfoList*")
    writer, reader = ffi.new("FileSystemWriterHandle*"), ffi.new("FileSystemReaderHandle*")
    (fs_root.parent / "escape.bin").write_bytes(b"outside")
    calls = {
        "write_file": lib.loon_filesystem_write_file(fs, raw, len(raw), b"x", 1, ffi.NULL, 0),
        "open_writer": lib.loon_filesystem_open_writer(fs, raw, len(raw), ffi.NULL, 0, False, writer),
        "open_writer_conditional": lib.loon_filesystem_open_writer(fs, raw, len(raw), ffi.NULL, 0, True, writer),
        "read_file": lib.loon_filesystem_read_file(fs, raw, len(raw), 0, 1, buf),
        "read_file_all": lib.loon_filesystem_read_file_all(fs, raw, len(raw), data, size),
        "open_reader": lib.loon_filesystem_open_reader(fs, raw, len(raw), 0, reader),
        "open_reader_sized": lib.loon_filesystem_open_reader(fs, raw, len(raw), 7, reader),
        "get_file_info": lib.loon_filesystem_get_file_info(fs, raw, len(raw), size),
        "get_path_info": lib.loon_filesystem_get_path_info(fs, raw, len(raw), exists, ffi.NULL, ffi.NULL),
        "delete_file": lib.loon_filesystem_delete_file(fs, raw, len(raw)),
        "create_dir": lib.loon_filesystem_create_dir(fs, raw, len(raw), True),
        "list_dir": lib.loon_filesystem_list_dir(fs, raw, len(raw), True, out_list),
    }
    codes = {name: code_of(result) for name, result in calls.items()}
    assert codes == dict.fromkeys(calls, 3)
    assert writer[0] == 0 and reader[0] == 0 and data[0] == ffi.NULL
    assert (fs_root.parent / "escape.bin").read_bytes() == b"outside"
    assert sorted(p.name for p in fs_root.parent.iterdir()) == ["escape.bin", fs_root.name]


def test_dot_dot_inside_the_root_is_refused_too(fs, fs_root):
    """'a/../b' would stay inside, but the engine refuses every '..' segment rather than resolving it."""
    assert code_of(library().loon_filesystem_write_file(fs, b"a/../b.bin", 10, b"x", 1, ffi.NULL, 0)) == 3
    assert list(fs_root.iterdir()) == []


def test_relative_root_is_relative_to_the_process_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, handle = get_fs(loon.Properties({"fs.storage_type": "local", "fs.root_path": "rel/root"}))
    try:
        assert code == 0
        write(handle, "f.bin", b"cwd")
        assert (tmp_path / "rel" / "root" / "f.bin").read_bytes() == b"cwd"
    finally:
        library().loon_filesystem_destroy(handle)


def test_instance_cache_keeps_16_configurations(tmp_path):
    """Spec 2.10: instances are cached LRU with 16 entries; the 17th configuration evicts the
    least recently used one, whose next handle starts with fresh counters."""

    def local(name: str) -> loon.Properties:
        return loon.Properties({"fs.storage_type": "local", "fs.root_path": str(tmp_path / name)})

    _, first = get_fs(local("r0"))
    write(first, "x.bin", b"abc")
    library().loon_filesystem_destroy(first)
    for i in range(1, 16):  # 15 more configurations: r0 is still cached
        _, h = get_fs(local(f"r{i}"))
        library().loon_filesystem_destroy(h)
    _, again = get_fs(local("r0"))
    assert metrics(again)["write_bytes"] == 3  # same instance (r0 is now the most recent)
    library().loon_filesystem_destroy(again)
    for i in range(16, 32):  # 16 new configurations push r0 out
        _, h = get_fs(local(f"r{i}"))
        library().loon_filesystem_destroy(h)
    _, evicted = get_fs(local("r0"))
    try:
        assert metrics(evicted)["write_bytes"] == 0
    finally:
        library().loon_filesystem_destroy(evicted)
