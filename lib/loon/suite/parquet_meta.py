"""Independent inspection of the Parquet files the engine writes (pyarrow.parquet metadata).

A file is a ``StoredFile`` (``Session.data_files``: any backend, read through the engine's
filesystem) or a local path (tests of the engine on a temporary directory).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq


class _Stored(Protocol):
    size: int

    def open(self) -> Any: ...


ParquetSource = str | Path | _Stored


def metadata(source: ParquetSource) -> pq.FileMetaData:
    """The Parquet footer of a stored file or local path."""
    if isinstance(source, str | os.PathLike):
        return pq.ParquetFile(source).metadata
    with source.open() as handle:
        return pq.ParquetFile(handle).metadata


def codecs(path: ParquetSource) -> set[str]:
    """Compression codecs (upper case, e.g. ``ZSTD``) of every column chunk of the file."""
    meta = metadata(path)
    return {
        meta.row_group(r).column(c).compression.upper()
        for r in range(meta.num_row_groups)
        for c in range(meta.num_columns)
    }


def encodings(path: ParquetSource) -> set[str]:
    """All encodings (e.g. ``PLAIN``, ``RLE_DICTIONARY``) used by any column chunk of the file."""
    meta = metadata(path)
    found: set[str] = set()
    for r in range(meta.num_row_groups):
        for c in range(meta.num_columns):
            found.update(meta.row_group(r).column(c).encodings)
    return found


def uses_dictionary(path: ParquetSource) -> bool:
    """True if any column chunk of the file is dictionary encoded."""
    return any("DICTIONARY" in e for e in encodings(path))


def compressed_sizes(paths: list[ParquetSource]) -> dict[str, int]:
    """Compressed bytes per column (path in schema) summed over every row group of ``paths``."""
    sizes: dict[str, int] = {}
    for path in paths:
        meta = metadata(path)
        for r in range(meta.num_row_groups):
            for c in range(meta.num_columns):
                chunk = meta.row_group(r).column(c)
                sizes[chunk.path_in_schema] = sizes.get(chunk.path_in_schema, 0) + chunk.total_compressed_size
    return sizes


def total_size(paths: list[ParquetSource]) -> int:
    """Summed stored size in bytes of ``paths``."""
    return sum(Path(p).stat().st_size if isinstance(p, str | os.PathLike) else p.size for p in paths)


def key_retriever(keys: Mapping[bytes, bytes], seen: list[bytes] | None = None) -> Callable[[bytes], bytes | None]:
    """A key retriever returning ``keys[metadata]`` (None if unknown); records every metadata in ``seen``."""

    def retrieve(metadata: bytes) -> bytes | None:
        if seen is not None:
            seen.append(metadata)
        return keys.get(metadata)

    return retrieve


def wide_table(num_rows: int, num_columns: int) -> pa.Table:
    """``num_columns`` int64 columns ``c0000..``; cell (r, c) = r * num_columns + c."""
    return pa.table(
        {f"c{c:04d}": pa.array([r * num_columns + c for r in range(num_rows)], pa.int64()) for c in range(num_columns)}
    )


def nested_table(num_rows: int) -> pa.Table:
    """``id``, a ``list<list<list<int64>>>`` column and a struct with a nested list and struct."""
    deep = [[[list(range(r % 3)), [r]], []] if r % 5 else None for r in range(num_rows)]
    rec = [{"a": r, "b": {"c": str(r), "d": [float(r)] * (r % 2)}} for r in range(num_rows)]
    return pa.table(
        {
            "id": pa.array(range(num_rows), pa.int64()),
            "deep": pa.array(deep, pa.list_(pa.list_(pa.list_(pa.int64())))),
            "rec": pa.array(
                rec,
                pa.struct([("a", pa.int64()), ("b", pa.struct([("c", pa.string()), ("d", pa.list_(pa.float64()))]))]),
            ),
        }
    )


# Parquet encrypted-footer mode (the file ends with "PARE"): the footer begins with a Thrift
# (compact protocol) FileCryptoMetaData whose field 1 is the EncryptionAlgorithm union, field id 1
# = AES_GCM_V1 and field id 2 = AES_GCM_CTR_V1, then optional field 2 key_metadata (binary).
_ALGORITHMS = {1: "AES_GCM_V1", 2: "AES_GCM_CTR_V1"}


def _varint(raw: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = raw[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _skip_struct(raw: bytes, pos: int) -> int:
    """Position after the compact-protocol struct starting at ``pos`` (only the types the crypto metadata uses)."""
    field = 0
    while True:
        header = raw[pos]
        pos += 1
        if header == 0:  # STOP
            return pos
        kind, delta = header & 0x0F, header >> 4
        if delta == 0:  # long form: zigzag i16 field id follows
            _, pos = _varint(raw, pos)
        field += delta
        if kind in (1, 2):  # bool true/false: no payload
            continue
        if kind in (3, 4, 5, 6):  # byte, i16, i32, i64
            pos = pos + 1 if kind == 3 else _varint(raw, pos)[1]
        elif kind == 8:  # binary
            size, pos = _varint(raw, pos)
            pos += size
        elif kind == 12:  # struct
            pos = _skip_struct(raw, pos)
        else:
            raise ValueError(f"unexpected Thrift type {kind} in the crypto metadata")


def encryption_of(raw: bytes) -> tuple[str, bytes]:
    """(algorithm, footer key metadata) recorded in a Parquet file with an encrypted footer.

    Raises ``ValueError`` when ``raw`` is not such a file (no ``PARE`` magic) or its crypto metadata
    does not parse.
    """
    if raw[-4:] != b"PARE" or raw[:4] != b"PARE":
        raise ValueError("not a Parquet file with an encrypted footer (no PARE magic)")
    footer_len = int.from_bytes(raw[-8:-4], "little")
    pos = len(raw) - 8 - footer_len
    if raw[pos] != 0x1C:  # field 1, struct
        raise ValueError(f"FileCryptoMetaData does not start with its algorithm (byte {raw[pos]:#x})")
    header = raw[pos + 1]
    if header & 0x0F != 12 or header >> 4 not in _ALGORITHMS:
        raise ValueError(f"unknown encryption algorithm field {header:#x}")
    algorithm = _ALGORITHMS[header >> 4]
    pos = _skip_struct(raw, pos + 2)  # the algorithm's own struct (aad prefix, flags)
    pos = _skip_struct(raw, pos) if raw[pos] == 0 else pos  # STOP of the union
    key_metadata = b""
    if raw[pos] == 0x18:  # field 2 (delta 1 after the union), binary
        size, start = _varint(raw, pos + 1)
        key_metadata = raw[start : start + size]
    return algorithm, key_metadata


def metadata_of(raw: bytes) -> pq.FileMetaData:
    """The footer metadata of an unencrypted Parquet file held in memory."""
    return pq.ParquetFile(pa.BufferReader(raw)).metadata
