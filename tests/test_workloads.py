"""loon.suite.workloads, loon.suite.evolution, loon.suite.fixtures and plots.plot_rates."""

from __future__ import annotations

import functools
import threading

import pyarrow as pa

import loon
from loon.suite import checks, data, evolution, fixtures, plots, workloads
from loon.suite.throughput import ThroughputRecorder


def test_id_ranges_are_disjoint():
    bases = [workloads.id_base(c, k) for c in range(3) for k in range(3)]
    assert len(set(bases)) == 9
    assert workloads.id_base(0, 1) - workloads.id_base(0, 0) >= workloads.ROWS_PER_COMMIT_MAX


def test_run_concurrent_merge_stores_each_success_once(props):
    props = props.merged({"transaction.commit.num-retries": "10"})
    outcomes, seconds = workloads.run_concurrent("ds", props, 4, commits=2, num_rows=5)
    assert seconds > 0 and len(outcomes) == 8
    assert all(o.ok or o.error_code in (111, 112) for o in outcomes)
    checks.assert_tables_equal(loon.read_dataset("ds", data.SCHEMA, props), workloads.expected_table(outcomes))
    assert workloads.committed_ids("ds", props) == sorted(
        i for o in outcomes if o.ok for i in range(o.first_id, o.first_id + o.num_rows))


def test_append_rows_reports_conflict_and_retries(props):
    loon.commit_groups("ds", loon.write_dataset("ds", data.make_table(5), props), props)
    loon.commit_groups("ds", loon.write_dataset("ds", data.make_table(5, offset=5), props), props)
    stale = workloads.append_rows("ds", props, 1, 0, 5, loon.Resolve.FAIL, read_version=1)
    assert not stale.ok and stale.error_code == 112 and stale.attempts == 1
    retried = workloads.append_rows("ds", props, 2, 0, 5, loon.Resolve.FAIL, attempts=2, read_version=1)
    assert retried.ok and retried.attempts == 2 and retried.version == 3


def test_add_column_outcomes_and_expected_with_columns(props):
    base = data.make_table(10)
    loon.commit_groups("ds", loon.write_dataset("ds", base, props), props)
    jobs = [functools.partial(workloads.add_column_outcome, "ds", props, i, 10, read_version=1) for i in range(3)]
    outcomes, _ = workloads.run_threads(jobs)
    expected = workloads.expected_with_columns(base, outcomes, 10)
    checks.assert_tables_equal(loon.read_dataset("ds", expected.schema, props), expected)


def test_expected_with_columns_pads_later_rows_with_null():
    outcome = workloads.CommitOutcome(committer=4, commit=0, first_id=0, num_rows=2, version=2)
    table = workloads.expected_with_columns(data.make_table(3), [outcome], 2)
    assert table.column("c4").to_pylist() == [4_000_000, 4_000_001, None]


def test_watch_manifests_counts_reads(props):
    loon.commit_groups("ds", loon.write_dataset("ds", data.make_table(5), props), props)
    stop = threading.Event()
    timer = threading.Timer(0.1, stop.set)
    timer.start()
    result = workloads.watch_manifests("ds", props, stop)
    assert result["reads"] > 0 and result["versions"] == [1] and result["errors"] == []


def test_typed_table_and_nulls():
    table = evolution.typed_table(9, offset=3)
    assert table.column_names[0] == "id" and table.num_rows == 9
    parts = [evolution.typed_table(4), evolution.typed_table(5, offset=4)]
    assert pa.concat_tables(parts).equals(evolution.typed_table(9))
    nulls = evolution.with_nulls(table)
    assert nulls.column("id").null_count == 0 and nulls.column("c_struct").null_count == 3


def test_legacy_fixture_install(props, fs_root):
    paths = fixtures.install_tree(fixtures.legacy_dir(2), props, "leg")
    assert "leg/_metadata/manifest-1.avro" in paths
    expected = fixtures.legacy_expected(2)
    checks.assert_tables_equal(loon.read_dataset("leg", expected.schema, props), expected)


def test_rates_figure_uses_rows_per_second():
    rec = ThroughputRecorder("transaction")
    rec.add("commit x1", 2.0, rows=10)
    rec.add("commit x4", 1.0, rows=10)
    fig = plots.rates_figure(rec.records)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "commits/s"
    assert [round(p.get_height(), 6) for p in ax.patches] == [5.0, 10.0]
    assert plots.figure_png(fig).startswith(b"\x89PNG")


def test_throughput_figure_leaves_out_event_counts():
    rec = ThroughputRecorder("transaction")
    rec.add("append", 1.0, bytes=2_000_000, rows=10)
    rec.add("commit x4", 1.0, rows=10)
    ax = plots.throughput_figure(rec.records).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["append"]


def test_check_outcomes_rejects_other_codes_and_shared_versions():
    import pytest

    ok = workloads.CommitOutcome(0, 0, 0, 1, version=1)
    assert workloads.check_outcomes([ok, workloads.CommitOutcome(1, 0, 0, 1, error_code=112)]) == [ok]
    with pytest.raises(AssertionError, match="unexpected failures"):
        workloads.check_outcomes([ok, workloads.CommitOutcome(1, 0, 0, 1, error_code=4)])
    with pytest.raises(AssertionError, match="same version"):
        workloads.check_outcomes([ok, workloads.CommitOutcome(1, 0, 0, 1, version=1)])
