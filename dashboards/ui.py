"""Shared look of the dashboards: number formats, chart defaults, empty states."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import polars as pl
import streamlit as st

# Plotly's modebar keeps zoom, pan and "download as PNG"; analysts export charts from it.
CHART_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


def number(value: float | int | None) -> str:
    """12345 → '12,345'; None → '–'."""
    if value is None:
        return "–"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def percent(value: float | None, digits: int = 1) -> str:
    """A ratio (0.123) as '12.3%'; None → '–'."""
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def chart(figure: go.Figure, *, key: str | None = None) -> None:
    """Show a Plotly figure with the house layout (titles and axis labels set by the caller)."""
    figure.update_layout(margin={"l": 10, "r": 10, "t": 50, "b": 10})
    if figure.layout.hovermode is None:  # a heatmap or a bar chart may ask for another
        figure.update_layout(hovermode="x unified")
    st.plotly_chart(figure, config=CHART_CONFIG, key=key, width="stretch")


def empty(message: str) -> None:
    """What a page shows instead of a chart or table when there is nothing to show."""
    st.info(message, icon=":material/info:")


# ------------------------------------------------------------------------------- additions


def ratio(numerator: float | int | None, denominator: float | int | None) -> float | None:
    """numerator / denominator, None when the denominator is 0 or unknown (as the rpt_* rates)."""
    if not denominator or numerator is None:
        return None
    return numerator / denominator


def change(value: float | int | None, previous: float | int | None, kind: str = "number"):
    """The delta st.metric shows: '+1,234 (+5.2%)' for counts, '+1.3 pp' for rates.

    A change that rounds to nothing is 'no change' (st.metric would colour '-0.0' as a fall).
    """
    if value is None or previous is None:
        return None
    if kind == "percent":
        points = round((value - previous) * 100, 1)
        return "no change" if points == 0 else f"{points:+.1f} pp"
    diff = value - previous
    if round(diff, 1) == 0:
        return "no change"
    text = f"{diff:+,.0f}" if float(diff).is_integer() else f"{diff:+,.1f}"
    if previous:
        text += f" ({diff / previous:+.1%})"
    return text


def kpi(
    label: str,
    value: float | int | None,
    previous: float | int | None = None,
    *,
    kind: str = "number",
    help: str | None = None,
    inverse: bool = False,
) -> None:
    """A KPI tile: the value, and its change against the previous period when given.

    ``kind`` is "number" or "percent" (a 0..1 ratio); ``inverse`` marks a KPI where down is
    good (bounces, unsubscribes).
    """
    shown = percent(value) if kind == "percent" else number(value)
    delta = change(value, previous, kind)
    st.metric(
        label,
        shown,
        delta=delta,
        delta_color="off" if delta == "no change" else ("inverse" if inverse else "normal"),
        help=help,
        border=True,
    )


def count_column(label: str, help: str | None = None):
    return st.column_config.NumberColumn(label, help=help, format="localized")


def percent_column(label: str, help: str | None = None):
    return st.column_config.NumberColumn(label, help=help, format="percent")


def table(
    frame: pl.DataFrame,
    column_config: dict | None = None,
    *,
    height: int | str = "auto",
    key: str | None = None,
) -> None:
    """A read-only table without the index; columns formatted by ``column_config``."""
    st.dataframe(
        frame,
        hide_index=True,
        column_config=column_config,
        width="stretch",
        height=height,
        key=key,
    )


def pager(total: int, page_size: int, key: str) -> int:
    """A page picker for long tables: returns the offset of the chosen page (0-based rows)."""
    pages = max(1, math.ceil(total / page_size))
    page = 1
    if pages > 1:
        page = int(
            st.number_input(
                f"Page (of {pages:,})", min_value=1, max_value=pages, value=1, step=1, key=key
            )
        )
    first = (page - 1) * page_size
    if total:
        st.caption(f"Rows {first + 1:,}–{min(first + page_size, total):,} of {total:,}")
    return first


def header(title: str, filters) -> None:
    """A page's title and the filters it shows (period, comparison, segment)."""
    from dashboards import data  # ui stays importable without a build

    st.title(title)
    text = f"{filters.start:%d %b %Y} – {filters.end:%d %b %Y} ({filters.days} days)"
    if filters.segment_id is not None:
        names = data.segments()
        match = names.filter(pl.col("segment_id") == filters.segment_id)
        name = match["segment_name"][0] if match.height else filters.segment_id
        text += f" · segment: **{name}**"
    st.caption(text)
