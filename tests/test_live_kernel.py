"""The case protocol in a live kernel driven by nbclient, as JupyterLab drives it: a case cell executed
again replaces its result, calling a case runs it again, and asserts carry their values in the cell."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from loon.suite.cases import CASE_MIME
from loon.suite.executor import ipc_kernel_manager, kernel_socket_dir

REPO = Path(__file__).resolve().parents[1]

SETUP = """from loon.suite.cases import CaseSuite
suite = CaseSuite("live", profile="smoke")
attempts = []"""
CASE = """@suite.case
def test_second_try():
    attempts.append(len(attempts))
    assert attempts == [0, 1], "needs two tries\""""
STATUS = "print(json.dumps([(r.name, r.status, r.message) for r in suite.results]))"


@pytest.fixture
def client(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(src) for src in ["import json", SETUP, CASE, STATUS, "test_second_try()", STATUS]
    ]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "lib"), os.environ.get("PYTHONPATH")])))
    env.pop("LOON_SUITE_RUN", None)  # a live kernel, not under the runner
    with kernel_socket_dir() as sockets:  # no TCP ports to lose to another process (see ipc_kernel_manager)
        client = NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True,
                                kernel_manager_class=ipc_kernel_manager(sockets),
                                resources={"metadata": {"path": str(tmp_path)}})  # fmt: skip
        with client.setup_kernel(env=env):
            yield client, nb


def _run(client, nb, index):
    return client.execute_cell(nb.cells[index], index)


def _printed(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def _case_bundles(cell) -> list[dict]:
    return [o["data"][CASE_MIME] for o in cell.outputs if CASE_MIME in o.get("data", {})]


def test_reexecuted_case_cell_replaces_its_result_and_calling_it_works(client):
    client, nb = client
    for index in range(4):
        _run(client, nb, index)
    first = _case_bundles(nb.cells[2])
    assert [b["status"] for b in first] == ["fail"]
    # pytest's assertion rewriting is on in the kernel: the values are in the cell's message.
    assert first[0]["message"] == "AssertionError: needs two tries\nassert [0] == [0, 1]"
    assert "FAIL test_second_try: AssertionError: needs two tries\nassert [0] == [0, 1]" in json.dumps(
        [o.get("data", {}).get("text/plain", "") for o in nb.cells[2].outputs]
    ).replace("\\n", "\n")
    assert json.loads(_printed(nb.cells[3])) == [["test_second_try", "fail", first[0]["message"]]]

    # Execute the case's cell again: its result is replaced, not a "duplicate case name" error.
    _run(client, nb, 2)
    assert [b["status"] for b in _case_bundles(nb.cells[2])] == ["pass"]  # attempts == [0, 1]
    _run(client, nb, 3)
    assert json.loads(_printed(nb.cells[3])) == [["test_second_try", "pass", ""]]

    # Calling the case runs it again and replaces its result (attempts == [0, 1, 2] now fails).
    _run(client, nb, 4)
    called = _case_bundles(nb.cells[4])
    assert [b["status"] for b in called] == ["fail"]
    assert "assert [0, 1, 2] == [0, 1]" in called[0]["message"]
    _run(client, nb, 5)
    statuses = json.loads(_printed(nb.cells[5]))
    assert [(name, status) for name, status, _ in statuses] == [("test_second_try", "fail")]


def test_kernel_python_is_this_interpreter(client):
    """The fixture's kernel must be the venv's Python, or the test proves nothing about the suite."""
    client, nb = client
    cell = nbformat.v4.new_code_cell("import sys; print(sys.executable)")
    client.execute_cell(cell, 0)
    assert Path(_printed(cell).strip()).resolve() == Path(sys.executable).resolve()
