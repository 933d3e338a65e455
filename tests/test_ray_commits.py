"""The cluster-wide commit race (loon.suite.stress.ray_commits) on a local Ray cluster and moto (S3).

Sixteen committers, each a Ray actor in its own worker process, append to one dataset on the S3
emulator at once; every commit that reported success must be in the dataset exactly once, versions
contiguous, nothing else stored (``workloads.check_committed``, shared with the multi-process test).
"""

from __future__ import annotations

import uuid

import pytest

import loon
from loon.suite import workloads
from loon.suite.stress import ray_commits

COMMITTERS = 16
COMMITS = 3


@pytest.mark.timeout(300)
def test_cluster_race_on_s3_commits_exactly_its_successes(ray_cluster, emulator_pool):
    emu = emulator_pool("moto")
    props = loon.Properties(emu.properties()).merged({"transaction.commit.num-retries": "10"})
    ds = f"t-{uuid.uuid4().hex[:10]}/ds"
    race = ray_commits.run_cluster_race(ds, props, COMMITTERS, COMMITS, num_rows=20, resolve=loon.Resolve.MERGE)
    print(race.summary())
    assert len(race.outcomes) == COMMITTERS * COMMITS
    assert sorted({o.committer for o in race.outcomes}) == list(range(COMMITTERS))
    assert sum(race.placement.values()) == COMMITTERS
    ok = workloads.check_committed(ds, props, race.outcomes)
    assert len(ok) >= COMMITTERS, f"only {len(ok)} of {len(race.outcomes)} commits succeeded"


def test_check_committed_catches_a_lost_and_a_phantom_commit(props):
    """The shared checker fails when a reported success is missing or a reported failure was stored."""
    outcomes = [workloads.append_rows("ds", props, i, 0, 5) for i in range(3)]
    assert [o.version for o in outcomes] == [1, 2, 3]
    workloads.check_committed("ds", props, outcomes)
    lost = outcomes + [workloads.CommitOutcome(7, 0, workloads.id_base(7, 0), 5, version=4)]
    with pytest.raises(AssertionError, match="latest version is 3"):
        workloads.check_committed("ds", props, lost)
    phantom = outcomes[:2] + [workloads.CommitOutcome(2, 0, outcomes[2].first_id, 5, error_code=112)]
    with pytest.raises(AssertionError, match="latest version is 3"):
        workloads.check_committed("ds", props, phantom)
    renumbered = outcomes[:2] + [workloads.CommitOutcome(2, 0, outcomes[2].first_id, 5, version=5)]
    with pytest.raises(AssertionError, match="not 1..3"):
        workloads.check_committed("ds", props, renumbered)
    workloads.append_rows("ds", props, 0, 0, 5)  # the same rows again: duplicated ids
    again = outcomes + [workloads.CommitOutcome(9, 0, workloads.id_base(9, 0), 5, version=4)]
    with pytest.raises(AssertionError, match="stored more than once"):
        workloads.check_committed("ds", props, again)
