"""loon.suite.corrupt damages files; loon.suite.validate (and last_valid_version / roll_back) must notice."""

from __future__ import annotations

import pytest

import loon
from loon import suite
from loon.suite import checks, corrupt, data
from loon.suite.validation import last_valid_version, manifest_versions, roll_back

TWO_GROUPS = {"writer.policy": "schema_based", "writer.split.schema_based.patterns": "id|name,value"}


def append(props, table, path="ds"):
    return loon.commit_groups(path, loon.write_dataset(path, table, props), props)


@pytest.fixture
def two_versions(props):
    append(props, data.make_table(100))
    append(props, data.make_table(50, offset=100))
    return props


def newest_file(props):
    return loon.open_manifest("ds", props)[1].column_groups.files[-1].path


def test_damage_helpers_change_and_restore_bytes(props):
    corrupt.write_bytes(props, "f.bin", b"\x00\x01\x02\x03")
    assert corrupt.flip_bit(props, "f.bin", -1, 7) == 3
    assert corrupt.read_bytes(props, "f.bin") == b"\x00\x01\x02\x83"
    assert corrupt.truncate_file(props, "f.bin") == 2 and corrupt.read_bytes(props, "f.bin") == b"\x00\x01"
    with corrupt.damaged(props, "f.bin", "empty") as original:
        assert original == b"\x00\x01" and corrupt.read_bytes(props, "f.bin") == b""
    assert corrupt.read_bytes(props, "f.bin") == b"\x00\x01"
    digests = corrupt.file_digests(props, ["f.bin"])
    corrupt.flip_bit(props, "f.bin", 0)
    assert len(corrupt.verify_digests(props, digests)) == 1
    with pytest.raises(ValueError, match="unknown damage"):
        corrupt.damage(props, "f.bin", "shred")


def test_validate_good_dataset(two_versions):
    report = suite.validate("ds", two_versions)
    assert report.ok and report.version == 2 and report.num_rows == 150, report


@pytest.mark.parametrize("kind", ["truncate", "empty", "delete", "bitflip"])
def test_validate_names_a_damaged_data_file(two_versions, kind):
    path = newest_file(two_versions)
    corrupt.damage(two_versions, path, kind)
    report = suite.validate("ds", two_versions)
    assert not report.ok and path in str(report), report
    assert suite.validate("ds", two_versions, version=1).ok


def test_validate_detects_a_flipped_data_page(two_versions):
    path = newest_file(two_versions)
    corrupt.flip_bit(two_versions, path, corrupt.data_page_offset(two_versions, path, "value"))
    report = suite.validate("ds", two_versions)
    assert not report.ok and "CRC" in str(report), report


@pytest.mark.parametrize("kind", ["truncate", "empty", "bitflip"])
def test_validate_reports_a_damaged_manifest(two_versions, kind):
    corrupt.damage(two_versions, "ds/_metadata/manifest-2.avro", kind, offset=0)
    report = suite.validate("ds", two_versions)
    assert len(report.problems) == 1 and "manifest-2.avro" in report.problems[0], report


def test_validate_reports_misaligned_groups_and_long_ranges(props):
    p = props.merged(TWO_GROUPS)
    append(p, data.make_table(40))
    groups = loon.write_dataset("ds", data.make_table(40, offset=40), p)
    f = groups[1].files[0]
    cut = loon.ColumnGroup(groups[1].columns, "parquet", [loon.ColumnGroupFile(f.path, 0, 20, f.properties)])
    append_groups = loon.ColumnGroups([groups[0], cut])
    assert loon.commit_groups("ds", append_groups, p) == 2
    assert any("not row-aligned: row totals [80, 60]" in x for x in suite.validate("ds", p).problems)
    one = loon.write_dataset("one", data.make_table(40), props)[0]
    g = one.files[0]
    long = loon.ColumnGroup(one.columns, "parquet", [loon.ColumnGroupFile(g.path, 0, 99, g.properties)])
    assert loon.commit_groups("one", loon.ColumnGroups([long]), props) == 1
    assert any("range ends at 99 but the file has 40 rows" in x for x in suite.validate("one", props).problems)


def test_last_valid_version_and_roll_back(two_versions, fs_root):
    append(two_versions, data.make_table(10, offset=150))
    assert manifest_versions("ds", two_versions) == [1, 2, 3]
    assert last_valid_version("ds", two_versions) == (3, [])
    corrupt.truncate_file(two_versions, "ds/_metadata/manifest-3.avro")
    version, skipped = last_valid_version("ds", two_versions)
    assert version == 2 and [r.version for r in skipped] == [3]
    assert roll_back("ds", two_versions, 2) == ["ds/_quarantine/manifest-3.avro"]
    assert (fs_root / "ds" / "_quarantine" / "manifest-3.avro").is_file()
    assert loon.latest_version("ds", two_versions) == 2
    checks.assert_tables_equal(loon.read_dataset("ds", data.SCHEMA, two_versions), data.make_table(150))
    assert append(two_versions, data.make_table(10, offset=150)) == 3
