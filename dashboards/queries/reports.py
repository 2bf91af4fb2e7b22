"""Reports: the report builder's SQL, generated from a definition and the published catalog.

``build_query`` is a pure function: a ``ReportDefinition`` and the catalog of the published
file (``schema.table`` → column → DuckDB type, from ``information_schema``) give one SQL
statement and its positional parameters. The SQL text is made only of constant keywords, the
whitelisted operators and aggregates, and identifiers found in the catalog, always
double-quoted; every value a user typed (filter values, the period, the segment, the row limit)
travels as a ``?`` parameter, converted to the column's type first. So the same definition with
other values gives the same SQL text. Results are aggregated in DuckDB and LIMITed: a report
never pulls more than ``limit`` rows into the page (``EXPORT_LIMIT`` for the CSV).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl

from dashboards import data
from dashboards.report_definitions import NO_VALUE_OPERATORS, ReportDefinition

# The sources a report may read: every rpt_* report model and these core marts.
CORE_MARTS = (
    "dim_contacts",
    "dim_companies",
    "fct_events",
    "fct_sessions",
    "fct_email_sends",
    "fct_points_ledger",
    "fct_stage_changes",
    "segment_membership",
)

CATALOG_SQL = """
select table_schema || '.' || table_name as source, column_name, data_type
from information_schema.columns
where table_catalog = current_database()
    and (
        (table_schema = 'reports' and starts_with(table_name, 'rpt_'))
        or (table_schema = 'marts' and list_contains(?, table_name))
    )
order by table_schema = 'marts', table_name, ordinal_position
"""

EXPORT_LIMIT = 100_000  # rows in a report's CSV download

# source → column → DuckDB type name, in the catalog's column order.
Catalog = Mapping[str, Mapping[str, str]]

# Where the sidebar's period applies by default: the event time of the marts, the day of the
# daily report models; none for dimensions and totals.
PERIOD_DEFAULTS = {
    "marts.fct_events": "occurred_at",
    "marts.fct_sessions": "started_at",
    "marts.fct_email_sends": "sent_at",
    "marts.fct_points_ledger": "occurred_at",
    "marts.fct_stage_changes": "changed_at",
}
DAILY_COLUMNS = ("day", "sent_on")


class ReportError(ValueError):
    """A definition that does not fit the catalog: names the field."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


# ---------------------------------------------------------------------------------- types

_NUMBER = re.compile(
    r"(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT"
    r"|FLOAT|DOUBLE|REAL|DECIMAL(\(\d+,\s*\d+\))?)"
)
_INTEGER = re.compile(r"U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)")


def kind(data_type: str) -> str:
    """A DuckDB type as the builder sees it: number, text, date, timestamp, boolean or other."""
    upper = data_type.upper()
    if _NUMBER.fullmatch(upper):
        return "number"
    if upper == "VARCHAR":
        return "text"
    if upper == "DATE":
        return "date"
    if upper.startswith("TIMESTAMP"):
        return "timestamp"
    if upper == "BOOLEAN":
        return "boolean"
    return "other"  # JSON, lists, structs: shown and counted, not compared


TEMPORAL = ("date", "timestamp")

# Which operators and aggregates each kind of column takes.
OPERATORS_BY_KIND = {
    "number": ("=", "!=", ">", ">=", "<", "<=", "in", "is empty", "is not empty"),
    "text": (
        "=",
        "!=",
        ">",
        ">=",
        "<",
        "<=",
        "contains",
        "starts with",
        "in",
        "is empty",
        "is not empty",
    ),  # fmt: skip
    "date": ("=", "!=", ">", ">=", "<", "<=", "in", "is empty", "is not empty"),
    "timestamp": ("=", "!=", ">", ">=", "<", "<=", "is empty", "is not empty"),
    "boolean": ("=", "!=", "is empty", "is not empty"),
    "other": ("is empty", "is not empty"),
}
AGGREGATES_BY_KIND = {
    "number": ("count", "count distinct", "sum", "avg", "min", "max"),
    "text": ("count", "count distinct", "min", "max"),
    "date": ("count", "count distinct", "min", "max"),
    "timestamp": ("count", "count distinct", "min", "max"),
    "boolean": ("count", "count distinct"),
    "other": ("count",),
}

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def convert(value: str, column_kind: str) -> object:
    """A typed value for a ``?`` parameter; ``ValueError`` says what was expected."""
    text = value.strip()
    if "\x00" in value:
        raise ValueError("a value cannot hold a NUL character")
    if column_kind == "number":
        try:
            return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a number") from None
    if column_kind == "boolean":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(f"{value!r} is not true or false")
    if column_kind == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if column_kind == "timestamp":
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a date-time (YYYY-MM-DD HH:MM)") from None
        if moment.tzinfo is not None:  # the marts hold naive UTC
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment
    return value  # text as typed: spaces may matter


# ---------------------------------------------------------------------------------- SQL


def quote(identifier: str) -> str:
    """A double-quoted SQL identifier (embedded quotes doubled)."""
    return '"' + identifier.replace('"', '""') + '"'


def relation(source: str) -> str:
    schema, table = source.split(".", 1)
    return f"{quote(schema)}.{quote(table)}"


_MEASURE_LABELS = {
    "count": "count of {}",
    "count distinct": "distinct {}",
    "sum": "sum of {}",
    "avg": "average {}",
    "min": "min {}",
    "max": "max {}",
}
_AGGREGATE_SQL = {
    "count": "count({})",
    "count distinct": "count(distinct {})",
    "sum": "sum({})",
    "avg": "avg({})",
    "min": "min({})",
    "max": "max({})",
}
ROWS_LABEL = "rows"


@dataclass(frozen=True)
class Layout:
    """The output columns of a report, by role (for charts and tables)."""

    bucket: str | None  # the date bucket's output column
    groups: tuple[str, ...]  # group by columns
    measures: tuple[str, ...]  # aggregate columns
    columns: tuple[str, ...]  # every output column, in order


def bucket_label(definition: ReportDefinition) -> str | None:
    bucket = definition.date_bucket
    if bucket is None:
        return None
    taken = set(definition.group_by) | {measure_label(definition, c) for c in definition.columns}
    return bucket.unit if bucket.unit not in taken else f"{bucket.unit} of {bucket.column}"


def measure_label(definition: ReportDefinition, column: str) -> str:
    return _MEASURE_LABELS[definition.aggregate].format(column)


def layout(definition: ReportDefinition, catalog: Catalog) -> Layout:
    """The output columns ``build_query`` gives for ``definition``."""
    if definition.aggregate == "none":
        columns = definition.columns or tuple(catalog.get(definition.source, {}))
        return Layout(None, (), (), tuple(columns))
    bucket = bucket_label(definition)
    if definition.columns:
        measures = tuple(measure_label(definition, c) for c in definition.columns)
    else:
        measures = (ROWS_LABEL,)
    groups = tuple(definition.group_by)
    return Layout(bucket, groups, measures, (*([bucket] if bucket else []), *groups, *measures))


def default_period_column(source: str, catalog: Catalog) -> str | None:
    """The column the sidebar period applies to when a report does not say."""
    columns = catalog.get(source, {})
    preferred = PERIOD_DEFAULTS.get(source)
    if preferred in columns:
        return preferred
    if source.startswith("reports."):
        for name in DAILY_COLUMNS:
            if kind(columns.get(name, "")) in TEMPORAL:
                return name
    return None


def _column(catalog_columns: Mapping[str, str], name: str, field: str, source: str) -> str:
    """The column's kind; ``ReportError`` when the source has no such column."""
    if name not in catalog_columns:
        raise ReportError(field, f"{source} has no column {name!r}")
    return kind(catalog_columns[name])


def _predicate(expression: str, column_kind: str, operator: str, value, params: list) -> str:
    """One filter's SQL; its value (if any) appended to ``params``."""
    if operator == "is empty":  # for text, '' is empty too
        blank = f" or {expression} = ''" if column_kind == "text" else ""
        return f"({expression} is null{blank})"
    if operator == "is not empty":
        blank = f" and {expression} <> ''" if column_kind == "text" else ""
        return f"({expression} is not null{blank})"
    if operator == "in":
        params.extend(value)
        return f"{expression} in ({', '.join('?' for _ in value)})"
    params.append(value)
    if operator == "contains":
        return f"contains(lower({expression}), lower(?))"
    if operator == "starts with":
        return f"starts_with(lower({expression}), lower(?))"
    sql_operator = "<>" if operator == "!=" else operator
    return f"{expression} {sql_operator} ?"


def build_query(
    definition: ReportDefinition,
    catalog: Catalog,
    *,
    start: date | None = None,
    stop: date | None = None,
    segment_id: str | None = None,
    limit: int | None = None,
) -> tuple[str, list]:
    """The SQL of a report and its ``?`` parameters.

    ``start``/``stop`` (stop exclusive) filter ``definition.period_column`` when both are set;
    ``segment_id`` keeps the rows of that segment's current members when the source has a
    ``contact_id`` column; ``limit`` overrides the definition's row limit (CSV export).
    Raises ``ReportError`` (naming the field) for a name the catalog lacks, an operator or
    aggregate the column's type does not take, or a value that does not convert.
    """
    source = definition.source
    if source not in catalog:
        raise ReportError("source", f"{source} is not a published report model or core mart")
    columns = catalog[source]
    where: list[str] = []
    params: list = []

    # --- select list (its parameters come first: none, the list holds no values)
    select: list[str] = []
    group_count = 0
    if definition.aggregate == "none":
        shown = definition.columns or tuple(columns)
        for index, name in enumerate(shown):
            _column(columns, name, f"columns[{index}]", source)
            select.append(quote(name))
    else:
        labels = layout(definition, catalog)
        if definition.date_bucket is not None:
            bucket = definition.date_bucket
            bucket_kind = _column(columns, bucket.column, "date_bucket.column", source)
            if bucket_kind not in TEMPORAL:
                raise ReportError(
                    "date_bucket.column", f"{bucket.column} is not a date or timestamp column"
                )
            select.append(
                f"cast(date_trunc('{bucket.unit}', {quote(bucket.column)}) as date) "
                f"as {quote(labels.bucket)}"
            )
            group_count += 1
        for index, name in enumerate(definition.group_by):
            _column(columns, name, f"group_by[{index}]", source)
            select.append(quote(name))
            group_count += 1
        if definition.columns:
            for index, name in enumerate(definition.columns):
                column_kind = _column(columns, name, f"columns[{index}]", source)
                if definition.aggregate not in AGGREGATES_BY_KIND[column_kind]:
                    raise ReportError(
                        f"columns[{index}]",
                        f"{name} ({columns[name]}) takes "
                        f"{', '.join(AGGREGATES_BY_KIND[column_kind])}, "
                        f"not {definition.aggregate}",
                    )
                function = _AGGREGATE_SQL[definition.aggregate].format(quote(name))
                if definition.aggregate == "sum":  # not HUGEINT / DECIMAL(38): plain numbers
                    integer = _INTEGER.fullmatch(columns[name].upper())
                    function = f"cast({function} as {'bigint' if integer else 'double'})"
                select.append(f"{function} as {quote(measure_label(definition, name))}")
        else:
            select.append(f"count(*) as {quote(ROWS_LABEL)}")

    # --- where: filters, period, segment (parameters in text order)
    for index, condition in enumerate(definition.filters):
        field = f"filters[{index}]"
        column_kind = _column(columns, condition.column, f"{field}.column", source)
        if condition.operator not in OPERATORS_BY_KIND[column_kind]:
            raise ReportError(
                f"{field}.operator",
                f"{condition.column} ({columns[condition.column]}) takes "
                f"{', '.join(OPERATORS_BY_KIND[column_kind])}",
            )
        value = None
        if condition.operator not in NO_VALUE_OPERATORS:
            try:
                if condition.operator == "in":
                    value = [convert(item, column_kind) for item in condition.value]
                else:
                    value = convert(condition.value, column_kind)
            except ValueError as error:
                raise ReportError(f"{field}.value", str(error)) from None
        where.append(
            _predicate(quote(condition.column), column_kind, condition.operator, value, params)
        )
    if definition.period_column is not None:
        period_kind = _column(columns, definition.period_column, "period_column", source)
        if period_kind not in TEMPORAL:
            raise ReportError(
                "period_column", f"{definition.period_column} is not a date or timestamp column"
            )
        if start is not None and stop is not None:
            where.append(
                f"{quote(definition.period_column)} >= ? and {quote(definition.period_column)} < ?"
            )
            params.extend([start, stop])
    if segment_id is not None and "contact_id" in columns:
        where.append(
            f"{quote('contact_id')} in (select contact_id from marts.segment_membership "
            "where segment_id = ?)"
        )
        params.append(segment_id)

    sql = f"select {', '.join(select)}\nfrom {relation(source)}"
    if where:
        sql += "\nwhere " + "\n    and ".join(where)
    if definition.aggregate != "none":
        if group_count:
            sql += "\ngroup by " + ", ".join(str(i) for i in range(1, group_count + 1))
        if definition.date_bucket is not None:
            order = [str(i) for i in range(1, group_count + 1)]
        else:  # biggest first, then by the groups
            order = [f"{group_count + 1} desc nulls last"]
            order += [str(i) for i in range(1, group_count + 1)]
        sql += "\norder by " + ", ".join(order)
    elif definition.period_column is not None:
        sql += f"\norder by {quote(definition.period_column)} desc nulls last"
    else:
        sql += "\norder by 1"
    sql += "\nlimit ?"
    params.append(int(limit if limit is not None else definition.limit))
    return sql, params


# ---------------------------------------------------------------------------- page access


def catalog() -> dict[str, dict[str, str]]:
    """The published sources a report may read, with their columns and types."""
    frame = data.query(CATALOG_SQL, [list(CORE_MARTS)])
    result: dict[str, dict[str, str]] = {}
    for source, column, data_type in frame.iter_rows():
        result.setdefault(source, {})[column] = data_type
    return result


def run(sql: str, params: list) -> pl.DataFrame:
    return data.query(sql, params)


def export(definition: ReportDefinition, catalog_: Catalog, **context) -> bytes:
    """The report as CSV, up to ``EXPORT_LIMIT`` rows (uncached; run on download)."""
    sql, params = build_query(definition, catalog_, limit=EXPORT_LIMIT, **context)
    return data.export_csv(sql, params)
