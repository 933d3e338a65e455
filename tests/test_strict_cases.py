"""Notebook cases fail when the behaviour their name promises is broken on purpose.

Each test runs one real case of a notebook (its setup and helper cells, then the case's own cell,
exactly as committed) in this process at the smoke profile, with the engine's behaviour changed
through the binding to what a wrong engine would do: an ignored property, a missing rebase, a leak.
The case must then fail; unbroken, it must pass (the notebooks also run whole in
tests/test_notebooks_run.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import numpy as np
import pytest

import loon
from loon import reader as reader_module
from loon import transaction as transaction_module
from loon import writer as writer_module
from loon.suite.cases import CaseResult

REPO = Path(__file__).resolve().parents[1]
NOT_SETUP = ("@suite.case", "suite.run(", "@suite.block", "suite.finish()")


def run_case(notebook: str, case: str, tmp_path: Path) -> CaseResult:
    """Runs ``case`` of ``notebooks/<notebook>.ipynb`` after the cells that are not cases; returns its result."""
    params = tmp_path / "local.yaml"
    root = tmp_path / "root"
    root.mkdir(parents=True, exist_ok=True)
    params.write_text(f"backend: local\nproperties:\n  fs.storage_type: local\n  fs.root_path: {root}\n")
    cells = [c.source for c in nbformat.read(REPO / "notebooks" / f"{notebook}.ipynb", as_version=4).cells
             if c.cell_type == "code"]
    namespace: dict = {}
    exec(compile(cells[0], f"{notebook}:parameters", "exec"), namespace)
    namespace.update(params_file=str(params), profile="smoke")
    target = next(i for i, source in enumerate(cells) if f"def {case}(" in source)
    for i, source in enumerate(cells[1:target], start=1):
        if not any(marker in source for marker in NOT_SETUP):
            exec(compile(source, f"{notebook}:cell{i}", "exec"), namespace)
    exec(compile(cells[target], f"{notebook}:{case}", "exec"), namespace)
    namespace["suite"]._shared.close()  # shared datasets of the setup
    (result,) = [r for r in namespace["suite"].results if r.name == case]
    return result


def _rewrite_writer_properties(monkeypatch: pytest.MonkeyPatch, change: Callable[[dict], None]) -> None:
    """Every writer the case creates sees its properties changed by ``change`` (an engine ignoring a key)."""
    original = writer_module.Writer.__init__

    def init(self, base_path, schema, properties=None):
        props = dict(properties or {})
        change(props)
        original(self, base_path, schema, props)

    monkeypatch.setattr(writer_module.Writer, "__init__", init)


def _set(key: str, value: str) -> Callable[[dict], None]:
    def change(props: dict) -> None:
        if key in props:
            props[key] = value

    return change


def _drop(key: str) -> Callable[[dict], None]:
    return lambda props: props.pop(key, None)


WRITER_BREAKS = {
    # (notebook, case): (what the broken engine does, property change)
    ("write_read", "test_encryption_aes_gcm_v1"): ("writes AES_GCM_CTR_V1 whatever is asked",
                                                   _set("writer.enc.algorithm", "AES_GCM_CTR_V1")),
    ("write_read", "test_encryption_aes_gcm_ctr_v1"): ("ignores writer.enc.algorithm (default AES_GCM_V1)",
                                                       _drop("writer.enc.algorithm")),
    ("write_read", "test_compression_level"): ("ignores writer.compression_level", _drop("writer.compression_level")),
    ("write_read", "test_file_rolling_exact_boundary"): (
        "rolls only when a file exceeds the threshold (off by one)",
        lambda p: p.update({"writer.file_rolling.size": str(int(p["writer.file_rolling.size"]) + 1)})
        if "writer.file_rolling.size" in p else None,
    ),
    ("write_read", "test_file_rolling_multiple_column_groups"): ("ignores writer.file_rolling.size",
                                                                 _drop("writer.file_rolling.size")),
    ("write_read", "test_file_rolling_memory_pressure"): ("ignores writer.buffer_size", _drop("writer.buffer_size")),
    ("write_read", "test_encryption_metadata_persistence"): (
        "stores the key as the footer's key metadata",
        lambda p: p.update({"writer.enc.meta": p["writer.enc.key"]}) if "writer.enc.key" in p else None,
    ),
}


@pytest.mark.parametrize(("notebook", "case"), sorted(WRITER_BREAKS), ids=lambda v: v)
def test_case_fails_when_the_writer_ignores_what_it_names(monkeypatch, tmp_path, notebook, case):
    assert run_case(notebook, case, tmp_path / "ok").status == "pass"
    _, change = WRITER_BREAKS[(notebook, case)]
    _rewrite_writer_properties(monkeypatch, change)
    result = run_case(notebook, case, tmp_path / "broken")
    assert result.status == "fail", f"{case} passed against an engine that {WRITER_BREAKS[(notebook, case)][0]}"


def test_chunk_size_case_fails_on_a_made_up_estimate(monkeypatch, tmp_path):
    original = reader_module.ChunkReader.metadata

    def constant(self, kinds=loon.ALL_METADATA):
        meta = original(self, kinds)
        meta["estimated_memory"] = [1 << 20] * len(meta["estimated_memory"])  # "about 1 MiB each"
        return meta

    monkeypatch.setattr(reader_module.ChunkReader, "metadata", constant)
    assert run_case("write_read", "test_chunk_reader_get_chunk_size", tmp_path).status == "fail"


def test_open_close_case_fails_on_a_leak_per_cycle(monkeypatch, tmp_path):
    kept = []
    original = writer_module.Writer.write

    def leaky_write(self, data):
        kept.append(np.ones(data.nbytes, np.uint8))  # a copy of the written bytes, never released
        return original(self, data)

    monkeypatch.setattr(writer_module.Writer, "write", leaky_write)
    result = run_case("write_read", "test_rapid_open_close_cycles", tmp_path)
    assert result.status == "fail" and "RSS" in result.message, result.message


def test_open_close_case_fails_on_a_descriptor_leak(monkeypatch, tmp_path):
    files = []
    original = reader_module.Reader.__exit__

    def exit_leaking_a_descriptor(self, *exc):
        files.append(open(__file__, "rb"))  # noqa: SIM115 - the leak under test
        return original(self, *exc)

    monkeypatch.setattr(reader_module.Reader, "__exit__", exit_leaking_a_descriptor)
    try:
        result = run_case("write_read", "test_rapid_open_close_cycles", tmp_path)
    finally:
        for f in files:
            f.close()
    assert result.status == "fail" and "descriptors leaked" in result.message, result.message


def _merge_acts_as_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """What milvus-storage does with resolve_id 1 (undefined there: it behaves as FAIL)."""
    original = transaction_module.Transaction.__init__

    def init(self, base_path, properties=None, read_version=loon.LATEST, resolve=loon.Resolve.FAIL, retry_limit=1):
        if int(resolve) == int(loon.Resolve.MERGE):
            resolve = loon.Resolve.FAIL
        original(self, base_path, properties, read_version, resolve, retry_limit)

    monkeypatch.setattr(transaction_module.Transaction, "__init__", init)


def test_concurrent_schema_evolution_fails_when_merge_does_not_rebase(monkeypatch, tmp_path):
    assert run_case("schema_evolution", "test_schema_evolution_concurrent", tmp_path / "ok").status == "pass"
    _merge_acts_as_fail(monkeypatch)
    result = run_case("schema_evolution", "test_schema_evolution_concurrent", tmp_path / "broken")
    assert result.status == "fail", result


@pytest.mark.skipif(not loon.fault_injection_enabled(), reason="needs libfiu (sleep.before.commit.manifest)")
def test_retry_case_fails_when_the_engine_does_not_retry(monkeypatch, tmp_path):
    original = transaction_module.Transaction.__init__

    def init(self, base_path, properties=None, read_version=loon.LATEST, resolve=loon.Resolve.FAIL, retry_limit=1):
        props = {k: v for k, v in dict(properties or {}).items() if k != "transaction.commit.num-retries"}
        original(self, base_path, props, read_version, resolve, 0)  # every retry budget ignored

    monkeypatch.setattr(transaction_module.Transaction, "__init__", init)
    result = run_case("transaction", "test_transaction_retry_on_conflict", tmp_path)
    assert result.status == "fail" and "111" in result.message + result.traceback, result.message
