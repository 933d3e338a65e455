"""Throughput measurements that travel inside the executed notebook.

``ThroughputRecorder.publish()`` writes the records as a display bundle of MIME type
``application/vnd.loon.suite.throughput+json`` (plus a readable text table), so the report can be
rebuilt from the ``.ipynb`` alone.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

from .cases import publish_bundle

__all__ = ["THROUGHPUT_MIME", "Measurement", "ThroughputRecord", "ThroughputRecorder", "format_table"]

THROUGHPUT_MIME = "application/vnd.loon.suite.throughput+json"
_MB = 1_000_000


@dataclass
class ThroughputRecord:
    """One timed operation: how many bytes and rows it moved in how many seconds."""

    category: str
    operation: str
    engine: str
    bytes: int
    rows: int
    seconds: float

    @property
    def mb_per_s(self) -> float:
        """Megabytes (10^6 bytes) per second; 0 when nothing was timed."""
        return self.bytes / _MB / self.seconds if self.seconds > 0 else 0.0

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ThroughputRecord:
        return cls(
            category=str(data.get("category", "")),
            operation=str(data["operation"]),
            engine=str(data.get("engine", "loon")),
            bytes=int(data.get("bytes", 0)),
            rows=int(data.get("rows", 0)),
            seconds=float(data["seconds"]),
        )


@dataclass
class Measurement:
    """Yielded by ``measure``: set ``bytes``/``rows`` inside the block when known only there."""

    bytes: int = 0
    rows: int = 0
    seconds: float = 0.0


def format_table(records: Iterable[ThroughputRecord]) -> str:
    """A fixed-width text table of records (operation, engine, MB, rows, s, MB/s, rows/s)."""
    header = f"{'operation':<24} {'engine':<10} {'MB':>10} {'rows':>12} {'s':>9} {'MB/s':>10} {'rows/s':>12}"
    lines = [header, "-" * len(header)]
    for r in records:
        lines.append(
            f"{r.operation:<24} {r.engine:<10} {r.bytes / _MB:>10.2f} {r.rows:>12d} {r.seconds:>9.3f} "
            f"{r.mb_per_s:>10.1f} {r.rows_per_s:>12.0f}"
        )
    return "\n".join(lines)


class ThroughputRecorder:
    """Collects throughput records of one notebook category.

    >>> rec = ThroughputRecorder("write_read")
    >>> with rec.measure("write", engine="loon", bytes=table.nbytes, rows=table.num_rows):
    ...     write(table)
    >>> rec.publish()
    """

    def __init__(self, category: str) -> None:
        self.category = category
        self.records: list[ThroughputRecord] = []

    def add(
        self, operation: str, seconds: float, engine: str = "loon", bytes: int = 0, rows: int = 0
    ) -> ThroughputRecord:
        """Records an operation timed elsewhere."""
        record = ThroughputRecord(self.category, operation, engine, int(bytes), int(rows), float(seconds))
        self.records.append(record)
        return record

    @contextmanager
    def measure(self, operation: str, engine: str = "loon", bytes: int = 0, rows: int = 0) -> Iterator[Measurement]:
        """Times the block with ``perf_counter`` and records it; nothing is recorded if it raises."""
        measurement = Measurement(bytes=bytes, rows=rows)
        start = time.perf_counter()
        yield measurement
        measurement.seconds = time.perf_counter() - start
        self.add(operation, measurement.seconds, engine, measurement.bytes, measurement.rows)

    def compare(
        self,
        operation: str,
        runs: Mapping[str, Callable[[], object]],
        bytes: int = 0,
        rows: int = 0,
        repeat: int = 3,
        warmup: int = 1,
    ) -> dict[str, ThroughputRecord]:
        """Times competing implementations of one operation fairly; records each engine's median.

        ``runs`` maps an engine name (e.g. ``"loon"``, ``"pyarrow"``) to a callable doing the whole
        operation once. Every engine first runs ``warmup`` untimed rounds, then the engines take
        turns for ``repeat`` timed rounds. One timed call per engine, in a fixed order, is not a
        comparison: the first operation to need a new memory peak in the process pays for the
        kernel zeroing fresh pages (measured: a 35 MB scan spent 130 ms in system time when first,
        under 10 ms after a warm-up), and on a shared machine a single sample swings by 2-3x.
        ``bytes``/``rows`` describe what one call moves.
        """
        if repeat < 1 or warmup < 0:
            raise ValueError(f"repeat must be >= 1 and warmup >= 0, got repeat={repeat}, warmup={warmup}")
        if not runs:
            raise ValueError("compare needs at least one engine to run")
        for _ in range(warmup):
            for fn in runs.values():
                fn()
        times: dict[str, list[float]] = {engine: [] for engine in runs}
        for _ in range(repeat):
            for engine, fn in runs.items():
                start = time.perf_counter()
                fn()
                times[engine].append(time.perf_counter() - start)
        return {
            engine: self.add(operation, statistics.median(samples), engine, bytes, rows)
            for engine, samples in times.items()
        }

    def publish(self) -> None:
        """Emits all records into the notebook output (machine-readable bundle + text table)."""
        publish_bundle(
            {
                THROUGHPUT_MIME: {"category": self.category, "records": [r.to_dict() for r in self.records]},
                "text/plain": format_table(self.records),
            }
        )
