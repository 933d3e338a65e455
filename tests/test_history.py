"""Run history (SQLite beside the reports), what changed since the previous comparable run, throughput
trends, and ``runner.py compare``.

End to end on a copy of the ``passing`` fixture notebook: two runs in a row show "no changes"; a copy
with one assertion broken on purpose shows it as newly failing, with the compared values in the cell,
on the page and in JUnit; ``compare`` of the two report directories lists the difference.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

from loon.suite import history, report
from loon.suite.cases import CaseResult
from loon.suite.throughput import ThroughputRecord

REPO = Path(__file__).resolve().parents[1]
PASSING = REPO / "tests" / "notebooks" / "passing.ipynb"
GOOD = 'assert cfg.properties["fs.storage_type"] == "local"'
BROKEN = 'assert cfg.properties["fs.storage_type"] == "s3"'


def run_runner(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("TEST_CONFIG_FILE", None)
    if args[0] != "compare":
        args = ("--profile", "smoke", *args)
    return subprocess.run([sys.executable, str(REPO / "runner.py"), *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)  # fmt: skip


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory):
    """reports/r1, r2 on the passing notebook, r3 on a copy with one assertion broken on purpose."""
    base = tmp_path_factory.mktemp("history")
    notebooks = base / "notebooks"
    notebooks.mkdir()
    shutil.copy(PASSING, notebooks / "passing.ipynb")
    procs = [
        run_runner("--notebooks-dir", str(notebooks), "--output", str(base / "reports" / name)) for name in ("r1", "r2")
    ]
    nb = nbformat.read(notebooks / "passing.ipynb", as_version=4)
    cell = next(c for c in nb.cells if GOOD in c.source)
    cell.source = cell.source.replace(GOOD, BROKEN)
    nbformat.write(nb, notebooks / "passing.ipynb")
    procs.append(run_runner("--notebooks-dir", str(notebooks), "--output", str(base / "reports" / "r3")))
    return base / "reports", procs


def test_two_runs_in_a_row_show_no_changes(three_runs):
    reports, (first, second, _) = three_runs
    assert first.returncode == 0 and second.returncode == 0, first.stdout + second.stdout
    assert "first run of its kind" in first.stdout
    assert f"history: {reports / 'history.sqlite'}: no changes" in second.stdout
    page = (reports / "r2" / "index.html").read_text()
    assert "<b>no changes</b> against the previous comparable run" in page
    assert str(reports / "r1") in page  # which run it was compared with
    with sqlite3.connect(reports / "history.sqlite") as db:
        runs = db.execute(
            "SELECT id, backend, profile, git_revision, report_dir, passed FROM runs ORDER BY id"
        ).fetchall()
        assert [(r[1], r[2], r[4], r[5]) for r in runs] == [
            ("local", "smoke", str(reports / "r1"), 3),
            ("local", "smoke", str(reports / "r2"), 3),
            ("local", "smoke", str(reports / "r3"), 2),
        ]
        assert all(r[3] for r in runs)
        assert db.execute("SELECT COUNT(*) FROM cases WHERE run_id = ?", (runs[0][0],)).fetchone()[0] == 3
        assert db.execute("SELECT COUNT(*) FROM throughput WHERE run_id = ?", (runs[0][0],)).fetchone()[0] == 3


def test_a_case_broken_on_purpose_is_newly_failing_with_its_values(three_runs):
    reports, (_, _, third) = three_runs
    assert third.returncode == 1, third.stdout + third.stderr
    assert "history: " in third.stdout and "1 newly failing" in third.stdout
    values = "assert 'local' == 's3'"
    # Console, page, JUnit and the executed cell all carry the compared values.
    assert values in third.stdout
    page = (reports / "r3" / "index.html").read_text()
    changes = page[page.index('id="changes"') : page.index('id="failures"')]
    assert "newly failing" in changes and "test_config_is_local" in changes
    assert values.replace("'", "&#39;") in page
    failure = ET.parse(reports / "r3" / "junit.xml").getroot().find(".//testcase[@name='test_config_is_local']/failure")
    assert values in failure.get("message")
    nb = nbformat.read(reports / "r3" / "passing.ipynb", as_version=4)
    cell = next(c for c in nb.cells if BROKEN in c.source)
    assert any(values in json.dumps(o) for o in cell.outputs)


def test_compare_two_report_directories(three_runs, tmp_path):
    reports, _ = three_runs
    out = tmp_path / "compare.html"
    proc = run_runner("compare", str(reports / "r2"), str(reports / "r3"), "--output", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"1 cases differ; compare: {out}" in proc.stdout
    page = out.read_text()
    assert "1 of 3 cases differ" in page
    row = page[page.index("test_config_is_local") :].split("</tr>")[0]
    assert "PASS" in row and "FAIL" in row
    assert "parquet_write" in page and "B / A" in page
    # Default output: REPORT_B/compare.html. A directory without a report is a clear error.
    assert run_runner("compare", str(reports / "r1"), str(reports / "r2")).returncode == 0
    assert (reports / "r2" / "compare.html").is_file()
    proc = run_runner("compare", str(reports / "r1"), str(tmp_path))
    assert proc.returncode == 2 and "is not a report directory" in proc.stderr


# --- building blocks ------------------------------------------------------------------------------


def test_trend_flag_accounts_for_noise():
    noisy = [100.0, 80.0, 120.0, 95.0, 105.0]
    assert history.trend_flag(noisy, 85.0) == ("steady", 100.0)  # within the spread of earlier runs
    assert history.trend_flag(noisy, 79.0)[0] == "steady"  # below the range, but within the noise
    assert history.trend_flag(noisy, 70.0)[0] == "regression"  # beyond both
    assert history.trend_flag(noisy, 150.0)[0] == "improvement"
    steady = [100.0, 101.0, 99.0, 100.5]
    assert history.trend_flag(steady, 95.0)[0] == "regression"  # a 5 % drop beyond a tight spread
    assert history.trend_flag([100.0, 101.0], 10.0) == ("new", 100.5)  # too few runs to judge


def _result(category, cases, rate=None):
    nb = report.NotebookResult(
        category, Path(f"{category}.ipynb"), cases=[CaseResult(category, n, s) for n, s in cases]
    )
    if rate is not None:
        nb.throughput = [ThroughputRecord(category, "write", "loon", int(rate * 1e6), 10, 1.0)]
    return nb


def test_changes_against_the_previous_comparable_run(tmp_path):
    store = history.History(tmp_path / "h.sqlite")
    run = report.RunInfo("local", "smoke", started="t", git_revision="abc")
    before = [
        _result("a", [("test_keep", "pass"), ("test_break", "pass"), ("test_fix", "fail"), ("test_gone", "pass")])
    ]
    after = [_result("a", [("test_keep", "pass"), ("test_break", "fail"), ("test_fix", "pass"), ("test_new", "skip")])]
    first = store.record(run, before, tmp_path / "r1")
    other = store.record(report.RunInfo("s3", "smoke"), after, tmp_path / "s3")  # another backend: not comparable
    second = store.record(run, after, tmp_path / "r2")
    changes = store.changes(second)
    assert changes.previous["id"] == first and other not in {changes.previous["id"]}
    assert [c.name for c in changes.newly_failing] == ["test_break"]
    assert [c.name for c in changes.fixed] == ["test_fix"]
    assert [c.name for c in changes.new] == ["test_new"]
    assert [c.name for c in changes.missing] == ["test_gone"]
    assert changes.summary() == "1 newly failing, 1 fixed, 1 new, 1 missing"
    assert store.changes(first).summary() == "first run of its kind: nothing to compare with"
    store.close()


def test_throughput_trend_over_runs(tmp_path):
    store = history.History(tmp_path / "h.sqlite")
    run = report.RunInfo("local", "smoke")
    ids = [store.record(run, [_result("a", [("test_x", "pass")], rate)], tmp_path) for rate in (100, 98, 103, 101)]
    steady = store.changes(ids[-1])
    assert [(t.operation, t.flag, t.values) for t in steady.trends] == [("write", "steady", [100, 98, 103, 101])]
    assert steady.summary() == "no changes"
    slow = store.record(run, [_result("a", [("test_x", "pass")], 60)], tmp_path)
    trend = store.changes(slow).trends[0]
    assert trend.flag == "regression" and trend.baseline == pytest.approx(100.5) and trend.change < -0.4
    assert store.changes(slow).summary() == "1 throughput regressions"
    store.close()


def test_bench_json_lines_are_ingested_once(tmp_path):
    """Lines in the format benchmarks/README.md documents (bench_workloads.py writes them)."""
    bench = tmp_path / "bench"
    bench.mkdir()
    figure = {"run": "2026-12-02T01:00:00Z", "bench": "workloads", "section": "take", "name": "take k=10",
              "peer": "lance", "loon_wall_s": 0.002, "ratio_wall": 0.8, "target": 1.0, "ok": True}  # fmt: skip
    untargeted = dict(figure, section="scan", name="scan all", ratio_wall=1.3, target=None)
    (bench / "2026-12-02T01:00:00Z-workloads.jsonl").write_text(
        json.dumps(figure) + "\n" + json.dumps(untargeted) + "\nnot json\n"
    )
    with history.History(tmp_path / "h.sqlite") as store:
        assert store.ingest_bench(bench) == 5  # loon_wall_s, ratio_wall, target; loon_wall_s, ratio_wall
        assert store.ingest_bench(bench) == 0  # already read
        rows = store.bench_rows()
        latest = store.latest_bench()
    assert {(r["benchmark"], r["metric"], r["value"]) for r in rows if r["metric"] == "ratio_wall"} == {
        ("workloads/take/take k=10 vs lance", "ratio_wall", 0.8),
        ("workloads/scan/scan all vs lance", "ratio_wall", 1.3),
    }
    assert [(b["benchmark"], b["value"], b["target"]) for b in latest] == [
        ("workloads/scan/scan all vs lance", 1.3, None),
        ("workloads/take/take k=10 vs lance", 0.8, 1.0),
    ]


def test_index_shows_the_latest_benchmark_run(tmp_path):
    reports = tmp_path / "reports"
    (reports / "bench").mkdir(parents=True)
    line = {"run": "2026-12-02T01:00:00Z", "bench": "workloads", "section": "take", "name": "take k=10",
            "peer": "lance", "ratio_wall": 1.7, "target": 1.0}  # fmt: skip
    (reports / "bench" / "w.jsonl").write_text(json.dumps(line) + "\n")
    nb = _result("a", [("test_x", "pass")], 100)
    written = report.write_report(
        [nb], reports / "latest", report.RunInfo("local", "smoke"), reports / "history.sqlite"
    )
    page = written.index.read_text()
    section = page[page.index('id="benchmarks"') :]
    assert "workloads/take/take k=10 vs lance" in section and "1.70" in section and "1.00" in section
