"""One scenario per engine fault point: make it fire, check the error, retry, check nothing was lost.

Every scenario starts from a committed dataset (``base`` rows, version 1), arms one point with a
count (1 = once, n > 1 = the next n evaluations, an extension of our engine), runs the operation
the point breaks and retries it until it succeeds, recording every failure. Afterwards the caller
asserts with ``assert_failures`` (class, code and a message naming the point) and
``assert_intact`` (latest version, rows by value, ``loon.suite.validate`` clean).

Retries follow what a careful client would do: an operation whose fault fires before it changed
anything (``writer.write``/``flush``/``close``, ``commit``, ``begin``, reads) is retried in place
on the same handle; a writer whose data files may be half-written is destroyed and the write
restarted with a new writer (its orphan files are never referenced by a manifest).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..column_groups import ColumnGroups
from ..errors import LoonError, error_class
from ..faults import FaultInjector
from ..filesystem import Filesystem
from ..reader import Reader
from ..transaction import Resolve, Transaction, commit_groups, latest_version, open_manifest, read_dataset
from ..writer import Writer, write_dataset
from . import checks, data
from .validation import validate

# Two column groups (id+name | value), so per-group points can fire between the groups' writes.
TWO_GROUPS = {"writer.policy": "schema_based", "writer.split.schema_based.patterns": "id|name,value"}

# Writer stages whose fault fires before anything is written: retried on the same writer.
IN_PLACE = {"writer.write.fail": "write", "writer.flush.fail": "flush", "writer.close.fail": "close"}


@dataclass
class Failure:
    """One failed attempt: the stage that raised and the exception."""

    stage: str
    error: Exception

    @property
    def code(self) -> int | None:
        return getattr(self.error, "code", None)


@dataclass
class FaultOutcome:
    """What happened while ``point`` was armed with ``count``."""

    point: str
    count: int
    failures: list[Failure] = field(default_factory=list)
    expected: pa.Table | None = None  # every row committed, in order
    result: Any = None  # what the successful retry returned (reads)
    version: int = 0  # the latest version afterwards

    def describe(self) -> str:
        """One line for the report, e.g. ``writer.flush.fail x2: flush -> code 3 x2, retry ok``."""
        stages = sorted({f"{f.stage} -> code {f.code}" for f in self.failures})
        return f"{self.point} x{self.count}: {', '.join(stages) or 'no failure'} x{len(self.failures)}, retry ok"


def _record(outcome: FaultOutcome, stage: str, error: Exception, limit: int) -> None:
    outcome.failures.append(Failure(stage, error))
    if len(outcome.failures) > limit:
        raise AssertionError(f"{outcome.point} armed x{outcome.count} failed {len(outcome.failures)} times") from error


def setup_base(path: str, properties: Mapping[str, Any], rows: int) -> pa.Table:
    """Commits ``make_table(rows)`` as version 1 and returns it."""
    table = data.make_table(rows)
    assert commit_groups(path, write_dataset(path, table, properties), properties) == 1
    return table


def append_with_fault(
    path: str,
    properties: Mapping[str, Any],
    point: str,
    count: int,
    table: pa.Table,
    arm_at: str = "write",
) -> FaultOutcome:
    """Writes ``table`` and commits it as one new version while ``point`` is armed.

    ``arm_at="write"`` arms the point before the writer is created (data-file faults);
    ``arm_at="commit"`` writes the data first and arms the point for the transaction only.
    """
    outcome = FaultOutcome(point, count)
    limit = max(count, 1) + 1
    writer: Writer | None = None
    groups = None
    txn: Transaction | None = None
    if arm_at == "commit":
        groups = write_dataset(path, table, properties)
    injector = FaultInjector({point: count})
    with injector:
        stage = "new" if groups is None else "begin"
        while True:
            try:
                if stage == "new":
                    writer = Writer(path, data.SCHEMA, properties)
                    stage = "write"
                if stage == "write":
                    assert writer is not None
                    writer.write(table)
                    stage = "flush"
                if stage == "flush":
                    assert writer is not None
                    writer.flush()
                    stage = "close"
                if stage == "close":
                    assert writer is not None
                    groups = writer.close()
                    stage = "begin"
                if stage == "begin":
                    txn = Transaction(path, properties)
                    stage = "append"
                if stage == "append":
                    assert txn is not None and groups is not None
                    txn.append_files(groups)
                    stage = "commit"
                assert txn is not None
                txn.commit()
                txn.abort()  # releases the handle of the committed transaction
                break
            except LoonError as e:
                _record(outcome, stage, e, limit)
                if stage in ("write", "flush", "close") and IN_PLACE.get(point) != stage:
                    assert writer is not None
                    writer.destroy()  # possibly half-written files stay orphaned
                    stage = "new"
    outcome.version = latest_version(path, properties)
    return outcome


def file_write_with_fault(
    path: str, properties: Mapping[str, Any], point: str, count: int, content: bytes
) -> FaultOutcome:
    """Writes ``content`` to ``path`` through the filesystem API's writer (open, write, flush,
    close) while ``point`` is armed; a failed attempt is destroyed (its upload aborted) and the
    file written again. ``outcome.result`` holds the bytes read back afterwards.
    """
    outcome = FaultOutcome(point, count)
    limit = max(count, 1) + 1
    with Filesystem(properties) as fs, FaultInjector({point: count}):
        while True:
            stage, writer = "open", None
            try:
                writer = fs.open_writer(path)
                stage = "write"
                writer.write(content)
                stage = "flush"
                writer.flush()
                stage = "close"
                writer.close()
                break
            except LoonError as e:
                _record(outcome, stage, e, limit)
            finally:
                if writer is not None:
                    writer.destroy()
    with Filesystem(properties) as fs:
        outcome.result = fs.read_all(path)
    return outcome


def read_with_fault(
    path: str,
    properties: Mapping[str, Any],
    point: str,
    count: int,
    operation: str,
    schema: pa.Schema = data.SCHEMA,
) -> FaultOutcome:
    """Reads the dataset with ``operation`` while ``point`` is armed, retrying until it succeeds.

    Operations: ``open`` (Reader), ``get_chunk`` (every chunk of group 0, one call each),
    ``get_chunks`` (all at once), ``take`` (every row), ``begin`` (a transaction on the latest
    version, then a scan), ``read_file`` (the latest manifest's bytes through the filesystem API),
    ``scan``. The result (a table, or bytes for ``read_file``) is in ``outcome.result``.
    """
    outcome = FaultOutcome(point, count)
    limit = max(count, 1) + 1
    version, manifest = open_manifest(path, properties)
    groups = manifest.column_groups
    manifest_path = f"{path}/_metadata/manifest-{version}.avro"
    reader: Reader | None = None
    with FaultInjector({point: count}):
        while True:
            stage = operation
            try:
                if operation == "begin":
                    txn = Transaction(path, properties)
                    assert txn.read_version == version
                    txn.abort()
                    outcome.result = read_dataset(path, schema, properties)
                    break
                if operation == "read_file":
                    with Filesystem(properties) as fs:
                        outcome.result = fs.read_all(manifest_path)
                    break
                if reader is None:
                    stage = "open"
                    reader = Reader(groups, schema, properties=properties)
                    stage = operation
                if operation == "open":
                    outcome.result = reader.scan()
                elif operation == "scan":
                    outcome.result = reader.scan()
                elif operation == "take":
                    outcome.result = reader.take(range(groups.num_rows))
                elif operation in ("get_chunk", "get_chunks"):
                    batches = []
                    for i in range(len(groups)):
                        with reader.chunk_reader(i) as cr:
                            n = cr.num_chunks
                            if operation == "get_chunk":
                                batches.append([cr.get_chunk(c) for c in range(n)])
                            else:
                                batches.append(cr.get_chunks(list(range(n))))
                    outcome.result = _zip_groups(batches)
                else:
                    raise ValueError(f"unknown read operation {operation!r}")
                break
            except (LoonError, OSError) as e:
                _record(outcome, stage, e, limit)
    if reader is not None:
        reader.close()
    outcome.version = latest_version(path, properties)
    return outcome


def _zip_groups(per_group: list[list[pa.RecordBatch]]) -> pa.Table:
    """Chunks of each group side by side as one table (columns in group order)."""
    tables = [pa.Table.from_batches(batches) for batches in per_group]
    columns, names = [], []
    for t in tables:
        for name in t.schema.names:
            names.append(name)
            columns.append(t.column(name).combine_chunks())
    return pa.table(dict(zip(names, columns)))


def assert_failures(outcome: FaultOutcome, code: int, stages: set[str] | str, count: int | None = None) -> None:
    """Every failure has ``code``, its exception class and a message naming the point; the point
    failed exactly ``count`` times (default: its arm count) in one of ``stages``."""
    expected = outcome.count if count is None else count
    assert len(outcome.failures) == expected, (
        f"{outcome.point} armed x{outcome.count}: {len(outcome.failures)} failures, expected {expected}: "
        + "; ".join(f"{f.stage}: {f.error}" for f in outcome.failures)
    )
    stages = {stages} if isinstance(stages, str) else stages
    for f in outcome.failures:
        assert f.stage in stages, f"{outcome.point}: failed in {f.stage}, expected one of {sorted(stages)}"
        assert isinstance(f.error, error_class(code)) and f.code == code, (
            f"{outcome.point}: {type(f.error).__name__} code {f.code}, "
            f"expected {error_class(code).__name__} code {code}"
        )
        assert outcome.point in str(f.error), f"{outcome.point}: message does not name the point: {f.error}"


def assert_intact(path: str, properties: Mapping[str, Any], expected: pa.Table, version: int) -> None:
    """The latest version is ``version``, holds exactly ``expected`` and validates clean."""
    assert latest_version(path, properties) == version, f"latest {latest_version(path, properties)} != {version}"
    checks.assert_tables_equal(read_dataset(path, data.SCHEMA, properties), expected)
    report = validate(path, properties)
    assert report.ok, str(report)


def expect_error(func: Callable[[], Any], cls: type[Exception], code: int, *words: str) -> Exception:
    """Calls ``func`` and asserts it raises ``cls`` with FFI ``code`` and a message containing ``words``.

    Returns the exception. A call that does not raise, or raises anything else, fails the assertion.
    """
    try:
        func()
    except cls as e:
        actual = getattr(e, "code", None)
        assert actual == code, f"{type(e).__name__} code {actual}, expected {code}: {e}"
        missing = [w for w in words if w not in str(e)]
        assert not missing, f"the message does not name {missing}: {e}"
        return e
    except Exception as e:
        raise AssertionError(f"expected {cls.__name__} code {code}, got {type(e).__name__}: {e}") from e
    raise AssertionError(f"no error raised; expected {cls.__name__} code {code}")


def count_failures(func: Callable[[], Any], point: str, count: int, attempts: int) -> int:
    """Arms ``point`` with ``count``, calls ``func`` ``attempts`` times; returns how many failed with
    an error naming the point (other errors propagate)."""
    failed = 0
    with FaultInjector({point: count}):
        for _ in range(attempts):
            try:
                func()
            except LoonError as e:
                if point not in str(e):
                    raise
                failed += 1
    return failed


@dataclass
class RaceOutcome:
    """Two commits on one read version; the slow one was held inside commit for 5 s."""

    slow_groups: ColumnGroups
    slow_version: int | None
    slow_error: LoonError | None
    fast_version: int
    seconds: float


# Seconds race_commits waits for the slow commit's listing (the bound where an engine counts none).
LISTING_WAIT = 10.0


def race_commits(
    path: str,
    properties: Mapping[str, Any],
    slow: pa.Table,
    fast: pa.Table,
    resolve: Resolve | int = Resolve.FAIL,
    hold: float = 1.0,
    retry_limit: int = 0,
) -> RaceOutcome:
    """Forces a lost create-only race with ``sleep.before.commit.manifest`` (README, "Fault points").

    A transaction appending ``slow`` starts committing in a thread and sleeps 5 s after resolving
    its version number; ``hold`` seconds later ``fast`` is committed on the same base and takes that
    number. The slow commit then loses the create-only publish: 111 without retries (``retry_limit``
    of begin, or ``transaction.commit.num-retries`` where the engine honours it), else a retry that
    rebases with MERGE (112 with FAIL).
    """
    slow_groups = write_dataset(path, slow, properties)
    fast_groups = write_dataset(path, fast, properties)
    txn = Transaction(path, properties, resolve=resolve, retry_limit=retry_limit)
    txn.append_files(slow_groups)
    result: dict[str, Any] = {}

    def commit_slowly() -> None:
        try:
            result["version"] = txn.commit()
        except LoonError as e:
            result["error"] = e

    start = time.perf_counter()
    with FaultInjector({"sleep.before.commit.manifest": 1}), Filesystem(properties) as fs:
        fs.reset_metrics()  # the instance the transactions use (cached by properties): its listings count
        thread = threading.Thread(target=commit_slowly, name="slow-commit")
        thread.start()
        # On a loaded machine the thread can take a while to reach the sleep, and a fast commit before it
        # would take the sleep itself: first wait for the slow commit's listing of _metadata (where the
        # engine counts listings; else for LISTING_WAIT), then ``hold`` for the few steps after it.
        deadline = time.monotonic() + LISTING_WAIT
        while fs.metrics()["get_file_info_count"] < 1 and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.01)
        time.sleep(hold)
        fast_version = commit_groups(path, fast_groups, properties)
        thread.join()
    txn.abort()
    return RaceOutcome(
        slow_groups, result.get("version"), result.get("error"), fast_version, time.perf_counter() - start
    )
