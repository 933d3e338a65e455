"""Streaming write and scan of large data, digesting every batch on the way."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ...column_groups import ColumnGroups
from ...reader import Reader
from ...transaction import LATEST, Resolve, Transaction, open_manifest
from ...writer import Writer
from .digest import TableDigest

# --------------------------------------------------------------------------------------------
# Streaming write and scan
# --------------------------------------------------------------------------------------------


@dataclass
class WriteResult:
    """What ``write_stream`` wrote: column groups, digest of the batches, and the writer's own time."""

    groups: ColumnGroups
    digest: TableDigest
    rows: int
    bytes: int
    seconds: float
    version: int | None = None
    commit_seconds: float = 0.0


@dataclass
class ScanResult:
    """What ``scan_stream`` read: digest, rows, in-memory bytes, scan time and the version read."""

    digest: TableDigest
    rows: int
    bytes: int
    seconds: float
    version: int


def write_stream(
    base_path: str,
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    properties: Mapping[str, Any],
    commit: bool = True,
    resolve: Resolve | int = Resolve.FAIL,
    retry_limit: int = 1,
) -> WriteResult:
    """Writes ``batches`` through one Writer (and commits them as an append unless ``commit=False``).

    The batches are consumed one at a time (a generator never has to fit in memory); their digest is
    computed on the way. ``seconds`` counts only the Writer's calls (write and close), not the
    generation or hashing of the batches.
    """
    digest = TableDigest()
    rows = nbytes = 0
    seconds = 0.0
    with Writer(base_path, schema, properties) as writer:
        for batch in batches:
            start = time.perf_counter()
            writer.write(batch)
            seconds += time.perf_counter() - start
            digest.update(batch)
            rows += batch.num_rows
            nbytes += batch.nbytes
        start = time.perf_counter()
        groups = writer.close()
        seconds += time.perf_counter() - start
    result = WriteResult(groups, digest, rows, nbytes, seconds)
    if commit:
        start = time.perf_counter()
        with Transaction(base_path, properties, resolve=resolve, retry_limit=retry_limit) as txn:
            txn.append_files(groups)
        result.version = txn.committed_version
        result.commit_seconds = time.perf_counter() - start
    return result


def scan_stream(
    base_path: str,
    schema: pa.Schema,
    properties: Mapping[str, Any],
    version: int = LATEST,
    columns: Sequence[str] | None = None,
    groups: ColumnGroups | None = None,
) -> ScanResult:
    """Scans ``version`` (or the given ``groups``) batch by batch into a digest; times only the scan.

    ``ScanResult.version`` is the version read (``LATEST`` when ``groups`` are given).
    """
    if groups is None:
        version, manifest = open_manifest(base_path, properties, version)
        groups = manifest.column_groups
    digest = TableDigest()
    rows = nbytes = 0
    seconds = 0.0
    with Reader(groups, schema, columns, properties) as reader:
        start = time.perf_counter()
        stream = reader.iter_batches()
        seconds += time.perf_counter() - start
        try:
            while True:
                start = time.perf_counter()
                try:
                    batch = stream.read_next_batch()
                except StopIteration:
                    seconds += time.perf_counter() - start
                    break
                seconds += time.perf_counter() - start
                digest.update(batch)
                rows += batch.num_rows
                nbytes += batch.nbytes
        finally:
            stream.close()  # release the engine's stream before its reader
    return ScanResult(digest, rows, nbytes, seconds, version)
