"""Shared fixtures: a fresh local storage root per test, the loaded engine and object-store emulators."""

from __future__ import annotations

import dataclasses
import os
import uuid
from typing import Any

import pytest

import loon


@pytest.fixture
def fs_root(tmp_path):
    """A local filesystem root for one test."""
    root = tmp_path / "root"
    root.mkdir()
    return root


@pytest.fixture
def props(fs_root) -> loon.Properties:
    """Properties selecting the local backend rooted at ``fs_root``."""
    return loon.Properties({"fs.storage_type": "local", "fs.root_path": str(fs_root)})


@pytest.fixture
def engine() -> loon.LibraryInfo:
    return loon.library_info()


@pytest.fixture
def our_engine(engine):
    """Skip unless our own engine is loaded (extensions and engine internals)."""
    if not engine.is_loon_engine:
        pytest.skip(f"needs the loon engine; loaded {engine.path} is a real milvus-storage build")
    return engine


# ---- object-store emulators ------------------------------------------------------------------
# One emulator of each kind per test session (started on first use, stopped at the end); each test
# gets its own key prefix in the session's bucket. Without the emulator's program installed the
# tests skip, unless LOON_REQUIRE_EMULATORS=1 (set by `make test`, which installs them) makes that
# a failure.

REMOTE_KINDS = ("moto", "azurite", "fake-gcs-server")


@dataclasses.dataclass
class RemoteStore:
    """An emulator, the engine properties pointing at its bucket and a prefix unique to one test."""

    emulator: Any
    props: loon.Properties
    prefix: str

    @property
    def kind(self) -> str:
        return self.emulator.kind

    def path(self, name: str) -> str:
        return f"{self.prefix}/{name}"


@pytest.fixture(scope="session")
def emulator_pool():
    from loon.suite import emulators

    started: dict[str, Any] = {}

    def get(kind: str):
        if kind not in started:
            try:
                started[kind] = emulators.start(kind)
            except emulators.EmulatorUnavailable as exc:
                started[kind] = exc
        emu = started[kind]
        if isinstance(emu, Exception):
            if os.environ.get("LOON_REQUIRE_EMULATORS") == "1":
                pytest.fail(f"{kind} emulator required but unavailable: {emu}")
            pytest.skip(f"{kind} emulator unavailable: {emu}")
        return emu

    yield get
    for emu in started.values():
        if not isinstance(emu, Exception):
            emu.stop()


@pytest.fixture(params=REMOTE_KINDS)
def remote(request, emulator_pool) -> RemoteStore:
    """Each emulator in turn, with a fresh prefix in its bucket."""
    emu = emulator_pool(request.param)
    return RemoteStore(emu, loon.Properties(emu.properties()), f"t-{uuid.uuid4().hex[:10]}")


# ---- Ray (optional dependency) -----------------------------------------------------------------
# One local Ray cluster (2 CPUs) per test session, started by the first test that asks for it (its
# start-up costs 15-20 s) and shut down at the end. Without Ray
# installed the tests skip, unless LOON_REQUIRE_RAY=1 (set by `make test`, which installs it).


@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray cluster with 2 CPUs; yields its GCS address (for other drivers, e.g. runner.py)."""
    from loon.suite import raycluster

    try:
        raycluster.import_ray()
    except raycluster.RayUnavailable as exc:
        if os.environ.get("LOON_REQUIRE_RAY") == "1":
            pytest.fail(f"Ray required but unavailable: {exc}")
        pytest.skip(str(exc))
    with raycluster.cluster(num_cpus=2) as ray:
        yield ray.get_runtime_context().gcs_address
