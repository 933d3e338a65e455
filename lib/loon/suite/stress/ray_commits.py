"""Cluster-wide commit races: N committers as Ray actors spread over the cluster's nodes, one dataset.

Two committers on different hosts racing for one version on one bucket cannot happen inside one process
tree; here each committer is a Ray actor (its own worker process) placed with Ray's ``SPREAD`` strategy,
so on a multi-node cluster they land on different hosts. Every committer runs
``workloads.run_committer`` (rows with ids unique to it, one transaction per commit) against the same
dataset on the configured backend and records what each commit did; the driver gathers the outcomes
and checks them with ``workloads.check_committed`` — the same exactly-once and contiguous-versions
checks as the multi-process test. The storage must be reachable from every node: an object-store
emulator on a local cluster, a real bucket on a real one.

The race starts only once every actor is up with the engine loaded (``ready``), then all ``run`` calls
are sent at once, so start-up cost (a Python process each) is not part of the measured time.
"""

from __future__ import annotations

import os
import socket
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...transaction import Resolve
from .. import raycluster, workloads

__all__ = ["ClusterRace", "run_cluster_race"]


@dataclass
class ClusterRace:
    """What a cluster race did: every commit's outcome, the wall time and where committers ran."""

    outcomes: list[workloads.CommitOutcome]
    seconds: float
    """From sending the ``run`` calls to the last committer's outcome (driver clock)."""
    placement: dict[str, int] = field(default_factory=dict)
    """Node (hostname and Ray node id prefix) -> committers on it."""

    @property
    def committed(self) -> int:
        return sum(o.ok for o in self.outcomes)

    @property
    def commits_per_second(self) -> float:
        return self.committed / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        nodes = ", ".join(f"{n}: {c}" for n, c in sorted(self.placement.items()))
        return (
            f"{self.committed} of {len(self.outcomes)} commits in {self.seconds:.2f} s "
            f"({self.commits_per_second:.1f} commits/s) from {sum(self.placement.values())} committers on "
            f"{len(self.placement)} node(s) [{nodes}]"
        )


class _Committer:
    """One committer (a Ray actor: a worker process of its own)."""

    def ready(self) -> str:
        """Loads the engine; returns where this actor runs."""
        import ray

        import loon

        loon.library_info()
        return f"{socket.gethostname()}/{ray.get_runtime_context().get_node_id()[:8]} pid {os.getpid()}"

    def run(self, base_path: str, properties: dict[str, Any], committer: int, commits: int, num_rows: int,
            resolve: int, retry_limit: int, attempts: int) -> list[dict[str, Any]]:  # fmt: skip
        outcomes = workloads.run_committer(
            base_path, properties, committer, commits, num_rows, Resolve(resolve), retry_limit, attempts
        )
        return [o.to_dict() for o in outcomes]


def run_cluster_race(
    base_path: str,
    properties: Mapping[str, Any],
    committers: int,
    commits: int = 3,
    num_rows: int = 20,
    resolve: Resolve | int = Resolve.MERGE,
    retry_limit: int = 1,
    attempts: int = 1,
    timeout: float = 600.0,
) -> ClusterRace:
    """Runs the race on the Ray cluster this process is connected to (``raycluster.cluster``).

    Committer ``i`` makes ``commits`` appends of ``num_rows`` rows (``workloads.append_rows``). Actors
    take no CPU slot (they mostly wait on storage), so all committers run at once even on a small
    cluster. Outcomes are not checked here: pass them to ``workloads.check_committed``.
    """
    ray = raycluster.import_ray()
    actor_class = ray.remote(num_cpus=0, max_restarts=0)(_Committer)
    actors = [actor_class.options(scheduling_strategy="SPREAD").remote() for _ in range(committers)]
    try:
        where = ray.get([a.ready.remote() for a in actors], timeout=timeout)
        placement = Counter(w.split(" pid ")[0] for w in where)
        props = dict(properties)
        start = time.perf_counter()
        refs = [
            a.run.remote(base_path, props, i, commits, num_rows, int(resolve), retry_limit, attempts)
            for i, a in enumerate(actors)
        ]
        results = ray.get(refs, timeout=timeout)
        seconds = time.perf_counter() - start
    finally:
        for a in actors:
            ray.kill(a)
    outcomes = [workloads.CommitOutcome(**o) for r in results for o in r]
    return ClusterRace(outcomes, seconds, dict(placement))
