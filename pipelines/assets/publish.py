"""Publishing the built marts for readers."""

import dagster as dg

from pipelines.assets.dbt import PUBLISHED_MARTS, dbt_models, publish_metadata
from pipelines.assets.ingest import LOADS, QUARANTINE
from pipelines.build_state import record_published
from pipelines.publish import PUBLISHED_SCHEMAS, publish_checked
from pipelines.resources import HomeResource

__all__ = ["PUBLISHED_MARTS", "published_marts"]


@dg.asset(
    key=PUBLISHED_MARTS,
    deps=[
        *(key for key in dbt_models.keys if key.path[0] in PUBLISHED_SCHEMAS),
        LOADS,
        QUARANTINE,
    ],
    group_name="publish",
    kinds={"duckdb"},
    check_specs=[
        dg.AssetCheckSpec(
            "matches_build",
            asset=PUBLISHED_MARTS,
            description="The published file opens read-only and every table has the build's rows.",
        )
    ],
)
def published_marts(context: dg.AssetExecutionContext, home: HomeResource):
    """The marts, segments and reports (plus the load ledger and quarantine) copied into
    published/funnelhouse.duckdb and swapped in atomically: dashboards read only this file."""
    with home.writing(context) as target:
        report, mismatched = publish_checked(target, run_id=context.run.run_id)
        record_published(target)
    yield dg.MaterializeResult(metadata=publish_metadata(report))
    yield dg.AssetCheckResult(
        check_name="matches_build", passed=not mismatched, metadata={"mismatched": mismatched}
    )
