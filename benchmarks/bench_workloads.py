"""The workloads that matter, loon beside Lance and pyarrow, measured in one run.

Every figure is a ratio of medians of interleaved rounds (the sides swap which goes first each
round, so other processes' load hits both alike), with CPU time (all threads of this process)
beside wall time: on a shared machine wall-clock ratios swing with load, CPU ratios much less.
Ratios are **loon time / peer time** (> 1 = loon slower) except where a line says otherwise.

Table (``--rows``, default 1M): ``id`` int64, ``vector`` float32 x 128, ``name`` string. Each
system writes it with its defaults (loon: zstd 3, page checksums; Lance: its format v2 defaults);
pyarrow's lines read loon's own data file ("same file"), or write at loon's codec, level and
checksums.

Sections (``--only`` picks some):

* ``take``: ``Reader.take`` of k random rows (k = 10, 100, 1000, 10000; new indices each round,
  any order) on an open reader, beside ``LanceDataset.take`` on an open dataset and beside
  pyarrow's best way on loon's file (an open ``ParquetFile``: read the touched row groups, take).
  Targets: within 2x of Lance for k <= 100, 3x for k = 1000; never slower than pyarrow.
* ``scan``: each projection (id, vector, name, all) through a new ``Reader``, beside Lance's
  ``to_table(columns)`` and ``pq.read_table`` of loon's file. Targets: id within 1.5x of Lance;
  all columns at least pyarrow's speed on the same file.
* ``write``: the table through ``loon.write_dataset`` beside ``pq.write_table`` at zstd 3 with
  page checksums. Target: loon time <= 1/0.95 of pyarrow's.
* ``commit``: sequential commits (append one data file) up to version 1000, beside Lance appends
  (``LanceDataset.commit`` of an ``Append``), alternating one commit of each. Figures: latency of
  commits 10, 100 and 1000 (median of the 5 commits around each); target: commit 1000 within
  1.5x of commit 10. And ``--committers`` (16) threads committing concurrently with MERGE
  resolution beside as many threads appending to Lance: mean time per commit.
* ``wide``: 500 float64 columns x 10k rows: write and scan beside pyarrow at zstd 3 with page
  checksums (pyarrow reads its own file with checksum verification). Target: within 1.2x. Two
  more lines put pyarrow on loon's layout (row groups, page size, dictionary use) to separate
  the layout's cost from the engine's.

Results go to the terminal and, one JSON object per line, to
``reports/bench/<UTC time>-workloads.jsonl`` (``--history-dir``) for the run history. Fields of
each line: ``run`` (UTC start time, same for every line of a run), ``bench`` ("workloads"),
``section``, ``name`` (e.g. "take k=10"), ``peer`` ("lance", "pyarrow", or "loon" for
loon-vs-loon figures), ``loon_wall_s``, ``peer_wall_s``, ``loon_cpu_s``, ``peer_cpu_s``,
``ratio_wall`` and ``ratio_cpu`` (loon / peer), ``target`` (the ratio to stay at or below, or
null), ``met`` (bool or null), ``rounds``, ``rows``, ``engine`` (library path), ``commit`` (git
HEAD of the checkout, or null).

Run (from the repository root, after ``make build``): ``make bench`` or
``.venv/bin/python benchmarks/bench_workloads.py --rows 200000 --rounds 3 --only take``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import lance
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from lance.fragment import LanceFragment

import loon

SECTIONS = ("take", "scan", "write", "commit", "wide")
DIM = 128
# The engine's data page size for groups of more than 8 columns (cpp/src/writer/writer.cc).
WIDE_PAGE_BYTES = 32 << 10


@dataclass
class Figure:
    section: str
    name: str
    peer: str
    loon_wall_s: float
    peer_wall_s: float
    loon_cpu_s: float
    peer_cpu_s: float
    target: float | None = None

    @property
    def ratio_wall(self) -> float:
        return self.loon_wall_s / self.peer_wall_s if self.peer_wall_s > 0 else float("nan")

    @property
    def ratio_cpu(self) -> float:
        return self.loon_cpu_s / self.peer_cpu_s if self.peer_cpu_s > 0 else float("nan")

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.ratio_wall <= self.target


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


# Seconds one figure's rounds may take before the rest are dropped (at least MIN_ROUNDS run), so
# that a run stays within a few minutes on a loaded machine; ``--budget`` changes it.
BUDGET_S = 20.0
MIN_ROUNDS = 3


def interleaved(pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]], rounds: int,
                before_round: Callable[[int], None] | None = None) -> dict[str, tuple[float, float, float, float]]:
    """Medians (loon wall, peer wall, loon CPU, peer CPU) of up to ``rounds`` rounds, sides alternating
    first; rounds stop once BUDGET_S is spent (after at least MIN_ROUNDS)."""
    samples: dict[str, list[list[float]]] = {k: [[], [], [], []] for k in pairs}
    start = time.perf_counter()
    for r in range(rounds):
        if r >= MIN_ROUNDS and time.perf_counter() - start > BUDGET_S:
            break
        if before_round:
            before_round(r)
        for name, (fn_loon, fn_peer) in pairs.items():
            sides = [(fn_loon, 0), (fn_peer, 1)]
            for fn, side in sides if r % 2 == 0 else sides[::-1]:
                wall, cpu = timed(fn)
                samples[name][side].append(wall)
                samples[name][side + 2].append(cpu)
    return {k: tuple(statistics.median(v) for v in s) for k, s in samples.items()}


def make_table(rows: int, seed: int = 42) -> pa.Table:
    rng = np.random.default_rng(seed)
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(rng.random(rows * DIM, dtype=np.float32)), DIM)
    names = pa.array(np.char.add("name-", np.arange(rows).astype(str)))
    return pa.table({"id": pa.array(np.arange(rows, dtype=np.int64)), "vector": vectors, "name": names})


class Bench:
    """The table written once by each system, shared by the sections."""

    def __init__(self, args: argparse.Namespace, work: Path):
        self.args = args
        self.work = work
        self.rows = args.rows
        self.table = make_table(args.rows)
        self.props = loon.Properties({"fs.storage_type": "local", "fs.root_path": str(work / "loon")})
        self.counter = iter(range(1 << 30))
        self._groups: loon.ColumnGroups | None = None
        self._lance: lance.LanceDataset | None = None

    @property
    def groups(self) -> loon.ColumnGroups:
        if self._groups is None:
            self._groups = loon.write_dataset("table", self.table, self.props)
        return self._groups

    @property
    def loon_file(self) -> Path:
        files = [f for g in self.groups for f in g.files]
        assert len(files) == 1, "the comparisons on the same file expect one data file"
        return self.work / "loon" / files[0].path

    @property
    def lance(self) -> lance.LanceDataset:
        if self._lance is None:
            self._lance = lance.write_dataset(self.table, str(self.work / "lance"))
        return self._lance

    # -- sections -------------------------------------------------------------------------------

    def take(self) -> list[Figure]:
        reader = loon.Reader(self.groups, self.table.schema, properties=self.props)
        dataset = self.lance
        pf = pq.ParquetFile(self.loon_file)
        starts = np.cumsum([0] + [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)])
        rng = np.random.default_rng(7)
        out: list[Figure] = []
        for k in self.args.take:
            out += self._take_k(k, reader, dataset, pf, starts, rng)
        reader.close()
        return out

    def _take_k(self, k: int, reader: loon.Reader, dataset: lance.LanceDataset, pf: pq.ParquetFile,
                starts: np.ndarray, rng: np.random.Generator) -> list[Figure]:
        indices: list[np.ndarray] = [np.array([], dtype=np.int64)]

        def new_indices(_round: int) -> None:
            indices[0] = rng.choice(self.rows, size=k, replace=False)

        def pyarrow_take() -> pa.Table:
            idx = indices[0]
            rgs = np.searchsorted(starts, idx, side="right") - 1
            touched = np.unique(rgs)
            table = pf.read_row_groups(touched.tolist())
            base = np.cumsum([0] + [starts[g + 1] - starts[g] for g in touched])
            local = base[np.searchsorted(touched, rgs)] + (idx - starts[rgs])
            return table.take(local)

        new_indices(0)
        expected = self.table.take(indices[0])
        assert reader.take(indices[0]).equals(expected), "loon take differs from the table"
        assert pyarrow_take().equals(expected), "pyarrow baseline differs from the table"
        pairs = {
            "lance": (lambda: reader.take(indices[0]), lambda: dataset.take(indices[0])),
            "pyarrow": (lambda: reader.take(indices[0]), pyarrow_take),
        }
        # Small takes last milliseconds: more rounds (new indices each), within the time budget.
        rounds = self.args.rounds * (5 if k <= 1000 else 1)
        medians = interleaved(pairs, rounds, new_indices)
        target = 2.0 if k <= 100 else 3.0 if k <= 1000 else None
        return [Figure("take", f"take k={k}", "lance", *medians["lance"], target=target),
                Figure("take", f"take k={k}", "pyarrow (same file)", *medians["pyarrow"], target=1.0)]

    def scan(self) -> list[Figure]:
        dataset = self.lance
        loon_file = str(self.loon_file)
        out: list[Figure] = []
        for cols in (["id"], ["vector"], ["name"], None):
            label = "scan " + ("+".join(cols) if cols else "all")
            def loon_scan(cols=cols) -> None:
                with loon.Reader(self.groups, self.table.schema, columns=cols, properties=self.props) as reader:
                    assert reader.scan().num_rows == self.rows

            def lance_scan(cols=cols) -> None:
                assert dataset.to_table(columns=cols).num_rows == self.rows

            def pa_scan(cols=cols) -> None:
                assert pq.read_table(loon_file, columns=cols).num_rows == self.rows

            medians = interleaved({"lance": (loon_scan, lance_scan), "pa": (loon_scan, pa_scan)}, self.args.rounds)
            out.append(Figure("scan", label, "lance", *medians["lance"], target=1.5 if cols == ["id"] else None))
            target = 1.0 if cols is None else None
            out.append(Figure("scan", label, "pyarrow (same file)", *medians["pa"], target=target))
        return out

    def write(self) -> list[Figure]:
        root = self.work / "write"
        root.mkdir()

        def loon_write() -> None:
            loon.write_dataset(f"w{next(self.counter)}", self.table, self.props)

        def pa_write() -> None:
            path = root / f"pa{next(self.counter)}.parquet"
            pq.write_table(self.table, path, compression="zstd", compression_level=3, write_page_checksum=True)

        medians = interleaved({"write": (loon_write, pa_write)}, max(1, self.args.rounds // 2 + 1))
        return [Figure("write", "write", "pyarrow (zstd 3 + crc)", *medians["write"], target=1 / 0.95)]

    def commit(self) -> list[Figure]:
        out: list[Figure] = []
        small = self.table.slice(0, 100)
        base = self.work / "commits"
        files = loon.write_dataset("commits/_seed", small, self.props)
        lance_uri = str(base / "lance")
        lance_ds = lance.write_dataset(small, lance_uri)
        fragment = LanceFragment.create(lance_uri, small)
        checkpoints = [v for v in self.args.commit_checkpoints if v <= self.args.commits]
        loon_times: dict[int, tuple[float, float]] = {}
        lance_times: dict[int, tuple[float, float]] = {}
        version = lance_ds.version
        for n in range(1, self.args.commits + 1):
            sides = ["loon", "lance"] if n % 2 else ["lance", "loon"]
            for side in sides:
                if side == "loon":
                    loon_times[n] = timed(lambda: loon.commit_groups("commits/ds", files, self.props))
                else:
                    def append() -> None:
                        nonlocal version
                        version = lance.LanceDataset.commit(lance_uri, lance.LanceOperation.Append([fragment]),
                                                            read_version=version).version
                    lance_times[n] = timed(append)
        assert loon.latest_version("commits/ds", self.props) == self.args.commits

        def around(times: dict[int, tuple[float, float]], v: int, i: int) -> float:
            return statistics.median(times[n][i] for n in range(max(1, v - 2), min(self.args.commits, v + 2) + 1))

        for v in checkpoints:
            out.append(Figure("commit", f"commit #{v}", "lance", around(loon_times, v, 0), around(lance_times, v, 0),
                              around(loon_times, v, 1), around(lance_times, v, 1)))
        if checkpoints:
            first, last = checkpoints[0], checkpoints[-1]
            out.append(Figure("commit", f"commit #{last} / commit #{first}", "loon",
                              around(loon_times, last, 0), around(loon_times, first, 0),
                              around(loon_times, last, 1), around(loon_times, first, 1), target=1.5))
        out.append(self._concurrent_commits(files, small))
        return out

    def _concurrent_commits(self, files: loon.ColumnGroups, small: pa.Table) -> Figure:
        threads, each = self.args.committers, self.args.commits_each
        lance_uri = str(self.work / "commits" / "lance-concurrent")
        lance.write_dataset(small, lance_uri)
        fragment = LanceFragment.create(lance_uri, small)
        props = self.props.merged({"transaction.commit.num-retries": "10"})  # the property's maximum
        errors: list[BaseException] = []

        def run(worker: Callable[[], None]) -> tuple[float, float]:
            def guarded() -> None:
                try:
                    for _ in range(each):
                        worker()
                except BaseException as e:  # noqa: BLE001 - reported after the join
                    errors.append(e)

            pool = [threading.Thread(target=guarded) for _ in range(threads)]
            cpu, wall = time.process_time(), time.perf_counter()
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            return (time.perf_counter() - wall) / (threads * each), (time.process_time() - cpu) / (threads * each)

        def loon_worker() -> None:
            loon.commit_groups("commits/concurrent", files, props, resolve=loon.Resolve.MERGE,
                               retry_limit=threads * each)

        def lance_worker() -> None:
            read = lance.dataset(lance_uri).version
            lance.LanceDataset.commit(lance_uri, lance.LanceOperation.Append([fragment]), read_version=read)

        loon_wall, loon_cpu = run(loon_worker)
        lance_wall, lance_cpu = run(lance_worker)
        if errors:
            raise errors[0]
        assert loon.latest_version("commits/concurrent", self.props) == threads * each
        assert lance.dataset(lance_uri).count_rows() == small.num_rows * (1 + threads * each)
        return Figure("commit", f"{threads} concurrent committers, per commit", "lance",
                      loon_wall, lance_wall, loon_cpu, lance_cpu)

    def wide(self) -> list[Figure]:
        rows, cols = self.args.wide_rows, self.args.wide_columns
        rng = np.random.default_rng(3)
        table = pa.table({f"c{i}": pa.array(rng.random(rows)) for i in range(cols)})
        root = self.work / "wide"
        root.mkdir()
        groups: list[loon.ColumnGroups] = []
        paths: list[Path] = []

        def loon_write() -> None:
            groups[:] = [loon.write_dataset(f"wide{next(self.counter)}", table, self.props)]

        def pa_write() -> None:
            path = root / f"pa{next(self.counter)}.parquet"
            pq.write_table(table, path, compression="zstd", compression_level=3, write_page_checksum=True)
            paths[:] = [path]

        loon_write()
        pa_write()

        def loon_scan() -> None:
            with loon.Reader(groups[0], table.schema, properties=self.props) as reader:
                assert reader.scan().num_rows == rows

        def pa_scan() -> None:
            assert pq.read_table(paths[0], page_checksum_verification=True).num_rows == rows

        # Informative: pyarrow writing loon's layout (its row groups, its page size for wide groups,
        # dictionary only where loon used one), to tell the cost of the layout from the cost of
        # the engine. The figures beside pyarrow's defaults are the ones a user sees (targets).
        loon_meta = pq.ParquetFile(self.work / "loon" / groups[0][0].files[0].path).metadata
        rg_rows = loon_meta.row_group(0).num_rows
        chunks = [loon_meta.row_group(0).column(i) for i in range(loon_meta.num_columns)]
        dictionary = any("RLE_DICTIONARY" in c.encodings for c in chunks)
        same_layout = root / "pa-loon-layout.parquet"

        def pa_write_layout() -> None:
            pq.write_table(table, same_layout, compression="zstd", compression_level=3, write_page_checksum=True,
                           row_group_size=rg_rows, data_page_size=WIDE_PAGE_BYTES, use_dictionary=dictionary)

        def pa_scan_layout() -> None:
            assert pq.read_table(same_layout, page_checksum_verification=True).num_rows == rows

        pa_write_layout()
        medians = interleaved({"write": (loon_write, pa_write), "scan": (loon_scan, pa_scan),
                               "write-layout": (loon_write, pa_write_layout),
                               "scan-layout": (loon_scan, pa_scan_layout)}, self.args.rounds)
        label = f"{cols} columns x {rows} rows"
        peer = "pyarrow (zstd 3 + crc)"
        layout_peer = f"pyarrow, loon layout ({loon_meta.num_row_groups} rg)"
        return [Figure("wide", f"wide write, {label}", peer, *medians["write"], target=1.2),
                Figure("wide", f"wide scan, {label}", peer, *medians["scan"], target=1.2),
                Figure("wide", f"wide write, {label}", layout_peer, *medians["write-layout"]),
                Figure("wide", f"wide scan, {label}", layout_peer, *medians["scan-layout"])]


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def print_figure(f: Figure) -> None:
    target = "" if f.target is None else f"{'met' if f.met else 'MISSED'} (<= {f.target:.2f})"
    print(f"{f.name:<42} {f.peer:<24} {f.loon_wall_s * 1e3:>10.2f} {f.peer_wall_s * 1e3:>10.2f} "
          f"{f.ratio_wall:>7.2f} {f.ratio_cpu:>7.2f}  {target}", flush=True)


def main() -> int:
    global BUDGET_S
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per figure (median)")
    parser.add_argument("--only", action="append", choices=SECTIONS, help="sections to run (repeatable)")
    parser.add_argument("--take", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--commits", type=int, default=1000, help="sequential commits")
    parser.add_argument("--commit-checkpoints", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--committers", type=int, default=16)
    parser.add_argument("--commits-each", type=int, default=4)
    parser.add_argument("--wide-columns", type=int, default=500)
    parser.add_argument("--wide-rows", type=int, default=10_000)
    parser.add_argument("--budget", type=float, default=BUDGET_S,
                        help="seconds of rounds per figure before the remaining rounds are dropped (min 3 rounds)")
    parser.add_argument("--history-dir", default="reports/bench", help="where the JSON lines go ('' = nowhere)")
    args = parser.parse_args()
    BUDGET_S = args.budget
    if args.rows < 1000 or args.rounds < 1:
        parser.error("--rows must be >= 1000 and --rounds >= 1")

    run = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"workloads: {args.rows} rows (id, vector f32x{DIM}, name), median of {args.rounds} interleaved rounds, "
          f"pylance {lance.__version__}, pyarrow {pa.__version__}, engine {loon.library_info().path}")
    print(f"{'figure':<42} {'beside':<24} {'loon ms':>10} {'peer ms':>10} {'x wall':>7} {'x cpu':>7}  target")
    work = Path(tempfile.mkdtemp(prefix="loon-workloads-"))
    figures: list[Figure] = []
    try:
        bench = Bench(args, work)
        for section in args.only or SECTIONS:
            for fig in getattr(bench, section)():
                print_figure(fig)
                figures.append(fig)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    missed = [f"{f.name} vs {f.peer}" for f in figures if f.met is False]
    print("targets:", "all met" if not missed else "MISSED: " + "; ".join(missed))
    if args.history_dir:
        out_dir = Path(args.history_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{run.replace(':', '')}-workloads.jsonl"
        common = {"run": run, "bench": "workloads", "rounds": args.rounds, "rows": args.rows,
                  "engine": str(loon.library_info().path), "commit": git_commit()}
        with path.open("w") as f:
            for fig in figures:
                record = {**common, **asdict(fig), "ratio_wall": fig.ratio_wall, "ratio_cpu": fig.ratio_cpu,
                          "met": fig.met}
                f.write(json.dumps(record) + "\n")
        print(f"figures written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
