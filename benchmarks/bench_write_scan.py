"""Write and scan throughput of the loon engine beside pyarrow.parquet, measured in one run.

Both sides get the same in-memory table and the same codec and level; each measurement is the
median of --repeat runs. Prints MB/s (in-memory Arrow bytes per second) and the ratio
loon / pyarrow; the target is a ratio >= 0.95 for write and for scan.

    .venv/bin/python benchmarks/bench_write_scan.py --rows 2000000 --codec zstd
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import loon


def make_table(rows: int, dim: int) -> pa.Table:
    rng = np.random.default_rng(42)
    ids = np.arange(rows, dtype=np.int64)
    names = pa.array([f"name_{i % 10000}" for i in range(rows)])
    values = rng.random(rows)
    vectors = pa.FixedSizeListArray.from_arrays(pa.array(rng.random(rows * dim, dtype=np.float32)), dim)
    return pa.table({"id": ids, "name": names, "value": values, "vector": vectors})


def median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=32, help="float32 vector dimension")
    parser.add_argument("--codec", default="zstd", choices=["uncompressed", "snappy", "gzip", "lz4", "zstd", "brotli"])
    parser.add_argument("--level", type=int, default=3, help="codec level (ignored by codecs without levels)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    table = make_table(args.rows, args.dim)
    mb = table.nbytes / 1e6
    leveled = args.codec in ("gzip", "zstd", "brotli")
    pa_codec = {"uncompressed": "none", "lz4": "lz4"}.get(args.codec, args.codec)
    work = Path(tempfile.mkdtemp(prefix="loon-bench-"))
    props = loon.Properties(
        {
            "fs.storage_type": "local",
            "fs.root_path": str(work / "loon"),
            "writer.compression": args.codec,
            "writer.compression_level": args.level if leveled else -1,
            "writer.file_rolling.size": 1 << 40,
        }
    )
    counter = iter(range(1_000_000))
    groups_holder: list[loon.ColumnGroups] = []

    def loon_write():
        groups_holder[:] = [loon.write_dataset(f"ds{next(counter)}", table, props)]

    def pyarrow_write():
        pq.write_table(
            table, work / "pyarrow.parquet", compression=pa_codec, compression_level=args.level if leveled else None
        )

    try:
        write_loon = median_seconds(loon_write, args.repeat)
        write_pa = median_seconds(pyarrow_write, args.repeat)
        groups = groups_holder[0]

        def loon_scan():
            with loon.Reader(groups, table.schema, properties=props) as reader:
                got = reader.scan()
            assert got.num_rows == table.num_rows

        def pyarrow_scan():
            got = pq.read_table(work / "pyarrow.parquet")
            assert got.num_rows == table.num_rows

        scan_loon = median_seconds(loon_scan, args.repeat)
        scan_pa = median_seconds(pyarrow_scan, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"table: {args.rows} rows, {mb:.1f} MB in memory, codec {args.codec}, median of {args.repeat}")
    print(f"{'operation':<8} {'loon MB/s':>10} {'pyarrow MB/s':>13} {'ratio':>7}")
    ok = True
    for op, t_loon, t_pa in (("write", write_loon, write_pa), ("scan", scan_loon, scan_pa)):
        ratio = t_pa / t_loon
        ok &= ratio >= 0.95
        print(f"{op:<8} {mb / t_loon:>10.1f} {mb / t_pa:>13.1f} {ratio:>7.2f}")
    print("target ratio >= 0.95:", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
