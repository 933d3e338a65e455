"""Throughput charts: MB/s per operation, one bar per engine (e.g. loon beside pyarrow).

Figures are built with the object-oriented API and rendered by the Agg canvas, never through
pyplot, so they work the same in a kernel, in the runner and in pytest, whatever the backend.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .cases import publish_bundle
from .throughput import ThroughputRecord

__all__ = ["figure_png", "plot_rates", "rates_figure", "save_throughput_png", "show_throughput", "throughput_figure"]


def _grouped(
    records: Iterable[ThroughputRecord],
) -> tuple[list[str], list[str], dict[tuple[str, str], float]]:
    """Operations and engines in first-seen order, and the mean MB/s per (operation, engine).

    Records without bytes (event counts such as commits, see ``rates_figure``) have no MB/s and
    are left out, unless no record has bytes at all.
    """
    records = list(records)
    if any(r.bytes for r in records):
        records = [r for r in records if r.bytes]
    operations: list[str] = []
    engines: list[str] = []
    samples: dict[tuple[str, str], list[float]] = {}
    for r in records:
        if r.operation not in operations:
            operations.append(r.operation)
        if r.engine not in engines:
            engines.append(r.engine)
        samples.setdefault((r.operation, r.engine), []).append(r.mb_per_s)
    means = {key: sum(values) / len(values) for key, values in samples.items()}
    return operations, engines, means


def throughput_figure(records: Iterable[ThroughputRecord], title: str | None = None) -> Figure:
    """A grouped bar chart of MB/s: operations on the x axis, one bar per engine."""
    operations, engines, means = _grouped(records)
    fig = Figure(figsize=(max(5.0, 1.4 * len(operations) + 2), 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(engines))
    for e, engine in enumerate(engines):
        # Only operations this engine ran: a missing bar must not read as 0 MB/s.
        present = [i for i, op in enumerate(operations) if (op, engine) in means]
        xs = [i + (e - (len(engines) - 1) / 2) * width for i in present]
        heights = [means[(operations[i], engine)] for i in present]
        bars = ax.bar(xs, heights, width, label=engine)
        ax.bar_label(bars, fmt=lambda v: f"{v:.3g}", fontsize=7)
    ax.set_xticks(range(len(operations)), operations, rotation=20, ha="right")
    ax.set_ylabel("MB/s")
    ax.set_title(title or "throughput")
    if engines:
        ax.legend(fontsize=8)
    ax.margins(y=0.15)
    return fig


def figure_png(fig: Figure) -> bytes:
    """The figure rendered as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def save_throughput_png(
    records: Iterable[ThroughputRecord], path: str | Path, title: str | None = None
) -> Path:
    """Writes the throughput chart of ``records`` to ``path`` (parents created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(figure_png(throughput_figure(records, title)))
    return path


def show_throughput(records: Iterable[ThroughputRecord], title: str | None = None) -> None:
    """Shows the chart inline in a notebook (as an ``image/png`` output)."""
    records = list(records)
    png = figure_png(throughput_figure(records, title))
    publish_bundle(
        {
            "image/png": base64.b64encode(png).decode("ascii"),
            "text/plain": f"<throughput chart of {len(records)} records>",
        }
    )


def rates_figure(records: Iterable[ThroughputRecord], unit: str = "commits/s", title: str | None = None) -> Figure:
    """A bar chart of ``rows_per_s`` per operation, labelled with ``unit`` (e.g. commits/s).

    For operations that count events rather than bytes: record them with ``rows`` = the number
    of events (commits) so ``rows_per_s`` is the event rate.
    """
    records = list(records)
    operations: list[str] = []
    samples: dict[str, list[float]] = {}
    for r in records:
        if r.operation not in operations:
            operations.append(r.operation)
        samples.setdefault(r.operation, []).append(r.rows_per_s)
    fig = Figure(figsize=(max(5.0, 1.2 * len(operations) + 2), 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    heights = [sum(samples[op]) / len(samples[op]) for op in operations]
    bars = ax.bar(range(len(operations)), heights, 0.6)
    ax.bar_label(bars, fmt=lambda v: f"{v:.3g}", fontsize=7)
    ax.set_xticks(range(len(operations)), operations, rotation=20, ha="right")
    ax.set_ylabel(unit)
    ax.set_title(title or unit)
    ax.margins(y=0.15)
    return fig


def plot_rates(records: Iterable[ThroughputRecord], unit: str = "commits/s", title: str | None = None) -> None:
    """Shows ``rates_figure`` inline in a notebook (as an ``image/png`` output)."""
    records = list(records)
    png = figure_png(rates_figure(records, unit, title))
    publish_bundle(
        {
            "image/png": base64.b64encode(png).decode("ascii"),
            "text/plain": f"<{unit} chart of {len(records)} records>",
        }
    )
