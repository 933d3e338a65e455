"""loon.suite.backend and the backend-neutral file access of the suite (StoredFile, Session helpers).

Each remote test runs on every emulator (the ``remote`` fixture): what pyarrow's own filesystem
sees is what the engine wrote, and the helpers cases use to inspect files never need a local path.
"""

from __future__ import annotations

import uuid

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

import loon
from loon.external_table import write_parquet
from loon.suite import backend, parquet_meta
from loon.suite.session import Session
from loon.suite.storage import StoredFile, stored_files

TABLE = pa.table({"id": pa.array(range(100), pa.int64()), "name": pa.array([f"n{i}" for i in range(100)])})


def test_features_by_configuration():
    assert backend.features({"fs.storage_type": "local", "fs.root_path": "/x"}) == {
        "posix_files",
        "partial_files",
        "directories",
    }
    s3 = {"fs.storage_type": "remote", "fs.cloud_provider": "aws"}
    assert backend.features(s3) == {"s3_protocol"}
    assert backend.features({**s3, "fs.cloud_provider": "huawei"}) == {"s3_protocol"}
    assert backend.features({**s3, "fs.cloud_provider": "azure"}) == {"partial_files", "directories"}
    gcs = {"fs.storage_type": "remote", "fs.cloud_provider": "gcp", "fs.gcp_native_without_auth": "true"}
    assert backend.features(gcs) == {"directories"}
    # GCS with HMAC keys speaks S3 (its XML API)
    assert backend.features({**gcs, "fs.gcp_native_without_auth": "false", "fs.access_key_id": "k"}) == {"s3_protocol"}


def test_missing_reason_names_backend_and_feature():
    azure = {"fs.storage_type": "remote", "fs.cloud_provider": "azure"}
    reason = backend.missing_reason(azure, "posix_files", "azure-emulator")
    assert "azure-emulator" in reason and "azure object store" in reason and "permission bits" in reason
    assert backend.missing_reason({"fs.storage_type": "local"}, "posix_files") is None
    with pytest.raises(KeyError, match="unknown backend feature"):
        backend.missing_reason(azure, "teleport")


def test_external_uri_forms():
    assert backend.external_uri({"fs.storage_type": "local"}, "a/b.parquet") == "local:///local/a/b.parquet"
    remote = {"fs.storage_type": "remote", "fs.address": "http://127.0.0.1:9000", "fs.bucket_name": "bkt"}
    assert backend.external_uri({**remote, "fs.cloud_provider": "aws"}, "a") == "s3://127.0.0.1:9000/bkt/a"
    assert backend.external_uri({**remote, "fs.cloud_provider": "azure"}, "a") == "abfs://127.0.0.1:9000/bkt/a"
    gcs = {**remote, "fs.cloud_provider": "gcp", "fs.gcp_native_without_auth": "true"}
    assert backend.external_uri(gcs, "/a/") == "gcs://127.0.0.1:9000/bkt/a"


def test_explore_records_the_external_uri(remote):
    """The URI form the notebooks expect is the one the engine records on each object store."""
    path = remote.path("ext/one/data.parquet")
    write_parquet(remote.props, path, TABLE)
    ext = loon.ExternalTable(remote.props)
    result = ext.explore(remote.path("ext/one"), remote.path("staging"), TABLE.schema.names)
    (f,) = ext.read_manifest(result.manifest_path).column_groups[0].files
    assert f.path == backend.external_uri(remote.props, path)


def test_arrow_filesystem_sees_what_the_engine_wrote(remote):
    groups = loon.write_dataset(remote.path("ds"), TABLE, remote.props)
    afs = backend.arrow_filesystem(remote.props)
    (stored,) = stored_files(groups, remote.props)
    info = afs.get_file_info(stored.path)
    assert info.type == pafs.FileType.File and info.size == stored.size > 0
    assert pq.read_table(stored.path, filesystem=afs).equals(TABLE)
    # and the other way: a file pyarrow writes is read by the engine
    pq.write_table(TABLE, remote.path("by-pyarrow.parquet"), filesystem=afs)
    with loon.Filesystem(remote.props) as fs:
        assert fs.read_all(remote.path("by-pyarrow.parquet"))[-4:] == b"PAR1"


def test_stored_file_reads_parquet_metadata_through_the_engine(remote):
    props = remote.props.merged({"writer.compression": "zstd"})
    groups = loon.write_dataset(remote.path("ds"), TABLE, props)
    (stored,) = stored_files(groups, props)
    assert parquet_meta.codecs(stored) == {"ZSTD"}
    assert parquet_meta.total_size([stored]) == stored.size == len(stored.read_bytes())
    with stored.open() as handle:
        assert pq.read_table(handle).equals(TABLE)
    assert stored == StoredFile(stored.path, {}) and len({stored, StoredFile(stored.path, {})}) == 1


def test_arrow_filesystem_of_local_backend_is_rooted(props, fs_root):
    loon.write_dataset("ds", TABLE, props)
    afs = backend.arrow_filesystem(props)
    listed = afs.get_file_info(pafs.FileSelector("ds", recursive=True))
    files = [i.path for i in listed if i.type == pafs.FileType.File]
    assert len(files) == 1 and (fs_root / files[0]).is_file()


def test_session_requires_backend_features(tmp_path, remote):
    params = tmp_path / "remote.yaml"
    lines = [f"  {k}: '{v}'" for k, v in remote.props.items()]
    params.write_text("backend: emu\nproperties:\n" + "\n".join(lines) + "\n")
    suite = Session("demo", params_file=str(params))

    @suite.case
    def test_needs_posix():
        suite.require_backend("posix_files")
        raise AssertionError("not reached")

    @suite.case
    def test_writes_and_inspects():
        with suite.dataset() as ds:
            groups = ds.write(TABLE)
            (stored,) = suite.data_files(groups)
            assert parquet_meta.metadata(stored).num_rows == 100
            assert suite.backend_supports("s3_protocol") == (remote.kind == "moto")

    skipped, ran = suite.results
    assert skipped.status == "skip" and "backend emu" in skipped.message and "POSIX" in skipped.message
    assert ran.status == "pass", ran.message
    suite.finish()


# ---- engine behaviour the notebooks rely on, on every object store ---------------------------------


def test_missing_data_file_is_code_12(remote):
    """A data file deleted behind a manifest: reads name it with code 12 on every store (a read of a known
    size skips the HEAD request, so the store's GET error must be recognised as a missing key)."""
    ds = remote.path("ds")
    groups = loon.write_dataset(ds, TABLE, remote.props)
    loon.commit_groups(ds, groups, remote.props)
    victim = groups[0].files[0].path
    with loon.Filesystem(remote.props) as fs:
        fs.delete(victim)
    for read in (
        lambda: loon.read_dataset(ds, TABLE.schema, remote.props),
        lambda: loon.Reader(groups, TABLE.schema, properties=remote.props).take([1]),
    ):
        with pytest.raises(loon.LoonFileNotFoundError) as exc:
            read()
        assert exc.value.code == 12 and victim in str(exc.value)


def test_failed_upload_names_its_cause_at_close(emulator_pool):
    """s3fs.writer.write.fail during a data-file write surfaces from the writer's close (Parquet buffers
    the write): the message still names the fault, not just "the upload failed"."""
    if not loon.fault_injection_enabled():
        pytest.skip("engine built without libfiu")
    props = loon.Properties(emulator_pool("moto").properties())
    with loon.injected("s3fs.writer.write.fail"), pytest.raises(loon.LoonError) as exc:
        loon.write_dataset(f"t-close-{uuid.uuid4().hex[:8]}", TABLE, props)
    assert exc.value.code == 3 and "s3fs.writer.write.fail" in str(exc.value), exc.value
