"""Notebooks read as test specifications: a short setup cell, capabilities instead of identities,
datasets named after the running case."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
SETUP_LINES = 15


def _code_cells(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_setup_cell_is_one_session_call_and_short(path):
    cells = _code_cells(path)
    setup = cells[1]  # after the parameters cell
    lines = [line for line in setup.splitlines() if line.strip()]
    assert len(lines) <= SETUP_LINES, f"setup cell has {len(lines)} lines (at most {SETUP_LINES})"
    assert setup.count("Session(") == 1, "the setup cell opens the notebook's session with one Session(...) call"
    assert "load_config" not in setup and "CaseSuite(" not in setup and "Storage(" not in setup


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_asks_capabilities_not_identity(path):
    text = "\n".join(_code_cells(path))
    for word in ("is_loon_engine", "library_info()", "LOON_ONLY", "IS_LOON"):
        assert word not in text, f"{path.name} checks which engine is loaded ({word}); ask suite.supports/require"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_cases_do_not_type_their_own_name(path):
    text = "\n".join(_code_cells(path))
    typed = re.findall(r"""dataset\(\s*f?["']test_\w+""", text)
    assert not typed, f"{path.name}: datasets are named after the running case (suite.dataset()), found {typed}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_helper_shared_between_notebooks_is_redefined(path):
    """``append``/``read``/``assert_clean``-style helpers live on the case dataset (loon.suite.storage)."""
    text = "\n".join(_code_cells(path))
    defined = set(re.findall(r"^def (\w+)\(", text, re.M))
    assert not defined & {"append", "read", "create", "assert_clean", "extension", "need_fiu", "roundtrip"}, defined


# Ways to reach a data file through the local disk instead of the backend.
LOCAL_ACCESS = re.compile(
    r"local_path|local_files|local_root|\.is_local\b|cfg\.storage_type|\(\s*.fs\.cloud_provider|(?<![\w.])open\(|"
    r"\bos\.(listdir|walk|scandir|stat|path\.getsize|remove|unlink)|\bPath\(|pathlib|shutil|iterdir\(|\.glob\("
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_cases_reach_files_through_the_backend(path):
    """Every case runs on every backend: files are listed, read, damaged and sized through the engine's
    filesystem (``StoredFile``, ``loon.Filesystem``, ``corrupt``) or ``suite.arrow_fs()``, and a case asks
    ``suite.require_backend``/``backend_supports`` instead of checking which backend it runs on. Only a
    case that requires local POSIX files (``require_backend("posix_files")``) may use local paths."""
    offending = []
    for cell in _code_cells(path):
        if 'require_backend("posix_files")' in cell:
            continue
        offending += [line.strip() for line in cell.splitlines() if LOCAL_ACCESS.search(line)]
    assert not offending, f"{path.name} reaches storage through local paths or backend identity: {offending}"
