"""runner.py when things go wrong: a kernel killed mid-case, Ctrl-C mid-run, -k/-x/--lf/--keep-data, an
output directory that cannot be written, stale files of an earlier report.

Fixture notebooks: tests/notebooks/trouble/ (``dies`` kills its own kernel in ``test_kernel_dies``,
``keeps_data`` fails with a dataset on local storage, ``sleeps`` sleeps in ``test_sleeps`` until stopped)
and tests/notebooks/ (``passing``, ``failing``, ``broken``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest
from live_output import LiveProcess

from loon.suite import junit

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "notebooks"
TROUBLE = FIXTURES / "trouble"


def runner_cmd(*args: str) -> list[str]:
    return [sys.executable, str(REPO / "runner.py"), "--profile", "smoke", "--no-history", *args]


def run_runner(*args: str, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.pop("TEST_CONFIG_FILE", None)
    full_env.update(env or {})
    return subprocess.run(runner_cmd(*args), cwd=REPO, env=full_env, capture_output=True, text=True, timeout=600)


def junit_cases(output: Path) -> dict[str, ET.Element]:
    root = ET.parse(output / "junit.xml").getroot()
    return {c.get("name"): c for c in root.iter("testcase")}


def results(output: Path) -> dict[str, dict]:
    data = json.loads((output / "results.json").read_text())
    return {c["name"]: c for nb in data["notebooks"] for c in nb["cases"]}


@pytest.fixture(scope="module")
def trouble_run(tmp_path_factory):
    """``dies`` (kernel killed mid-case) and ``keeps_data`` (fails with a dataset) in one run, --keep-data."""
    base = tmp_path_factory.mktemp("trouble")
    output, root = base / "report", base / "storage"
    proc = run_runner("--notebooks-dir", str(TROUBLE), "--categories", "dies,keeps_data", "--keep-data",
                      "--jobs", "2", "--output", str(output), env={"LOON_TEST_ROOT": str(root)})  # fmt: skip
    return proc, output, root


def test_a_killed_kernel_names_the_running_case_and_the_cases_that_never_ran(trouble_run):
    proc, output, _ = trouble_run
    assert proc.returncode == 3, proc.stdout + proc.stderr  # a kernel died (beats keeps_data's failure)
    assert "dies ... ERROR notebook died: DeadKernelError: Kernel died in test_kernel_dies" in proc.stdout
    junit.validate(output / "junit.xml")
    cases = junit_cases(output)
    dies = {"test_before_the_crash", "test_kernel_dies", "test_never_reached", "test_never_reached_skip"}
    assert dies <= set(cases)
    assert cases["test_before_the_crash"].find("error") is None
    running = cases["test_kernel_dies"].find("error")
    assert running.get("message") == "DeadKernelError: Kernel died (while this case was running)"
    for name in ["test_never_reached", "test_never_reached_skip"]:
        error = cases[name].find("error")
        assert error.get("type") == "NotRun", name
        assert "DeadKernelError: Kernel died in test_kernel_dies" in error.get("message")
    page = (output / "index.html").read_text()
    assert "test_kernel_dies" in page and "while this case was running" in page
    # The pseudo-case is not added when a case took the blame.
    assert "dies::notebook" not in cases


def test_keep_data_keeps_a_failing_case_dataset_and_prints_it(trouble_run):
    proc, output, root = trouble_run
    kept = list((root / "integration-tests" / "keeps_data").glob("test_writes_then_fails-*"))
    assert len(kept) == 1 and (kept[0] / "evidence.txt").read_text() == "written before the failure"
    assert f"dataset kept: {kept[0]}" in proc.stdout
    # The passing case's dataset is removed as always.
    assert not list((root / "integration-tests" / "keeps_data").glob("test_passes_with_data-*"))
    assert results(output)["test_writes_then_fails"]["data"] == [str(kept[0])]
    assert str(kept[0]) in (output / "index.html").read_text()
    assert f"dataset kept: {kept[0]}" in junit_cases(output)["test_writes_then_fails"].find("system-out").text


def test_rewritten_assert_reaches_console_cell_page_and_junit(trouble_run):
    """A failing assert without a message carries the compared values everywhere it is reported."""
    proc, output, _ = trouble_run
    values = "assert ['evidence.txt'] == ['evidence.txt', 'missing.txt']"
    assert f"FAIL test_writes_then_fails: AssertionError: {values}" in proc.stdout
    nb = nbformat.read(output / "keeps_data.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "def test_writes_then_fails" in c.source)
    text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs)
    assert f"FAIL test_writes_then_fails: AssertionError: {values}" in text
    assert values.replace("'", "&#39;") in (output / "index.html").read_text()
    failure = junit_cases(output)["test_writes_then_fails"].find("failure")
    assert failure.get("message").startswith(f"AssertionError: {values}")


def test_a_timed_out_cell_is_an_error_of_its_case(tmp_path):
    proc = run_runner("--notebooks-dir", str(TROUBLE), "--categories", "sleeps", "--timeout", "3",
                      "--output", str(tmp_path))  # fmt: skip
    assert proc.returncode == 3, proc.stdout + proc.stderr
    found = results(tmp_path)
    assert found["test_quick"]["status"] == "pass"
    assert found["test_sleeps"]["status"] == "error"
    assert (
        "timed out" in found["test_sleeps"]["message"]
        and "while this case was running" in found["test_sleeps"]["message"]
    )
    assert found["test_after_sleep"]["status"] == "error" and found["test_after_sleep"]["message"].startswith("not run")


def _wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_stops_the_run_and_still_writes_index_and_junit(tmp_path):
    env = dict(os.environ)
    env.pop("TEST_CONFIG_FILE", None)
    cmd = runner_cmd("--notebooks-dir", str(TROUBLE), "--categories", "keeps_data,sleeps,dies",
                     "--jobs", "1", "--output", str(tmp_path))  # fmt: skip
    run = LiveProcess(cmd, REPO, env)
    try:
        progress = tmp_path / "progress" / "sleeps.jsonl"
        _wait_for(lambda: '"case": "test_sleeps"' in (progress.read_text() if progress.exists() else ""),
                  120, "test_sleeps to start")  # fmt: skip
        _wait_for(lambda: (tmp_path / "sleeps.pid").exists(), 30, "the kernel's pid")
        kernel_pid = int((tmp_path / "sleeps.pid").read_text())
        # The finished notebook's summary line is out while the next one still runs (it sleeps until stopped).
        run.wait_for_line("keeps_data ... FAIL", 60)
        run.proc.send_signal(signal.SIGINT)
        output = run.finish(timeout=90)
    finally:
        run.kill()
    proc = run.proc
    assert proc.returncode == 130, output
    assert "Traceback" not in output  # no pages of tracebacks
    assert "run interrupted (Ctrl-C)" in output
    assert (tmp_path / "index.html").is_file() and (tmp_path / "junit.xml").is_file()
    junit.validate(tmp_path / "junit.xml")
    cases = junit_cases(tmp_path)
    # The notebook that finished before, and what finished of the interrupted one.
    assert cases["test_writes_then_fails"].find("failure") is not None
    assert cases["test_quick"].find("skipped") is None and cases["test_quick"].find("failure") is None
    assert "interrupted" in cases["test_sleeps"].find("skipped").get("message")
    assert "interrupted" in cases["test_after_sleep"].find("skipped").get("message")
    # The queued notebook never started: not in JUnit, listed as cancelled on the page.
    assert "test_before_the_crash" not in cases
    page = (tmp_path / "index.html").read_text()
    assert "CANCELLED" in page and "dies" in page
    # The interrupted notebook's kernel was shut down, not left running.
    _wait_for(lambda: not _alive(kernel_pid), 15, f"kernel {kernel_pid} to stop")


def test_keyword_selects_cases_across_notebooks(tmp_path):
    proc = run_runner("--notebooks-dir", str(FIXTURES), "-k", "passes or parquet", "--output", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # broken has no case matching: it is not even started.
    assert "2 notebooks" in proc.stdout and "broken" not in proc.stdout
    found = results(tmp_path)
    ran = {name for name, c in found.items() if c["status"] != "deselected"}
    assert ran == {"test_passes_before", "test_passes_after", "test_parquet_round_trip"}
    assert found["test_deliberately_fails"]["status"] == "deselected"
    assert found["test_skipped_explicitly"]["status"] == "deselected"
    assert "3 passed, 0 failed, 0 skipped, 5 deselected" in proc.stdout
    assert set(junit_cases(tmp_path)) == ran  # deselected cases are left out of JUnit, as pytest does
    assert "DESELECTED" in (tmp_path / "index.html").read_text()


def test_bad_keyword_is_a_usage_error(tmp_path):
    proc = run_runner("--notebooks-dir", str(FIXTURES), "-k", "passes and (", "--output", str(tmp_path))
    assert proc.returncode == 2 and "bad -k expression" in proc.stderr
    proc = run_runner("--notebooks-dir", str(FIXTURES), "-k", "nothing_like_this", "--output", str(tmp_path))
    assert proc.returncode == 2 and "matches no case" in proc.stderr


def test_exitfirst_stops_at_the_first_failure_and_lf_reruns_it(tmp_path):
    proc = run_runner("--notebooks-dir", str(FIXTURES), "--categories", "failing,passing", "-x",
                      "--jobs", "1", "--output", str(tmp_path))  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "stopped after the first failure (-x): failing::test_deliberately_fails" in proc.stdout
    found = results(tmp_path)
    assert found["test_deliberately_fails"]["status"] == "fail"
    assert found["test_passes_before"]["status"] == "pass"
    # Later cases of that notebook did not run; the next notebook never started.
    for name in ["test_skipped_inside", "test_skipped_explicitly", "test_passes_after"]:
        assert found[name]["status"] == "skip" and "-x" in found[name]["message"], name
    assert "test_config_is_local" not in found
    assert not (tmp_path / "passing.ipynb").exists()

    # --lf on that report (its own output directory by default): only the failed case runs.
    proc = run_runner("--notebooks-dir", str(FIXTURES), "--categories", "failing,passing", "--lf",
                      "--output", str(tmp_path))  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"--lf: 1 failed cases of {tmp_path}" in proc.stdout
    found = results(tmp_path)
    assert {n for n, c in found.items() if c["status"] != "deselected"} == {"test_deliberately_fails"}
    assert not (tmp_path / "passing.ipynb").exists()  # no failed case there: not started
    proc = run_runner("--notebooks-dir", str(FIXTURES), "--lf", str(tmp_path / "nothing"), "--output", str(tmp_path))
    assert proc.returncode == 2 and "no earlier report" in proc.stderr


def test_unwritable_output_is_exit_2_with_a_clear_message(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    proc = run_runner("--notebooks-dir", str(FIXTURES), "--categories", "passing", "--output", str(blocker / "report"))
    assert proc.returncode == 2
    assert f"cannot write the report directory {blocker / 'report'}" in proc.stderr
    assert "Traceback" not in proc.stderr
    # A directory with someone's files is not emptied.
    other = tmp_path / "home"
    other.mkdir()
    (other / "thesis.tex").write_text("precious")
    proc = run_runner("--notebooks-dir", str(FIXTURES), "--categories", "passing", "--output", str(other))
    assert proc.returncode == 2 and "refusing to empty it" in proc.stderr
    assert (other / "thesis.tex").read_text() == "precious"


def test_stale_files_never_mix_into_a_new_report(tmp_path):
    output, root = tmp_path / "report", tmp_path / "storage"
    proc = run_runner("--notebooks-dir", str(FIXTURES), "--categories", "passing", "--output", str(output))
    assert proc.returncode == 0
    assert (output / "passing.ipynb").exists() and (output / "plots" / "passing.png").exists()
    proc = run_runner("--notebooks-dir", str(TROUBLE), "--categories", "keeps_data", "--output", str(output),
                      env={"LOON_TEST_ROOT": str(root)})  # fmt: skip
    assert proc.returncode == 1
    assert not (output / "passing.ipynb").exists() and not (output / "plots").exists()
    page = (output / "index.html").read_text()
    assert "test_parquet_round_trip" not in page and "test_writes_then_fails" in page
    # Without --keep-data the failing case's dataset is removed like any other.
    assert not list((root / "integration-tests" / "keeps_data").glob("*"))
    assert "dataset kept" not in proc.stdout


def test_help_documents_exit_codes():
    proc = subprocess.run([sys.executable, str(REPO / "runner.py"), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "3 a notebook died" in proc.stdout and "130 interrupted" in proc.stdout and "1 a case failed" in proc.stdout


@pytest.mark.parametrize("flag", ["--keep-data", "-x"])
def test_flags_are_listed_in_help(flag):
    proc = subprocess.run([sys.executable, str(REPO / "runner.py"), "--help"], capture_output=True, text=True)
    assert flag in proc.stdout
