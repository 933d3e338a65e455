"""loon.capabilities: the engine is asked what it supports; every probe can say no."""

from __future__ import annotations

import pyarrow as pa
import pytest

import loon
from loon import capability as caps_module


def test_our_engine_supports_every_capability(our_engine):
    caps = loon.capabilities()
    assert caps.supported == frozenset(loon.CAPABILITIES) - {"field_defaults"}, sorted(caps.supported)
    assert all(caps.missing_reason(name) is None for name in caps.supported)
    assert "no call of the C ABI takes a default" in caps.missing_reason("field_defaults")
    assert caps_module.declared_extensions() == {"commit_retries_property"}


def test_fault_points_are_the_exported_ones(our_engine):
    caps = loon.capabilities()
    assert caps.fault_points == frozenset(loon.fault_points().values())
    # The points beyond milvus-storage (ffi_fiu.h "Points of this engine only") are among them.
    for point in ("fs.write.fail", "fs.short_write.fail", "commit.before_manifest.fail",
                  "writer.init_column_group_writers.fail"):
        assert caps.has_fault_point(point)
    assert not caps.has_fault_point("no.such.point")


def test_unknown_capability_is_an_error():
    with pytest.raises(KeyError, match="merge_resolv"):
        loon.capabilities().supports("merge_resolv")


def test_missing_reason_names_the_behaviour():
    caps = loon.Capabilities(frozenset(), frozenset(), False)
    reason = caps.missing_reason("merge_resolve")
    assert "MERGE conflict resolution" in reason and "capability merge_resolve: probed" in reason
    assert "not declared in loon_engine_extensions()" in caps.missing_reason("commit_retries_property")


def _sorted_take(self, indices, columns=None, parallelism=1):
    """An engine that returns taken rows in file order (as milvus-storage requires sorted indices)."""
    return _ORIGINAL_TAKE(self, sorted(set(indices)), columns, parallelism)


_ORIGINAL_TAKE = loon.Reader.take


@pytest.mark.parametrize(
    ("capability", "patch"),
    [
        ("any_order_take", ("take", _sorted_take)),
        ("exact_predicates", ("scan", lambda self, predicate=None: _ORIGINAL_SCAN(self))),
    ],
)
def test_probes_say_no_when_the_behaviour_is_missing(monkeypatch, capability, patch):
    """Each probe observes the behaviour: an engine that lacks it (simulated) is not credited with it."""
    assert caps_module._probe_all()[capability]
    monkeypatch.setattr(loon.Reader, *patch)
    answers = caps_module._probe_all()
    assert not answers[capability]
    assert all(answers[name] for name in answers if name != capability)


_ORIGINAL_SCAN = loon.Reader.scan


def test_probe_errors_mean_unsupported(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise loon.ArrowError(3, "indices must be sorted")  # what milvus-storage answers

    monkeypatch.setattr(loon.Reader, "take", refuse)
    assert caps_module._probe_all()["any_order_take"] is False
    assert caps_module._probe_all()["merge_resolve"] is True


def test_missing_columns_probe_reads_a_column_no_group_holds(monkeypatch):
    def fail_on_missing(self, predicate=None):
        table = _ORIGINAL_SCAN(self, predicate)
        if "absent" in table.column_names:
            return table.drop_columns(["absent"]).append_column("absent", pa.array([1, 2, 3], pa.int32()))
        return table

    monkeypatch.setattr(loon.Reader, "scan", fail_on_missing)
    assert caps_module._probe_all()["missing_columns_as_null"] is False
