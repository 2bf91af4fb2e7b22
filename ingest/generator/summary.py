"""What a generation wrote: the figures ingest tests compare their loaded counts with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ingest.vocabulary import EVENT_TYPES


@dataclass
class GenerationSummary:
    home: Path
    seed: int
    days: int
    end_date: date
    window_start: datetime  # first instant of activity (UTC)
    window_end: datetime  # end of activity, exclusive: end_date 00:00 UTC
    contacts_in_csv: int = 0
    contacts_events_only: int = 0  # new leads that exist only in events
    anonymous_visitors: int = 0
    companies: int = 0
    events: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EVENT_TYPES, 0))
    catalog_rows: dict[str, int] = field(default_factory=dict)
    # rows the marketing desk's files add to shared sources: "contacts", "emails", "events:<type>"
    desk_rows: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)  # stale files of an earlier generation

    @property
    def contacts(self) -> int:
        return self.contacts_in_csv + self.contacts_events_only

    @property
    def total_events(self) -> int:
        return sum(self.events.values())

    @property
    def bytes_written(self) -> int:
        return sum(path.stat().st_size for path in self.files)
