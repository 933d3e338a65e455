"""loon.suite.avro_manifest: manifests written by the engine, checked with fastavro against README "Manifest files"."""

from __future__ import annotations

import io

import fastavro
import pyarrow as pa
import pytest

import loon
from loon.suite import avro_manifest, data, fixtures, workloads


def _manifest(fs_root, version: int) -> bytes:
    return (fs_root / "ds" / "_metadata" / f"manifest-{version}.avro").read_bytes()


def test_engine_manifest_matches_spec_schema(props, fs_root):
    loon.commit_groups("ds", loon.write_dataset("ds", data.make_table(30), props), props)
    raw = _manifest(fs_root, 1)
    parsed = avro_manifest.parse_manifest(raw)
    assert parsed.codec == "null"
    assert avro_manifest.check_spec_schema(parsed.schema) == []
    fields = avro_manifest.record_fields(parsed.schema)
    assert fields["Manifest"] == ["column_groups", "delta_logs", "stats", "indexes", "lob_files"]
    group = parsed.record["column_groups"][0]
    assert group["columns"] == ["id", "name", "value"] and group["format"] == "parquet"
    assert group["files"][0]["end_index"] == 30 and "/" not in group["files"][0]["path"]  # stored relative (5.6)


def test_record_decodes_with_the_spec_schema_as_reader_schema(props, fs_root):
    """Schema resolution against our own copy of the reference schema, as a real milvus-storage reader would."""
    loon.commit_groups("ds", loon.write_dataset("ds", data.make_table(5), props), props)
    writer = avro_manifest.parse_manifest(_manifest(fs_root, 1)).schema
    reader_schema = fastavro.parse_schema(writer)
    records = list(fastavro.reader(io.BytesIO(_manifest(fs_root, 1)), reader_schema=reader_schema))
    assert len(records) == 1 and records[0]["column_groups"][0]["files"][0]["end_index"] == 5


def test_manifest_carries_added_groups_stats_and_delta_logs(props, fs_root):
    loon.commit_groups("ds", loon.write_dataset("ds", data.make_table(10), props), props)
    workloads.add_columns("ds", props, pa.table({"extra": pa.array(range(10), pa.int32())}))
    with loon.Transaction("ds", props) as txn:
        txn.add_delta_log("ds/_delta/d0.parquet", 3)
        txn.update_stat("bloom", ["ds/_stats/b.bin"], {"kind": "bloom"})
    record = avro_manifest.parse_manifest(_manifest(fs_root, 3)).record
    assert [g["columns"] for g in record["column_groups"]] == [["id", "name", "value"], ["extra"]]
    assert record["delta_logs"] == [{"path": "d0.parquet", "type": record["delta_logs"][0]["type"], "num_entries": 3}]
    assert record["stats"] == {"bloom": {"paths": ["b.bin"], "metadata": {"kind": "bloom"}}}


@pytest.mark.parametrize("version", [1, 2, 3])
def test_legacy_fixtures_are_recognised(version):
    raw = (fixtures.legacy_dir(version) / "_metadata" / "manifest-1.avro").read_bytes()
    assert avro_manifest.legacy_version(raw) == version
    assert avro_manifest.manifest_version_of(raw) == version
    with pytest.raises(ValueError, match="not an Avro container"):
        avro_manifest.parse_manifest(raw)


def test_check_spec_schema_reports_differences(props, fs_root):
    loon.commit_groups("ds", loon.write_dataset("ds", data.make_table(5), props), props)
    schema = avro_manifest.parse_manifest(_manifest(fs_root, 1)).schema
    schema["fields"] = list(reversed(schema["fields"]))
    problems = avro_manifest.check_spec_schema(schema)
    assert any(p.startswith("record Manifest: fields") for p in problems)


def test_version_of_path_and_garbage():
    assert avro_manifest.version_of_path("ds/_metadata/manifest-12.avro") == 12
    assert avro_manifest.version_of_path("ds/_metadata/other") is None
    with pytest.raises(ValueError):
        avro_manifest.manifest_version_of(b"\x00\x01\x02\x03")
