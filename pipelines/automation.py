"""Jobs, the schedule and the landing sensor.

Run coordination: every job carries the tag ``funnelhouse/warehouse=writer`` and the instance's
dagster.yaml (written by ``pipelines.instance``) limits runs with that tag to one at a time, so
Dagster queues a second run instead of starting it. Runs that bypass the queue (in-process
`funnelhouse run`) are kept apart by the warehouse lock every writing step holds.
"""

import hashlib

import dagster as dg

from ingest.loader import landing_files
from pipelines.assets.activation import activation
from pipelines.resources import HomeResource

WAREHOUSE_TAG = {"funnelhouse/warehouse": "writer"}

refresh_job = dg.define_asset_job(
    "refresh",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(activation),
    description="Ingest new landing files, build the dbt project, publish the marts.",
    tags=WAREHOUSE_TAG,
)

refresh_and_activate_job = dg.define_asset_job(
    "refresh_and_activate",
    selection=dg.AssetSelection.all(),
    description="The whole loop: refresh, then send what is due (what `funnelhouse run` runs).",
    tags=WAREHOUSE_TAG,
)


activate_job = dg.define_asset_job(
    "activate",
    selection=dg.AssetSelection.assets(activation),
    description="Send what the published activation_queue says is due (no rebuild). Not "
    "tagged as a warehouse writer: activation writes its own ledger and landing files.",
)


def activation_schedule(cron: str) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="activation_schedule",
        job=activate_job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Send due actions on the clock ({cron}, UTC; FUNNELHOUSE_ACTIVATION_CRON).",
    )


def refresh_schedule(cron: str) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="refresh_schedule",
        job=refresh_job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Refresh on the clock ({cron}, UTC; FUNNELHOUSE_REFRESH_CRON).",
    )


def landing_fingerprint(home) -> tuple[str, int]:
    """A digest of landing/'s files (path, size, mtime) and how many there are."""
    digest = hashlib.sha256()
    count = 0
    for landing_file in landing_files(home):
        stat = landing_file.path.stat()
        digest.update(f"{landing_file.relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        count += 1
    return digest.hexdigest(), count


def landing_sensor(interval_seconds: int) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_sensor",
        job=refresh_job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Starts a refresh when files appear or change under landing/.",
    )
    def _sensor(context: dg.SensorEvaluationContext, home: HomeResource):
        fingerprint, count = landing_fingerprint(home.home)
        if count == 0:
            return dg.SkipReason("landing/ holds no files")
        if fingerprint == context.cursor:
            return dg.SkipReason(f"no new files ({count} in landing/, all seen)")
        context.update_cursor(fingerprint)
        return dg.RunRequest(run_key=fingerprint, tags={"funnelhouse/landing_files": str(count)})

    return _sensor
