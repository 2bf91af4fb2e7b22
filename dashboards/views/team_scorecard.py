"""Team scorecard: website content, SEO, social and newsletter KPIs of a quarter against the
quarter before, with the SEO opportunities and a CSV of the whole scorecard (issue 12)."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboards import ui
from dashboards.queries import scorecard as q

SECTIONS = {
    "website": "Website content",
    "seo": "SEO",
    "social": "Social",
    "newsletter": "Newsletter",
}
LABELS = {
    "page_views": "Page views",
    "blog_page_views": "Blog page views",
    "visitors": "Visitors",
    "sessions": "Sessions",
    "avg_engaged_seconds": "Avg engaged time (s)",
    "conversions": "Conversions",
    "clicks": "Clicks",
    "impressions": "Impressions",
    "ctr": "Click-through rate",
    "avg_position": "Avg position",
    "followers": "Followers",
    "follower_growth": "Follower growth",
    "engagements": "Engagements",
    "engagement_rate": "Engagement rate",
    "mentions": "Mentions",
    "issues": "Issues sent",
    "recipients": "Recipients",
    "open_rate": "Open rate",
    "click_rate": "Click rate",
    "new_contacts": "New contacts",
    "unsubscribes": "Unsubscribes",
}
RATES = {"ctr", "engagement_rate", "open_rate", "click_rate"}
DOWN_IS_GOOD = {"avg_position", "unsubscribes"}

st.title("Team scorecard")
st.caption(
    "The marketing team's channels by calendar quarter, each KPI against the quarter before "
    "(the newest quarter is quarter to date). The sidebar's period does not apply here."
)

quarters = q.quarters()
if not quarters:
    ui.empty("No scorecard yet: load a Search Console or social analytics export, or events.")
    st.stop()
quarter = st.selectbox("Quarter", quarters, key="scorecard_quarter")
card = q.scorecard(quarter)
st.download_button(
    f"Download the {quarter} scorecard (CSV)",
    data=lambda: q.scorecard_csv(quarter),
    file_name=f"team-scorecard-{quarter}.csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
    key="scorecard_csv",
)

for section, title in SECTIONS.items():
    rows = card.filter(card["section"] == section).to_dicts()
    st.subheader(title)
    if not rows:
        ui.empty(f"No {title.lower()} data for {quarter}.")
        continue
    tiles = st.columns(min(len(rows), 6))
    for index, row in enumerate(rows):
        with tiles[index % len(tiles)]:
            ui.kpi(
                LABELS.get(row["kpi"], row["kpi"]),
                row["value"],
                row["previous_value"],
                kind="percent" if row["kpi"] in RATES else "number",
                inverse=row["kpi"] in DOWN_IS_GOOD,
            )
    if section == "website":
        ui.table(
            q.content(quarter),
            {
                "page_path": "Page",
                "is_blog_post": "Blog post",
                "page_views": ui.count_column("Page views"),
                "visitors": ui.count_column("Visitors"),
                "sessions": ui.count_column("Sessions landing"),
                "engaged_seconds": ui.count_column("Engaged time (s)"),
                "conversions": ui.count_column("Conversions", "Form submissions on the page."),
            },
            key="scorecard_content",
        )
    elif section == "seo":
        daily = q.seo_daily(quarter)
        figure = px.line(
            daily.unpivot(on=["clicks", "impressions"], index="day"),
            x="day",
            y="value",
            color="variable",
            title="Search clicks and impressions per day",
            labels={"day": "", "value": "", "variable": ""},
        )
        ui.chart(figure, key="scorecard_seo_daily")
        st.markdown(
            "**Opportunities**: queries with many impressions and a low click-through rate, "
            "and queries ranking in positions 4–20 (thresholds in `desk_policy`)."
        )
        ui.table(
            q.seo_opportunities(quarter),
            {
                "query": "Query",
                "impressions": ui.count_column("Impressions"),
                "clicks": ui.count_column("Clicks"),
                "ctr": ui.percent_column("CTR"),
                "avg_position": st.column_config.NumberColumn("Avg position", format="%.1f"),
                "is_low_ctr": "Low CTR",
                "is_striking_distance": "Positions 4–20",
                "previous_impressions": ui.count_column("Impressions before"),
                "previous_clicks": ui.count_column("Clicks before"),
            },
            key="scorecard_seo_opportunities",
        )
    elif section == "social":
        ui.table(
            q.social_platforms(quarter),
            {
                "platform": "Platform",
                "followers_start": ui.count_column("Followers at start"),
                "followers_end": ui.count_column("Followers at end"),
                "follower_growth": ui.count_column("Growth"),
                "impressions": ui.count_column("Impressions"),
                "engagements": ui.count_column("Engagements"),
                "engagement_rate": ui.percent_column("Engagement rate"),
            },
            key="scorecard_social_platforms",
        )
        st.markdown("**Posts by engagement rate**")
        ui.table(
            q.social_posts(quarter),
            {
                "platform": "Platform",
                "post_id": "Post",
                "first_day": st.column_config.DateColumn("Day"),
                "impressions": ui.count_column("Impressions"),
                "engagements": ui.count_column("Engagements"),
                "engagement_rate": ui.percent_column("Engagement rate"),
            },
            key="scorecard_social_posts",
        )
    else:
        ui.table(
            q.newsletter(quarter),
            {
                "email_name": "Issue",
                "first_sent_on": st.column_config.DateColumn("Sent on"),
                "sent": ui.count_column("Sent"),
                "open_rate": ui.percent_column("Open rate"),
                "click_rate": ui.percent_column("Click rate"),
                "unsubscribed": ui.count_column("Unsubscribes"),
            },
            key="scorecard_newsletter",
        )
