"""loon.suite.crash_child: writers SIGKILLed, starved of disk or denied permissions never lose a commit.

The issue's bar: the SIGKILL cases run at least 20 times in a row without a lost or partial commit.
"""

from __future__ import annotations

import os

import pytest

import loon
from loon import suite
from loon.suite import checks, data
from loon.suite import crash_child as child

KILLS = 20


def test_twenty_sigkills_in_a_row_lose_nothing(props):
    results = child.kill_loop("ds", props, rows=20, iterations=KILLS, seed=7)
    assert [r.iteration for r in results] == list(range(KILLS))
    modes = {r.mode for r in results}
    assert "write" in modes and "loop" in modes
    if loon.fault_injection_enabled():
        assert "commit" in modes
    versions = [r.version for r in results]
    assert versions == sorted(versions), "a later child saw an older version"
    final = versions[-1]
    assert loon.latest_version("ds", props) == final
    checks.assert_tables_equal(loon.read_dataset("ds", data.SCHEMA, props), data.make_table(final * 20))
    assert suite.validate("ds", props).ok


def test_kill_during_write_leaves_only_orphans(props):
    loon.commit_groups("ds", loon.write_dataset("ds", data.make_table(30), props), props)
    run = child.run_and_kill("write", "ds", props, rows=30, kill_on="flushed", after=2)
    assert run.killed and run.start_version == 1 and run.last("flushed")["batches"] >= 2
    assert child.check_recovered("ds", props, 30, run) == 1
    assert len(child.unreferenced_files("ds", props)) == 1


def test_check_recovered_detects_a_lost_commit(props):
    run = child.run_child("diskfull-commit", "ds", props, rows=10, limit=1 << 20)
    assert run.last_committed == 1
    loon.commit_groups("ds", loon.write_dataset("ds", data.make_table(10, offset=10), props), props)
    run.events.pop()  # pretend the child never reported its commit and version 2 were its own
    run.events.append({"event": "committed", "version": 3})
    with pytest.raises(AssertionError, match="latest version 2"):
        child.check_recovered("ds", props, 10, run)


def test_run_and_kill_fails_when_the_child_ends_first(props):
    with pytest.raises(AssertionError, match="ended before the kill"):
        child.run_and_kill("diskfull-commit", "ds", props, rows=5, kill_on="never-sent", timeout=20)


def test_disk_full_during_write_reports_efbig(props):
    loon.commit_groups("ds", loon.write_dataset("ds", data.make_table(10), props), props)
    run = child.run_child("diskfull-write", "ds", props, rows=20_000, limit=32 << 10)
    error = run.error
    assert (error["class"], error["code"]) == ("ArrowError", 3) and "File too large" in error["message"], error
    assert loon.latest_version("ds", props) == 1 and suite.validate("ds", props).ok


def test_disk_full_during_commit_publishes_nothing(props, fs_root):
    loon.commit_groups("ds", loon.write_dataset("ds", data.make_table(10), props), props)
    run = child.run_child("diskfull-commit", "ds", props, rows=10, limit=128)
    error = run.error
    assert (error["stage"], error["code"]) == ("commit", 4) and "File too large" in error["message"], error
    assert sorted(p.name for p in (fs_root / "ds" / "_metadata").iterdir()) == ["manifest-1.avro"]
    assert suite.validate("ds", props).ok


def test_permission_child_obeys_permission_bits(props, fs_root):
    loon.commit_groups("ds", loon.write_dataset("ds", data.make_table(10), props), props)
    meta, victim = fs_root / "ds" / "_metadata", next((fs_root / "ds" / "_data").iterdir())
    os.chmod(meta, 0o500)
    os.chmod(victim, 0o000)
    try:
        run = child.run_child("permission", "ds", props, rows=10, unprivileged=True)
    finally:
        os.chmod(meta, 0o755)
        os.chmod(victim, 0o644)
    commit, read = run.all("error")
    assert commit["code"] == 4 and "Permission denied" in commit["message"], commit
    assert read["code"] == 3 and victim.name in read["message"] and "Permission denied" in read["message"], read
    assert loon.latest_version("ds", props) == 1


def test_unprivileged_prefix():
    prefix = child.unprivileged_prefix()
    if os.geteuid() == 0:
        assert prefix[0].endswith("setpriv") and "-dac_override,-dac_read_search" in prefix
    else:
        assert prefix == []
