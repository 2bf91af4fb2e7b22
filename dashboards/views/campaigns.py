"""Campaigns: contacts per campaign by status; each campaign's steps with the contacts at,
through and out of each step."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboards import data, ui
from dashboards.queries import campaigns as q

filters = data.current_filters()
ui.header("Campaigns", filters)

absent = q.missing()
if absent:
    ui.empty(
        "Campaigns arrive with the campaign models: this build has no "
        + ", ".join(f"`{name}`" for name in absent)
        + " yet. Once the campaign definitions and their dbt models are built and published, "
        "this page shows each campaign's steps with the contacts at, through and out of each "
        "step."
    )
    st.stop()

in_period = st.toggle(
    "Only entries that began in the period",
    key="campaigns_in_period",
    help="Off: every contact's latest entry into each campaign. On: those that began in the "
    "sidebar period.",
)
campaigns = q.campaigns(filters, in_period)
if campaigns.is_empty():
    ui.empty(
        "No contact has entered a campaign"
        + (" in the period" if in_period else "")
        + (" from this segment" if filters.segment_id else "")
        + ". Campaigns are YAML files in dbt_project/campaigns/; published ones take contacts "
        "from their segments and forms at the next run."
    )
    st.stop()

tiles = st.columns(5)
for tile, (label, key, help_text) in zip(
    tiles,
    [
        ("Contacts in campaigns", "contacts", "Contact entries (latest per campaign)."),
        ("Active", "active", "An action is due now."),
        ("Waiting", "waiting", "An action is scheduled, or a decision or condition waits."),
        ("Completed", "completed", "Nothing left to do."),
        ("Exited", "exited", "Left the segment, restarted, or an action failed."),
    ],
    strict=True,
):
    with tile:
        ui.kpi(label, int(campaigns[key].sum()), help=help_text)

ui.table(
    campaigns.drop("campaign_id"),
    {
        "campaign_name": "Campaign",
        "is_published": st.column_config.CheckboxColumn("Published"),
        "contacts": ui.count_column("Contacts"),
        "active": ui.count_column("Active"),
        "waiting": ui.count_column("Waiting"),
        "completed": ui.count_column("Completed"),
        "exited": ui.count_column("Exited"),
        "entered_in_period": ui.count_column("Entered in period"),
    },
    key="campaigns_table",
)

st.subheader("Steps")
names = dict(zip(campaigns["campaign_id"], campaigns["campaign_name"], strict=True))
campaign = st.selectbox(
    "Campaign", list(names), format_func=lambda c: names[c] or c, key="campaigns_selected"
)
steps = q.steps(filters, in_period, campaign)
if steps.is_empty():
    ui.empty("No contact of this campaign has reached a step yet.")
    st.stop()
labels = [
    f"{'· ' * int(depth or 0)}{step_id} ({kind})"
    for step_id, depth, kind in steps.select("step_id", "depth", "step_kind").iter_rows()
]
figure = go.Figure()
for column, name in (("through", "Through"), ("at_step", "At the step"), ("out", "Out")):
    figure.add_bar(y=labels, x=steps[column].to_list(), name=name, orientation="h")
figure.update_layout(
    title=f"{names[campaign] or campaign}: contacts at, through and out of each step",
    barmode="stack",
    xaxis_title="Contacts (latest entry)",
    yaxis={"autorange": "reversed"},
    hovermode="y unified",
    height=max(320, 32 * steps.height + 140),
)
ui.chart(figure, key="campaign_steps")
st.caption(
    "Through: sent, skipped (moved on) or answered yes / no. At: scheduled, due or waiting. "
    "Out: failed or cancelled. Steps no contact has reached are not listed."
)
ui.table(
    steps.drop("depth"),
    {
        "step_id": "Step",
        "step_order": st.column_config.NumberColumn("#", width="small"),
        "step_type": "Type",
        "step_kind": "Kind",
        "parent_step_id": "After",
        "at_step": ui.count_column("At"),
        "through": ui.count_column("Through"),
        "out": ui.count_column("Out"),
        "sent": ui.count_column("Sent"),
        "skipped": ui.count_column("Skipped"),
        "yes": ui.count_column("Yes"),
        "no": ui.count_column("No"),
        "failed": ui.count_column("Failed"),
        "cancelled": ui.count_column("Cancelled"),
    },
    key="campaign_steps_table",
)
