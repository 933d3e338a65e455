"""The real notebooks of notebooks/ through runner.py on the ``smoke`` profile, and their seed coverage.

The fixture notebooks of tests/notebooks/ test the runner itself (test_runner.py); here the suite's own
notebooks must run clean end to end on the local backend, and every case name of the seed design must be
present: in the notebook source for every category, and in the JUnit XML for the categories that ran.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
from seed_cases import SEED_CASES

from loon.suite import junit

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
# Categories the runner leaves out unless named (see runner.EXPLICIT_ONLY).
EXPLICIT_ONLY = {"stress"}

pytestmark = pytest.mark.notebooks


def _notebook_categories() -> list[str]:
    return sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))


_CASE_DEF = re.compile(r"^\s*def (test_\w+)\(|skip_case\(\s*[\"'](test_\w+)[\"']", re.MULTILINE)


def _case_names_in_source(path: Path) -> set[str]:
    """Case names of a notebook's code cells: ``def test_...(`` or an explicit ``skip_case("test_...")``."""
    names = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            names.update(a or b for a, b in _CASE_DEF.findall(cell.source))
    return names


def test_every_seed_category_has_a_notebook():
    missing = [c for c in SEED_CASES if not (NOTEBOOKS / f"{c}.ipynb").is_file()]
    assert not missing, f"no notebook for seed categories {missing}"


@pytest.mark.parametrize("category", _notebook_categories())
def test_notebook_defines_every_seed_case(category):
    defined = _case_names_in_source(NOTEBOOKS / f"{category}.ipynb")
    missing = [name for name in SEED_CASES.get(category, ()) if name not in defined]
    assert not missing, f"{category}.ipynb lacks seed cases {missing}"


@pytest.fixture(scope="module")
def smoke_report(tmp_path_factory):
    """One runner run over the default categories (all but stress), two notebooks at a time."""
    output = tmp_path_factory.mktemp("smoke-report")
    env = dict(os.environ)
    env.pop("TEST_CONFIG_FILE", None)
    proc = subprocess.run(
        [sys.executable, str(REPO / "runner.py"), "--backend", "local", "--profile", "smoke", "--jobs", "2"]
        + ["--output", str(output)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return proc, output


def failure_report(proc: subprocess.CompletedProcess[str], output: Path) -> str:
    """What a person needs when the smoke run fails: each failing case with its message, and where the
    report is (index.html, junit.xml, the executed notebooks)."""
    lines = [f"runner.py exited {proc.returncode}; report: {output / 'index.html'}"]
    results = output / "results.json"
    if results.is_file():
        for nb in json.loads(results.read_text())["notebooks"]:
            if nb.get("stopped") and nb.get("crashed"):
                lines.append(f"{nb['category']}: notebook stopped: {nb['stopped']}")
            for case in nb["cases"]:
                if case["status"] in ("fail", "error"):
                    message = "\n    ".join(case["message"].splitlines()[:8])
                    lines.append(f"{case['status'].upper()} {nb['category']}::{case['name']}: {message}")
    else:
        lines.append("no results.json: " + (proc.stderr[-3000:] or proc.stdout[-3000:]))
    return "\n".join(lines)


def test_smoke_run_passes(smoke_report):
    proc, output = smoke_report
    assert proc.returncode == 0, failure_report(proc, output)
    assert (output / "index.html").is_file() and (output / "junit.xml").is_file()
    for category in _notebook_categories():
        ran = category not in EXPLICIT_ONLY
        assert (output / f"{category}.ipynb").is_file() == ran, category
        assert (output / f"{category}.html").is_file() == ran, category


def test_smoke_junit_names_every_seed_case(smoke_report):
    _, output = smoke_report
    junit.validate(output / "junit.xml")
    root = ET.parse(output / "junit.xml").getroot()
    assert root.get("failures") == "0" and root.get("errors") == "0", failure_report(_, output)
    by_category: dict[str, dict[str, ET.Element]] = {}
    for case in root.iter("testcase"):
        # classname is <backend>.<category>
        by_category.setdefault(case.get("classname").split(".", 1)[1], {})[case.get("name")] = case
    for category in _notebook_categories():
        if category in EXPLICIT_ONLY:
            continue
        cases = by_category.get(category, {})
        missing = [name for name in SEED_CASES.get(category, ()) if name not in cases]
        assert not missing, f"{category}: seed cases missing from junit.xml: {missing}"
        for name, element in cases.items():
            skipped = element.find("skipped")
            # A skip must tell the user what to do about it.
            assert skipped is None or len(skipped.get("message", "")) > 10, f"{category}.{name}: skip without reason"


def test_smoke_report_page_lists_cases_and_plots(smoke_report):
    _, output = smoke_report
    page = (output / "index.html").read_text()
    for category in _notebook_categories():
        if category in EXPLICIT_ONLY:
            continue
        assert category in page
        for name in SEED_CASES.get(category, ())[:3]:
            assert name in page, f"{category}.{name} not on the summary page"
    assert list((output / "plots").glob("*.png")), "no throughput plot in the report"


def test_failure_report_lists_failing_cases_and_the_report(tmp_path):
    """What test_smoke_run_passes says when the smoke run fails (checked here on a made-up report)."""
    rolling = "AssertionError: assert 3 == 4\n +  where 3 = len(x)"
    died = "DeadKernelError: Kernel died in test_crash"
    results = {
        "notebooks": [
            {"category": "write_read", "stopped": None, "crashed": False, "cases": [
                {"name": "test_ok", "status": "pass", "message": ""},
                {"name": "test_rolling", "status": "fail", "message": rolling},
            ]},
            {"category": "recovery", "stopped": died, "crashed": True, "cases": [
                {"name": "test_crash", "status": "error", "message": "DeadKernelError: Kernel died"},
            ]},
        ]
    }  # fmt: skip
    (tmp_path / "results.json").write_text(json.dumps(results))
    proc = subprocess.CompletedProcess([], 3, "", "")
    text = failure_report(proc, tmp_path)
    assert f"runner.py exited 3; report: {tmp_path / 'index.html'}" in text
    assert "FAIL write_read::test_rolling: AssertionError: assert 3 == 4\n     +  where 3 = len(x)" in text
    assert "recovery: notebook stopped: DeadKernelError: Kernel died in test_crash" in text
    assert "ERROR recovery::test_crash: DeadKernelError: Kernel died" in text
    assert "test_ok" not in text


# ---- other backends -------------------------------------------------------------------------


def _run(output: Path, backend: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``runner.py --backend <backend> --profile smoke --jobs 2 <args>`` writing to ``output``."""
    env = dict(os.environ if env is None else env)
    env.pop("TEST_CONFIG_FILE", None)
    return subprocess.run(
        [sys.executable, str(REPO / "runner.py"), "--backend", backend, "--profile", "smoke", "--jobs", "2"]
        + ["--output", str(output), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _junit_cases(output: Path) -> list[ET.Element]:
    return list(ET.parse(output / "junit.xml").getroot().iter("testcase"))


def test_manifest_notebook_passes_on_the_s3_emulator(tmp_path):
    """A whole notebook (writes, reads, commits of many versions) against moto, started by the runner."""
    pytest.importorskip("moto.server", reason="moto[server] is not installed (make installs it)")
    proc = _run(tmp_path, "s3-emulator", "--categories", "manifest")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "backend s3-emulator" in proc.stdout
    cases = _junit_cases(tmp_path)
    names = {case.get("name") for case in cases}
    assert set(SEED_CASES["manifest"]) <= names, names
    not_passed = [case.get("name") for case in cases if len(case)]  # a child element: failure/error/skipped
    assert not not_passed, f"cases that did not pass on the S3 emulator: {not_passed}"


CLOUD_CREDENTIALS = {"aws": ["AWS_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_BUCKET_NAME", "AWS_REGION"]}


def test_cloud_backend_without_credentials_skips_every_case(tmp_path):
    """``runner.py --backend aws`` with no credentials: every case of every notebook is skipped naming the
    unset variables, no notebook dies, exit 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = _run(tmp_path, "aws", env=env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    cases = _junit_cases(tmp_path)
    ran = {p.stem for p in tmp_path.glob("*.ipynb")}
    assert ran == set(_notebook_categories()) - EXPLICIT_ONLY, ran
    assert len(cases) >= sum(len(SEED_CASES.get(c, ())) for c in ran)
    for case in cases:
        skipped = case.find("skipped")
        assert skipped is not None, f"{case.get('classname')}.{case.get('name')} was not skipped"
        message = skipped.get("message", "")
        assert all(name in message for name in CLOUD_CREDENTIALS["aws"]), message
