"""Source mapping: what a landing file holds → text columns named after a raw table's fields.

The folder tells the kind (``contacts``, ``companies``, ``events``, ``catalogs/<name>``,
``mautic``); Mautic exports are recognised by their columns. Mapping renames, gathers unknown
columns into the table's JSON column and, for tracking data, turns Segment/RudderStack calls
into funnelhouse events. Typing and validation happen afterwards, in ``schemas.validate``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from ingest import fields
from ingest.readers import (
    RAW,
    ROW,
    Batch,
    UnreadableFile,
    flatten_json,
    reject_frame,
    truncate,
)
from ingest.schemas import COMPANIES, CONTACTS, DESK_TABLES, EVENTS, TABLES, TableSchema
from ingest.vocabulary import CALL_EVENT_TYPES, CATALOGS, TRACK_EVENT_TYPES


@dataclass
class Mapped:
    schema: TableSchema
    frame: pl.DataFrame  # text columns named after schema fields, plus ROW
    rejects: pl.DataFrame  # rows the mapping itself could not place
    source: pl.DataFrame  # the batch as read, to show a quarantined row as it was
    raw_text: pl.Expr  # over ``source``: one row as text

    def quarantined_text(self, rows: pl.DataFrame) -> pl.DataFrame:
        """ROW → raw_text for the given rows of this batch."""
        picked = self.source.join(rows.select(ROW), on=ROW, how="semi")
        return picked.select(ROW, raw_text=truncate(self.raw_text))


def target_schema(kind: str, catalog: str | None) -> TableSchema | None:
    """The raw table a landing folder feeds (``None`` for Mautic: decided per file);
    ``catalog`` is the subfolder of ``catalogs/`` and ``desk/``."""
    if kind == "catalogs":
        if catalog not in CATALOGS:
            known = ", ".join(CATALOGS)
            raise UnreadableFile(f"unknown catalog folder '{catalog}' (known: {known})")
        return TABLES[catalog]
    if kind == "desk":
        if catalog not in DESK_TABLES:
            known = ", ".join(DESK_TABLES)
            raise UnreadableFile(f"unknown desk folder '{catalog}' (known: {known})")
        return DESK_TABLES[catalog]
    if kind == "collector":
        return EVENTS
    return None if kind == "mautic" else TABLES[kind]


def map_batch(
    batch: Batch, kind: str, catalog: str | None, is_json: bool, file_time: datetime
) -> Mapped:
    if kind in ("events", "collector") and is_json:
        return _segment_events(batch)
    if is_json:
        batch = flatten_json(batch)
    if kind == "mautic":
        return _mautic(batch, file_time)
    return _tabular(batch, target_schema(kind, catalog))


# --- Tabular files: rename to fields, keep the rest as JSON ---------------------------------


def normalize_header(name: str) -> str:
    """'First Name' → 'first_name', 'dateHit' → 'datehit': how aliases are looked up."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lstrip("\ufeff").lower()).strip("_")


def _tabular(batch: Batch, schema: TableSchema, renames: dict[str, str] | None = None) -> Mapped:
    frame = batch.frame
    source_columns = [c for c in frame.columns if c not in (ROW, RAW)]
    aliases = {**schema.aliases, **(renames or {})}
    chosen: dict[str, str] = {}
    extras: dict[str, str] = {}
    # The file's own column of the table's JSON field (custom_fields, properties, …): the
    # other columns are merged into it, it is not one of them.
    own = next((c for c in source_columns if normalize_header(c) == schema.extras_field), None)
    for column in source_columns:
        if column == own:
            continue
        key = normalize_header(column)
        target = aliases.get(key, key)
        if (
            target in schema.names
            and target not in chosen.values()
            and target != schema.extras_field
        ):
            chosen[column] = target
        else:
            name, suffix = key or column, 1
            while name in extras:  # two headers that read the same: keep both
                suffix += 1
                name = f"{key or column}_{suffix}"
            extras[name] = column
    mapped = frame.select(
        ROW,
        *(pl.col(source).alias(target) for source, target in chosen.items()),
        *([pl.col(own).alias(schema.extras_field)] if own else []),
        _extras_json(extras).alias("_extras"),
    )
    if schema.extras_field:
        mapped = _merge_extras(mapped, schema.extras_field)
    raw = pl.col(RAW) if RAW in frame.columns else _joined(source_columns)
    return Mapped(schema, mapped.drop("_extras", strict=False), batch.rejects, frame, raw)


def _extras_json(extras: dict[str, str]) -> pl.Expr:
    if not extras:
        return pl.lit(None, pl.String)
    values = [fields.clean_text(pl.col(source)).alias(key) for key, source in extras.items()]
    return pl.struct(values).struct.json_encode()


def _merge_extras(mapped: pl.DataFrame, extras_field: str) -> pl.DataFrame:
    """Extra columns join the JSON column the file may already have; nulls are dropped."""
    own = extras_field if extras_field in mapped.columns else "null"
    with duckdb.connect() as con:
        merged = con.sql(
            f"""select * exclude ({'"' + extras_field + '", ' if own != "null" else ""}_extras),
              case
                when _extras is null then {own}
                when {own} is null then json_merge_patch('{{}}', _extras)::varchar
                when json_valid({own}) and ltrim({own})[1] = '{{'
                  then json_merge_patch({own}, _extras)::varchar
                else {own}
              end as "{extras_field}"
            from mapped"""
        ).pl()
    return merged


# --- Segment / RudderStack calls → events ---------------------------------------------------

# Parsed once per line into the fields we read (json_transform); free-form parts stay JSON.
_SEGMENT_SHAPE = json.dumps(
    {
        **dict.fromkeys(
            [
                "type",
                "event",
                "event_type",
                "messageId",
                "event_id",
                "id",
                "timestamp",
                "originalTimestamp",
                "occurred_at",
                "sentAt",
                "receivedAt",
                "anonymousId",
                "anonymous_id",
                "userId",
                "contact_key",
                "name",
            ],
            "VARCHAR",
        ),
        "traits": "JSON",
        "properties": "JSON",
        "context": {
            "traits": "JSON",
            "page": "JSON",
            "campaign": dict.fromkeys(["source", "medium", "name", "term", "content"], "VARCHAR"),
            "userAgent": "VARCHAR",
            "ip": "VARCHAR",
            "locale": "VARCHAR",
        },
    }
)

# Fields that name or identify something: text (a number is taken as its digits), never an
# object or array, which json_transform would silently turn into its JSON text.
_TEXT_KEYS = (
    "type",
    "event",
    "event_type",
    "messageId",
    "event_id",
    "id",
    "anonymousId",
    "anonymous_id",
    "userId",
    "contact_key",
)


def _wrong_type_sql() -> str:
    """SQL: '<key>: expected text, got a JSON object' for each such key of the call, or null.
    Only a value that starts like an object or array is looked up again in the raw line."""
    checks = ", ".join(
        f"""case when left(c.{key}, 1) in ('{{', '[')
             and json_type({RAW}, '$.{key}') in ('OBJECT', 'ARRAY')
           then '{key}: expected text, got a JSON ' || lower(json_type({RAW}, '$.{key}')) end"""
        for key in _TEXT_KEYS
    )
    return f"nullif(concat_ws('; ', {checks}), '')"


_SEGMENT_SQL = f"""
with calls as (
  select {ROW}, {RAW}, json_transform({RAW}, '{_SEGMENT_SHAPE}') as c from frame
), fields as (
  select {ROW}, {_wrong_type_sql()} as wrong_types,
    lower(c.type) as call_type, c.event as event_name,
    c.event_type as flat_event_type,
    coalesce(c.messageId, c.event_id, c.id) as event_id,
    coalesce(c.timestamp, c.originalTimestamp, c.occurred_at, c.sentAt, c.receivedAt)
      as occurred_at,
    coalesce(c.anonymousId, c.anonymous_id) as anonymous_id,
    c.userId as user_id,
    coalesce(c.traits->>'email', c.context.traits->>'email', c.properties->>'email') as email,
    c.contact_key as flat_contact_key,
    case when call_type = 'identify' then coalesce(c.traits, c.context.traits)
         else c.properties end as own_properties,
    case when call_type in ('page', 'screen') and json_type(c.context.page) = 'OBJECT'
         then c.context.page else '{{}}'::json end as page,
    json_object(
      'utm_source', c.context.campaign.source,
      'utm_medium', c.context.campaign.medium,
      'utm_campaign', c.context.campaign.name,
      'utm_term', c.context.campaign.term,
      'utm_content', c.context.campaign.content,
      'user_agent', c.context.userAgent,
      'ip', c.context.ip,
      'locale', c.context.locale,
      'page_name', case when call_type = 'page' then c.name end,
      'user_id', c.userId
    ) as context
  from calls
)
select * exclude (own_properties, page, context),
  case when own_properties is null or json_type(own_properties) = 'OBJECT'
       then json_merge_patch(page, coalesce(own_properties, '{{}}'::json), context)::varchar
       else own_properties::varchar end as properties
from fields
"""


def _snake_case(expr: pl.Expr) -> pl.Expr:
    return expr.str.to_lowercase().str.replace_all(r"[^0-9a-z]+", "_").str.strip_chars("_")


def _segment_events(batch: Batch) -> Mapped:
    """Segment spec calls (``type`` page/identify/track) or flat funnelhouse events per line."""
    frame = batch.frame  # noqa: F841 (read by the SQL)
    with duckdb.connect() as con:
        calls = con.sql(_SEGMENT_SQL).pl()
    track_type = pl.col("event_name").replace_strict(
        TRACK_EVENT_TYPES, default=_snake_case(pl.col("event_name"))
    )
    call = pl.col("call_type")
    calls = calls.with_columns(
        event_type=pl.when(call == "track")
        .then(track_type)
        .when(call.is_in(["page", "screen"]))
        .then(pl.lit(CALL_EVENT_TYPES["page"]))
        .when(call == "identify")
        .then(pl.lit(CALL_EVENT_TYPES["identify"]))
        .when(call.is_null())
        .then(pl.col("flat_event_type")),
        email_valid=fields.parse_email(pl.col("email")),
    )
    wrong = pl.col("wrong_types").is_not_null()
    supported = ~wrong & (call.is_null() | call.is_in(["track", "page", "screen", "identify"]))
    bad_email = pl.col("email").is_not_null() & pl.col("email_valid").is_null()
    with_raw = calls.join(batch.frame.select(ROW, RAW), on=ROW, how="left")
    rejected = pl.concat(
        [
            reject_frame(
                with_raw.filter(wrong),
                pl.col("wrong_types").str.replace_all(r":[^;]*(?:; )?", ", ").str.strip_chars(", "),
                pl.col("wrong_types"),
                pl.col(RAW),
            ),
            reject_frame(
                with_raw.filter(~wrong & ~supported),
                "type",
                pl.lit("unsupported Segment call type '") + call + "'",
                pl.col(RAW),
            ),
            reject_frame(
                with_raw.filter(supported & bad_email),
                "traits.email",
                pl.lit("malformed email '") + pl.col("email") + "'",
                pl.col(RAW),
            ),
        ]
    )
    events = with_raw.filter(supported & ~bad_email).select(
        ROW,
        RAW,
        "event_id",
        "event_type",
        "occurred_at",
        "anonymous_id",
        "properties",
        contact_key=pl.coalesce("email_valid", "user_id", "flat_contact_key"),
    )
    return Mapped(EVENTS, events, pl.concat([batch.rejects, rejected]), batch.frame, pl.col(RAW))


# --- Mautic exports -------------------------------------------------------------------------


def _mautic(batch: Batch, file_time: datetime) -> Mapped:
    """Contacts, companies, page hits, form results or catalogs, told apart by columns."""
    # Mautic's dumps spell a missing value as the word NULL.
    text_columns = [c for c in batch.frame.columns if c not in (ROW, RAW)]
    batch = Batch(
        batch.frame.with_columns(pl.col(text_columns).replace("NULL", None)), batch.rejects
    )
    columns = {normalize_header(c): c for c in batch.frame.columns if c not in (ROW, RAW)}
    if {"datehit", "trackingid"} <= columns.keys():
        return _mautic_page_hits(batch, columns)
    if {"form", "email"} <= columns.keys():
        return _mautic_form_results(batch, columns, file_time)
    if "formtype" in columns or "postaction" in columns:
        return _mautic_catalog(batch, "forms")
    if {"title", "alias", "template"} <= columns.keys():
        return _mautic_catalog(batch, "pages")
    if "companyname" in columns and "email" not in columns:
        return _tabular(batch, COMPANIES)
    if "email" in columns:
        return _tabular(batch, CONTACTS)
    raise UnreadableFile(
        "cannot tell what this Mautic export holds: expected contacts (email), companies "
        "(companyname), page hits (dateHit, trackingId), form results (form, email), forms "
        "(formType) or landing pages (title, alias, template); "
        f"found columns {', '.join(columns) or 'none'}"
    )


def _mautic_catalog(batch: Batch, catalog: str) -> Mapped:
    """Mautic's fixture catalogs carry no id: Mautic numbers rows in file order on import."""
    if "id" not in {normalize_header(c) for c in batch.frame.columns}:
        row_id = (pl.col(ROW) - 1).cast(pl.String).alias("id")
        batch = Batch(batch.frame.with_columns(row_id), batch.rejects)
    return _tabular(batch, TABLES[catalog])


def _dedupe_rank(*columns: str) -> pl.Expr:
    """1, 2, … among rows with the same values: keeps ids stable yet unique for repeats."""
    return (pl.int_range(pl.len()).over(columns) + 1).cast(pl.String)


def _mautic_page_hits(batch: Batch, columns: dict[str, str]) -> Mapped:
    col = {key: fields.clean_text(pl.col(source)) for key, source in columns.items()}
    known = {
        "datehit",
        "trackingid",
        "page",
        "url",
        "referer",
        "useragent",
        "pagelanguage",
        "dateleft",
        "code",
        "lead",
        "ipaddress",
        "email",
    }
    properties = pl.struct(
        *(
            col[k].alias(name)
            for k, name in [
                ("page", "page_id"),
                ("url", "url"),
                ("referer", "referrer"),
                ("useragent", "user_agent"),
                ("pagelanguage", "language"),
                ("dateleft", "date_left"),
                ("code", "status_code"),
                ("lead", "mautic_lead_id"),
            ]
            if k in col
        ),
        *(col[k].alias(k) for k in col if k not in known),
    ).struct.json_encode()
    frame = batch.frame.with_columns(
        occurred_at=col["datehit"],
        anonymous_id=col["trackingid"],
        contact_key=fields.normalize_email(col["email"]) if "email" in col else pl.lit(None),
        page=col.get("page", pl.lit("")),
        url=col.get("url", pl.lit("")),
    ).with_columns(
        event_id=pl.concat_str(
            pl.lit("mautic-hit"),
            "anonymous_id",
            "occurred_at",
            "page",
            "url",
            separator=":",
            ignore_nulls=True,
        )
        + ":"
        + _dedupe_rank("anonymous_id", "occurred_at", "page", "url"),
        event_type=pl.lit("page_hit"),
        properties=properties,
    )
    return _events_from(batch, frame, list(columns.values()))


def _mautic_form_results(batch: Batch, columns: dict[str, str], file_time: datetime) -> Mapped:
    col = {key: fields.clean_text(pl.col(source)) for key, source in columns.items()}
    submitted = next(
        (col[k] for k in ("date_submitted", "datesubmitted", "submitted_at") if k in col), None
    )
    submission_id = next((col[k] for k in ("submission_id", "id") if k in col), None)
    meta = {
        "form",
        "page",
        "lead",
        "ipaddress",
        "ip_address",
        "date_submitted",
        "datesubmitted",
        "submitted_at",
        "submission_id",
        "id",
        "referer",
    }
    form_fields = pl.struct(*(col[k].alias(k) for k in col if k not in meta))
    properties = pl.struct(
        col["form"].alias("form_id"),
        *(
            col[k].alias(name)
            for k, name in [
                ("page", "page_id"),
                ("lead", "mautic_lead_id"),
                ("referer", "referrer"),
            ]
            if k in col
        ),
        form_fields.alias("fields"),
        # Mautic's fixture exports carry no submission time: the file's time stands in.
        pl.lit(submitted is None).alias("occurred_at_from_file_time"),
    ).struct.json_encode()
    frame = batch.frame.with_columns(
        contact_key=fields.normalize_email(col["email"]),
        form=col["form"],
        occurred_at=submitted if submitted is not None else pl.lit(file_time.isoformat(sep=" ")),
    ).with_columns(
        event_id=pl.lit("mautic-form:")
        + (
            submission_id
            if submission_id is not None
            else pl.concat_str("form", "contact_key", separator=":", ignore_nulls=True)
            + ":"
            + _dedupe_rank("form", "contact_key")
        ),
        event_type=pl.lit("form_submit"),
        anonymous_id=pl.lit(None, pl.String),
        properties=properties,
    )
    return _events_from(batch, frame, list(columns.values()))


def _events_from(batch: Batch, frame: pl.DataFrame, source_columns: list[str]) -> Mapped:
    events = frame.select(ROW, *EVENTS.names)
    return Mapped(EVENTS, events, batch.rejects, batch.frame, _joined(source_columns))


def _joined(columns: list[str]) -> pl.Expr:
    """A tabular row shown as comma-joined text."""
    if not columns:
        return pl.lit("", pl.String)
    return pl.concat_str(columns, separator=",", ignore_nulls=True)
