"""Benchmark: ingest one landing file of 10 million tracking events (Segment calls, JSON lines)
and print wall time, rows/s and the peak memory of the process that ingests.

    python bench/bench_ingest_10m.py --home /tmp/fh-10m [--events 10000000] [--baseline 1000000]

The batch is written with polars (page, track and identify calls with properties, context and
UTM fields; one broken line per 100,000 to quarantine), then `ingest` runs in a child process
of its own, so its peak resident memory (``ru_maxrss``) is the loader's alone. The reader
takes JSON lines in blocks of ``JSONL_BATCH_BYTES`` (batches of at most ``JSONL_BATCH_ROWS``
lines): memory should not grow with the file. ``--baseline N`` ingests a batch of N events the
same way first; the two peaks side by side show whether it does. ``--keep`` keeps the
generated files and warehouses (they take a few GB).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from ingest.home import Home
from ingest.readers import JSONL_BATCH_BYTES, JSONL_BATCH_ROWS

CHUNK = 1_000_000
BAD_EVERY = 100_000  # one broken line per this many: quarantine is part of the work


def write_batch(path: Path, events: int, seed: int = 7) -> float:
    """``events`` Segment calls into one JSON lines file; returns seconds taken."""
    started = time.perf_counter()
    end = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(hours=1)
    window_ms = 30 * 24 * 3600 * 1000
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for first in range(0, events, CHUNK):
            n = min(CHUNK, events - first)
            i = pl.int_range(first, first + n, eager=True, dtype=pl.Int64).alias("i")
            frame = pl.DataFrame(i).with_columns(
                kind=(pl.col("i").hash(seed) % 10).cast(pl.Int32),
                visitor=(pl.col("i").hash(seed + 1) % 2_000_000).cast(pl.Int64),
                offset=(pl.col("i").hash(seed + 2) % window_ms).cast(pl.Int64),
                page=(pl.col("i").hash(seed + 3) % 500).cast(pl.Int64),
            )
            when = (pl.lit(end) - pl.duration(milliseconds=pl.col("offset"))).dt.strftime(
                "%Y-%m-%dT%H:%M:%S%.3fZ"
            )
            url = pl.format("https://www.example-saas.com/p/{}", pl.col("page"))
            call_type = (
                pl.when(pl.col("kind") < 6)
                .then(pl.lit("page"))
                .when(pl.col("kind") < 9)
                .then(pl.lit("track"))
                .otherwise(pl.lit("identify"))
            )
            email = pl.format("visitor{}@example.com", pl.col("visitor"))
            calls = frame.select(
                pl.struct(
                    type=call_type,
                    messageId=pl.format("msg-{}", pl.col("i")),
                    anonymousId=pl.format("anon-{}", pl.col("visitor")),
                    userId=pl.when(pl.col("kind") == 9).then(email),
                    event=pl.when(call_type == "track").then(
                        pl.when(pl.col("kind") == 6)
                        .then(pl.lit("Email Opened"))
                        .when(pl.col("kind") == 7)
                        .then(pl.lit("Email Link Clicked"))
                        .otherwise(pl.lit("Form Submitted"))
                    ),
                    timestamp=when,
                    properties=pl.struct(
                        url=url,
                        title=pl.format("Page {}", pl.col("page")),
                        email_id=pl.col("page") % 12,
                    ),
                    traits=pl.when(pl.col("kind") == 9).then(
                        pl.struct(email=email, firstname=pl.lit("Ann"))
                    ),
                    context=pl.struct(
                        page=pl.struct(path=pl.format("/p/{}", pl.col("page")), url=url),
                        campaign=pl.struct(
                            source=pl.lit("newsletter"), medium=pl.lit("email"), name=pl.lit("q4")
                        ),
                        userAgent=pl.lit("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"),
                    ),
                )
                .struct.json_encode()
                .alias("line")
            )["line"]
            broken = i % BAD_EVERY == BAD_EVERY - 1
            lines = pl.select(
                pl.when(broken).then(pl.lit('{"type":"page", broken')).otherwise(calls)
            )
            out.write(lines.to_series().str.join("\n").item().encode())
            out.write(b"\n")
    return time.perf_counter() - started


def ingest_child(home: Path) -> None:
    """In the child process: ingest, then print figures as JSON."""
    from ingest.loader import ingest

    started = time.perf_counter()
    reports = ingest(Home.resolve(home))
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "read": sum(r.rows_read for r in reports),
                "loaded": sum(r.rows_loaded for r in reports),
                "quarantined": sum(r.rows_quarantined for r in reports),
                "failed": [r.error for r in reports if r.status == "failed"],
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def measure(root: Path, events: int, keep: bool) -> dict:
    home = Home.resolve(root).ensure()
    batch = home.landing / "events" / f"batch-{events}.jsonl"
    generated = 0.0
    if not batch.exists():
        generated = write_batch(batch, events)
    home.warehouse.unlink(missing_ok=True)
    child = subprocess.run(
        [sys.executable, __file__, "--ingest-child", str(home.root)],
        capture_output=True,
        text=True,
    )
    if child.returncode != 0:
        raise SystemExit(f"ingest failed:\n{child.stdout[-3000:]}\n{child.stderr[-3000:]}")
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    figures |= {
        "events": events,
        "file_mib": batch.stat().st_size / 2**20,
        "warehouse_mib": home.warehouse.stat().st_size / 2**20,
        "generated_seconds": generated,
    }
    if not keep:
        shutil.rmtree(home.root)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--baseline", type=int, default=1_000_000, help="0: none")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--ingest-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ingest_child:
        ingest_child(args.ingest_child)
        return
    if args.home is None:
        parser.error("--home is required")
    sizes = [n for n in (args.baseline, args.events) if n]
    results = [measure(args.home / f"{n}", n, args.keep) for n in sizes]
    print(
        f"JSON lines read {JSONL_BATCH_BYTES / 2**20:.0f} MiB at a time, "
        f"batches of at most {JSONL_BATCH_ROWS:,} rows"
    )
    for r in results:
        rate = r["read"] / r["seconds"]
        print(f"--- {r['events']:,} events ({r['file_mib']:,.0f} MiB of JSON lines)")
        print(
            f"rows          read {r['read']:,} = loaded {r['loaded']:,} + quarantined "
            f"{r['quarantined']:,}" + (f"; failed: {r['failed']}" if r["failed"] else "")
        )
        written = f"writing the batch took {r['generated_seconds']:,.1f} s"
        print(f"wall time     {r['seconds']:,.1f} s ({written})")
        print(f"throughput    {rate:,.0f} rows/s, {r['file_mib'] / r['seconds']:,.1f} MiB/s")
        print(f"peak RSS      {r['peak_rss_mib']:,.0f} MiB (the ingesting process)")
        print(f"warehouse     {r['warehouse_mib']:,.0f} MiB")
    if len(results) == 2:
        small, big = results
        growth = big["peak_rss_mib"] / small["peak_rss_mib"]
        print(
            f"memory bound  {big['events'] / small['events']:.0f}x the events, "
            f"{growth:.2f}x the peak memory"
        )


if __name__ == "__main__":
    main()
