"""Shared fixtures: a fresh local storage root per test and the loaded engine."""

from __future__ import annotations

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
