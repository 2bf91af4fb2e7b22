"""Web: sessions and page views, traffic sources, landing pages, new vs returning, forms, assets."""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from dashboards import data, ui
from dashboards.queries import web as q

filters = data.current_filters()
ui.header("Web", filters)

totals = q.totals(filters)
now, before = totals["current"], totals["previous"]
if not now or not now.get("sessions"):
    ui.empty("No web session in the period.")
    st.stop()
if filters.segment_id is not None:
    st.caption("With a segment: the sessions of its members (anonymous visits belong to none).")

tiles = st.columns(6)
for column, (label, key, kind, inverse, help_text) in zip(
    tiles,
    [
        ("Sessions", "sessions", "number", False, "Sessions started in the period."),
        ("Page views", "page_views", "number", False, "Page views of those sessions."),
        ("New sessions", "new_sessions", "number", False, "First sessions of their visitor."),
        ("Bounce rate", "bounce_rate", "percent", True, "One-page sessions / sessions."),
        ("Pages / session", "pages_per_session", "number", False, None),
        ("Avg. session (s)", "avg_session_seconds", "number", False, "Seconds, first to last hit."),
    ],
    strict=True,
):
    with column:
        ui.kpi(label, now.get(key), before.get(key), kind=kind, inverse=inverse, help=help_text)

daily = q.daily(filters)
left, right = st.columns(2)
with left:
    series = daily.unpivot(
        index="day", on=["sessions", "page_views"], variable_name="series"
    ).with_columns(pl.col("series").replace({"sessions": "Sessions", "page_views": "Page views"}))
    figure = px.line(
        series,
        x="day",
        y="value",
        color="series",
        title="Sessions and page views per day",
        labels={"day": "Day (UTC)", "value": "Count per day", "series": ""},
    )
    ui.chart(figure, key="web_daily")
with right:
    visitors = daily.unpivot(
        index="day", on=["new_sessions", "returning_sessions"], variable_name="series"
    ).with_columns(
        pl.col("series").replace({"new_sessions": "New", "returning_sessions": "Returning"})
    )
    figure = px.area(
        visitors,
        x="day",
        y="value",
        color="series",
        title="New vs returning sessions per day",
        labels={"day": "Day (UTC)", "value": "Sessions per day", "series": ""},
    )
    ui.chart(figure, key="web_new_returning")

st.subheader("Traffic sources")
sources = q.sources(filters)
left, right = st.columns([2, 3])
with left:
    by_medium = (
        sources.group_by("medium").agg(pl.col("sessions").sum()).sort("sessions", descending=True)
    )
    figure = px.pie(
        by_medium,
        names="medium",
        values="sessions",
        hole=0.4,
        title="Sessions by medium",
        labels={"medium": "Medium", "sessions": "Sessions"},
    )
    figure.update_layout(hovermode="closest")
    ui.chart(figure, key="web_mediums")
with right:
    ui.table(
        sources.select(
            "source",
            "medium",
            "campaign",
            "sessions",
            "new_sessions",
            "page_views",
            "bounce_rate",
            "pages_per_session",
        ),
        {
            "source": "Source",
            "medium": "Medium",
            "campaign": "Campaign",
            "sessions": ui.count_column("Sessions"),
            "new_sessions": ui.count_column("New sessions"),
            "page_views": ui.count_column("Page views"),
            "bounce_rate": ui.percent_column("Bounce rate"),
            "pages_per_session": st.column_config.NumberColumn("Pages / session", format="%.2f"),
        },
        height=380,
    )

st.subheader("Top landing pages")
pages = q.landing_pages(filters)
left, right = st.columns([2, 3])
with left:
    top = pages.head(10).reverse()
    figure = px.bar(
        top,
        x="entrances",
        y="page_path",
        orientation="h",
        title="Sessions starting on the page (top 10)",
        labels={"entrances": "Entrances (sessions)", "page_path": ""},
        hover_data={"bounce_rate": ":.1%"},
    )
    figure.update_layout(hovermode="closest")
    ui.chart(figure, key="web_landing")
with right:
    ui.table(
        pages,
        {
            "page_path": "Page",
            "page_title": "Title",
            "entrances": ui.count_column("Entrances"),
            "bounces": ui.count_column("Bounces"),
            "page_views": ui.count_column("Page views"),
            "bounce_rate": ui.percent_column("Bounce rate", "Bounces / entrances."),
        },
        height=380,
    )

left, right = st.columns(2)
with left:
    st.subheader("Forms")
    forms = q.forms(filters)
    if forms.is_empty():
        ui.empty("No form activity in the period.")
    else:
        if filters.segment_id is None:
            columns = {
                "form_name": "Form",
                "form_views": ui.count_column("Views", "Page views of the form's pages."),
                "viewing_sessions": ui.count_column("Viewing sessions"),
                "submissions": ui.count_column("Submissions"),
                "converted_sessions": ui.count_column("Converted sessions"),
                "conversion_rate": ui.percent_column(
                    "Conversion rate", "Converted sessions / sessions that saw the form."
                ),
            }
        else:
            columns = {
                "form_name": "Form",
                "submissions": ui.count_column("Submissions"),
                "submitting_contacts": ui.count_column("Contacts"),
            }
            st.caption(
                "Conversion rates count every visitor's sessions; with a segment the table "
                "shows its members' submissions."
            )
        ui.table(forms.select(list(columns)), columns)
with right:
    st.subheader("Asset downloads")
    assets = q.assets(filters)
    if assets.is_empty():
        ui.empty("No asset was downloaded in the period.")
    else:
        ui.table(
            assets,
            {
                "asset_title": "Asset",
                "asset_category": "Category",
                "downloads": ui.count_column("Downloads"),
                "known_contact_downloads": ui.count_column("By known contacts"),
                "anonymous_downloads": ui.count_column("Anonymous"),
            },
        )
