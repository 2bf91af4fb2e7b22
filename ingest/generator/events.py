"""Events as the simulations produce them, before they are shaped into Segment JSON.

Times are epoch ms; people are referred to by chunk-local indexes (``contact`` into the
population's contacts, ``device`` into its devices). ``segment.py`` turns them into
Segment/RudderStack messages.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass
class Track:
    """``track`` calls of one event name.

    ``device`` gives the anonymousId (web events), ``contact`` the person; with ``user_id``
    the contact's email is the userId (email/SMS/CRM events). ``known`` marks rows whose
    sender knew the email (written as ``context.traits.email``); ``None`` means all rows
    with a contact.
    """

    event: str
    ts: np.ndarray
    properties: pl.DataFrame  # one column per property, in output order
    device: np.ndarray | None = None
    contact: np.ndarray | None = None
    user_id: bool = False
    known: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, rows: np.ndarray) -> Track:
        """The given rows only."""
        return Track(
            self.event,
            self.ts[rows],
            self.properties[rows],
            _rows(self.device, rows),
            _rows(self.contact, rows),
            self.user_id,
            _rows(self.known, rows),
        )


def _rows(values: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    return None if values is None else values[rows]


@dataclass
class PageHits:
    ts: np.ndarray
    device: np.ndarray
    page: np.ndarray  # page id
    url: pl.Series  # full url (landing hits keep their utm query)
    referrer: pl.Series
    campaign: np.ndarray  # index into the session campaign table, -1 without UTM
    campaigns: pl.DataFrame  # source, medium, name

    def __len__(self) -> int:
        return len(self.ts)


@dataclass
class Identifies:
    ts: np.ndarray
    device: np.ndarray
    contact: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)


class Collector:
    """Accumulates arrays per event name and property, concatenated once at the end."""

    def __init__(self) -> None:
        self._parts: dict[str, list[dict[str, np.ndarray]]] = defaultdict(list)

    def add(self, event: str, **columns: np.ndarray) -> None:
        if len(next(iter(columns.values()))):
            self._parts[event].append(columns)

    def names(self) -> list[str]:
        return list(self._parts)

    def columns(self, event: str) -> dict[str, np.ndarray]:
        parts = self._parts.get(event, [])
        if not parts:
            return {}
        return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
