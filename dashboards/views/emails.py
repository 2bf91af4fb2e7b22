"""Emails: performance per email, daily series, best send time, link clicks."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboards import data, ui
from dashboards.queries import emails as q

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

filters = data.current_filters()
ui.header("Emails", filters)

totals = q.totals(filters)
now, before = totals["current"], totals["previous"]
if not now:
    ui.empty("No email was sent in the period.")
    st.stop()

tiles = st.columns(7)
for column, (label, key, kind, inverse, help_text) in zip(
    tiles,
    [
        ("Sent", "sent", "number", False, "Emails sent in the period."),
        ("Delivery rate", "delivery_rate", "percent", False, "Delivered / sent."),
        ("Open rate", "open_rate", "percent", False, "Opened (or clicked) / delivered."),
        ("Click rate", "click_rate", "percent", False, "Clicked / delivered."),
        ("Click-to-open", "click_to_open_rate", "percent", False, "Clicked / opened (CTOR)."),
        ("Bounce rate", "bounce_rate", "percent", True, "Bounced / sent."),
        ("Unsubscribe rate", "unsubscribe_rate", "percent", True, "Unsubscribed / delivered."),
    ],
    strict=True,
):
    with column:
        ui.kpi(label, now.get(key), before.get(key), kind=kind, inverse=inverse, help=help_text)
st.caption(
    "Opens, clicks, bounces and unsubscribes count for the send they follow: each rate is "
    "over the emails sent in the period."
)

st.subheader("Per email")
performance = q.performance(filters)
ui.table(
    performance.select(
        "email_name",
        "email_category",
        "sent",
        "delivered",
        "unique_opens",
        "unique_clicks",
        "bounced",
        "unsubscribed",
        "open_rate",
        "click_rate",
        "click_to_open_rate",
        "bounce_rate",
        "unsubscribe_rate",
    ),
    {
        "email_name": "Email",
        "email_category": "Category",
        "sent": ui.count_column("Sent"),
        "delivered": ui.count_column("Delivered"),
        "unique_opens": ui.count_column("Opened", "Sends opened at least once."),
        "unique_clicks": ui.count_column("Clicked", "Sends with a click."),
        "bounced": ui.count_column("Bounced"),
        "unsubscribed": ui.count_column("Unsubscribed"),
        "open_rate": ui.percent_column("Open rate"),
        "click_rate": ui.percent_column("Click rate"),
        "click_to_open_rate": ui.percent_column("CTOR"),
        "bounce_rate": ui.percent_column("Bounce rate"),
        "unsubscribe_rate": ui.percent_column("Unsub. rate"),
    },
)

daily = q.daily(filters)
figure = go.Figure()
figure.add_bar(x=daily["day"].to_list(), y=daily["sent"].to_list(), name="Sent")
for column, label in [("open_rate", "Open rate"), ("click_rate", "Click rate")]:
    figure.add_scatter(
        x=daily["day"].to_list(),
        y=daily[column].to_list(),
        name=label,
        yaxis="y2",
        mode="lines+markers",
    )
figure.update_layout(
    title="Emails sent per day, and the open and click rates of those sends",
    xaxis_title="Send day (UTC)",
    yaxis={"title": "Emails sent"},
    yaxis2={"title": "Rate", "overlaying": "y", "side": "right", "tickformat": ".0%"},
)
ui.chart(figure, key="emails_daily")

left, right = st.columns([3, 2])
with left:
    times = q.send_times(filters)
    grid = (
        pl.DataFrame({"weekday": range(1, 8)})
        .join(pl.DataFrame({"hour": range(24)}), how="cross")
        .with_columns(pl.col("weekday").cast(pl.Int64), pl.col("hour").cast(pl.Int64))
        .join(times, on=["weekday", "hour"], how="left")
        .sort("weekday", "hour")
    )
    rates = [grid.filter(pl.col("weekday") == d)["open_rate"].to_list() for d in range(1, 8)]
    sent = [grid.filter(pl.col("weekday") == d)["sent"].fill_null(0).to_list() for d in range(1, 8)]
    figure = go.Figure(
        go.Heatmap(
            z=rates,
            x=list(range(24)),
            y=WEEKDAYS,
            customdata=sent,
            colorscale="Blues",
            colorbar={"title": "Open rate", "tickformat": ".0%"},
            hovertemplate="%{y} %{x}:00 UTC<br>open rate %{z:.1%} of %{customdata:,} sent"
            "<extra></extra>",
        )
    )
    figure.update_layout(
        title="Open rate by send weekday and hour",
        xaxis={"title": "Hour of the send (UTC)", "dtick": 2},
        yaxis={"title": "", "autorange": "reversed"},
        hovermode="closest",
    )
    ui.chart(figure, key="emails_send_times")
with right:
    best = times.filter(pl.col("sent") >= max(10, times["sent"].sum() // 200)).sort(
        "open_rate", descending=True, nulls_last=True
    )
    st.subheader("Best send times")
    if best.is_empty():
        ui.empty("Too few sends in the period to rank send times.")
    else:
        ui.table(
            best.head(8)
            .with_columns(
                pl.col("weekday").map_elements(lambda d: WEEKDAYS[d - 1], return_dtype=pl.String)
            )
            .select("weekday", "hour", "sent", "open_rate", "click_rate"),
            {
                "weekday": "Weekday",
                "hour": st.column_config.NumberColumn("Hour (UTC)", format="%d:00"),
                "sent": ui.count_column("Sent"),
                "open_rate": ui.percent_column("Open rate"),
                "click_rate": ui.percent_column("Click rate"),
            },
        )
        st.caption("Slots with enough sends to compare (at least 10, or 0.5% of the period's).")

st.subheader("Link clicks")
links = q.links(filters)
if links.is_empty():
    ui.empty("No link was clicked in the period.")
else:
    ui.table(
        links,
        {
            "email_name": "Email",
            "link_url": st.column_config.LinkColumn("Link"),
            "clicks": ui.count_column("Clicks"),
            "clickers": ui.count_column("Contacts", "Distinct contacts that clicked the link."),
            "share_of_email_clicks": ui.percent_column("Share of the email's clicks"),
        },
    )
