"""loon.suite.stress: scales, generators, TableDigest, resource monitors and the stress workloads (small sizes)."""

from __future__ import annotations

import gc
import os

import numpy as np
import pyarrow as pa
import pytest

import loon
from loon.suite import data, resources, stress, workloads
from loon.suite.config import ConfigError

# ---------------------------------------------------------------------------------------------
# Scales
# ---------------------------------------------------------------------------------------------


def test_full_scale_is_the_seed():
    s = stress.stress_scale("full")
    assert s.rows(100_000_000) == 100_000_000
    assert s.bytes(stress.SEED["data_bytes"]) == 10 * stress.GB
    assert s.threads(100) == 100 and s.seconds(3600) == 3600
    assert s.count_of(stress.SEED["appends"]) == 10_000 and s.count_of(stress.SEED["fields"]) == 100
    assert s.describe(100, 100, "threads") == "100 threads"


def test_smaller_profiles_scale_down_and_say_so():
    ci, smoke = stress.stress_scale("ci"), stress.stress_scale("smoke")
    assert smoke.rows(100_000_000) < ci.rows(100_000_000) < 100_000_000
    assert ci.threads(100) == 100 and smoke.threads(100) == 10 and smoke.threads(5) == 5
    assert smoke.seconds(3600) < ci.seconds(3600) < 60
    assert ci.count_of(100) >= 2 and smoke.count_of(1) == 2
    assert "seed: 1,000,000 rows, scaled for profile ci" in ci.describe(1_000_000, ci.rows(1_000_000), "rows")


def test_unknown_profile_is_named():
    with pytest.raises(ConfigError, match="nightly"):
        stress.stress_scale("nightly")


# ---------------------------------------------------------------------------------------------
# Generators
# ---------------------------------------------------------------------------------------------


def test_wide_batch_is_independent_of_batching():
    whole = stress.wide_batch(30, 7)
    parts = pa.Table.from_batches([stress.wide_batch(10, 7), stress.wide_batch(20, 7, offset=10)])
    assert whole.schema == stress.wide_schema(7) and pa.Table.from_batches([whole]).equals(parts)
    assert [f.type for f in whole.schema][1:4] == [pa.int64(), pa.float64(), pa.string()]
    with pytest.raises(ValueError, match="num_columns"):
        stress.wide_schema(0)


def test_large_strings_hit_both_bounds_and_are_valid_utf8():
    batch = stress.large_string_batch(50, min_len=16, max_len=4096)
    batch.validate(full=True)
    lengths = [len(s) for s in batch.column("text").to_pylist()]
    assert lengths[:2] == [16, 4096] and min(lengths) >= 16 and max(lengths) <= 4096
    assert np.array_equal(stress.large_string_lengths(np.arange(50), 16, 4096), lengths)
    again = stress.large_string_batch(40, offset=10, min_len=16, max_len=4096)
    assert again.column("text").to_pylist() == batch.column("text").to_pylist()[10:]
    with pytest.raises(ValueError, match="min_len"):
        stress.large_string_lengths(np.arange(3), 10, 5)


def test_large_string_batches_stop_after_the_target():
    batches = list(stress.large_string_batches(200_000, min_len=1024, max_len=65536))
    assert sum(b.nbytes for b in batches) >= 200_000
    ids = pa.Table.from_batches(batches).column("id").to_pylist()
    assert ids == list(range(len(ids)))


def test_vector_batch_holds_float32_components():
    batch = stress.vector_batch(5, 8, offset=3)
    assert batch.schema.field("vector").type == pa.binary(32)
    decoded = np.frombuffer(b"".join(batch.column("vector").to_pylist()), dtype="<f4").reshape(5, 8)
    assert np.array_equal(decoded, stress.vector_values(np.arange(3, 8), 8))
    assert ((decoded >= 0) & (decoded < 1)).all()
    with pytest.raises(ValueError, match="dim"):
        stress.vector_schema(0)


def test_gradual_batch_adds_field_values():
    batch = stress.gradual_batch(4, 2, offset=10)
    assert batch.schema.names == ["id", "name", "value", "f1", "f2"]
    assert batch.column("f2").to_pylist() == [10_002, 11_002, 12_002, 13_002]


# ---------------------------------------------------------------------------------------------
# TableDigest
# ---------------------------------------------------------------------------------------------


def _mixed_table() -> pa.Table:
    return pa.table(
        {
            "i": pa.array([1, None, 3, 4, None], pa.int64()),
            "f": pa.array([0.5, float("nan"), -0.0, None, 2.0]),
            "b": pa.array([True, None, False, True, False]),
            "s": pa.array(["a", None, "", "dddd", "e"]),
            "ls": pa.array(["x", "yy", None, "z", ""], pa.large_string()),
            "bin": pa.array([b"\x00", b"", None, b"\xff\xfe", b"q"]),
            "fsb": pa.array([b"ab", b"cd", None, b"ef", b"gh"], pa.binary(2)),
            "l": pa.array([[1], None, [], [2, 3], [None]], pa.list_(pa.int64())),
            "fsl": pa.array([[1.0, 2.0], [3.0, 4.0], None, [5.0, 6.0], [7.0, 8.0]], pa.list_(pa.float32(), 2)),
            "st": pa.array([{"x": 1, "y": "a"}, None, {"x": 3, "y": None}, {"x": 4, "y": "d"}, {"x": 5, "y": "e"}]),
            "d": pa.array(["p", "q", "p", None, "q"]).dictionary_encode(),
        }
    )


def test_digest_does_not_depend_on_batching():
    table = _mixed_table()
    whole = stress.TableDigest.of([table])
    for cut in range(1, table.num_rows):
        parts = stress.TableDigest.of([table.slice(0, cut), table.slice(cut)])
        assert parts == whole, f"cut at {cut}: {parts.difference(whole)}"
    assert stress.TableDigest.of(table.to_batches(max_chunksize=1)) == whole
    assert whole.num_rows == 5


def test_digest_sees_one_changed_value_or_null():
    table = _mixed_table()
    base = stress.TableDigest.of([table])
    changed = table.set_column(0, "i", pa.array([1, None, 3, 5, None], pa.int64()))
    assert stress.TableDigest.of([changed]).difference(base) == "data differs in columns ['i']"
    moved_null = table.set_column(3, "s", pa.array(["a", "", None, "dddd", "e"]))
    assert "['s']" in stress.TableDigest.of([moved_null]).difference(base)
    shifted = table.set_column(3, "s", pa.array(["a", None, "d", "ddd", "e"]))  # same bytes, other lengths
    assert "['s']" in stress.TableDigest.of([shifted]).difference(base)
    assert "row count" in stress.TableDigest.of([table.slice(1)]).difference(base)
    with pytest.raises(AssertionError, match="differs from the data written"):
        stress.TableDigest.of([changed]).assert_equals(base)


def test_digest_sees_row_order_and_types():
    table = pa.table({"x": [1, 2, 3]})
    assert stress.TableDigest.of([table]) != stress.TableDigest.of([pa.table({"x": [3, 2, 1]})])
    as_int32 = pa.table({"x": pa.array([1, 2, 3], pa.int32())})
    assert stress.TableDigest.of([table]) != stress.TableDigest.of([as_int32])


def test_digest_keeps_similar_column_names_apart_and_handles_temporal_nulls():
    table = pa.table({"a": [1, 2], "a.b": [3, 4], "a#len": [5, 6]})
    swapped = pa.table({"a": [1, 2], "a.b": [3, 5], "a#len": [5, 6]})
    assert stress.TableDigest.of([swapped]).difference(stress.TableDigest.of([table])) == (
        "data differs in columns ['a.b']"
    )
    ts = pa.table({"t": pa.array([1, None, 3], pa.timestamp("us")), "d": pa.array([None, 2, 3], pa.date32())})
    assert stress.TableDigest.of([ts.slice(0, 2), ts.slice(2)]) == stress.TableDigest.of([ts])


def test_digest_rejects_schema_change_and_unsupported_types():
    digest = stress.TableDigest().update(pa.table({"x": [1]}))
    with pytest.raises(ValueError, match="schema changed"):
        digest.update(pa.table({"y": [1]}))
    with pytest.raises(ValueError, match="duplicate column names"):
        stress.TableDigest().update(pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["x", "x"]))
    with pytest.raises(TypeError, match="'m'"):
        stress.TableDigest.of([pa.table({"m": pa.array([{"k": 1}], pa.map_(pa.string(), pa.int64()))})])


# ---------------------------------------------------------------------------------------------
# Streaming write and scan through the engine
# ---------------------------------------------------------------------------------------------


def test_write_stream_and_scan_stream_round_trip(props):
    written = stress.write_stream("ds", data.SCHEMA, data.batches(2500, batch_rows=1000), props)
    assert written.version == 1 and written.rows == 2500 and written.seconds > 0
    scan = stress.scan_stream("ds", data.SCHEMA, props)
    assert scan.version == 1 and scan.rows == 2500 and scan.digest == written.digest
    uncommitted = stress.write_stream("ds", data.SCHEMA, [data.make_batch(5)], props, commit=False)
    assert uncommitted.version is None and loon.latest_version("ds", props) == 1
    only_new = stress.scan_stream("ds", data.SCHEMA, props, groups=uncommitted.groups)
    assert only_new.digest == uncommitted.digest


@pytest.mark.parametrize("codec", [None, "zstd", "gzip", "snappy", "uncompressed"])
def test_fixed_size_binary_column_writes_with_every_codec(props, codec):
    # Regression: with a codec that has levels (zstd is the default) the fixed-size binary column
    # inherited the level while being written uncompressed, and every writer close failed (code 3).
    batch = stress.vector_batch(300, 16)
    wprops = props.merged({"writer.compression": codec}) if codec else props
    written = stress.write_stream("vec", batch.schema, [batch], wprops)
    assert stress.scan_stream("vec", batch.schema, props).digest == written.digest


# ---------------------------------------------------------------------------------------------
# Resources
# ---------------------------------------------------------------------------------------------


def test_rss_and_fd_counts():
    assert resources.rss_bytes() > 1 << 20
    before = resources.open_fds()
    with open(os.devnull) as f:
        assert resources.open_fds() == before + 1
        assert resources.fd_targets()[f.fileno()] == os.devnull
    assert resources.open_fds() == before


def test_monitor_reports_a_leaked_descriptor(tmp_path):
    with resources.ResourceMonitor() as mon:
        mon.baseline()
        mon.assert_no_fd_leak()
        leaked = open(tmp_path / "leak.txt", "w")  # noqa: SIM115 - deliberately left open
        try:
            with pytest.raises(AssertionError, match="leak.txt"):
                mon.assert_no_fd_leak()
        finally:
            leaked.close()
        mon.assert_no_fd_leak()


def test_monitor_traces_python_heap():
    with resources.ResourceMonitor(trace_python=True) as mon:
        mon.baseline()
        keep = [bytes(1000) for _ in range(2000)]
        mon.sample()
        assert mon.python[-1] - mon.python[0] > 1_000_000
        del keep
        assert "Python heap" in mon.summary()


def test_bounded_growth():
    mb = stress.MB
    resources.assert_bounded_growth([100 * mb, 130 * mb, 110 * mb, 120 * mb, 115 * mb, 118 * mb], 64 * mb)
    with pytest.raises(AssertionError, match="grew by"):
        resources.assert_bounded_growth([100 * mb, 200 * mb], 64 * mb)
    with pytest.raises(AssertionError, match="keeps growing"):
        resources.assert_bounded_growth([100 * mb] * 6 + [140 * mb, 150 * mb, 160 * mb], 64 * mb)
    with pytest.raises(ValueError, match="no samples"):
        resources.assert_bounded_growth([], 1)


# ---------------------------------------------------------------------------------------------
# Concurrency
# ---------------------------------------------------------------------------------------------


def test_snapshot_checksums_and_checks():
    a, b = np.arange(10), np.arange(10, 15)
    assert stress.snapshot_checksum(np.concatenate([b, a])) == stress.snapshot_checksum(np.arange(15))
    assert stress.snapshot_checksum(np.arange(14)) != stress.snapshot_checksum(np.arange(15))
    assert stress.snapshot_checksum(np.array([], np.int64)) == (0, 0, 0)
    commit = workloads.CommitOutcome(committer=0, commit=0, first_id=10, num_rows=5, version=2)
    expected = stress.version_checksums([commit], 1, a)
    assert expected == {1: stress.snapshot_checksum(a), 2: stress.snapshot_checksum(np.arange(15))}
    good = [stress.SnapshotRead(1, expected[1], 0.0), stress.SnapshotRead(2, expected[2], 0.0)]
    assert stress.check_snapshots(good, expected) == 2
    partial = [stress.SnapshotRead(2, stress.snapshot_checksum(np.arange(13)), 0.0)]
    with pytest.raises(AssertionError, match="version 2"):
        stress.check_snapshots(partial, expected)
    with pytest.raises(AssertionError, match="went back"):
        stress.check_snapshots(list(reversed(good)), expected)


def test_commit_all_merge_commits_everything_once(props, our_engine):
    outcomes, seconds = stress.commit_all("ds", props, threads=4, commits=2, rows=20)
    assert seconds > 0 and all(o.ok for o in outcomes)
    assert sorted(o.version for o in outcomes) == list(range(1, 9))
    assert stress.scan_stream("ds", data.SCHEMA, props).digest == stress.expected_digest(outcomes)


def test_contend_with_fail_has_one_winner(props):
    stress.write_stream("ds", data.SCHEMA, [data.make_batch(5, offset=stress.BASE_OFFSET)], props)
    outcomes, _ = stress.contend("ds", props, 4, 5, read_version=1, resolve=loon.Resolve.FAIL, retry_limit=1)
    winners = [o for o in outcomes if o.ok]
    assert len(winners) == 1 and winners[0].version == 2
    assert {o.error_code for o in outcomes if not o.ok} <= {111, 112}
    assert stress.scan_stream("ds", data.SCHEMA, props).digest == stress.expected_digest(outcomes, 5)


def test_read_snapshots_sees_whole_commits(props):
    import threading

    stress.write_stream("ds", data.SCHEMA, [data.make_batch(5, offset=stress.BASE_OFFSET)], props)
    stop = threading.Event()
    stop.set()
    reads, errors = stress.read_snapshots("ds", props, stop, min_reads=3)
    assert not errors and len(reads) == 3
    expected = stress.version_checksums([], 1, np.arange(5) + stress.BASE_OFFSET)
    assert stress.check_snapshots(reads, expected) == 1


# ---------------------------------------------------------------------------------------------
# Long running, cleanup, GC pressure
# ---------------------------------------------------------------------------------------------


def test_manifest_growth_records_sizes_and_latency(props):
    result = stress.manifest_growth("ds", props, appends=12, rows=3)
    assert result.appends == 12 and all(i > 0 for i in result.increments())
    result.check()
    assert stress.scan_stream("ds", data.SCHEMA, props).digest == stress.TableDigest.of(data.batches(36))
    assert stress.growth_figure(result).axes


def test_growth_check_rejects_superlinear_latency():
    sizes = [1000 + 100 * k for k in range(20)]
    flat = stress.GrowthResult(sizes, [0.001] * 20, 1, 0.0, 0)
    flat.check()
    slow = stress.GrowthResult(sizes, [0.001] * 18 + [5.0, 5.0], 1, 0.0, 0)
    with pytest.raises(AssertionError, match="commit latency"):
        slow.check()
    jumpy = stress.GrowthResult([1000, 1100, 1200, 5000], [0.001] * 4, 1, 0.0, 0)
    with pytest.raises(AssertionError, match="not constant"):
        jumpy.check()


def test_continuous_operation_verifies_and_rotates(props):
    removed = []

    def done(path):
        removed.append(path)
        stress.remove_dataset(props, path)

    with resources.ResourceMonitor() as mon:
        result = stress.continuous_operation(lambda i: f"run{i}", props, 0.0, 7, 3, mon, done)
    assert result.iterations == 1 and result.datasets == 1 and result.full_checks == 1
    assert removed == ["run0"] and len(mon.rss) == 1
    assert result.rows_written == 7 and result.rows_read == 14


def test_load_cycle_releases_descriptors(props):
    stress.load_cycle("ds", props, 0, 1, 10, 1, loon.Resolve.FAIL)
    with resources.ResourceMonitor() as mon:
        mon.baseline()
        outcomes = stress.load_cycle("ds", props, 1, 3, 10, 1, loon.Resolve.FAIL)
        mon.assert_no_fd_leak()
    assert [o.version for o in outcomes] == [2, 3, 4]


def test_expect_failure():
    def fails():
        raise loon.TransactionConflictError(112, "conflict")

    assert stress.expect_failure(fails, (112,)) == 112
    with pytest.raises(AssertionError, match="succeeded"):
        stress.expect_failure(lambda: None, (3,))
    with pytest.raises(AssertionError, match="expected code"):
        stress.expect_failure(fails, (3,))


def test_gc_pressure_worker_under_collector(props, our_engine):
    old = gc.get_threshold()
    with resources.collector_thread(interval=0.0005) as counts:
        outcomes, _ = workloads.run_threads(
            [lambda i=i: stress.gc_pressure_worker("ds", props, i, 2, 10, 8) for i in range(3)]
        )
    assert gc.get_threshold() == old and counts["collections"] > 0
    flat = [o for r in outcomes for o in r]
    assert all(o.ok for o in flat)
    assert stress.scan_stream("ds", data.SCHEMA, props).digest == stress.expected_digest(flat)


def test_rate_text():
    assert stress.rate(2_000_000, 1000, 2.0) == "1.0 MB/s, 500 rows/s"
    assert stress.rate(1, 1, 0.0) == "not timed"


def test_scan_of_many_files_stays_under_a_low_descriptor_limit(props):
    # Regression: a reader held every data file of the dataset open (the footer's schema manifest
    # aliased the file reader), so scanning a dataset of more files than the fd limit failed (EMFILE).
    import resource

    files = 300
    groups = None
    for k in range(files):
        written = stress.write_stream("ds", data.SCHEMA, [data.make_batch(4, offset=4 * k)], props, commit=False)
        if groups is None:
            groups = written.groups
        else:
            groups[0].files.extend(written.groups[0].files)
    loon.commit_groups("ds", groups, props)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (resources.open_fds() + 100, hard))
    try:
        scan = stress.scan_stream("ds", data.SCHEMA, props)
        with loon.Reader(groups, data.SCHEMA, properties=props) as reader:
            assert reader.take([0, 4 * files - 1]).column("id").to_pylist() == [0, 4 * files - 1]
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert scan.digest == stress.TableDigest.of(data.batches(4 * files))
