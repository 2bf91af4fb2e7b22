"""Ingest as Dagster assets: one asset per raw table, all loaded by one pass over landing/.

A landing file can feed any raw table (a Mautic export is recognised by its columns), so a
single step runs the ingest layer (``ingest.loader``) and reports every raw table it owns,
with the pipeline's own checks on what it loaded: reconciliation, readable files, quarantine
rate and event freshness.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta

import dagster as dg
import duckdb

from ingest.campaigns import CAMPAIGN_TABLES, CampaignLoad
from ingest.loader import FileReport, ingest, load_campaigns
from ingest.schemas import TABLES
from ingest.spark_export import export_raw_parquet
from pipelines.dbt_project import Target, dbt_target
from pipelines.resources import CheckThresholds, HomeResource

RAW_TABLES = (*TABLES, *CAMPAIGN_TABLES, "_loads", "quarantine")
CAMPAIGNS = dg.AssetKey(["raw", "campaign_definitions"])
LOADS = dg.AssetKey(["raw", "_loads"])
QUARANTINE = dg.AssetKey(["raw", "quarantine"])
EVENTS = dg.AssetKey(["raw", "events"])

DESCRIPTIONS = {
    "_loads": "The load ledger: one row per landing file version and attempt "
    "(path, content hash, rows read / loaded / quarantined, status, error).",
    "quarantine": "Rows that could not be loaded, with file, row, field and reason.",
    **{
        table: f"raw.{table}: validated from dbt_project/campaigns/*.yml, replaced every run."
        for table in CAMPAIGN_TABLES
    },
}


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


RAW_SPECS = [
    dg.AssetSpec(
        raw_key(table),
        group_name="raw",
        kinds={"duckdb"},
        description=DESCRIPTIONS.get(table, f"raw.{table}: rows loaded from landing files."),
    )
    for table in RAW_TABLES
]

CHECK_SPECS = [
    dg.AssetCheckSpec(
        "rows_reconcile",
        asset=LOADS,
        blocking=True,
        description="For every loaded file, rows read = rows loaded + rows quarantined.",
    ),
    dg.AssetCheckSpec(
        "files_readable",
        asset=LOADS,
        description="No landing file whose latest load attempt failed (unreadable, misplaced).",
    ),
    dg.AssetCheckSpec(
        "quarantine_rate",
        asset=QUARANTINE,
        description="The share of this run's rows that went to quarantine stays below the "
        "threshold (FUNNELHOUSE_QUARANTINE_WARN_RATE).",
    ),
    dg.AssetCheckSpec(
        "campaigns_valid",
        asset=CAMPAIGNS,
        description="Every campaign file validates (a broken one loads nothing of its campaign).",
    ),
    dg.AssetCheckSpec(
        "events_fresh",
        asset=EVENTS,
        description="The newest event is recent enough for a live source "
        "(FUNNELHOUSE_EVENTS_MAX_AGE_HOURS).",
    ),
    *(
        dg.AssetCheckSpec(
            "matches_ledger",
            asset=raw_key(table),
            blocking=True,
            description=f"raw.{table} holds exactly the rows the ledger says were loaded into it.",
        )
        for table in TABLES
    ),
]


@dg.multi_asset(
    name="ingest_landing_files",
    specs=RAW_SPECS,
    check_specs=CHECK_SPECS,
    description="Load every new landing file into raw.* exactly once (keyed by path + hash).",
)
def raw_tables(context: dg.AssetExecutionContext, home: HomeResource, thresholds: CheckThresholds):
    def log_file(landing_file, report: FileReport) -> None:
        if report.status == "failed":
            context.log.error(f"{report.file}: {report.error}")
        elif report.status == "loaded":
            context.log.info(
                f"{report.file} → raw.{report.table}: {report.rows_loaded:,} rows, "
                f"{report.rows_quarantined:,} quarantined"
            )

    with home.writing(context) as target:
        reports = ingest(target, on_file=log_file)
        campaigns = load_campaigns(target)
        if dbt_target() is Target.spark:
            # Spark reads raw.* as Parquet (ingest/spark_export.py); DuckDB stays the ledger.
            export_raw_parquet(target)
        for line in campaigns.summary().splitlines():
            (context.log.error if line.startswith("  ") else context.log.info)(line)
        with duckdb.connect(str(target.warehouse), read_only=True) as con:
            stats = _table_stats(con)
            yield from _checks(con, reports, stats, thresholds)
    yield _campaign_check(campaigns)

    attempts = [r for r in reports if r.status != "skipped"]  # each one wrote a ledger row
    loaded = [r for r in attempts if r.status == "loaded"]
    new_files = Counter(r.table for r in loaded) + Counter({"_loads": len(attempts)})
    new_rows = Counter()
    for report in loaded:
        new_rows[report.table] += report.rows_loaded
        new_rows["quarantine"] += report.rows_quarantined
    new_rows["_loads"] = len(attempts)
    context.log.info(
        f"{len(loaded)} new file(s) loaded, {len(reports) - len(attempts)} already loaded, "
        f"{len(attempts) - len(loaded)} failed"
    )
    for table in RAW_TABLES:
        yield dg.MaterializeResult(
            asset_key=raw_key(table),
            metadata={
                "new_files": new_files[table],
                "new_rows": new_rows[table],
                "dagster/row_count": stats[table]["rows"],
            },
        )


def _campaign_check(campaigns: CampaignLoad) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=CAMPAIGNS,
        check_name="campaigns_valid",
        passed=campaigns.ok,
        metadata={
            "campaigns_loaded": len(campaigns.campaigns),
            "failed_files": campaigns.failed_files,
            "errors": [str(error) for error in campaigns.errors],
        },
    )


def _table_stats(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    ledger = dict(
        con.execute(
            "select target_table, sum(rows_loaded) from raw._loads "
            "where status = 'loaded' group by target_table"
        ).fetchall()
    )
    return {
        table: {
            "rows": con.execute(f'select count(*) from raw."{table}"').fetchone()[0],
            "ledger": int(ledger.get(table) or 0),
        }
        for table in RAW_TABLES
    }


def _checks(con, reports: list[FileReport], stats, thresholds: CheckThresholds):
    unbalanced = con.execute(
        "select path, rows_read, rows_loaded, rows_quarantined from raw._loads "
        "where status = 'loaded' and rows_read <> rows_loaded + rows_quarantined"
    ).fetchall()
    yield dg.AssetCheckResult(
        asset_key=LOADS,
        check_name="rows_reconcile",
        passed=not unbalanced,
        metadata={"unbalanced_files": [row[0] for row in unbalanced]},
    )

    failing = con.execute(
        "select path, error from raw._loads qualify row_number() over "
        "(partition by path order by finished_at desc) = 1 and status = 'failed' order by path"
    ).fetchall()
    yield dg.AssetCheckResult(
        asset_key=LOADS,
        check_name="files_readable",
        passed=not failing,
        metadata={"failed_files": {path: error for path, error in failing}},
        description=None if not failing else f"{len(failing)} file(s) could not be loaded",
    )

    loaded = [r for r in reports if r.status == "loaded"]
    read = sum(r.rows_read for r in loaded)
    quarantined = sum(r.rows_quarantined for r in loaded)
    rate = quarantined / read if read else 0.0
    yield dg.AssetCheckResult(
        asset_key=QUARANTINE,
        check_name="quarantine_rate",
        passed=rate <= thresholds.quarantine_warn_rate,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "rows_read": read,
            "rows_quarantined": quarantined,
            "rate": float(rate),
            "threshold": thresholds.quarantine_warn_rate,
        },
    )

    newest = con.execute("select max(occurred_at) from raw.events").fetchone()[0]
    limit = timedelta(hours=thresholds.events_max_age_hours)
    age = datetime.now(UTC).replace(tzinfo=None) - newest if newest else None
    yield dg.AssetCheckResult(
        asset_key=EVENTS,
        check_name="events_fresh",
        passed=age is not None and age <= limit,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "newest_event": newest.isoformat() if newest else "none",
            "age_hours": round(age.total_seconds() / 3600, 1) if age is not None else -1.0,
            "max_age_hours": thresholds.events_max_age_hours,
        },
    )

    for table in TABLES:
        rows, ledger = stats[table]["rows"], stats[table]["ledger"]
        yield dg.AssetCheckResult(
            asset_key=raw_key(table),
            check_name="matches_ledger",
            passed=rows == ledger,
            metadata={"rows": rows, "ledger_rows": ledger},
        )
