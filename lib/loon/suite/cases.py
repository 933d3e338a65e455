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

Asserts carry their values: in IPython, creating a ``CaseSuite`` (or loading this module as an
IPython extension, as the runner's kernel does) turns on pytest's assertion rewriting for every later
cell (through ``ipytest``), so ``assert a == b`` fails as ``assert [1, 2, 3] == [1, 2]``.

One case at a time: the decorator returns a ``Case``; calling it runs the case again, and running a
case's cell again replaces its earlier result (in JupyterLab and in any live kernel). Under the runner
(``loon.suite.control``) cases can be deselected (``-k``, ``--lf``), the run can stop at the first
failure (``-x``), and each case's start and end are appended to a progress file, so a kernel that dies
mid-case still names the case.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from . import control as run_control
from .config import Profile, get_profile

__all__ = [
    "CASE_MIME",
    "ENGINE_MIME",
    "Case",
    "CaseFailures",
    "CaseResult",
    "CaseSuite",
    "ExitFirst",
    "Skip",
    "Summary",
    "enable_assert_rewriting",
    "format_traceback",
    "keep_failed_data",
    "load_ipython_extension",
    "note_kept_data",
    "publish_bundle",
    "publish_engine",
    "skip",
]

CASE_MIME = "application/vnd.loon.case+json"
ENGINE_MIME = "application/vnd.loon.engine+json"

PASS, FAIL, SKIP = "pass", "fail", "skip"
# Set by the report, never by a running case: a case that could not run (its kernel died, its notebook
# stopped) and a case the runner's -k/--lf left out.
ERROR, DESELECTED = "error", "deselected"
# Captured output of one case kept in its result (the rest is in the notebook cell).
OUTPUT_LIMIT = 64_000


class Skip(Exception):  # noqa: N818 - reads as `raise Skip(reason)` in notebooks
    """Raised inside a case to skip it; the message is the reason shown in the report."""


class CaseFailures(AssertionError):
    """Raised by ``CaseSuite.finish`` when at least one case failed."""


class ExitFirst(Exception):  # noqa: N818 - the runner's -x/--exitfirst, by its pytest name
    """Raised out of a failing case's cell when the runner was asked to stop at the first failure."""


def enable_assert_rewriting() -> bool:
    """Turns on pytest's assertion rewriting for the cells IPython runs from now on (via ``ipytest``).

    Returns False outside IPython. Idempotent.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    if get_ipython() is None:
        return False
    import ipytest

    ipytest.config(rewrite_asserts=True)
    return True


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext loon.suite.cases`` (the runner's kernel loads it at start): asserts carry values."""
    enable_assert_rewriting()


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
    publish_bundle({ENGINE_MIME: fields, "text/plain": f"engine: {fields['info']} ({fields['kind']}) {fields['path']}"})


@dataclass
class CaseResult:
    """Outcome of one case."""

    category: str
    name: str
    status: str  # "pass" | "fail" | "skip" | "error" | "deselected"
    seconds: float = 0.0
    message: str = ""
    traceback: str = ""
    output: str = ""
    """What the case printed (stdout and stderr), cut at ``OUTPUT_LIMIT`` characters."""
    data: list[str] = field(default_factory=list)
    """Datasets kept for inspection (``--keep-data`` and a failing case)."""
    started: float = 0.0
    """Start time (seconds since the epoch); 0 when the case did not run."""

    @property
    def line(self) -> str:
        """The summary printed in the cell output (one line, but a failure's message may span several)."""
        if self.status == PASS:
            note = f": {self.message}" if self.message else ""
            return f"PASS {self.name} ({self.seconds:.2f} s){note}"
        if self.status == SKIP:
            return f"SKIP {self.name}: {self.message}"
        if self.status == DESELECTED:
            return f"DESELECTED {self.name}"
        kept = "".join(f"\n  dataset kept: {path}" for path in self.data)
        return f"{self.status.upper()} {self.name}: {self.message}{kept}"

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
            output=str(data.get("output", "")),
            data=[str(p) for p in data.get("data", [])],
            started=float(data.get("started", 0.0)),
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

    @property
    def deselected(self) -> list[CaseResult]:
        return [r for r in self.results if r.status == DESELECTED]

    def table(self) -> str:
        """A text table of the cases that ran and a totals line."""
        ran = [r for r in self.results if r.status != DESELECTED]
        width = max([len(r.name) for r in ran] + [4])
        lines = [f"{'case':<{width}}  status  seconds  message", "-" * (width + 32)]
        for r in ran:
            message = r.message.splitlines()[0] if r.message else ""
            lines.append(f"{r.name:<{width}}  {r.status.upper():<6}  {r.seconds:>7.2f}  {message[:80]}")
        deselected = f", {len(self.deselected)} deselected" if self.deselected else ""
        lines.append(
            f"{self.category}: {len(self.passed)} passed, {len(self.failed)} failed, "
            f"{len(self.skipped)} skipped of {len(ran)} cases{deselected}"
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
    """``Type: message``; an assertion keeps every line (pytest's explanation of the values)."""
    text = str(exc).strip()
    if not isinstance(exc, AssertionError):
        text = text.splitlines()[0] if text else ""
    elif len(text) > 4000:
        text = text[:4000] + " ..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Tee(io.TextIOBase):
    """Writes to a stream and keeps a copy (a case's output goes to its cell and to its result)."""

    def __init__(self, stream: Any, copy: list[str]) -> None:
        self._stream = stream
        self._copy = copy

    def write(self, text: str) -> int:
        self._copy.append(text)
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:  # fileno, encoding, isatty ... of the real stream
        return getattr(self._stream, name)


@contextlib.contextmanager
def _capture_output() -> Iterator[list[str]]:
    copy: list[str] = []
    with contextlib.redirect_stdout(_Tee(sys.stdout, copy)), contextlib.redirect_stderr(_Tee(sys.stderr, copy)):
        yield copy


def _joined_output(copy: list[str]) -> str:
    text = "".join(copy)
    return text if len(text) <= OUTPUT_LIMIT else text[:OUTPUT_LIMIT] + f"\n... ({len(text)} characters)"


# The case running now (innermost last): Storage asks whether to keep a failing case's dataset.
_running: list[dict[str, Any]] = []


def keep_failed_data() -> bool:
    """Whether a failing case's dataset is to be kept (the runner's ``--keep-data``)."""
    return bool(_running) and _running[-1]["keep_data"]


def note_kept_data(where: str) -> None:
    """Records that the running case left its dataset at ``where`` (shown with its failure)."""
    if _running:
        _running[-1]["data"].append(where)


def _current_cell_id() -> str | None:
    """The id of the notebook cell being executed, when the front end sends it (JupyterLab does)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return getattr(get_ipython(), "_loon_cell_id", None)


def _track_cell_ids() -> None:
    """Remembers each cell's id as IPython starts it (``pre_run_cell`` sees the front end's id)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_loon_tracks_cells", False):
        return

    def remember(info: Any) -> None:
        shell._loon_cell_id = getattr(info, "cell_id", None)

    shell.events.register("pre_run_cell", remember)
    shell._loon_tracks_cells = True


class Case:
    """A case a suite ran: call it to run it again (its new result replaces the old one).

    Reads like its latest ``CaseResult``: ``case.status``, ``case.message``, ``case.result``.
    """

    def __init__(
        self,
        suite: CaseSuite,
        func: Callable[[], Any],
        name: str,
        run: Callable[[Callable[[], Any], str], Any] | None = None,
    ) -> None:
        self.suite = suite
        self.func = func
        self.name = name
        self._run = run or suite.run  # a wrapper's run (e.g. the session's, which may skip the case)
        self.__doc__ = getattr(func, "__doc__", None)

    @property
    def result(self) -> CaseResult:
        return self.suite.result_of(self.name)

    def __call__(self) -> CaseResult:
        self._run(self.func, self.name)
        return self.result

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_") or attribute in ("suite", "func", "name", "result"):
            raise AttributeError(attribute)
        return getattr(self.result, attribute)

    def __repr__(self) -> str:
        return f"<Case {self.result.line.splitlines()[0]}>"


class CaseSuite:
    """Runs and records the cases of one notebook (one category)."""

    Skip = Skip

    def __init__(self, category: str, profile: str | Profile = "smoke") -> None:
        self.category = category
        self.profile = get_profile(profile)
        self.results: list[CaseResult] = []
        self.running: str | None = None
        """Name of the case being run (None between cases): sessions name its datasets after it."""
        self.control = run_control.current()
        self._origin: dict[str, str | None] = {}  # case name -> id of the cell that recorded it
        enable_assert_rewriting()
        _track_cell_ids()

    def result_of(self, name: str) -> CaseResult:
        """The latest result of the case ``name``."""
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"no case {name!r} in category {self.category!r}")

    def _claim(self, name: str) -> None:
        """Allows recording ``name``: new, or the same case run again (its cell re-executed, or called)."""
        if name not in self._origin:
            self._origin[name] = _current_cell_id()
            return
        # Under the runner every cell runs once, so a second result of a name is a second case with it;
        # in a live kernel it is the same case run again unless it comes from another (known) cell.
        previous, cell = self._origin[name], _current_cell_id()
        if self.control.under_runner or (previous and cell and previous != cell):
            # Two cases with one name would be indistinguishable in the report and junit.xml.
            raise ValueError(f"duplicate case name {name!r} in category {self.category!r}")

    def _record(self, result: CaseResult) -> CaseResult:
        for index, earlier in enumerate(self.results):
            if earlier.name == result.name:
                self.results[index] = result  # a case run again replaces its earlier result
                break
        else:
            self.results.append(result)
        if result.status != DESELECTED:
            self.control.emit("end", category=self.category, case=result.name, result=result.to_dict())
        publish_bundle({CASE_MIME: result.to_dict(), "text/plain": result.line})
        if result.status == FAIL:
            # The full traceback goes to stderr in the case's own cell, below its FAIL line.
            sys.stdout.flush()
            print(result.traceback, file=sys.stderr, end="" if result.traceback.endswith("\n") else "\n")
            sys.stderr.flush()
        return result

    def selected(self, name: str) -> bool:
        """Whether the runner's ``-k``/``--lf`` selection includes the case ``name`` (always, interactively)."""
        return self.control.selects(self.category, name)

    def run(self, func: Callable[[], Any], name: str | None = None) -> CaseResult:
        """Runs ``func`` as a case named ``name`` (default: the function's name) and records it."""
        name = name or func.__name__
        self._claim(name)
        if not self.selected(name):
            return self._record(CaseResult(self.category, name, DESELECTED))
        started = time.time()
        self.control.emit("start", category=self.category, case=name)
        running = {"keep_data": self.control.keep_data, "data": []}
        _running.append(running)
        start = time.perf_counter()
        self.running = name
        try:
            with _capture_output() as output:
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
            _running.pop()
        result.output = _joined_output(output)
        result.data = running["data"]
        result.started = started
        self._record(result)
        if result.status == FAIL and self.control.exitfirst:
            raise ExitFirst(f"stopping after the first failure (-x): {name}")
        return result

    def case(self, func: Callable[[], Any] | None = None, *, name: str | None = None) -> Any:
        """Decorator that runs the function right away as a case and returns it as a ``Case``.

        A string the function returns becomes the message of a passing case (shown in the report).
        Calling the returned ``Case`` runs the case again.

        Use as ``@suite.case`` or ``@suite.case(name="test_x")``.
        """
        if func is None:
            return lambda f: self.case(f, name=name)
        case_name = name or func.__name__
        self.run(func, case_name)
        return Case(self, func, case_name)

    def skip_case(self, name: str, reason: str) -> None:
        """Records ``name`` as skipped without running anything."""
        self._claim(name)
        status = SKIP if self.selected(name) else DESELECTED
        # Returns nothing: as a cell's last expression a result would print its repr.
        self._record(CaseResult(self.category, name, status, 0.0, reason if status == SKIP else ""))

    def summary(self) -> Summary:
        return Summary(self.category, list(self.results))

    def finish(self) -> Summary:
        """Prints the summary; raises ``CaseFailures`` naming every failed case, if any.

        Under the runner it prints that line instead of raising: the report takes each result from its
        case's own cell, and an exception here would put papermill's error banner of the executed
        notebook on this summary cell instead of on a failing case.
        """
        summary = self.summary()
        print(summary.table())
        if summary.failed:
            names = ", ".join(r.name for r in summary.failed)
            ran = len(summary.results) - len(summary.deselected)
            message = f"{len(summary.failed)} of {ran} cases failed: {names}"
            if self.control.under_runner:
                print(message)
                return summary
            raise CaseFailures(message)
        return summary
