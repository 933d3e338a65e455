"""The built-in Vortex and Lance providers of ``loon.formats`` against our engine: row counts by
fragment URI, missing data, files that are not of the format, and a Lance dataset changed after
its import (the recorded ranges no longer fit: a clear error, not wrong rows)."""

from __future__ import annotations

import pyarrow as pa
import pytest

import loon
from loon.suite import data

lance = pytest.importorskip("lance")
vortex = pytest.importorskip("vortex")

COLUMNS = data.SCHEMA.names


@pytest.fixture
def lance_ds(fs_root, our_engine):
    """ext/ds.lance: fragments of 40, 40 and 20 rows; 5 rows deleted from the second."""
    ds = lance.write_dataset(data.make_table(100), str(fs_root / "ext/ds.lance"), max_rows_per_file=40)
    ds.delete("id >= 50 AND id < 55")
    return lance.dataset(str(fs_root / "ext/ds.lance"))


def test_lance_row_counts_by_fragment(props, lance_ds):
    ext = loon.ExternalTable(props, "lance-table")
    uri = "local:///local/ext/ds.lance"
    assert [ext.file_info(f"{uri}?fragment_id={i}") for i in range(3)] == [40, 35, 20]
    assert ext.file_info("ext/ds.lance?fragment_id=1") == 35
    assert ext.file_info(uri) == lance_ds.count_rows() == 95  # no fragment: the whole dataset
    with pytest.raises(loon.LoonFileNotFoundError):
        ext.file_info(f"{uri}?fragment_id=9")
    with pytest.raises(loon.LoonFileNotFoundError):
        ext.file_info("local:///local/ext/absent.lance?fragment_id=0")
    with pytest.raises(loon.InvalidArgumentError):
        ext.file_info(f"{uri}?fragment_id=one")


def test_a_directory_that_is_not_a_lance_dataset(props, fs_root, our_engine):
    (fs_root / "ext/plain").mkdir(parents=True)
    (fs_root / "ext/plain/a.txt").write_text("x")
    with pytest.raises(loon.ArrowError):
        loon.ExternalTable(props, "lance-table").explore("ext/plain", "stage", COLUMNS)
    assert not (fs_root / "stage").exists()


def test_lance_dataset_changed_after_import(props, fs_root, lance_ds):
    ext = loon.ExternalTable(props, "lance-table")
    files = ext.explored_files(ext.explore("ext/ds.lance", "stage", COLUMNS))
    group = loon.ColumnGroup(COLUMNS, "lance-table", files)
    with loon.Reader([group], data.SCHEMA, properties=ext.properties) as reader:
        assert reader.scan().equals(lance_ds.to_table())
    lance_ds.delete("id >= 0 AND id < 3")  # fragment 0 now has 37 rows, the import says 40
    with loon.Reader([group], data.SCHEMA, properties=ext.properties) as reader:
        with pytest.raises(loon.LoonError) as exc:
            reader.scan()
        assert "fragment_id=0" in str(exc.value) and "40" in str(exc.value)


def test_vortex_errors(props, fs_root, our_engine):
    (fs_root / "ext/v").mkdir(parents=True)
    vortex.io.write(data.make_table(30), str(fs_root / "ext/v/a.vortex"))
    (fs_root / "ext/v/not.vortex").write_bytes(b"PAR1 not a vortex file")
    ext = loon.ExternalTable(props, "vortex")
    assert ext.file_info("ext/v/a.vortex") == 30
    with pytest.raises(loon.ArrowError) as exc:
        ext.file_info("ext/v/not.vortex")
    assert "Backtrace" not in exc.value.message  # the library's error, without its backtrace
    with pytest.raises(loon.InvalidArgumentError):
        ext.file_info("ext/v")
    # A group naming a column the files do not have fails the read with the provider's message.
    group = loon.ColumnGroup(["id", "absent"], "vortex", [loon.ColumnGroupFile("local:///local/ext/v/a.vortex", 0, 30)])
    schema = pa.schema([("id", pa.int64()), ("absent", pa.int32())])
    with loon.Reader([group], schema, properties=ext.properties) as reader:
        with pytest.raises(loon.LoonError):
            reader.take([1])
