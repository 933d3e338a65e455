"""Commit latency and scan throughput of the loon engine on object-store emulators beside local disk.

Informative figures, measured side by side in one run: for each backend (``local`` and any of
``moto``, ``azurite``, ``fake-gcs-server``, each started here on 127.0.0.1 and stopped at the end)

* commit: ``--commits`` sequential one-file appends (write 1000 rows + transaction commit), p50 and
  p90 of the commit alone (``Transaction`` begin to committed; the data file is written before);
* scan: ``Reader.scan()`` of a ``--rows`` dataset (the notebooks' table, ~35 MB in memory at 1M
  rows), median of ``--repeat`` rounds, in MB/s of in-memory Arrow bytes.

Ratios are against local measured in the same run. Emulators run on the same two cores as the
engine, so the figures say what the protocol costs on this machine, not what a real store does.

Run (from the repository root, engine built in cpp/build)::

    .venv/bin/python benchmarks/bench_object_store.py                      # local and moto
    .venv/bin/python benchmarks/bench_object_store.py --backends local,moto,azurite,fake-gcs-server
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa

import loon
from loon.suite import data, emulators


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(props: loon.Properties, rows: int, commits: int, repeat: int, tag: str) -> dict[str, float]:
    base = f"bench-{tag}-{time.monotonic_ns()}"
    small = pa.Table.from_batches([data.make_batch(1000)])
    latencies = []
    for i in range(commits):
        groups = loon.write_dataset(f"{base}/commits", small, props)
        start = time.perf_counter()
        with loon.Transaction(f"{base}/commits", props) as txn:
            txn.append_files(groups)
        latencies.append(time.perf_counter() - start)
        assert txn.committed_version == i + 1

    table = data.make_table(rows)
    loon.commit_groups(f"{base}/scan", loon.write_dataset(f"{base}/scan", table, props), props)
    _, manifest = loon.open_manifest(f"{base}/scan", props)
    seconds = []
    for _ in range(repeat):
        reader = loon.Reader(manifest.column_groups, table.schema, properties=props)
        start = time.perf_counter()
        got = reader.scan()
        seconds.append(time.perf_counter() - start)
        assert got.num_rows == rows
    return {
        "commit_p50_ms": 1000 * percentile(latencies, 0.5),
        "commit_p90_ms": 1000 * percentile(latencies, 0.9),
        "scan_mb_s": table.nbytes / 1e6 / statistics.median(seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="local,moto")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--commits", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    results: dict[str, dict[str, float]] = {}
    for backend in args.backends.split(","):
        if backend == "local":
            root = Path(tempfile.mkdtemp(prefix="loon-bench-"))
            try:
                props = loon.Properties({"fs.storage_type": "local", "fs.root_path": str(root)})
                results[backend] = measure(props, args.rows, args.commits, args.repeat, backend)
            finally:
                shutil.rmtree(root, ignore_errors=True)
        else:
            with emulators.start(backend) as emu:
                results[backend] = measure(loon.Properties(emu.properties()), args.rows, args.commits,
                                           args.repeat, backend)

    local = results.get("local")
    print(f"{'backend':<16} {'commit p50 ms':>14} {'commit p90 ms':>14} {'scan MB/s':>10}  vs local (commit, scan)")
    for backend, r in results.items():
        ratio = ""
        if local and backend != "local":
            ratio = f"  x{r['commit_p50_ms'] / local['commit_p50_ms']:.1f}, {r['scan_mb_s'] / local['scan_mb_s']:.2f}"
        print(f"{backend:<16} {r['commit_p50_ms']:>14.1f} {r['commit_p90_ms']:>14.1f} {r['scan_mb_s']:>10.0f}{ratio}")


if __name__ == "__main__":
    main()
