"""Contacts: find a contact, read its card, timeline, points and stage history."""

from __future__ import annotations

import json

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboards import data, ui
from dashboards.queries import contacts as q

PAGE_SIZE = 100

filters = data.current_filters()
ui.header("Contacts", filters)

term = st.text_input(
    "Search by email, name or company",
    key="contact_search",
    placeholder="e.g. garcia, @acme.com, Crystalleaf",
)
results = q.search(filters, term)
matches = q.search_count(filters, term)
if results.is_empty():
    ui.empty(
        "No contact matches the search."
        if term.strip()
        else "No contact was active in the period: search by email, name or company."
    )
    st.stop()

if not term.strip():
    st.caption(
        f"{matches:,} contacts were active in the period; "
        f"the {results.height} most recent are listed."
    )
elif matches > results.height:
    st.caption(f"{matches:,} contacts match; the first {results.height} are listed.")
else:
    st.caption(f"{matches:,} contacts match.")
ui.table(
    results.drop("contact_id"),
    {
        "email": "Email",
        "name": "Name",
        "company_name": "Company",
        "stage_name": "Stage",
        "points": ui.count_column("Points"),
        "last_active_at": st.column_config.DatetimeColumn(
            "Last active (UTC)", format="YYYY-MM-DD HH:mm"
        ),
    },
    height=220,
)
labels = {
    row["contact_id"]: f"{row['name'] or row['email']} <{row['email']}>"
    for row in results.iter_rows(named=True)
}
contact_id = st.selectbox("Contact", list(labels), format_func=labels.get, key="contact_selected")
card = q.contact(contact_id)
if card is None:  # the build changed under the session
    ui.empty("That contact is not in the published build any more.")
    st.stop()

name = " ".join(part for part in (card["first_name"], card["last_name"]) if part)
st.header(name or card["email"])
st.caption(card["email"] + (f" · {card['job_title']}" if card["job_title"] else ""))

tiles = st.columns(4)
with tiles[0]:
    ui.kpi("Points", card["points_now"], help="Sum of the points ledger.")
with tiles[1]:
    st.metric(
        "Stage",
        card["stage_name"] or "–",
        help="Current lifecycle stage"
        + (f", since {card['stage_changed_at']:%Y-%m-%d}" if card["stage_changed_at"] else ""),
        border=True,
    )
with tiles[2]:
    st.metric(
        "Email",
        f"Do not contact ({card['dnc_email_reason']})" if card["is_dnc_email"] else "Contactable",
        help=f"Since {card['dnc_email_at']:%Y-%m-%d}" if card["dnc_email_at"] else None,
        border=True,
    )
with tiles[3]:
    st.metric(
        "SMS",
        f"Do not contact ({card['dnc_sms_reason'] or 'opted out'})"
        if card["is_dnc_sms"]
        else ("Contactable" if card["mobile"] else "No mobile number"),
        border=True,
    )


def _when(value) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "–"


left, middle, right = st.columns(3)
with left:
    st.subheader("Fields")
    fields = {
        "Email": card["email"],
        "Phone": card["phone"],
        "Mobile": card["mobile"],
        "City": card["city"],
        "State": card["state"],
        "Country": card["country"],
        "Time zone": card["timezone"],
        "Locale": card["preferred_locale"],
        "Preferred channel": card["preferred_channel"],
        "Tags": ", ".join(t for t in (card["tags"] or "").split("|") if t),
        "Created": _when(card["created_at"]),
        "Identified": _when(card["identified_at"]),
        "First seen": _when(card["first_seen_at"]),
        "Last active": _when(card["last_active_at"]),
        "First touch": " / ".join(
            v for v in (card["first_source"], card["first_medium"], card["first_campaign"]) if v
        ),
    }
    custom = json.loads(card["custom_fields"]) if card["custom_fields"] else {}
    fields.update({f"{key} (custom)": str(value) for key, value in custom.items()})
    st.markdown("\n".join(f"- **{k}**: {v}" for k, v in fields.items() if v not in (None, "")))
with middle:
    st.subheader("Company")
    if card["company_name"]:
        st.markdown(
            "\n".join(
                f"- **{k}**: {v}"
                for k, v in {
                    "Name": card["company_name"],
                    "Industry": card["company_industry"],
                    "Website": card["company_website"],
                    "Employees": ui.number(card["company_employees"])
                    if card["company_employees"] is not None
                    else None,
                    "Engagement score": ui.number(card["company_engagement_score"])
                    if card["company_engagement_score"] is not None
                    else None,
                }.items()
                if v
            )
        )
    else:
        ui.empty("No company.")
    st.subheader("Point groups")
    groups = q.point_groups(contact_id)
    if groups.is_empty():
        ui.empty("No points yet.")
    else:
        ui.table(
            groups,
            {
                "point_group": "Group",
                "points": ui.count_column("Points"),
                "entries": ui.count_column("Ledger entries"),
            },
        )
with right:
    st.subheader("Segments")
    member_of = q.contact_segments(contact_id)
    if member_of.is_empty():
        ui.empty("In no segment.")
    else:
        ui.table(
            member_of.drop("segment_id"),
            {
                "segment_name": "Segment",
                "since": st.column_config.DatetimeColumn("Member since", format="YYYY-MM-DD"),
                "matched_by": "Matched by",
            },
        )

st.subheader("Timeline")
types = q.event_types(filters, contact_id)
if types.is_empty():
    ui.empty("No event in the period.")
else:
    chosen = st.multiselect(
        "Event types",
        types["event_type"].to_list(),
        format_func=lambda t: f"{t} ({types.filter(types['event_type'] == t)['events'][0]:,})",
        key="timeline_types",
        placeholder="All event types",
    )
    shown = types.filter(pl.col("event_type").is_in(chosen)) if chosen else types
    total = int(shown["events"].sum())
    offset = ui.pager(total, PAGE_SIZE, key="timeline_page")
    ui.table(
        q.timeline(filters, contact_id, chosen, limit=PAGE_SIZE, offset=offset),
        {
            "occurred_at": st.column_config.DatetimeColumn(
                "When (UTC)", format="YYYY-MM-DD HH:mm:ss"
            ),
            "event_type": "Event",
            "detail": "Detail",
            "source": "Source / referrer",
        },
    )

left, right = st.columns(2)
with left:
    history = q.points_history(contact_id)
    if history.is_empty():
        ui.empty("No points history.")
    else:
        figure = px.line(
            history,
            x="day",
            y="points",
            line_shape="hv",
            markers=True,
            title="Points over time",
            labels={"day": "Day (UTC)", "points": "Points (running total)"},
            hover_data={"change": True},
        )
        figure.add_vrect(
            x0=filters.start, x1=filters.stop, fillcolor="grey", opacity=0.1, line_width=0
        )
        ui.chart(figure, key="contact_points")
with right:
    stages = q.stage_history(contact_id)
    if stages.is_empty():
        ui.empty("No stage history.")
    else:
        names = q.stages()
        figure = go.Figure(
            go.Scatter(
                x=stages["changed_at"].to_list(),
                y=stages["stage_order"].to_list(),
                mode="lines+markers",
                line_shape="hv",
                text=stages["reason"].to_list(),
                customdata=stages["stage_name"].to_list(),
                hovertemplate="%{x|%Y-%m-%d %H:%M}: %{customdata} (%{text})<extra></extra>",
            )
        )
        figure.update_layout(
            title="Stage history",
            xaxis_title="Changed at (UTC)",
            yaxis={
                "title": "Stage",
                "tickmode": "array",
                "tickvals": names["stage_order"].to_list(),
                "ticktext": names["stage_name"].to_list(),
            },
            hovermode="closest",
        )
        ui.chart(figure, key="contact_stages")
