"""``validate``: a consistency check a user can run on any dataset, at any version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq

from ..column_groups import ColumnGroupFile
from ..errors import LoonError
from ..filesystem import EngineFile, Filesystem
from ..reader import Reader
from ..transaction import LATEST, open_manifest

# The column-group formats a manifest may name (read-only external formats included).
COLUMN_GROUP_FORMATS = ("parquet", "vortex", "lance-table", "iceberg-table", "paimon-table")


@dataclass
class ValidationReport:
    """What ``validate`` found: ``ok`` is True when ``problems`` is empty."""

    base_path: str
    version: int = 0
    num_groups: int = 0
    num_files: int = 0
    num_rows: int = 0
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        head = (
            f"{self.base_path} v{self.version}: {self.num_groups} groups, {self.num_files} files, {self.num_rows} rows"
        )
        if self.ok:
            return head + " - OK"
        return head + f" - {len(self.problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in self.problems)


def _check_file(fs: Filesystem, f: ColumnGroupFile, columns: list[str], report: ValidationReport) -> None:
    if "://" in f.path:
        report.checked.append(f"{f.path}: external URI, not opened")
        return
    try:
        size = fs.file_size(f.path)
    except LoonError as e:
        report.problems.append(f"{f.path}: missing or unreadable ({e})")
        return
    try:
        recorded = f.file_size
    except ValueError:
        report.problems.append(f"{f.path}: recorded file_size {f.properties.get('file_size')!r} is not a number")
        return
    if recorded is not None and recorded != size:
        report.problems.append(f"{f.path}: size {size} differs from recorded file_size {recorded}")
        return
    if f.start_index < 0 or f.end_index < f.start_index:
        report.problems.append(f"{f.path}: invalid row range [{f.start_index}, {f.end_index})")
        return
    try:
        with EngineFile(fs.open_reader(f.path, size), size) as handle:
            parquet = pq.ParquetFile(handle)
            rows = parquet.metadata.num_rows
            names = parquet.schema_arrow.names
    except Exception as e:  # a damaged footer surfaces as any pyarrow error
        if "encrypt" in str(e).lower():
            report.checked.append(f"{f.path}: encrypted footer, range not checked")
            return
        report.problems.append(f"{f.path}: not a readable Parquet file ({type(e).__name__}: {e})")
        return
    # The engine refuses a group whose manifest names a column its files lack (a damaged name
    # would otherwise read as all NULL): so does the check.
    missing = [c for c in columns if c not in names]
    if missing:
        report.problems.append(f"{f.path}: lacks column(s) {missing} that the manifest lists for its group")
    elif f.end_index > rows:
        report.problems.append(f"{f.path}: range ends at {f.end_index} but the file has {rows} rows")
    else:
        report.checked.append(f"{f.path}: {rows} rows, range [{f.start_index}, {f.end_index}) ok")


def validate(
    base_path: str,
    properties: Mapping[str, Any] | None = None,
    version: int = LATEST,
    deep: bool = True,
) -> ValidationReport:
    """Checks one version of a dataset (the latest by default) and returns a report.

    Checked: the manifest parses; every referenced file exists with its recorded size and is a
    Parquet file whose row count covers its range and which holds every column the manifest
    lists for its group; all column groups have equal row totals; with ``deep``, every group is
    read end to end through the engine (which also checks each footer's recorded checksum).
    Damaged input never raises: whatever goes wrong is a problem in the report.
    """
    report = ValidationReport(base_path)
    try:
        _validate(base_path, properties, version, deep, report)
    except Exception as e:  # noqa: BLE001  (a damaged dataset must give a report, not an exception)
        report.problems.append(f"validation stopped: {type(e).__name__}: {e}")
    return report


def _validate(
    base_path: str, properties: Mapping[str, Any] | None, version: int, deep: bool, report: ValidationReport
) -> None:
    try:
        report.version, manifest = open_manifest(base_path, properties, version)
    except LoonError as e:
        report.problems.append(f"manifest of version {version} cannot be read: {e}")
        return
    groups = manifest.column_groups
    report.num_groups = len(groups)
    report.num_files = len(groups.files)
    report.num_rows = groups.num_rows
    for i, g in enumerate(groups):
        if g.format not in COLUMN_GROUP_FORMATS:  # e.g. a damaged "parquet": no engine reads it
            report.problems.append(f"group {i}: unknown column-group format {g.format!r}")
    totals = [g.num_rows for g in groups]
    if len(set(totals)) > 1:
        report.problems.append(f"column groups are not row-aligned: row totals {totals}")
    with Filesystem(properties) as fs:
        for g in groups:
            for f in g.files:
                _check_file(fs, f, list(g.columns), report)
    if deep and report.ok:
        import pyarrow as pa

        for i, g in enumerate(groups):
            if g.format != "parquet" or any("://" in f.path for f in g.files):
                continue
            try:
                # Types are unknown here; read each group with the schema its files carry.
                first = groups[i].files[0].path if g.files else None
                if first is None:
                    continue
                with Filesystem(properties) as fs, EngineFile(fs.open_reader(first), fs.file_size(first)) as h:
                    schema = pq.ParquetFile(h).schema_arrow
                schema = pa.schema([schema.field(c) for c in g.columns if c in schema.names])
                with Reader([g], schema, properties=properties) as reader:
                    rows = reader.scan().num_rows
                if rows != g.num_rows:
                    report.problems.append(f"group {i}: read {rows} rows, manifest says {g.num_rows}")
            except Exception as e:
                if "encrypt" in str(e).lower():
                    continue
                report.problems.append(f"group {i}: cannot be read ({type(e).__name__}: {e})")


def manifest_versions(base_path: str, properties: Mapping[str, Any] | None = None) -> list[int]:
    """Version numbers of the ``_metadata/manifest-<n>.avro`` files present, ascending."""
    import re

    pattern = re.compile(r"manifest-(\d+)\.avro$")
    with Filesystem(properties) as fs:
        names = [f.path.rsplit("/", 1)[-1] for f in fs.list_files(f"{base_path}/_metadata", recursive=False)]
    return sorted(int(m.group(1)) for m in map(pattern.fullmatch, names) if m)


def last_valid_version(
    base_path: str, properties: Mapping[str, Any] | None = None, deep: bool = True
) -> tuple[int, list[ValidationReport]]:
    """The newest version that validates clean (0 if none), walking back from the newest manifest.

    Also returns the reports of the newer, damaged versions it skipped (newest first).
    """
    skipped: list[ValidationReport] = []
    for version in reversed(manifest_versions(base_path, properties)):
        report = validate(base_path, properties, version, deep)
        if report.ok:
            return version, skipped
        report.version = version
        skipped.append(report)
    return 0, skipped


def roll_back(base_path: str, properties: Mapping[str, Any] | None, version: int) -> list[str]:
    """Moves every manifest newer than ``version`` to ``<base_path>/_quarantine/`` (kept for
    inspection, invisible to the engine), so ``version`` becomes the latest again. Data files are
    untouched. Returns the quarantined paths.
    """
    moved = []
    with Filesystem(properties) as fs:
        for newer in manifest_versions(base_path, properties):
            if newer <= version:
                continue
            source = f"{base_path}/_metadata/manifest-{newer}.avro"
            target = f"{base_path}/_quarantine/manifest-{newer}.avro"
            fs.write(target, fs.read_all(source))
            fs.delete(source)
            moved.append(target)
    return moved
