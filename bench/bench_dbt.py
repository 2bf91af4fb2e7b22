"""Benchmark: `dbt build` on a home, from scratch and incrementally after 1% new events.

    python bench/bench_dbt.py --home /tmp/fh-bench-1m [--new-share 0.01]

Prints wall time and the dbt process's peak memory for: a full build (--full-refresh),
ingesting a file of new events (a share of existing events under new ids), and the
incremental build that follows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import duckdb
import polars as pl

from ingest.home import Home
from ingest.loader import ingest
from pipelines.dbt_project import dbt_command, dbt_env


def timed_dbt(home: Home, *args: str) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of one dbt invocation, measured on that process alone."""
    started = time.perf_counter()
    process = subprocess.Popen(dbt_command(*args), env=dbt_env(home), stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"dbt {' '.join(args)} failed ({process.returncode})")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def write_new_events(home: Home, share: float) -> tuple[Path, int]:
    """A new events file: a sample of existing calls, re-sent under new message ids."""
    source = sorted((home.landing / "events").glob("events-*.jsonl"))[-1]
    lines = pl.scan_lines(source, name="line").collect()["line"]
    total_files = len(list((home.landing / "events").glob("events-*.jsonl")))
    wanted = max(1, int(len(lines) * total_files * share))
    sample = lines.sample(n=min(wanted, len(lines)), seed=1)
    stamp = int(time.time())
    target = home.landing / "events" / f"new-{stamp}.jsonl"
    with target.open("w") as handle:
        for i, line in enumerate(sample):
            call = json.loads(line)
            call["messageId"] = f"{call['messageId']}-new-{stamp}-{i}"  # new on every call
            handle.write(json.dumps(call) + "\n")
    return target, len(sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--new-share", type=float, default=0.01)
    parser.add_argument("--skip-full", action="store_true", help="only the incremental part")
    args = parser.parse_args()
    home = Home.resolve(args.home)
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        (events,) = con.execute("select count(*) from raw.events").fetchone()
    print(f"home              {home.root} ({events:,} raw events)")

    if not args.skip_full:
        seconds, peak = timed_dbt(home, "build", "--full-refresh")
        print(f"full build        {seconds:,.1f} s, peak RSS {peak:,.0f} MiB")

    path, rows = write_new_events(home, args.new_share)
    started = time.perf_counter()
    ingest(home)
    print(
        f"ingest new events {rows:,} rows in {time.perf_counter() - started:,.1f} s ({path.name})"
    )
    seconds, peak = timed_dbt(home, "build")
    print(f"incremental build {seconds:,.1f} s, peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
