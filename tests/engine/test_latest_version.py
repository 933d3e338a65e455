"""Finding the latest version without listing _metadata each time.

A process remembers the latest version it saw and later probes upward from it; what it remembers
must never be trusted blindly: versions committed by other processes are found, a remembered
version that disappeared (dataset removed and made again, versions rolled back) sends the engine
back to listing, and the manifest it builds on is the one on storage now.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

import loon
from loon import ColumnGroup, ColumnGroupFile, ColumnGroups

BASE = "ds"

CHILD = """
import json, sys
import pytest

import loon
from loon import ColumnGroup, ColumnGroupFile, ColumnGroups
args = json.loads(sys.argv[1])
for i in range(args["commits"]):
    files = [ColumnGroupFile(f"ds/_data/child{i}.parquet", 0, 3, {"file_size": "100"})]
    loon.commit_groups("ds", ColumnGroups([ColumnGroup(["id"], "parquet", files)]), args["props"])
"""


def groups(name: str, rows: int = 3) -> ColumnGroups:
    files = [ColumnGroupFile(f"{BASE}/_data/{name}.parquet", 0, rows, {"file_size": "100"})]
    return ColumnGroups([ColumnGroup(["id"], "parquet", files)])


def commit_elsewhere(props: loon.Properties, commits: int) -> None:
    """``commits`` versions committed by another process."""
    env = dict(os.environ)
    args = json.dumps({"props": dict(props), "commits": commits})
    done = subprocess.run([sys.executable, "-c", CHILD, args], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr


def total_rows(props: loon.Properties) -> int:
    return loon.open_manifest(BASE, props)[1].num_rows


def test_versions_committed_by_another_process_are_found(props, our_engine):
    for i in range(3):
        assert loon.commit_groups(BASE, groups(f"a{i}"), props) == i + 1
    assert loon.latest_version(BASE, props) == 3  # remembered from here on
    commit_elsewhere(props, 4)
    assert loon.latest_version(BASE, props) == 7
    assert total_rows(props) == 7 * 3
    # A commit here builds on version 7 (FAIL resolution would refuse a stale snapshot).
    assert loon.commit_groups(BASE, groups("b"), props) == 8
    assert total_rows(props) == 8 * 3


def test_removed_and_rolled_back_versions_send_us_back_to_listing(props, fs_root, our_engine):
    for i in range(5):
        loon.commit_groups(BASE, groups(f"a{i}"), props)
    assert loon.latest_version(BASE, props) == 5
    meta = fs_root / BASE / "_metadata"
    # Roll back two versions (as a quarantine does): the remembered version 5 is gone.
    for v in (5, 4):
        (meta / f"manifest-{v}.avro").unlink()
    assert loon.latest_version(BASE, props) == 3
    assert loon.commit_groups(BASE, groups("after-rollback"), props) == 4
    assert total_rows(props) == 4 * 3
    # Dataset removed and made again under the same path: starts from version 1.
    shutil.rmtree(fs_root / BASE)
    assert loon.latest_version(BASE, props) == 0
    assert loon.commit_groups(BASE, groups("fresh"), props) == 1
    commit_elsewhere(props, 2)
    assert loon.latest_version(BASE, props) == 3
    assert total_rows(props) == 3 * 3


def test_a_directory_named_like_the_next_version_is_not_a_version(props, fs_root, our_engine):
    """Listing ignores non-files; the probe must too."""
    loon.commit_groups(BASE, groups("a"), props)
    assert loon.latest_version(BASE, props) == 1
    (fs_root / BASE / "_metadata" / "manifest-2.avro").mkdir()
    assert loon.latest_version(BASE, props) == 1


def latest_in_fresh_process(props: loon.Properties) -> int:
    code = "import json, sys, loon; print(loon.latest_version('ds', json.loads(sys.argv[1])))"
    done = subprocess.run([sys.executable, "-c", code, json.dumps(dict(props))], capture_output=True, text=True,
                          env=dict(os.environ), timeout=60)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])


def test_warm_look_ups_probe_instead_of_listing(props, fs_root, our_engine):
    """How to tell a probe from a listing: a version file placed beyond a gap (which the protocol
    never produces) is seen by a listing only. A fresh process lists once and sees it; this one,
    which remembers version 3, probes 4 and stops there."""
    for i in range(3):
        loon.commit_groups(BASE, groups(f"a{i}"), props)
    assert loon.latest_version(BASE, props) == 3
    meta = fs_root / BASE / "_metadata"
    shutil.copy(meta / "manifest-3.avro", meta / "manifest-9.avro")
    assert latest_in_fresh_process(props) == 9
    assert loon.latest_version(BASE, props) == 3


def test_a_commit_builds_on_the_version_this_process_published_without_reading_it(props, fs_root, our_engine):
    """The version a process publishes is kept (metadata cache, keyed on path, size and mtime), so
    the next commit neither reads nor parses it: with version 3's bytes damaged on disk but its
    size and time kept, commits here still build on it; without the cache they fail to parse it."""
    for i in range(3):
        loon.commit_groups(BASE, groups(f"a{i}"), props)
    path = fs_root / BASE / "_metadata" / "manifest-3.avro"
    stat = path.stat()
    path.write_bytes(b"\0" * stat.st_size)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert loon.commit_groups(BASE, groups("b"), props) == 4
    assert total_rows(props) == 4 * 3
    uncached = props.merged({"reader.metadata_cache.enable": "false"})
    with pytest.raises(loon.LoonError) as damaged:
        loon.open_manifest(BASE, uncached, version=3)
    assert damaged.value.code == 3
