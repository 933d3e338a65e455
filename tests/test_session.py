"""loon.suite.session: one object per notebook run (configuration, cases, datasets, capabilities)."""

from __future__ import annotations

import pytest

import loon
from loon.suite import data
from loon.suite.cases import CaseFailures
from loon.suite.session import Session


@pytest.fixture
def params_file(tmp_path, fs_root):
    path = tmp_path / "local.yaml"
    path.write_text(f"backend: local\nproperties:\n  fs.storage_type: local\n  fs.root_path: {fs_root}\n")
    return str(path)


def test_datasets_are_named_after_the_running_case(params_file, fs_root):
    suite = Session("demo", params_file=params_file)
    seen = {}

    @suite.case
    def test_named():
        with suite.dataset() as ds, suite.dataset("second") as other:
            seen["paths"] = (ds.path, other.path)
            assert ds.append(data.make_table(10)) == 1
            assert ds.latest_version() == 1 and ds.read().num_rows == 10
            assert len(ds.files()) == 1 and ds.manifest().num_rows == 10
            ds.assert_intact(data.make_table(10), 1)

    suite.run(lambda: None, name="test_param[10]")
    assert suite.results[0].status == "pass", suite.results[0].traceback
    first, second = seen["paths"]
    assert first.startswith("integration-tests/demo/test_named-") and second.startswith(
        "integration-tests/demo/test_named-second-"
    )
    assert not (fs_root / first).exists(), "a case's dataset is removed when its block ends"


def test_dataset_outside_a_case_needs_a_label(params_file):
    suite = Session("demo", params_file=params_file)
    with pytest.raises(RuntimeError, match="no case is running"), suite.dataset():
        pass
    with suite.dataset("throughput") as ds:
        assert "/demo/throughput-" in "/" + ds.path


def test_shared_datasets_live_until_finish(params_file, fs_root):
    suite = Session("demo", params_file=params_file)
    shared = suite.shared("reader")
    shared.append(data.make_table(5))

    @suite.case
    def test_reads_shared():
        assert shared.read().num_rows == 5

    assert (fs_root / shared.path).exists()
    suite.finish()
    assert not (fs_root / shared.path).exists()


def test_missing_credentials_skip_every_case(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY_FOR_TEST", raising=False)
    path = tmp_path / "cloud.yaml"
    text = "backend: cloud\nproperties:\n  fs.storage_type: remote\n  fs.access_key_id: ${NO_SUCH_KEY_FOR_TEST}\n"
    path.write_text(text)
    suite = Session("demo", params_file=str(path))
    ran = []

    @suite.case
    def test_any():
        ran.append(1)

    @suite.block
    def block():
        ran.append(2)

    assert suite.shared("reader").path  # no storage touched
    assert ran == [] and suite.results[0].status == "skip"
    assert "NO_SUCH_KEY_FOR_TEST" in suite.results[0].message
    suite.finish()


def test_require_skips_with_the_capability_reason(params_file, monkeypatch):
    suite = Session("demo", params_file=params_file)
    suite._caps = loon.Capabilities(frozenset({"any_order_take"}), frozenset({"writer.write.fail"}), True)

    @suite.case
    def test_needs_merge():
        suite.require("any_order_take", "merge_resolve")
        raise AssertionError("not reached")

    @suite.case
    def test_needs_point():
        suite.require_fault_injection("fs.write.fail")

    result, point = suite.results
    assert result.status == "skip" and "MERGE conflict resolution" in result.message
    assert point.status == "skip" or not loon.fault_injection_enabled()
    assert "fs.write.fail is not a fault point of this engine" in point.message or not loon.fault_injection_enabled()


def test_finish_raises_on_failures(params_file):
    suite = Session("demo", params_file=params_file)
    suite.run(lambda: (_ for _ in ()).throw(AssertionError("boom")), name="test_boom")
    with pytest.raises(CaseFailures, match="test_boom"):
        suite.finish()
