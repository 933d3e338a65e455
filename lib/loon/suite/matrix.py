"""The top of a several-backend run: ``index.html`` with the backends side by side and one ``junit.xml``.

Each backend's own report (index, JUnit, results.json, executed notebooks) is in ``<output>/<backend>/``,
exactly as a one-backend run writes it. This page has a row per notebook and a column per backend, each
cell that notebook's status and case counts linking to its executed notebook; the JUnit file holds every
backend's ``<testsuite>`` elements (already named ``<backend>.<category>``), so CI sees the whole matrix.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from .report import NotebookResult, totals

__all__ = ["write_matrix"]

Entry = tuple[str, Path, Sequence[NotebookResult]]
"""(backend name, its report directory, its notebooks' results)."""

_COLOURS = {"PASS": "#d4edda", "FAIL": "#f8d7da", "ERROR": "#f5c6cb", "INTERRUPTED": "#fff3cd",
            "CANCELLED": "#e2e3e5"}  # fmt: skip


def _cell(backend_dir: Path, output_dir: Path, nb: NotebookResult) -> str:
    link = (backend_dir / f"{nb.category}.html").relative_to(output_dir)
    colour = _COLOURS.get(nb.status, "#ffffff")
    return (f'<td style="background:{colour}"><a href="{html.escape(str(link))}">{html.escape(nb.status)}</a>'
            f"<br><small>{html.escape(nb.summary_line())}</small></td>")  # fmt: skip


def write_index(entries: Sequence[Entry], output_dir: Path, executor: str, wall_seconds: float, started: str) -> Path:
    categories = list(dict.fromkeys(nb.category for _, _, results in entries for nb in results))
    by_backend = {name: {nb.category: nb for nb in results} for name, _, results in entries}
    head = "".join(
        f'<th><a href="{html.escape(str((d / "index.html").relative_to(output_dir)))}">{html.escape(name)}</a></th>'
        for name, d, _ in entries
    )
    rows = []
    for category in categories:
        cells = "".join(
            _cell(d, output_dir, by_backend[name][category]) if category in by_backend[name] else "<td>-</td>"
            for name, d, _ in entries
        )
        rows.append(f"<tr><th>{html.escape(category)}</th>{cells}</tr>")
    total_cells = "".join(f"<td>{html.escape(totals(results).line())}</td>" for _, _, results in entries)
    rows.append(f"<tr><th>all cases</th>{total_cells}</tr>")
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>loon suite: {len(entries)} backends</title>
<style>body{{font-family:sans-serif}} table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;padding:4px 8px;
vertical-align:top;text-align:left}}</style></head><body>
<h1>loon suite: {len(entries)} backends side by side</h1>
<p>Started {html.escape(started)}, {wall_seconds:.1f} s wall time, executor <b>{html.escape(executor)}</b>.
Each backend's full report (cases, throughput, history) is linked from its column head.</p>
<table><tr><th>notebook</th>{head}</tr>
{chr(10).join(rows)}
</table></body></html>
"""
    path = output_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def merge_junit(paths: Sequence[Path], output: Path, name: str) -> Path:
    """One ``<testsuites>`` holding every suite of the given JUnit files, with summed counts."""
    root = ET.Element("testsuites", name=name)
    sums = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    seconds = 0.0
    for path in paths:
        for suite in ET.parse(path).getroot().iter("testsuite"):
            root.append(suite)
            for key in sums:
                sums[key] += int(suite.get(key, "0"))
            seconds += float(suite.get("time", "0"))
    for key, value in sums.items():
        root.set(key, str(value))
    root.set("time", f"{seconds:.3f}")
    ET.ElementTree(root).write(output, encoding="utf-8", xml_declaration=True)
    return output


def write_matrix(
    entries: Sequence[Entry], output_dir: str | Path, executor: str, wall_seconds: float, started: str
) -> tuple[Path, Path]:
    """Writes ``index.html`` and ``junit.xml`` of a several-backend run into ``output_dir``."""
    output_dir = Path(output_dir)
    index = write_index(entries, output_dir, executor, wall_seconds, started)
    junit = merge_junit([d / "junit.xml" for _, d, _ in entries], output_dir / "junit.xml",
                        f"loon suite ({', '.join(name for name, _, _ in entries)})")  # fmt: skip
    return index, junit
