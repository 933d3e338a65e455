"""Format providers (our extension) through the Python binding: the built-in Vortex/Lance providers,
a provider written in Python called from the engine's worker threads, and every way a Python
provider can fail (an exception in a callback, a short stream, a wrong column, no stream): an
error code carrying the provider's message, never a crash or a hang."""

from __future__ import annotations

import gc
import json
import threading
import weakref
from pathlib import Path

import pyarrow as pa
import pytest

import loon
from loon import formats
from loon.suite import data

COLUMNS = data.SCHEMA.names


class JsonRowsProvider:
    """A "jsonrows" file holds {"offset": o, "rows": n}: its rows are data.make_table(n, offset=o).

    ``fail`` names a misbehaviour: "list", "describe", "open", "short", "long", "missing", "type",
    "not-a-stream", "next". ``threads`` records the threads the engine called from.
    """

    def __init__(self, fail: str = ""):
        self.fail = fail
        self.threads: set[int] = set()
        self.calls = 0
        self._lock = threading.Lock()

    def _seen(self) -> None:
        with self._lock:
            self.threads.add(threading.get_ident())
            self.calls += 1

    @staticmethod
    def _spec(location: formats.Location) -> dict:
        assert location.is_local and not location.storage_options
        path = Path(location.uri)
        if path.is_dir():
            raise IsADirectoryError(f"{location} is a directory")
        if not path.exists():
            raise FileNotFoundError(location.uri)
        return json.loads(path.read_text())

    def list(self, location, properties):
        self._seen()
        if self.fail == "list":
            raise RuntimeError("boom in list")
        return [formats.Entry(name=p.name) for p in sorted(Path(location.uri).iterdir()) if p.is_file()]

    def describe(self, location, fragment_id, properties):
        self._seen()
        if self.fail == "describe":
            raise RuntimeError("boom in describe")
        return self._spec(location)["rows"], data.SCHEMA

    def open(self, location, fragment_id, columns, start, end, properties):
        self._seen()
        if self.fail == "open":
            raise ValueError("boom in open")
        if self.fail == "not-a-stream":
            return [1, 2, 3]
        spec = self._spec(location)
        n = end - start + {"short": -1, "long": 1}.get(self.fail, 0)
        table = data.make_table(n, offset=spec["offset"] + start, batch_rows=7).select(list(columns))
        if self.fail == "missing":
            table = table.drop_columns(["value"])
        if self.fail == "type":
            table = table.set_column(0, "id", pa.array([[i] for i in range(n)], pa.list_(pa.int64())))
        if self.fail == "next":

            def batches():
                yield table.to_batches()[0]
                raise OSError("boom in get_next")

            return pa.RecordBatchReader.from_batches(table.schema, batches())
        return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())


@pytest.fixture
def jsonrows(our_engine):
    """Registers a fresh JsonRowsProvider as "jsonrows"; unregistered afterwards."""
    provider = JsonRowsProvider()
    formats.register("jsonrows", provider)
    yield provider
    formats.unregister("jsonrows")


@pytest.fixture
def files(fs_root):
    """ext/j/{a,b,c}.json of 40, 0 and 25 rows (ids 0..64)."""
    (fs_root / "ext/j").mkdir(parents=True)
    for name, offset, rows in (("a", 0, 40), ("b", 40, 0), ("c", 40, 25)):
        (fs_root / f"ext/j/{name}.json").write_text(json.dumps({"offset": offset, "rows": rows}))
    return data.make_table(65)


def _import(props, fmt="jsonrows") -> list[loon.ColumnGroup]:
    ext = loon.ExternalTable(props, fmt)
    ext.import_dirs("db/t", ["ext/j"], columns=COLUMNS)
    return loon.open_manifest("db/t", ext.properties)[1].column_groups, ext.properties


def test_builtin_providers_are_registered_on_our_engine(our_engine):
    assert formats.supported()
    assert formats.engine_reads("vortex") and formats.engine_reads("lance-table")
    assert formats.engine_reads("parquet") and not formats.engine_reads("csv")


def test_python_provider_reads_from_engine_threads(props, files, jsonrows):
    groups, ext_props = _import(props)
    assert [f.num_rows for f in groups[0].files] == [40, 0, 25]
    with loon.Reader(groups, data.SCHEMA, properties=ext_props.merged({"reader.logical_chunk_rows": 6})) as reader:
        assert reader.scan().equals(files)
        rows = list(range(0, 65, 3))
        assert reader.take(rows, parallelism=4).equals(files.take(rows))
        with reader.chunk_reader(0, ["name", "id"]) as chunks:
            assert chunks.num_chunks == 7 + 5
            got = chunks.get_chunks(list(range(chunks.num_chunks))[::-1], parallelism=4)
            assert pa.Table.from_batches(got[::-1]).equals(files.select(["name", "id"]))
    assert jsonrows.threads - {threading.get_ident()}, "no callback came from an engine worker thread"


class TakingProvider(JsonRowsProvider):
    """JsonRowsProvider with random access; ``taken`` records the rows each take asked for."""

    def __init__(self, fail: str = ""):
        super().__init__(fail)
        self.taken: list[list[int]] = []
        self.opened = 0

    def open(self, location, fragment_id, columns, start, end, properties):
        self.opened += 1
        return super().open(location, fragment_id, columns, start, end, properties)

    def take(self, location, fragment_id, columns, rows, properties):
        self._seen()
        self.taken.append(list(rows))
        spec = self._spec(location)
        table = data.make_table(spec["rows"], offset=spec["offset"]).select(list(columns))
        if self.fail == "short":
            rows = rows[:-1]
        return table.take(pa.array(rows, pa.int64()))


@pytest.mark.parametrize("fail", ["", "short"])
def test_python_provider_take_gets_only_the_rows_asked(props, files, our_engine, fail):
    provider = TakingProvider(fail)
    formats.register("jsonrows", provider)
    try:
        groups, ext_props = _import(props)
        with loon.Reader(groups, data.SCHEMA, properties=ext_props.merged({"reader.logical_chunk_rows": 20})) as reader:
            rows = [64, 3, 3, 41, 0, 17]  # any order, a repeat, both files
            if fail:
                with pytest.raises(loon.LoonError, match="ended after") as err:
                    reader.take(rows)
                assert err.value.code == 3
                return
            assert reader.take(rows, parallelism=2).equals(files.take(rows))
        assert provider.opened == 0
        # Per file, the distinct rows, ascending, relative to the file (c.json starts at id 40).
        assert sorted(provider.taken) == [[0, 3, 17], [1, 24]]
    finally:
        formats.unregister("jsonrows")


@pytest.mark.parametrize(
    ("fail", "needle"),
    [
        ("describe", "boom in describe"),
        ("open", "boom in open"),
        ("short", "ended after"),
        ("long", "more than"),
        ("missing", "no column 'value'"),
        ("type", "does not convert"),
        ("not-a-stream", "TypeError"),
        ("next", "boom in get_next"),
    ],
)
def test_provider_failures_become_errors_with_its_message(props, files, jsonrows, fail, needle):
    groups, ext_props = _import(props)
    jsonrows.fail = fail
    with loon.Reader(groups, data.SCHEMA, properties=ext_props) as reader:
        with pytest.raises((loon.LoonError, OSError)) as exc:  # at open (code 3) or from the stream
            reader.scan()
        assert needle in str(exc.value)
        with pytest.raises(loon.ArrowError) as exc:
            reader.take([41, 60])  # one stream over rows 41..60 of file c (more than its first batch)
        assert exc.value.code == 3 and needle in exc.value.message


def test_callback_exceptions_choose_their_codes(props, files, jsonrows):
    ext = loon.ExternalTable(props, "jsonrows")
    with pytest.raises(loon.LoonFileNotFoundError):
        ext.file_info("ext/j/absent.json")  # the engine sees the path is absent
    with pytest.raises(loon.InvalidArgumentError) as exc:
        ext.file_info("ext/j")  # the provider raises IsADirectoryError
    assert "IsADirectoryError" in exc.value.message
    (Path(props["fs.root_path"]) / "ext/j/bad.json").write_text("{not json")
    with pytest.raises(loon.ArrowError) as exc:
        ext.file_info("ext/j/bad.json")
    assert "JSONDecodeError" in exc.value.message
    jsonrows.fail = "list"
    with pytest.raises(loon.ArrowError) as exc:
        ext.explore("ext/j", "stage", COLUMNS)
    assert "boom in list" in exc.value.message
    assert not (Path(props["fs.root_path"]) / "stage").exists()


def test_registration_is_released_after_unregister_and_replace(our_engine):
    provider = JsonRowsProvider()
    ref = weakref.ref(provider)
    before = formats.registered_count()
    formats.register("tmpfmt", provider)
    formats.register("tmpfmt", JsonRowsProvider())  # replaces: the first one is released
    del provider
    gc.collect()
    assert ref() is None and formats.registered_count() == before + 1
    assert formats.unregister("tmpfmt") and not formats.unregister("tmpfmt")
    assert formats.registered_count() == before
    with pytest.raises(loon.InvalidArgumentError):
        formats.register("parquet", JsonRowsProvider())
    assert formats.registered_count() == before


def test_replacing_the_provider_while_reading(props, files, jsonrows):
    groups, ext_props = _import(props)
    errors, stop = [], threading.Event()

    def read():
        while not stop.is_set():
            try:
                with loon.Reader(groups, data.SCHEMA, properties=ext_props) as reader:
                    if not reader.scan().equals(files):
                        errors.append("wrong rows")
            except loon.LoonError as exc:
                if exc.code == 3 and "not readable by this engine" in exc.message:
                    continue  # read between an unregister and the next register: no provider then
                errors.append(str(exc))

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(30):
        formats.register("jsonrows", JsonRowsProvider())
        if i % 4 == 0:
            formats.unregister("jsonrows")
    formats.register("jsonrows", jsonrows)
    stop.set()
    for t in threads:
        t.join(60)
    assert errors == []


def test_memory_estimation_fault_hits_provider_groups_only(props, files, jsonrows):
    if not loon.fault_injection_enabled():
        pytest.skip("engine built without libfiu")
    groups, ext_props = _import(props)
    parquet_groups = loon.write_dataset("db/p", files, props)
    with (
        loon.Reader(groups, data.SCHEMA, properties=ext_props) as reader,
        reader.chunk_reader(0) as chunks,
        loon.Reader(parquet_groups, data.SCHEMA, properties=props) as parquet_reader,
        parquet_reader.chunk_reader(0) as parquet_chunks,
    ):
        with loon.injected("memory_size_estimation.fail"):
            assert parquet_chunks.metadata(loon.ESTIMATED_MEMORY)["estimated_memory"]  # not evaluated for Parquet
            assert sum(chunks.metadata(loon.NUM_OF_ROWS)["num_rows"]) == 65  # row counts are not estimates
            with pytest.raises(loon.ArrowError):
                chunks.metadata(loon.ESTIMATED_MEMORY)
        assert all(m > 0 for m in chunks.metadata(loon.ESTIMATED_MEMORY)["estimated_memory"])
