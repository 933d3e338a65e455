"""What the loaded engine supports, asked of the engine itself (not inferred from which engine it is).

milvus-storage defines a common core; our engine adds behaviour beyond it (README, "Compatibility:
where our engine goes beyond milvus-storage"). Code that relies on one of those behaviours asks
``capabilities().supports(name)`` instead of checking the engine's identity, so a milvus-storage
build that gains a behaviour is used for it at once.

``CAPABILITIES`` is the one table of those behaviours. Most are *probed*: a tiny dataset in a
private temporary directory is written once per process and the engine's answer is observed (e.g.
``take([2, 0, 0])`` either returns rows 2, 0, 0 or fails). Behaviours that no quick call can show
(a retry budget only matters when a commit loses a race) are *declared* by the engine in
``loon_engine_extensions()`` (an extension symbol; a library without it declares nothing). The
fault points an engine has are the ``loon_fiukey_*`` symbols it exports (``fault_points()``).

>>> caps = capabilities()
>>> caps.supports("any_order_take"), "fs.write.fail" in caps.fault_points
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow as pa

from ._ffi import ffi, library
from .errors import LoonError
from .faults import fault_injection_enabled, fault_points, injected
from .reader import Reader
from .transaction import Resolve, Transaction, commit_groups
from .writer import Writer, write_dataset

__all__ = ["CAPABILITIES", "Capabilities", "Capability", "capabilities", "declared_extensions"]


@dataclass(frozen=True)
class Capability:
    """One behaviour beyond the milvus-storage core: what it is and how it is detected."""

    name: str
    description: str  # completes "this engine does not support ..."
    how: str  # "probe" or "declared"


CAPABILITIES: dict[str, Capability] = {
    c.name: c
    for c in (
        Capability("any_order_take", "loon_take with indices in any order and duplicates", "probe"),
        Capability("exact_predicates", "exact row filtering by the predicate of loon_get_record_batch_reader", "probe"),
        Capability(
            "missing_columns_as_null", "reading a column no column group of the version holds (as all-null)", "probe"
        ),
        Capability("merge_resolve", "MERGE conflict resolution (resolve_id 1)", "probe"),
        Capability("empty_write_noop", "a 0-row write as a no-op (no files, no column groups)", "probe"),
        Capability("fault_counts", "fault counts n > 1 (the next n evaluations fail)", "probe"),
        Capability(
            "field_defaults",
            "adding a field with a default value (no call of the C ABI takes a default: a field is added as a"
            " column group of data files, loon_transaction_add_column_group, and a manifest records no default)",
            "declared",
        ),
        Capability(
            "commit_retries_property",
            "transaction.commit.num-retries as a commit retry budget (effective retries = max(property, retry_limit))",
            "declared",
        ),
    )
}

_SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("name", pa.string())])
_ROWS = pa.table({"id": pa.array([0, 1, 2], pa.int64()), "name": pa.array(["a", "b", "c"])})


def declared_extensions() -> frozenset[str]:
    """Capability names the engine declares in ``loon_engine_extensions()`` (none if it has no such symbol)."""
    try:
        text = ffi.string(library().loon_engine_extensions()).decode()
    except AttributeError:
        return frozenset()
    return frozenset(text.split())


@contextlib.contextmanager
def _scratch() -> Iterator[dict[str, str]]:
    """Properties of a private local root, removed afterwards."""
    root = tempfile.mkdtemp(prefix="loon-capabilities-")
    try:
        yield {"fs.storage_type": "local", "fs.root_path": root}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _answer(probe: Callable[[], bool]) -> bool:
    """A probe's answer; an engine error (e.g. code 3 for unsorted take) means "not supported"."""
    try:
        return bool(probe())
    except LoonError:
        return False


def _probe_all() -> dict[str, bool]:
    found: dict[str, bool] = {}
    with _scratch() as props:
        groups = write_dataset("probe", _ROWS, props)

        def read(schema: pa.Schema = _SCHEMA) -> Reader:
            return Reader(groups, schema, properties=props)

        def any_order_take() -> bool:
            with read() as r:
                return r.take([2, 0, 0]).column("id").to_pylist() == [2, 0, 0]

        def exact_predicates() -> bool:
            with read() as r:
                return r.scan("id = 1").column("id").to_pylist() == [1]

        def missing_columns_as_null() -> bool:
            with read(_SCHEMA.append(pa.field("absent", pa.int32()))) as r:
                got = r.scan()
            return got.num_rows == 3 and got.column("absent").null_count == 3

        def merge_resolve() -> bool:
            commit_groups("merge", groups, props)
            late = Transaction("merge", props, resolve=Resolve.MERGE)
            try:
                late.append_files(groups)
                commit_groups("merge", groups, props)  # version 2 lands after late read version 1
                return late.commit() == 3
            finally:
                late.abort()

        def empty_write_noop() -> bool:
            with Writer("empty", _SCHEMA, props) as w:
                w.write(_ROWS.slice(0, 0))
            return len(w.column_groups) == 0

        def fault_counts() -> bool:
            if not fault_injection_enabled():
                return False
            failures = 0
            with read() as r, injected("take_rows.fail", 3):
                for _ in range(4):
                    try:
                        r.take([0])
                    except LoonError:
                        failures += 1
            return failures == 3

        for probe in (
            any_order_take,
            exact_predicates,
            missing_columns_as_null,
            merge_resolve,
            empty_write_noop,
            fault_counts,
        ):
            found[probe.__name__] = _answer(probe)
    return found


@dataclass(frozen=True)
class Capabilities:
    """The answers for the loaded engine: ``supported`` capability names and exported fault points."""

    supported: frozenset[str]
    fault_points: frozenset[str]
    fault_injection: bool

    def supports(self, name: str) -> bool:
        if name not in CAPABILITIES:
            raise KeyError(f"unknown capability {name!r}; known: {', '.join(CAPABILITIES)}")
        return name in self.supported

    def missing_reason(self, name: str) -> str | None:
        """Why ``name`` cannot be used with this engine (a skip reason), or None if it is supported."""
        if self.supports(name):
            return None
        cap = CAPABILITIES[name]
        found = "probed" if cap.how == "probe" else "not declared in loon_engine_extensions()"
        return f"this engine does not support {cap.description} (capability {name}: {found})"

    def has_fault_point(self, point: str) -> bool:
        return point in self.fault_points


@functools.cache
def capabilities() -> Capabilities:
    """The loaded engine's capabilities (probed once per process, about 20 ms)."""
    probed = _probe_all()
    declared = declared_extensions()
    supported = {
        name for name, cap in CAPABILITIES.items() if (probed[name] if cap.how == "probe" else name in declared)
    }
    return Capabilities(frozenset(supported), frozenset(fault_points().values()), fault_injection_enabled())
