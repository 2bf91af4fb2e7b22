"""Pipeline settings: every knob comes from a ``FUNNELHOUSE_*`` environment variable or its default.

Assets never read the environment themselves; the definitions build their resources from one
``Settings`` object, so what a run used is visible (and overridable) in Dagster's resource config.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field

from ingest.env import EnvSettings, SettingsError, variable
from ingest.home import DEFAULT_HOME

__all__ = ["Settings", "SettingsError", "variable"]


class Settings(EnvSettings):
    model_config = ConfigDict(frozen=True, extra="forbid")

    home: str = Field(DEFAULT_HOME, description="Data home folder (FUNNELHOUSE_HOME).")
    refresh_cron: str = Field("0 * * * *", description="When the refresh schedule runs (UTC).")
    activation_cron: str = Field(
        "*/15 * * * *", description="When the activation schedule sends due actions (UTC)."
    )
    sensor_interval_seconds: int = Field(
        30, ge=5, description="How often the landing sensor looks for new files."
    )
    rebuild_after_minutes: float = Field(
        60,
        ge=0,
        description="With no new data, rebuild anyway once the last build is this old: relative "
        "segment dates and due campaign steps move with the clock.",
    )
    lock_timeout_seconds: float = Field(
        3600, ge=0, description="How long a step waits for another run to release the warehouse."
    )
    quarantine_warn_rate: float = Field(
        0.05, ge=0, le=1, description="Warn when more than this share of new rows is quarantined."
    )
    events_max_age_hours: float = Field(
        48, gt=0, description="Warn when the newest event is older than this (live sources)."
    )
