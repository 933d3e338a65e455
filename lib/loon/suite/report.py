"""Reports rebuilt from executed notebooks alone: ``index.html``, ``junit.xml``, plots.

``collect(ipynb)`` reads the case, throughput and engine bundles a notebook emitted (see
``loon.suite.cases`` and ``loon.suite.throughput``). A notebook that died (an exception outside a case, a
timeout, a dead kernel) becomes the failure of a pseudo-case ``<category>::notebook`` carrying the
failing cell and papermill's error, so nothing is lost between cells.
"""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import nbformat

from . import plots
from .cases import CASE_MIME, ENGINE_MIME, FAIL, PASS, SKIP, CaseResult
from .throughput import THROUGHPUT_MIME, ThroughputRecord

__all__ = [
    "NotebookResult",
    "RunInfo",
    "collect",
    "export_html",
    "notebook_case_name",
    "write_index",
    "write_junit",
    "write_report",
]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# The exception `CaseSuite.finish()` raises: an expected end of a notebook with failed cases,
# already reported case by case, not a notebook that died.
_CASE_FAILURES = "CaseFailures"


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
    """The ``<category>::notebook`` failure when the notebook did not run to its end."""
    cell_ids: dict[str, str] = field(default_factory=dict)
    """Case name -> id of the cell that emitted its result (anchors into the notebook HTML)."""

    @property
    def all_cases(self) -> list[CaseResult]:
        return self.cases + ([self.died] if self.died else [])

    @property
    def failed(self) -> list[CaseResult]:
        return [c for c in self.all_cases if c.status == FAIL]

    @property
    def passed(self) -> list[CaseResult]:
        return [c for c in self.cases if c.status == PASS]

    @property
    def skipped(self) -> list[CaseResult]:
        return [c for c in self.cases if c.status == SKIP]

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary_line(self) -> str:
        """``PASS 12 of 12 cases`` / ``FAIL 2 of 14 cases failed: a, b`` / ``FAIL notebook died: ...``."""
        total = len(self.cases)
        skipped = f", {len(self.skipped)} skipped" if self.skipped else ""
        if self.died:
            passed = f"{len(self.passed)} of {total} cases passed{skipped}"
            return f"FAIL notebook died: {self.died.message} ({passed})"
        failed = [c.name for c in self.cases if c.status == FAIL]
        if failed:
            return f"FAIL {len(failed)} of {total} cases failed: {', '.join(failed)}"
        return f"PASS {len(self.passed)} of {total} cases{skipped}"

    def cell_link(self, case_name: str) -> str | None:
        """Relative link to the case's cell in the notebook HTML (or to the HTML itself)."""
        if self.html is None:
            return None
        cell_id = self.cell_ids.get(case_name)
        return f"{self.html.name}#cell-id={cell_id}" if cell_id else self.html.name


def collect(
    ipynb: str | Path,
    category: str | None = None,
    run_error: str | None = None,
    seconds: float | None = None,
) -> NotebookResult:
    """Reads one executed notebook into a ``NotebookResult``.

    ``run_error`` is an error the runner saw that the notebook may not show (e.g. a timeout or a
    kernel that could not start); it makes the notebook count as died. ``seconds`` is the wall time
    when the notebook's papermill metadata has none.
    """
    ipynb = Path(ipynb)
    category = category or ipynb.stem
    result = NotebookResult(category=category, ipynb=ipynb, seconds=seconds or 0.0)
    html_path = ipynb.with_suffix(".html")
    result.html = html_path if html_path.exists() else None
    if not ipynb.exists():
        message = run_error or f"executed notebook {ipynb} was not written"
        result.died = CaseResult(
            category, notebook_case_name(category), FAIL, result.seconds, message, message
        )
        return result

    nb = nbformat.read(ipynb, as_version=4)
    papermill_meta = nb.metadata.get("papermill", {})
    if seconds is None and papermill_meta.get("duration") is not None:
        result.seconds = float(papermill_meta["duration"])

    failed_cell: tuple[int, Any] | None = None
    for index, cell in enumerate(nb.cells):
        cell_failed = bool(cell.get("metadata", {}).get("papermill", {}).get("exception"))
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                cell_failed = True
                continue
            data = output.get("data", {})
            if CASE_MIME in data:
                case = CaseResult.from_dict(data[CASE_MIME])
                result.cases.append(case)
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

    if failed_cell is None and run_error:
        # A dead kernel or a timeout can leave no error output: blame the last cell that started.
        # papermill stamps start_time before it sends a cell to the kernel.
        started = [
            (i, c)
            for i, c in enumerate(nb.cells)
            if c.get("metadata", {}).get("papermill", {}).get("start_time") or c.get("execution_count")
        ]
        failed_cell = started[-1] if started else None
    died = _notebook_failure(category, failed_cell, run_error, papermill_meta)
    if died is not None:
        result.died = died
        if failed_cell is not None and failed_cell[1].get("id"):
            result.cell_ids[died.name] = failed_cell[1]["id"]
    return result


def _notebook_failure(
    category: str, failed_cell: tuple[int, Any] | None, run_error: str | None, papermill_meta: dict[str, Any]
) -> CaseResult | None:
    """The pseudo-case failure of a notebook that did not run to its end, else None."""
    name = notebook_case_name(category)
    if failed_cell is None:
        if run_error or papermill_meta.get("exception"):
            message = run_error or "notebook execution failed (no failing cell recorded)"
            return CaseResult(category, name, FAIL, 0.0, message, message)
        return None
    index, cell = failed_cell
    error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
    if error is not None and error.get("ename") == _CASE_FAILURES and not run_error:
        return None  # finish() reported failed cases; they are already in the report
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
    return CaseResult(category, name, FAIL, 0.0, message, trace)


def export_html(ipynb: str | Path, html_path: str | Path | None = None) -> Path:
    """Renders an executed notebook to HTML with nbconvert (cells get ``cell-id=`` anchors)."""
    from nbconvert import HTMLExporter

    ipynb = Path(ipynb)
    html_path = Path(html_path) if html_path else ipynb.with_suffix(".html")
    body, _ = HTMLExporter().from_notebook_node(nbformat.read(ipynb, as_version=4))
    html_path.write_text(body, encoding="utf-8")
    return html_path


# --------------------------------------------------------------------------------------------
# junit.xml
# --------------------------------------------------------------------------------------------


def write_junit(results: Sequence[NotebookResult], path: str | Path) -> Path:
    """One ``<testsuite>`` per category, one ``<testcase>`` per case (plus a died notebook)."""
    path = Path(path)
    root = ET.Element("testsuites")
    for nb in results:
        cases = nb.all_cases
        suite = ET.SubElement(
            root,
            "testsuite",
            name=nb.category,
            tests=str(len(cases)),
            failures=str(len(nb.failed)),
            errors="0",
            skipped=str(len([c for c in cases if c.status == SKIP])),
            time=f"{nb.seconds:.3f}",
        )
        for case in cases:
            element = ET.SubElement(
                suite, "testcase", classname=nb.category, name=case.name, time=f"{case.seconds:.3f}"
            )
            if case.status == FAIL:
                failure = ET.SubElement(element, "failure", message=case.message)
                failure.text = case.traceback or case.message
            elif case.status == SKIP:
                ET.SubElement(element, "skipped", message=case.message)
    root.set("tests", str(sum(len(nb.all_cases) for nb in results)))
    root.set("failures", str(sum(len(nb.failed) for nb in results)))
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


# --------------------------------------------------------------------------------------------
# index.html
# --------------------------------------------------------------------------------------------


@dataclass
class RunInfo:
    """What the header of the report states about the run."""

    backend: str
    profile: str
    params_file: str = ""
    wall_seconds: float = 0.0
    started: str = ""
    skip_reason: str | None = None


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>loon suite: {{ totals.failed }} failed, {{ totals.passed }} passed,
{{ totals.skipped }} skipped</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #222; }
table { border-collapse: collapse; margin: .5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #fff; background: #2e7d32; } .fail { color: #fff; background: #c62828; }
.skip { color: #000; background: #ffca28; }
.status { font-weight: bold; text-align: center; }
pre { background: #f7f7f7; border-left: 4px solid #c62828; padding: .6em; overflow-x: auto;
      font-size: 85%; white-space: pre-wrap; }
.banner { padding: .6em 1em; font-size: 120%; font-weight: bold; }
.muted { color: #666; }
</style></head><body>
<h1>loon integration suite</h1>
<div class="banner {{ 'fail' if totals.failed else 'pass' }}">
  {{ totals.passed }} passed, {{ totals.failed }} failed, {{ totals.skipped }} skipped
  &mdash; {{ results|length }} notebooks, {{ '%.1f'|format(run.wall_seconds) }} s
</div>
<table>
<tr><th>backend</th><td>{{ run.backend }}</td></tr>
<tr><th>profile</th><td>{{ run.profile }}</td></tr>
<tr><th>params file</th><td>{{ run.params_file }}</td></tr>
{% if run.skip_reason %}<tr><th>note</th><td>{{ run.skip_reason }}</td></tr>{% endif %}
<tr><th>started</th><td>{{ run.started }}</td></tr>
{% for engine in engines %}
<tr><th>engine</th><td>{{ engine.info }} ({{ engine.kind }})
<span class="muted">{{ engine.path }}</span></td></tr>
{% endfor %}
</table>

{% if failures %}
<h2 id="failures">Failures</h2>
{% for nb, case in failures %}
<h3><a href="#nb-{{ nb.category }}">{{ nb.category }}</a> / {{ case.name }}</h3>
<p>{{ case.message }}{% if nb.cell_link(case.name) %}
 &mdash; <a href="{{ nb.cell_link(case.name) }}">failing cell in {{ nb.category }}.html</a>{% endif %}
 &middot; <a href="{{ nb.ipynb.name }}">{{ nb.ipynb.name }}</a></p>
<pre>{{ case.traceback or case.message }}</pre>
{% endfor %}
{% endif %}

<h2>Notebooks</h2>
<table>
<tr><th>category</th><th>result</th><th>passed</th><th>failed</th><th>skipped</th><th>seconds</th>
<th>notebook</th></tr>
{% for nb in results %}
<tr><td><a href="#nb-{{ nb.category }}">{{ nb.category }}</a></td>
<td class="status {{ 'pass' if nb.ok else 'fail' }}">{{ 'PASS' if nb.ok else 'FAIL' }}</td>
<td class="num">{{ nb.passed|length }}</td><td class="num">{{ nb.failed|length }}</td>
<td class="num">{{ nb.skipped|length }}</td><td class="num">{{ '%.1f'|format(nb.seconds) }}</td>
<td>{% if nb.html %}<a href="{{ nb.html.name }}">html</a> &middot; {% endif %}
<a href="{{ nb.ipynb.name }}">ipynb</a></td></tr>
{% endfor %}
</table>

{% for nb in results %}
<h2 id="nb-{{ nb.category }}">{{ nb.category }}</h2>
<p class="muted">{{ nb.summary_line() }}</p>
<table>
<tr><th>case</th><th>status</th><th>seconds</th><th>message</th></tr>
{% for case in nb.all_cases %}
<tr><td>{% if nb.cell_link(case.name) %}<a href="{{ nb.cell_link(case.name) }}">{{ case.name }}</a>
{%- else %}{{ case.name }}{% endif %}</td>
<td class="status {{ case.status }}">{{ case.status|upper }}</td>
<td class="num">{{ '%.2f'|format(case.seconds) }}</td><td>{{ case.message }}</td></tr>
{% else %}
<tr><td colspan="4" class="muted">no cases recorded</td></tr>
{% endfor %}
</table>
{% endfor %}

{% if throughput %}
<h2 id="throughput">Throughput</h2>
{% for category, image in plot_images %}
<h3>{{ category }}</h3>
<img src="{{ image }}" alt="throughput of {{ category }}">
{% endfor %}
<table>
<tr><th>category</th><th>operation</th><th>engine</th><th>MB</th><th>rows</th><th>seconds</th>
<th>MB/s</th><th>rows/s</th></tr>
{% for r in throughput %}
<tr><td>{{ r.category }}</td><td>{{ r.operation }}</td><td>{{ r.engine }}</td>
<td class="num">{{ '%.2f'|format(r.bytes / 1000000) }}</td><td class="num">{{ r.rows }}</td>
<td class="num">{{ '%.3f'|format(r.seconds) }}</td><td class="num">{{ '%.1f'|format(r.mb_per_s) }}</td>
<td class="num">{{ '%.0f'|format(r.rows_per_s) }}</td></tr>
{% endfor %}
</table>
{% endif %}
</body></html>
"""


@dataclass
class _Totals:
    passed: int
    failed: int
    skipped: int


def totals(results: Iterable[NotebookResult]) -> _Totals:
    """Case counts over all notebooks (a died notebook counts as one failure)."""
    results = list(results)
    return _Totals(
        passed=sum(len(nb.passed) for nb in results),
        failed=sum(len(nb.failed) for nb in results),
        skipped=sum(len(nb.skipped) for nb in results),
    )


def write_index(
    results: Sequence[NotebookResult],
    output_dir: str | Path,
    run: RunInfo,
    plot_images: Sequence[tuple[str, str]],
) -> Path:
    """Writes ``index.html``: header and totals, failures first, notebooks, cases, throughput."""
    output_dir = Path(output_dir)
    engines: list[dict[str, str]] = []
    for nb in results:
        if nb.engine and nb.engine not in engines:
            engines.append(nb.engine)
    failures = [(nb, case) for nb in results for case in nb.failed]
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    page = env.from_string(_TEMPLATE).render(
        run=run,
        results=results,
        totals=totals(results),
        failures=failures,
        engines=engines,
        throughput=[r for nb in results for r in nb.throughput],
        plot_images=plot_images,
    )
    path = output_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def write_plots(results: Sequence[NotebookResult], output_dir: str | Path) -> list[tuple[str, str]]:
    """One PNG per category with throughput records, in ``<output>/plots/``.

    Returns (category, data URI) pairs: the images are inlined so ``index.html`` stands alone.
    """
    images = []
    for nb in results:
        if nb.throughput:
            path = Path(output_dir) / "plots" / f"{nb.category}.png"
            plots.save_throughput_png(nb.throughput, path, title=f"{nb.category}: MB/s")
            images.append(
                (nb.category, "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode())
            )
    return images


def write_report(results: Sequence[NotebookResult], output_dir: str | Path, run: RunInfo) -> Path:
    """Writes plots, ``index.html`` and ``junit.xml`` into ``output_dir``; returns the index path."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    images = write_plots(results, output_dir)
    write_junit(results, output_dir / "junit.xml")
    return write_index(results, output_dir, run, images)
