"""A seeded, bounded fuzzing suite: damaged manifests, damaged Parquet footers, random property
maps, generated predicates, random take indices and paths, each run in a child process.

A finding is a crash (signal or ASan report), a hang, runaway memory, an exception without an
FFI error code, or rows that differ from the original data. ``LOON_FUZZ_SCALE`` multiplies the
input counts (1 in ``make test``: 2,100 inputs; ``make asan`` raises it), ``LOON_FUZZ_SEED``
picks another sequence. Each test prints its counts per kind of input and outcome.
"""

from __future__ import annotations

import collections
import os
import random

import pyarrow as pa
import pytest

import loon

from . import hostile, mutations
from .predicates import Generator

SCALE = float(os.environ.get("LOON_FUZZ_SCALE", "1"))
SEED = int(os.environ.get("LOON_FUZZ_SEED", "15"))
COUNTS = {"manifest": 700, "footer": 400, "properties": 200, "predicate": 500, "take": 200, "path": 100}
# Every field nullable: a damaged manifest may legitimately lose a column; reading it as NULL is
# then right (and checked against the original rows), refusing it is too.
NULLABLE = pa.schema([f.with_nullable(True) for f in hostile.SCHEMA])


def count(kind: str) -> int:
    return max(1, int(COUNTS[kind] * SCALE))


class Findings:
    """Outcomes per kind of input, and what went wrong."""

    def __init__(self, name: str):
        self.name = name
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.problems: list[str] = []

    def record(self, kind: str, outcome, what: str) -> bool:
        """Counts ``outcome``; a hard failure is a finding. True when the outcome is ok."""
        self.outcomes[f"{kind}:{outcome.kind}"] += 1
        if outcome.failed_hard:
            self.problems.append(f"{kind}: {what[:200]!r}: {outcome}\n{outcome.detail[-1500:]}")
        return outcome.kind == "ok"

    def wrong(self, kind: str, what: str, why: str) -> None:
        self.problems.append(f"{kind}: {what[:200]!r}: wrong result: {why}")

    def report(self, capsys) -> None:
        total = sum(self.outcomes.values())
        with capsys.disabled():
            print(f"\nfuzz {self.name}: {total} inputs (seed {SEED}); " + ", ".join(
                f"{k} {v}" for k, v in sorted(self.outcomes.items())))
        assert not self.problems, f"{len(self.problems)} finding(s):\n" + "\n".join(self.problems[:20])


def rows_match_original(table: pa.Table, original: dict[int, dict]) -> str | None:
    """None when every row equals the original row with its id (any subset, any order)."""
    for row in table.to_pylist():
        want = original.get(row.get("id"))
        if want is None:
            return f"row with id {row.get('id')!r} is not an original row"
        for name, value in row.items():
            if value != want[name] and not (value is None and name not in table.schema.names):
                return f"id {row['id']}: {name} = {value!r}, originally {want[name]!r}"
    return None


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "root"
    path.mkdir()
    (path.parent / "outside-sentinel").write_bytes(b"OUTSIDE-SENTINEL")
    return path


@pytest.fixture(scope="module")
def fprops(root) -> dict[str, str]:
    return {"fs.storage_type": "local", "fs.root_path": str(root)}


SPLIT = {"writer.policy": "schema_based", "writer.split.schema_based.patterns": "id|i32|u8|f32,f64|s|b"}
ROLL = {"writer.file_rolling.size": "1"}


@pytest.fixture(scope="module")
def two_versions(fprops):
    """Two groups, two commits (60 + 40 rows): the manifest target."""
    first, second = hostile.make_table(60), hostile.make_table(40, offset=60)
    hostile.write_dataset(fprops, "mds", first, extra=SPLIT)
    hostile.write_dataset(fprops, "mds", second, extra=SPLIT)
    table = pa.concat_tables([first, second])
    return {r["id"]: r for r in table.to_pylist()}


@pytest.fixture(scope="module")
def rolled(fprops):
    """300 rows in 6 files (row-group statistics to prune by): predicates, take, footers."""
    table = hostile.make_table(300)
    groups = hostile.write_dataset(fprops, "pds", table, batches=6, extra=ROLL)
    assert len(groups[0].files) == 6
    return table, groups


def test_fuzz_manifests(child, root, fprops, two_versions, capsys):
    rng = random.Random(f"{SEED}-manifest")
    findings = Findings("manifests")
    latest = hostile.latest_manifest(root, "mds")
    raw = latest.read_bytes()
    real_schema, real_body = hostile.split_container(raw)
    try:
        for i in range(count("manifest")):
            kind, damaged = mutations.mutate_manifest(rng, raw, real_schema, real_body)
            if i % 2 == 0:
                latest.write_bytes(damaged)
                out = child.call("scan_latest", "mds", NULLABLE, fprops)
            else:
                (root / "mds" / "_metadata" / f"fuzz-{i}.avro").write_bytes(damaged)
                out = child.call("scan_file_manifest", f"mds/_metadata/fuzz-{i}.avro", NULLABLE, fprops)
            if findings.record(kind, out, f"input {i}") and (why := rows_match_original(out.value, two_versions)):
                findings.wrong(kind, f"input {i}", why)
            if i % 2 == 0 and i % 10 == 0:
                # loon.suite.validate must report, never raise, and pass only what the engine reads.
                report = child.call("validate", "mds", fprops)
                findings.record("validate", report, f"input {i}")
                if report.kind == "ok" and report.value[0] and out.kind != "ok":
                    findings.wrong("validate", f"input {i}", f"passed a manifest the engine refuses: {out}")
    finally:
        latest.write_bytes(raw)
    findings.report(capsys)


def test_fuzz_footers(child, root, fprops, rolled, capsys):
    rng = random.Random(f"{SEED}-footer")
    findings = Findings("footers")
    table, groups = rolled
    foreign = loon.ColumnGroups(
        [loon.ColumnGroup(g.columns, g.format, [loon.ColumnGroupFile(f.path, f.start_index, f.end_index,
                                                                      {k: v for k, v in f.properties.items()
                                                                       if k != "loon.footer_crc32c"})
                                                for f in g.files]) for g in groups])
    for i in range(count("footer")):
        target = groups[0].files[rng.randrange(len(groups[0].files))]
        path = root / target.path
        original = path.read_bytes()
        kind, damaged = mutations.mutate_footer(rng, original)
        path.write_bytes(damaged)
        try:
            checked = rng.random() < 0.67  # with the checksum record; else as a foreign file
            use = groups if checked else foreign
            op = rng.choice(["scan", "filtered", "take", "chunks"])
            if op == "scan":
                out, want = child.call("scan", use, hostile.SCHEMA, fprops, None), table
            elif op == "filtered":
                low = rng.randrange(300)
                out = child.call("scan", use, hostile.SCHEMA, fprops, f"id >= {low}")
                want = table.slice(low)
            elif op == "take":
                indices = sorted(rng.sample(range(300), 20))
                out, want = child.call("take", use, hostile.SCHEMA, fprops, indices), table.take(indices)
            else:
                out, want = child.call("get_chunks", use, hostile.SCHEMA, fprops, 0), table
            label = f"{kind}/{'checked' if checked else 'foreign'}"
            if findings.record(label, out, f"input {i} {op} {target.path}") and checked and not out.value.equals(want):
                findings.wrong(label, f"input {i} {op}", "rows differ from the original data")
        finally:
            path.write_bytes(original)
    findings.report(capsys)


def test_fuzz_properties(child, fprops, capsys):
    rng = random.Random(f"{SEED}-properties")
    findings = Findings("property maps")
    table = hostile.make_table(50)
    for i in range(count("properties")):
        extra = mutations.random_properties(rng)
        out = child.call("write_and_read", f"props-{i}", table, {**fprops, **extra})
        if findings.record("properties", out, str(extra)) and not out.value.equals(table):
            findings.wrong("properties", str(extra), "read back differs from what was written")
    findings.report(capsys)


def test_fuzz_predicates(child, fprops, rolled, capsys):
    rng = random.Random(f"{SEED}-predicate")
    findings = Findings("predicates")
    table, groups = rolled
    rows = table.to_pylist()
    gen = Generator(rng)
    for _ in range(count("predicate")):
        p = gen.predicate()
        kind = {True: "valid", False: "invalid", None: "junk"}[p.valid]
        out = child.call("scan", groups, hostile.SCHEMA, fprops, p.text, timeout=60)
        findings.record(kind, out, p.text)
        if p.valid is True:
            if out.kind != "ok":
                findings.wrong(kind, p.text, f"a valid predicate was refused: {out}")
                continue
            want = [r["id"] for r in rows if p.evaluate(r) is True]
            got = out.value["id"].to_pylist()
            if got != want:
                findings.wrong(kind, p.text, f"{len(got)} rows, expected {len(want)}")
        elif p.valid is False and not (out.kind == "error" and out.code == 3):
            findings.wrong(kind, p.text, f"expected code 3, got {out}")
    findings.report(capsys)


def test_fuzz_take(child, fprops, rolled, capsys):
    rng = random.Random(f"{SEED}-take")
    findings = Findings("take indices")
    table, groups = rolled
    for _ in range(count("take")):
        indices, valid = mutations.random_indices(rng, table.num_rows)
        out = child.call("take", groups, hostile.SCHEMA, fprops, indices)
        findings.record("valid" if valid else "invalid", out, str(indices[:10]))
        if valid and (out.kind != "ok" or not out.value.equals(table.take(indices))):
            findings.wrong("valid", str(indices[:10]), f"not the rows asked for: {out}")
        if not valid and not (out.kind == "error" and out.code == 3):
            findings.wrong("invalid", str(indices[:10]), f"expected code 3, got {out}")
    findings.report(capsys)


def test_fuzz_paths(child, fprops, rolled, capsys):
    rng = random.Random(f"{SEED}-path")
    findings = Findings("paths")
    for _ in range(count("path")):
        path = mutations.random_path(rng)
        op = rng.choice(["fs_read", "fs_list", "read_manifest_file"])
        out = child.call(op, fprops, path) if op != "read_manifest_file" else child.call(op, path, fprops)
        if findings.record(op, out, path) and op != "read_manifest_file":
            seen = out.value if op == "fs_read" else "\n".join(out.value).encode()
            if b"OUTSIDE-SENTINEL" in seen or b"outside-sentinel" in seen:
                findings.wrong(op, path, "reached a file outside the storage root")
    findings.report(capsys)
