"""Reports: build a report over the rpt_* models and core marts, chart it, export it, save it.

The widgets make a ``ReportDefinition``; ``queries.reports.build_query`` turns it into SQL with
names from the published catalog only and values as parameters. Widgets that list a source's
columns are keyed per source, so switching source never leaves a column of another table
selected; opening a saved definition (a callback, before the widgets are drawn) sets them.
"""

from __future__ import annotations

import duckdb
import plotly.express as px
import polars as pl
import streamlit as st
from pydantic import ValidationError

from dashboards import data, ui
from dashboards import report_definitions as rd
from dashboards.queries import reports as q

NONE = "(none)"
MAX_SERIES = 12  # lines or bar colours a chart draws; the table has every row
FIRST_REPORT = rd.ReportDefinition(
    name="Sessions and page views per day",
    source="reports.rpt_web_traffic_daily",
    columns=("sessions", "page_views"),
    aggregate="sum",
    date_bucket=rd.DateBucket(column="day", unit="day"),
    period_column="day",
    chart="line",
)

filters = data.current_filters()
ui.header("Reports", filters)
catalog = q.catalog()
if not catalog:
    ui.empty("The published build has no report model or mart to report on.")
    st.stop()
home = data.home()
state = st.session_state


def key(name: str, source: str, *extra: object) -> str:
    """Widget keys of a source's column widgets (``rb_columns:reports.rpt_x``)."""
    return ":".join([f"rb_{name}", source, *map(str, extra)])


def defaults(source: str) -> None:
    """First visit of a source: count rows per day of its period column, if any."""
    period = q.default_period_column(source, catalog)
    state.setdefault(key("columns", source), [])
    state.setdefault(key("aggregate", source), "count")
    state.setdefault(key("group_by", source), [])
    state.setdefault(key("bucket_column", source), period or NONE)
    state.setdefault(key("bucket_unit", source), "day")
    state.setdefault(key("period_column", source), period or NONE)
    state.setdefault(key("chart", source), "line" if period else "table")
    state.setdefault(key("limit", source), rd.DEFAULT_LIMIT)
    state.setdefault(key("filters", source), [])


def apply(definition: rd.ReportDefinition) -> None:
    """Show ``definition`` in the widgets (call from a callback: before they are drawn)."""
    source = definition.source
    state["rb_source"] = source
    state[key("columns", source)] = list(definition.columns)
    state[key("aggregate", source)] = definition.aggregate
    state[key("group_by", source)] = list(definition.group_by)
    bucket = definition.date_bucket
    state[key("bucket_column", source)] = bucket.column if bucket else NONE
    state[key("bucket_unit", source)] = bucket.unit if bucket else "day"
    state[key("period_column", source)] = definition.period_column or NONE
    state[key("chart", source)] = definition.chart
    state[key("limit", source)] = definition.limit
    rows = []
    for condition in definition.filters:
        row = new_filter_id()
        rows.append(row)
        state[key("filter_column", source, row)] = condition.column
        state[key("filter_operator", source, row, condition.column)] = condition.operator
        value = condition.value
        state[key("filter_value", source, row)] = (
            ", ".join(value) if isinstance(value, tuple) else (value or "")
        )
    state[key("filters", source)] = rows
    state["rb_name"] = definition.name


def new_filter_id() -> int:
    state["rb_next_filter"] = state.get("rb_next_filter", 0) + 1
    return state["rb_next_filter"]


def open_saved() -> None:
    """The Open button: load, check against the catalog, show; or say what is wrong."""
    name = state.get("rb_saved")
    if not name:
        return
    path = rd.reports_dir(home) / name
    shown = f"{rd.REPORTS_FOLDER}/{name}"
    try:
        definition = rd.load(path)
        q.build_query(definition, catalog)  # every name must be in the published catalog
    except rd.DefinitionError as error:
        state["rb_message"] = ("error", f"Cannot open {shown}: {error.message}", error.field)
        return
    except q.ReportError as error:
        state["rb_message"] = ("error", f"Cannot open {shown}: {error.message}", error.field)
        return
    apply(definition)
    state["rb_message"] = ("success", f"Opened {shown}.", None)


def save_current(definition: rd.ReportDefinition) -> None:
    named = definition.model_copy(update={"name": state.get("rb_name") or definition.name})
    try:
        named = rd.ReportDefinition.model_validate(named.model_dump())
        path = rd.save(home, named)
    except (ValidationError, OSError) as error:
        state["rb_message"] = ("error", f"Not saved: {error}", None)
        return
    state["rb_saved"] = path.name
    state["rb_message"] = ("success", f"Saved as {rd.REPORTS_FOLDER}/{path.name}.", None)


def add_filter(source: str) -> None:
    state[key("filters", source)] = [*state.get(key("filters", source), []), new_filter_id()]


def remove_filter(source: str, row: int) -> None:
    state[key("filters", source)] = [r for r in state[key("filters", source)] if r != row]


def fits(definition: rd.ReportDefinition) -> bool:
    try:
        q.build_query(definition, catalog)
    except q.ReportError:
        return False
    return True


if "rb_source" not in state:  # the session's first visit: a report that shows something
    if fits(FIRST_REPORT):
        apply(FIRST_REPORT)
    state.setdefault("rb_source", next(iter(catalog)))
    state.setdefault("rb_name", FIRST_REPORT.name)

# ------------------------------------------------------------------------- saved reports
files = [path.name for path in rd.saved(home)]
left, right = st.columns([4, 1], vertical_alignment="bottom")
with left:
    st.selectbox(
        "Saved reports",
        files,
        index=None,
        key="rb_saved",
        placeholder="Choose a saved report" if files else "No saved report yet",
        help=f"Definitions saved as YAML in {rd.reports_dir(home)}.",
    )
with right:
    st.button("Open", on_click=open_saved, disabled=not files, key="rb_open", width="stretch")
message = state.pop("rb_message", None)
if message is not None:
    level, text, field = message
    if level == "error":
        st.error(text + (f" (field `{field}`)" if field else ""), icon=":material/error:")
    else:
        st.success(text, icon=":material/check_circle:")

# ------------------------------------------------------------------------------ builder
if state.get("rb_source") not in catalog:
    state["rb_source"] = next(iter(catalog))
source = st.selectbox(
    "Source",
    list(catalog),
    key="rb_source",
    format_func=lambda s: f"{s.split('.', 1)[1]}  ({s.split('.', 1)[0]})",
    help="A report model (rpt_*) or a core mart of the published build.",
)
defaults(source)
columns = catalog[source]
names = list(columns)
temporal = [name for name, kind in columns.items() if q.kind(kind) in q.TEMPORAL]


def described(name: str) -> str:
    return f"{name} · {columns[name].lower()}"


left, middle, right = st.columns(3)
with left:
    chosen = st.multiselect(
        "Columns",
        names,
        key=key("columns", source),
        format_func=described,
        help="Without an aggregate: the columns listed (all when none). With one: the "
        "columns it applies to ('count' with none counts rows).",
    )
with middle:
    aggregate = st.selectbox("Aggregate", rd.AGGREGATES, key=key("aggregate", source))
with right:
    group_by = st.multiselect("Group by", names, key=key("group_by", source), format_func=described)

left, middle, right = st.columns(3)
with left:
    bucket_column = st.selectbox("Date bucket", [NONE, *temporal], key=key("bucket_column", source))
    bucket_unit = st.segmented_control(
        "Bucket",
        rd.UNITS,
        key=key("bucket_unit", source),
        required=True,
        label_visibility="collapsed",
        disabled=bucket_column == NONE,
    )
with middle:
    period_column = st.selectbox(
        "Sidebar period applies to",
        [NONE, *temporal],
        key=key("period_column", source),
        help="The date or timestamp column the sidebar's period filters on.",
    )
with right:
    chart = st.segmented_control("Chart", rd.CHARTS, key=key("chart", source), required=True)
    limit = st.number_input("Rows (at most)", 1, rd.MAX_LIMIT, step=100, key=key("limit", source))

st.markdown("**Filters**")
conditions: list[dict] = []
for row in state[key("filters", source)]:
    cells = st.columns([3, 2, 4, 1], vertical_alignment="bottom")
    with cells[0]:
        column = st.selectbox(
            "Column", names, key=key("filter_column", source, row), label_visibility="collapsed"
        )
    operators = q.OPERATORS_BY_KIND[q.kind(columns[column])]
    with cells[1]:
        operator = st.selectbox(
            "Operator",
            operators,
            key=key("filter_operator", source, row, column),
            label_visibility="collapsed",
        )
    with cells[2]:
        value = st.text_input(
            "Value",
            key=key("filter_value", source, row),
            label_visibility="collapsed",
            disabled=operator in rd.NO_VALUE_OPERATORS,
            placeholder="a, b, c" if operator == "in" else "value",
        )
    with cells[3]:
        st.button(
            "Remove",
            icon=":material/delete:",
            key=key("filter_remove", source, row),
            on_click=remove_filter,
            args=(source, row),
            help="Remove this filter",
        )
    conditions.append(
        {
            "column": column,
            "operator": operator,
            "value": None if operator in rd.NO_VALUE_OPERATORS else value,
        }
    )
st.button(
    "Add filter", icon=":material/add:", key="rb_add_filter", on_click=add_filter, args=(source,)
)

# ------------------------------------------------------------------------------- result
try:
    definition = rd.ReportDefinition(
        name=state.get("rb_name") or "Untitled report",
        source=source,
        columns=tuple(chosen),
        aggregate=aggregate,
        group_by=tuple(group_by),
        date_bucket=(
            None if bucket_column == NONE else rd.DateBucket(column=bucket_column, unit=bucket_unit)
        ),
        period_column=None if period_column == NONE else period_column,
        filters=tuple(conditions),
        chart=chart,
        limit=int(limit),
    )
except ValidationError as error:
    first = error.errors()[0]
    problem = first.get("ctx", {}).get("error")
    where = rd.field_path(first["loc"])
    if isinstance(problem, rd.FieldProblem):
        where = f"{where}.{problem.field}" if where else problem.field
    st.warning(
        first["msg"].removeprefix("Value error, ") + (f" (field `{where}`)" if where else ""),
        icon=":material/edit_note:",
    )
    st.stop()

context = {
    "start": filters.start,
    "stop": filters.stop,
    "segment_id": filters.segment_id,
}
try:
    sql, params = q.build_query(definition, catalog, limit=definition.limit + 1, **context)
except q.ReportError as error:
    st.warning(f"{error.message} (field `{error.field}`)", icon=":material/edit_note:")
    st.stop()

notes = []
if definition.period_column:
    notes.append(f"period on **{definition.period_column}**")
else:
    notes.append("all dates (no period column)")
if filters.segment_id is not None:
    notes.append(
        "segment members only (by contact_id)"
        if "contact_id" in columns
        else "the segment does not apply: this source has no contact_id"
    )

try:
    result = q.run(sql, params)
except duckdb.Error as error:  # e.g. a sum that overflows: say so, never a traceback
    st.error(f"DuckDB could not run this report: {error}", icon=":material/error:")
    st.stop()
more = result.height > definition.limit
result = result.head(definition.limit)
# HUGEINT columns (counts of the marts) as plain integers for the chart and the table.
result = result.with_columns(pl.col(pl.Int128, pl.UInt128).cast(pl.Int64, strict=False))
shape = q.layout(definition, catalog)

st.subheader(definition.name)
if result.is_empty():
    ui.empty("No row matches: widen the period, or loosen the filters.")
    st.caption(" · ".join(notes))
    st.stop()


def draw(frame: pl.DataFrame) -> None:
    x = shape.bucket or shape.groups[0]
    series = list(shape.groups if shape.bucket else shape.groups[1:])
    if series:
        y = shape.measures[0]
        frame = frame.with_columns(
            pl.concat_str(
                [pl.col(c).cast(pl.String).fill_null("(empty)") for c in series], separator=" · "
            ).alias("series")
        )
        ranked = (
            frame.group_by("series")
            .agg(pl.col(y).cast(pl.Float64).sum())
            .sort(y, descending=True, nulls_last=True)
        )
        if ranked.height > MAX_SERIES:
            st.caption(
                f"The chart draws the {MAX_SERIES} largest of {ranked.height:,} "
                f"{' · '.join(series)} values; the table has them all."
            )
        frame = frame.filter(pl.col("series").is_in(ranked["series"].head(MAX_SERIES).to_list()))
        plotted, value, color = frame, y, "series"
        if len(shape.measures) > 1:
            st.caption(f"The chart shows {y}; the table has every measure.")
    else:
        plotted = frame.unpivot(index=x, on=list(shape.measures), variable_name="measure")
        value, color = "value", "measure"
    if shape.bucket:
        plotted = plotted.sort(x)
    draw_with = {"line": px.line, "bar": px.bar, "area": px.area}[definition.chart]
    y_title = y if series else ", ".join(shape.measures)
    figure = draw_with(
        plotted,
        x=x,
        y=value,
        color=color,
        title=definition.name,
        labels={
            x: f"{x} (UTC)" if shape.bucket else x,
            value: y_title,
            color: " · ".join(series) if series else "",
        },
    )
    if definition.chart == "bar" and not shape.bucket:
        figure.update_layout(hovermode="closest")
    ui.chart(figure, key="rb_chart_figure")


if definition.chart != "table":
    draw(result)

st.caption(
    (
        f"The first {definition.limit:,} rows (more match: add filters or a coarser bucket)"
        if more
        else f"{result.height:,} row{'s' if result.height != 1 else ''}"
    )
    + " · "
    + " · ".join(notes)
)
formats = {}
for name, dtype in result.schema.items():
    if dtype == pl.Date:
        formats[name] = st.column_config.DateColumn(name, format="YYYY-MM-DD")
    elif dtype.is_temporal() and dtype != pl.Time and dtype != pl.Duration:
        formats[name] = st.column_config.DatetimeColumn(name, format="YYYY-MM-DD HH:mm:ss")
    elif name in shape.measures and dtype.is_integer():
        formats[name] = ui.count_column(name)
ui.table(result, formats, key="rb_table")

left, right = st.columns(2)
with left:
    st.download_button(
        f"Download CSV (up to {q.EXPORT_LIMIT:,} rows)",
        data=lambda: q.export(definition, catalog, **context),
        file_name=f"{rd.slug(definition.name) or 'report'}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="rb_csv",
    )

st.subheader("Save")
left, right = st.columns([4, 1], vertical_alignment="bottom")
with left:
    st.text_input(
        "Report name",
        key="rb_name",
        help=f"Saved as {rd.reports_dir(home)}/<name>.yaml; the same name replaces it.",
    )
with right:
    st.button(
        "Save",
        icon=":material/save:",
        key="rb_save",
        on_click=save_current,
        args=(definition,),
        width="stretch",
    )
with st.expander("Definition (YAML)"):
    st.code(rd.to_yaml(definition), language="yaml")
with st.expander("SQL"):
    st.code(sql, language="sql")
    st.caption("Values travel as parameters (?), in this order: " + repr(params))
