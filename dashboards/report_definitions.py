"""Report definitions of the Reports page: a pydantic model, saved as YAML under the home.

A definition says what to read (``source``: a ``schema.table`` of the published marts), what to
show (``columns``, an ``aggregate`` over them, ``group_by``, a ``date_bucket``), which rows
(``filters``, and the column the sidebar's period applies to) and how (``chart``). It holds
names only; ``dashboards.queries.reports.build_query`` checks them against the published
file's catalog and turns the definition into SQL. Saved definitions live in
``<home>/reports/<slug>.yaml``, one per report, e.g.::

    name: Blog page views per week
    source: reports.rpt_pages_daily
    columns: [page_views]
    aggregate: sum
    group_by: [page_path]
    date_bucket: {column: day, unit: week}
    period_column: day
    filters:
      - {column: page_path, operator: starts with, value: /blog}
    chart: line
    limit: 1000

A file that is not valid YAML, or does not fit the model, raises ``DefinitionError`` naming the
file and the field.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ingest.home import Home

Operator = Literal[
    "=", "!=", ">", ">=", "<", "<=", "contains", "starts with", "in", "is empty", "is not empty"
]
OPERATORS: tuple[str, ...] = Operator.__args__
NO_VALUE_OPERATORS = ("is empty", "is not empty")

Aggregate = Literal["none", "count", "count distinct", "sum", "avg", "min", "max"]
AGGREGATES: tuple[str, ...] = Aggregate.__args__

Unit = Literal["day", "week", "month"]
UNITS: tuple[str, ...] = Unit.__args__

Chart = Literal["table", "line", "bar", "area"]
CHARTS: tuple[str, ...] = Chart.__args__

DEFAULT_LIMIT = 1_000
MAX_LIMIT = 10_000  # rows a report table shows; the CSV export has its own cap
REPORTS_FOLDER = "reports"


class DefinitionError(ValueError):
    """A saved definition that cannot be used: names the file and the field."""

    def __init__(self, file: Path | str, field: str | None, message: str):
        self.file = str(file)
        self.field = field
        self.message = message
        where = f"{self.file}, field {field!r}" if field else self.file
        super().__init__(f"{where}: {message}")


class FieldProblem(ValueError):
    """A check across fields that still knows which field is wrong (for error messages)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, int | float | str):
        return str(value)
    raise ValueError(f"a value must be text, a number, a date or true/false, not {value!r}")


class Filter(BaseModel):
    """One condition ``column operator value``; ``in`` takes a list, ``is empty`` no value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str = Field(min_length=1)
    operator: Operator
    value: str | tuple[str, ...] | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        """YAML reads 2024-01-01 as a date and 5 as a number: values are kept as text."""
        if value is None:
            return None
        if isinstance(value, list | tuple):
            return tuple(_as_text(item) for item in value)
        return _as_text(value)

    @model_validator(mode="before")
    @classmethod
    def _split_in_list(cls, raw: object) -> object:
        """``in`` also takes 'a, b, c' (as typed in the page)."""
        if isinstance(raw, dict) and raw.get("operator") == "in":
            value = raw.get("value")
            if isinstance(value, str):
                return {**raw, "value": [v.strip() for v in value.split(",") if v.strip()]}
        return raw

    @model_validator(mode="after")
    def _value_fits_operator(self) -> Filter:
        if self.operator in NO_VALUE_OPERATORS:
            if self.value not in (None, "", ()):
                raise FieldProblem("value", f"'{self.operator}' takes no value")
        elif self.operator == "in":
            if not isinstance(self.value, tuple) or not self.value:
                raise FieldProblem("value", "'in' needs a list of values")
        elif not isinstance(self.value, str):
            raise FieldProblem("value", f"'{self.operator}' needs one value, not a list")
        return self


class DateBucket(BaseModel):
    """Rows grouped by the day, week (from Monday) or month of a date or timestamp column."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str = Field(min_length=1)
    unit: Unit = "day"


class ReportDefinition(BaseModel):
    """What a report reads, how it groups and filters, and how it is drawn.

    ``aggregate`` 'none' lists rows (``columns``, all when empty); any other aggregate applies
    to each of ``columns`` per ``date_bucket`` and ``group_by`` value ('count' with no columns
    counts rows). ``period_column`` is the date or timestamp column the sidebar's period
    filters on (none: every row). A chart needs an aggregate and a date bucket or group by.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=120)
    source: str = Field(description="schema.table, e.g. reports.rpt_pages_daily")
    columns: tuple[str, ...] = ()
    aggregate: Aggregate = "none"
    group_by: tuple[str, ...] = ()
    date_bucket: DateBucket | None = None
    period_column: str | None = None
    filters: tuple[Filter, ...] = ()
    chart: Chart = "table"
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)

    @field_validator("source")
    @classmethod
    def _qualified(cls, source: str) -> str:
        if not re.fullmatch(r"[^.\s]+\.[^.\s]+", source):
            raise ValueError("expected schema.table, e.g. reports.rpt_pages_daily")
        return source

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not slug(name):
            raise ValueError("a name needs at least one letter or digit")
        return name.strip()

    @model_validator(mode="after")
    def _consistent(self) -> ReportDefinition:
        if self.aggregate == "none":
            if self.group_by:
                raise FieldProblem("aggregate", "group_by needs an aggregate (count, sum, …)")
            if self.date_bucket is not None:
                raise FieldProblem("aggregate", "date_bucket needs an aggregate (count, sum, …)")
        elif self.aggregate != "count" and not self.columns:
            raise FieldProblem("columns", f"aggregate '{self.aggregate}' needs a column")
        if self.chart != "table" and (
            self.aggregate == "none" or (self.date_bucket is None and not self.group_by)
        ):
            raise FieldProblem(
                "chart",
                f"a {self.chart} chart needs an aggregate and a date bucket or group by "
                "(or chart: table)",
            )
        for field in ("columns", "group_by"):
            names = getattr(self, field)
            if len(set(names)) != len(names):
                raise FieldProblem(field, "lists a column twice")
        return self


def slug(name: str) -> str:
    """'Blog views / week' → 'blog-views-week' (the file name of a saved report)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].strip("-")


def reports_dir(home: Home) -> Path:
    return home.root / REPORTS_FOLDER


def saved(home: Home) -> list[Path]:
    """Every saved definition file of the home, by name."""
    folder = reports_dir(home)
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def to_yaml(definition: ReportDefinition) -> str:
    data = definition.model_dump(mode="json", exclude_none=True)
    data["filters"] = [
        {k: list(v) if isinstance(v, tuple) else v for k, v in f.items()} for f in data["filters"]
    ]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def save(home: Home, definition: ReportDefinition) -> Path:
    """Write ``<home>/reports/<slug>.yaml`` (replacing a report of the same name) atomically."""
    folder = reports_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{slug(definition.name)}.yaml"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".yaml.tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(to_yaml(definition))
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return target


def field_path(location: tuple) -> str:
    """pydantic's ('filters', 0, 'operator') → 'filters[0].operator'."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def parse(text: str, file: Path | str) -> ReportDefinition:
    """A definition from YAML text; ``DefinitionError`` names ``file`` and the field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise DefinitionError(file, None, f"not valid YAML{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise DefinitionError(file, None, "expected a mapping of fields (name: …, source: …)")
    try:
        return ReportDefinition.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        location = field_path(first["loc"])
        problem = first.get("ctx", {}).get("error")
        if isinstance(problem, FieldProblem):
            location = f"{location}.{problem.field}" if location else problem.field
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown field"
        elif first["type"] == "missing":
            message = "required field missing"
        extra = len(error.errors()) - 1
        if extra:
            message += f" (and {extra} more problem{'s' if extra > 1 else ''})"
        raise DefinitionError(file, location or None, message) from None


def load(path: Path) -> ReportDefinition:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DefinitionError(path, None, f"cannot be read: {error}") from None
    return parse(text, path)
