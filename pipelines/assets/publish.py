"""Publishing the built marts for readers."""

import dagster as dg
import duckdb

from pipelines.assets.dbt import dbt_models
from pipelines.assets.ingest import LOADS, QUARANTINE
from pipelines.publish import PUBLISHED_SCHEMAS, publish
from pipelines.resources import HomeResource

PUBLISHED_MARTS = dg.AssetKey("published_marts")


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
        report = publish(target, run_id=context.run.run_id)
        built = _row_counts(target.warehouse, report.tables)
    published = _row_counts(report.path, report.tables)
    mismatched = sorted(name for name in report.tables if published[name] != built[name])
    yield dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(report.path)),
            "tables": len(report.tables),
            "size_mib": round(report.bytes / 2**20, 1),
            "published_at": report.published_at.isoformat(),
        }
    )
    yield dg.AssetCheckResult(
        check_name="matches_build", passed=not mismatched, metadata={"mismatched": mismatched}
    )


def _row_counts(path, tables) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            name: con.execute(f"select count(*) from {_quoted(name)}").fetchone()[0]
            for name in tables
        }


def _quoted(name: str) -> str:
    return ".".join(f'"{part}"' for part in name.split("."))
