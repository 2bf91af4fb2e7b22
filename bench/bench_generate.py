"""Benchmark the data generator: wall time, events per second, bytes written, peak memory.

    python bench/bench_generate.py --contacts 1000000 --days 365 --home /tmp/fh-bench-1m

Peak memory is the largest resident set of this process and, when chunks run in worker
processes, of the largest worker (``resource.getrusage`` ``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.generator import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=5_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2026, 7, 1))
    parser.add_argument("--workers", type=int, default=None, help="default: one per CPU, max 4")
    args = parser.parse_args()

    started = time.perf_counter()
    last = [started]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if done == total or now - last[0] >= 10:
            last[0] = now
            print(f"  {done:>10,} / {total:,} contacts  {now - started:7.1f} s", flush=True)

    summary = generate(
        args.home, args.contacts, args.days, args.seed, args.end_date, progress,
        workers=args.workers,
    )  # fmt: skip
    elapsed = time.perf_counter() - started

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    size = summary.bytes_written
    print(f"contacts        {summary.contacts:,} ({summary.contacts_in_csv:,} in CSV, "
          f"{summary.contacts_events_only:,} events only)")  # fmt: skip
    print(f"visitors        {summary.anonymous_visitors:,} anonymous")
    print(f"companies       {summary.companies:,}")
    print(
        f"window          {summary.window_start:%Y-%m-%d} .. {summary.window_end:%Y-%m-%d} (excl.)"
    )
    print(f"files           {len(summary.files):,}")
    print(f"events          {summary.total_events:,}")
    for event_type, count in sorted(summary.events.items(), key=lambda kv: -kv[1]):
        print(f"  {event_type:<22}{count:>14,}")
    print(f"wall time       {elapsed:.1f} s")
    print(f"events/s        {summary.total_events / elapsed:,.0f}")
    print(f"bytes written   {size:,} ({size / 2**30:.2f} GiB, {size / 2**20 / elapsed:.0f} MiB/s)")
    print(f"peak RSS        {own:,.0f} MiB (main process), {workers:,.0f} MiB (largest worker)")


if __name__ == "__main__":
    main()
