"""loon.ExternalTable and its helpers (ffi_c.h 2.9; README "External tables") against the engine, incl. error paths."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import loon
from loon.external_table import (
    ExploreResult,
    ExternalTable,
    extfs_properties,
    partition_values,
    split_uri,
    with_partition_columns,
    write_parquet,
)
from loon.suite import data

COLUMNS = data.SCHEMA.names


def _write(fs_root, rel: str, table: pa.Table, row_group_size: int | None = None) -> None:
    path = fs_root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=row_group_size)


@pytest.fixture
def ext(props) -> ExternalTable:
    return ExternalTable(props)


@pytest.fixture
def three_files(fs_root):
    """ext/d/{a,b,c}.parquet with 50, 0 and 23 rows (ids consecutive) and a nested file."""
    tables = [data.make_table(50), data.make_table(0, offset=50), data.make_table(23, offset=50)]
    for name, table in zip("abc", tables):
        _write(fs_root, f"ext/d/{name}.parquet", table, row_group_size=20)
    _write(fs_root, "ext/d/nested/x.parquet", data.make_table(5, offset=1000))
    return pa.concat_tables(tables)


# ---- pure helpers ------------------------------------------------------------------------------


def test_extfs_properties_local(props, fs_root):
    assert extfs_properties(props, "ext") == {
        "extfs.ext.storage_type": "local",
        "extfs.ext.root_path": str(fs_root),
        "extfs.ext.bucket_name": "local",
    }


def test_extfs_properties_relative_root_becomes_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = extfs_properties({"fs.storage_type": "local", "fs.root_path": "rel/root"})
    assert out["extfs.external.root_path"] == str(tmp_path / "rel" / "root")


def test_extfs_properties_remote_repeats_fs_keys():
    remote = {"fs.storage_type": "remote", "fs.bucket_name": "b", "fs.address": "h:9000", "writer.x": "1"}
    assert extfs_properties(remote, "s3") == {
        "extfs.s3.storage_type": "remote",
        "extfs.s3.bucket_name": "b",
        "extfs.s3.address": "h:9000",
    }


@pytest.mark.parametrize("alias", ["", "a.b"])
def test_extfs_properties_rejects_bad_alias(props, alias):
    with pytest.raises(ValueError, match="alias"):
        extfs_properties(props, alias)


def test_extfs_properties_needs_root():
    with pytest.raises(ValueError, match="fs.root_path"):
        extfs_properties({"fs.storage_type": "local"})


def test_split_uri_and_partition_values():
    assert split_uri("local:///local/a/b.parquet") == ("local", "", "local", "a/b.parquet")
    assert split_uri("s3://host:9/bkt/k/x?fragment_id=3") == ("s3", "host:9", "bkt", "k/x")
    with pytest.raises(ValueError, match="not an external file URI"):
        split_uri("a/b.parquet")
    assert partition_values("local:///local/t/year=2024/month=05/p.parquet") == {"year": "2024", "month": "05"}
    assert partition_values("t/a=1/x=y=z/file") == {"a": "1", "x": "y=z"}
    assert partition_values("t/year=2024.parquet") == {}  # the file name is not a partition


def test_explore_result_version():
    assert ExploreResult(1, "a/_metadata/manifest-12.avro").version == 12
    with pytest.raises(ValueError, match="unexpected manifest path"):
        _ = ExploreResult(1, "a/b.avro").version


def test_with_partition_columns_checks_rows_and_keys():
    group = loon.ColumnGroup(["id"], "parquet", [loon.ColumnGroupFile("f", 0, 2, {"partition.p": "7"})])
    table = pa.table({"id": [1, 2]})
    out = with_partition_columns(table, group, [pa.field("p", pa.int16())])
    assert out.column("p").to_pylist() == [7, 7] and out.schema.field("p").type == pa.int16()
    with pytest.raises(ValueError, match="rows"):
        with_partition_columns(pa.table({"id": [1]}), group, [pa.field("p", pa.int16())])
    with pytest.raises(KeyError, match="q"):
        with_partition_columns(table, group, [pa.field("q", pa.int16())])


def test_external_table_rejects_empty_format(props):
    with pytest.raises(ValueError, match="format"):
        ExternalTable(props, "")


# ---- explore -----------------------------------------------------------------------------------


def test_explore_commits_files_as_uris(ext, three_files):
    result = ext.explore("ext/d", "stage", COLUMNS)
    assert result == ExploreResult(3, "stage/_metadata/manifest-1.avro") and result.version == 1
    files = ext.explored_files(result)
    assert [f.path for f in files] == [f"local:///local/ext/d/{n}.parquet" for n in "abc"]  # nested/ not entered
    assert all((f.start_index, f.end_index, f.properties) == (-1, -1, {}) for f in files)
    manifest = ext.read_manifest(result.manifest_path)
    assert manifest.columns == COLUMNS and manifest.column_groups[0].format == "parquet"
    # A second explore appends to the same staging dataset.
    again = ext.explore("/ext/d/nested/", "stage", COLUMNS)
    assert again.version == 2 and len(ext.explored_files(again)) == 4


def test_explore_errors(ext, props, three_files, fs_root):
    with pytest.raises(TypeError, match="columns"):
        ext.explore("ext/d", "stage", "id")
    with pytest.raises(loon.InvalidArgumentError) as exc:
        ext.explore("ext/d", "stage", [])
    assert exc.value.code == 1
    with pytest.raises(loon.InvalidArgumentError):
        ExternalTable(props, "csv").explore("ext/d", "stage", COLUMNS)
    with pytest.raises(loon.LoonFileNotFoundError) as exc:
        ext.explore("ext/absent", "stage", COLUMNS)
    assert exc.value.code == 12
    with pytest.raises(loon.InvalidPropertiesError) as exc:
        ExternalTable(props.merged({"transaction.commit.num-retries": "x"})).explore("ext/d", "stage", COLUMNS)
    assert exc.value.code == 7
    ext.explore("ext/d", "stage", COLUMNS)
    with pytest.raises(loon.LogicalError) as exc:  # other columns than the staging dataset's group
        ext.explore("ext/d", "stage", ["id"])
    assert exc.value.code == 4
    assert not (fs_root / "stage/_metadata/manifest-2.avro").exists()


def test_explore_of_directory_without_files_gives_0_files(ext, fs_root):
    """As milvus-storage: 0 files, committed as a column group without files."""
    (fs_root / "ext/empty/sub").mkdir(parents=True)
    result = ext.explore("ext/empty", "stage", COLUMNS)
    assert (result.num_files, result.version) == (0, 1)
    (group,) = ext.read_manifest(result.manifest_path).column_groups
    assert group.columns == COLUMNS and group.files == []


@pytest.fixture
def without_providers(our_engine):
    """The engine with no Vortex/Lance provider registered (restored afterwards)."""
    for fmt in loon.formats.BUILTIN_PROVIDERS:
        loon.formats.unregister(fmt)
    yield
    loon.formats.register_builtin_providers()


@pytest.mark.parametrize("fmt", ["vortex", "lance-table"])
def test_formats_without_a_provider_are_refused_with_code_1(props, three_files, fs_root, fmt, without_providers):
    other = ExternalTable(props, fmt)
    for call in (lambda: other.explore("ext/d", "stage", COLUMNS), lambda: other.file_info("ext/d/a.parquet")):
        with pytest.raises(loon.InvalidArgumentError) as exc:
            call()
        assert exc.value.code == 1 and "not supported by this engine" in exc.value.message
    assert not (fs_root / "stage").exists()
    assert loon.formats.engine_reads(fmt) is False


# ---- file info, schema, groups -----------------------------------------------------------------


def test_file_info_and_schema(ext, three_files, fs_root):
    assert ext.file_info("ext/d/a.parquet") == 50
    assert ext.file_info("local:///local/ext/d/b.parquet") == 0
    assert ext.file_info("/ext/d/c.parquet") == 23
    assert ext.file_schema("ext/d/a.parquet") == data.SCHEMA
    assert ext.file_schema("local:///local/ext/d/c.parquet") == data.SCHEMA
    with pytest.raises(loon.LoonFileNotFoundError):
        ext.file_info("ext/d/zzz.parquet")
    with pytest.raises(loon.InvalidArgumentError):
        ext.file_info("ext/d")
    (fs_root / "ext/bad.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(loon.ArrowError) as exc:
        ext.file_info("ext/bad.parquet")
    assert exc.value.code == 3
    with pytest.raises(loon.InvalidArgumentError):
        ExternalTable(ext.backend_properties, "vortex").file_schema("ext/d/a.parquet")


def test_file_info_of_uri_needs_the_extfs_alias(props, three_files):
    # ExternalTable always adds the alias; a bare engine call with only fs.* keys cannot resolve URIs.
    ext = ExternalTable(props)
    ext.properties = loon.Properties(props)
    with pytest.raises(loon.ArrowError):
        ext.file_info("local:///local/ext/d/a.parquet")


def test_column_group_uses_known_rows_and_partitions(ext, fs_root):
    _write(fs_root, "ext/h/year=2024/p.parquet", data.make_table(4))
    uri = "local:///local/ext/h/year=2024/p.parquet"
    group = ext.column_group([uri], COLUMNS, hive_partitions=True)
    assert group.files == [loon.ColumnGroupFile(uri, 0, 4, {"partition.year": "2024"})]
    # Known counts are taken as given (no engine call: the path does not even exist).
    group = ext.column_group(["ext/none.parquet"], ["id"], rows={"ext/none.parquet": 9})
    assert group.num_rows == 9 and group.files[0].properties == {}


# ---- import ------------------------------------------------------------------------------------


def test_import_dirs_reads_back_by_value(ext, three_files):
    result = ext.import_dirs("db/t", ["ext/d"])  # columns from the first file's schema
    assert result.version == 1 and result.group.columns == COLUMNS and result.num_rows == 73
    assert [f.num_rows for f in result.group.files] == [50, 0, 23]
    assert result.staging_path == "db/t_explore"
    got = loon.read_dataset("db/t", data.SCHEMA, ext.properties)
    assert got.equals(three_files)


def test_import_dirs_append_and_staging_reuse(ext, fs_root, three_files):
    ext.import_dirs("db/t", ["ext/d"], columns=COLUMNS, staging="stage")
    _write(fs_root, "ext/more/m.parquet", data.make_table(7, offset=73))
    result = ext.import_dirs("db/t", ["ext/more"], columns=COLUMNS, staging="stage", append=True)
    # The staging base lists both explores; only the new file is imported.
    assert len(ext.explored_files(result.explores[-1])) == 4
    assert [f.path for f in result.group.files] == ["local:///local/ext/more/m.parquet"]
    assert result.version == 2
    got = loon.read_dataset("db/t", data.SCHEMA, ext.properties)
    assert got.equals(pa.concat_tables([three_files, data.make_table(7, offset=73)]))
    # add_column_group of the same columns again is refused at commit (code 4).
    with pytest.raises(loon.LogicalError):
        ext.import_dirs("db/t", ["ext/more"], columns=COLUMNS, staging="stage2")


def test_import_dirs_argument_errors(ext, fs_root):
    with pytest.raises(TypeError, match="explore_dirs"):
        ext.import_dirs("db/t", "ext/d")
    with pytest.raises(loon.InvalidArgumentError):
        ext.import_dirs("db/t", [])
    (fs_root / "ext/empty").mkdir(parents=True)
    with pytest.raises(loon.InvalidArgumentError, match="no file"):
        ext.import_dirs("db/t", ["ext/empty"])


def test_write_parquet_goes_through_the_backend(props, fs_root):
    table = data.make_table(30)
    size = write_parquet(props, "ext/w/one.parquet", table, row_group_size=10)
    path = fs_root / "ext/w/one.parquet"
    assert path.stat().st_size == size
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 3 and pq.read_table(path).equals(table)
