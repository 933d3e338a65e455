"""The engine on object stores (moto for S3, Azurite for Azure Blob, fake-gcs-server for GCS).

Every test runs against each emulator (see the ``remote`` fixture): datasets, transactions,
readers, the filesystem functions, external tables, create-only writes, and clear error codes
for bad configurations.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pytest

import loon
from loon.suite import corrupt, data, emulators

pytestmark = pytest.mark.timeout(300)


def table(num_rows: int, offset: int = 0) -> pa.Table:
    return pa.Table.from_batches([data.make_batch(num_rows, offset=offset)])


def test_write_commit_read_take_and_chunks(remote):
    ds = remote.path("ds")
    first, second = table(3000), table(2000, offset=3000)
    for part in (first, second):
        with loon.Transaction(ds, remote.props) as txn:
            txn.append_files(loon.write_dataset(ds, part, remote.props))
    assert loon.latest_version(ds, remote.props) == 2
    expected = pa.concat_tables([first, second])
    assert loon.read_dataset(ds, data.SCHEMA, remote.props).equals(expected)

    _, manifest = loon.open_manifest(ds, remote.props)
    reader = loon.Reader(manifest.column_groups, data.SCHEMA, properties=remote.props)
    rows = [4999, 0, 3000, 17]
    assert reader.take(rows).equals(expected.take(rows))
    chunks = reader.chunk_reader(0)
    got = pa.Table.from_batches(list(chunks.iter_chunks())).select(chunks_columns(expected, chunks))
    assert got.equals(expected.select(got.column_names))


def chunks_columns(expected: pa.Table, chunks: loon.ChunkReader) -> list[str]:
    first = chunks.get_chunk(0)
    return [name for name in first.schema.names if name in expected.column_names]


def test_commit_conflict_is_detected(remote):
    """Two transactions from one read version: FAIL lets exactly one publish version 2."""
    ds = remote.path("ds")
    loon.commit_groups(ds, loon.write_dataset(ds, table(10), remote.props), remote.props)
    groups = [loon.write_dataset(ds, table(10, offset=100 * (i + 1)), remote.props) for i in range(2)]
    a = loon.Transaction(ds, remote.props, 1, loon.Resolve.FAIL)
    b = loon.Transaction(ds, remote.props, 1, loon.Resolve.FAIL)
    a.append_files(groups[0])
    b.append_files(groups[1])
    assert a.commit() == 2
    with pytest.raises(loon.LoonError) as exc:
        b.commit()
    assert exc.value.code == 112
    assert loon.latest_version(ds, remote.props) == 2
    assert loon.read_dataset(ds, data.SCHEMA, remote.props).num_rows == 20


def test_conditional_writer_refuses_an_existing_key(remote):
    key = remote.path("obj")
    with loon.Filesystem(remote.props) as fs:
        with fs.open_writer(key, conditional=True) as w:
            w.write(b"first")
        w2 = fs.open_writer(key, conditional=True)
        w2.write(b"second, longer body")
        with pytest.raises(loon.LoonError) as exc:
            w2.close()
        w2.destroy()
        assert exc.value.code == 102
        assert remote.emulator.bucket in str(exc.value) and key in str(exc.value)
        assert fs.read_all(key) == b"first"
        # A plain writer still overwrites.
        fs.write(key, b"plain")
        assert fs.read_all(key) == b"plain"


@pytest.mark.parametrize("damage", ["empty", "truncate", "bitflip"])
def test_damaged_manifest_is_code_3_naming_the_file(remote, damage):
    ds = remote.path("ds")
    for offset in (0, 10):
        loon.commit_groups(ds, loon.write_dataset(ds, table(10, offset=offset), remote.props), remote.props)
    manifest = f"{ds}/_metadata/manifest-2.avro"
    with corrupt.damaged(remote.props, manifest, damage):
        with pytest.raises(loon.ArrowError) as exc:
            loon.open_manifest(ds, remote.props)
        assert exc.value.code == 3 and "manifest-2.avro" in str(exc.value), exc.value
        if damage == "empty":  # read as zero bytes, as locally (no failing range request)
            assert "empty file" in str(exc.value), exc.value
        assert loon.read_dataset(ds, data.SCHEMA, remote.props, version=1).equals(table(10))


def test_racing_conditional_writes_have_one_winner(remote):
    key = remote.path("race")
    barrier = threading.Barrier(8)

    def attempt(i: int) -> int:
        with loon.Filesystem(remote.props) as fs:
            w = fs.open_writer(key, conditional=True)
            w.write(f"writer {i}".encode() * 100)
            barrier.wait()
            try:
                w.close()
                return 0
            except loon.LoonError as exc:
                return exc.code
            finally:
                w.destroy()

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(attempt, range(8)))
    assert sorted(codes) == [0] + [102] * 7, codes
    winner = codes.index(0)
    with loon.Filesystem(remote.props) as fs:
        assert fs.read_all(key) == f"writer {winner}".encode() * 100


def test_filesystem_functions_and_metrics(remote):
    base = remote.path("files")
    with loon.Filesystem(remote.props) as fs:
        fs.reset_metrics()
        fs.write(f"{base}/a.bin", b"0123456789", metadata={"k": "v"})
        fs.write(f"{base}/sub/b.bin", b"xy")
        assert fs.file_size(f"{base}/a.bin") == 10
        size, _ = fs.file_stats(f"{base}/a.bin")  # metadata: what the store reports (local: none)
        assert size == 10
        assert fs.read(f"{base}/a.bin", 3, 4) == b"3456"
        with fs.open_reader(f"{base}/a.bin") as r:
            assert r.read_at(8, 2) == b"89"
        with fs.open_writer(f"{base}/c.bin") as w:
            w.write(b"abc")
            w.flush()
            w.write(b"def")
        assert fs.read_all(f"{base}/c.bin") == b"abcdef"
        names = sorted(e.path for e in fs.list_files(base, recursive=True))
        assert names == [f"{base}/a.bin", f"{base}/c.bin", f"{base}/sub/b.bin"]
        fs.mkdir(f"{base}/empty")
        top = {e.path.rstrip("/"): e.is_dir for e in fs.list_dir(base)}
        assert top == {f"{base}/a.bin": False, f"{base}/c.bin": False, f"{base}/sub": True, f"{base}/empty": True}
        assert fs.path_info(f"{base}/sub").is_dir
        assert fs.path_info(f"{base}/a.bin").is_dir is False
        assert not fs.exists(f"{base}/missing.bin")
        with pytest.raises(loon.LoonFileNotFoundError):
            fs.read_all(f"{base}/missing.bin")
        fs.delete(f"{base}/c.bin")
        assert not fs.exists(f"{base}/c.bin")
        m = fs.metrics()
        assert m["write_count"] >= 3 and m["write_bytes"] >= 18
        assert m["read_count"] >= 3 and m["read_bytes"] >= 10
        assert m["delete_file_count"] == 1 and m["failed_count"] >= 1


def test_cache_keys_on_the_whole_configuration(remote):
    """Same fs.* keys share one instance (and metrics); any differing key gives another."""
    other = remote.props.merged({"fs.request_timeout_ms": "9000"})
    with loon.Filesystem(remote.props) as a, loon.Filesystem(remote.props) as b, loon.Filesystem(other) as c:
        a.reset_metrics()
        c.reset_metrics()
        a.write(remote.path("x"), b"1")
        assert b.metrics()["write_count"] == 1
        assert c.metrics()["write_count"] == 0
    loon.close_filesystems()  # empties the cache: the next handle is a new instance
    with loon.Filesystem(remote.props) as d:
        assert d.metrics()["write_count"] == 0
        assert d.read_all(remote.path("x")) == b"1"


def test_external_table_on_object_store(remote):
    ext = loon.ExternalTable(remote.props)
    files = remote.path("external")
    for i in range(2):
        from loon.external_table import write_parquet

        write_parquet(remote.props, f"{files}/part-{i}.parquet", table(100, offset=100 * i))
    result = ext.explore(files, remote.path("ext_ds"), list(data.SCHEMA.names))
    assert result.num_files == 2
    uris = [f.path for f in ext.explored_files(result)]
    scheme = {"moto": "s3", "azurite": "abfs", "fake-gcs-server": "gcs"}[remote.kind]
    assert all(u.startswith(f"{scheme}://{remote.emulator.address}/{remote.emulator.bucket}/") for u in uris), uris
    assert ext.file_info(uris[0]) == 100


def test_multipart_upload_uses_the_configured_part_size(emulator_pool):
    emu = emulator_pool("moto")
    props = loon.Properties(emu.properties()).merged({"fs.multi_part_upload_size": str(10 << 20)})
    key = f"t-mpu-{time.monotonic_ns()}/big.bin"
    payload = bytes(range(256)) * (25 << 12)  # 25 MiB -> parts of 10, 10 and 5 MiB
    with loon.Filesystem(props) as fs:
        fs.reset_metrics()
        with fs.open_writer(key) as w:
            for i in range(0, len(payload), 1 << 20):
                w.write(payload[i : i + (1 << 20)])
        m = fs.metrics()
        assert (m["multi_part_upload_created"], m["multi_part_upload_finished"]) == (1, 1)
        assert fs.read_all(key) == payload
    # The store's ETag of a multipart object ends with "-<number of parts>".
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(f"{emu.endpoint}/{emu.bucket}/{key}", method="HEAD")) as r:
        assert r.headers["ETag"].strip('"').endswith("-3"), r.headers["ETag"]


S3_FAULTS = [
    ("s3fs.create_upload.fail", "open"),
    ("s3fs.writer.write.fail", "write"),
    ("s3fs.writer.flush.fail", "flush"),
    ("s3fs.part_upload.fail", "close"),
    ("s3fs.writer.close.fail", "close"),
    ("s3fs.complete_upload.fail", "close"),
]


@pytest.mark.parametrize("point, step", S3_FAULTS)
def test_s3_write_fault_points_fire(emulator_pool, point, step):
    if not loon.fault_injection_enabled():
        pytest.skip("engine built without libfiu")
    emu = emulator_pool("moto")
    props = loon.Properties(emu.properties())
    key = f"t-fault-{time.monotonic_ns()}/f.bin"
    with loon.Filesystem(props) as fs, loon.injected(point):
        with pytest.raises(loon.LoonError) as exc:
            w = fs.open_writer(key)
            try:
                w.write(b"data")
                w.flush()
                w.close()
            finally:
                w.destroy()
        assert exc.value.code == 3 and point in str(exc.value)
        assert not fs.exists(key), "a failed upload must not leave an object"


def test_s3_read_fault_points_fire(emulator_pool):
    """readat: positional reads (data files, manifests); read: sequential reads (read_file_all)."""
    if not loon.fault_injection_enabled():
        pytest.skip("engine built without libfiu")
    emu = emulator_pool("moto")
    props = loon.Properties(emu.properties())
    ds = f"t-rfault-{time.monotonic_ns()}"
    loon.commit_groups(ds, loon.write_dataset(ds, table(100), props), props)
    with loon.injected("s3fs.reader.readat.fail", 0):
        code, msg = code_of(lambda: loon.read_dataset(ds, data.SCHEMA, props))
    assert code == 3 and "s3fs.reader.readat.fail" in msg
    with loon.Filesystem(props) as fs:
        manifest = f"{ds}/_metadata/manifest-1.avro"
        with loon.injected("s3fs.reader.read.fail", 0):
            code, msg = code_of(lambda: fs.read_all(manifest))
            assert fs.read(manifest, 0, 4) == b"Obj\x01"  # positional reads are not this point's
        assert code == 3 and "s3fs.reader.read.fail" in msg
        assert fs.read_all(manifest)[:4] == b"Obj\x01"
    assert loon.read_dataset(ds, data.SCHEMA, props).num_rows == 100


def test_s3_fault_points_do_not_fire_elsewhere(remote, props):
    """s3fs.* points are S3's: armed, they leave local, Azure and GCS writes alone."""
    if not loon.fault_injection_enabled():
        pytest.skip("engine built without libfiu")
    if remote.kind == "moto":
        pytest.skip("S3 itself")
    with loon.injected("s3fs.writer.write.fail", 0), loon.Filesystem(remote.props) as fs:
        fs.write(remote.path("ok.bin"), b"fine")
        assert fs.read_all(remote.path("ok.bin")) == b"fine"


# ---- bad configuration ---------------------------------------------------------------------


def code_of(call) -> tuple[int, str]:
    with pytest.raises(loon.LoonError) as exc:
        call()
    return exc.value.code, str(exc.value)


def test_directory_below_an_object(remote):
    """S3 is a flat key space; Arrow's GCS and Azure filesystems refuse a directory below an object,
    which is code 3 naming the directory asked for, with the reason a local filesystem gives."""
    plain, ds = remote.path("plain"), remote.path("plain/ds")
    with loon.Filesystem(remote.props) as fs:
        fs.write(plain, b"a file")
        if remote.kind == "moto":
            assert loon.write_dataset(ds, table(10), remote.props)[0].num_rows == 10
        else:
            for call in (lambda: fs.mkdir(f"{ds}/sub"), lambda: loon.write_dataset(ds, table(10), remote.props)):
                code, message = code_of(call)
                assert code == 3 and f"{ds}/" in message and "Not a directory" in message, message
        assert fs.read_all(plain) == b"a file"


def test_missing_bucket_names_the_bucket(remote):
    """A missing bucket is code 104 naming it on every path, never an empty store."""
    bucket = "no-such-bucket-loon"
    props = loon.Properties(remote.emulator.properties(bucket=bucket))
    calls = {
        "writer": lambda: loon.write_dataset("ds", table(5), props),
        "reader": lambda: loon.read_dataset("ds", data.SCHEMA, props),
        "latest version": lambda: loon.latest_version("ds", props),
        "transaction begin": lambda: loon.Transaction("ds", props),
        "filesystem": lambda: loon.Filesystem(props),
    }
    for what, call in calls.items():
        code, msg = code_of(call)
        assert code == 104, f"{what}: {msg}"
        assert bucket in msg and remote.emulator.address in msg, f"{what}: {msg}"


def test_unreachable_endpoint_fails_within_the_timeout(remote):
    port = emulators.free_port()  # nothing listens there
    props = loon.Properties(
        {**remote.emulator.properties(), "fs.address": f"127.0.0.1:{port}", "fs.request_timeout_ms": "1000"}
    )
    start = time.monotonic()
    code, msg = code_of(lambda: loon.Filesystem(props).write("k", b"x"))
    assert code in (107, 108), msg
    assert f"127.0.0.1:{port}" in msg
    assert time.monotonic() - start < 60
    code, msg = code_of(lambda: loon.latest_version("ds", props) and loon.read_dataset("ds", data.SCHEMA, props))
    assert code in (107, 108), msg


BAD_ADDRESSES = ["127.0.0.1:notaport", "http://", "ftp://127.0.0.1:9", "127.0.0.1:9000/path", "host name:1", "h:99999"]


def test_silent_endpoint_times_out(remote):
    """A server that accepts connections and never answers: bounded by fs.request_timeout_ms."""
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    try:
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        props = loon.Properties(
            {**remote.emulator.properties(), "fs.address": address, "fs.request_timeout_ms": "1000"}
        )
        start = time.monotonic()
        code, msg = code_of(lambda: loon.Filesystem(props).write("k", b"x"))
        assert code in (107, 108, 110), msg
        assert address in msg

        def conditional_write() -> None:
            with loon.Filesystem(props) as fs:
                w = fs.open_writer("k2", conditional=True)
                try:
                    w.write(b"y")
                    w.close()
                finally:
                    w.destroy()

        code, msg = code_of(conditional_write)
        assert code == 108, msg
        assert time.monotonic() - start < 90
    finally:
        silent.close()


@pytest.mark.parametrize("address", BAD_ADDRESSES)
def test_malformed_address_is_refused(remote, address):
    props = loon.Properties({**remote.emulator.properties(), "fs.address": address})
    code, msg = code_of(lambda: loon.Filesystem(props))
    assert code == 7 and address in msg, msg


def test_missing_bucket_name_is_refused(remote):
    props = {k: v for k, v in remote.emulator.properties().items() if k != "fs.bucket_name"}
    code, msg = code_of(lambda: loon.Filesystem(props))
    assert code == 7 and "fs.bucket_name" in msg


def test_wrong_azure_key_is_access_denied(emulator_pool):
    emu = emulator_pool("azurite")
    wrong = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo9PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT0="
    props = loon.Properties({**emu.properties(), "fs.access_key_value": wrong})
    code, msg = code_of(lambda: loon.Filesystem(props).write("k", b"x"))
    assert code == 105, msg
    code, msg = code_of(lambda: loon.commit_groups("ds", loon.write_dataset("ds", table(5), props), props))
    assert code == 105, msg
    props = loon.Properties({**emu.properties(), "fs.access_key_value": "not base64!"})
    code, msg = code_of(lambda: loon.Filesystem(props))
    assert code == 7, msg


EXIT_WITH_OPEN_READERS = """
import sys, json
import loon
from loon.suite import data
props = json.loads(sys.argv[1])
_, manifest = loon.open_manifest(sys.argv[2], props)
reader = loon.Reader(manifest.column_groups, data.SCHEMA, properties=props)
stream = reader.iter_batches()
next(iter(stream))
chunks = reader.chunk_reader(0)
fs = loon.Filesystem(props)
r = fs.open_reader(sys.argv[2] + "/_metadata/manifest-1.avro")
print("open", flush=True)
# exit with the reader, its stream, a chunk reader and a file reader still open
"""


def test_process_exits_cleanly_with_readers_open(remote):
    import json

    ds = remote.path("exit")
    loon.commit_groups(ds, loon.write_dataset(ds, table(20000), remote.props), remote.props)
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", EXIT_WITH_OPEN_READERS, json.dumps(dict(remote.props)), ds],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and done.stdout.strip() == "open", done.stderr[-2000:]


# ---- incomplete multipart uploads -----------------------------------------------------------


def incomplete_uploads(emu, prefix: str) -> list[str]:
    """Keys of the multipart uploads started under ``prefix`` and neither completed nor aborted."""
    import urllib.request
    import xml.etree.ElementTree as ET

    with urllib.request.urlopen(f"{emu.endpoint}/{emu.bucket}?uploads&prefix={prefix}") as r:
        root = ET.fromstring(r.read())
    return [el.text for el in root.iter() if el.tag.endswith("}Key") or el.tag == "Key"]


OPEN_WRITERS_AT_EXIT = """
import atexit, json, os, sys
import pyarrow as pa
import loon
from loon.suite import data
props, prefix, hook = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
if hook == "off":
    atexit.unregister(loon._exit.abort_open_writers)
fs = loon.Filesystem(props)
w = fs.open_writer(prefix + "/file.bin")
w.write(os.urandom(22 << 20))  # two 10 MiB parts uploaded, the rest buffered
table = pa.Table.from_batches([data.make_batch(200000)])
writer = loon.Writer(prefix + "/ds", table.schema, props)
writer.write(table)
writer.flush()
print("open", flush=True)
# exit with both writers open and their multipart uploads in progress
"""


def run_open_writers_child(emu, prefix: str, hook: str) -> None:
    import json

    props = {**emu.properties(), "fs.multi_part_upload_size": str(10 << 20)}
    assert incomplete_uploads(emu, prefix) == []
    done = subprocess.run([sys.executable, "-c", OPEN_WRITERS_AT_EXIT, json.dumps(props), prefix, hook],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "open", done.stderr[-2000:]


def test_open_writers_are_aborted_at_exit(emulator_pool):
    """A process exiting with writers open aborts their multipart uploads: no parts are left behind."""
    emu = emulator_pool("moto")
    prefix = f"t-exit-abort-{time.monotonic_ns()}"
    run_open_writers_child(emu, prefix, "on")
    assert incomplete_uploads(emu, prefix) == []
    with loon.Filesystem(emu.properties()) as fs:
        assert fs.list_files(prefix) == []  # and nothing was published


def test_exit_after_the_s3_library_is_finalized_does_not_hang(emulator_pool):
    """Without the exit hook, pyarrow finalizes the AWS SDK before the writers are collected: they
    cannot abort any more, and must not wait forever for their part uploads either (they did).
    Their uploads stay on the bucket, as after a SIGKILL, until a lifecycle rule removes them."""
    emu = emulator_pool("moto")
    prefix = f"t-exit-finalized-{time.monotonic_ns()}"
    run_open_writers_child(emu, prefix, "off")
    assert len(incomplete_uploads(emu, prefix)) == 2
    with loon.Filesystem(emu.properties()) as fs:
        assert fs.list_files(prefix) == []


def test_same_size_rewrite_is_not_served_from_the_cache(remote):
    """Object stores time objects in whole seconds: a manifest rewritten with the same size within
    the second it was read in must be parsed again, not served from the metadata cache."""
    from loon.suite import corrupt

    ds = remote.path("rewrite")
    for i in range(2):
        loon.commit_groups(ds, loon.write_dataset(ds, table(10, offset=10 * i), remote.props), remote.props)
    assert loon.read_dataset(ds, data.SCHEMA, remote.props).num_rows == 20  # parsed, cached if allowed
    with corrupt.damaged(remote.props, f"{ds}/_metadata/manifest-2.avro", "bitflip", 0):
        code, msg = code_of(lambda: loon.read_dataset(ds, data.SCHEMA, remote.props))
        assert code == 3 and "manifest-2.avro" in msg, msg
    assert loon.read_dataset(ds, data.SCHEMA, remote.props).num_rows == 20
