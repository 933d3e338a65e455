"""``index.html``: the run at a glance (header, changes since the previous comparable run, failures with
their values and a link to the case's cell, every notebook and case, throughput trends and plots).

The page stands alone: plots are inlined as data URIs, and no script runs in it.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

import jinja2

from . import plots
from .report import NotebookResult, RunInfo, totals

__all__ = ["environment", "sparkline", "write_index", "write_plots"]


def environment() -> jinja2.Environment:
    """The report's templates (``loon/suite/templates``), HTML-escaped, strict about undefined names."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("loon.suite", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def sparkline(values: Sequence[float], width: int = 120, height: int = 24) -> str:
    """A small inline SVG line of ``values`` (the last point marked)."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)
    points = [(i * step, height - 3 - (v - low) / span * (height - 6)) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    x, y = points[-1]
    return (
        f'<svg class="spark" width="{width + 4}" height="{height}" viewBox="-2 0 {width + 4} {height}">'
        f'<polyline fill="none" stroke="#555" stroke-width="1.5" points="{path}"/>'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#c62828"/></svg>'
    )


def write_plots(results: Sequence[NotebookResult], output_dir: str | Path) -> list[tuple[str, str]]:
    """One PNG per category with throughput records, in ``<output>/plots/``.

    Returns (category, data URI) pairs: the images are inlined so ``index.html`` stands alone.
    """
    images = []
    for nb in results:
        if nb.throughput:
            path = Path(output_dir) / "plots" / f"{nb.category}.png"
            plots.save_throughput_png(nb.throughput, path, title=f"{nb.category}: MB/s")
            images.append((nb.category, "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()))
    return images


def write_index(
    results: Sequence[NotebookResult], output_dir: str | Path, run: RunInfo, changes: object | None = None
) -> Path:
    """Writes ``index.html``; ``changes`` is the history's ``Changes`` of this run (None: no history)."""
    from .history import TREND_MIN_RUNS

    output_dir = Path(output_dir)
    engines: list[dict[str, str]] = []
    for nb in results:
        if nb.engine:
            engine = dict(nb.engine)
            if run.engine.get("path") == engine.get("path") and run.engine.get("build"):
                engine["build"] = run.engine["build"]
            if engine not in engines:
                engines.append(engine)
    engines = [{"build": "", **e} for e in engines]
    failures = [(nb, case) for nb in results for case in nb.failed + nb.errors]
    page = (
        environment()
        .get_template("index.html.j2")
        .render(
            run=run,
            results=results,
            totals=totals(results),
            crashed=any(nb.crashed for nb in results),
            failures=failures,
            engines=engines,
            changes=changes,
            throughput=[r for nb in results for r in nb.throughput],
            plot_images=write_plots(results, output_dir),
            sparkline=sparkline,
            min_runs=TREND_MIN_RUNS,
        )
    )
    path = output_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
