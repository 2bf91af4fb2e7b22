"""Segments: sizes and change over the period, additions and removals, overlap, members."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboards import data, ui
from dashboards.queries import segments as q

PAGE_SIZE = 100

filters = data.current_filters()
ui.header("Segments", filters)

sizes = q.sizes(filters)
if sizes.is_empty():
    ui.empty("The build has no segment models.")
    st.stop()
names = dict(zip(sizes["segment_id"], sizes["segment_name"], strict=True))
span = q.history_span()

tiles = st.columns(4)
with tiles[0]:
    ui.kpi("Segments", sizes.height)
with tiles[1]:
    ui.kpi("Memberships now", sizes["members"].sum(), help="Sum of the segments' members.")
with tiles[2]:
    ui.kpi("Added in period", sizes["added"].sum(), help="Contacts that entered a segment.")
with tiles[3]:
    ui.kpi(
        "Removed in period",
        sizes["removed"].sum(),
        help="Contacts that left a segment.",
        inverse=True,
    )
if span["first_build"] is not None:
    st.caption(
        f"Segment history is logged at each build: from {span['first_build']:%Y-%m-%d %H:%M} "
        f"to {span['last_build']:%Y-%m-%d %H:%M} UTC. A segment's first build is its baseline, "
        "not growth."
    )

ui.table(
    sizes.drop("segment_id").with_columns(
        (sizes["members_at_end"] - sizes["members_at_start"]).alias("change")
    ),
    {
        "segment_name": "Segment",
        "members": ui.count_column("Members now"),
        "members_at_start": ui.count_column("At period start"),
        "members_at_end": ui.count_column("At period end"),
        "added": ui.count_column("Added", "Entered during the period."),
        "removed": ui.count_column("Removed", "Left during the period."),
        "change": ui.count_column("Change", "Members at the end minus at the start."),
    },
)

st.subheader("One segment over the period")
segment = st.selectbox("Segment", list(names), format_func=names.get, key="segment_detail")
history = q.history(filters, segment)
if history.select((history["added"] + history["removed"] + history["baseline"]).sum()).item():
    figure = go.Figure()
    figure.add_bar(x=history["day"].to_list(), y=history["added"].to_list(), name="Added")
    figure.add_bar(x=history["day"].to_list(), y=(-history["removed"]).to_list(), name="Removed")
    figure.add_scatter(
        x=history["day"].to_list(),
        y=history["members"].to_list(),
        name="Members (end of day)",
        yaxis="y2",
        mode="lines",
        line_shape="hv",
    )
    figure.update_layout(
        title=f"{names[segment]}: additions, removals and size per day",
        barmode="relative",
        xaxis_title="Day (UTC)",
        yaxis={"title": "Contacts added (+) / removed (−)"},
        yaxis2={"title": "Members", "overlaying": "y", "side": "right", "rangemode": "tozero"},
    )
    ui.chart(figure, key="segment_history")
else:
    ui.empty(
        f"No build changed {names[segment]} during the period"
        + (
            f" (its history starts at the build of {span['first_build']:%Y-%m-%d})."
            if span["first_build"] is not None
            else "."
        )
    )

st.subheader("Overlap")
left, right = st.columns(2)
ids = list(names)
with left:
    a = st.selectbox("First segment", ids, format_func=names.get, key="overlap_a")
with right:
    b = st.selectbox(
        "Second segment", ids, index=min(1, len(ids) - 1), format_func=names.get, key="overlap_b"
    )
shared = q.overlap(filters, a, b)
union = shared["a_members"] + shared["b_members"] - shared["both_members"]
tiles = st.columns(4)
with tiles[0]:
    ui.kpi(f"Only in {names[a]}", shared["a_members"] - shared["both_members"])
with tiles[1]:
    ui.kpi("In both", shared["both_members"])
with tiles[2]:
    ui.kpi(f"Only in {names[b]}", shared["b_members"] - shared["both_members"])
with tiles[3]:
    ui.kpi(
        "Overlap",
        ui.ratio(shared["both_members"], union),
        kind="percent",
        help="Members of both / members of either (Jaccard index).",
    )
figure = go.Figure(
    go.Bar(
        x=[
            shared["a_members"] - shared["both_members"],
            shared["both_members"],
            shared["b_members"] - shared["both_members"],
        ],
        y=[f"Only {names[a]}", "Both", f"Only {names[b]}"],
        orientation="h",
        texttemplate="%{x:,}",
    )
)
figure.update_layout(title="Members of either segment", xaxis_title="Contacts", hovermode="closest")
ui.chart(figure, key="segment_overlap")

st.subheader("Members")
left, right = st.columns([3, 1])
with left:
    listed = st.selectbox("Members of", ids, format_func=names.get, key="members_segment")
with right:
    joined = st.toggle("Joined during the period", key="members_joined")
total = q.members_count(filters, listed, joined)
if total == 0:
    ui.empty("No member" + (" joined during the period." if joined else "."))
else:
    offset = ui.pager(total, PAGE_SIZE, key="members_page")
    ui.table(
        q.members(filters, listed, joined, PAGE_SIZE, offset),
        {
            "email": "Email",
            "first_name": "First name",
            "last_name": "Last name",
            "company_name": "Company",
            "country": "Country",
            "stage_name": "Stage",
            "points": ui.count_column("Points"),
            "last_active_at": st.column_config.DatetimeColumn(
                "Last active (UTC)", format="YYYY-MM-DD HH:mm"
            ),
            "since": st.column_config.DatetimeColumn("Member since", format="YYYY-MM-DD"),
            "matched_by": "Matched by",
        },
    )
    st.download_button(
        f"Download all {total:,} members (CSV)",
        data=lambda: q.members_csv(filters, listed, joined),
        file_name=f"segment-{listed}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="members_csv",
    )
