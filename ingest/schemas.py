"""Typed schemas of the raw tables, and the polars validation that applies them.

A source mapper hands over a frame of *text* columns named after a schema's fields (plus
``_row``, the row number in the file); ``validate`` returns the typed rows that pass and, for
the rest, one quarantine row each naming the fields at fault and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from ingest import fields
from ingest.vocabulary import CATALOGS

# Kind of a field → (DuckDB column type, parser, what a failure is called).
FIELD_TYPES: dict[str, tuple[str, Callable[[pl.Expr], pl.Expr] | None, str]] = {
    "text": ("VARCHAR", None, ""),
    "email": ("VARCHAR", fields.parse_email, "malformed email"),
    "int": ("BIGINT", fields.parse_int, "not a whole number"),
    "float": ("DOUBLE", fields.parse_float, "not a number"),
    "bool": ("BOOLEAN", fields.parse_bool, "not a yes/no value"),
    "timestamp": ("TIMESTAMP", fields.parse_timestamp, "unparseable timestamp"),
    "json": ("JSON", fields.parse_json_object, "not a JSON object"),
}

# Plausible time of an event, and of a record's own dates (a contact's date_added,
# date_modified, date_identified, last_active; a catalog item's created_at): anything earlier
# is an epoch-zero or unit mistake (1970-01-01, seconds read as milliseconds), anything more
# than a day ahead of the load a clock or unit mistake (2100-01-01). Such a row is quarantined
# with the value, like an unparseable one. Dates that are data about the person (a birthday in
# custom fields) are not checked.
EARLIEST = datetime(1995, 1, 1)


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = "text"
    required: bool = False
    in_time_window: bool = False  # timestamps: between EARLIEST and load time + 1 day

    @property
    def sql_type(self) -> str:
        return FIELD_TYPES[self.kind][0]


@dataclass(frozen=True)
class RowRule:
    """A rule across fields: rows where ``holds`` is false are quarantined with ``reason``."""

    fields: tuple[str, ...]
    holds: Callable[[], pl.Expr]
    reason: str


@dataclass(frozen=True)
class TableSchema:
    table: str
    fields: tuple[Field, ...]
    rules: tuple[RowRule, ...] = ()
    extras_field: str | None = None  # JSON column that keeps source columns not in the schema
    aliases: dict[str, str] = field(default_factory=dict)  # normalised header → field name

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]


META_COLUMNS = {
    "_source": "VARCHAR",
    "_source_row": "BIGINT",
    "_load_id": "VARCHAR",
    "_loaded_at": "TIMESTAMP",
}


def _either(a: str, b: str) -> Callable[[], pl.Expr]:
    return lambda: pl.col(a).is_not_null() | pl.col(b).is_not_null()


CONTACTS = TableSchema(
    table="contacts",
    fields=(
        Field("email", "email"),
        Field("external_id"),
        Field("title"),
        Field("firstname"),
        Field("lastname"),
        Field("company"),
        Field("position"),
        Field("phone"),
        Field("mobile"),
        Field("address1"),
        Field("address2"),
        Field("city"),
        Field("state"),
        Field("zipcode"),
        Field("country"),
        Field("timezone"),
        Field("preferred_locale"),
        Field("website"),
        Field("facebook"),
        Field("twitter"),
        Field("linkedin"),
        Field("ip_address"),
        Field("points", "int"),
        Field("stage"),
        Field("owner"),
        Field("tags"),
        Field("date_added", "timestamp", in_time_window=True),
        Field("date_modified", "timestamp", in_time_window=True),
        Field("date_identified", "timestamp", in_time_window=True),
        Field("last_active", "timestamp", in_time_window=True),
        Field("custom_fields", "json"),
    ),
    extras_field="custom_fields",
    aliases={
        "id": "external_id",
        "contact_id": "external_id",
        "first_name": "firstname",
        "last_name": "lastname",
        "e_mail": "email",
        "email_address": "email",
        "job_title": "position",
        "mobile_phone": "mobile",
        "zip": "zipcode",
        "zip_code": "zipcode",
        "postal_code": "zipcode",
        "ip": "ip_address",
        "ipaddress": "ip_address",
        "preferredlocale": "preferred_locale",
        "locale": "preferred_locale",
        "dateadded": "date_added",
        "datemodified": "date_modified",
        "dateidentified": "date_identified",
        "lastactive": "last_active",
    },
)

COMPANIES = TableSchema(
    table="companies",
    fields=(
        Field("companyname", required=True),
        Field("external_id"),
        Field("companyemail", "email"),
        Field("companywebsite"),
        Field("companyindustry"),
        Field("companynumber_of_employees", "int"),
        Field("companyannual_revenue", "float"),
        Field("companyphone"),
        Field("companyaddress1"),
        Field("companyaddress2"),
        Field("companycity"),
        Field("companystate"),
        Field("companyzipcode"),
        Field("companycountry"),
        Field("companydescription"),
        Field("custom_fields", "json"),
    ),
    extras_field="custom_fields",
    aliases={
        "id": "external_id",
        "company_id": "external_id",
        "company": "companyname",
        "company_name": "companyname",
        "name": "companyname",
        "website": "companywebsite",
        "industry": "companyindustry",
        "number_of_employees": "companynumber_of_employees",
        "employees": "companynumber_of_employees",
        "annual_revenue": "companyannual_revenue",
        "country": "companycountry",
        "city": "companycity",
        "state": "companystate",
    },
)

EVENTS = TableSchema(
    table="events",
    fields=(
        Field("event_id", required=True),
        Field("event_type", required=True),
        Field("occurred_at", "timestamp", required=True, in_time_window=True),
        Field("anonymous_id"),
        Field("contact_key"),
        Field("properties", "json"),
    ),
    rules=(
        RowRule(
            ("anonymous_id", "contact_key"),
            _either("anonymous_id", "contact_key"),
            "no anonymous id or contact",
        ),
        RowRule(
            ("event_type",),
            lambda: (
                pl.col("event_type").is_null()
                | pl.col("event_type").str.contains(r"^[a-z][a-z0-9_]*$")
            ),
            "event type must be snake_case",
        ),
    ),
    extras_field="properties",
    aliases={
        "id": "event_id",
        "type": "event_type",
        "timestamp": "occurred_at",
        "anonymousid": "anonymous_id",
        "email": "contact_key",
    },
)

# Catalog columns beyond the shared ``id``/``published``/``created_at``; the rest of a
# catalog file's columns are kept in ``attributes``.
_CATALOG_COLUMNS: dict[str, tuple[str, ...]] = {
    "emails": ("name", "subject", "email_type", "category", "from_address", "language"),
    "sms": ("name", "message", "category", "language"),
    "forms": ("name", "alias", "form_type", "category"),
    "pages": ("title", "alias", "url", "language", "category"),
    "assets": ("title", "alias", "url", "extension", "category"),
    "focus_items": ("name", "focus_type", "style", "url"),
    "dynamic_content": ("name", "slot_name", "variant", "segment_hint", "content"),
    "campaigns": ("name", "description", "category"),
}
assert set(_CATALOG_COLUMNS) == set(CATALOGS)

_CATALOG_ALIASES = {
    "ispublished": "published",
    "is_published": "published",
    "dateadded": "created_at",
    "date_added": "created_at",
    "formtype": "form_type",
    "emailtype": "email_type",
    "fromaddress": "from_address",
    "slotname": "slot_name",
}


def catalog_schema(name: str) -> TableSchema:
    return TableSchema(
        table=name,
        fields=(
            Field("id", required=True),
            *(Field(column) for column in _CATALOG_COLUMNS[name]),
            Field("published", "bool"),
            Field("created_at", "timestamp", in_time_window=True),
            Field("attributes", "json"),
        ),
        extras_field="attributes",
        aliases=_CATALOG_ALIASES,
    )


# --- The marketing team's desk (issue 12): files under landing/desk/<table>/ ---------------


def _not_negative(*names: str) -> Callable[[], pl.Expr]:
    return lambda: pl.all_horizontal(*(pl.col(n).is_null() | (pl.col(n) >= 0) for n in names))


# Decidim's open-data export of proposals, flattened: `title/en`, `endorsements/total_count`,
# `category/name/en` … (normalised headers `title_en`, `endorsements_total_count`, …).
INTEGRATION_PROPOSALS = TableSchema(
    table="integration_proposals",
    fields=(
        Field("id", required=True),
        Field("reference", required=True),
        Field("title"),
        Field("state"),
        Field("supports", "int"),
        Field("endorsements", "int"),
        Field("comments", "int"),
        Field("followers", "int"),
        Field("published_at", "timestamp", in_time_window=True),
        Field("url"),
        Field("category"),
        Field("attributes", "json"),
    ),
    rules=(
        RowRule(
            ("supports", "endorsements", "comments", "followers"),
            _not_negative("supports", "endorsements", "comments", "followers"),
            "counts must not be negative",
        ),
    ),
    extras_field="attributes",
    aliases={
        "title_en": "title",
        "endorsements_total_count": "endorsements",
        "category_name_en": "category",
        "comments_count": "comments",
        "followers_count": "followers",
        "supports_count": "supports",
    },
)

# One row per vote: a member's support of a proposal (target = the proposal's reference) or
# a quarterly home-page vote for a listed integration (target = the integration's id).
INTEGRATION_VOTES = TableSchema(
    table="integration_votes",
    fields=(
        Field("voter", required=True),
        Field("target", required=True),
        Field("voted_at", "timestamp", required=True, in_time_window=True),
        Field("attributes", "json"),
    ),
    extras_field="attributes",
    aliases={
        "voter_id": "voter",
        "member_id": "voter",
        "integration": "target",
        "integration_id": "target",
        "proposal_reference": "target",
        "reference": "target",
    },
)

# Membership periods: a member may join, leave and join again (one row per period).
MEMBERS = TableSchema(
    table="members",
    fields=(
        Field("member_id", required=True),
        Field("email", "email"),
        Field("name"),
        Field("member_from", "timestamp", required=True, in_time_window=True),
        Field("member_until", "timestamp"),
        Field("attributes", "json"),
    ),
    rules=(
        RowRule(
            ("member_from", "member_until"),
            lambda: (
                pl.col("member_until").is_null() | (pl.col("member_until") >= pl.col("member_from"))
            ),
            "membership ends before it starts",
        ),
    ),
    extras_field="attributes",
    aliases={"id": "member_id", "from": "member_from", "until": "member_until"},
)

INTEGRATIONS = TableSchema(
    table="integrations",
    fields=(
        Field("integration_id", required=True),
        Field("name", required=True),
        Field("proposal_reference"),
        Field("repository_url"),
        Field("licence"),
        Field("is_open_source", "bool", required=True),
        Field("is_partner", "bool", required=True),
        Field("is_member", "bool", required=True),
        Field("maintainer_email", "email"),
        Field("use_case_score", "int"),
        Field("last_release_at", "timestamp", in_time_window=True),
        Field("last_commit_at", "timestamp", in_time_window=True),
        Field("last_reviewed_at", "timestamp", in_time_window=True),
        Field("attributes", "json"),
    ),
    rules=(
        RowRule(("use_case_score",), _not_negative("use_case_score"), "score must not be negative"),
    ),
    extras_field="attributes",
    aliases={
        "id": "integration_id",
        "license": "licence",
        "repository": "repository_url",
        "open_source": "is_open_source",
        "partner": "is_partner",
        "member": "is_member",
        "maintainer": "maintainer_email",
        "last_release_date": "last_release_at",
        "last_commit_date": "last_commit_at",
        "last_content_review_date": "last_reviewed_at",
        "last_review_date": "last_reviewed_at",
    },
)

# Social monitoring: posts that mention the product or carry its hashtags (JSON lines from a
# listening tool). `hashtags` is kept as text: a JSON array or a delimited list, split in dbt.
SOCIAL_MENTIONS = TableSchema(
    table="social_mentions",
    fields=(
        Field("platform", required=True),
        Field("post_id", required=True),
        Field("author_handle", required=True),
        Field("author_name"),
        Field("text"),
        Field("hashtags"),
        Field("posted_at", "timestamp", required=True, in_time_window=True),
        Field("url"),
        Field("attributes", "json"),
    ),
    extras_field="attributes",
    aliases={
        "network": "platform",
        "id": "post_id",
        "handle": "author_handle",
        "username": "author_handle",
        "screen_name": "author_handle",
        "author": "author_handle",
        "name": "author_name",
        "content": "text",
        "body": "text",
        "tags": "hashtags",
        "created_at": "posted_at",
        "timestamp": "posted_at",
        "link": "url",
    },
)

# Channel scorecards: Google Search Console's performance export (one row per day, query and
# page; `ctr` is kept as exported text, "3.5%" or 0.035, and recomputed from clicks and
# impressions) and social analytics per post and day (a row without post_id: the account).
SEARCH_CONSOLE = TableSchema(
    table="search_console",
    fields=(
        Field("date", "timestamp", required=True, in_time_window=True),
        Field("query", required=True),
        Field("page"),
        Field("clicks", "int", required=True),
        Field("impressions", "int", required=True),
        Field("ctr"),
        Field("position", "float"),
        Field("attributes", "json"),
    ),
    rules=(
        RowRule(("clicks", "impressions"), _not_negative("clicks", "impressions"), "negative"),
        RowRule(
            ("clicks", "impressions"),
            lambda: pl.col("clicks") <= pl.col("impressions"),
            "more clicks than impressions",
        ),
        RowRule(
            ("position",),
            lambda: pl.col("position").is_null() | (pl.col("position") >= 1),
            "position below 1",
        ),
    ),
    extras_field="attributes",
    aliases={
        "day": "date",
        "top_queries": "query",
        "queries": "query",
        "search_query": "query",
        "top_pages": "page",
        "landing_page": "page",
        "url": "page",
        "average_position": "position",
        "avg_position": "position",
        "url_clicks": "clicks",
    },
)

SOCIAL_ANALYTICS = TableSchema(
    table="social_analytics",
    fields=(
        Field("platform", required=True),
        Field("date", "timestamp", required=True, in_time_window=True),
        Field("post_id"),
        Field("followers", "int"),
        Field("impressions", "int"),
        Field("engagements", "int"),
        Field("attributes", "json"),
    ),
    rules=(
        RowRule(
            ("followers", "impressions", "engagements"),
            _not_negative("followers", "impressions", "engagements"),
            "counts must not be negative",
        ),
    ),
    extras_field="attributes",
    aliases={"network": "platform", "day": "date", "post": "post_id", "id": "post_id"},
)

DESK_TABLES: dict[str, TableSchema] = {
    schema.table: schema
    for schema in (
        INTEGRATION_PROPOSALS,
        INTEGRATION_VOTES,
        MEMBERS,
        INTEGRATIONS,
        SOCIAL_MENTIONS,
        SEARCH_CONSOLE,
        SOCIAL_ANALYTICS,
    )
}

TABLES: dict[str, TableSchema] = {
    "contacts": CONTACTS,
    "companies": COMPANIES,
    "events": EVENTS,
    **{name: catalog_schema(name) for name in CATALOGS},
    **DESK_TABLES,
}


@dataclass
class Validated:
    rows: pl.DataFrame  # typed columns of the schema, plus _source_row
    quarantine: pl.DataFrame  # _source_row, field, reason, raw_text


def validate(frame: pl.DataFrame, schema: TableSchema, loaded_at: datetime) -> Validated:
    """Type every field; rows with any problem go to quarantine with all their reasons."""
    missing = [n for n in schema.names if n not in frame.columns]
    frame = frame.with_columns(pl.lit(None, pl.String).alias(n) for n in missing)
    # Parse each field once; the checks below compare the parsed column with its text.
    text = {f.name: fields.clean_text(pl.col(f.name)) for f in schema.fields}
    frame = frame.with_columns(
        _typed(f, text[f.name]).alias(f"__typed_{f.name}") for f in schema.fields
    )
    typed = {f.name: pl.col(f"__typed_{f.name}") for f in schema.fields}

    problems: list[tuple[str, pl.Expr]] = []
    for f in schema.fields:
        value, raw = typed[f.name], text[f.name]
        if f.required:
            problems.append((f.name, pl.when(raw.is_null()).then(pl.lit("missing"))))
        if FIELD_TYPES[f.kind][1] is not None:
            failed = raw.is_not_null() & value.is_null()
            reason = pl.lit(f"{FIELD_TYPES[f.kind][2]} '") + _preview(raw) + pl.lit("'")
            problems.append((f.name, pl.when(failed).then(reason)))
        if f.in_time_window:
            latest = pl.lit(loaded_at) + pl.duration(days=1)
            outside = (value < pl.lit(EARLIEST)) | (value > latest)
            reason = pl.lit("timestamp outside 1995-01-01 … load time + 1 day: ") + raw
            problems.append((f.name, pl.when(outside).then(reason)))
    # A row with no value at all is a stray line, not a record.
    empty = pl.all_horizontal(*(raw.is_null() for raw in text.values()))
    problems.append(("*", pl.when(empty).then(pl.lit("empty row"))))

    checked = frame.select(
        "_source_row",
        *(typed[n].alias(n) for n in schema.names),
        _fields=_join([pl.when(r.is_not_null()).then(pl.lit(n)) for n, r in problems], ", "),
        _reasons=_join([pl.lit(f"{n}: ") + r for n, r in problems], "; "),
    )
    for rule in schema.rules:
        # Rules see the typed values: a malformed email already counts as absent.
        broken = ~rule.holds().fill_null(False)
        names = ", ".join(rule.fields)
        checked = checked.with_columns(
            _fields=_join([pl.col("_fields"), pl.when(broken).then(pl.lit(names))], ", "),
            _reasons=_join(
                [pl.col("_reasons"), pl.when(broken).then(pl.lit(f"{names}: {rule.reason}"))],
                "; ",
            ),
        )

    bad = pl.col("_reasons").is_not_null()
    quarantine = checked.filter(bad).select(
        pl.col("_source_row").cast(pl.Int64), field="_fields", reason="_reasons"
    )
    rows = checked.filter(~bad).drop("_fields", "_reasons")
    return Validated(rows=rows, quarantine=quarantine)


def _typed(f: Field, raw: pl.Expr) -> pl.Expr:
    parser = FIELD_TYPES[f.kind][1]
    return parser(raw) if parser else raw


def _preview(raw: pl.Expr, limit: int = 80) -> pl.Expr:
    return pl.when(raw.str.len_chars() > limit).then(raw.str.slice(0, limit) + "…").otherwise(raw)


def _join(parts: list[pl.Expr], separator: str) -> pl.Expr:
    joined = pl.concat_str(parts, separator=separator, ignore_nulls=True)
    return pl.when(joined.str.len_bytes() > 0).then(joined)
