"""Overview: the period's KPIs against the previous period, trends, top segments, stage funnel."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboards import data, ui
from dashboards.queries import overview as q

filters = data.current_filters()
ui.header("Overview", filters)

k = q.kpis(filters)
row = st.columns(5)
with row[0]:
    ui.kpi(
        "Contacts",
        k["contacts"],
        k["contacts_prev"],
        help="Known contacts at the end of the period (created by then).",
    )
with row[1]:
    ui.kpi("New contacts", k["new_contacts"], k["new_contacts_prev"], help="Created in the period.")
with row[2]:
    ui.kpi(
        "Identified",
        k["identified"],
        k["identified_prev"],
        help="Contacts who first identified themselves (identify call or form) in the period.",
    )
with row[3]:
    ui.kpi(
        "Active contacts",
        k["active"],
        k["active_prev"],
        help="Contacts who did something (visit, open, click, submit, download …) in the period.",
    )
with row[4]:
    ui.kpi("Sessions", k["sessions"], k["sessions_prev"], help="Web sessions started.")
row = st.columns(5)
with row[0]:
    ui.kpi("Emails sent", k["emails_sent"], k["emails_sent_prev"])
with row[1]:
    ui.kpi(
        "Open rate",
        ui.ratio(k["opened"], k["delivered"]),
        ui.ratio(k["opened_prev"], k["delivered_prev"]),
        kind="percent",
        help="Sends of the period opened (or clicked) / sends delivered.",
    )
with row[2]:
    ui.kpi(
        "Click rate",
        ui.ratio(k["clicked"], k["delivered"]),
        ui.ratio(k["clicked_prev"], k["delivered_prev"]),
        kind="percent",
        help="Sends of the period with a click / sends delivered.",
    )
with row[3]:
    ui.kpi("Form submissions", k["form_submissions"], k["form_submissions_prev"])

daily = q.daily(filters)
left, right = st.columns(2)
with left:
    contacts = daily.unpivot(
        index="day", on=["new_contacts", "active_contacts"], variable_name="series"
    ).with_columns(pl.col("series").replace({"new_contacts": "New", "active_contacts": "Active"}))
    figure = px.line(
        contacts,
        x="day",
        y="value",
        color="series",
        markers=True,
        title="New and active contacts per day",
        labels={"day": "Day (UTC)", "value": "Contacts", "series": ""},
    )
    ui.chart(figure, key="overview_contacts")
with right:
    engagement = daily.unpivot(
        index="day", on=["sessions", "emails_sent", "form_submissions"], variable_name="series"
    ).with_columns(
        pl.col("series").replace(
            {
                "sessions": "Sessions",
                "emails_sent": "Emails sent",
                "form_submissions": "Form submissions",
            }
        )
    )
    figure = px.line(
        engagement,
        x="day",
        y="value",
        color="series",
        title="Sessions, emails sent and form submissions per day",
        labels={"day": "Day (UTC)", "value": "Count per day", "series": ""},
    )
    ui.chart(figure, key="overview_engagement")

left, right = st.columns(2)
with left:
    st.subheader("Top segments")
    segments = q.top_segments(filters)
    if segments.is_empty():
        ui.empty("No segment has members.")
    else:
        figure = px.bar(
            segments.reverse(),
            x="members",
            y="segment_name",
            orientation="h",
            title="Biggest segments (members now)",
            labels={"members": "Members (contacts)", "segment_name": ""},
        )
        figure.update_layout(hovermode="closest")
        ui.chart(figure, key="overview_segments")
        ui.table(
            segments.drop("segment_id"),
            {
                "segment_name": "Segment",
                "members": ui.count_column("Members"),
                "added": ui.count_column("Added", "Entered during the period."),
                "removed": ui.count_column("Removed", "Left during the period."),
                "net_change": ui.count_column("Net change"),
            },
        )
with right:
    st.subheader("Stage funnel")
    funnel = q.stage_funnel(filters)
    if funnel.is_empty() or funnel["reached"].sum() == 0:
        ui.empty("No contact has reached a lifecycle stage by the end of the period.")
    else:
        figure = go.Figure(
            go.Funnel(
                y=funnel["stage_name"].to_list(),
                x=funnel["reached"].to_list(),
                textinfo="value+percent previous",
                hovertemplate="%{y}: %{x:,} contacts<extra></extra>",
            )
        )
        figure.update_layout(
            title="Contacts that reached each stage by the end of the period",
            xaxis_title="Contacts",
            hovermode="closest",
        )
        ui.chart(figure, key="overview_funnel")
        ui.table(
            funnel.select("stage_name", "reached", "reached_in_period"),
            {
                "stage_name": "Stage",
                "reached": ui.count_column("Reached", "By the end of the period."),
                "reached_in_period": ui.count_column(
                    "Reached in period", "Got to the stage (or beyond) during the period."
                ),
            },
        )
