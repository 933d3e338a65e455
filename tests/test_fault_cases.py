"""loon.suite.fault_cases: each kind of fault scenario fails as documented, retries and keeps the data exact."""

from __future__ import annotations

import pyarrow as pa
import pytest

import loon
from loon.suite import data, fault_cases


@pytest.fixture(autouse=True)
def fiu():
    if not loon.fault_injection_enabled():
        pytest.skip("engine built without libfiu: install libfiu-dev and rebuild (make build)")
    yield
    loon.faults.disable_all()


@pytest.mark.parametrize(
    ("point", "code", "stage", "arm_at"),
    [
        ("writer.close.fail", 3, "close", "write"),
        ("column_group.write.fail", 3, "write", "write"),
        ("fs.write.fail", 4, "commit", "commit"),
        ("commit.before_manifest.fail", 4, "commit", "commit"),
    ],
)
def test_append_with_fault(props, point, code, stage, arm_at):
    p = props.merged(fault_cases.TWO_GROUPS)
    base = fault_cases.setup_base("ds", p, 50)
    more = data.make_table(50, offset=50)
    out = fault_cases.append_with_fault("ds", p, point, 1, more, arm_at)
    fault_cases.assert_failures(out, code, stage)
    fault_cases.assert_intact("ds", p, pa.concat_tables([base, more]), 2)
    assert out.describe().startswith(f"{point} x1: {stage} -> code {code}")


@pytest.mark.parametrize(
    ("point", "code", "operation"),
    [("reader.open.fail", 8, "open"), ("take_rows.fail", 3, "take"), ("manifest.read.fail", 3, "begin")],
)
def test_read_with_fault(props, point, code, operation):
    base = fault_cases.setup_base("ds", props, 50)
    out = fault_cases.read_with_fault("ds", props, point, 1, operation)
    fault_cases.assert_failures(out, code, {operation, "open"})
    assert out.result.equals(base)


def test_assert_failures_rejects_a_wrong_code(props):
    fault_cases.setup_base("ds", props, 10)
    out = fault_cases.read_with_fault("ds", props, "take_rows.fail", 1, "take")
    with pytest.raises(AssertionError, match="expected LogicalError code 4"):
        fault_cases.assert_failures(out, 4, "take")


def test_expect_error():
    def fail():
        raise loon.ArrowError(3, "cannot open data file 'x.parquet'", "f")

    assert fault_cases.expect_error(fail, loon.ArrowError, 3, "x.parquet").code == 3
    with pytest.raises(AssertionError, match="does not name"):
        fault_cases.expect_error(fail, loon.ArrowError, 3, "y.parquet")
    with pytest.raises(AssertionError, match="no error raised"):
        fault_cases.expect_error(lambda: None, loon.ArrowError, 3)
    with pytest.raises(AssertionError, match="got ArrowError"):
        fault_cases.expect_error(fail, loon.LogicalError, 4)


def test_count_failures(props, our_engine):
    fault_cases.setup_base("ds", props, 10)
    assert fault_cases.count_failures(lambda: loon.open_manifest("ds", props), "manifest.read.fail", 2, 4) == 2
    assert fault_cases.count_failures(lambda: loon.open_manifest("ds", props), "manifest.read.fail", 0, 3) == 3
