"""The Reports page: the builder under AppTest, saved definitions, and its SQL generator.

The page runs in the real app (dashboards/app.py, then switch_page) against the shared built
home; what it shows is compared with direct DuckDB queries on the published file. Saving
needs a writable home: those tests copy the published file into their own home. The SQL
generator is property-tested with hypothesis on the published catalog: any definition gives
SQL that DuckDB runs, made of catalog identifiers only, with every value as a parameter.
"""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from dashboards import data
from dashboards import report_definitions as rd
from dashboards.queries import reports as q
from ingest.home import Home
from pipelines.publish import published_path
from tests.conftest import published

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboards" / "app.py"
TIMEOUT = 60
PAGES = "reports.rpt_pages_daily"
INJECTION = "'; drop table x; --"


def published_catalog(home: Home) -> dict[str, dict[str, str]]:
    catalog: dict[str, dict[str, str]] = {}
    for source, column, data_type in published(home, q.CATALOG_SQL, [list(q.CORE_MARTS)]):
        catalog.setdefault(source, {})[column] = data_type
    return catalog


def plain(value):
    """pandas and DuckDB values compared alike: timestamps as datetimes, midnights as dates."""
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date()
    return value


def rows(frame) -> list[tuple]:
    """A table AppTest read back (pandas), or DuckDB rows, as plain tuples."""
    records = frame if isinstance(frame, list) else frame.itertuples(index=False)
    return [tuple(plain(v) for v in row) for row in records]


def open_reports(home: Home, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("FUNNELHOUSE_HOME", str(home.root))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page("views/reports.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def period_of(at: AppTest) -> tuple[date, date]:
    filters = at.session_state[data.FILTERS_KEY]
    return filters.start, filters.stop


def build_pages_report(at: AppTest) -> AppTest:
    """Through the widgets: page views per page over the period, biggest first, as bars."""
    at.selectbox("rb_source").set_value(PAGES).run()
    at.multiselect(f"rb_columns:{PAGES}").set_value(["page_views", "unique_visitors"])
    at.selectbox(f"rb_aggregate:{PAGES}").set_value("sum")
    at.multiselect(f"rb_group_by:{PAGES}").set_value(["page_path"])
    at.selectbox(f"rb_bucket_column:{PAGES}").set_value("(none)")
    at.segmented_control(f"rb_chart:{PAGES}").set_value("bar")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.warning, [w.value for w in at.warning]
    return at


@pytest.fixture
def writable_home(built_home: Home, tmp_path: Path) -> Home:
    """A home holding a copy of the built home's published file (the page saves into it)."""
    home = Home.resolve(tmp_path / "home")
    home.published.mkdir(parents=True)
    shutil.copyfile(published_path(built_home), published_path(home))
    return home


def test_builder_shows_what_duckdb_computes(built_home: Home, monkeypatch) -> None:
    at = open_reports(built_home, monkeypatch)
    start, stop = period_of(at)

    # The first report of a session: sessions and page views per day of the period.
    expected = published(
        built_home,
        "select day, sum(sessions), sum(page_views) from reports.rpt_web_traffic_daily "
        "where day >= ? and day < ? group by day order by day",
        [start, stop],
    )
    assert expected and rows(at.dataframe[0].value) == rows(expected)
    assert len(at.get("plotly_chart")) == 1

    build_pages_report(at)
    expected = published(
        built_home,
        "select page_path, sum(page_views), sum(unique_visitors) from reports.rpt_pages_daily "
        "where day >= ? and day < ? group by page_path order by 2 desc, 1 limit 1000",
        [start, stop],
    )
    assert rows(at.dataframe[0].value) == rows(expected)
    assert len(at.get("plotly_chart")) == 1
    assert at.download_button("rb_csv").proto.label.startswith("Download CSV")
    definition = rd.ReportDefinition(
        name="x",
        source=PAGES,
        columns=("page_views", "unique_visitors"),
        aggregate="sum",
        group_by=("page_path",),
        period_column="day",
        chart="bar",
    )
    csv = q.export(definition, q.catalog(), start=start, stop=stop, segment_id=None)
    assert len(csv.decode().strip().splitlines()) == len(expected) + 1  # header + rows

    # A filter: typed values are data, never SQL.
    at.button("rb_add_filter").click().run()
    row = at.session_state[f"rb_filters:{PAGES}"][-1]
    at.selectbox(f"rb_filter_column:{PAGES}:{row}").set_value("page_path").run()
    at.selectbox(f"rb_filter_operator:{PAGES}:{row}:page_path").set_value("contains")
    at.text_input(f"rb_filter_value:{PAGES}:{row}").set_value(INJECTION).run()
    assert not at.exception
    assert "No row matches" in at.info[0].value
    assert published(built_home, "select count(*) from reports.rpt_pages_daily")[0][0] > 0

    at.text_input(f"rb_filter_value:{PAGES}:{row}").set_value("BLOG").run()
    expected = published(
        built_home,
        "select page_path, sum(page_views), sum(unique_visitors) from reports.rpt_pages_daily "
        "where day >= ? and day < ? and page_path ilike '%blog%' "
        "group by page_path order by 2 desc, 1",
        [start, stop],
    )
    assert expected and rows(at.dataframe[0].value) == rows(expected)
    at.button(f"rb_filter_remove:{PAGES}:{row}").click().run()
    assert at.session_state[f"rb_filters:{PAGES}"] == []
    assert len(at.dataframe[0].value) > len(expected)

    # A segment from the sidebar keeps the rows of its members (sources with contact_id).
    segment = published(
        built_home,
        "select segment_id, count(*) from marts.segment_membership group by 1 order by 2 desc",
    )[0][0]
    at.selectbox("rb_source").set_value("marts.fct_events").run()
    at.selectbox("segment_filter").set_value(segment).run()
    assert not at.exception
    expected = published(
        built_home,
        "select occurred_at::date, count(*) from marts.fct_events where occurred_at >= ? "
        "and occurred_at < ? and contact_id in (select contact_id from "
        "marts.segment_membership where segment_id = ?) group by 1 order by 1",
        [start, stop, segment],
    )
    assert rows(at.dataframe[0].value) == rows(expected)


def test_save_then_reopen_a_report(writable_home: Home, monkeypatch) -> None:
    at = build_pages_report(open_reports(writable_home, monkeypatch))
    shown = rows(at.dataframe[0].value)
    at.text_input("rb_name").set_value("Pages by views")
    at.button("rb_save").click().run()
    saved = rd.reports_dir(writable_home) / "pages-by-views.yaml"
    assert "Saved as reports/pages-by-views.yaml" in at.success[0].value
    definition = rd.load(saved)
    assert definition == rd.ReportDefinition(
        name="Pages by views",
        source=PAGES,
        columns=("page_views", "unique_visitors"),
        aggregate="sum",
        group_by=("page_path",),
        period_column="day",
        chart="bar",
    )

    # Elsewhere, then back through the saved list.
    at.selectbox("rb_source").set_value("marts.dim_contacts").run()
    assert rows(at.dataframe[0].value) != shown
    at.selectbox("rb_saved").set_value("pages-by-views.yaml")
    at.button("rb_open").click().run()
    assert not at.exception and not at.error
    assert "Opened reports/pages-by-views.yaml" in at.success[0].value
    assert at.selectbox("rb_source").value == PAGES
    assert at.multiselect(f"rb_group_by:{PAGES}").value == ["page_path"]
    assert rows(at.dataframe[0].value) == shown
    assert at.subheader[0].value == "Pages by views"


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        (f"name: Pie\nsource: {PAGES}\nchart: pie\n", "chart", "'table', 'line', 'bar'"),
        (
            f"name: Ghost\nsource: {PAGES}\ncolumns: [page_views, no_such_column]\n",
            "columns[1]",
            "has no column 'no_such_column'",
        ),
        (
            f"name: Op\nsource: {PAGES}\nfilters:\n  - {{column: page_path, operator: like, "
            "value: x}\n",
            "filters[0].operator",
            "Input should be",
        ),
        ("name: Broken\nsource: [unclosed\n", None, "not valid YAML at line"),
    ],
)
def test_a_bad_definition_names_file_and_field(
    writable_home: Home, monkeypatch, text: str, field: str | None, problem: str
) -> None:
    folder = rd.reports_dir(writable_home)
    folder.mkdir()
    (folder / "bad.yaml").write_text(text)
    at = open_reports(writable_home, monkeypatch)
    before = rows(at.dataframe[0].value)
    at.selectbox("rb_saved").set_value("bad.yaml")
    at.button("rb_open").click().run()
    assert not at.exception, [e.value for e in at.exception]
    message = at.error[0].value
    assert "reports/bad.yaml" in message and problem in message
    if field:
        assert f"`{field}`" in message
    assert rows(at.dataframe[0].value) == before  # the builder kept what it had


# ------------------------------------------------------------------- the SQL generator


def test_generator_errors_name_the_field(built_home: Home) -> None:
    catalog = published_catalog(built_home)
    cases = [
        (dict(source="marts.nope"), "source"),
        (dict(source=PAGES, columns=("page_path",), aggregate="sum"), "columns[0]"),
        (dict(source=PAGES, aggregate="count", group_by=("ghost",)), "group_by[0]"),
        (
            dict(source=PAGES, filters=({"column": "page_views", "operator": "=", "value": "x"},)),
            "filters[0].value",
        ),
        (
            dict(
                source=PAGES,
                filters=({"column": "page_views", "operator": "contains", "value": "1"},),
            ),
            "filters[0].operator",
        ),
        (dict(source=PAGES, period_column="page_path"), "period_column"),
        (
            dict(source=PAGES, aggregate="count", date_bucket={"column": "page_path"}),
            "date_bucket.column",
        ),
        (
            dict(source=PAGES, filters=({"column": "page_path", "operator": "=", "value": "\0"},)),
            "filters[0].value",
        ),
    ]
    for fields, field in cases:
        with pytest.raises(q.ReportError) as raised:
            q.build_query(rd.ReportDefinition(name="x", **fields), catalog)
        assert raised.value.field == field, fields


def test_an_injection_attempt_stays_data(built_home: Home) -> None:
    catalog = published_catalog(built_home)
    plain_sql = None
    for value in (INJECTION, 'x" or 1=1 --', "a'b", "%", "?", "$1"):
        definition = rd.ReportDefinition(
            name="x",
            source="marts.dim_contacts",
            columns=("email",),
            filters=(
                {"column": "email", "operator": "=", "value": value},
                {"column": "first_name", "operator": "in", "value": [value, "x"]},
            ),
        )
        sql, params = q.build_query(definition, catalog, segment_id=INJECTION)
        assert plain_sql in (None, sql)  # the SQL text never changes with the values
        plain_sql = sql
        assert params[:3] == [value, value, "x"] and params[3] == INJECTION
        assert published(built_home, sql, params) == []
    assert INJECTION not in plain_sql and "or 1=1" not in plain_sql


def _value(kind: str) -> st.SearchStrategy[str]:
    """Text a user could type that converts to the column's type."""
    if kind == "number":
        return st.one_of(
            st.integers(-(10**9), 10**9),
            st.floats(allow_nan=False, allow_infinity=False, width=32),
        ).map(str)
    if kind == "date":
        return st.dates(date(1900, 1, 1), date(2200, 1, 1)).map(date.isoformat)
    if kind == "timestamp":
        return st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1)).map(
            lambda moment: moment.isoformat(sep=" ")
        )
    if kind == "boolean":
        return st.sampled_from(["true", "false", "yes", "no", "1", "0"])
    return st.one_of(
        st.sampled_from([INJECTION, 'x" or 1=1 --', "", "?", "$1", "/blog", "%_"]),
        st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\0"), max_size=12),
    )


@st.composite
def definitions(draw, catalog: dict[str, dict[str, str]]) -> rd.ReportDefinition:
    source = draw(st.sampled_from(sorted(catalog)))
    names = list(catalog[source])
    kinds = {name: q.kind(catalog[source][name]) for name in names}
    temporal = [name for name in names if kinds[name] in q.TEMPORAL]
    aggregate = draw(st.sampled_from(rd.AGGREGATES))
    fitting = [n for n in names if aggregate in q.AGGREGATES_BY_KIND[kinds[n]]]
    if aggregate not in ("none", "count") and not fitting:
        aggregate = "count"
    group_by: list[str] = []
    bucket = None
    if aggregate == "none":
        columns = draw(st.lists(st.sampled_from(names), unique=True, max_size=4))
    else:
        pool = names if aggregate == "count" else fitting
        least = 0 if aggregate == "count" else 1
        columns = draw(st.lists(st.sampled_from(pool), unique=True, min_size=least, max_size=3))
        group_by = draw(st.lists(st.sampled_from(names), unique=True, max_size=2))
        if temporal and draw(st.booleans()):
            bucket = rd.DateBucket(
                column=draw(st.sampled_from(temporal)), unit=draw(st.sampled_from(rd.UNITS))
            )
    conditions = []
    for _ in range(draw(st.integers(0, 3))):
        column = draw(st.sampled_from(names))
        operator = draw(st.sampled_from(q.OPERATORS_BY_KIND[kinds[column]]))
        if operator in rd.NO_VALUE_OPERATORS:
            value = None
        elif operator == "in":
            value = draw(st.lists(_value(kinds[column]), min_size=1, max_size=3))
        else:
            value = draw(_value(kinds[column]))
        conditions.append({"column": column, "operator": operator, "value": value})
    charts = ["table"]
    if aggregate != "none" and (group_by or bucket):
        charts = list(rd.CHARTS)
    return rd.ReportDefinition(
        name="generated",
        source=source,
        columns=tuple(columns),
        aggregate=aggregate,
        group_by=tuple(group_by),
        date_bucket=bucket,
        period_column=draw(st.none() | st.sampled_from(temporal)) if temporal else None,
        filters=tuple(conditions),
        chart=draw(st.sampled_from(charts)),
        limit=draw(st.integers(1, 50)),
    )


NEUTRAL = {
    "number": "0",
    "date": "2000-01-01",
    "timestamp": "2000-01-01 00:00:00",
    "boolean": "true",
    "text": "n",
}


def neutral(definition: rd.ReportDefinition, catalog) -> rd.ReportDefinition:
    """The same definition with every filter value replaced (same kinds, same list lengths)."""
    columns = catalog[definition.source]
    replaced = []
    for condition in definition.filters:
        value = condition.value
        fixed = NEUTRAL.get(q.kind(columns[condition.column]), "n")
        if isinstance(value, tuple):
            value = [fixed] * len(value)
        elif value is not None:
            value = fixed
        replaced.append({**condition.model_dump(), "value": value})
    return definition.model_copy(update={"filters": tuple(rd.Filter(**f) for f in replaced)})


IDENTIFIER = re.compile(r'"((?:[^"]|"")*)"')


def test_generated_reports_run_with_catalog_names_and_parameters_only(built_home: Home) -> None:
    catalog = published_catalog(built_home)
    segments = [
        row[0]
        for row in published(built_home, "select distinct segment_id from marts.segment_membership")
    ]
    known = {part for source in catalog for part in source.split(".")}
    known |= {column for columns in catalog.values() for column in columns}
    con = duckdb.connect(str(published_path(built_home)), read_only=True)
    seen: list[rd.ReportDefinition] = []

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        definition=definitions(catalog),
        start=st.dates(date(2000, 1, 1), date(2100, 1, 1)),
        days=st.integers(1, 400),
        segment=st.none() | st.sampled_from([*segments, INJECTION]),
    )
    def check(definition, start, days, segment) -> None:
        seen.append(definition)
        stop = start + timedelta(days=days)
        sql, params = q.build_query(definition, catalog, start=start, stop=stop, segment_id=segment)
        # Only catalog identifiers (and the output names made of them), always quoted.
        shape = q.layout(definition, catalog)
        for name in IDENTIFIER.findall(sql):
            name = name.replace('""', '"')
            assert name in known or name in shape.columns, name
        # Values are parameters: other values, the same SQL.
        other, _ = q.build_query(
            neutral(definition, catalog),
            catalog,
            start=date(1999, 1, 1),
            stop=date(1999, 2, 1),
            segment_id=None if segment is None else "other",
        )
        assert other == sql
        assert sql.count("?") == len(params)
        result = con.execute(sql, params).fetchall()
        assert len(result) <= definition.limit
        assert [d[0] for d in con.description] == list(shape.columns)

    try:
        check()
    finally:
        con.close()
    # The examples covered the builder's shapes: rows, aggregates, buckets, filters, segments.
    assert {d.aggregate for d in seen} == set(rd.AGGREGATES)
    assert any(d.date_bucket for d in seen) and any(len(d.filters) > 1 for d in seen)
