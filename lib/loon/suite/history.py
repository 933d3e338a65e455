"""Run history: every run's per-case results and throughput figures in one SQLite file beside the reports.

Each run is keyed by its start time, git revision, engine build (hash of the library file), backend and
profile. A run is *comparable* with earlier runs of the same backend, profile and selection (the
categories, ``-k`` and ``--lf`` it was asked for), whatever engine build or revision they ran: that is
what a regression is measured across. ``History.changes(run)`` says what changed against the previous
comparable run (newly failing, fixed, new, missing cases) and how each throughput figure compares with
the last runs, flagging a drop only when it lies beyond the spread of those runs (``trend_flag``).

Benchmark results written by ``benchmarks/`` as JSON lines under ``reports/bench/`` are read in as well
(``ingest_bench``), one row per numeric field, so the suite's figures and the benchmarks' share one file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cases import DESELECTED, ERROR, FAIL, PASS
from .report import NotebookResult, RunInfo, totals

__all__ = ["CaseChange", "Changes", "History", "Trend", "trend_flag"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started TEXT NOT NULL,
    git_revision TEXT NOT NULL,
    engine TEXT NOT NULL,
    engine_build TEXT NOT NULL,
    backend TEXT NOT NULL,
    profile TEXT NOT NULL,
    selection TEXT NOT NULL,
    report_dir TEXT NOT NULL,
    wall_seconds REAL NOT NULL,
    passed INTEGER NOT NULL, failed INTEGER NOT NULL, errors INTEGER NOT NULL,
    skipped INTEGER NOT NULL, deselected INTEGER NOT NULL,
    stopped TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_key ON runs (backend, profile, selection, id);
CREATE TABLE IF NOT EXISTS cases (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    category TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
    seconds REAL NOT NULL, message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_run ON cases (run_id);
CREATE TABLE IF NOT EXISTS throughput (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    category TEXT NOT NULL, operation TEXT NOT NULL, engine TEXT NOT NULL,
    bytes INTEGER NOT NULL, rows INTEGER NOT NULL, seconds REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS throughput_run ON throughput (run_id);
CREATE TABLE IF NOT EXISTS bench (
    source TEXT NOT NULL, line_hash TEXT NOT NULL, recorded TEXT NOT NULL,
    benchmark TEXT NOT NULL, metric TEXT NOT NULL, value REAL NOT NULL, raw TEXT NOT NULL,
    PRIMARY KEY (source, line_hash, metric)
);
"""

# Runs of a trend looked at, and how many earlier ones a flag needs at least.
TREND_RUNS = 10
TREND_MIN_RUNS = 3
# Robust spread: the median absolute deviation scaled to a normal standard deviation.
_MAD_TO_SIGMA = 1.4826


@dataclass
class CaseChange:
    category: str
    name: str
    before: str | None
    after: str | None
    message: str = ""


@dataclass
class Trend:
    """One throughput figure over the last comparable runs (oldest first, this run last)."""

    category: str
    operation: str
    engine: str
    unit: str
    values: list[float]
    flag: str
    """``regression``, ``improvement``, ``steady``, or ``new`` (too few earlier runs to judge)."""
    baseline: float | None = None
    """Median of the earlier runs."""

    @property
    def current(self) -> float:
        return self.values[-1]

    @property
    def change(self) -> float | None:
        """Current against the baseline, as a fraction (-0.2 = 20 % slower)."""
        if not self.baseline:
            return None
        return self.current / self.baseline - 1


@dataclass
class Changes:
    """What a run changed against the previous comparable run."""

    previous: dict[str, Any] | None
    """The previous comparable run's row (None for the first run of its kind)."""
    newly_failing: list[CaseChange] = field(default_factory=list)
    fixed: list[CaseChange] = field(default_factory=list)
    new: list[CaseChange] = field(default_factory=list)
    missing: list[CaseChange] = field(default_factory=list)
    other: list[CaseChange] = field(default_factory=list)
    """Other status changes (e.g. pass -> skip)."""
    trends: list[Trend] = field(default_factory=list)
    bench: list[dict[str, Any]] = field(default_factory=list)
    """The latest benchmark run's loon/peer wall-time ratios (``History.latest_bench``)."""

    @property
    def case_changes(self) -> bool:
        return bool(self.newly_failing or self.fixed or self.new or self.missing or self.other)

    @property
    def regressions(self) -> list[Trend]:
        return [t for t in self.trends if t.flag == "regression"]

    def summary(self) -> str:
        if self.previous is None:
            return "first run of its kind: nothing to compare with"
        if not self.case_changes and not self.regressions:
            return "no changes"
        parts = [
            f"{len(group)} {label}"
            for group, label in [
                (self.newly_failing, "newly failing"),
                (self.fixed, "fixed"),
                (self.new, "new"),
                (self.missing, "missing"),
                (self.other, "changed status"),
                (self.regressions, "throughput regressions"),
            ]
            if group
        ]
        return ", ".join(parts)


def trend_flag(earlier: Sequence[float], current: float) -> tuple[str, float | None]:
    """Judges ``current`` against ``earlier`` values of the same figure: (flag, baseline).

    The baseline is the median of the earlier values. A figure is a regression only when it lies below
    every earlier value *and* more than three robust standard deviations (1.4826 x the median absolute
    deviation) below the baseline: a drop beyond the noise the earlier runs showed, not a fixed
    percentage. An improvement is the mirror image. With fewer than ``TREND_MIN_RUNS`` earlier values
    nothing is judged (``new``).
    """
    if len(earlier) < TREND_MIN_RUNS:
        return "new", (statistics.median(earlier) if earlier else None)
    baseline = statistics.median(earlier)
    noise = 3 * _MAD_TO_SIGMA * statistics.median(abs(v - baseline) for v in earlier)
    if current < min(earlier) and current < baseline - noise:
        return "regression", baseline
    if current > max(earlier) and current > baseline + noise:
        return "improvement", baseline
    return "steady", baseline


def _rate(bytes_: int, rows: int, seconds: float) -> tuple[float, str]:
    if seconds <= 0:
        return 0.0, "MB/s"
    if bytes_:
        return bytes_ / 1e6 / seconds, "MB/s"
    return rows / seconds, "rows/s"


def _bench_label(obj: dict[str, Any], default: str) -> str:
    label = "/".join(str(obj[key]) for key in ("bench", "section", "name") if obj.get(key))
    label = label or str(obj.get("benchmark") or default)
    return f"{label} vs {obj['peer']}" if obj.get("peer") else label


class History:
    """The SQLite history file (created on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, run: RunInfo, results: Sequence[NotebookResult], report_dir: str | Path) -> int:
        """Adds a run with its cases and throughput records; returns its id."""
        counts = totals(results)
        with self.db:
            cursor = self.db.execute(
                "INSERT INTO runs (started, git_revision, engine, engine_build, backend, profile, selection,"
                " report_dir, wall_seconds, passed, failed, errors, skipped, deselected, stopped)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.started, run.git_revision, run.engine.get("info", ""), run.engine.get("build", ""),
                    run.backend, run.profile, run.selection, str(Path(report_dir).resolve()), run.wall_seconds,
                    counts.passed, counts.failed, counts.errors, counts.skipped, counts.deselected, run.stopped,
                ),
            )  # fmt: skip
            run_id = int(cursor.lastrowid)
            self.db.executemany(
                "INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (run_id, nb.category, c.name, c.status, c.seconds, c.message.splitlines()[0] if c.message else "")
                    for nb in results
                    for c in nb.all_cases
                ],
            )
            self.db.executemany(
                "INSERT INTO throughput VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (run_id, r.category or nb.category, r.operation, r.engine, r.bytes, r.rows, r.seconds)
                    for nb in results
                    for r in nb.throughput
                ],
            )
        return run_id

    def run(self, run_id: int) -> dict[str, Any]:
        row = self.db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"no run {run_id} in {self.path}")
        return dict(row)

    def runs(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self.db.execute("SELECT * FROM runs ORDER BY id")]

    def comparable(self, run_id: int, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` earlier runs of the same backend, profile and selection, newest first.

        Runs stopped early (Ctrl-C, -x) are left out: they are no baseline.
        """
        run = self.run(run_id)
        rows = self.db.execute(
            "SELECT * FROM runs WHERE backend = ? AND profile = ? AND selection = ? AND id < ? AND stopped = ''"
            " ORDER BY id DESC LIMIT ?",
            (run["backend"], run["profile"], run["selection"], run_id, limit),
        )
        return [dict(row) for row in rows]

    def _statuses(self, run_id: int) -> dict[tuple[str, str], tuple[str, str]]:
        rows = self.db.execute("SELECT category, name, status, message FROM cases WHERE run_id = ?", (run_id,))
        return {(r["category"], r["name"]): (r["status"], r["message"]) for r in rows if r["status"] != DESELECTED}

    def _rates(self, run_id: int) -> dict[tuple[str, str, str], tuple[float, str]]:
        """(category, operation, engine) -> (median rate of the run, unit)."""
        samples: dict[tuple[str, str, str], list[float]] = {}
        units: dict[tuple[str, str, str], str] = {}
        rows = self.db.execute("SELECT * FROM throughput WHERE run_id = ?", (run_id,))
        for r in rows:
            key = (r["category"], r["operation"], r["engine"])
            rate, unit = _rate(r["bytes"], r["rows"], r["seconds"])
            samples.setdefault(key, []).append(rate)
            units[key] = unit
        return {key: (statistics.median(values), units[key]) for key, values in samples.items()}

    def changes(self, run_id: int) -> Changes:
        earlier = self.comparable(run_id, TREND_RUNS)
        previous = earlier[0] if earlier else None
        result = Changes(previous)
        now = self._statuses(run_id)
        if previous is not None:
            before = self._statuses(previous["id"])
            bad = (FAIL, ERROR)
            for key, (status, message) in now.items():
                if key not in before:
                    result.new.append(CaseChange(*key, None, status, message))
                    continue
                old = before[key][0]
                if status == old:
                    continue
                change = CaseChange(*key, old, status, message)
                if status in bad and old not in bad:
                    result.newly_failing.append(change)
                elif old in bad and status == PASS:
                    result.fixed.append(change)
                else:
                    result.other.append(change)
            for key, (status, _) in before.items():
                if key not in now:
                    result.missing.append(CaseChange(*key, status, None))
        history_rates = [self._rates(r["id"]) for r in reversed(earlier)]  # oldest first
        for key, (rate, unit) in sorted(self._rates(run_id).items()):
            values = [rates[key][0] for rates in history_rates if key in rates]
            flag, baseline = trend_flag(values, rate)
            result.trends.append(Trend(*key, unit, values + [rate], flag, baseline))
        return result

    # -- benchmark results -------------------------------------------------------------------

    def ingest_bench(self, bench_dir: str | Path) -> int:
        """Reads every ``*.jsonl`` under ``bench_dir`` (benchmark results, one JSON object a line).

        The format is the one ``benchmarks/README.md`` documents: each object is one figure with ``run``
        (UTC start of the benchmark run), ``bench``, ``section``, ``name``, ``peer`` and numeric fields
        (``loon_wall_s``, ``ratio_wall``, ``target`` ...). Each numeric field becomes one row (metric = field
        name) labelled ``bench/section/name vs peer``. Lines already read are skipped; returns how many rows
        were added.
        """
        bench_dir = Path(bench_dir)
        if not bench_dir.is_dir():
            return 0
        added = 0
        with self.db:
            for path in sorted(bench_dir.rglob("*.jsonl")):
                for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    if not isinstance(obj, dict):
                        continue
                    line_hash = hashlib.sha256(line.encode()).hexdigest()[:16]
                    name = _bench_label(obj, path.stem)
                    recorded = str(obj.get("run") or obj.get("time") or obj.get("timestamp") or "")
                    for metric, value in obj.items():
                        if isinstance(value, int | float) and not isinstance(value, bool):
                            cursor = self.db.execute(
                                "INSERT OR IGNORE INTO bench VALUES (?, ?, ?, ?, ?, ?, ?)",
                                (str(path.relative_to(bench_dir)), line_hash, recorded, name, metric,
                                 float(value), line),
                            )  # fmt: skip
                            added += cursor.rowcount
        return added

    def bench_rows(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self.db.execute("SELECT * FROM bench ORDER BY source, recorded, benchmark")]

    def latest_bench(self, metric: str = "ratio_wall") -> list[dict[str, Any]]:
        """``metric`` of each figure of the latest benchmark run, with its ``target`` when it has one."""
        rows = self.db.execute(
            "SELECT b.benchmark, b.value, b.recorded, t.value AS target FROM bench b"
            " LEFT JOIN bench t ON t.source = b.source AND t.line_hash = b.line_hash AND t.metric = 'target'"
            " WHERE b.metric = ? AND b.recorded = (SELECT MAX(recorded) FROM bench WHERE metric = ?)"
            " ORDER BY b.benchmark",
            (metric, metric),
        )
        return [dict(row) for row in rows]
