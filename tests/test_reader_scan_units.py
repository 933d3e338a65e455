"""Scans read row groups in multi-row-group units on threads of their own: values, order, skipped
row groups, abandoned streams (threads joined), concurrent scans, damaged pages and fault points."""

from __future__ import annotations

import gc
import os
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import loon
from loon.faults import FaultInjector
from loon.suite import corrupt, data

ROWS = 400_000  # ~14 MB: several 4 MiB units per file, three files


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("scan-units")
    props = loon.Properties({"fs.storage_type": "local", "fs.root_path": str(root)})
    if not loon.library_info().is_loon_engine:
        pytest.skip("needs the loon engine (exact predicates)")
    table = data.make_table(ROWS)
    wprops = props.merged({"writer.file_rolling.size": table.nbytes // 3})
    with loon.Writer("scan", table.schema, wprops) as w:
        for batch in table.to_batches(ROWS // 6):
            w.write(batch)
            w.flush()
    assert len(w.column_groups[0].files) == 3
    return table, w.column_groups, props


def _tasks() -> int:
    return len(os.listdir("/proc/self/task"))


def test_scan_projection_and_batch_size(written):
    table, groups, props = written
    with loon.Reader(groups, data.SCHEMA, properties=props) as reader:
        assert reader.scan().equals(table)
    small = props.merged({"reader.record_batch_max_rows": 1000})
    schema = data.SCHEMA.append(pa.field("missing", pa.int32()))
    with loon.Reader(groups, schema, ["value", "missing", "id"], properties=small) as reader:
        batches = list(reader.iter_batches())
    assert max(b.num_rows for b in batches) <= 1000
    got = pa.Table.from_batches(batches)
    assert got.select(["value", "id"]).equals(table.select(["value", "id"]))
    assert got.column("missing").null_count == ROWS


def test_predicate_skipping_middle_row_groups(written):
    # The middle of every file is ruled out by statistics: a unit then holds row groups that are
    # not adjacent in the file.
    table, groups, props = written
    third = ROWS // 3
    pred = (
        " OR ".join(f"(id >= {k * third} AND id < {k * third + 20_000})" for k in range(3)) + f" OR id >= {ROWS - 500}"
    )
    mask = pc.or_(
        pc.or_(
            *[
                pc.and_(pc.greater_equal(table["id"], k * third), pc.less(table["id"], k * third + 20_000))
                for k in (0, 1)
            ]
        ),
        pc.or_(
            pc.and_(pc.greater_equal(table["id"], 2 * third), pc.less(table["id"], 2 * third + 20_000)),
            pc.greater_equal(table["id"], ROWS - 500),
        ),
    )
    with loon.Reader(groups, data.SCHEMA, properties=props) as reader:
        assert reader.scan(pred).equals(table.filter(mask))


def test_abandoned_scans_join_their_threads(written):
    _, groups, props = written
    with loon.Reader(groups, data.SCHEMA, properties=props) as reader:
        reader.scan()  # Arrow's pools are started from here on
    gc.collect()
    before = _tasks()
    for _ in range(10):
        with loon.Reader(groups, data.SCHEMA, properties=props) as reader:
            stream = reader.iter_batches()
            assert stream.read_next_batch().num_rows > 0
            stream.close()
            del stream
    gc.collect()
    assert _tasks() <= before


def test_concurrent_scans(written):
    table, groups, props = written

    def scan(_):
        with loon.Reader(groups, data.SCHEMA, ["id", "name"], properties=props) as reader:
            return reader.scan()

    with ThreadPoolExecutor(4) as pool:
        for got in pool.map(scan, range(4)):
            assert got.equals(table.select(["id", "name"]))


def test_damaged_page_in_a_later_file_names_it(tmp_path):
    props = loon.Properties({"fs.storage_type": "local", "fs.root_path": str(tmp_path)})
    table = data.make_table(60_000)
    wprops = props.merged({"writer.file_rolling.size": table.nbytes // 3})
    with loon.Writer("bad", table.schema, wprops) as w:
        for batch in table.to_batches(10_000):
            w.write(batch)
            w.flush()
    files = w.column_groups[0].files
    victim = files[-1].path
    corrupt.flip_bit(props, victim, corrupt.data_page_offset(props, victim, "value"))
    with loon.Reader(w.column_groups, data.SCHEMA, properties=props) as reader:
        # Errors met while streaming come back through the Arrow C stream: pyarrow's OSError.
        with pytest.raises(OSError, match="cannot read data file") as err:
            reader.scan()
    assert victim.rsplit("/", 1)[-1] in str(err.value)


@pytest.mark.skipif(not FaultInjector.available(), reason="engine built without fault injection")
def test_read_fault_point_fails_the_scan(written):
    _, groups, props = written
    with loon.Reader(groups, data.SCHEMA, properties=props) as reader, FaultInjector({"column_group.read.fail": 1}):
        with pytest.raises(OSError, match="injected fault: column_group.read.fail"):
            reader.scan()
    with loon.Reader(groups, data.SCHEMA, properties=props) as reader:
        assert reader.scan().num_rows == ROWS
