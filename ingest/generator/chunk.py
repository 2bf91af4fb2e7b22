"""One chunk of contacts: simulate everyone in it and write its contacts and events files."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ingest.generator import crm, email, population, segment, sms, web, writer
from ingest.generator.plan import CRM, EMAIL, POPULATION, SMS, WEB, Plan
from ingest.home import Home
from ingest.vocabulary import CALL_EVENT_TYPES, TRACK_EVENT_TYPES


@dataclass
class ChunkResult:
    chunk: int
    contacts_in_csv: int = 0
    contacts_events_only: int = 0
    anonymous_visitors: int = 0
    events: Counter = field(default_factory=Counter)  # funnelhouse event type → rows
    files: list[Path] = field(default_factory=list)


def run(plan: Plan, chunk: int, home: Home, staging: Path) -> ChunkResult:
    first, n = plan.chunk_contacts(chunk)
    pop = population.build(
        plan.rng(chunk, POPULATION), first, n, plan.window, plan.season, plan.companies, plan.site
    )
    mail = email.simulate(plan.rng(chunk, EMAIL), pop, plan.schedule)
    site = web.simulate(plan.rng(chunk, WEB), pop, plan.window, plan.season, plan.site, mail.clicks)
    texts = sms.simulate(plan.rng(chunk, SMS), pop, plan.schedule)
    other = crm.simulate(plan.rng(chunk, CRM), pop, plan.window)

    result = ChunkResult(
        chunk,
        contacts_in_csv=pop.csv.height,
        contacts_events_only=pop.n - pop.csv.height,
        anonymous_visitors=pop.m,
    )
    contacts_path = writer.contacts_file(home.landing_dir("contacts"), chunk)
    result.files.append(writer.write_csv(pop.csv, contacts_path, staging))

    ids = segment.MessageIds(f"{plan.message_id_prefix}-{chunk:04d}")
    window = plan.window

    def frames() -> Iterator[pl.DataFrame]:
        for frame in segment.pages(site.pages, pop, window, ids):
            result.events[CALL_EVENT_TYPES["page"]] += frame.height
            yield frame
        frame = segment.identifies(site.identifies, pop, window, ids)
        result.events[CALL_EVENT_TYPES["identify"]] += frame.height
        yield frame
        for track in [*site.tracks, *mail.tracks, *texts, *other]:
            for frame in segment.tracks(track, pop, window, ids):
                result.events[TRACK_EVENT_TYPES[track.event]] += frame.height
                yield frame

    events_path = writer.events_file(home.landing_dir("events"), chunk)
    result.files.append(writer.write_ndjson(frames(), events_path, staging))
    return result
