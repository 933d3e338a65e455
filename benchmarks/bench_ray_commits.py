"""Commit race throughput: N committers as Ray actors beside N local processes, on one S3 (moto) dataset.

Both sides run the same workload — each committer ``--commits`` appends of ``--rows`` rows with MERGE
(``workloads.run_committer``), all starting together on a fresh dataset of one moto bucket — and
both are checked with ``workloads.check_committed`` (every success exactly once, versions contiguous).
Figures: successful commits per second of wall time from the start signal to the last outcome, and
the Ray/processes ratio, measured in the same run.

* processes: ``python -m loon.suite.workloads`` per committer (as tests/test_multiprocess_commit.py),
  each released by a line on its stdin once all are up with the engine loaded; wall = release to the
  last process's outcomes.
* Ray: a local Ray cluster (``--num-cpus``), one actor per committer; wall = sending the ``run``
  calls to the last result (actors already up with the engine loaded).

On one machine both race on the same cores as moto, so this measures what Ray's dispatch adds to the
same race, not multi-host behaviour. Needs Ray (``pip install '.[distributed]'``).

    .venv/bin/python benchmarks/bench_ray_commits.py [--committers 16] [--commits 3] [--rows 20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid

import loon
from loon.suite import emulators, raycluster, workloads
from loon.suite.stress import ray_commits

PROPS = {"transaction.commit.num-retries": "10"}


def run_processes(props: dict, ds: str, committers: int, commits: int, rows: int) -> tuple[list, float]:
    procs = []
    for i in range(committers):
        args = {"base_path": ds, "properties": props, "committer": i, "commits": commits, "num_rows": rows,
                "resolve": int(loon.Resolve.MERGE), "go_on_stdin": True}  # fmt: skip
        command = [sys.executable, "-m", "loon.suite.workloads", json.dumps(args)]
        procs.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    for p in procs:  # every process up with the engine loaded
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError(f"committer process exited with {p.wait()} before it was ready")
    start = time.perf_counter()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    lines = [p.stdout.readline() for p in procs]  # each prints its outcomes when its commits are done
    seconds = time.perf_counter() - start
    outcomes = [workloads.CommitOutcome(**o) for line in lines for o in json.loads(line)]
    for p in procs:
        p.stdin.close()
        if p.wait(timeout=60) != 0:
            raise RuntimeError(f"committer process failed with {p.returncode}")
    return outcomes, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--committers", type=int, default=16)
    parser.add_argument("--commits", type=int, default=3)
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--num-cpus", type=int, default=2, help="CPUs of the local Ray cluster")
    args = parser.parse_args()

    with emulators.start("moto") as emu:
        props = {**emu.properties(), **PROPS}
        ds = f"bench-{uuid.uuid4().hex[:8]}"
        outcomes, proc_seconds = run_processes(props, f"{ds}/processes", args.committers, args.commits, args.rows)
        proc_ok = len(workloads.check_committed(f"{ds}/processes", props, outcomes))
        with raycluster.cluster(num_cpus=args.num_cpus):
            race = ray_commits.run_cluster_race(f"{ds}/ray", props, args.committers, args.commits, args.rows,
                                                loon.Resolve.MERGE)  # fmt: skip
        ray_ok = len(workloads.check_committed(f"{ds}/ray", props, race.outcomes))
    total = args.committers * args.commits
    proc_rate, ray_rate = proc_ok / proc_seconds, ray_ok / race.seconds
    print(f"{args.committers} committers x {args.commits} commits of {args.rows} rows on moto (MERGE), checks pass")
    print(f"  local processes: {proc_ok:3d}/{total} committed in {proc_seconds:6.2f} s = {proc_rate:6.2f} commits/s")
    print(f"  Ray actors:      {ray_ok:3d}/{total} committed in {race.seconds:6.2f} s = {ray_rate:6.2f} commits/s")
    print(f"  Ray / processes: {ray_rate / proc_rate:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
