"""``runner.py --executor ray``: notebooks as Ray tasks on a local Ray cluster (2 CPUs), several backends.

The same two fixture notebooks (tests/notebooks/cluster: a pass, a skip on object stores, a deliberate
failure; appends and versions) on two backends (local disk and S3 on moto) through the local and the Ray
executor must give the same cases with the same statuses, backend by backend; and a Ray worker killed
while its notebook runs must give a report naming that notebook and backend, not a hung run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from live_output import LiveProcess

from loon.suite import report

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "tests" / "notebooks" / "cluster"
BACKENDS = ("local", "s3-emulator")


def runner_command(tmp_path: Path, output: str, *args: str) -> list[str]:
    return [sys.executable, str(REPO / "runner.py"), "--notebooks-dir", str(NOTEBOOKS), "--profile", "smoke",
            "--no-history", "--output", str(tmp_path / output), *args]  # fmt: skip


def start_runner(tmp_path: Path, output: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, LOON_TEST_ROOT=str(tmp_path / "root"))
    command = runner_command(tmp_path, output, *args)
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=REPO)


def finish(proc: subprocess.Popen, timeout: float = 240) -> str:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"runner did not finish within {timeout} s:\n{out}")
    return out


def statuses(report_dir: Path) -> dict[tuple[str, str], str]:
    return {key: case.status for key, case in report.read_results(report_dir).cases().items()}


def differences(tmp_path: Path, backend: str) -> str:
    """The cases whose status differs between the two runs, with their messages (what went wrong)."""
    local, ray = (report.read_results(tmp_path / run / backend).cases() for run in ("local", "ray"))
    lines = [f"{backend}: Ray and local differ:"]
    for key in sorted(set(local) | set(ray)):
        cases = {"local": local.get(key), "Ray": ray.get(key)}
        if len({case.status if case else None for case in cases.values()}) > 1:
            lines += [f"  {key} {run}: " + (f"{case.status}: {case.message}" if case else "missing")
                      for run, case in cases.items()]  # fmt: skip
    return "\n".join(lines)


@pytest.mark.timeout(400)
def test_ray_report_equals_local_case_for_case(ray_cluster, tmp_path):
    matrix = ["--categories", "storage,versions", "--backend", ",".join(BACKENDS)]
    local = start_runner(tmp_path, "local", *matrix, "--jobs", "2")
    ray = start_runner(tmp_path, "ray", *matrix, "--executor", "ray", "--ray-address", ray_cluster)
    local_out, ray_out = finish(local), finish(ray)
    assert local.returncode == 1, local_out  # the deliberate failure
    assert ray.returncode == 1, ray_out
    for backend in BACKENDS:
        want, got = statuses(tmp_path / "local" / backend), statuses(tmp_path / "ray" / backend)
        assert got == want, differences(tmp_path, backend) + f"\nRay run:\n{ray_out}\nlocal run:\n{local_out}"
    # Not vacuous: every status the fixtures produce is there, and the backends differ where they should.
    assert statuses(tmp_path / "ray" / "local")[("storage", "test_local_root")] == "pass"
    assert statuses(tmp_path / "ray" / "s3-emulator")[("storage", "test_local_root")] == "skip"
    assert set(statuses(tmp_path / "ray" / "s3-emulator").values()) == {"pass", "fail", "skip"}
    suites = ET.parse(tmp_path / "ray" / "junit.xml").getroot().findall("testsuite")
    expected = sorted(f"{b}.{c}" for b in BACKENDS for c in ("storage", "versions"))
    assert sorted(s.get("name") for s in suites) == expected
    index = (tmp_path / "ray" / "index.html").read_text()
    assert "executor <b>ray</b>" in index and all(f"{b}/index.html" in index for b in BACKENDS)


@pytest.mark.timeout(300)
def test_killed_ray_worker_names_the_lost_notebook(ray_cluster, tmp_path):
    env = dict(os.environ, LOON_TEST_ROOT=str(tmp_path / "root"))
    run = LiveProcess(runner_command(tmp_path, "out", "--categories", "sleeps,versions", "--backend", "local",
                                     "--executor", "ray", "--ray-address", ray_cluster), REPO, env)  # fmt: skip
    try:
        pid_file = tmp_path / "out" / "sleeps.worker.pid"
        deadline = time.monotonic() + 180
        while not (pid_file.is_file() and pid_file.read_text().strip()):
            if run.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the sleeping notebook never started:\n{run.finish(timeout=30)}")
            time.sleep(0.2)
        # The finished notebook's summary line is out while the other one still runs (it sleeps until killed).
        run.wait_for_line("versions ... PASS", 180)
        os.kill(int(pid_file.read_text()), signal.SIGKILL)  # the Ray worker running papermill
        out = run.finish(timeout=120)
    finally:
        run.kill()
    proc = run.proc
    assert proc.returncode == 3, out  # a notebook died
    notebooks = {nb["category"]: nb for nb in report.read_results(tmp_path / "out").notebooks}
    assert notebooks["versions"]["status"] == "PASS", out
    lost = notebooks["sleeps"]
    assert lost["crashed"] and lost["status"] == "ERROR", lost
    assert "'sleeps'" in lost["summary"] and "'local'" in lost["summary"], lost["summary"]
    assert "in test_sleeps (1 of 2 cases passed" in lost["summary"], lost["summary"]  # progress kept
    assert "notebooks died: sleeps" in out


def test_without_ray_the_executor_says_how_to_install_it(tmp_path):
    """Ray stays optional: ``--executor ray`` explains how to install it; the runner imports Ray only then."""
    blocker = tmp_path / "no-ray"
    blocker.mkdir()
    (blocker / "ray.py").write_text("raise ImportError('Ray hidden by the test')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(blocker), os.environ.get("PYTHONPATH")])))
    refused = subprocess.run(
        [sys.executable, str(REPO / "runner.py"), "--notebooks-dir", str(NOTEBOOKS), "--categories", "versions",
         "--executor", "ray", "--output", str(tmp_path / "ray"), "--no-history"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "Ray is not installed: pip install '.[distributed]'" in refused.stderr
    # The local executor's path (runner, executor, report) never imports Ray: make report works without it.
    code = "import sys; sys.path.insert(0, sys.argv[1]); import runner; assert 'ray' not in sys.modules, 'ray imported'"
    local = subprocess.run([sys.executable, "-c", code, str(REPO)], env=env, capture_output=True, text=True, timeout=60)
    assert local.returncode == 0, local.stderr
