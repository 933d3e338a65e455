"""Concurrent commit workloads: many committers on one dataset, one outcome per commit.

Each committer writes rows with ids unique to it (``id_base(committer, commit)``), then commits them
in its own transaction. The outcome says whether the commit succeeded (and which version it wrote)
or which error code it failed with, so a check can afterwards compare the dataset by value with
exactly the rows of the successful commits. Used by the transaction notebook (threads) and by
``tests/test_multiprocess_commit.py`` (processes, via ``python -m loon.suite.workloads``).
"""

from __future__ import annotations

import functools
import json
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import LoonError, TransactionConflictError, TransactionExhaustedRetryError
from ..transaction import LATEST, Resolve, Transaction, latest_version, open_manifest, read_dataset
from ..writer import write_dataset
from . import checks, data

__all__ = [
    "CommitOutcome",
    "add_column_outcome",
    "add_columns",
    "append_rows",
    "check_committed",
    "check_outcomes",
    "column_values",
    "expected_with_columns",
    "run_threads",
    "committed_ids",
    "expected_table",
    "id_base",
    "run_committer",
    "run_concurrent",
    "watch_manifests",
]

ROWS_PER_COMMIT_MAX = 1_000_000


@dataclass
class CommitOutcome:
    """One commit attempt: who, which rows, and what happened (``version`` or ``error_code``)."""

    committer: int
    commit: int
    first_id: int
    num_rows: int
    version: int | None = None
    error_code: int | None = None
    error: str = ""
    seconds: float = 0.0
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.version is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def id_base(committer: int, commit: int) -> int:
    """First id of a commit's rows: disjoint ranges per (committer, commit)."""
    return (committer * 10_000 + commit) * ROWS_PER_COMMIT_MAX


def append_rows(
    base_path: str,
    properties: Mapping[str, Any],
    committer: int,
    commit: int,
    num_rows: int,
    resolve: Resolve | int = Resolve.MERGE,
    retry_limit: int = 1,
    attempts: int = 1,
    read_version: int = LATEST,
) -> CommitOutcome:
    """Writes ``num_rows`` rows of ``data.SCHEMA`` with unique ids and appends them in one transaction.

    On a conflict (111/112) the same files are committed again in a fresh transaction, up to
    ``attempts`` transactions in all (an application-level retry); the first transaction reads
    ``read_version``, retries read the latest. Never raises a ``LoonError``:
    failures are returned with their code.
    """
    first = id_base(committer, commit)
    outcome = CommitOutcome(committer, commit, first, num_rows)
    start = time.perf_counter()
    try:
        groups = write_dataset(base_path, data.make_batch(num_rows, offset=first), properties)
        for attempt in range(1, attempts + 1):
            outcome.attempts = attempt
            try:
                version = read_version if attempt == 1 else LATEST
                with Transaction(base_path, properties, version, resolve, retry_limit) as txn:
                    txn.append_files(groups)
                outcome.version, outcome.error_code, outcome.error = txn.committed_version, None, ""
                break
            except (TransactionConflictError, TransactionExhaustedRetryError) as exc:
                outcome.error_code, outcome.error = exc.code, str(exc)
    except LoonError as exc:
        outcome.error_code = exc.code
        outcome.error = str(exc)
    outcome.seconds = time.perf_counter() - start
    return outcome


def run_committer(
    base_path: str,
    properties: Mapping[str, Any],
    committer: int,
    commits: int,
    num_rows: int,
    resolve: Resolve | int = Resolve.MERGE,
    retry_limit: int = 1,
    attempts: int = 1,
    read_version: int = LATEST,
) -> list[CommitOutcome]:
    """``commits`` sequential appends of one committer (see ``append_rows``); the first reads
    ``read_version``, the others the latest."""
    return [
        append_rows(base_path, properties, committer, c, num_rows, resolve, retry_limit, attempts,
                    read_version if c == 0 else LATEST)  # fmt: skip
        for c in range(commits)
    ]


def run_concurrent(
    base_path: str,
    properties: Mapping[str, Any],
    committers: int,
    commits: int = 1,
    num_rows: int = 10,
    resolve: Resolve | int = Resolve.MERGE,
    retry_limit: int = 1,
    attempts: int = 1,
    read_version: int = LATEST,
) -> tuple[list[CommitOutcome], float]:
    """``committers`` threads, each running ``run_committer``; all outcomes and the wall time.

    The threads start together (a barrier), so their commits race on the same versions. Whether two
    of them overlap is up to the scheduler (a loaded machine may run them one after the other); with
    ``read_version`` every committer's first transaction reads that version, so all but the first to
    land conflict, whatever the timing.
    """
    barrier = threading.Barrier(committers)

    def one(i: int) -> list[CommitOutcome]:
        barrier.wait()
        return run_committer(base_path, properties, i, commits, num_rows, resolve, retry_limit, attempts,
                             read_version)  # fmt: skip

    start = time.perf_counter()
    with ThreadPoolExecutor(committers) as pool:
        results = list(pool.map(one, range(committers)))
    return [o for r in results for o in r], time.perf_counter() - start


def expected_table(outcomes: Sequence[CommitOutcome], base: pa.Table | None = None) -> pa.Table:
    """The rows the dataset must hold: ``base`` plus the rows of every successful commit, in version order."""
    parts = [base] if base is not None else []
    done = sorted((o for o in outcomes if o.ok), key=lambda o: o.version or 0)
    parts += [pa.Table.from_batches([data.make_batch(o.num_rows, offset=o.first_id)]) for o in done]
    if not parts:
        return data.SCHEMA.empty_table()
    return pa.concat_tables(parts)


def committed_ids(base_path: str, properties: Mapping[str, Any], version: int = LATEST) -> list[int]:
    """The ids stored at ``version`` (sorted), for quick set comparisons."""
    table = read_dataset(base_path, data.SCHEMA, properties, version, columns=["id"])
    return sorted(table.column("id").to_pylist())


def watch_manifests(
    base_path: str, properties: Mapping[str, Any], stop: threading.Event, interval: float = 0.005
) -> dict[str, Any]:
    """Reads the latest manifest until ``stop`` is set; counts reads and collects failures.

    A "no version yet" error before the first commit is not a failure. Returns
    ``{"reads": n, "versions": sorted distinct versions seen, "errors": [messages]}``.
    """
    reads, versions, errors = 0, set(), []
    while not stop.is_set():
        try:
            version, manifest = open_manifest(base_path, properties)
            _ = manifest.column_groups
            reads += 1
            versions.add(version)
        except LoonError as exc:
            if versions:  # once a version exists, every later read must parse
                errors.append(str(exc))
        time.sleep(interval)
    return {"reads": reads, "versions": sorted(versions), "errors": errors}


def _main(argv: Sequence[str]) -> int:
    """``python -m loon.suite.workloads '<json args>'``: one committer process; prints outcomes as JSON.

    Args: base_path, properties, committer, commits, num_rows, resolve, retry_limit, attempts, and
    start_at (a ``time.time()`` to wait for, so that processes started one by one commit together) or
    go_on_stdin (print ``ready`` once the engine is loaded, then wait for a line on stdin).
    """
    args = json.loads(argv[0])
    if args.get("go_on_stdin"):
        from .._ffi import library_info

        library_info()  # the engine loaded before the start signal, as the Ray committers do
        print("ready", flush=True)
        sys.stdin.readline()
    delay = float(args.get("start_at", 0)) - time.time()
    if delay > 0:
        time.sleep(delay)
    outcomes = run_committer(
        args["base_path"],
        args["properties"],
        int(args["committer"]),
        int(args["commits"]),
        int(args.get("num_rows", 10)),
        Resolve(int(args.get("resolve", Resolve.MERGE))),
        int(args.get("retry_limit", 1)),
        int(args.get("attempts", 1)),
    )
    print(json.dumps([o.to_dict() for o in outcomes]))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))


def add_columns(
    base_path: str,
    properties: Mapping[str, Any],
    table: pa.Table,
    resolve: Resolve | int = Resolve.FAIL,
    retry_limit: int = 1,
    read_version: int = LATEST,
) -> int:
    """Adds the columns of ``table`` (one value per existing row) as one new column group.

    The table is written in a single group (``writer.policy=single``) and committed with
    ``add_column_group``; returns the new version.
    """
    props = dict(properties)
    props["writer.policy"] = "single"
    groups = write_dataset(base_path, table, props)
    with Transaction(base_path, properties, read_version=read_version, resolve=resolve, retry_limit=retry_limit) as txn:
        txn.add_column_group(groups[0])
    assert txn.committed_version is not None
    return txn.committed_version


def column_values(committer: int, num_rows: int) -> pa.Array:
    """The values committer ``committer`` stores in its added column ``c<committer>``."""
    return pa.array([committer * 1_000_000 + i for i in range(num_rows)], pa.int64())


def add_column_outcome(
    base_path: str,
    properties: Mapping[str, Any],
    committer: int,
    num_rows: int,
    resolve: Resolve | int = Resolve.MERGE,
    retry_limit: int = 1,
    read_version: int = LATEST,
) -> CommitOutcome:
    """Adds column ``c<committer>`` (``column_values``) for the ``num_rows`` rows of ``read_version``.

    Never raises LoonError: the failure code is in the outcome.
    """
    outcome = CommitOutcome(committer, 0, 0, num_rows)
    start = time.perf_counter()
    try:
        table = pa.table({f"c{committer}": column_values(committer, num_rows)})
        outcome.version = add_columns(base_path, properties, table, resolve, retry_limit, read_version)
    except LoonError as exc:
        outcome.error_code = exc.code
        outcome.error = str(exc)
    outcome.seconds = time.perf_counter() - start
    return outcome


def run_threads(jobs: Sequence[Any]) -> tuple[list[Any], float]:
    """Runs the zero-argument callables ``jobs`` in one thread each, started together; results in order."""
    barrier = threading.Barrier(len(jobs))

    def one(job: Any) -> Any:
        barrier.wait()
        return job()

    start = time.perf_counter()
    with ThreadPoolExecutor(len(jobs)) as pool:
        results = list(pool.map(one, jobs))
    return results, time.perf_counter() - start


def expected_with_columns(table: pa.Table, added: Sequence[CommitOutcome], added_rows: int) -> pa.Table:
    """``table`` plus column ``c<i>`` for every successful ``add_column_outcome`` in ``added``.

    Columns come in commit (version) order, as the manifest lists them. An added column holds
    ``column_values(i, added_rows)`` for the first ``added_rows`` rows and
    null for rows appended later.
    """
    for o in sorted((o for o in added if o.ok), key=lambda o: o.version or 0):
        values = column_values(o.committer, added_rows).to_pylist()
        values += [None] * (table.num_rows - added_rows)
        table = table.append_column(pa.field(f"c{o.committer}", pa.int64()), pa.array(values, pa.int64()))
    return table


def check_outcomes(outcomes: Sequence[CommitOutcome]) -> list[CommitOutcome]:
    """Asserts every failure is a conflict (112) or an exhausted retry (111), at least one commit
    succeeded and no two successes share a version; returns the successes."""
    bad = [o for o in outcomes if not o.ok and o.error_code not in (111, 112)]
    assert not bad, f"unexpected failures: {[(o.error_code, o.error) for o in bad[:3]]}"
    ok = [o for o in outcomes if o.ok]
    assert ok, "no commit succeeded"
    versions = [o.version for o in ok]
    assert len(set(versions)) == len(versions), f"two commits reported the same version: {sorted(versions)}"
    return ok


def check_committed(
    base_path: str,
    properties: Mapping[str, Any],
    outcomes: Sequence[CommitOutcome],
    base_version: int = 0,
    base: pa.Table | None = None,
) -> list[CommitOutcome]:
    """The end-state checks of a concurrent commit run (threads, processes or cluster nodes alike).

    Beyond ``check_outcomes``: the successful commits hold the versions right after ``base_version``
    without a gap, the latest version is the last of them (no commit that reported failure was
    published), every committed row is in the dataset exactly once and nothing else is (``base``
    aside), and the dataset equals ``expected_table``. Returns the successes.
    """
    ok = check_outcomes(outcomes)
    versions = sorted(o.version or 0 for o in ok)
    contiguous = list(range(base_version + 1, base_version + len(ok) + 1))
    assert versions == contiguous, (
        f"versions of the {len(ok)} successful commits are not {base_version + 1}..{base_version + len(ok)}: "
        f"missing {sorted(set(contiguous) - set(versions))[:5]}, extra {sorted(set(versions) - set(contiguous))[:5]}"
    )
    latest = latest_version(base_path, properties)
    assert latest == contiguous[-1], f"latest version is {latest}, the last successful commit wrote {contiguous[-1]}"
    got = read_dataset(base_path, data.SCHEMA, properties)
    ids, counts = np.unique(got.column("id").to_numpy(), return_counts=True)
    duplicated = ids[counts > 1]
    assert not len(duplicated), f"{len(duplicated)} ids stored more than once, e.g. {duplicated[:3].tolist()}"
    committed = np.concatenate(
        [np.arange(o.first_id, o.first_id + o.num_rows, dtype=np.int64) for o in ok]
        + ([base.column("id").to_numpy()] if base is not None else [])
    )
    lost = np.setdiff1d(committed, ids)
    assert not len(lost), f"{len(lost)} rows of successful commits are missing, e.g. ids {lost[:3].tolist()}"
    stray = np.setdiff1d(ids, committed)
    assert not len(stray), f"{len(stray)} rows of no successful commit are stored, e.g. ids {stray[:3].tolist()}"
    checks.assert_tables_equal(got, expected_table(outcomes, base))
    return ok


@dataclass
class MixedEdit:
    """One edit of ``interleave_appends_and_columns``: its kind, the version it landed as, its attempts."""

    kind: str  # "append" | "column"
    name: str  # rows "append<r>" or column "c<r>"
    version: int
    attempts: int


def mixed_column_values(column: int, start: int, num_rows: int) -> pa.Array:
    """Values of added column ``c<column>`` for rows ``start .. start+num_rows-1`` (by row position)."""
    return pa.array([column * 1_000_000 + r for r in range(start, start + num_rows)], pa.int64())


def _redo_until_committed(edit: Callable[[], int], limit: int) -> tuple[int, int]:
    """Runs ``edit`` (which rewrites its data for the latest version and commits it) until it commits;
    only 112 (a conflicting edit landed first) is retried. Returns (version, attempts)."""
    for attempt in range(1, limit + 1):
        try:
            return edit(), attempt
        except TransactionConflictError:
            continue
    raise AssertionError(f"edit did not commit in {limit} attempts")


def interleave_appends_and_columns(
    base_path: str, properties: Mapping[str, Any], rounds: int, rows: int, resolve: Resolve | int = Resolve.MERGE
) -> list[MixedEdit]:
    """Rounds of one append and one column addition started together on the same version.

    An append and a column addition do not commute (the appended rows lack the new column, the new
    column lacks the appended rows), so in each round one of them wins and the other gets 112 from
    the engine; the loser does what a client must: rewrites its data for the new latest version
    (appended rows with every column added so far; the column for every row) and commits again.
    Returns the landed edits in version order.
    """
    props = dict(properties)
    landed: list[MixedEdit] = []
    lock = threading.Lock()

    def append(r: int) -> int:
        version, manifest = open_manifest(base_path, props)
        start = manifest.num_rows
        table = data.make_table(rows, offset=start)
        added = [g.columns[0] for g in manifest.column_groups][1:]
        for name in added:
            table = table.append_column(name, mixed_column_values(int(name[1:]), start, rows))
        patterns = ",".join(["id|name|value", *added])
        wprops = {**props, "writer.policy": "schema_based", "writer.split.schema_based.patterns": patterns}
        groups = write_dataset(base_path, table, wprops)
        with Transaction(base_path, props, read_version=version, resolve=resolve) as txn:
            txn.append_files(groups)
        return txn.committed_version

    def add_column(r: int) -> int:
        version, manifest = open_manifest(base_path, props)
        values = pa.table({f"c{r}": mixed_column_values(r, 0, manifest.num_rows)})
        return add_columns(base_path, props, values, resolve, read_version=version)

    def job(kind: str, r: int) -> None:
        edit = (lambda: append(r)) if kind == "append" else (lambda: add_column(r))
        version, attempts = _redo_until_committed(edit, 2 * rounds + 2)
        with lock:
            landed.append(MixedEdit(kind, f"append{r}" if kind == "append" else f"c{r}", version, attempts))

    for r in range(rounds):
        run_threads([functools.partial(job, "append", r), functools.partial(job, "column", r)])
    return sorted(landed, key=lambda e: e.version)
