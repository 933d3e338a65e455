"""Scan and take of an imported Lance dataset through the engine beside ``lance`` directly, in one run.

The engine reads Lance through the format provider of ``loon.formats`` (Python callbacks handing
out the library's Arrow C streams), so the difference is the cost of that bridge: one provider
stream per scan unit or chunk, the row-count checks and type conversion of every batch, and the
chunking by ``reader.logical_chunk_rows``. Informative: no target.

Both sides read the same dataset (written by ``pylance`` in fragments, some rows deleted). Rounds
are interleaved (engine first, then lance first, ...) and each figure is the median of
``--repeat`` rounds:

* scan: ``loon.Reader.scan()`` of the imported group vs ``lance.dataset(...).to_table()``; MB/s of
  in-memory Arrow bytes.
* take(100): 100 random row indices (sorted, across fragments) through ``Reader.take`` vs
  ``dataset.take``; milliseconds per call.

With ``--backend s3-emulator`` the dataset is written by ``pylance`` to a moto server started for
the run (127.0.0.1, free port; stopped at the end), the engine reads it through the provider with
the storage options it derives from its ``fs.*`` keys, and ``lance`` reads it with the same
endpoint and credentials.

Run (from the repository root, with the engine built in cpp/build)::

    .venv/bin/python benchmarks/bench_lance_import.py                # 1M rows, 5 rounds
    .venv/bin/python benchmarks/bench_lance_import.py --rows 2000000 --repeat 9
    .venv/bin/python benchmarks/bench_lance_import.py --backend s3-emulator --rows 200000
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import loon
from loon.suite import data


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@contextlib.contextmanager
def storage(backend: str) -> Iterator[tuple[loon.Properties, str, dict[str, str]]]:
    """Engine properties, the dataset's URI for ``lance`` and its storage options."""
    if backend == "local":
        with tempfile.TemporaryDirectory(prefix="loon-bench-lance-") as root:
            yield loon.Properties({"fs.storage_type": "local", "fs.root_path": root}), f"{root}/ds.lance", {}
        return
    from loon.suite import emulators

    with emulators.start("moto") as emu:
        props: dict[str, Any] = emu.properties()
        options = {
            "aws_endpoint": emu.endpoint,
            "aws_region": props["fs.region"],
            "aws_access_key_id": props["fs.access_key_id"],
            "aws_secret_access_key": props["fs.access_key_value"],
            "allow_http": "true",
        }
        yield loon.Properties(props), f"s3://{emu.bucket}/ds.lance", options


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--fragment-rows", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--take", type=int, default=100, help="rows per take call")
    parser.add_argument("--backend", choices=("local", "s3-emulator"), default="local")
    args = parser.parse_args()

    import lance

    if not loon.formats.engine_reads("lance-table"):
        raise SystemExit("the loaded engine does not read lance-table (our engine with pylance installed does)")
    with storage(args.backend) as (props, uri, options):
        table = data.make_table(args.rows)
        ds = lance.write_dataset(table, uri, max_rows_per_file=args.fragment_rows, storage_options=options)
        ds.delete(f"id >= {args.rows // 3} AND id < {args.rows // 3 + 1000}")
        ds = lance.dataset(uri, storage_options=options)
        ext = loon.ExternalTable(props, "lance-table")
        explored = ext.explore("ds.lance", "staging", table.schema.names)
        group = loon.ColumnGroup(table.schema.names, "lance-table", ext.explored_files(explored))
        expected = ds.to_table()
        nbytes = expected.nbytes
        rng = np.random.default_rng(7)

        with loon.Reader([group], table.schema, properties=ext.properties) as reader:
            assert reader.scan().equals(expected), "the engine read other rows than lance"
            times: dict[str, list[float]] = {"engine scan": [], "lance scan": [], "engine take": [], "lance take": []}
            for r in range(args.repeat):
                rows = sorted(rng.choice(expected.num_rows, size=args.take, replace=False).tolist())
                pairs = [
                    ("engine scan", lambda: reader.scan()),
                    ("lance scan", lambda: ds.to_table()),
                    ("engine take", lambda rows=rows: reader.take(rows)),
                    ("lance take", lambda rows=rows: ds.take(rows)),
                ]
                if r % 2:
                    pairs = [pairs[1], pairs[0], pairs[3], pairs[2]]
                for name, fn in pairs:
                    times[name].append(timed(fn))
            assert reader.take(rows).equals(ds.take(rows)), "take differs"

    med = {name: statistics.median(values) for name, values in times.items()}
    engine_mbs, lance_mbs = nbytes / med["engine scan"] / 1e6, nbytes / med["lance scan"] / 1e6
    print(
        f"Lance dataset on {args.backend}: {expected.num_rows} rows in {len(ds.get_fragments())} fragments, "
        f"{nbytes / 1e6:.1f} MB in memory; median of {args.repeat} interleaved rounds"
    )
    ratio = engine_mbs / lance_mbs
    print(f"scan       engine {engine_mbs:8.1f} MB/s   lance {lance_mbs:8.1f} MB/s   engine/lance {ratio:.2f}")
    print(
        f"take({args.take})  engine {med['engine take'] * 1e3:8.2f} ms     lance {med['lance take'] * 1e3:8.2f} ms"
        f"     engine/lance latency {med['engine take'] / med['lance take']:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
