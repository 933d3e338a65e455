"""Two report directories side by side: ``runner.py compare REPORT_A REPORT_B [--output FILE]``.

For instance our engine against a real milvus-storage build (a run with ``LOON_LIBRARY`` pointing at
it): every case with its status in A and in B (differences first), and each throughput figure of both
with the ratio B/A. Reads only the reports' ``results.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from .report import SavedReport, read_results
from .throughput import ThroughputRecord

__all__ = ["CaseRow", "RateRow", "compare_cases", "compare_rates", "main", "write_compare"]


@dataclass
class CaseRow:
    category: str
    name: str
    a: str | None
    b: str | None
    message_a: str = ""
    message_b: str = ""

    @property
    def differs(self) -> bool:
        return self.a != self.b


@dataclass
class RateRow:
    category: str
    operation: str
    engine: str
    unit: str
    a: float | None
    b: float | None

    @property
    def ratio(self) -> float | None:
        """B / A (above 1: B is faster)."""
        return self.b / self.a if self.a and self.b is not None else None


def compare_cases(a: SavedReport, b: SavedReport) -> list[CaseRow]:
    """Every case of either report; the ones whose status differs first."""
    cases_a, cases_b = a.cases(), b.cases()
    keys = list(cases_a) + [key for key in cases_b if key not in cases_a]
    rows = []
    for key in keys:
        ca, cb = cases_a.get(key), cases_b.get(key)
        rows.append(CaseRow(*key, ca.status if ca else None, cb.status if cb else None,
                            ca.message if ca else "", cb.message if cb else ""))  # fmt: skip
    return sorted(rows, key=lambda row: not row.differs)


def _rates(records: list[ThroughputRecord]) -> dict[tuple[str, str, str], tuple[float, str]]:
    samples: dict[tuple[str, str, str], list[float]] = {}
    units: dict[tuple[str, str, str], str] = {}
    for r in records:
        key = (r.category, r.operation, r.engine)
        samples.setdefault(key, []).append(r.mb_per_s if r.bytes else r.rows_per_s)
        units[key] = "MB/s" if r.bytes else "rows/s"
    return {key: (statistics.median(values), units[key]) for key, values in samples.items()}


def compare_rates(a: SavedReport, b: SavedReport) -> list[RateRow]:
    rates_a, rates_b = _rates(a.throughput()), _rates(b.throughput())
    rows = []
    for key in list(rates_a) + [k for k in rates_b if k not in rates_a]:
        ra, rb = rates_a.get(key), rates_b.get(key)
        unit = (ra or rb)[1]
        rows.append(RateRow(*key, unit, ra[0] if ra else None, rb[0] if rb else None))
    return rows


def write_compare(a: SavedReport, b: SavedReport, output: str | Path) -> Path:
    from .index import environment

    cases = compare_cases(a, b)
    page = (
        environment()
        .get_template("compare.html.j2")
        .render(a=a, b=b, cases=cases, differing=[row for row in cases if row.differs], rates=compare_rates(a, b))
    )
    output = Path(output)
    output.write_text(page, encoding="utf-8")
    return output


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="runner.py compare", description="Compares two report directories.")
    parser.add_argument("report_a")
    parser.add_argument("report_b")
    parser.add_argument("--output", help="page to write (default: REPORT_B/compare.html)")
    args = parser.parse_args(argv)
    try:
        a, b = read_results(args.report_a), read_results(args.report_b)
        output = Path(args.output) if args.output else Path(args.report_b) / "compare.html"
        path = write_compare(a, b, output)
    except (FileNotFoundError, ValueError) as exc:
        print(f"runner.py compare: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"runner.py compare: error: cannot write the page: {exc}", file=sys.stderr)
        return 2
    differing = sum(row.differs for row in compare_cases(a, b))
    print(f"{differing} cases differ; compare: {path}")
    return 0
