"""Engine calls the fuzz suite and the regression tests run in the child (see ``worker.py``).

Each takes plain, picklable arguments and returns plain data: Arrow tables travel as tables
(pyarrow pickles them), manifests as ``summary`` dicts.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

import loon
from loon.column_groups import ColumnGroups


def summary(manifest: loon.Manifest) -> dict[str, Any]:
    """The column groups of a manifest as plain data (every string decoded)."""
    return {
        "groups": [
            {
                "columns": list(g.columns),
                "format": g.format,
                "files": [(f.path, f.start_index, f.end_index, dict(f.properties)) for f in g.files],
            }
            for g in manifest.column_groups
        ],
        "delta_logs": [(d.path, d.num_entries) for d in manifest.delta_logs],
    }


def read_manifest_file(path: str, props: dict[str, str]) -> dict[str, Any]:
    return summary(loon.read_manifest_file(path, props))


def open_latest(base: str, props: dict[str, str]) -> dict[str, Any]:
    return summary(loon.open_manifest(base, props)[1])


def scan_latest(base: str, schema: pa.Schema, props: dict[str, str], predicate: str | None = None) -> pa.Table:
    """Reads the newest manifest of ``base`` and scans it with ``schema``."""
    return loon.read_dataset(base, schema, props, predicate=predicate)


def scan_file_manifest(path: str, schema: pa.Schema, props: dict[str, str]) -> pa.Table:
    """Reads the manifest file at ``path`` and scans its column groups."""
    manifest = loon.read_manifest_file(path, props)
    with loon.Reader(manifest.column_groups, schema, properties=props) as reader:
        return reader.scan()


def scan(groups: ColumnGroups, schema: pa.Schema, props: dict[str, str], predicate: str | None = None) -> pa.Table:
    with loon.Reader(groups, schema, properties=props) as reader:
        return reader.scan(predicate)


def take(groups: ColumnGroups, schema: pa.Schema, props: dict[str, str], indices: list[int]) -> pa.Table:
    with loon.Reader(groups, schema, properties=props) as reader:
        return reader.take(indices)


def get_chunks(groups: ColumnGroups, schema: pa.Schema, props: dict[str, str], group: int) -> pa.Table:
    """Every chunk of one column group; each chunk must carry exactly the reader's field types."""
    with loon.Reader(groups, schema, properties=props) as reader, reader.chunk_reader(group) as chunks:
        batches = chunks.get_chunks(list(range(chunks.num_chunks)))
    columns = [c for c in schema.names if c in groups[group].columns]
    want = pa.schema([schema.field(c) for c in columns])
    for b in batches:
        if not b.schema.equals(want):
            raise AssertionError(f"chunk schema {b.schema} differs from the reader's {want}")
    return pa.Table.from_batches(batches, want)


def write_and_read(base: str, table: pa.Table, props: dict[str, str]) -> pa.Table:
    """Writes ``table`` with ``props`` and reads it back through the written column groups."""
    with loon.Writer(base, table.schema, props) as w:
        for batch in table.to_batches():
            w.write(batch)
    with loon.Reader(w.column_groups, table.schema, properties=props) as reader:
        return reader.scan()


def writer_groups(base: str, schema: pa.Schema, props: dict[str, str]) -> list[list[str]]:
    """The column lists the writer's policy makes of ``schema`` (one row of NULLs written)."""
    table = pa.Table.from_pylist([{}], schema=schema)
    with loon.Writer(base, schema, props) as w:
        w.write(table)
    return [list(g.columns) for g in w.column_groups]


def fs_read(props: dict[str, str], path: str) -> bytes:
    with loon.Filesystem(props) as fs:
        return fs.read_all(path)


def fs_list(props: dict[str, str], path: str) -> list[str]:
    with loon.Filesystem(props) as fs:
        return [f.path for f in fs.list_dir(path)]


def validate(base: str, props: dict[str, str]) -> tuple[bool, list[str]]:
    from loon.suite import validate as run_validate

    report = run_validate(base, props)
    return report.ok, list(report.problems)


def writer_with_nested_schema(base: str, props: dict[str, str], depth: int) -> int:
    """``loon_writer_new`` with a C schema whose one field nests ``depth - 1`` lists (built by hand:
    pyarrow's own export recurses too); returns the FFI code."""
    from loon._ffi import ffi, library

    nodes = ffi.new("struct ArrowSchema[]", depth + 1)
    children = ffi.new("struct ArrowSchema*[]", depth)
    keep = [ffi.new("char[]", b"+l"), ffi.new("char[]", b"i"), ffi.new("char[]", b"item"), ffi.new("char[]", b"+s")]

    @ffi.callback("void(struct ArrowSchema*)")
    def release(schema):
        schema.release = ffi.NULL

    for i in range(depth + 1):
        node = nodes[i]
        node.format = keep[3] if i == 0 else keep[0] if i < depth else keep[1]  # a struct of nested lists
        node.name = keep[2]
        node.flags = 2  # nullable
        node.n_children = 1 if i < depth else 0
        if i < depth:
            children[i] = ffi.addressof(nodes, i + 1)
            node.children = ffi.addressof(children, i)
        node.release = release
    out = ffi.new("LoonWriterHandle*")
    from loon.properties import as_properties

    with as_properties(props).as_c() as c_props:
        result = library().loon_writer_new(base.encode(), ffi.addressof(nodes, 0), c_props, out)
    code = result.err_code
    holder = ffi.new("LoonFFIResult*", result)
    library().loon_ffi_free_result(holder)
    if out[0]:
        library().loon_writer_destroy(out[0])
    return code
