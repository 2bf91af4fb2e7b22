"""Points & stages: points given in the period, distribution, leaderboard, rules, stage funnel."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboards import data, ui
from dashboards.queries import points_stages as q

LEADERBOARD_SIZES = (10, 25, 50, 100)
TOP_RULES = 15

filters = data.current_filters()
ui.header("Points & stages", filters)
st.caption(
    "Points and stages are taken at the end of the period (the sum of the points ledger up to "
    "then); the period's figures are what happened during it."
)

kpis = q.kpis(filters)
tiles = st.columns(4)
with tiles[0]:
    ui.kpi(
        "Points awarded",
        kpis["awarded"],
        kpis["awarded_prev"],
        help="Sum of the positive ledger entries in the period.",
    )
with tiles[1]:
    ui.kpi(
        "Points deducted",
        kpis["deducted"],
        kpis["deducted_prev"],
        inverse=True,
        help="Penalties, negative manual adjustments and expired points in the period.",
    )
with tiles[2]:
    ui.kpi(
        "Contacts scored",
        kpis["contacts_scored"],
        kpis["contacts_scored_prev"],
        help="Contacts whose points changed in the period.",
    )
with tiles[3]:
    ui.kpi(
        "Contacts with points",
        kpis["scored_contacts"],
        help="Contacts with more than 0 points at the end of the period.",
    )

# ---------------------------------------------------------------------- distribution, daily
left, right = st.columns(2)
with left:
    distribution = q.distribution(filters)
    if distribution["contacts"].sum():
        figure = px.bar(
            distribution,
            x="points_bucket",
            y="contacts",
            title="Contacts by points at the end of the period",
            labels={"points_bucket": "Points", "contacts": "Contacts"},
            text_auto=",",
        )
        figure.update_layout(hovermode="closest")
        ui.chart(figure, key="points_distribution")
    else:
        ui.empty("No contact by the end of the period.")
with right:
    daily = q.daily(filters)
    if daily.is_empty():
        ui.empty("No points were given or taken in the period.")
    else:
        moves = daily.unpivot(
            index=["day", "point_group"], on=["awarded", "deducted"], variable_name="kind"
        ).filter(pl.col("value") != 0)
        figure = px.bar(
            moves.with_columns(
                (
                    pl.col("point_group")
                    + pl.when(pl.col("kind") == "deducted")
                    .then(pl.lit(" (deducted)"))
                    .otherwise(pl.lit(""))
                ).alias("series")
            ),
            x="day",
            y="value",
            color="series",
            title="Points awarded (+) and deducted (−) per day, by point group",
            labels={"day": "Day (UTC)", "value": "Points per day", "series": "Point group"},
        )
        figure.update_layout(barmode="relative")
        ui.chart(figure, key="points_daily")

# ---------------------------------------------------------------------------- leaderboard
st.subheader("Leaderboard")
left, right = st.columns([3, 1])
with left:
    by = st.segmented_control(
        "Rank by",
        ["Points", "Gained in period"],
        default="Points",
        required=True,
        key="points_rank_by",
        help="Points at the end of the period, or points gained during it.",
    )
with right:
    size = st.selectbox("Contacts", LEADERBOARD_SIZES, index=1, key="points_leaderboard_size")
leaders = q.leaderboard(filters, by == "Gained in period", size)
if leaders.is_empty():
    ui.empty("No contact has points" + (" gained in the period." if by != "Points" else "."))
else:
    ui.table(
        leaders,
        {
            "rank": st.column_config.NumberColumn("#", width="small"),
            "email": "Email",
            "name": "Name",
            "company_name": "Company",
            "points": ui.count_column("Points", "At the end of the period."),
            "gained": ui.count_column("Gained", "Net points of the period."),
            "stage_name": "Stage",
            "last_active_at": st.column_config.DatetimeColumn(
                "Last active (UTC)", format="YYYY-MM-DD HH:mm"
            ),
        },
        key="points_leaderboard",
    )

# ---------------------------------------------------------------------------------- rules
st.subheader("Rules that gave the most points in the period")
rules = q.rules(filters)
if rules.is_empty():
    ui.empty("No points were given or taken in the period.")
else:
    top = rules.head(TOP_RULES).reverse()
    figure = go.Figure()
    figure.add_bar(
        y=top["rule_name"].to_list(),
        x=top["points_awarded"].to_list(),
        name="Awarded",
        orientation="h",
    )
    figure.add_bar(
        y=top["rule_name"].to_list(),
        x=top["points_deducted"].to_list(),
        name="Deducted",
        orientation="h",
    )
    figure.update_layout(
        title=f"Points by rule (top {min(TOP_RULES, rules.height)} by net points)",
        barmode="relative",
        xaxis_title="Points in the period",
        hovermode="y unified",
        height=max(320, 28 * top.height + 120),
    )
    ui.chart(figure, key="points_rules")
    ui.table(
        rules.drop("entry_type"),
        {
            "rule_id": "Rule",
            "rule_name": "Name",
            "point_group": "Point group",
            "entries": ui.count_column("Entries", "Ledger entries in the period."),
            "contacts": ui.count_column("Contacts", "Distinct contacts with an entry."),
            "points": ui.count_column("Net points"),
            "points_awarded": ui.count_column("Awarded"),
            "points_deducted": ui.count_column("Deducted"),
        },
        key="points_rules_table",
    )

# ---------------------------------------------------------------------------- stage funnel
st.subheader("Stage funnel")
funnel = q.funnel(filters)
if funnel.is_empty() or not funnel["reached"].sum():
    ui.empty("No contact had entered a stage by the end of the period.")
    st.stop()
left, right = st.columns(2)
with left:
    figure = go.Figure(
        go.Funnel(
            y=funnel["stage_name"].to_list(),
            x=funnel["reached"].to_list(),
            texttemplate="%{value:,} (%{percentPrevious:.1%})",
            hovertemplate="%{y}: %{value:,} contacts<br>%{percentPrevious:.1%} of the previous "
            "stage, %{percentInitial:.1%} of the first<extra></extra>",
        )
    )
    figure.update_layout(
        title="Contacts that reached each stage (% of the previous)", hovermode="closest"
    )
    ui.chart(figure, key="stage_funnel")
with right:
    timing = funnel.unpivot(
        index="stage_name",
        on=["median_days_from_previous", "median_days_in_stage"],
        variable_name="measure",
    ).with_columns(
        pl.col("measure").replace(
            {
                "median_days_from_previous": "From the previous stage",
                "median_days_in_stage": "In the stage (until the next)",
            }
        )
    )
    figure = px.bar(
        timing,
        x="stage_name",
        y="value",
        color="measure",
        barmode="group",
        title="Time between stages (median days)",
        labels={"stage_name": "Stage", "value": "Median days", "measure": ""},
        category_orders={"stage_name": funnel["stage_name"].to_list()},
    )
    figure.update_layout(hovermode="x unified")
    ui.chart(figure, key="stage_timing")
ui.table(
    funnel.drop("stage_order", "stage_id"),
    {
        "stage_name": "Stage",
        "reached": ui.count_column("Reached", "Entered this stage or a later one."),
        "reached_in_period": ui.count_column("Reached in period"),
        "entered": ui.count_column("Entered", "Entered this stage itself (skippers not)."),
        "entered_in_period": ui.count_column("Entered in period"),
        "current": ui.count_column("Current", "Whose stage this is at the end of the period."),
        "moved_on": ui.count_column("Moved on", "Entered it, then a later stage."),
        "conversion_from_previous": ui.percent_column(
            "Conversion", "Reached / reached at the previous stage."
        ),
        "conversion_from_first": ui.percent_column("Of first stage"),
        "from_previous": ui.count_column(
            "From previous", "Contacts that entered the previous stage and this one."
        ),
        "median_days_from_previous": st.column_config.NumberColumn(
            "Days from previous (median)", format="%.1f"
        ),
        "median_days_in_stage": st.column_config.NumberColumn(
            "Days in stage (median)", format="%.1f", help="Over contacts that moved on."
        ),
    },
    key="stage_funnel_table",
)
