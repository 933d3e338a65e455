"""Committed test fixtures (``tests/fixtures``): where they are and how to install them on a backend."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..filesystem import Filesystem

__all__ = ["FIXTURES", "install_tree", "legacy_dir", "legacy_expected"]

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures"


def legacy_dir(version: int) -> Path:
    """The legacy raw-manifest dataset of format ``version`` (1..3, README "Manifest files": legacy)."""
    path = FIXTURES / "legacy" / f"v{version}"
    if not path.is_dir():
        raise FileNotFoundError(f"no legacy fixture {path}; run tests/fixtures/make_legacy_manifests.py")
    return path


def legacy_expected(version: int) -> pa.Table:
    """The rows of legacy fixture ``version`` ({id, name, value}, 5 rows), as the generator wrote them."""
    base = version * 100
    return pa.table(
        {
            "id": pa.array(range(base, base + 5), pa.int64()),
            "name": pa.array([f"v{version}-row{i}" for i in range(5)], pa.string()),
            "value": pa.array([float(base + i) / 4 for i in range(5)], pa.float64()),
        }
    )


def install_tree(source: Path, properties: Mapping[str, Any], dest: str) -> list[str]:
    """Copies every file below local ``source`` to ``dest`` on the backend (any backend); returns the paths."""
    written = []
    with Filesystem(properties) as fs:
        for file in sorted(p for p in source.rglob("*") if p.is_file()):
            target = f"{dest}/{file.relative_to(source).as_posix()}"
            fs.write(target, file.read_bytes())
            written.append(target)
    return written
