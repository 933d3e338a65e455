"""The Makefile's quiet set-up (tools/step.sh), `make lab`, and the suite's kernel spec."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STEP = REPO / "tools" / "step.sh"


def step(*args: str, verbose: bool = False) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, V="1" if verbose else "0")
    return subprocess.run([str(STEP), *args], capture_output=True, text=True, env=env, timeout=60)


def test_a_step_that_works_prints_one_line():
    proc = step("build engine", "bash", "-c", "for i in $(seq 100); do echo compiling $i; done")
    assert proc.returncode == 0
    assert proc.stdout.startswith("build engine ... ok (") and proc.stdout.count("\n") == 1
    assert "compiling" not in proc.stdout + proc.stderr


def test_a_step_that_fails_prints_its_output_and_exit_code():
    proc = step("build engine", "bash", "-c", "echo compiling a.cc; echo 'a.cc:3: error: boom' >&2; exit 7")
    assert proc.returncode == 7
    assert "build engine ... FAILED (exit 7)" in proc.stdout
    assert "compiling a.cc" in proc.stdout and "a.cc:3: error: boom" in proc.stdout


def test_verbose_steps_show_everything():
    proc = step("build engine", "bash", "-c", "echo compiling a.cc", verbose=True)
    assert proc.returncode == 0 and "compiling a.cc" in proc.stdout and "ok (" in proc.stdout


def test_make_lab_installs_jupyterlab_and_starts_it_on_the_notebooks():
    proc = subprocess.run(["make", "-n", "-W", "tools/lab_kernel.py", "lab"], cwd=REPO, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "pip install -q jupyterlab" in proc.stdout and "tools/lab_kernel.py" in proc.stdout
    assert "-m jupyter lab --notebook-dir=notebooks" in proc.stdout


def test_kernel_spec_rewrites_asserts_from_the_first_cell():
    spec = importlib.util.spec_from_file_location("runner_for_spec", REPO / "runner.py")
    runner = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = runner
    spec.loader.exec_module(runner)
    kernel = runner.kernel_spec("/venv/bin/python")
    assert kernel["argv"][:3] == ["/venv/bin/python", "-m", "ipykernel_launcher"]
    assert "--ext=loon.suite.cases" in kernel["argv"] and "{connection_file}" in kernel["argv"]
