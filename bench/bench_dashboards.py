"""Benchmark: how long each dashboard page takes to open, with its queries, on a data home.

Every page of the app (all ten, placeholders included) runs under Streamlit's AppTest, as a
browser session would run it, ``--runs`` times with the data cache cleared before each run, so
each run pays for every query (the sidebar's included) like the first visitor after a publish.
Prints per page the wall time of the page run and the time spent inside DuckDB (p50/p95, ms),
the number of queries, and at the end the process's peak memory.

    .venv/bin/python bench/bench_dashboards.py --home /tmp/fh-demo --runs 10
    .venv/bin/python bench/bench_dashboards.py --home /tmp/fh-demo --segment hot_leads
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
PAGES = [
    "overview",
    "contacts",
    "segments",
    "companies",
    "emails",
    "web",
    "campaigns",
    "points_stages",
    "reports",
    "pipeline_health",
]


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", default="data", help="data home with a published build")
    parser.add_argument("--runs", type=int, default=5, help="runs per page (cache cleared)")
    parser.add_argument("--segment", default=None, help="segment id to filter by")
    parser.add_argument(
        "--preset",
        default="Last 30 days",
        choices=["Last 7 days", "Last 30 days", "Last 90 days"],
        help="period preset of the sidebar",
    )
    parser.add_argument("--pages", nargs="*", default=PAGES, help="pages to time")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per page run")
    args = parser.parse_args()

    os.environ["FUNNELHOUSE_HOME"] = str(Path(args.home).resolve())

    from streamlit.testing.v1 import AppTest

    from dashboards import data

    if not data.has_build():
        print(f"no published build in {data.published_file()}", file=sys.stderr)
        return 1

    # Time every DuckDB round trip (cache misses only: the cache is cleared before each run).
    query_ms: list[float] = []
    run_query = data._run

    def timed_run(*a, **kw):
        started = time.perf_counter()
        try:
            return run_query(*a, **kw)
        finally:
            query_ms.append((time.perf_counter() - started) * 1000)

    data._run = timed_run

    started = time.perf_counter()
    at = AppTest.from_file(APP, default_timeout=args.timeout).run()
    size_mib = data.published_file().stat().st_size / 2**20
    print(f"home {data.home().root}, published file {size_mib:,.0f} MiB")
    print(
        f"app start (imports, first run of the default page): {time.perf_counter() - started:.1f} s"
    )
    if args.preset != "Last 30 days":
        at.segmented_control("period_preset").set_value(args.preset).run()
    if args.segment:
        at.selectbox("segment_filter").set_value(args.segment).run()
    filters = at.session_state[data.FILTERS_KEY]
    print(
        f"period {filters.start} – {filters.end} ({filters.days} days), "
        f"segment {filters.segment_id or '(all contacts)'}, {args.runs} runs per page, "
        "data cache cleared before each run\n"
    )

    header = (
        f"{'page':<16} {'p50 ms':>9} {'p95 ms':>9} {'queries':>8} "
        f"{'sql p50 ms':>11} {'sql p95 ms':>11} {'peak MiB':>9}  notes"
    )
    print(header)
    print("-" * len(header))
    figures = {}
    for page in args.pages:
        page_ms: list[float] = []
        sql_ms: list[float] = []
        queries = 0
        notes = ""
        for _ in range(args.runs):
            data.clear_cache()
            query_ms.clear()
            started = time.perf_counter()
            at.switch_page(f"views/{page}.py").run()
            page_ms.append((time.perf_counter() - started) * 1000)
            sql_ms.append(sum(query_ms))
            queries = len(query_ms)
            if at.exception:
                notes = "exception: " + at.exception[0].value.splitlines()[0][:60]
        figures[page] = {
            "queries": queries,
            "page_p50_ms": percentile(page_ms, 0.5),
            "page_p95_ms": percentile(page_ms, 0.95),
            "sql_p50_ms": percentile(sql_ms, 0.5),
            "sql_p95_ms": percentile(sql_ms, 0.95),
        }
        print(
            f"{page:<16} {percentile(page_ms, 0.5):>9,.0f} {percentile(page_ms, 0.95):>9,.0f} "
            f"{queries:>8} {percentile(sql_ms, 0.5):>11,.0f} {percentile(sql_ms, 0.95):>11,.0f} "
            f"{peak_rss_mib():>9,.0f}  {notes}"
        )
    print(f"\npeak memory (max RSS of this process): {peak_rss_mib():,.0f} MiB")
    print("RESULT " + json.dumps({"pages": figures}))  # read by bench/scale.py
    return 0


if __name__ == "__main__":
    sys.exit(main())
