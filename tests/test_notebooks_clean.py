"""Notebooks are committed clean: no outputs, a heading first, and a papermill parameters cell."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted([*(REPO / "notebooks").glob("*.ipynb"), *(REPO / "tests" / "notebooks").rglob("*.ipynb")])
PARAMETERS = {"backend", "params_file", "profile", "output_dir"}


def test_fixture_notebooks_exist():
    assert any(path.parent.name == "notebooks" and path.parent.parent.name == "tests" for path in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_notebook_is_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"cells {dirty} have outputs or execution counts: clear them before committing"
    assert "papermill" not in nb.metadata, "executed notebook committed (papermill metadata present)"
    assert nb.cells and nb.cells[0].cell_type == "markdown", "the first cell must be a markdown heading"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_notebook_has_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [cell for cell in nb.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell must be tagged 'parameters'"
    cell = tagged[0]
    assert cell.cell_type == "code"
    defaults = {}
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            defaults[node.targets[0].id] = ast.literal_eval(node.value)
    assert PARAMETERS <= set(defaults), f"parameters cell must define {sorted(PARAMETERS - set(defaults))}"
    # Defaults runnable in plain Jupyter ("Run all"): local backend, smoke profile.
    assert defaults["backend"] == "local" and defaults["profile"] == "smoke"
