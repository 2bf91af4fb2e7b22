"""The one Dagster ``Definitions`` of funnelhouse: ``dagster dev -m pipelines.definitions``.

ingest (raw.*) → dbt (staging → intermediate → marts, segments, reports) → published_marts →
activation; resources, schedule and sensor settings come from ``FUNNELHOUSE_*`` variables.
"""

from __future__ import annotations

import dagster as dg

from pipelines.assets.activation import activation
from pipelines.assets.dbt import dbt_models
from pipelines.assets.ingest import raw_tables
from pipelines.assets.publish import published_marts
from pipelines.automation import (
    activate_job,
    activation_schedule,
    landing_sensor,
    refresh_and_activate_job,
    refresh_job,
    refresh_schedule,
)
from pipelines.progress import LOGGERS
from pipelines.resources import build_resources
from pipelines.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[raw_tables, dbt_models, published_marts, activation],
        jobs=[refresh_job, refresh_and_activate_job, activate_job],
        schedules=[
            refresh_schedule(settings.refresh_cron),
            activation_schedule(settings.activation_cron),
        ],
        sensors=[landing_sensor(settings.sensor_interval_seconds)],
        resources=build_resources(settings),
        loggers=LOGGERS,
    )


defs = build_definitions(Settings.from_env())
