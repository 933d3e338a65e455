"""Stress workloads: large writes, high concurrency, long running (the stress notebook's library).

Sizes come from the seed at ``full`` (100M rows, 10 GB, 100 threads, 1 hour, 10000 appends) and are
scaled down by ``StressScale`` for ``ci`` (about a minute on two cores) and ``smoke`` (seconds):

>>> S = stress_scale("ci")
>>> S.rows(100_000_000), S.bytes(10 * GB), S.threads(100), S.seconds(3600)

Correctness is checked without holding the data twice in memory: ``TableDigest`` is an exact,
chunking-independent SHA-256 of every column (values, string lengths and bytes, null positions), so
the digest of the batches a case generated while writing equals the digest of the batches a scan
returns exactly when the rows read back are the rows written, in the same order. Resource checks
use ``loon.suite.resources``.

Modules by concern: ``scale`` (sizes per profile), ``generators`` (data), ``digest``
(``TableDigest``), ``streams`` (streaming write and scan), ``concurrent`` (committers, snapshot
readers, contention, load cycles) and ``longrun`` (manifest growth, continuous operation).

Every workload returns a result object with what it measured; the notebook records throughput
from it and asserts on it. Helpers raise ``AssertionError`` with a message naming what differs.
"""

from __future__ import annotations

from .concurrent import (
    BASE_OFFSET,
    SnapshotRead,
    check_snapshots,
    commit_all,
    committed_volume,
    contend,
    expect_failure,
    expected_digest,
    gc_pressure_worker,
    load_cycle,
    read_snapshots,
    remove_dataset,
    snapshot_checksum,
    threaded_rounds,
    version_checksums,
)
from .digest import TableDigest
from .generators import (
    field_schema,
    field_values,
    gradual_batch,
    large_string_batch,
    large_string_batches,
    large_string_lengths,
    vector_batch,
    vector_schema,
    vector_values,
    wide_batch,
    wide_schema,
)
from .longrun import (
    ContinuousResult,
    GrowthResult,
    continuous_operation,
    growth_figure,
    manifest_growth,
    manifest_size,
    rate,
    show_figure,
)
from .scale import GB, MB, SEED, STRESS_SCALES, StressScale, stress_scale
from .streams import ScanResult, WriteResult, scan_stream, write_stream

__all__ = [
    "BASE_OFFSET",
    "ContinuousResult",
    "GB",
    "GrowthResult",
    "MB",
    "SEED",
    "STRESS_SCALES",
    "ScanResult",
    "SnapshotRead",
    "StressScale",
    "TableDigest",
    "WriteResult",
    "check_snapshots",
    "commit_all",
    "committed_volume",
    "contend",
    "continuous_operation",
    "expect_failure",
    "expected_digest",
    "field_schema",
    "field_values",
    "gc_pressure_worker",
    "gradual_batch",
    "growth_figure",
    "large_string_batch",
    "large_string_batches",
    "large_string_lengths",
    "load_cycle",
    "manifest_growth",
    "manifest_size",
    "rate",
    "read_snapshots",
    "remove_dataset",
    "scan_stream",
    "show_figure",
    "snapshot_checksum",
    "stress_scale",
    "threaded_rounds",
    "vector_batch",
    "vector_schema",
    "vector_values",
    "version_checksums",
    "wide_batch",
    "wide_schema",
    "write_stream",
]
