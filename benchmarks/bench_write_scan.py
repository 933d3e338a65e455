"""Write, scan, take and chunk-read throughput of the loon engine beside pyarrow.parquet, in one run.

Both sides get the same in-memory table and the same codec and level. Rounds are interleaved
(loon then pyarrow, next round pyarrow then loon, ...) so that load from other processes and
whichever side goes first hit both alike; each figure is the median of ``--repeat`` rounds.
Prints MB/s (in-memory Arrow bytes per second; for take, the bytes of the rows taken), the ratio
loon / pyarrow (wall time of pyarrow / wall time of loon, > 1 = loon faster) and the same ratio
of CPU time (all threads of the process): on a shared machine wall-clock ratios of parallel code
swing with other processes' load (0.8-1.5 between runs on 2 busy cores), CPU ratios much less.
The target is a wall-clock ratio >= 0.95 for write, scan and take.

Run (from the repository root, with the engine built in cpp/build)::

    .venv/bin/python benchmarks/bench_write_scan.py                       # zstd and snappy, 1M rows
    .venv/bin/python benchmarks/bench_write_scan.py --codec zstd --rows 2000000 --repeat 9
    .venv/bin/python benchmarks/bench_write_scan.py --table vector --dim 128

Tables: ``rows`` is the notebooks' table (``loon.suite.data.make_table``: int64 id, string name,
float64 value, built from 10k-row batches, ~35 MB at 1M rows -- what notebooks/write_read.ipynb
measures at the ci profile); ``vector`` adds a float32 fixed-size-list column.

What each pair compares:

* write: ``loon.write_dataset`` (one writer session, one file) vs ``pq.write_table``.
* scan: ``loon.Reader.scan()`` vs ``pq.read_table`` (both multi-threaded: pyarrow decodes columns
  on its CPU pool, loon reads row groups ahead on the same pool).
* take: ``Reader.take(indices, parallelism=4)`` of every 10th row vs ``pq.read_table(...).take``
  (pyarrow.parquet has no row-index take, so its baseline reads the file and takes in memory).
* chunk: every chunk of column group 0 through ``ChunkReader.get_chunks`` vs
  ``pq.ParquetFile(<loon's data file>).read_row_groups`` on the very same file (same row groups),
  which isolates engine overhead from file layout.
* scan-same-file: ``pq.read_table(<loon's data file>)``: pyarrow on loon's layout (1 MiB row groups,
  README "Data files"), to tell layout cost from reader cost; informative, not a target.
* write-crc / scan-crc: pyarrow writing and verifying Parquet page checksums as loon always does
  (CRC-32 of every page, ~3 GB/s: ~7% of writing incompressible vectors, ~5% of a snappy scan);
  the like-for-like figure; informative.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import loon
from loon.suite import data

LEVELED = ("gzip", "zstd", "brotli")


def make_table(kind: str, rows: int, dim: int) -> pa.Table:
    """The benchmark table: the notebooks' ``rows`` table, or that plus a float32 vector column."""
    table = data.make_table(rows)
    if kind == "vector":
        rng = np.random.default_rng(42)
        flat = pa.array(rng.random(rows * dim, dtype=np.float32))
        table = table.append_column("vector", pa.FixedSizeListArray.from_arrays(flat, dim))
    return table


def interleaved(pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]], repeat: int) -> dict:
    """Runs every (loon, pyarrow) pair ``repeat`` times, swapping which side goes first each round.

    Returns per operation the medians (loon wall s, pyarrow wall s, loon CPU s, pyarrow CPU s); CPU
    is ``time.process_time`` (all threads of this process), which other processes barely move.
    """
    samples: dict[str, list[list[float]]] = {k: [[], [], [], []] for k in pairs}
    for round_no in range(repeat):
        for name, (fn_loon, fn_pa) in pairs.items():
            sides = [(fn_loon, 0), (fn_pa, 1)]
            for fn, side in sides if round_no % 2 == 0 else sides[::-1]:
                cpu = time.process_time()
                start = time.perf_counter()
                fn()
                samples[name][side].append(time.perf_counter() - start)
                samples[name][side + 2].append(time.process_time() - cpu)
    return {k: tuple(statistics.median(v) for v in lists) for k, lists in samples.items()}


def run_codec(table: pa.Table, codec: str, level: int, repeat: int, work: Path) -> list[tuple]:
    """Measures one codec; rows of (operation, MB moved, loon s, pyarrow s, loon CPU s, pyarrow CPU s)."""
    leveled = codec in LEVELED
    pa_codec = {"uncompressed": "none"}.get(codec, codec)
    pa_level = level if leveled else None
    root = work / codec
    props = loon.Properties(
        {
            "fs.storage_type": "local",
            "fs.root_path": str(root / "loon"),
            "writer.compression": codec,
            "writer.compression_level": level if leveled else -1,
        }
    )
    baseline_holder: list[Path] = []
    root.mkdir(parents=True)
    counter = iter(range(1 << 30))
    groups: list[loon.ColumnGroups] = []

    def loon_write() -> None:
        groups[:] = [loon.write_dataset(f"ds{next(counter)}", table, props)]

    def pa_write() -> None:
        # A new file each round, as loon's writer makes: overwriting one file lets the kernel
        # recycle its page-cache pages (in a perf profile of 15 writes of 48 MB, copying into the
        # page cache took half the samples when the same file was overwritten).
        path = root / f"pyarrow{next(counter)}.parquet"
        pq.write_table(table, path, compression=pa_codec, compression_level=pa_level)
        baseline_holder[:] = [path]

    # One write each outside the timing so the read side has files from the start.
    loon_write()
    pa_write()
    baseline = baseline_holder[0]
    baseline_crc = root / "pyarrow-crc.parquet"
    pq.write_table(table, baseline_crc, compression=pa_codec, compression_level=pa_level, write_page_checksum=True)
    loon_file = root / "loon" / groups[0][0].files[0].path
    indices = list(range(0, table.num_rows, 10))
    expected_take = table.take(indices)
    take_mb = expected_take.nbytes / 1e6

    def loon_scan() -> None:
        with loon.Reader(groups[0], table.schema, properties=props) as reader:
            got = reader.scan()
        assert got.num_rows == table.num_rows

    def pa_scan() -> None:
        assert pq.read_table(baseline).num_rows == table.num_rows

    def loon_take() -> None:
        with loon.Reader(groups[0], table.schema, properties=props) as reader:
            got = reader.take(indices, parallelism=4)
        assert got.num_rows == len(indices)

    def pa_take() -> None:
        assert pq.read_table(baseline).take(indices).num_rows == len(indices)

    def loon_chunks() -> None:
        with loon.Reader(groups[0], table.schema, properties=props) as reader, reader.chunk_reader(0) as cr:
            got = cr.get_chunks(list(range(cr.num_chunks)), parallelism=4)
        assert sum(b.num_rows for b in got) == table.num_rows

    def pa_row_groups() -> None:
        pf = pq.ParquetFile(loon_file)
        assert pf.read_row_groups(range(pf.num_row_groups)).num_rows == table.num_rows

    def pa_write_crc() -> None:
        path = root / f"pyarrow-crc{next(counter)}.parquet"
        pq.write_table(table, path, compression=pa_codec, compression_level=pa_level, write_page_checksum=True)

    def pa_scan_crc() -> None:
        assert pq.read_table(baseline_crc, page_checksum_verification=True).num_rows == table.num_rows

    def pa_scan_loon_file() -> None:
        assert pq.read_table(loon_file).num_rows == table.num_rows

    # Sanity: what we time reads back what was written.
    with loon.Reader(groups[0], table.schema, properties=props) as reader:
        assert reader.scan().equals(table), "loon scan differs from the table written"
        assert reader.take(indices, parallelism=4).equals(expected_take), "loon take differs"

    medians = interleaved(
        {
            "write": (loon_write, pa_write),
            "scan": (loon_scan, pa_scan),
            "take": (loon_take, pa_take),
            "chunk": (loon_chunks, pa_row_groups),
            "scan-same-file": (loon_scan, pa_scan_loon_file),
            "write-crc": (loon_write, pa_write_crc),
            "scan-crc": (loon_scan, pa_scan_crc),
        },
        repeat,
    )
    mb = table.nbytes / 1e6
    return [(op, take_mb if op == "take" else mb, *times) for op, times in medians.items()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--table", choices=["rows", "vector"], default="rows")
    parser.add_argument("--dim", type=int, default=32, help="float32 vector dimension (--table vector)")
    parser.add_argument(
        "--codec",
        action="append",
        choices=["uncompressed", "snappy", "gzip", "lz4", "zstd", "brotli"],
        help="codec to measure (repeatable; default zstd and snappy)",
    )
    parser.add_argument("--level", type=int, default=3, help="codec level (ignored by codecs without levels)")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds; each figure is their median")
    args = parser.parse_args()
    if args.repeat < 1 or args.rows < 10:
        parser.error("--repeat must be >= 1 and --rows >= 10")

    table = make_table(args.table, args.rows, args.dim)
    codecs = args.codec or ["zstd", "snappy"]
    print(
        f"table {args.table}: {args.rows} rows, {table.nbytes / 1e6:.1f} MB in memory, "
        f"median of {args.repeat} interleaved rounds, engine {loon.library_info().path}"
    )
    header = f"{'codec':<8} {'operation':<15} {'loon MB/s':>10} {'pyarrow MB/s':>13} {'ratio':>7} {'cpu ratio':>10}"
    print(header)
    print("-" * len(header))
    work = Path(tempfile.mkdtemp(prefix="loon-bench-"))
    missed = []
    try:
        for codec in codecs:
            for op, mb, t_loon, t_pa, cpu_loon, cpu_pa in run_codec(table, codec, args.level, args.repeat, work):
                ratio = t_pa / t_loon
                cpu_ratio = cpu_pa / cpu_loon if cpu_loon > 0 else float("nan")
                target = op in ("write", "scan", "take")
                if target and ratio < 0.95:
                    missed.append(f"{codec} {op}")
                note = "" if target else "  (informative)"
                rates = f"{mb / t_loon:>10.1f} {mb / t_pa:>13.1f}"
                print(f"{codec:<8} {op:<15} {rates} {ratio:>7.2f} {cpu_ratio:>10.2f}{note}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("target ratio >= 0.95 (write, scan, take):", "met" if not missed else "NOT met: " + ", ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
