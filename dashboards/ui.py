"""Shared look of the dashboards: number formats, chart defaults, empty states."""

from __future__ import annotations

import plotly.graph_objects as go
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
    figure.update_layout(margin={"l": 10, "r": 10, "t": 50, "b": 10}, hovermode="x unified")
    st.plotly_chart(figure, config=CHART_CONFIG, key=key, width="stretch")


def empty(message: str) -> None:
    """What a page shows instead of a chart or table when there is nothing to show."""
    st.info(message, icon=":material/info:")
