"""What the runner tells the notebooks' case protocol, and what the protocol tells the runner back.

The runner writes a ``RunControl`` as JSON and points the kernel at it with the environment variable
``LOON_SUITE_RUN``. It says which cases to run (``-k`` expression, ``--lf`` names), whether to stop at
the first failure (``-x``), whether a failing case keeps its dataset (``--keep-data``) and where to
append progress events. Without the variable (a notebook opened in JupyterLab) every case runs.

Progress events are JSON lines, appended and flushed as they happen, so the runner can show them live
and still knows which case was running when a kernel died::

    {"event": "start", "category": "write_read", "case": "test_x", "time": 1700000000.0}
    {"event": "end", "category": "write_read", "case": "test_x", "result": {...CaseResult...}}
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ENV_VAR", "RunControl", "case_matches", "compile_keyword", "current", "read_events"]

ENV_VAR = "LOON_SUITE_RUN"


def compile_keyword(expression: str) -> Any:
    """Compiles a pytest ``-k`` expression (pytest's own grammar: ``and``, ``or``, ``not``, parentheses).

    Raises ``ValueError`` with pytest's message for a malformed expression.
    """
    from _pytest.mark.expression import Expression

    try:
        return Expression.compile(expression)
    except SyntaxError as exc:  # pytest raises SyntaxError (ParseError in older versions) for bad input
        raise ValueError(f"bad -k expression {expression!r}: {exc}") from exc


def case_matches(compiled: Any, category: str, name: str) -> bool:
    """Whether a case is selected: as with pytest's ``-k``, each word is a case-insensitive substring
    of one of the case's names (the case name, its category, or ``category::case``)."""
    names = [name.lower(), category.lower(), f"{category}::{name}".lower()]

    def matcher(word: str, /, **_kwargs: Any) -> bool:
        word = word.lower()
        return any(word in candidate for candidate in names)

    return bool(compiled.evaluate(matcher))


@dataclass
class RunControl:
    """The runner's instructions for one notebook (JSON file named by ``LOON_SUITE_RUN``)."""

    keyword: str | None = None
    """pytest-style ``-k`` expression over case names; None selects every case."""
    only: dict[str, list[str]] | None = None
    """``--lf``: category -> the case names to run; None selects every case."""
    exitfirst: bool = False
    keep_data: bool = False
    progress: str | None = None
    """File the case protocol appends progress events to."""
    under_runner: bool = True
    _compiled: Any = field(default=None, repr=False, compare=False)

    def selects(self, category: str, name: str) -> bool:
        if self.only is not None and name not in self.only.get(category, []):
            return False
        if self.keyword:
            if self._compiled is None:
                self._compiled = compile_keyword(self.keyword)
            return case_matches(self._compiled, category, name)
        return True

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("_compiled")
        return json.dumps(data, indent=1)

    @classmethod
    def from_json(cls, text: str) -> RunControl:
        data = json.loads(text)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and not k.startswith("_")}
        return cls(**known)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    def emit(self, event: str, **fields: Any) -> None:
        """Appends one progress event (no-op without a progress file)."""
        if not self.progress:
            return
        line = json.dumps({"event": event, "time": time.time(), **fields})
        # One open-append-close per event: a kernel killed mid-case loses nothing written before.
        with open(self.progress, "a", encoding="utf-8") as out:
            out.write(line + "\n")


_INTERACTIVE = RunControl(under_runner=False)


def current() -> RunControl:
    """The runner's control for this process, or the interactive default (run everything)."""
    path = os.environ.get(ENV_VAR)
    if not path:
        return _INTERACTIVE
    return RunControl.from_json(Path(path).read_text(encoding="utf-8"))


def read_events(path: str | Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Complete progress events of ``path`` from byte ``offset``; returns them and the next offset.

    A last line without its newline (being written right now) is left for the next call.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            chunk = f.read()
    except FileNotFoundError:
        return [], offset
    events = []
    end = chunk.rfind(b"\n") + 1
    for line in chunk[:end].splitlines():
        if line.strip():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a torn line of a killed writer: nothing to learn from it
    return events, offset + end


def iter_events(path: str | Path) -> Iterator[dict[str, Any]]:
    events, _ = read_events(path)
    yield from events


def last_started(events: Iterable[dict[str, Any]]) -> str | None:
    """The case that started and never ended (the one running when the notebook stopped), if any."""
    running: dict[str, bool] = {}
    for event in events:
        if event.get("event") == "start":
            running[event["case"]] = True
        elif event.get("event") == "end":
            running.pop(event.get("case"), None)
    return next(reversed(running), None) if running else None
