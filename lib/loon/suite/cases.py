"""The case protocol of the notebooks: run, record and report test cases cell by cell.

::

    suite = CaseSuite("write_read", profile=profile)     # setup cell

    @suite.case                                           # runs the function right away
    def test_file_rolling_by_size():
        ...

    suite.skip_case("test_import_single_vortex_file", "vortex is not supported by this engine")
    suite.finish()                                        # last cell: raises CaseFailures

A failing case does not raise out of its cell, so the remaining cells still run; its traceback
is printed in that cell's output. Every result is also emitted as a display bundle of MIME type
``application/vnd.loon.case+json`` so the report can be rebuilt from the executed notebook alone.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .config import Profile, get_profile

__all__ = [
    "CASE_MIME",
    "ENGINE_MIME",
    "CaseFailures",
    "CaseResult",
    "CaseSuite",
    "Skip",
    "Summary",
    "format_traceback",
    "publish_bundle",
    "publish_engine",
    "skip",
]

CASE_MIME = "application/vnd.loon.case+json"
ENGINE_MIME = "application/vnd.loon.engine+json"

PASS, FAIL, SKIP = "pass", "fail", "skip"


class Skip(Exception):  # noqa: N818 - reads as `raise Skip(reason)` in notebooks
    """Raised inside a case to skip it; the message is the reason shown in the report."""


class CaseFailures(AssertionError):
    """Raised by ``CaseSuite.finish`` when at least one case failed."""


def skip(reason: str) -> None:
    """Skips the running case with ``reason`` (a reason a user can act on)."""
    raise Skip(reason)


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def publish_bundle(bundle: Mapping[str, Any]) -> None:
    """Shows a MIME bundle in the notebook output; outside IPython prints its ``text/plain``."""
    if _in_ipython():
        from IPython.display import display

        display(dict(bundle), raw=True)
    elif bundle.get("text/plain"):
        print(bundle["text/plain"])


def publish_engine(engine: Any) -> None:
    """Records which engine ran the notebook (shown in the report header).

    ``engine`` is a mapping or an object with ``path``, ``kind`` and ``info`` (e.g.
    ``loon.library_info()``).
    """
    if isinstance(engine, Mapping):
        fields = {key: engine.get(key, "") for key in ("path", "kind", "info")}
    else:
        fields = {key: getattr(engine, key, "") for key in ("path", "kind", "info")}
    fields = {key: str(value) for key, value in fields.items()}
    publish_bundle(
        {ENGINE_MIME: fields, "text/plain": f"engine: {fields['info']} ({fields['kind']}) {fields['path']}"}
    )


@dataclass
class CaseResult:
    """Outcome of one case."""

    category: str
    name: str
    status: str  # "pass" | "fail" | "skip"
    seconds: float = 0.0
    message: str = ""
    traceback: str = ""

    @property
    def line(self) -> str:
        """The one-line summary printed in the cell output."""
        if self.status == PASS:
            note = f": {self.message}" if self.message else ""
            return f"PASS {self.name} ({self.seconds:.2f} s){note}"
        if self.status == SKIP:
            return f"SKIP {self.name}: {self.message}"
        return f"FAIL {self.name}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaseResult:
        return cls(
            category=str(data.get("category", "")),
            name=str(data["name"]),
            status=str(data["status"]),
            seconds=float(data.get("seconds", 0.0)),
            message=str(data.get("message", "")),
            traceback=str(data.get("traceback", "")),
        )


@dataclass
class Summary:
    """Counts of a finished suite."""

    category: str
    results: list[CaseResult] = field(default_factory=list)

    @property
    def passed(self) -> list[CaseResult]:
        return [r for r in self.results if r.status == PASS]

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if r.status == FAIL]

    @property
    def skipped(self) -> list[CaseResult]:
        return [r for r in self.results if r.status == SKIP]

    def table(self) -> str:
        """A text table of every case and a totals line."""
        width = max([len(r.name) for r in self.results] + [4])
        lines = [f"{'case':<{width}}  status  seconds  message", "-" * (width + 32)]
        for r in self.results:
            message = r.message.splitlines()[0] if r.message else ""
            lines.append(f"{r.name:<{width}}  {r.status.upper():<6}  {r.seconds:>7.2f}  {message[:80]}")
        lines.append(
            f"{self.category}: {len(self.passed)} passed, {len(self.failed)} failed, "
            f"{len(self.skipped)} skipped of {len(self.results)} cases"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        # Short: finish() is a cell's last expression, and the table is already printed.
        return (
            f"<Summary {self.category}: {len(self.passed)} passed, {len(self.failed)} failed, "
            f"{len(self.skipped)} skipped>"
        )


def _cell_names() -> dict[str, str]:
    """IPython's compiled-cell filenames -> ``Cell In[n]``, so tracebacks name notebook cells."""
    try:
        from IPython import get_ipython
    except ImportError:
        return {}
    shell = get_ipython()
    filename_map = getattr(getattr(shell, "compile", None), "_filename_map", None) or {}
    return {filename: f"Cell In[{count}]" for filename, count in filename_map.items()}


def format_traceback(exc: BaseException, skip_frames: int = 0) -> str:
    """The formatted traceback of ``exc`` without its first ``skip_frames`` frames."""
    tb = exc.__traceback__
    for _ in range(skip_frames):
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    for filename, cell in _cell_names().items():
        text = text.replace(f'File "{filename}"', f'File "{cell}"')
    return text


def _exception_message(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class CaseSuite:
    """Runs and records the cases of one notebook (one category)."""

    Skip = Skip

    def __init__(self, category: str, profile: str | Profile = "smoke") -> None:
        self.category = category
        self.profile = get_profile(profile)
        self.results: list[CaseResult] = []
        self._names: set[str] = set()
        self.running: str | None = None
        """Name of the case being run (None between cases): sessions name its datasets after it."""

    def _claim(self, name: str) -> None:
        # Two cases with one name would be indistinguishable in the report and junit.xml.
        if name in self._names:
            raise ValueError(f"duplicate case name {name!r} in category {self.category!r}")
        self._names.add(name)

    def _record(self, result: CaseResult) -> CaseResult:
        self.results.append(result)
        publish_bundle({CASE_MIME: result.to_dict(), "text/plain": result.line})
        if result.status == FAIL:
            # The full traceback goes to stderr in the case's own cell, below its FAIL line.
            sys.stdout.flush()
            print(result.traceback, file=sys.stderr, end="" if result.traceback.endswith("\n") else "\n")
            sys.stderr.flush()
        return result

    def run(self, func: Callable[[], Any], name: str | None = None) -> CaseResult:
        """Runs ``func`` as a case named ``name`` (default: the function's name) and records it."""
        name = name or func.__name__
        self._claim(name)
        start = time.perf_counter()
        self.running = name
        try:
            returned = func()
        except Skip as exc:
            result = CaseResult(self.category, name, SKIP, time.perf_counter() - start, str(exc))
        except Exception as exc:  # KeyboardInterrupt/SystemExit are BaseException: they propagate
            seconds = time.perf_counter() - start
            # Drop this frame from the traceback: the interesting part starts in the case.
            tb = format_traceback(exc, skip_frames=1)
            result = CaseResult(self.category, name, FAIL, seconds, _exception_message(exc), tb)
        else:
            # A passing case may return a short note for the report (e.g. what it exercised).
            note = returned if isinstance(returned, str) else ""
            result = CaseResult(self.category, name, PASS, time.perf_counter() - start, note)
        finally:
            self.running = None
        return self._record(result)

    def case(self, func: Callable[[], Any] | None = None, *, name: str | None = None) -> Any:
        """Decorator that runs the function immediately as a case and returns its ``CaseResult``.

        A string the function returns becomes the message of a passing case (shown in the report).

        Use as ``@suite.case`` or ``@suite.case(name="test_x")``.
        """
        if func is None:
            return lambda f: self.run(f, name)
        return self.run(func, name)

    def skip_case(self, name: str, reason: str) -> None:
        """Records ``name`` as skipped without running anything."""
        self._claim(name)
        # Returns nothing: as a cell's last expression a result would print its repr.
        self._record(CaseResult(self.category, name, SKIP, 0.0, reason))

    def summary(self) -> Summary:
        return Summary(self.category, list(self.results))

    def finish(self) -> Summary:
        """Prints the summary; raises ``CaseFailures`` naming every failed case, if any."""
        summary = self.summary()
        print(summary.table())
        if summary.failed:
            names = ", ".join(r.name for r in summary.failed)
            raise CaseFailures(f"{len(summary.failed)} of {len(summary.results)} cases failed: {names}")
        return summary
