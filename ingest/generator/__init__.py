"""Deterministic, realistic marketing data for the landing zone of a home folder.

``generate(home, contacts, days, seed, end_date)`` writes

* ``landing/contacts/contacts-<chunk>.csv``: the Mautic contacts export (85% of contacts),
* ``landing/companies/companies.csv``,
* ``landing/catalogs/<name>/<name>.csv`` for emails, sms, forms, pages, assets, focus items
  and dynamic content,
* ``landing/events/events-<chunk>.jsonl``: Segment/RudderStack page, identify and track
  calls of contacts and anonymous visitors during the window,
* ``landing/desk/<table>/…``: the marketing team's desk (``desk.py``, issue 12).

The window is ``[end_date - days, end_date)`` in UTC: it ends, exclusive, at ``end_date``
00:00 UTC. The same (contacts, days, seed, end_date) give byte-identical files, whatever
the number of worker processes: contacts are processed in chunks of 50,000, each with its
own random streams ``numpy.random.default_rng([seed, chunk, stream])``, and everything
shared by the chunks (companies, catalogs, send schedule) derives from the parameters alone.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date
from pathlib import Path

from ingest.generator import catalogs, desk, writer
from ingest.generator.chunk import ChunkResult, run
from ingest.generator.plan import CHUNK_SIZE, Plan, make_plan
from ingest.generator.summary import GenerationSummary
from ingest.home import Home

__all__ = ["CHUNK_SIZE", "GenerationSummary", "generate"]

Progress = Callable[[int, int], None]
MAX_WORKERS = 4  # each holds one chunk in memory (~1 GB at 365 days)


def generate(
    home: Path | Home,
    contacts: int,
    days: int,
    seed: int,
    end_date: date,
    progress: Progress | None = None,
    *,
    workers: int | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> GenerationSummary:
    """Write a generation into ``home``'s landing zone and say what was written.

    ``progress(done, total)`` is called with contacts simulated so far out of ``contacts``.
    ``workers`` processes share the chunks (default: one per CPU, at most 4; 1 runs
    in-process). ``chunk_size`` changes the random streams and so the data; keep the
    default for reproducible figures.
    """
    root = home if isinstance(home, Home) else Home(Path(home).expanduser().resolve())
    plan = make_plan(seed, contacts, days, end_date, chunk_size)
    staging = root.root / writer.STAGING
    summary = GenerationSummary(
        home=root.root,
        seed=seed,
        days=days,
        end_date=end_date,
        window_start=plan.window.start,
        window_end=plan.window.end,
        companies=len(plan.companies),
    )
    report = progress or (lambda done, total: None)
    report(0, contacts)

    path = root.landing_dir("companies") / "companies.csv"
    summary.files.append(writer.write_csv(plan.companies.frame, path, staging))
    for name, frame in catalogs.build(plan.window, seed, plan.schedule).items():
        path = root.landing_dir("catalogs", name) / f"{name}.csv"
        summary.files.append(writer.write_csv(frame, path, staging))
        summary.catalog_rows[name] = frame.height
    desk_files, summary.desk_rows = desk.write(root, seed, end_date, staging, days)
    summary.files += desk_files

    results, done = [], 0
    for result in _chunks(plan, root, staging, workers):  # in the order they finish
        results.append(result)
        done += result.contacts_in_csv + result.contacts_events_only
        report(done, contacts)
    for result in sorted(results, key=lambda r: r.chunk):
        summary.contacts_in_csv += result.contacts_in_csv
        summary.contacts_events_only += result.contacts_events_only
        summary.anonymous_visitors += result.anonymous_visitors
        for event_type, count in result.events.items():
            summary.events[event_type] += count
        summary.files += result.files

    for kind, pattern in (("contacts", writer.CONTACTS_FILE), ("events", writer.EVENTS_FILE)):
        for stale in writer.stale_files(root.landing_dir(kind), pattern, plan.chunks):
            stale.unlink()
            summary.removed.append(stale)
    if staging.is_dir() and not any(staging.iterdir()):
        staging.rmdir()
    return summary


def _chunks(plan: Plan, home: Home, staging: Path, workers: int | None) -> Iterator[ChunkResult]:
    """Run every chunk, in this process or in worker processes, yielding as they finish."""
    jobs = plan.chunks
    workers = min(jobs, workers or min(os.cpu_count() or 1, MAX_WORKERS))
    if workers <= 1:
        for chunk in range(jobs):
            yield run(plan, chunk, home, staging)
        return
    key = (plan.seed, plan.contacts, plan.days, plan.end_date, plan.chunk_size)
    context = multiprocessing.get_context("spawn")  # forking a threaded polars is unsafe
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(_run_chunk, key, chunk, home, staging) for chunk in range(jobs)]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _run_chunk(key: tuple, chunk: int, home: Home, staging: Path) -> ChunkResult:
    """A chunk in a worker process, which rebuilds the shared plan from the parameters."""
    return run(make_plan(*key), chunk, home, staging)
