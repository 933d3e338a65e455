"""Concurrent stress workloads: many committers, readers of consistent snapshots, contention, load cycles."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import LoonError
from ...filesystem import Filesystem
from ...reader import Reader
from ...transaction import Resolve, Transaction, open_manifest
from ...writer import Writer
from .. import data, workloads
from ..resources import ResourceMonitor
from .digest import TableDigest

# --------------------------------------------------------------------------------------------
# Concurrency
# --------------------------------------------------------------------------------------------


# Ids of a case's first ("base") rows: far above every committer's ``workloads.id_base`` range.
BASE_OFFSET = workloads.id_base(5_000, 0)


def expected_digest(
    outcomes: Sequence[workloads.CommitOutcome], base_rows: int = 0, base_offset: int = BASE_OFFSET
) -> TableDigest:
    """Digest of ``base_rows`` rows from ``base_offset`` followed by the rows of every successful commit
    in version order (what ``workloads.expected_table`` holds, without building the table)."""
    digest = TableDigest()
    if base_rows:
        digest.update_all(data.batches(base_rows, offset=base_offset))
    for o in sorted((o for o in outcomes if o.ok), key=lambda o: o.version or 0):
        digest.update_all(data.batches(o.num_rows, offset=o.first_id))
    if digest.schema is None:
        digest.update(data.SCHEMA.empty_table())
    return digest


def committed_volume(outcomes: Sequence[workloads.CommitOutcome]) -> tuple[int, int]:
    """In-memory bytes and rows of the successful commits' batches (for throughput records)."""
    ok = [o for o in outcomes if o.ok]
    return sum(data.make_batch(o.num_rows, o.first_id).nbytes for o in ok), sum(o.num_rows for o in ok)


def snapshot_checksum(ids: np.ndarray) -> tuple[int, int, int]:
    """Order-independent checksum of a set of ids: count, sum, and the sum of their splitmix64 hashes (mod 2^64)."""
    ids = np.asarray(ids, dtype=np.int64)
    with np.errstate(over="ignore"):
        mixed = int(np.sum(data._mix(ids, 99), dtype=np.uint64)) if len(ids) else 0
    return len(ids), int(ids.sum(dtype=np.int64)) if len(ids) else 0, mixed


def _add_checksums(a: tuple[int, int, int], b: tuple[int, int, int]) -> tuple[int, int, int]:
    return a[0] + b[0], a[1] + b[1], (a[2] + b[2]) % (1 << 64)


def version_checksums(
    outcomes: Sequence[workloads.CommitOutcome], base_version: int, base_ids: np.ndarray
) -> dict[int, tuple[int, int, int]]:
    """Version -> the id checksum the dataset must have there: base rows plus every commit up to it."""
    current = snapshot_checksum(base_ids)
    out = {base_version: current}
    for o in sorted((o for o in outcomes if o.ok), key=lambda o: o.version or 0):
        ids = np.arange(o.first_id, o.first_id + o.num_rows, dtype=np.int64)
        current = _add_checksums(current, snapshot_checksum(ids))
        out[int(o.version)] = current
    return out


@dataclass
class SnapshotRead:
    """One read of the latest version by a reader thread."""

    version: int
    checksum: tuple[int, int, int]
    seconds: float


def read_snapshots(
    base_path: str,
    properties: Mapping[str, Any],
    stop: threading.Event,
    min_reads: int = 1,
) -> tuple[list[SnapshotRead], list[str]]:
    """Reads the latest version's ids until ``stop`` is set (at least ``min_reads`` times).

    Returns the reads and the error messages of failed reads (a consistent engine has none).
    """
    reads: list[SnapshotRead] = []
    errors: list[str] = []
    while not stop.is_set() or len(reads) + len(errors) < min_reads:
        start = time.perf_counter()
        try:
            version, manifest = open_manifest(base_path, properties)
            with Reader(manifest.column_groups, data.SCHEMA, ["id"], properties) as reader:
                ids = reader.scan().column("id").to_numpy()
            reads.append(SnapshotRead(version, snapshot_checksum(ids), time.perf_counter() - start))
        except LoonError as exc:
            errors.append(str(exc))
    return reads, errors


def check_snapshots(reads: Sequence[SnapshotRead], expected: Mapping[int, tuple[int, int, int]]) -> int:
    """Every read saw exactly the rows of its version (no partial or lost commit); versions never go
    backwards within one reader. Returns the number of distinct versions seen."""
    previous = -1
    for r in reads:
        assert r.version in expected, (
            f"read version {r.version} that no commit produced (known {sorted(expected)[:5]}...)"
        )
        assert r.checksum == expected[r.version], (
            f"version {r.version}: read ids {r.checksum} != committed {expected[r.version]} (count, sum, hash)"
        )
        assert r.version >= previous, f"a reader went back from version {previous} to {r.version}"
        previous = r.version
    return len({r.version for r in reads})


def commit_all(
    base_path: str,
    properties: Mapping[str, Any],
    threads: int,
    commits: int,
    rows: int,
    resolve: Resolve | int = Resolve.MERGE,
) -> tuple[list[workloads.CommitOutcome], float]:
    """``threads`` committers with ``commits`` appends of ``rows`` each, started together.

    With MERGE the retry limit is the total number of commits: each lost race means another commit
    was published, so no commit can exhaust it — every commit must succeed.
    """
    total = threads * commits
    return workloads.run_concurrent(base_path, properties, threads, commits, rows, resolve, retry_limit=total)


# --------------------------------------------------------------------------------------------
# Contention
# --------------------------------------------------------------------------------------------


def contend(
    base_path: str,
    properties: Mapping[str, Any],
    threads: int,
    rows: int,
    read_version: int,
    resolve: Resolve | int,
    retry_limit: int,
    round_no: int = 0,
) -> tuple[list[workloads.CommitOutcome], float]:
    """``threads`` transactions that all begin at ``read_version`` and commit an append together.

    Committer ``i`` uses ids of ``workloads.id_base(i, round_no)``; outcomes carry versions or codes.
    """
    jobs = [
        (
            lambda i=i: workloads.append_rows(
                base_path, properties, i, round_no, rows, resolve, retry_limit, read_version=read_version
            )
        )
        for i in range(threads)
    ]
    return workloads.run_threads(jobs)


def threaded_rounds(
    job: Callable[[int, int], Any], threads: int, rounds: int, monitor: ResourceMonitor, warmup: int = 1
) -> tuple[list[Any], float]:
    """Runs ``job(round, thread)`` in ``threads`` threads (started together), ``warmup + rounds`` times.

    The monitor's baseline is taken after the warm-up rounds, which run the same load: allocators
    and thread arenas reach their working size there, so growth across the measured rounds is what
    the load keeps, not what a first run of it needs. Returns every job's result (all rounds, in
    order) and the wall time of the measured rounds.
    """
    results: list[Any] = []
    seconds = 0.0
    for r in range(warmup + rounds):
        if r == warmup:
            monitor.baseline()
        out, elapsed = workloads.run_threads([functools.partial(job, r, i) for i in range(threads)])
        results.extend(out)
        if r >= warmup:
            seconds += elapsed
            monitor.sample()
    return results, seconds


# --------------------------------------------------------------------------------------------
# Resource cleanup and GC pressure
# --------------------------------------------------------------------------------------------


def remove_dataset(properties: Mapping[str, Any], path: str) -> int:
    """Deletes every file under ``path`` through the engine's filesystem; returns how many."""
    with Filesystem(properties) as fs:
        return fs.remove_files(path)


def expect_failure(call: Callable[[], Any], codes: Sequence[int]) -> int:
    """Runs ``call``, which must fail with one of ``codes``; returns the code."""
    try:
        call()
    except LoonError as exc:
        assert exc.code in codes, f"expected code {list(codes)}, got {exc.code}: {exc}"
        return exc.code
    raise AssertionError(f"call succeeded, expected a failure with code {list(codes)}")


def load_cycle(
    base_path: str,
    properties: Mapping[str, Any],
    committer: int,
    cycles: int,
    rows: int,
    retry_limit: int,
    resolve: Resolve | int = Resolve.MERGE,
) -> list[workloads.CommitOutcome]:
    """One thread of ``test_resource_cleanup_under_load``: ``cycles`` rounds of every handle kind.

    Each round appends ``rows`` rows (``resolve``: MERGE for concurrent callers), reads the latest
    version and finds its own ids there, reads a chunk, and runs calls that must fail (a version that
    does not exist, a missing file, an aborted transaction), so error paths release what they opened.
    """
    outcomes = []
    for c in range(cycles):
        outcome = workloads.append_rows(base_path, properties, committer, c, rows, resolve, retry_limit)
        outcomes.append(outcome)
        if not outcome.ok:
            continue
        version, manifest = open_manifest(base_path, properties)
        assert version >= outcome.version, f"latest version {version} < committed {outcome.version}"
        with Reader(manifest.column_groups, data.SCHEMA, ["id"], properties) as reader:
            ids = reader.scan().column("id").to_numpy()
            mine = np.count_nonzero((ids >= outcome.first_id) & (ids < outcome.first_id + rows))
            assert mine == rows, f"committer {committer}: {mine} of its {rows} rows in version {version}"
            with reader.chunk_reader(0) as chunks:
                assert chunks.get_chunk(0).num_rows > 0
        expect_failure(lambda v=version: open_manifest(base_path, properties, v + 1_000_000), (3, 4, 12))
        with Filesystem(properties) as fs:
            expect_failure(lambda fs=fs: fs.read_all(f"{base_path}/_data/missing-{committer}.parquet"), (3, 12))
        Transaction(base_path, properties).abort()
    return outcomes


def gc_pressure_worker(
    base_path: str, properties: Mapping[str, Any], committer: int, cycles: int, rows: int, retry_limit: int
) -> list[workloads.CommitOutcome]:
    """One thread of ``test_stress_with_gc_pressure``: each cycle leaves engine handles to the collector.

    A writer with written but unclosed data, a reader and an uncommitted transaction are dropped
    inside reference cycles (only the cyclic GC frees them, from whichever thread it runs in), many
    short-lived Arrow batches are created and exported, and one real append is committed (MERGE).
    """
    outcomes = []
    for c in range(cycles):
        garbage: dict[str, Any] = {}
        garbage["self"] = garbage
        garbage["writer"] = Writer(base_path, data.SCHEMA, properties)
        garbage["writer"].write(data.make_batch(rows, offset=workloads.id_base(committer, c) + rows))
        garbage["txn"] = Transaction(base_path, properties) if c > 0 or committer > 0 else None
        outcome = workloads.append_rows(base_path, properties, committer, c, rows, Resolve.MERGE, retry_limit)
        outcomes.append(outcome)
        if outcome.ok:
            _, manifest = open_manifest(base_path, properties)
            reader = Reader(manifest.column_groups, data.SCHEMA, ["id"], properties)
            garbage["reader"] = reader
            garbage["batches"] = [reader.take([0]) for _ in range(3)] + [data.make_batch(16, k) for k in range(20)]
        del garbage
    return outcomes
