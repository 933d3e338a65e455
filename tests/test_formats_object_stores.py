"""Vortex and Lance read through the engine on the object-store emulators (S3: moto, GCS:
fake-gcs-server, Azure: Azurite): the providers reach the data with the storage options the engine
derives from its ``fs.*`` configuration (endpoint, credentials, addressing), never a local path.

Fixtures are written by the formats' own libraries and uploaded through the engine's filesystem;
reads are checked by value against what the libraries wrote (scan across files/fragments, a take
crossing their boundaries, a Lance fragment after a delete).
"""

from __future__ import annotations

import pyarrow as pa
import pytest

import loon
from loon import formats
from loon.suite.external_formats import write_lance, write_vortex

pytestmark = [pytest.mark.timeout(300), pytest.mark.usefixtures("our_engine")]

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])


def _table(n: int, offset: int = 0) -> pa.Table:
    ids = list(range(offset, offset + n))
    return pa.table({"id": pa.array(ids, pa.int64()), "name": [f"row-{i}" for i in ids]}, schema=SCHEMA)


def _import(remote, fmt: str, directory: str) -> tuple[loon.Reader, loon.ColumnGroup]:
    ext = loon.ExternalTable(remote.props, fmt)
    result = ext.import_dirs(remote.path(f"{fmt}-ds"), [directory], columns=SCHEMA.names)
    reader = loon.Reader(
        loon.ColumnGroups([result.group]), SCHEMA, properties=ext.properties.merged({"reader.logical_chunk_rows": 40})
    )
    return reader, result.group


def test_vortex_files_read_through_the_engine(remote):
    if not formats.engine_reads("vortex"):
        pytest.skip("vortex-data is not installed")
    directory = remote.path("vortex")
    parts = [_table(70), _table(55, offset=70)]
    for i, part in enumerate(parts):
        assert write_vortex(remote.props, f"{directory}/part-{i}.vortex", part) == part.num_rows
    reader, group = _import(remote, "vortex", directory)
    assert [f.num_rows for f in group.files] == [70, 55]
    expected = pa.concat_tables(parts)
    assert reader.scan().equals(expected)
    rows = [124, 0, 69, 70, 33]  # across the file boundary, out of order
    assert reader.take(rows).equals(expected.take(rows))


def test_lance_fragments_read_through_the_engine(remote):
    if not formats.engine_reads("lance-table"):
        pytest.skip("pylance is not installed")
    path = remote.path("lance/ds.lance")
    fixture = write_lance(remote.props, path, [_table(90), _table(30, offset=90)], 45, delete="id >= 10 AND id < 20")
    reader, group = _import(remote, "lance-table", path)
    uris = [f.path for f in group.files]
    assert [int(u.rsplit("=", 1)[1]) for u in uris] == [f.fragment_id for f in fixture.fragments]
    assert [f.num_rows for f in group.files] == [f.num_rows for f in fixture.fragments]
    assert any(f.num_deletions for f in fixture.fragments)
    assert reader.scan().equals(fixture.table.cast(SCHEMA))
    rows = [fixture.num_rows - 1, 0, 34, 35, 80]  # crossing fragment boundaries
    assert reader.take(rows).equals(fixture.table.cast(SCHEMA).take(rows))
