"""The binding (``loon``) stands apart from the suite harness (``loon.suite``): it never imports it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

BINDING = Path(__file__).resolve().parents[1] / "lib" / "loon"


def _imported_modules(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved against ``loon``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "loon" if node.level == 1 else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_binding_modules_never_import_the_harness():
    offenders = {
        path.name: sorted(name for name in _imported_modules(path) if name.startswith("loon.suite") or name == "suite")
        for path in BINDING.glob("*.py")
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_importing_the_binding_loads_no_harness_module():
    code = "import sys, loon; print(sorted(m for m in sys.modules if m.startswith('loon.suite')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_the_import_check_sees_a_harness_import(tmp_path):
    """The check above can fail: a module importing the harness is caught (relative and absolute)."""
    bad = tmp_path / "bad.py"
    bad.write_text("from .suite import cases\nimport loon.suite.config\n")
    assert {"loon.suite.cases", "loon.suite.config"} <= _imported_modules(bad)
