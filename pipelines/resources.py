"""Dagster resources: the data home and the run policies, all built from ``Settings``."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import dagster as dg
from dagster_dbt import DbtCliResource

from ingest.home import Home
from pipelines.dbt_project import DBT_EXECUTABLE, DBT_PROJECT_DIR
from pipelines.lock import warehouse_lock
from pipelines.settings import Settings


class HomeResource(dg.ConfigurableResource):
    """The data home every asset reads and writes, and its one-writer lock."""

    path: str
    lock_timeout_seconds: float = 3600

    @property
    def home(self) -> Home:
        return Home.resolve(self.path)

    @contextmanager
    def writing(
        self,
        context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
    ) -> Iterator[Home]:
        """Hold the warehouse for this step; waits (and says so) while another run has it."""
        home = self.home

        def waiting(owner: str) -> None:
            context.log.info(f"waiting for the warehouse: held by {owner}")

        holder = f"run {context.run.run_id[:8]} step {context.op_execution_context.op.name}"
        with warehouse_lock(home, holder, self.lock_timeout_seconds, on_wait=waiting):
            yield home


class BuildPolicy(dg.ConfigurableResource):
    """When a run with no new data still rebuilds (see pipelines.build_state)."""

    rebuild_after_minutes: float = 60

    @property
    def rebuild_after(self) -> timedelta:
        return timedelta(minutes=self.rebuild_after_minutes)


class CheckThresholds(dg.ConfigurableResource):
    """Limits of the pipeline's own asset checks."""

    quarantine_warn_rate: float = 0.05
    events_max_age_hours: float = 48


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    return {
        "home": HomeResource(
            path=settings.home, lock_timeout_seconds=settings.lock_timeout_seconds
        ),
        "build_policy": BuildPolicy(rebuild_after_minutes=settings.rebuild_after_minutes),
        "thresholds": CheckThresholds(
            quarantine_warn_rate=settings.quarantine_warn_rate,
            events_max_age_hours=settings.events_max_age_hours,
        ),
        "dbt": DbtCliResource(
            project_dir=str(DBT_PROJECT_DIR),
            profiles_dir=str(DBT_PROJECT_DIR),
            dbt_executable=str(DBT_EXECUTABLE),
        ),
    }
