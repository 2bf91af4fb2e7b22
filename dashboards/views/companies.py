"""Companies: the list ranked by engagement with the period's activity, and one company."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboards import data, ui
from dashboards.queries import companies as q

PAGE_SIZE = 50

filters = data.current_filters()
ui.header("Companies", filters)

term = st.text_input("Search companies by name", key="company_search")
total = q.companies_count(filters, term)
if total == 0:
    ui.empty("No company matches." if term.strip() else "No company has a contact here.")
    st.stop()
st.caption(
    "Engagement score = the contacts' points + 5 per contact active in the 30 days before the "
    "newest event (all time); the activity columns count the selected period."
)
offset = ui.pager(total, PAGE_SIZE, key="companies_page")
listed = q.companies(filters, term, PAGE_SIZE, offset)
columns = {
    "engagement_rank": st.column_config.NumberColumn("Rank", format="%d"),
    "company_name": "Company",
    "industry": "Industry",
    "country": "Country",
    "company_size": "Employees",
    "contact_count": ui.count_column("Contacts"),
    "active_in_period": ui.count_column("Active in period", "Contacts with activity."),
    "events_in_period": ui.count_column("Events in period", "Their visits, opens, forms …"),
    "engagement_score": ui.count_column("Engagement score"),
    "total_points": ui.count_column("Points"),
    "highest_stage_name": "Furthest stage",
    "last_active_at": st.column_config.DatetimeColumn("Last active (UTC)", format="YYYY-MM-DD"),
}
if filters.segment_id is not None:
    columns = {
        **dict(list(columns.items())[:6]),
        "contacts_in_segment": ui.count_column("In segment"),
        **dict(list(columns.items())[6:]),
    }
ui.table(listed.select(list(columns)), columns, height=390)

top = listed.head(15).reverse()
figure = px.bar(
    top,
    x="engagement_score",
    y="company_name",
    orientation="h",
    color="active_in_period",
    color_continuous_scale="Blues",
    title="Most engaged companies on this page",
    labels={
        "engagement_score": "Engagement score (points)",
        "company_name": "",
        "active_in_period": "Active contacts<br>in period",
    },
)
figure.update_layout(hovermode="closest")
ui.chart(figure, key="companies_top")

st.subheader("Company detail")
names = dict(zip(listed["company_id"], listed["company_name"], strict=True))
company_id = st.selectbox("Company", list(names), format_func=names.get, key="company_selected")
company = q.company(company_id)
if company is None:
    ui.empty("That company is not in the published build any more.")
    st.stop()

st.header(company["company_name"])
st.caption(
    " · ".join(
        str(part)
        for part in (
            company["industry"],
            ", ".join(p for p in (company["city"], company["country"]) if p),
            company["website"],
        )
        if part
    )
)
tiles = st.columns(5)
with tiles[0]:
    ui.kpi(
        "Engagement score",
        company["engagement_score"],
        help="Rank " + str(company["engagement_rank"]),
    )
with tiles[1]:
    ui.kpi("Contacts", company["contact_count"])
with tiles[2]:
    ui.kpi(
        "Recently active",
        company["active_contact_share"],
        kind="percent",
        help=f"{company['active_contact_count']:,} contacts active in the last 30 days of data.",
    )
with tiles[3]:
    ui.kpi("Points", company["total_points"], help="Sum of its contacts' points.")
with tiles[4]:
    st.metric("Furthest stage", company["highest_stage_name"] or "–", border=True)
facts = {
    "Employees": ui.number(company["employee_count"]) if company["employee_count"] else None,
    "Annual revenue": ui.number(company["annual_revenue"]) if company["annual_revenue"] else None,
    "Page views (all time)": ui.number(company["page_views"]),
    "Form submissions (all time)": ui.number(company["form_submissions"]),
    "Email opens / clicks (all time)": f"{company['email_opens']:,} / {company['email_clicks']:,}",
    "From a company export": "yes" if company["is_imported"] else "no (named by its contacts)",
}
st.markdown(" · ".join(f"**{k}**: {v}" for k, v in facts.items() if v))

left, right = st.columns([3, 2])
with left:
    activity = q.company_activity(filters, company_id)
    if activity.is_empty():
        ui.empty("Its contacts did nothing in the period.")
    else:
        figure = px.bar(
            activity,
            x="day",
            y="events",
            color="kind",
            title="Its contacts' activity per day",
            labels={"day": "Day (UTC)", "events": "Events per day", "kind": ""},
        )
        ui.chart(figure, key="company_activity")
with right:
    stages = q.company_stages(filters, company_id)
    if stages.is_empty():
        ui.empty("No contact.")
    else:
        figure = px.bar(
            stages,
            x="stage_name",
            y="contacts",
            title="Its contacts by current stage",
            labels={"stage_name": "Stage", "contacts": "Contacts"},
        )
        figure.update_layout(hovermode="closest")
        ui.chart(figure, key="company_stages")

people = q.company_contacts(filters, company_id)
st.caption(
    f"Its contacts{' in the segment' if filters.segment_id else ''}, most points first"
    + (f" (the first {people.height})." if people.height >= 200 else ".")
)
ui.table(
    people,
    {
        "email": "Email",
        "name": "Name",
        "job_title": "Position",
        "stage_name": "Stage",
        "points": ui.count_column("Points"),
        "is_dnc_email": st.column_config.CheckboxColumn("Email DNC"),
        "last_active_at": st.column_config.DatetimeColumn("Last active (UTC)", format="YYYY-MM-DD"),
    },
)
