"""Independent manifest parser (README "Manifest files") built on ``fastavro``, not on the engine.

``parse_manifest(raw)`` returns the writer schema and the single record of a container manifest,
so tests can check what the engine writes against the reference schema (record names, field order).
Legacy raw manifests (no container, magic 0x4D494C56) are recognised and reported by version.
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass
from typing import Any

import fastavro

__all__ = [
    "CONTAINER_MAGIC",
    "LEGACY_MAGIC",
    "SPEC_FIELDS",
    "ParsedManifest",
    "check_spec_schema",
    "legacy_version",
    "manifest_version_of",
    "parse_manifest",
    "read_long",
    "record_fields",
]

CONTAINER_MAGIC = b"Obj\x01"
LEGACY_MAGIC = 0x4D494C56

# Spec 5.5: record name -> field names in order.
SPEC_FIELDS: dict[str, list[str]] = {
    "Manifest": ["column_groups", "delta_logs", "stats", "indexes", "lob_files"],
    "ColumnGroup": ["columns", "files", "format"],
    "ColumnGroupFile": ["path", "start_index", "end_index", "properties"],
    "DeltaLog": ["path", "type", "num_entries"],
    "Statistics": ["paths", "metadata"],
    "Index": [
        "column_name", "index_name", "index_type", "path", "field_id", "index_id", "build_id",
        "index_version", "num_rows", "serialized_size", "mem_size", "current_index_version",
        "current_scalar_index_version", "index_store_path_version", "index_file_keys", "properties",
    ],
    "LobFileInfo": ["path", "field_id", "total_rows", "valid_rows", "file_size_bytes"],
}


@dataclass
class ParsedManifest:
    """A container manifest: writer schema (JSON as dict), codec and the one record."""

    schema: dict[str, Any]
    codec: str
    record: dict[str, Any]


def parse_manifest(raw: bytes) -> ParsedManifest:
    """Parses a container manifest; raises ``ValueError`` for anything else (e.g. legacy raw)."""
    if not raw.startswith(CONTAINER_MAGIC):
        raise ValueError(f"not an Avro container manifest (starts with {raw[:4]!r})")
    reader = fastavro.reader(io.BytesIO(raw))
    records = list(reader)
    if len(records) != 1:
        raise ValueError(f"a manifest holds exactly one record, found {len(records)}")
    return ParsedManifest(reader.writer_schema, reader.codec, records[0])


def read_long(raw: bytes, pos: int) -> tuple[int, int]:
    """Avro's zigzag varint (an ``int`` or ``long``) at ``pos``: ``(value, position after it)``."""
    shift = value = 0
    while True:
        b = raw[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return (value >> 1) ^ -(value & 1), pos


def legacy_version(raw: bytes) -> int | None:
    """The format version of a legacy raw manifest (README "Manifest files": legacy), or None if ``raw`` is not one."""
    if raw.startswith(CONTAINER_MAGIC) or len(raw) < 2:
        return None
    magic, pos = read_long(raw, 0)
    if magic != LEGACY_MAGIC:
        return None
    return read_long(raw, pos)[0]


def manifest_version_of(raw: bytes) -> int:
    """Spec 5.8 format version: the legacy number, or 6 for any container file."""
    if raw.startswith(CONTAINER_MAGIC):
        return 6
    version = legacy_version(raw)
    if version is None:
        raise ValueError(f"neither a container nor a legacy manifest (header {struct.unpack('4B', raw[:4])})")
    return version


def _named_records(schema: Any, out: dict[str, list[str]]) -> None:
    if isinstance(schema, list):
        for s in schema:
            _named_records(s, out)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "record":
            name = schema["name"].split(".")[-1]
            out[name] = [f["name"] for f in schema["fields"]]
            for f in schema["fields"]:
                _named_records(f["type"], out)
        elif kind == "array":
            _named_records(schema["items"], out)
        elif kind == "map":
            _named_records(schema["values"], out)
        else:
            _named_records(kind, out)


def record_fields(schema: dict[str, Any]) -> dict[str, list[str]]:
    """Record name (without namespace) -> field names in order, for every record in ``schema``."""
    out: dict[str, list[str]] = {}
    _named_records(schema, out)
    return out


def check_spec_schema(schema: dict[str, Any]) -> list[str]:
    """Differences between a writer schema and the reference schema (README "Manifest files"); empty when it matches."""
    problems = []
    name = str(schema.get("name", ""))
    namespace = schema.get("namespace") or (name.rsplit(".", 1)[0] if "." in name else "")
    if namespace != "milvus_storage":
        problems.append(f"namespace {namespace!r} != 'milvus_storage'")
    found = record_fields(schema)
    for record, fields in SPEC_FIELDS.items():
        if record not in found:
            problems.append(f"record {record} missing")
        elif found[record] != fields:
            problems.append(f"record {record}: fields {found[record]} != spec {fields}")
    return problems


_VERSION_FILE = re.compile(r"manifest-(\d+)\.avro$")


def version_of_path(path: str) -> int | None:
    """The version number in a ``_metadata/manifest-<n>.avro`` path, else None."""
    m = _VERSION_FILE.search(path)
    return int(m.group(1)) if m else None
