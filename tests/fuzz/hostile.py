"""Builders of hostile inputs: Avro container manifests with chosen writer schemas, damaged
copies of real manifests and Parquet footers, and the small datasets they are aimed at."""

from __future__ import annotations

import json
import os
import re
import struct
import sys
from pathlib import Path

import pyarrow as pa

import loon
from loon.suite.avro_manifest import CONTAINER_MAGIC, read_long

# The Avro primitives of the legacy-manifest fixture generator (tests/fixtures is no package).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from make_legacy_manifests import zigzag_varint  # noqa: E402


def avro_long(n: int) -> bytes:
    """Avro's zigzag varint; a value outside the 64-bit range (a mutation's) encodes as 0."""
    return zigzag_varint(n if -(1 << 63) <= n < (1 << 63) else 0)


def avro_bytes(b: bytes) -> bytes:
    return avro_long(len(b)) + b


def container(schema: dict | str, body: bytes, count: int = 1) -> bytes:
    """An Avro object container holding one block of ``count`` records encoded as ``body``."""
    schema_json = schema if isinstance(schema, str) else json.dumps(schema)
    sync = os.urandom(16)
    meta = avro_long(2) + avro_bytes(b"avro.schema") + avro_bytes(schema_json.encode())
    meta += avro_bytes(b"avro.codec") + avro_bytes(b"null") + avro_long(0)
    return CONTAINER_MAGIC + meta + sync + avro_long(count) + avro_bytes(body) + sync


# A record that contains itself: libavro recursed without end building its value class.
SELF_REFERENCING = {"type": "record", "name": "Manifest", "fields": [{"name": "again", "type": "Manifest"}]}
# A fixed of size -1: libavro crashed decoding it.
NEGATIVE_FIXED = {"type": "fixed", "name": "Manifest", "size": -1}


def empty_items_schema(items: str | dict) -> dict:
    """A manifest whose column_groups are an array of ``items``, a type that takes no bytes."""
    return {
        "type": "record",
        "name": "Manifest",
        "fields": [{"name": "column_groups", "type": {"type": "array", "items": items}}],
    }


EMPTY_RECORD = {"type": "record", "name": "E", "fields": []}


def huge_empty_array_manifest(items: str | dict = "null") -> bytes:
    """A manifest of ~200 bytes declaring 2^62 array items that take no bytes each."""
    return container(empty_items_schema(items), avro_long(1 << 62) + avro_long(0))


def manifest_path(base_dir: Path, version: int) -> Path:
    return base_dir / "_metadata" / f"manifest-{version}.avro"


def latest_manifest(root: Path, base: str) -> Path:
    files = sorted((root / base / "_metadata").glob("manifest-*.avro"), key=lambda p: int(p.stem.split("-")[1]))
    return files[-1]


def footer_range(data: bytes) -> tuple[int, int]:
    """[start, end) of a Parquet file's footer: the Thrift metadata, its length and the magic."""
    (length,) = struct.unpack("<I", data[-8:-4])
    return len(data) - 8 - length, len(data)


def row_group_num_rows_offset(footer: bytes, rows: int) -> int:
    """Offset in ``footer`` of the varint of the first RowGroup.num_rows equal to ``rows``.

    In Thrift's compact protocol a RowGroup ends with total_byte_size (field 2, i64: header 0x16)
    and num_rows (field 3, i64: header 0x16), so num_rows is the varint after two such headers.
    """
    value = avro_long(rows)  # Thrift's i64 varint is the same zigzag encoding
    m = re.search(rb"\x16[\x80-\xff]*[\x00-\x7f]\x16" + re.escape(value), footer)
    if m is None:
        raise LookupError(f"no RowGroup.num_rows of {rows} in the footer")
    return m.end() - len(value)


SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("i32", pa.int32()),
        pa.field("u8", pa.uint8()),
        pa.field("f32", pa.float32()),
        pa.field("f64", pa.float64()),
        pa.field("s", pa.string()),
        pa.field("b", pa.bool_()),
    ]
)

BIG = 1 << 24


def make_table(rows: int, offset: int = 0) -> pa.Table:
    """Rows whose values sit near the edges comparisons get wrong (2^24, 2^53, fractions); every
    nullable column has NULLs."""
    ids = list(range(offset, offset + rows))

    def nullable(values, every):
        return [None if i % every == 3 else v for i, v in zip(ids, values)]

    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "i32": pa.array(nullable([(i * 7919) % 2001 - 1000 for i in ids], 5), pa.int32()),
            "u8": pa.array(nullable([i % 256 for i in ids], 7), pa.uint8()),
            "f32": pa.array(nullable([float(BIG + (i % 5) * 2 - 4) if i % 2 else i / 4 for i in ids], 6), pa.float32()),
            "f64": pa.array(nullable([float((1 << 53) + (i % 4) * 2) if i % 3 == 0 else i * 1.5 - 50 for i in ids], 4),
                            pa.float64()),
            "s": pa.array(nullable([f"s{i % 37:02d}" for i in ids], 9), pa.string()),
            "b": pa.array(nullable([i % 3 == 0 for i in ids], 8), pa.bool_()),
        },
        schema=SCHEMA,
    )


def write_dataset(props: dict[str, str], base: str, table: pa.Table, batches: int = 1,
                  extra: dict[str, str] | None = None) -> loon.ColumnGroups:
    """Writes ``table`` in ``batches`` flushed pieces and commits it; returns the written groups."""
    merged = {**props, **(extra or {})}
    with loon.Writer(base, table.schema, merged) as w:
        step = max(1, -(-table.num_rows // batches))
        for start in range(0, table.num_rows, step):
            w.write(table.slice(start, step))
            w.flush()
    loon.commit_groups(base, w.column_groups, merged)
    return w.column_groups


def split_container(raw: bytes) -> tuple[dict, bytes]:
    """The writer schema and the single block's bytes of a (well-formed) container manifest."""
    assert raw[:4] == CONTAINER_MAGIC
    pos = 4
    meta = {}
    while True:
        count, pos = read_long(raw, pos)
        if count == 0:
            break
        for _ in range(abs(count)):
            klen, pos = read_long(raw, pos)
            key = raw[pos : pos + klen]
            pos += klen
            vlen, pos = read_long(raw, pos)
            meta[key] = raw[pos : pos + vlen]
            pos += vlen
    pos += 16  # sync marker
    _, pos = read_long(raw, pos)  # record count
    blen, pos = read_long(raw, pos)
    return json.loads(meta[b"avro.schema"]), raw[pos : pos + blen]
