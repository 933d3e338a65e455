"""A writer in a child process that the suite kills, starves of disk, or runs without permissions.

The child (``python -m loon.suite.crash_child MODE --path P --props JSON --rows N``) appends to one
dataset and reports what it did as JSON lines on stdout, flushed at once, so the parent knows
when to strike and what had been committed before it did::

    {"event": "ready", "version": 3}            # opened the latest version (3)
    {"event": "flushed", "batches": 2}          # data files exist on storage (not committed)
    {"event": "committing", "version": 4}       # commit of version 4 started
    {"event": "committed", "version": 4}
    {"event": "error", "stage": "close", "class": "ArrowError", "code": 3, "message": "..."}

Every commit appends ``rows`` rows with ids continuing the dataset: version ``v`` always holds
exactly ``data.make_table(v * rows)``, whoever wrote it. That makes a crash easy to judge: after
the kill the latest version must be the last committed one (or the one being committed, if the
kill came after its manifest was published) and hold exactly those rows.

Modes:

- ``write``: writes and flushes batches forever, never commits (killed mid-write).
- ``commit``: writes one batch, then commits with ``sleep.before.commit.manifest`` armed (when the
  engine has libfiu), so the kill lands after the data files exist and before the manifest.
- ``loop``: appends and commits ``rows`` rows again and again (killed at a random moment).
- ``diskfull-write`` / ``diskfull-commit``: ``RLIMIT_FSIZE`` caps file sizes (``SIGXFSZ`` ignored,
  so writes fail with EFBIG like on a full disk), for the data files or only for the manifest.
- ``permission``: commits into a dataset whose ``_metadata`` the parent made read-only, and reads a
  data file made unreadable. When the parent is root, the child runs without the capabilities
  that let root ignore permission bits (``setpriv --bounding-set``), so the bits apply to it.

The parent side is ``run_child`` / ``run_and_kill`` plus ``check_recovered``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODES = ("write", "commit", "loop", "diskfull-write", "diskfull-commit", "permission")
# Root ignores permission bits through these capabilities; a child without them obeys the bits.
DAC_CAPABILITIES = ("dac_override", "dac_read_search")


# --------------------------------------------------------------------------------------------
# child side


def _emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def _error(stage: str, exc: BaseException) -> None:
    _emit(
        "error",
        stage=stage,
        **{"class": type(exc).__name__},
        code=getattr(exc, "code", None),
        message=str(exc),
    )


def _limit_file_size(limit: int) -> None:
    """Files may not grow beyond ``limit`` bytes: writes fail with EFBIG, as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))


def _child(args: argparse.Namespace) -> int:
    import loon
    from loon.suite import data

    props = loon.Properties(json.loads(args.props))
    path, rows = args.path, args.rows
    version = loon.latest_version(path, props)
    _emit("ready", version=version)

    if args.mode == "write":
        writer = loon.Writer(path, data.SCHEMA, props)
        batches = 0
        while True:  # until killed
            writer.write(data.make_batch(rows, offset=(version + batches) * rows))
            writer.flush()
            batches += 1
            _emit("flushed", batches=batches)

    if args.mode == "commit":
        groups = loon.write_dataset(path, data.make_table(rows, offset=version * rows), props)
        txn = loon.Transaction(path, props)
        txn.append_files(groups)
        if loon.fault_injection_enabled():
            loon.faults.enable("sleep.before.commit.manifest", 1)  # 5 s inside commit
        _emit("committing", version=version + 1, sleeping=loon.fault_injection_enabled())
        _emit("committed", version=txn.commit())
        return 0

    if args.mode == "loop":
        while True:  # until killed
            groups = loon.write_dataset(path, data.make_table(rows, offset=version * rows), props)
            _emit("committing", version=version + 1)
            version = loon.commit_groups(path, groups, props)
            _emit("committed", version=version)

    if args.mode == "diskfull-write":
        _limit_file_size(args.limit)
        stage = "write"
        try:
            writer = loon.Writer(path, data.SCHEMA, props)
            for i in range(args.batches):
                writer.write(data.make_batch(rows, offset=(version * args.batches + i) * rows))
            stage = "close"
            groups = writer.close()
            stage = "commit"
            _emit("committed", version=loon.commit_groups(path, groups, props))
        except loon.LoonError as e:
            _error(stage, e)
        return 0

    if args.mode == "diskfull-commit":
        groups = loon.write_dataset(path, data.make_table(rows, offset=version * rows), props)
        _emit("flushed", batches=1)
        _limit_file_size(args.limit)  # the data files are complete; only the manifest is too big
        try:
            _emit("committed", version=loon.commit_groups(path, groups, props))
        except loon.LoonError as e:
            _error("commit", e)
        return 0

    if args.mode == "permission":
        # 1. commit into a read-only _metadata directory
        try:
            groups = loon.write_dataset(path, data.make_table(rows, offset=version * rows), props)
            _emit("committed", version=loon.commit_groups(path, groups, props))
        except loon.LoonError as e:
            _error("commit", e)
        # 2. read the committed data (a data file is unreadable)
        try:
            table = loon.read_dataset(path, data.SCHEMA, props)
            _emit("read", rows=table.num_rows)
        except loon.LoonError as e:
            _error("read", e)
        return 0

    raise SystemExit(f"unknown mode {args.mode!r}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loon.suite.crash_child", description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--path", required=True, help="dataset path (relative to the fs root)")
    parser.add_argument("--props", required=True, help="engine properties as a JSON object")
    parser.add_argument("--rows", type=int, default=100, help="rows per batch / per commit")
    parser.add_argument("--batches", type=int, default=1, help="diskfull-write: batches to write")
    parser.add_argument("--limit", type=int, default=4096, help="diskfull-*: RLIMIT_FSIZE in bytes")
    return _child(parser.parse_args(argv))


# --------------------------------------------------------------------------------------------
# parent side


@dataclass
class ChildRun:
    """What a child reported before it ended (or was killed)."""

    mode: str
    events: list[dict[str, Any]] = field(default_factory=list)
    returncode: int | None = None
    killed: bool = False
    stderr: str = ""
    seconds: float = 0.0

    def all(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == event]

    def last(self, event: str) -> dict[str, Any] | None:
        found = self.all(event)
        return found[-1] if found else None

    @property
    def start_version(self) -> int:
        ready = self.last("ready")
        if ready is None:
            raise AssertionError(f"child ({self.mode}) never got ready; stderr:\n{self.stderr[-2000:]}")
        return int(ready["version"])

    @property
    def last_committed(self) -> int:
        """The newest version the child reported as committed (its start version if none)."""
        done = self.last("committed")
        return int(done["version"]) if done else self.start_version

    @property
    def error(self) -> dict[str, Any] | None:
        return self.last("error")


def _command(mode: str, path: str, properties: Mapping[str, Any], rows: int, **options: Any) -> list[str]:
    cmd = [sys.executable, "-m", "loon.suite.crash_child", mode, "--path", path]
    cmd += ["--props", json.dumps({k: str(v) for k, v in properties.items()}), "--rows", str(rows)]
    for key, value in options.items():
        cmd += [f"--{key}", str(value)]
    return cmd


def _env() -> dict[str, str]:
    env = dict(os.environ)
    lib_dir = str(Path(__file__).resolve().parents[2])  # the directory holding the loon package
    env["PYTHONPATH"] = os.pathsep.join(p for p in (lib_dir, env.get("PYTHONPATH", "")) if p)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def unprivileged_prefix() -> list[str]:
    """A command prefix that makes root obey permission bits ([] when not root).

    Raises ``RuntimeError`` when running as root without ``setpriv`` (util-linux).
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise RuntimeError("running as root and setpriv (util-linux) is missing: cannot drop CAP_DAC_OVERRIDE")
    return [setpriv, "--bounding-set", ",".join(f"-{cap}" for cap in DAC_CAPABILITIES), "--"]


def spawn(
    mode: str, path: str, properties: Mapping[str, Any], rows: int, unprivileged: bool = False, **options: Any
) -> subprocess.Popen:
    """Starts a child with line-buffered JSON stdout (``unprivileged``: obeying permission bits)."""
    prefix = unprivileged_prefix() if unprivileged else []
    return subprocess.Popen(
        prefix + _command(mode, path, properties, rows, **options),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        env=_env(),
    )


def _collect(proc: subprocess.Popen, run: ChildRun, timeout: float) -> ChildRun:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        run.stderr = err
        raise AssertionError(f"child ({run.mode}) did not finish within {timeout} s; stderr:\n{err[-2000:]}") from None
    run.events += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    run.returncode = proc.returncode
    run.stderr = err
    return run


def run_child(
    mode: str,
    path: str,
    properties: Mapping[str, Any],
    rows: int,
    timeout: float = 60.0,
    unprivileged: bool = False,
    **options: Any,
) -> ChildRun:
    """Runs a child to its end and returns its report (raises if it crashed or hung)."""
    start = time.perf_counter()
    proc = spawn(mode, path, properties, rows, unprivileged=unprivileged, **options)
    run = _collect(proc, ChildRun(mode), timeout)
    run.seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise AssertionError(f"child ({mode}) exited with {run.returncode}; stderr:\n{run.stderr[-2000:]}")
    return run


def run_and_kill(
    mode: str,
    path: str,
    properties: Mapping[str, Any],
    rows: int,
    kill_on: str,
    after: int = 1,
    delay: float = 0.0,
    timeout: float = 30.0,
) -> ChildRun:
    """Starts a child and SIGKILLs it ``delay`` seconds after its ``after``-th ``kill_on`` event.

    ``kill_on="ready"`` with a random ``delay`` kills at an arbitrary moment of the child's work.
    Raises if the child ends (or reports an error) before the kill.
    """
    start = time.perf_counter()
    proc = spawn(mode, path, properties, rows)
    run = ChildRun(mode)
    seen = 0
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("{"):
            event = json.loads(line)
            run.events.append(event)
            if event["event"] == "error":
                break
            if event["event"] == kill_on:
                seen += 1
                if seen >= after:
                    if delay:
                        time.sleep(delay)
                    os.kill(proc.pid, signal.SIGKILL)
                    run.killed = True
                    break
        if time.monotonic() > deadline:
            break
    if not run.killed:
        proc.kill()
    rest = _collect(proc, ChildRun(mode), timeout)
    run.events += rest.events  # lines already buffered before the kill
    run.returncode, run.stderr = rest.returncode, rest.stderr
    run.seconds = time.perf_counter() - start
    if not run.killed:
        raise AssertionError(f"child ({mode}) ended before the kill: {run.events[-3:]}; stderr:\n{run.stderr[-2000:]}")
    assert run.returncode == -signal.SIGKILL, f"child returncode {run.returncode}, expected -SIGKILL"
    return run


def check_recovered(path: str, properties: Mapping[str, Any], rows: int, run: ChildRun) -> int:
    """Asserts the dataset survived ``run``: its latest version is the last committed one (or
    the one whose commit the kill interrupted, if its manifest was already published), it holds
    exactly ``make_table(version * rows)`` and ``loon.suite.validate`` finds nothing. Returns the version.
    """
    from ..transaction import latest_version, read_dataset
    from . import checks, data
    from .validation import validate

    version = latest_version(path, properties)
    committed = run.last_committed
    started = run.last("committing")
    in_flight = int(started["version"]) if started and int(started["version"]) > committed else None
    allowed = {committed} | ({in_flight} if in_flight is not None else set())
    assert version in allowed, (
        f"latest version {version} after the kill; child committed {committed}, in flight {in_flight}"
    )
    table = read_dataset(path, data.SCHEMA, properties)
    checks.assert_tables_equal(table, data.make_table(version * rows))
    report = validate(path, properties)
    assert report.ok, str(report)
    return version


def unreferenced_files(path: str, properties: Mapping[str, Any]) -> list[str]:
    """Data files under ``<path>/_data`` that the latest manifest does not reference (orphans)."""
    from ..transaction import open_manifest
    from .checks import data_files

    _, manifest = open_manifest(path, properties)
    referenced = {f.path for f in manifest.column_groups.files}
    return [f for f in data_files(properties, path) if f not in referenced]


@dataclass
class KillResult:
    """One iteration of ``kill_loop``."""

    iteration: int
    mode: str  # write | commit | loop
    version: int  # latest version after the kill (checked by check_recovered)
    orphans: int  # data files no manifest references after the kill
    seconds: float


def kill_loop(path: str, properties: Mapping[str, Any], rows: int, iterations: int, seed: int = 0) -> list[KillResult]:
    """SIGKILLs ``iterations`` children on one dataset, cycling through three moments, and checks
    the dataset after every kill with ``check_recovered``:

    - ``write``: after the child flushed two batches (data files exist, nothing committed);
      the kill must leave no new version, and new orphan files where files are visible while
      written (local disk); on an object store an unfinished upload leaves no object, so the
      orphans stay as they were;
    - ``commit``: 0.2 s into a commit held by ``sleep.before.commit.manifest`` (engines with
      libfiu; others use ``loop``): the data files exist, the manifest does not;
    - ``loop``: at a random moment (20-300 ms) of a child committing in a tight loop.

    Each child continues from the version the previous one left. Raises AssertionError at the
    first iteration that lost or half-applied a commit.
    """
    from ..faults import fault_injection_enabled
    from .backend import features

    torn_files = "partial_files" in features(properties)
    rng = random.Random(seed)
    held_commit = fault_injection_enabled()
    results: list[KillResult] = []
    orphans = len(unreferenced_files(path, properties))
    for i in range(iterations):
        mode = ("write", "commit", "loop")[i % 3]
        if mode == "commit" and not held_commit:
            mode = "loop"
        if mode == "write":
            run = run_and_kill("write", path, properties, rows, kill_on="flushed", after=2)
        elif mode == "commit":
            run = run_and_kill("commit", path, properties, rows, kill_on="committing", delay=0.2)
        else:
            run = run_and_kill("loop", path, properties, rows, kill_on="ready", delay=rng.uniform(0.02, 0.3))
        version = check_recovered(path, properties, rows, run)
        now = len(unreferenced_files(path, properties))
        if mode in ("write", "commit"):
            assert version == run.start_version, f"iteration {i} ({mode}): version moved to {version}"
        if mode == "commit" or (mode == "write" and torn_files):
            assert now > orphans, f"iteration {i} ({mode}): the killed child left no data file behind"
        elif mode == "write":
            assert now == orphans, f"iteration {i} (write): an unfinished upload left {now - orphans} objects"
        results.append(KillResult(i, mode, version, now, run.seconds))
        orphans = now
    return results


if __name__ == "__main__":
    raise SystemExit(main())
