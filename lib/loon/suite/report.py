"""Results rebuilt from executed notebooks and their progress files: ``NotebookResult`` per notebook.

``collect(ipynb)`` reads the case, throughput and engine bundles a notebook emitted (see
``loon.suite.cases`` and ``loon.suite.throughput``) and, from the runner, the notebook's progress events
and the cases its source defines. A notebook that did not run to its end never loses a case:

* the case that was running when its kernel died (or its cell timed out) is an ``error`` naming why;
* an exception outside any case becomes the error of a pseudo-case ``<category>::notebook`` carrying the
  failing cell and its traceback;
* each case of the source that never ran is an ``error`` ("not run"), or a ``skip`` when the run was
  stopped on purpose (Ctrl-C, ``-x``).

The pages and files built from these results: ``index`` (index.html), ``junit`` (junit.xml),
``results`` (results.json), ``history`` (SQLite of every run) and ``compare`` (two reports side by side).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from . import control as run_control
from .cases import CASE_MIME, DESELECTED, ENGINE_MIME, ERROR, FAIL, PASS, SKIP, CaseResult
from .throughput import THROUGHPUT_MIME, ThroughputRecord

__all__ = [
    "NotebookResult",
    "RunInfo",
    "SavedReport",
    "Totals",
    "cancelled",
    "collect",
    "export_html",
    "notebook_case_name",
    "read_results",
    "totals",
    "write_report",
    "write_results",
]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Exceptions that end a notebook as intended: `CaseSuite.finish()` after failed cases (already reported
# case by case) and the runner's -x after the first failure. Neither is a notebook that died.
_CASE_FAILURES = "CaseFailures"
_EXIT_FIRST = "ExitFirst"


def notebook_case_name(category: str) -> str:
    """Name of the pseudo-case that stands for the notebook as a whole."""
    return f"{category}::notebook"


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


@dataclass
class NotebookResult:
    """Everything the report shows about one executed notebook."""

    category: str
    ipynb: Path
    html: Path | None = None
    cases: list[CaseResult] = field(default_factory=list)
    throughput: list[ThroughputRecord] = field(default_factory=list)
    engine: dict[str, str] | None = None
    seconds: float = 0.0
    died: CaseResult | None = None
    """The ``<category>::notebook`` error when the notebook stopped outside any case."""
    cell_ids: dict[str, str] = field(default_factory=dict)
    """Case name -> id of the cell that emitted its result (anchors into the notebook HTML)."""
    stopped: str | None = None
    """Why the notebook did not run to its end (None when it did)."""
    crashed: bool = False
    """Stopped by an error (dead kernel, timeout, exception outside a case), not on purpose."""
    interrupted: bool = False
    cancelled: bool = False
    """Never started (the run was stopped first)."""

    @property
    def all_cases(self) -> list[CaseResult]:
        return self.cases + ([self.died] if self.died else [])

    def _with(self, status: str) -> list[CaseResult]:
        return [c for c in self.all_cases if c.status == status]

    @property
    def failed(self) -> list[CaseResult]:
        return self._with(FAIL)

    @property
    def errors(self) -> list[CaseResult]:
        return self._with(ERROR)

    @property
    def passed(self) -> list[CaseResult]:
        return self._with(PASS)

    @property
    def skipped(self) -> list[CaseResult]:
        return self._with(SKIP)

    @property
    def deselected(self) -> list[CaseResult]:
        return self._with(DESELECTED)

    @property
    def ran(self) -> list[CaseResult]:
        """Every case but the deselected ones."""
        return [c for c in self.all_cases if c.status != DESELECTED]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.errors and not self.crashed

    @property
    def status(self) -> str:
        """PASS, FAIL, ERROR (died), INTERRUPTED or CANCELLED."""
        if self.cancelled:
            return "CANCELLED"
        if self.crashed:
            return "ERROR"
        if self.failed or self.errors:
            return "FAIL"
        return "INTERRUPTED" if self.interrupted else "PASS"

    def summary_line(self) -> str:
        """``PASS 12 of 12 cases`` / ``FAIL 2 of 14 cases failed: a, b`` / ``ERROR notebook died: ...``."""
        if self.cancelled:
            return "CANCELLED (not started)"
        cases = [c for c in self.ran if c is not self.died]
        extra = "".join(
            f", {len(group)} {label}"
            for group, label in [(self.skipped, "skipped"), (self.deselected, "deselected")]
            if group
        )
        if self.crashed:
            not_run = [c for c in self.errors if c.message.startswith("not run")]
            counts = f"{len(self.passed)} of {len(cases)} cases passed, {len(not_run)} not run"
            return f"ERROR notebook died: {self.stopped} ({counts})"
        failed = [c.name for c in self.failed + self.errors]
        if failed:
            return f"FAIL {len(failed)} of {len(cases)} cases failed: {', '.join(failed)}{extra}"
        if self.interrupted:
            return f"INTERRUPTED {self.stopped or ''}: {len(self.passed)} of {len(cases)} cases passed{extra}"
        return f"PASS {len(self.passed)} of {len(cases)} cases{extra}"

    def cell_link(self, case_name: str) -> str | None:
        """Relative link to the case's cell in the notebook HTML (or to the HTML itself)."""
        if self.html is None:
            return None
        cell_id = self.cell_ids.get(case_name)
        return f"{self.html.name}#cell-id={cell_id}" if cell_id else self.html.name


def cancelled(category: str, ipynb: Path) -> NotebookResult:
    """A notebook the run never started (stopped before its turn)."""
    return NotebookResult(category, ipynb, cancelled=True, stopped="not started")


def collect(
    ipynb: str | Path,
    category: str | None = None,
    run_error: str | None = None,
    seconds: float | None = None,
    *,
    progress: str | Path | None = None,
    planned: list[str] | None = None,
    selection: run_control.RunControl | None = None,
    interrupted: bool = False,
    stop_reason: str = "",
) -> NotebookResult:
    """Reads one executed notebook into a ``NotebookResult``.

    ``run_error`` is an error the runner saw that the notebook may not show (e.g. a timeout or a
    kernel that could not start); it makes the notebook count as died. ``seconds`` is the wall time
    when the notebook's papermill metadata has none. ``progress`` is the notebook's progress file,
    ``planned`` the case names of its source, ``selection`` the run's ``-k``/``--lf`` (for cases that
    never ran), ``interrupted`` whether the runner stopped it and ``stop_reason`` why.
    """
    ipynb = Path(ipynb)
    category = category or ipynb.stem
    result = NotebookResult(category=category, ipynb=ipynb, seconds=seconds or 0.0, interrupted=interrupted)
    html_path = ipynb.with_suffix(".html")
    result.html = html_path if html_path.exists() else None
    events = list(run_control.iter_events(progress)) if progress else []
    by_name: dict[str, CaseResult] = {}
    failed_cell: tuple[int, Any] | None = None
    papermill_meta: dict[str, Any] = {}
    started_cells: list[tuple[int, Any]] = []

    if ipynb.exists():
        nb = nbformat.read(ipynb, as_version=4)
        papermill_meta = nb.metadata.get("papermill", {})
        if seconds is None and papermill_meta.get("duration") is not None:
            result.seconds = float(papermill_meta["duration"])
        for index, cell in enumerate(nb.cells):
            meta = cell.get("metadata", {}).get("papermill", {})
            if meta.get("start_time") or cell.get("execution_count"):
                # papermill stamps start_time before it sends a cell to the kernel.
                started_cells.append((index, cell))
            cell_failed = bool(meta.get("exception"))
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    cell_failed = True
                    continue
                data = output.get("data", {})
                if CASE_MIME in data:
                    case = CaseResult.from_dict(data[CASE_MIME])
                    by_name[case.name] = case
                    if cell.get("id"):
                        result.cell_ids[case.name] = cell["id"]
                if THROUGHPUT_MIME in data:
                    bundle = data[THROUGHPUT_MIME]
                    for record in bundle.get("records", []):
                        record.setdefault("category", bundle.get("category", category))
                        result.throughput.append(ThroughputRecord.from_dict(record))
                if ENGINE_MIME in data:
                    result.engine = {key: str(value) for key, value in data[ENGINE_MIME].items()}
            if cell_failed and failed_cell is None:
                failed_cell = (index, cell)
    elif not events:
        message = run_error or f"executed notebook {ipynb} was not written"
        if interrupted:
            result.stopped = "interrupted before the notebook was saved"
            return result
        result.crashed, result.stopped = True, message
        result.died = CaseResult(category, notebook_case_name(category), ERROR, result.seconds, message, message)
        return result

    # Cases whose end the kernel reported but whose output never reached the saved notebook.
    for event in events:
        if event.get("event") == "end" and event.get("case") not in by_name:
            by_name[event["case"]] = CaseResult.from_dict(event["result"])
    result.cases = list(by_name.values())

    if failed_cell is None and (run_error or interrupted) and started_cells:
        failed_cell = started_cells[-1]  # a dead kernel or a timeout can leave no error output
    error = None
    if failed_cell is not None:
        error = next((o for o in failed_cell[1].get("outputs", []) if o.get("output_type") == "error"), None)
    ename = error.get("ename") if error is not None else None

    if interrupted:
        result.stopped = stop_reason or "run interrupted"
    elif ename == _EXIT_FIRST and not run_error:
        result.stopped = "stopped after the first failure (-x)"
    elif ename == _CASE_FAILURES and not run_error:
        pass  # finish() reported failed cases; they are already in the report
    elif failed_cell is not None or run_error or papermill_meta.get("exception"):
        result.crashed = True
        died = _notebook_failure(category, failed_cell, run_error, error)
        result.stopped = died.message
        running = run_control.last_started(events)
        if running is not None and running not in by_name:
            # The case that was running takes the blame; the pseudo-case would only repeat it.
            reason = run_error.splitlines()[0] if run_error else died.message
            message = f"{reason} (while this case was running)"
            result.cases.append(CaseResult(category, running, ERROR, 0.0, message, died.traceback))
            result.stopped = f"{reason} in {running}"
            if failed_cell is not None and failed_cell[1].get("id"):
                result.cell_ids[running] = failed_cell[1]["id"]
        else:
            result.died = died
            if failed_cell is not None and failed_cell[1].get("id"):
                result.cell_ids[died.name] = failed_cell[1]["id"]

    if result.stopped:
        _add_not_run(result, planned or [], run_control.last_started(events), selection)
    return result


def _add_not_run(
    result: NotebookResult, planned: list[str], running: str | None, selection: run_control.RunControl | None
) -> None:
    """Every case of the source that has no result: an error when the notebook died, else a skip."""
    known = {c.name for c in result.cases}
    for name in planned:
        if name in known:
            continue
        if selection is not None and not selection.selects(result.category, name):
            result.cases.append(CaseResult(result.category, name, DESELECTED))
        elif result.crashed:
            message = f"not run: the notebook stopped earlier ({result.stopped})"
            result.cases.append(CaseResult(result.category, name, ERROR, 0.0, message, message))
        else:
            note = " (was running)" if name == running else ""
            result.cases.append(CaseResult(result.category, name, SKIP, 0.0, f"not run: {result.stopped}{note}"))


def _notebook_failure(
    category: str, failed_cell: tuple[int, Any] | None, run_error: str | None, error: dict[str, Any] | None
) -> CaseResult:
    """The pseudo-case error of a notebook that did not run to its end."""
    name = notebook_case_name(category)
    if failed_cell is None:
        message = run_error or "notebook execution failed (no failing cell recorded)"
        return CaseResult(category, name, ERROR, 0.0, message, message)
    index, cell = failed_cell
    count = cell.get("execution_count")
    where = f"In [{count}]" if count is not None else f"cell {index}"
    trace = _strip_ansi("\n".join(error.get("traceback", []))) if error is not None else ""
    if run_error:
        # The runner's error says what happened (timeout, dead kernel); a KeyboardInterrupt
        # output of a timed-out cell would only mislead.
        message = f"{where}: {run_error.splitlines()[0]}"
        trace = f"{run_error}\n\n{trace}".strip()
    elif error is not None:
        message = f"{where}: {error.get('ename')}: {_strip_ansi(str(error.get('evalue', '')))}"
    else:
        message = f"{where}: did not complete (timeout or kernel died)"
        trace = message
    source = cell.get("source", "")
    position = f" (cell {index} of the executed notebook)" if count is not None else ""
    trace += f"\n\n--- source of {where}{position} ---\n{source}"
    return CaseResult(category, name, ERROR, 0.0, message, trace)


def export_html(ipynb: str | Path, html_path: str | Path | None = None) -> Path:
    """Renders an executed notebook to HTML with nbconvert (cells get ``cell-id=`` anchors)."""
    from nbconvert import HTMLExporter

    ipynb = Path(ipynb)
    html_path = Path(html_path) if html_path else ipynb.with_suffix(".html")
    body, _ = HTMLExporter().from_notebook_node(nbformat.read(ipynb, as_version=4))
    html_path.write_text(body, encoding="utf-8")
    return html_path


# --------------------------------------------------------------------------------------------
# The run as a whole
# --------------------------------------------------------------------------------------------


@dataclass
class RunInfo:
    """What the report states about the run (header of index.html, JUnit properties, history key)."""

    backend: str
    profile: str
    params_file: str = ""
    wall_seconds: float = 0.0
    started: str = ""
    """ISO 8601 with the local offset."""
    skip_reason: str | None = None
    hostname: str = ""
    git_revision: str = ""
    selection: str = ""
    """What was asked beyond the defaults: categories, -k, --lf, -x (empty for a plain run)."""
    engine: dict[str, str] = field(default_factory=dict)
    """``info``, ``kind``, ``path`` of the engine the notebooks loaded, and ``build`` (hash of the file)."""
    stopped: str = ""
    """Why the run ended early (Ctrl-C, -x), if it did."""
    exit_code: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunInfo:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class Totals:
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    deselected: int = 0

    def line(self) -> str:
        parts = [f"{self.passed} passed", f"{self.failed} failed"]
        if self.errors:
            parts.append(f"{self.errors} errors")
        parts.append(f"{self.skipped} skipped")
        if self.deselected:
            parts.append(f"{self.deselected} deselected")
        return ", ".join(parts)


def totals(results: Iterable[NotebookResult]) -> Totals:
    """Case counts over all notebooks (a died notebook's pseudo-case counts as one error)."""
    results = list(results)
    return Totals(
        passed=sum(len(nb.passed) for nb in results),
        failed=sum(len(nb.failed) for nb in results),
        errors=sum(len(nb.errors) for nb in results),
        skipped=sum(len(nb.skipped) for nb in results),
        deselected=sum(len(nb.deselected) for nb in results),
    )


def engine_of(results: Sequence[NotebookResult]) -> dict[str, str]:
    """The engine the notebooks reported, with ``build``: a hash of its library file (which build ran)."""
    engine = next((dict(nb.engine) for nb in results if nb.engine), {})
    path = Path(engine.get("path", ""))
    if engine and path.is_file():
        engine["build"] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return engine


# --------------------------------------------------------------------------------------------
# results.json: the machine-readable report (for --lf, compare and the history)
# --------------------------------------------------------------------------------------------

RESULTS_FILE = "results.json"


def write_results(results: Sequence[NotebookResult], run: RunInfo, path: str | Path) -> Path:
    data = {
        "run": run.to_dict(),
        "notebooks": [
            {
                "category": nb.category,
                "status": nb.status,
                "summary": nb.summary_line(),
                "seconds": nb.seconds,
                "stopped": nb.stopped,
                "crashed": nb.crashed,
                "interrupted": nb.interrupted,
                "cancelled": nb.cancelled,
                "engine": nb.engine,
                "cases": [c.to_dict() for c in nb.all_cases],
                "throughput": [r.to_dict() for r in nb.throughput],
            }
            for nb in results
        ],
    }
    path = Path(path)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


@dataclass
class SavedReport:
    """A report directory read back from its ``results.json``."""

    path: Path
    run: RunInfo
    notebooks: list[dict[str, Any]]

    def cases(self) -> dict[tuple[str, str], CaseResult]:
        return {
            (nb["category"], c["name"]): CaseResult.from_dict(c) for nb in self.notebooks for c in nb.get("cases", [])
        }

    def throughput(self) -> list[ThroughputRecord]:
        return [ThroughputRecord.from_dict(r) for nb in self.notebooks for r in nb.get("throughput", [])]


def read_results(report_dir: str | Path) -> SavedReport:
    """Reads ``<report_dir>/results.json``; ``FileNotFoundError`` naming the directory if it has none."""
    report_dir = Path(report_dir)
    path = report_dir / RESULTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{report_dir} is not a report directory (no {RESULTS_FILE})")
    data = json.loads(path.read_text(encoding="utf-8"))
    return SavedReport(report_dir, RunInfo.from_dict(data.get("run", {})), data.get("notebooks", []))


@dataclass
class Written:
    """The files of a written report, and what changed against the previous comparable run."""

    index: Path
    junit: Path
    results: Path
    changes: Any = None
    """``history.Changes`` (None without a history)."""


def write_report(
    results: Sequence[NotebookResult], output_dir: str | Path, run: RunInfo, history_path: str | Path | None = None
) -> Written:
    """Writes ``results.json``, ``junit.xml``, plots and ``index.html`` into ``output_dir``; records the
    run in the history at ``history_path`` (if given) and shows on the index what changed."""
    from . import history, index, junit

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if not run.engine:
        run.engine = engine_of(results)
    results_path = write_results(results, run, output_dir / RESULTS_FILE)
    junit_path = junit.write_junit(results, output_dir / "junit.xml", run)
    changes = None
    if history_path is not None:
        store = history.History(history_path)
        try:
            run_id = store.record(run, results, output_dir)
            changes = store.changes(run_id)
            # Benchmark results (benchmarks/ writes JSON lines under reports/bench/) join the history too.
            store.ingest_bench(Path(history_path).parent / "bench")
            changes.bench = store.latest_bench()
        finally:
            store.close()
    return Written(index.write_index(results, output_dir, run, changes), junit_path, results_path, changes)
