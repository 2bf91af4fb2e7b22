"""Benchmark: ingest every landing file of a home and print time, throughput and peak memory.

    python bench/bench_ingest.py --home /tmp/fh-1m [--fresh]

``--fresh`` deletes the warehouse first so every file is loaded again.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from ingest.home import Home
from ingest.loader import ingest, landing_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--fresh", action="store_true", help="start from an empty warehouse")
    args = parser.parse_args()
    home = Home.resolve(args.home)
    if args.fresh:
        home.warehouse.unlink(missing_ok=True)
    size = sum(f.path.stat().st_size for f in landing_files(home))

    started = time.perf_counter()
    reports = ingest(home)
    seconds = time.perf_counter() - started

    read = sum(r.rows_read for r in reports)
    loaded = sum(r.rows_loaded for r in reports)
    quarantined = sum(r.rows_quarantined for r in reports)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    by_table: dict[str, int] = {}
    for r in reports:
        if r.table:
            by_table[r.table] = by_table.get(r.table, 0) + r.rows_loaded
    print(f"home          {home.root}")
    print(f"files         {len(reports)} ({sum(r.status == 'loaded' for r in reports)} loaded)")
    print(f"input         {size / 2**20:,.0f} MiB")
    print(f"rows          read {read:,} = loaded {loaded:,} + quarantined {quarantined:,}")
    for table, rows in sorted(by_table.items()):
        print(f"  raw.{table:<18} {rows:>14,}")
    print(f"wall time     {seconds:,.1f} s")
    print(f"throughput    {read / seconds:,.0f} rows/s, {size / 2**20 / seconds:,.1f} MiB/s")
    print(f"peak RSS      {peak_mib:,.0f} MiB")
    print(f"warehouse     {home.warehouse.stat().st_size / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
