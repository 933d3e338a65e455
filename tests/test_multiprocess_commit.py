"""Commits from several processes to one dataset: create-only commits stay atomic, on the local disk
(temp file + link) and on object stores (conditional PUT) — S3 on moto and Azure Blob on Azurite.

Each process runs ``python -m loon.suite.workloads`` and reports its per-commit outcomes; the final
manifest must hold exactly the rows of the commits that reported success, and a reader polling the
latest manifest meanwhile must never fail to parse one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid

import pytest

import loon
from loon.suite import workloads

PROCESSES = 8
COMMITS = 3


def run_processes(props, base_path: str, resolve: loon.Resolve, extra: dict) -> list[workloads.CommitOutcome]:
    start_at = time.time() + 3.0  # every process imported and waiting before the first commit
    env = dict(os.environ)
    procs = []
    for i in range(PROCESSES):
        args = {"base_path": base_path, "properties": dict(props), "committer": i, "commits": COMMITS,
                "num_rows": 20, "resolve": int(resolve), "start_at": start_at, **extra}
        procs.append(subprocess.Popen([sys.executable, "-m", "loon.suite.workloads", json.dumps(args)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    outcomes = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
        outcomes += [workloads.CommitOutcome(**o) for o in json.loads(out.strip().splitlines()[-1])]
    return outcomes


@pytest.fixture(params=["local", "moto", "azurite"])
def backend(request, props, emulator_pool) -> tuple[loon.Properties, str]:
    """Properties and a fresh dataset path on each backend."""
    if request.param == "local":
        return props, "ds"
    emu = emulator_pool(request.param)
    return loon.Properties(emu.properties()), f"t-{uuid.uuid4().hex[:10]}/ds"


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    "resolve, extra",
    [
        (loon.Resolve.FAIL, {"attempts": 2 * PROCESSES}),  # conflicts retried by re-committing
        (loon.Resolve.MERGE, {}),
    ],
    ids=["fail-with-retries", "merge"],
)
def test_processes_commit_exactly_their_successes(backend, resolve, extra):
    props, ds = backend
    props = props.merged({"transaction.commit.num-retries": "10"})
    stop = threading.Event()
    watched: dict = {}
    watcher = threading.Thread(target=lambda: watched.update(workloads.watch_manifests(ds, props, stop)))
    watcher.start()
    try:
        outcomes = run_processes(props, ds, resolve, extra)
    finally:
        stop.set()
        watcher.join()
    assert len(outcomes) == PROCESSES * COMMITS
    failures = [o for o in outcomes if not o.ok]
    assert all(o.error_code in (111, 112) for o in failures), [o.error for o in failures][:3]
    workloads.check_committed(ds, props, outcomes)  # exactly once, versions 1..n (shared with the Ray race)
    assert watched["errors"] == [] and watched["reads"] > 0, watched


def test_cli_reports_failures_as_outcomes(props):
    """A bad property makes every commit fail with code 7, reported (not raised) by the helper."""
    args = {"base_path": "ds", "properties": {**props, "writer.buffer_size": "x"}, "committer": 0, "commits": 2}
    out = subprocess.run([sys.executable, "-m", "loon.suite.workloads", json.dumps(args)], capture_output=True,
                         text=True, check=True).stdout
    outcomes = [workloads.CommitOutcome(**o) for o in json.loads(out)]
    assert [o.error_code for o in outcomes] == [7, 7] and not any(o.ok for o in outcomes)
