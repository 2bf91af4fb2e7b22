"""Pipeline health: last publish, rows per layer, raw loads, quarantine, failed files, freshness."""

from __future__ import annotations

from datetime import UTC, datetime

import plotly.express as px
import polars as pl
import streamlit as st

from dashboards import data, ui
from dashboards.queries import pipeline_health as q
from pipelines.settings import Settings, SettingsError

PAGE_SIZE = 100

filters = data.current_filters()
ui.header("Pipeline health", filters)

try:
    settings = Settings.from_env()
except SettingsError as error:  # a bad FUNNELHOUSE_* variable: say so, use the defaults
    st.warning(f"{error}; using the default thresholds.", icon=":material/warning:")
    settings = Settings()

in_period = st.toggle(
    "Only files loaded in the period",
    key="health_in_period",
    help="Off: the whole load history. On: loads and quarantined rows of the sidebar period "
    "(by load time). The segment filter does not apply to this page.",
)
now = datetime.now(UTC).replace(tzinfo=None)


def age(moment: datetime | None) -> str:
    if moment is None:
        return "–"
    hours = (now - moment).total_seconds() / 3600
    if hours < 1:
        return f"{max(hours * 60, 0):.0f} min ago"
    if hours < 48:
        return f"{hours:.1f} h ago"
    return f"{hours / 24:.1f} days ago"


published = q.publish()
fresh = q.freshness()
failed = q.failed(filters, in_period)
rate = ui.ratio(fresh["rows_quarantined"], fresh["rows_read"]) or 0.0
event_age_hours = (
    (now - fresh["newest_event_at"]).total_seconds() / 3600 if fresh["newest_event_at"] else None
)

# ----------------------------------------------------------------------------- status
problems = []
if failed.height:
    problems.append(f"{failed.height:,} file(s) could not be loaded (see below)")
if rate > settings.quarantine_warn_rate:
    problems.append(
        f"{ui.percent(rate)} of the rows read were quarantined "
        f"(more than {ui.percent(settings.quarantine_warn_rate)})"
    )
if event_age_hours is None:
    problems.append("no event has been loaded")
elif event_age_hours > settings.events_max_age_hours:
    problems.append(
        f"the newest event is {age(fresh['newest_event_at'])} "
        f"(older than {settings.events_max_age_hours:g} h)"
    )
if problems:
    st.warning("Needs attention: " + "; ".join(problems) + ".", icon=":material/warning:")
else:
    st.success(
        "Healthy: every file loaded, quarantine within bounds, events fresh.",
        icon=":material/check_circle:",
    )


def moment_tile(label: str, moment: datetime | None, help_text: str) -> None:
    """How long ago, with the exact time (UTC) under it."""
    st.metric(
        label,
        age(moment),
        delta=f"{moment:%Y-%m-%d %H:%M} UTC" if moment else None,
        delta_color="off",
        delta_arrow="off",
        help=help_text,
        border=True,
    )


tiles = st.columns(4)
with tiles[0]:
    moment_tile(
        "Last publish",
        published["published_at"] if published else None,
        "When the build on show was published: a run that fails before publishing leaves the "
        "previous build here.",
    )
with tiles[1]:
    moment_tile(
        "Newest event",
        fresh["newest_event_at"],
        f"When the newest event happened; older than {settings.events_max_age_hours:g} h is "
        "stale (FUNNELHOUSE_EVENTS_MAX_AGE_HOURS).",
    )
with tiles[2]:
    moment_tile("Last file loaded", fresh["last_load_at"], "When ingest last loaded a file.")
with tiles[3]:
    ui.kpi(
        "Quarantine rate",
        rate,
        kind="percent",
        help=f"Rows quarantined / rows read, all loads (warns above "
        f"{ui.percent(settings.quarantine_warn_rate)}: FUNNELHOUSE_QUARANTINE_WARN_RATE).",
    )
if published and published["run_id"]:
    st.caption(f"Published by run `{published['run_id']}`.")

# ----------------------------------------------------------------------- rows per layer
st.subheader("Rows per layer")
layers = q.table_rows()
raw = q.raw(filters, in_period)
summary = pl.concat(
    [
        pl.DataFrame(
            {
                "layer": ["raw (load ledger)"],
                "tables": [raw.height],
                "rows": [int(raw["rows_loaded"].sum())],
            },
            schema={"layer": pl.String, "tables": pl.Int64, "rows": pl.Int64},
        ),
        layers.group_by("layer", maintain_order=True).agg(
            pl.len().cast(pl.Int64).alias("tables"), pl.col("rows").sum().cast(pl.Int64)
        ),
    ]
)
left, right = st.columns([2, 3])
with left:
    ui.table(
        summary,
        {
            "layer": "Layer",
            "tables": ui.count_column("Tables"),
            "rows": ui.count_column("Rows"),
        },
        key="health_layers",
    )
    if in_period:
        st.caption("Raw: the files loaded in the period; published layers: the whole build.")
with right:
    published_tables = layers.filter(pl.col("layer") != "pipeline")
    if published_tables.height:
        figure = px.bar(
            published_tables.sort("rows"),
            x="rows",
            y="table_name",
            color="layer",
            orientation="h",
            log_x=True,
            title="Rows per published table (log scale)",
            labels={"rows": "Rows", "table_name": "", "layer": "Layer"},
            height=max(360, 18 * published_tables.height + 120),
        )
        figure.update_layout(hovermode="closest")
        ui.chart(figure, key="health_tables")

tabs = st.tabs(["Raw tables", "Published tables"])
with tabs[0]:
    if raw.is_empty():
        ui.empty("No file was loaded" + (" in the period." if in_period else "."))
    else:
        ui.table(
            raw,
            {
                "target_table": "Raw table",
                "files": ui.count_column("Files", "File versions loaded."),
                "rows_read": ui.count_column("Rows read"),
                "rows_loaded": ui.count_column("Rows loaded"),
                "rows_quarantined": ui.count_column("Quarantined"),
                "failed_attempts": ui.count_column("Failed loads"),
                "last_loaded_at": st.column_config.DatetimeColumn(
                    "Last loaded (UTC)", format="YYYY-MM-DD HH:mm"
                ),
            },
            key="health_raw",
        )
with tabs[1]:
    ui.table(
        layers,
        {"layer": "Layer", "table_name": "Table", "rows": ui.count_column("Rows")},
        key="health_published",
    )

# ---------------------------------------------------------------------------- failed files
st.subheader("Files that could not be loaded")
if failed.is_empty():
    st.caption("None: the latest attempt at every file succeeded.")
else:
    ui.table(
        failed,
        {
            "path": "File (under landing/)",
            "source_kind": "Kind",
            "target_table": "Table",
            "error": st.column_config.TextColumn("Error", width="large"),
            "size_bytes": ui.count_column("Bytes"),
            "started_at": st.column_config.DatetimeColumn("Tried (UTC)", format="YYYY-MM-DD HH:mm"),
        },
        key="health_failed",
    )

# ------------------------------------------------------------------------------ quarantine
st.subheader("Quarantine")
reasons = q.quarantine_reasons(filters, in_period)
if reasons.is_empty():
    st.caption("No row was quarantined" + (" in the period." if in_period else "."))
    st.stop()
quarantined = int(reasons["rows"].sum())
st.caption(
    f"{quarantined:,} rows were not loaded; each keeps its file, row number, field, reason and "
    "the raw text, so it can be fixed at the source and the file dropped again."
)
ui.table(
    reasons,
    {
        "target_table": "Table",
        "field": "Field",
        "reason": st.column_config.TextColumn("Reason", width="large"),
        "rows": ui.count_column("Rows"),
        "files": ui.count_column("Files"),
        "last_at": st.column_config.DatetimeColumn("Last (UTC)", format="YYYY-MM-DD HH:mm"),
    },
    key="health_reasons",
)
choices = reasons["reason"].unique(maintain_order=True).to_list()
reason = st.selectbox(
    "Rows with the reason",
    [None, *choices],
    format_func=lambda r: "Every reason" if r is None else r,
    key="health_reason",
)
total = q.quarantine_count(filters, in_period, reason)
offset = ui.pager(total, PAGE_SIZE, key="health_quarantine_page")
ui.table(
    q.quarantine_rows(filters, in_period, reason, PAGE_SIZE, offset),
    {
        "file": "File",
        "source_row": st.column_config.NumberColumn("Row", help="Row number in the file."),
        "field": "Field",
        "reason": "Reason",
        "raw_text": st.column_config.TextColumn("Raw text", width="large"),
        "target_table": "Table",
        "quarantined_at": st.column_config.DatetimeColumn(
            "Quarantined (UTC)", format="YYYY-MM-DD HH:mm"
        ),
    },
    key="health_quarantine",
)
st.download_button(
    f"Download {total:,} quarantined rows (CSV)",
    data=lambda: q.quarantine_csv(filters, in_period, reason),
    file_name="quarantine.csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
    key="health_quarantine_csv",
)
