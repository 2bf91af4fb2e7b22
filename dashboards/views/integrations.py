"""Integrations: the directory's home-page ranking by quarter with the change from the quarter
before, proposed vs eligible, counted votes over time, and the maintenance list (issue 12)."""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from dashboards import ui
from dashboards.queries import integrations as q

STATES = ("active", "at risk", "notice sent", "removed")

st.title("Integrations")
st.caption(
    "The integrations directory as of the latest build: quarterly home-page votes of members, "
    "the proposals' eligibility and the maintenance states. The sidebar's period does not "
    "apply to this page."
)

quarters = q.quarters()
funnel = q.funnel()
states = q.status_counts()
tiles = st.columns(6)
tiles[0].metric("Proposed", ui.number(funnel["proposed"]), help="Proposals on the portal.")
tiles[1].metric(
    "Eligible",
    ui.number(funnel["eligible"]),
    help="Enough member supports (desk_policy.min_supporting_votes) and the team's endorsement.",
)
tiles[2].metric("Listed", ui.number(funnel["listed"]), help="Eligible, open source or partner.")
for tile, state in zip(tiles[3:], STATES[1:], strict=True):
    tile.metric(state.capitalize(), ui.number(states.get(state, 0)))

st.subheader("Home-page ranking")
if not quarters:
    ui.empty("No counted home-page votes yet.")
else:
    quarter = st.selectbox("Quarter", quarters, key="integrations_quarter")
    ranking = q.ranking(quarter).with_columns(
        change=pl.when(pl.col("previous_rank").is_null())
        .then(pl.lit("new"))
        .when(pl.col("rank_change") > 0)
        .then(pl.lit("▲ ") + pl.col("rank_change").cast(pl.String))
        .when(pl.col("rank_change") < 0)
        .then(pl.lit("▼ ") + (-pl.col("rank_change")).cast(pl.String))
        .otherwise(pl.lit("="))
    )
    st.caption(
        "Ties are broken by open source first, then the integration's project being a member, "
        "then the team's use-case score, then the integration id."
    )
    ui.table(
        ranking.select(
            "rank",
            "name",
            "votes",
            "change",
            "previous_rank",
            "previous_votes",
            "is_open_source",
            "is_member",
            "use_case_score",
        ),
        {
            "rank": st.column_config.NumberColumn("Rank", format="%d"),
            "name": "Integration",
            "votes": ui.count_column("Votes", "Counted member votes this quarter."),
            "change": st.column_config.TextColumn("Change", help="Against the quarter before."),
            "previous_rank": st.column_config.NumberColumn("Rank before", format="%d"),
            "previous_votes": ui.count_column("Votes before"),
            "is_open_source": "Open source",
            "is_member": "Member project",
            "use_case_score": st.column_config.NumberColumn("Use-case score", format="%d"),
        },
        key="integrations_ranking",
    )
    st.download_button(
        "Download the ranking (CSV)",
        data=lambda: q.ranking_csv(quarter),
        file_name=f"integrations-ranking-{quarter}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="integrations_ranking_csv",
    )

    votes = q.votes_by_quarter()
    figure = px.bar(
        votes,
        x="quarter",
        y="votes",
        color="name",
        title="Counted votes per quarter",
        labels={"quarter": "", "votes": "Votes", "name": "Integration"},
    )
    ui.chart(figure, key="integrations_votes")

st.subheader("Proposed vs eligible")
proposals = q.proposals()
if proposals.is_empty():
    ui.empty("No proposals loaded.")
else:
    long = proposals.unpivot(
        on=["portal_supports", "member_supports"], index="title", variable_name="count"
    ).with_columns(
        pl.col("count").replace(
            {"portal_supports": "Portal supports", "member_supports": "Member supports"}
        )
    )
    figure = px.bar(
        long,
        x="value",
        y="title",
        color="count",
        barmode="group",
        orientation="h",
        title="Supports per proposal: everyone on the portal vs members while members",
        labels={"value": "Supports", "title": "", "count": ""},
    )
    ui.chart(figure, key="integrations_proposals")
    ui.table(
        proposals,
        {
            "title": "Proposal",
            "proposal_reference": "Reference",
            "state": "State",
            "portal_supports": ui.count_column("Portal supports"),
            "member_supports": ui.count_column("Member supports"),
            "is_endorsed": "Endorsed",
            "is_eligible": "Eligible",
            "is_listed": "Listed",
        },
        key="integrations_proposals_table",
    )

st.subheader("Maintenance")
maintenance = q.maintenance()
st.caption(
    "At risk: no release or commit for desk_policy.at_risk_after_days; the maintainer is then "
    "emailed once (campaign integration_removal_notice) and the integration is removed "
    "notice_period_days after that notice unless it is updated."
)
ui.table(
    maintenance,
    {
        "name": "Integration",
        "status": "State",
        "days_since_activity": ui.count_column("Days since activity"),
        "last_activity_at": st.column_config.DatetimeColumn(
            "Last release/commit", format="YYYY-MM-DD"
        ),
        "at_risk_since": st.column_config.DatetimeColumn("At risk since", format="YYYY-MM-DD"),
        "notice_sent_at": st.column_config.DatetimeColumn("Notice sent", format="YYYY-MM-DD"),
        "removal_due_at": st.column_config.DatetimeColumn("Removal due", format="YYYY-MM-DD"),
        "review_due_at": st.column_config.DatetimeColumn("Review due", format="YYYY-MM-DD"),
        "is_review_overdue": "Review overdue",
        "maintainer_email": "Maintainer",
    },
    key="integrations_maintenance",
)
