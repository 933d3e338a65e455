"""loon.suite.external_formats: when a Vortex/Lance case skips, and the fixture helpers' facts."""

from __future__ import annotations

import pyarrow as pa
import pytest

import loon
from loon.suite import data
from loon.suite import external_formats as xf
from loon.suite.cases import Skip


def _raise(exc):
    def call():
        raise exc

    return call


def test_call_or_skip_skips_a_refused_format_only_without_a_provider(monkeypatch):
    refused = loon.InvalidArgumentError(1, "format 'vortex' is not supported by this engine", "explore")
    monkeypatch.setattr(loon.formats, "engine_reads", lambda fmt: True)
    with pytest.raises(loon.InvalidArgumentError):  # our engine claims the format: a real failure
        xf.call_or_skip("vortex", _raise(refused))
    for answer in (False, None):  # no provider, or an engine without the provider ABI
        monkeypatch.setattr(loon.formats, "engine_reads", lambda fmt, a=answer: a)
        with pytest.raises(Skip, match="pip install vortex-data"):
            xf.call_or_skip("vortex", _raise(refused))
    with pytest.raises(Skip, match="on this storage"):
        xf.call_or_skip("lance-table", _raise(loon.NotSupportedError(9, "local storage only", "explore")))
    with pytest.raises(loon.ArrowError):
        xf.call_or_skip("vortex", _raise(loon.ArrowError(3, "bad file", "explore")))
    assert xf.call_or_skip("vortex", lambda: 7) == 7


def test_fixture_facts(props, fs_root):
    pytest.importorskip("lance")
    pytest.importorskip("vortex")
    table = data.make_table(50)
    assert xf.write_vortex(props, "v/a.vortex", table) == 50
    rows, schema = xf.vortex_file_schema(props, "v/a.vortex")
    assert rows == 50 and xf.same_columns(schema, table.schema)
    assert not xf.same_columns(schema, pa.schema([("id", pa.int64())]))
    fixture = xf.write_lance(props, "l/ds.lance", [table, data.make_table(7, offset=50)], 20, delete="id < 5")
    assert [(f.fragment_id, f.num_rows, f.physical_rows) for f in fixture.fragments] == [
        (0, 15, 20),
        (1, 20, 20),
        (2, 10, 10),
        (3, 7, 7),
    ]
    assert fixture.table.num_rows == 52 and (fs_root / "l/ds.lance/_versions").is_dir()
    assert xf.lance_fragments_at(fs_root / "l/ds.lance") == fixture.fragments
    assert xf.chunk_count([20, 0, 41], 10) == 2 + 0 + 5
