"""Column-group objects (ffi_c.h 2.3, column-group half) and the thread pool (ffi_c.h 2.4), plus concurrent use
of distinct handles and key retrievers called from worker threads."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pyarrow as pa
import pytest

import loon
from loon._ffi import ffi, library
from loon.column_groups import ColumnGroupFile, ColumnGroups
from loon.suite import data
from loon.threads import release_thread_pool, set_thread_pool

from .ffi_results import code_of
from .test_writer import raw_writer_new, write_raw

ROOT = Path(__file__).resolve().parents[2]
SPLIT = {"writer.policy": "schema_based", "writer.split.schema_based.patterns": "id,name"}


@pytest.fixture(autouse=True)
def no_pool_left_behind():
    """Every test starts and ends without a singleton pool (it is process-wide)."""
    release_thread_pool()
    yield
    release_thread_pool()


def debug_text(ptr) -> str:
    raw = library().loon_column_groups_debug_string(ptr)
    assert raw != ffi.NULL
    try:
        return ffi.string(raw).decode()
    finally:
        library().loon_free_cstr(raw)


# ---------------------------------------------------------------------------------------------
# 2.3 column groups


def test_writer_groups_destroy_and_debug_string(props):
    table = data.make_table(1200, batch_rows=400)
    err, handle, _ = raw_writer_new("cg", table.schema, props.merged({**SPLIT, "writer.file_rolling.size": 1}))
    assert err == 0
    lib = library()
    try:
        for batch in table.to_batches():
            assert write_raw(handle, batch)[0] == 0
            assert code_of(lib.loon_writer_flush(handle)) == 0
        out = ffi.new("LoonColumnGroups**")
        assert code_of(lib.loon_writer_close(handle, ffi.NULL, ffi.NULL, 0, out)) == 0
    finally:
        lib.loon_writer_destroy(handle)
    c_groups = out[0]
    assert c_groups != ffi.NULL and c_groups.num_of_column_groups == 3
    groups = ColumnGroups.from_c(c_groups)
    text = debug_text(c_groups)  # library-allocated struct
    lib.loon_column_groups_destroy(c_groups)  # frees strings, files, groups and the struct itself
    assert [g.columns for g in groups] == [["id"], ["name"], ["value"]]
    for g in groups:
        assert g.format == "parquet" and [f.num_rows for f in g.files] == [400, 400, 400]
    for name in ("id", "name", "value", "parquet"):
        assert name in text
    for f in groups.files:
        assert f.path in text
        assert f.properties["file_size"] in text and f.properties["footer_size"] in text
    assert "[0, 400)" in text
    assert groups.debug_string() == text  # a caller-built copy dumps the same way


def test_debug_string_of_caller_built_and_empty_groups():
    groups = ColumnGroups(
        [
            loon.ColumnGroup(
                ["a", "b"], "parquet", [ColumnGroupFile("x/_data/0_f.parquet", 3, 17, {"file_size": "123"})]
            ),
            loon.ColumnGroup(["c"], "vortex", []),
        ]
    )
    text = groups.debug_string()
    for needle in ("a", "b", "c", "vortex", "x/_data/0_f.parquet", "[3, 17)", "123"):
        assert needle in text, needle
    assert "2" in text and "0" in ColumnGroups().debug_string()
    null_text = debug_text(ffi.NULL)  # NULL input gives a string saying so, never NULL
    assert "null" in null_text.lower()


def test_column_groups_destroy_null_is_noop():
    library().loon_column_groups_destroy(ffi.NULL)
    assert library().loon_column_groups_destroy is not None


def test_writer_with_no_data_returns_an_empty_allocated_struct(props):
    err, handle, _ = raw_writer_new("none", data.SCHEMA, props)
    assert err == 0
    out = ffi.new("LoonColumnGroups**")
    try:
        assert code_of(library().loon_writer_close(handle, ffi.NULL, ffi.NULL, 0, out)) == 0
    finally:
        library().loon_writer_destroy(handle)
    assert out[0] != ffi.NULL and out[0].num_of_column_groups == 0
    assert "0" in debug_text(out[0])
    library().loon_column_groups_destroy(out[0])


# ---------------------------------------------------------------------------------------------
# 2.4 thread pool


def test_thread_pool_zero_threads_code_1():
    assert code_of(library().loon_thread_pool_singleton(0)) == 1
    with pytest.raises(loon.InvalidArgumentError):
        set_thread_pool(0)


def test_thread_pool_create_resize_release():
    lib = library()
    assert code_of(lib.loon_thread_pool_singleton(2)) == 0
    assert code_of(lib.loon_thread_pool_singleton(4)) == 0  # resize while it exists
    assert code_of(lib.loon_thread_pool_singleton(1)) == 0  # shrink
    lib.loon_thread_pool_singleton_release()
    lib.loon_thread_pool_singleton_release()  # no pool: a no-op
    assert code_of(lib.loon_thread_pool_singleton(3)) == 0  # can be created again after release


@pytest.fixture
def rolled(props):
    """2400 rows in 6 files per group, two groups."""
    table = data.make_table(2400, batch_rows=400)
    with loon.Writer("pool", table.schema, props.merged({**SPLIT, "writer.file_rolling.size": 1})) as w:
        for batch in table.to_batches():
            w.write(batch)
            w.flush()
    return table.combine_chunks(), w.column_groups, props


@pytest.mark.parametrize("pool", [None, 1])  # bigger pools: test_nested_reads_on_a_small_pool_do_not_deadlock
def test_reads_are_identical_with_and_without_pool(rolled, pool):
    table, groups, props = rolled
    idx = [2399, 0, 401, 401, 1200, 7]
    if pool:
        set_thread_pool(pool)
    with loon.Reader(groups, table.schema, properties=props) as reader:
        assert reader.scan().equals(table)
        for parallelism in (1, 8):  # ignored in favour of the pool size while a pool exists
            assert reader.take(idx, parallelism=parallelism).equals(table.take(idx))
        with reader.chunk_reader(1) as cr:
            batches = cr.get_chunks([5, 0, 5, 3], parallelism=4)
            assert [b.column(0).to_pylist() for b in batches] == [
                table["name"].slice(400 * i, 400).to_pylist() for i in (5, 0, 5, 3)
            ]


def encrypted_dataset(props, rows=2400, files=6):
    table = data.make_table(rows, batch_rows=rows // files)
    wprops = {"writer.enc.enable": True, "writer.enc.key": "0123456789abcdef", "writer.enc.meta": "km"}
    with loon.Writer("enc", table.schema, props.merged({**wprops, "writer.file_rolling.size": 1})) as w:
        for batch in table.to_batches():
            w.write(batch)
            w.flush()
    return table.combine_chunks(), w.column_groups


def test_pool_size_overrides_parallelism_argument(props):
    """The key retriever sees which threads open files: parallelism 1 stays on the calling thread
    without a pool, and fans out to the pool's workers when one exists."""
    table, groups = encrypted_dataset(props)
    caller = threading.get_ident()

    def take_threads(parallelism: int) -> set[int]:
        seen: set[int] = set()

        def retriever(meta: bytes) -> bytes:
            seen.add(threading.get_ident())
            time.sleep(0.03)  # each file open takes a while, so helper threads surely get files
            return b"0123456789abcdef"

        with loon.Reader(groups, table.schema, properties=props) as reader:
            reader.set_key_retriever(retriever)
            idx = list(range(0, 2400, 50))
            assert reader.take(idx, parallelism=parallelism).equals(table.take(idx))
        return seen

    assert take_threads(1) == {caller}  # no pool, parallelism 1: everything on the calling thread
    set_thread_pool(3)
    pooled = take_threads(1)
    # parallelism 1 ignored: the pool's 3 workers join the calling thread (which also takes items).
    assert len(pooled) >= 2 and len(pooled - {caller}) <= 3, pooled
    release_thread_pool()
    assert len(take_threads(3)) >= 2


def test_key_retriever_called_from_worker_threads(props):
    """Scans, take and get_chunks call the Python retriever from engine threads without deadlock."""
    table, groups = encrypted_dataset(props)
    seen: list[tuple[int, bytes]] = []
    set_thread_pool(4)
    with loon.Reader(groups, table.schema, properties=props) as reader:
        reader.set_key_retriever(lambda meta: (seen.append((threading.get_ident(), meta)), b"0123456789abcdef")[1])
        assert reader.scan().equals(table)
        assert reader.take([5, 2000]).equals(table.take([5, 2000]))
        with reader.chunk_reader(0) as cr:
            assert pa.Table.from_batches(cr.get_chunks(list(range(cr.num_chunks)), parallelism=4)).equals(table)
    assert {meta for _, meta in seen} == {b"km"}
    assert any(ident != threading.get_ident() for ident, _ in seen)


def test_distinct_handles_used_concurrently(props):
    """Writers and readers on distinct handles in parallel Python threads (cffi drops the GIL)."""
    set_thread_pool(2)
    errors: list[BaseException] = []
    results: dict[int, loon.ColumnGroups] = {}

    def work(i: int) -> None:
        try:
            table = data.make_table(1500, offset=i * 10_000)
            groups = loon.write_dataset(f"t{i}", table, props.merged({"writer.file_rolling.size": 1}))
            with loon.Reader(groups, table.schema, properties=props) as reader:
                for _ in range(3):
                    assert reader.scan().equals(table)
                    assert reader.take([1499, 0]).equals(table.take([1499, 0]))
            results[i] = groups
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(results) == [0, 1, 2, 3]
    assert len({f.path for g in results.values() for f in g.files}) == 4  # no file shared or lost


_NESTED_CHILD = textwrap.dedent(
    """
    import sys, tempfile
    import loon
    from loon.suite import data
    from loon.threads import release_thread_pool, set_thread_pool
    props = loon.Properties({"fs.storage_type": "local", "fs.root_path": tempfile.mkdtemp()})
    split = {"writer.policy": "schema_based", "writer.split.schema_based.patterns": "id,name",
             "writer.file_rolling.size": 1}
    table = data.make_table(2400, batch_rows=400)
    with loon.Writer("nested", table.schema, props.merged(split)) as w:
        for batch in table.to_batches():
            w.write(batch)
            w.flush()
    table = table.combine_chunks()
    for size in (2, 3):
        set_thread_pool(size)
        with loon.Reader(w.column_groups, table.schema, properties=props) as reader:
            assert reader.scan().equals(table), size
            assert reader.take([2399, 1, 800], parallelism=1).equals(table.take([2399, 1, 800])), size
            with reader.chunk_reader(2) as cr:
                assert len(cr.get_chunks(list(range(6)), parallelism=8)) == 6
        release_thread_pool()
    print("ok")
    """
)


def test_nested_reads_on_a_small_pool_do_not_deadlock():
    """A scan of 3 groups on a pool of <= 3 threads: each group's layout opened its files with a
    nested ParallelFor whose tasks queued behind the outer ones, which all waited -- a hang. Run in
    a child process so a regression fails within the timeout instead of hanging the suite."""
    out = subprocess.run(
        [sys.executable, "-c", _NESTED_CHILD], capture_output=True, text=True, timeout=60, cwd=ROOT, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# ---------------------------------------------------------------------------------------------
# regression: cffi accessors are created at load, so __del__ inside a cffi parse cannot deadlock

_GC_CHILD = textwrap.dedent(
    """
    import gc, sys, tempfile
    import loon
    from loon.suite import data
    from loon._ffi import ffi, library
    props = loon.Properties({"fs.storage_type": "local", "fs.root_path": tempfile.mkdtemp()})
    groups = loon.write_dataset("ds", data.make_table(10), props)
    lazy = [n for n in dir(library()) if n.startswith("loon_") and n not in vars(library())
            and not hasattr(type(library()), n)]
    gc.collect()
    gc.disable()
    reader = loon.Reader(groups, data.SCHEMA, properties=props)
    reader.set_key_retriever(lambda meta: None)  # the callback refers back to the reader: a cycle
    del reader
    typeof = ffi.typeof
    decl = ("LoonFFIResult(*)(LoonReaderHandle, const int64_t*, size_t, size_t, const char* const*, size_t, "
            "struct ArrowArray**, size_t*, struct ArrowSchema*)")
    gc.set_threshold(gc.get_count()[0] + 10)
    gc.enable()
    typeof(decl)  # parsed under cffi's lock; the collection inside runs the reader's __del__
    print("lazy accessors:", lazy)
    """
)


def test_gc_inside_cffi_parse_does_not_deadlock():
    """A Reader with a key retriever is freed by the cycle GC; when that GC ran inside cffi's type
    parser, the reader's __del__ waited forever for cffi's lock to create its destroy accessor."""
    out = subprocess.run(
        [sys.executable, "-c", _GC_CHILD], capture_output=True, text=True, timeout=30, cwd=ROOT, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "lazy accessors: []"
