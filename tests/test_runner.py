"""runner.py and loon.suite.report end to end over the fixture notebooks in tests/notebooks/.

Fixtures: ``passing`` (all cases pass, emits throughput and engine bundles), ``failing`` (one
deliberately failing case and two skips) and ``broken`` (an exception outside any case). The runs that
go wrong on purpose (dead kernel, Ctrl-C, kept data) are in test_runner_trouble.py, history and compare
in test_history.py.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

from loon.suite import junit, plots, report
from loon.suite.cases import CASE_MIME, CaseResult
from loon.suite.throughput import ThroughputRecorder, format_table

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "notebooks"


def run_runner(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("TEST_CONFIG_FILE", None)
    return subprocess.run(
        [sys.executable, str(REPO / "runner.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """All fixture notebooks, two at a time."""
    output = tmp_path_factory.mktemp("report")
    proc = run_runner("--notebooks-dir", str(FIXTURES), "--profile", "smoke", "--jobs", "2", "--output", str(output))
    return proc, output


def test_run_with_a_dead_notebook_exits_3_and_reports_everything(full_run):
    proc, output = full_run
    assert proc.returncode == 3, proc.stdout + proc.stderr  # broken died (exit 3 beats a failed case's 1)
    assert "failing ... FAIL 1 of 5 cases failed: test_deliberately_fails, 2 skipped" in proc.stdout
    assert "passing ... PASS 3 of 3 cases" in proc.stdout
    assert "broken ... ERROR notebook died: In [5]: ZeroDivisionError: division by zero" in proc.stdout
    assert f"kernel log: {output / 'logs' / 'broken.log'}" in proc.stdout
    # Live progress: each case as it ends, before its notebook's line.
    assert proc.stdout.index("FAIL test_deliberately_fails: AssertionError") < proc.stdout.index("failing ... FAIL")
    assert "6 passed, 1 failed, 2 errors, 2 skipped; notebooks died: broken" in proc.stdout
    assert f"report: {output / 'index.html'}" in proc.stdout
    for category in ["passing", "failing", "broken"]:
        assert (output / f"{category}.ipynb").is_file()
        assert (output / f"{category}.html").is_file()
    assert (output / "plots" / "passing.png").is_file()


def test_index_html(full_run):
    _, output = full_run
    page = (output / "index.html").read_text()
    failures = page[page.index('id="failures"') : page.index("<h2>Notebooks</h2>")]
    assert "test_deliberately_fails" in failures
    assert "deliberate failure: 2 != 3\nassert 2 == 3" in failures  # pytest's rewritten assert
    assert "broken::notebook" in failures and "ZeroDivisionError" in failures
    assert "test_never_runs" in failures and "not run: the notebook stopped earlier" in failures
    assert "test_passes_before" not in failures
    # The failing cell is one click away: an anchor into the notebook's HTML that exists there.
    link = page[page.index('href="failing.html#cell-id=') :].split('"')[1]
    anchor = link.split("#", 1)[1]
    assert f'id="{anchor}"' in (output / "failing.html").read_text()
    assert "fixture notebook, no engine" in page  # engine bundle in the header
    assert "parquet_write" in page and "data:image/png;base64," in page  # throughput table and plot
    assert "<script" not in page


def test_junit_xml(full_run):
    _, output = full_run
    junit.validate(output / "junit.xml")  # the Jenkins xUnit schema CI tools read
    root = ET.parse(output / "junit.xml").getroot()
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert set(suites) == {"local.passing", "local.failing", "local.broken"}
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    failed = cases[("local.failing", "test_deliberately_fails")].find("failure")
    assert failed.get("message") == "AssertionError: deliberate failure: 2 != 3\nassert 2 == 3"
    assert failed.get("type") == "AssertionError" and "Traceback" in failed.text
    assert cases[("local.failing", "test_skipped_inside")].find("skipped") is not None
    assert cases[("local.failing", "test_skipped_explicitly")].find("skipped").get("message")
    assert cases[("local.failing", "test_passes_after")].find("failure") is None  # later cells still ran
    died = cases[("local.broken", "broken::notebook")].find("error")
    assert "ZeroDivisionError" in died.get("message") and died.get("type") == "ZeroDivisionError"
    never = cases[("local.broken", "test_never_runs")].find("error")  # never dropped: an error
    assert never.get("type") == "NotRun" and "ZeroDivisionError" in never.get("message")
    assert suites["local.failing"].get("failures") == "1" and suites["local.failing"].get("skipped") == "2"
    assert suites["local.failing"].get("errors") == "0" and suites["local.broken"].get("errors") == "2"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("11", "1", "2")
    suite = suites["local.passing"]
    assert suite.get("hostname") and suite.get("timestamp").startswith(str(__import__("datetime").date.today().year))
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["backend"] == "local" and props["profile"] == "smoke"
    assert props["engine"] == "fixture" and props["engine.version"] == "fixture notebook, no engine"
    assert props["params_file"].endswith("params/local.yaml")
    assert len(props["git.revision"]) >= 7
    # A case's output is its <system-out>.
    out = cases[("local.passing", "test_parquet_round_trip")].find("system-out")
    assert out is None or isinstance(out.text, str)
    assert "notebook stopped" in suites["local.broken"].find("system-err").text


def test_executed_notebook_got_the_parameters(full_run):
    _, output = full_run
    nb = nbformat.read(output / "passing.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    source = injected[0].source
    assert 'profile = "smoke"' in source and 'backend = "local"' in source
    assert str(REPO / "params" / "local.yaml") in source and str(output) in source


def _error_banner_cells(path):
    """Cells papermill tagged as its error banner (it points at the cell that raised)."""
    nb = nbformat.read(path, as_version=4)
    return [c for c in nb.cells if any("papermill-error-cell" in t for t in c.metadata.get("tags", []))]


def test_error_banner_only_for_a_notebook_that_died(full_run):
    _, output = full_run
    # A failed case is reported in its own cell; finish() does not raise under the runner, so papermill's
    # "exception encountered" banner does not point at the summary cell.
    assert _error_banner_cells(output / "failing.ipynb") == []
    assert "1 of 5 cases failed: test_deliberately_fails" in (output / "failing.html").read_text()
    assert _error_banner_cells(output / "broken.ipynb")  # the cell that raised outside a case


def test_collect_reads_the_executed_notebooks(full_run):
    _, output = full_run
    failing = report.collect(output / "failing.ipynb")
    assert [c.status for c in failing.cases] == ["pass", "fail", "skip", "skip", "pass"]
    assert failing.died is None  # CaseFailures from finish() is not a dead notebook
    broken = report.collect(output / "broken.ipynb")
    assert broken.died.name == "broken::notebook" and broken.died.status == "error"
    assert broken.died.message.startswith("In [") and broken.crashed
    assert "1 / 0" in broken.died.traceback
    passing = report.collect(output / "passing.ipynb")
    assert passing.ok and passing.engine["kind"] == "fixture"
    assert {r.operation for r in passing.throughput} == {"make_batch", "parquet_write", "parquet_read"}
    assert passing.seconds > 0


def test_passing_notebook_alone_exits_0(tmp_path):
    proc = run_runner(
        "--notebooks-dir", str(FIXTURES), "--categories", "passing", "--profile", "smoke",
        "--output", str(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed, 0 failed, 0 skipped" in proc.stdout
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.find(".//failure") is None and root.find(".//error") is None


def test_usage_errors_exit_2(tmp_path):
    proc = run_runner("--notebooks-dir", str(FIXTURES), "--categories", "passing,nope", "--output", str(tmp_path))
    assert proc.returncode == 2
    assert "unknown categories: nope" in proc.stderr and "passing" in proc.stderr
    proc = run_runner("--notebooks-dir", str(tmp_path / "absent"), "--output", str(tmp_path))
    assert proc.returncode == 2
    proc = run_runner("--notebooks-dir", str(FIXTURES), "--backend", "nope", "--output", str(tmp_path))
    assert proc.returncode == 2 and "unknown backend" in proc.stderr
    proc = run_runner("--profile", "gigantic")
    assert proc.returncode == 2


# --- runner internals -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runner_module():
    spec = importlib.util.spec_from_file_location("runner_under_test", REPO / "runner.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_discover_orders_categories_and_leaves_out_stress(runner_module, tmp_path):
    for name in ["stress", "zeta", "transaction", "write_read", "error_handling"]:
        nbformat.write(nbformat.v4.new_notebook(), tmp_path / f"{name}.ipynb")
    available = runner_module.discover(tmp_path)
    assert list(available) == ["write_read", "transaction", "error_handling", "stress", "zeta"]
    assert runner_module.select_categories(available, None) == [
        "write_read",
        "transaction",
        "error_handling",
        "zeta",
    ]
    assert runner_module.select_categories(available, "stress,write_read") == ["stress", "write_read"]
    with pytest.raises(runner_module.UsageError, match="known: write_read, transaction"):
        runner_module.select_categories(available, "nope")


# --- report building blocks -----------------------------------------------------------------------


def test_collect_without_notebook(tmp_path):
    result = report.collect(tmp_path / "gone.ipynb", "gone", run_error="NoSuchKernel: python9")
    assert not result.ok and result.crashed
    assert result.died.name == "gone::notebook" and "NoSuchKernel" in result.died.message


def _executed(path, cells):
    """A notebook as papermill leaves it: cells with papermill metadata, outputs as given."""
    nb = nbformat.v4.new_notebook(metadata={"papermill": {"exception": None, "duration": 1.5}})
    for source, started, outputs in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["papermill"] = {"start_time": "2026-01-01T00:00:00" if started else None}
        cell.outputs = [nbformat.from_dict(o) for o in outputs]
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


def _case_output(name, status):
    case = {"category": "x", "name": name, "status": status, "seconds": 0.1, "message": "", "traceback": ""}
    return {"output_type": "display_data", "metadata": {}, "data": {CASE_MIME: case, "text/plain": name}}


def test_collect_dead_kernel_blames_the_last_started_cell(tmp_path):
    path = _executed(
        tmp_path / "x.ipynb",
        [
            ("suite = ...", True, [_case_output("test_a", "pass")]),
            ("os._exit(3)", True, []),
            ("later", False, []),
        ],
    )
    result = report.collect(path, run_error="DeadKernelError: Kernel died", planned=["test_a", "test_b"])
    assert result.died.message == "cell 1: DeadKernelError: Kernel died"
    assert "os._exit(3)" in result.died.traceback
    assert result.seconds == 1.5 and [c.name for c in result.cases] == ["test_a", "test_b"]
    assert result.cases[1].status == "error" and result.cases[1].message.startswith("not run")


def test_collect_case_failures_is_not_a_dead_notebook(tmp_path):
    error = {
        "output_type": "error",
        "ename": "CaseFailures",
        "evalue": "1 of 1 cases failed",
        "traceback": [],
    }
    path = _executed(tmp_path / "x.ipynb", [("...", True, [_case_output("test_a", "fail")]), ("finish", True, [error])])
    result = report.collect(path)
    assert result.died is None and not result.ok
    other = dict(error, ename="NameError", evalue="name 'x' is not defined", traceback=["\x1b[31mNameError\x1b[0m"])
    path = _executed(tmp_path / "y.ipynb", [("x", True, [other])])
    died = report.collect(path).died
    assert died.message == "cell 0: NameError: name 'x' is not defined"
    assert "\x1b" not in died.traceback  # ANSI colours stripped


def test_write_report_from_results(tmp_path):
    ok = report.NotebookResult("alpha", tmp_path / "alpha.ipynb", cases=[CaseResult("alpha", "test_a", "pass", 0.1)])
    bad = report.NotebookResult(
        "beta",
        tmp_path / "beta.ipynb",
        cases=[CaseResult("beta", "test_b", "fail", 0.2, "AssertionError: <b>", "Traceback: <b>")],
    )
    rec = ThroughputRecorder("beta")
    rec.add("write", seconds=0.5, engine="loon", bytes=50_000_000, rows=1000)
    rec.add("write", seconds=1.0, engine="pyarrow", bytes=50_000_000, rows=1000)
    bad.throughput = rec.records
    written = report.write_report([ok, bad], tmp_path, report.RunInfo("local", "smoke"))
    page = written.index.read_text()
    assert "1 passed, 1 failed, 0 skipped" in page
    assert "AssertionError: &lt;b&gt;" in page  # escaped
    assert (tmp_path / "plots" / "beta.png").read_bytes().startswith(b"\x89PNG")
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    assert junit.find(".//testcase[@name='test_b']/failure").text == "Traceback: <b>"


def test_throughput_recorder(capsys):
    rec = ThroughputRecorder("cat")
    with rec.measure("scan", engine="pyarrow", rows=10) as m:
        m.bytes = 2_000_000
    record = rec.records[0]
    assert (record.category, record.operation, record.engine, record.bytes, record.rows) == (
        "cat",
        "scan",
        "pyarrow",
        2_000_000,
        10,
    )
    assert record.seconds > 0 and record.mb_per_s == pytest.approx(2 / record.seconds)
    with pytest.raises(RuntimeError):
        with rec.measure("broken"):
            raise RuntimeError("not recorded")
    assert len(rec.records) == 1
    rec.publish()
    assert "scan" in capsys.readouterr().out
    assert "MB/s" in format_table(rec.records)


def test_throughput_figure_groups_engines():
    rec = ThroughputRecorder("cat")
    for engine, seconds in [("loon", 1.0), ("pyarrow", 2.0)]:
        rec.add("write", seconds, engine=engine, bytes=10_000_000)
        rec.add("read", seconds / 2, engine=engine, bytes=10_000_000)
    fig = plots.throughput_figure(rec.records)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["write", "read"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["loon", "pyarrow"]
    heights = sorted(round(p.get_height()) for p in ax.patches)
    assert heights == [5, 10, 10, 20]
    assert plots.figure_png(fig).startswith(b"\x89PNG")
