"""Everything shared by all chunks of one generation, derived from its parameters alone."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import date

import numpy as np

from ingest.generator import companies, schedule, site
from ingest.generator.companies import Companies
from ingest.generator.schedule import Schedule
from ingest.generator.site import SiteTables
from ingest.generator.timeline import Seasonality, Window

CHUNK_SIZE = 50_000

# Independent random streams inside a chunk: rng([seed, chunk, stream]).
POPULATION, EMAIL, WEB, SMS, CRM = range(5)


@dataclass(frozen=True)
class Plan:
    seed: int
    contacts: int
    days: int
    end_date: date
    chunk_size: int
    window: Window
    season: Seasonality
    companies: Companies
    site: SiteTables
    schedule: Schedule

    @property
    def chunks(self) -> int:
        return -(-self.contacts // self.chunk_size)

    def chunk_contacts(self, chunk: int) -> tuple[int, int]:
        """(global index of the chunk's first contact, number of contacts in it)."""
        first = chunk * self.chunk_size
        return first, min(self.chunk_size, self.contacts - first)

    @property
    def message_id_prefix(self) -> str:
        """Names this generation in message ids, so a re-generation with other parameters into
        the same home never reuses an id for a different event (staging keeps the first)."""
        key = f"{self.seed}|{self.contacts}|{self.days}|{self.end_date}|{self.chunk_size}"
        return f"{self.seed}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"

    def rng(self, chunk: int, stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, chunk, stream])


@functools.lru_cache(maxsize=4)
def make_plan(seed: int, contacts: int, days: int, end_date: date, chunk_size: int) -> Plan:
    if contacts < 1:
        raise ValueError("contacts must be at least 1")
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    if seed < 0:
        raise ValueError("seed must not be negative")
    window = Window(end_date, days)
    return Plan(
        seed=seed,
        contacts=contacts,
        days=days,
        end_date=end_date,
        chunk_size=chunk_size,
        window=window,
        season=Seasonality(window),
        companies=companies.build(seed, contacts),
        site=site.tables(),
        schedule=schedule.build(window, seed),
    )
