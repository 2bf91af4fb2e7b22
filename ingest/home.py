"""The data home: every command reads and writes one folder (``--home`` / ``FUNNELHOUSE_HOME``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "data"
HOME_ENV = "FUNNELHOUSE_HOME"

# Folders under landing/ and the kind of data each one holds (collector: the tracking
# collector's batch files, events in the Segment spec; desk: the marketing team's sources in
# desk/<table>/, issue 12).
SOURCE_KINDS = ("contacts", "companies", "events", "catalogs", "mautic", "collector", "desk")


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike | None = None) -> Home:
        """``--home`` wins, then ``FUNNELHOUSE_HOME``, then ``data/``."""
        chosen = home or os.environ.get(HOME_ENV) or DEFAULT_HOME
        return cls(Path(chosen).expanduser().resolve())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        return self.root / "published"

    def landing_dir(self, kind: str, catalog: str | None = None) -> Path:
        path = self.landing / kind
        return path / catalog if catalog else path

    def ensure(self) -> Home:
        for kind in SOURCE_KINDS:
            self.landing_dir(kind).mkdir(parents=True, exist_ok=True)
        self.published.mkdir(parents=True, exist_ok=True)
        return self
