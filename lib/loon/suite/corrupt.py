"""Deliberate damage to dataset files, through the engine's filesystem (so any backend works).

Used by the recovery and error-handling notebooks to check that damaged data and manifests give
clear errors naming the file, and that ``loon.suite.validate`` reports them::

    with corrupt.damaged(props, path, "truncate"):
        ...  # reads fail; the original bytes come back on exit

Kinds: ``truncate`` (keep the first half), ``bitflip`` (flip one bit; by default in the last
byte, i.e. the Parquet/Avro trailer), ``empty`` (zero bytes) and ``delete``.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

from ..filesystem import Filesystem

KINDS = ("truncate", "bitflip", "empty", "delete")


def read_bytes(properties: Mapping[str, Any], path: str) -> bytes:
    with Filesystem(properties) as fs:
        return fs.read_all(path)


def write_bytes(properties: Mapping[str, Any], path: str, content: bytes) -> None:
    with Filesystem(properties) as fs:
        fs.write(path, content)


def truncate_file(properties: Mapping[str, Any], path: str, keep: int | None = None) -> int:
    """Cuts ``path`` to its first ``keep`` bytes (default: half); returns the new size."""
    content = read_bytes(properties, path)
    keep = len(content) // 2 if keep is None else keep
    write_bytes(properties, path, content[:keep])
    return keep


def flip_bit(properties: Mapping[str, Any], path: str, offset: int = -1, bit: int = 0) -> int:
    """Flips bit ``bit`` of the byte at ``offset`` (negative counts from the end); returns the offset."""
    content = bytearray(read_bytes(properties, path))
    if not content:
        raise ValueError(f"{path} is empty: no bit to flip")
    pos = offset % len(content)
    content[pos] ^= 1 << bit
    write_bytes(properties, path, bytes(content))
    return pos


def empty_file(properties: Mapping[str, Any], path: str) -> None:
    """Replaces ``path`` by a zero-byte file."""
    write_bytes(properties, path, b"")


def delete_file(properties: Mapping[str, Any], path: str) -> None:
    with Filesystem(properties) as fs:
        fs.delete(path)


def damage(properties: Mapping[str, Any], path: str, kind: str, offset: int = -1) -> None:
    """Applies one kind of damage (``KINDS``) to ``path``."""
    if kind == "truncate":
        truncate_file(properties, path)
    elif kind == "bitflip":
        flip_bit(properties, path, offset)
    elif kind == "empty":
        empty_file(properties, path)
    elif kind == "delete":
        delete_file(properties, path)
    else:
        raise ValueError(f"unknown damage {kind!r}; known: {', '.join(KINDS)}")


@contextlib.contextmanager
def damaged(properties: Mapping[str, Any], path: str, kind: str, offset: int = -1) -> Iterator[bytes]:
    """Damages ``path`` inside the block and restores its original bytes on exit (yields them)."""
    original = read_bytes(properties, path)
    damage(properties, path, kind, offset)
    try:
        yield original
    finally:
        write_bytes(properties, path, original)


def data_page_offset(properties: Mapping[str, Any], path: str, column: str) -> int:
    """Offset of a byte in the middle of ``column``'s column chunk in the first row group: inside
    one of its data pages (which one depends on the page size; a take must read all rows of the
    row group to be sure to touch it).

    A bit flipped there damages the values only (not the footer), which only a checksum detects.
    """
    import io

    import pyarrow.parquet as pq

    meta = pq.ParquetFile(io.BytesIO(read_bytes(properties, path))).metadata
    rg = meta.row_group(0)
    for i in range(rg.num_columns):
        chunk = rg.column(i)
        if chunk.path_in_schema == column:
            start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
            end = start + chunk.total_compressed_size
            return chunk.data_page_offset + (end - chunk.data_page_offset) // 2
    raise KeyError(f"{path} has no column {column!r}")


def file_digests(properties: Mapping[str, Any], paths: list[str]) -> dict[str, str]:
    """SHA-256 of each file, e.g. taken right after a commit to verify the files later."""
    return {path: hashlib.sha256(read_bytes(properties, path)).hexdigest() for path in paths}


def verify_digests(properties: Mapping[str, Any], digests: Mapping[str, str]) -> list[str]:
    """Problems found comparing files with ``digests`` (missing or changed files); [] when intact."""
    problems = []
    with Filesystem(properties) as fs:
        for path, expected in digests.items():
            try:
                actual = hashlib.sha256(fs.read_all(path)).hexdigest()
            except Exception as e:
                problems.append(f"{path}: cannot be read ({e})")
                continue
            if actual != expected:
                problems.append(f"{path}: sha256 {actual[:16]}... differs from recorded {expected[:16]}...")
    return problems


def parquet_schema(properties: Mapping[str, Any], path: str) -> Any:
    """The Arrow schema stored in a Parquet file's footer (a ``pyarrow.Schema``)."""
    import io

    import pyarrow.parquet as pq

    return pq.ParquetFile(io.BytesIO(read_bytes(properties, path))).schema_arrow
