"""Campaigns: each campaign's steps and its contacts — once the campaign models are published."""

from __future__ import annotations

import streamlit as st

from dashboards import data, ui
from dashboards.queries import campaigns as q

filters = data.current_filters()
ui.header("Campaigns", filters)

columns = q.columns()
if columns.is_empty():
    ui.empty(
        "Campaigns arrive with the campaign models. This build has no "
        f"`{q.STATE_SCHEMA}.{q.STATE_TABLE}` yet (each contact's position in each campaign); "
        "once the campaign definitions and their dbt models are built and published, this "
        "page shows each campaign's steps with the contacts at, through and out of each step."
    )
    st.caption(
        "Campaign catalogs loaded from landing/catalogs/campaigns/ stay in the warehouse: "
        "they are not part of the published marts."
    )
    st.stop()

has_contact = "contact_id" in columns["column_name"].to_list()
st.info(
    f"`{q.STATE_SCHEMA}.{q.STATE_TABLE}` is published; the step view of this page is not "
    "written against its columns yet, so its rows are listed as they are.",
    icon=":material/construction:",
)
total = q.rows(filters, has_contact)
ui.kpi(
    "Contact states",
    total,
    help="Rows of the campaign state model"
    + (" (the segment's members)." if has_contact and filters.segment_id else "."),
)
if filters.segment_id is not None and not has_contact:
    st.caption("The model has no contact_id column: the segment filter does not apply.")
ui.table(
    columns,
    {"column_name": "Column", "data_type": "Type"},
    key="campaign_columns",
)
if total:
    st.caption(f"The first {min(total, q.SAMPLE_ROWS)} rows:")
    ui.table(q.sample(filters, has_contact), key="campaign_sample")
