"""What a run is asked to do, known before any kernel starts: the cases each notebook defines, which of
them a ``-k`` expression selects, and the failed cases of an earlier report (``--lf``).

Case names are read from the notebook source (``@suite.case`` functions, ``@suite.case(name=...)``,
``skip_case("name", ...)``), so the report can list a case that never ran because its kernel died.
Cases named at run time (``suite.run(f, name=f"test_x[{n}]")``) are only known once they run.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat

from . import control

__all__ = ["failed_cases", "notebook_may_match", "planned_cases"]

_CASE_DEF = re.compile(r"^\s*def (test_\w+)\(|skip_case\(\s*[\"'](test_\w+)[\"']", re.MULTILINE)


def _is_case_decorator(node: ast.expr) -> tuple[bool, str | None]:
    """(is ``*.case`` / ``*.case(...)``, the ``name=`` it gives)."""
    target = node.func if isinstance(node, ast.Call) else node
    is_case = (isinstance(target, ast.Attribute) and target.attr == "case") or (
        isinstance(target, ast.Name) and target.id == "case"
    )
    name = None
    if is_case and isinstance(node, ast.Call):
        for keyword in node.keywords:
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                name = str(keyword.value.value)
    return is_case, name


def _name_prefix(node: ast.expr) -> str | None:
    """The leading literal of an f-string case name (``f"test_x[{n}]"`` -> ``test_x[``)."""
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    return None


def _cases_in_source(source: str, prefixes: list[str] | None = None) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython syntax (magics): fall back to the plain patterns
        return [a or b for a, b in _CASE_DEF.findall(source)]
    names: list[tuple[int, str]] = []
    if prefixes is not None:  # cases named at run time: suite.run(f, name=f"test_x[{n}]")
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "run":
                for keyword in node.keywords:
                    prefix = _name_prefix(keyword.value) if keyword.arg == "name" else None
                    if prefix:
                        prefixes.append(prefix)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                is_case, name = _is_case_decorator(decorator)
                if is_case:
                    names.append((node.lineno, name or node.name))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "skip_case"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.append((node.lineno, str(node.args[0].value)))
    return [name for _, name in sorted(names)]


def planned_cases(notebook: str | Path, prefixes: list[str] | None = None) -> list[str]:
    """Case names a notebook defines in its source, in notebook order (no duplicates).

    ``prefixes``, if given, receives the literal beginnings of names given at run time.
    """
    names: list[str] = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "code":
            names.extend(_cases_in_source(cell.source, prefixes))
    return list(dict.fromkeys(names))


def notebook_may_match(category: str, notebook: str | Path, keyword: str) -> bool:
    """Whether ``-k keyword`` can select a case of this notebook; notebooks it cannot are not started.

    Judged on the names in the source and the literal beginnings of names given at run time, so a
    notebook is never left out wrongly for a pure ``-k word``; for ``not``-expressions it runs.
    """
    compiled = control.compile_keyword(keyword)
    prefixes: list[str] = []
    candidates = planned_cases(notebook, prefixes) + prefixes
    if any(control.case_matches(compiled, category, name) for name in candidates):
        return True
    return control.case_matches(compiled, category, "\0")  # e.g. "not x": matches unknown names


def failed_cases(report_dir: str | Path) -> dict[str, list[str]] | None:
    """``--lf``: category -> names of the cases that failed or errored in an earlier report.

    None when ``report_dir`` holds no report (``results.json``).
    """
    path = Path(report_dir) / "results.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    failed: dict[str, list[str]] = {}
    for notebook in data.get("notebooks", []):
        for case in notebook.get("cases", []):
            if case.get("status") in ("fail", "error"):
                failed.setdefault(notebook["category"], []).append(case["name"])
    return failed
