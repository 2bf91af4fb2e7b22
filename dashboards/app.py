"""funnelhouse dashboards: the app shell (``streamlit run dashboards/app.py``).

Sets up the navigation (one module per page under ``views/``: a ``pages/`` folder would also
be served by Streamlit on its own, without the shell) and the sidebar's global filters — a
date range and an optional segment — stored in ``st.session_state`` as a ``data.Filters`` that
every page reads with ``data.current_filters()``. A home without a published build gets a
clear empty state on every page instead of a traceback.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import streamlit as st

from dashboards import data, ui

PAGES_DIR = Path(__file__).resolve().parent / "views"

# (section, [(module, title, icon)]): the order analysts find things in.
SECTIONS = {
    "Audience": [
        ("overview", "Overview", ":material/dashboard:"),
        ("contacts", "Contacts", ":material/person_search:"),
        ("segments", "Segments", ":material/groups:"),
        ("companies", "Companies", ":material/apartment:"),
    ],
    "Channels": [
        ("emails", "Emails", ":material/mail:"),
        ("web", "Web", ":material/language:"),
        ("campaigns", "Campaigns", ":material/route:"),
    ],
    "Scoring": [
        ("points_stages", "Points & stages", ":material/leaderboard:"),
    ],
    "Desk": [
        ("integrations", "Integrations", ":material/extension:"),
        ("team_scorecard", "Team scorecard", ":material/scoreboard:"),
    ],
    "Analysis": [
        ("reports", "Reports", ":material/query_stats:"),
        ("pipeline_health", "Pipeline health", ":material/monitor_heart:"),
    ],
}

PRESETS = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90, "Custom": None}
DEFAULT_PRESET = "Last 30 days"
ALL_CONTACTS = "__all__"  # the segment picker's "no segment" option


def navigation() -> st.navigation:
    pages = {
        section: [
            st.Page(
                PAGES_DIR / f"{module}.py",
                title=title,
                icon=icon,
                url_path=module.replace("_", "-"),
                default=module == "overview",
            )
            for module, title, icon in entries
        ]
        for section, entries in SECTIONS.items()
    }
    return st.navigation(pages)


def date_range(last_day: date, first_day: date | None) -> tuple[date, date]:
    """The sidebar's period: a preset ending on the newest event day, or custom dates."""
    preset = st.sidebar.segmented_control(
        "Period",
        list(PRESETS),
        default=DEFAULT_PRESET,
        required=True,
        key="period_preset",
    )
    days = PRESETS.get(preset or DEFAULT_PRESET)
    if days is not None:
        return last_day - timedelta(days=days - 1), last_day
    picked = st.sidebar.date_input(
        "Dates",
        value=(last_day - timedelta(days=29), last_day),
        min_value=first_day,
        max_value=last_day,
        key="period_custom",
        format="YYYY-MM-DD",
    )
    if isinstance(picked, date):
        picked = (picked,)
    if not picked:
        return last_day - timedelta(days=29), last_day
    start = picked[0]
    end = picked[1] if len(picked) > 1 else picked[0]  # while the second click is pending
    return start, end


def segment_choice() -> str | None:
    segments = data.segments()
    names = dict(zip(segments["segment_id"], segments["segment_name"], strict=True))
    sizes = dict(zip(segments["segment_id"], segments["members"], strict=True))
    choice = st.sidebar.selectbox(
        "Segment",
        [ALL_CONTACTS, *names],
        format_func=lambda sid: (
            "All contacts" if sid == ALL_CONTACTS else f"{names[sid]} ({sizes[sid]:,})"
        ),
        key="segment_filter",
        help="Restrict every page to the current members of one segment.",
    )
    return None if choice in (None, ALL_CONTACTS) else choice


def sidebar() -> data.Filters:
    window = data.data_window()
    first_day, last_day = window if window else (None, date.today())
    start, end = date_range(last_day, first_day)
    filters = data.Filters(start, end, segment_choice())
    previous = filters.previous()
    st.sidebar.caption(
        f"{filters.start:%d %b %Y} – {filters.end:%d %b %Y} ({filters.days} days), compared "
        f"with {previous.start:%d %b} – {previous.end:%d %b %Y}."
    )
    published = data.published_at()
    if published is not None:
        st.sidebar.caption(f"Data published {published:%Y-%m-%d %H:%M} UTC.")
    return filters


def main() -> None:
    st.set_page_config(page_title="funnelhouse", page_icon=":material/insights:", layout="wide")
    page = navigation()
    if not data.has_build():
        st.title(page.title)
        ui.empty(
            f"No build yet: run `funnelhouse run` first. "
            f"(Looked for the published marts in `{data.published_file()}`.)"
        )
        return
    st.session_state[data.FILTERS_KEY] = sidebar()
    page.run()


main()
