"""Long-running stress workloads (manifest growth, continuous operation) and their report helpers."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ...filesystem import Filesystem
from ...transaction import Transaction
from ...writer import Writer
from .. import data
from ..resources import ResourceMonitor
from .digest import TableDigest
from .streams import scan_stream, write_stream

# --------------------------------------------------------------------------------------------
# Long running
# --------------------------------------------------------------------------------------------


@dataclass
class GrowthResult:
    """Per-append manifest size and commit latency of ``manifest_growth``."""

    sizes: list[int]
    commit_seconds: list[float]
    rows_per_append: int
    write_seconds: float
    bytes_written: int

    @property
    def appends(self) -> int:
        return len(self.sizes)

    def increments(self) -> list[int]:
        return [b - a for a, b in zip(self.sizes, self.sizes[1:])]

    def decile_latency(self) -> tuple[float, float]:
        """Mean commit seconds of the first and of the last tenth of the appends."""
        n = max(1, len(self.commit_seconds) // 10)
        return sum(self.commit_seconds[:n]) / n, sum(self.commit_seconds[-n:]) / n

    def check(self, slack_s: float = 0.05) -> None:
        """Manifest size grows linearly (constant bytes per append) and commit time at most linearly
        with it: the last tenth's latency per manifest byte is at most twice the first tenth's, plus
        ``slack_s`` for scheduling noise on a loaded machine."""
        inc = self.increments()
        if inc:
            median = sorted(inc)[len(inc) // 2]
            assert min(inc) > 0, f"a manifest did not grow after an append: increments {sorted(set(inc))[:5]}"
            assert max(inc) <= 2 * median + 512, (
                f"manifest growth per append is not constant: median {median} B, max {max(inc)} B"
            )
        first, last = self.decile_latency()
        n = max(1, len(self.sizes) // 10)
        size_first = sum(self.sizes[:n]) / n
        size_last = sum(self.sizes[-n:]) / n
        bound = 2 * first * size_last / size_first + slack_s
        assert last <= bound, (
            f"commit latency grew faster than the manifest: {first * 1000:.1f} ms at {size_first / 1000:.1f} kB, "
            f"{last * 1000:.1f} ms at {size_last / 1000:.1f} kB (bound {bound * 1000:.1f} ms)"
        )


def manifest_size(fs: Filesystem, base_path: str, version: int) -> int:
    return fs.file_size(f"{base_path}/_metadata/manifest-{version}.avro")


def manifest_growth(base_path: str, properties: Mapping[str, Any], appends: int, rows: int) -> GrowthResult:
    """``appends`` sequential appends of ``rows`` rows (ids ``k*rows ..``); records each manifest's size
    and each commit's time. Versions must come out as 1..appends."""
    sizes: list[int] = []
    latencies: list[float] = []
    write_seconds = 0.0
    nbytes = 0
    with Filesystem(properties) as fs:
        for k in range(appends):
            batch = data.make_batch(rows, offset=k * rows)
            start = time.perf_counter()
            with Writer(base_path, data.SCHEMA, properties) as writer:
                writer.write(batch)
            groups = writer.column_groups
            write_seconds += time.perf_counter() - start
            nbytes += batch.nbytes
            start = time.perf_counter()
            with Transaction(base_path, properties) as txn:
                txn.append_files(groups)
            latencies.append(time.perf_counter() - start)
            assert txn.committed_version == k + 1, f"append {k + 1} committed version {txn.committed_version}"
            sizes.append(manifest_size(fs, base_path, k + 1))
    return GrowthResult(sizes, latencies, rows, write_seconds, nbytes)


@dataclass
class ContinuousResult:
    """Counters of ``continuous_operation``."""

    iterations: int = 0
    datasets: int = 0
    rows_written: int = 0
    bytes_written: int = 0
    rows_read: int = 0
    bytes_read: int = 0
    write_seconds: float = 0.0
    read_seconds: float = 0.0
    full_checks: int = 0
    seconds: float = 0.0


def continuous_operation(
    dataset_path: Callable[[int], str],
    properties: Mapping[str, Any],
    seconds: float,
    rows_per_append: int,
    appends_per_dataset: int,
    monitor: ResourceMonitor | None = None,
    on_dataset_done: Callable[[str], None] | None = None,
) -> ContinuousResult:
    """Loops append -> read back the new rows -> (every ``appends_per_dataset``) verify the whole dataset,
    until ``seconds`` have passed; then moves on to a fresh dataset (``dataset_path(i)``) so the manifest
    stays bounded however long it runs. Samples ``monitor`` after every dataset.

    Every append is read back by value through a Reader over its own files, and every finished dataset
    is compared by digest with all rows appended to it.
    """
    result = ContinuousResult()
    deadline = time.perf_counter() + seconds
    start_all = time.perf_counter()
    while result.iterations == 0 or time.perf_counter() < deadline:
        path = dataset_path(result.datasets)
        expected = TableDigest()
        for k in range(appends_per_dataset):
            batch = data.make_batch(rows_per_append, offset=k * rows_per_append)
            written = write_stream(path, data.SCHEMA, [batch], properties)
            assert written.version == k + 1, f"{path}: append {k + 1} committed version {written.version}"
            result.write_seconds += written.seconds + written.commit_seconds
            expected.update(batch)
            read = scan_stream(path, data.SCHEMA, properties, groups=written.groups)
            read.digest.assert_equals(written.digest, f"{path}: rows of append {k + 1}")
            result.read_seconds += read.seconds
            result.iterations += 1
            result.rows_written += batch.num_rows
            result.bytes_written += batch.nbytes
            result.rows_read += read.rows
            result.bytes_read += read.bytes
            if time.perf_counter() >= deadline:
                break
        full = scan_stream(path, data.SCHEMA, properties)
        full.digest.assert_equals(expected, f"{path}: whole dataset at version {full.version}")
        result.full_checks += 1
        result.rows_read += full.rows
        result.bytes_read += full.bytes
        result.read_seconds += full.seconds
        result.datasets += 1
        if on_dataset_done is not None:
            on_dataset_done(path)
        if monitor is not None:
            monitor.sample()
    result.seconds = time.perf_counter() - start_all
    return result


# --------------------------------------------------------------------------------------------
# Reporting helpers
# --------------------------------------------------------------------------------------------


def rate(nbytes: int, rows: int, seconds: float) -> str:
    """``"123.4 MB/s, 5,678,901 rows/s"`` (MB = 10^6 bytes, as in the throughput table)."""
    if seconds <= 0:
        return "not timed"
    return f"{nbytes / 1e6 / seconds:.1f} MB/s, {rows / seconds:,.0f} rows/s"


def growth_figure(result: GrowthResult) -> Any:
    """Manifest size (kB) and commit latency (ms) per version, one axis each."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 3.2), layout="constrained")
    FigureCanvasAgg(fig)
    size_ax = fig.add_subplot()
    versions = list(range(1, result.appends + 1))
    size_ax.plot(versions, [s / 1000 for s in result.sizes], color="tab:blue", label="manifest kB")
    size_ax.set_xlabel("version")
    size_ax.set_ylabel("manifest size (kB)", color="tab:blue")
    latency_ax = size_ax.twinx()
    latency_ax.plot(versions, [s * 1000 for s in result.commit_seconds], color="tab:orange", lw=0.6)
    latency_ax.set_ylabel("commit (ms)", color="tab:orange")
    size_ax.set_title(f"manifest growth over {result.appends:,} appends")
    return fig


def show_figure(fig: Any, text: str) -> None:
    """Shows a matplotlib figure inline (``image/png``) with ``text`` as its plain-text form."""
    import base64

    from ..cases import publish_bundle
    from ..plots import figure_png

    publish_bundle({"image/png": base64.b64encode(figure_png(fig)).decode("ascii"), "text/plain": text})
