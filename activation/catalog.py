"""What activation reads: the due queue, the contacts, the email and SMS catalogs.

The queue and the contacts come from the published file (``published/funnelhouse.duckdb``),
opened read-only for as long as the reads take: a build can publish a new file meanwhile.
The catalogs (an email's subject, name and sender, an SMS text) are not published, so they are
read from the build warehouse's staging models while holding the warehouse lock for a moment
(``FUNNELHOUSE_CATALOG_LOCK_TIMEOUT_SECONDS``); when a build holds it longer, the published
email report's names and subjects stand in, and templates cover the rest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import polars as pl

from activation.render import EmailContent
from ingest.home import Home
from pipelines.lock import WarehouseBusy, warehouse_lock
from pipelines.publish import published_path

QUEUE = "marts.activation_queue"
QUEUE_COLUMNS = (
    "idempotency_key",
    "campaign_id",
    "campaign_name",
    "step_id",
    "action",
    "channel",
    "contact_id",
    "email",
    "mobile",
    "timezone",
    "payload_ref",
    "params",
    "due_at",
    "queued_at",
)


@dataclass
class Due:
    rows: list[dict[str, Any]]  # queue rows due now, oldest first
    contacts: dict[str, dict[str, Any]]  # contact_id → dim_contacts row
    published_at: datetime | None
    note: str | None = None  # why nothing could be read


def read_due(home: Home, now: datetime, campaign: str | None = None) -> Due:
    path = published_path(home)
    if not path.exists():
        return Due([], {}, None, f"nothing published yet ({path})")
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")  # timestamptz columns read as UTC wall time
        tables = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        published_at = None
        if "pipeline.publish" in tables:
            published_at = con.execute("select max(published_at) from pipeline.publish").fetchone()[
                0
            ]
        if QUEUE not in tables:
            return Due([], {}, published_at, f"the published file has no {QUEUE} yet")
        have = {r[0] for r in con.execute(f"describe {QUEUE}").fetchall()}
        missing = [c for c in QUEUE_COLUMNS if c not in have]
        if missing:
            raise ValueError(f"{QUEUE} lacks columns {', '.join(missing)}")
        where = ["cast(due_at as timestamp) <= ?"]
        params: list[Any] = [now]
        if campaign:
            where.append("(campaign_name = ? or cast(campaign_id as varchar) = ?)")
            params += [campaign, campaign]
        columns = ", ".join(
            f"cast({c} as timestamp) as {c}"
            if c in ("due_at", "queued_at")
            else f"cast({c} as varchar) as {c}"
            for c in QUEUE_COLUMNS
        )
        queue = con.sql(
            f"select {columns} from {QUEUE} where {' and '.join(where)} "
            "order by due_at, idempotency_key",
            params=params,
        ).pl()
        contacts: dict[str, dict[str, Any]] = {}
        if not queue.is_empty() and "marts.dim_contacts" in tables:
            con.register("due_contacts", queue.select("contact_id").unique())
            frame = con.sql(
                "select * from marts.dim_contacts "
                "where contact_id in (select contact_id from due_contacts)"
            ).pl()
            contacts = {r["contact_id"]: r for r in _plain_numbers(frame).to_dicts()}
    rows = queue.to_dicts()
    for row in rows:
        row["params"] = _params(row.get("params"))
    return Due(rows, contacts, published_at)


def _plain_numbers(frame: pl.DataFrame) -> pl.DataFrame:
    """HUGEINT sums (points, counts) arrive as decimals: whole ones become integers, the rest
    floats, so templates and webhook JSON show numbers."""
    return frame.with_columns(
        pl.col(name).cast(pl.Int64 if dtype.scale == 0 else pl.Float64)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Decimal)
    )


def _params(value) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return {"value": value}
    return parsed if isinstance(parsed, dict) else {"value": parsed}


@dataclass
class Catalogs:
    emails: dict[str, EmailContent] = field(default_factory=dict)
    sms: dict[str, str | None] = field(default_factory=dict)  # sms id → message
    source: str = "none"

    def email(self, email_id: str) -> EmailContent:
        return self.emails.get(email_id) or EmailContent(email_id)


_HTML_KEYS = ("custom_html", "html", "content", "body_html")
_TEXT_KEYS = ("plain_text", "text", "body_text")


def read_catalogs(home: Home, lock_timeout: float) -> Catalogs:
    catalogs = Catalogs()
    if home.warehouse.exists():
        try:
            with (
                warehouse_lock(home, "activation (reading catalogs)", timeout=lock_timeout),
                duckdb.connect(str(home.warehouse), read_only=True) as con,
            ):
                catalogs = _warehouse_catalogs(con)
        except WarehouseBusy:
            pass
        except duckdb.Error:
            pass
    if not catalogs.emails:
        catalogs.emails = _published_emails(home)
        catalogs.source = "published reports" if catalogs.emails else "templates only"
    return catalogs


def _warehouse_catalogs(con: duckdb.DuckDBPyConnection) -> Catalogs:
    """From the staging models (the latest version of each row), else straight from the raw
    tables ingest wrote (a build that skipped staging, or none yet)."""
    tables = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
    }
    catalogs = Catalogs(source="warehouse")
    emails = _catalog_query(tables, "emails", "email_id", "name, subject, from_address, attributes")
    if emails:
        for email_id, name, subject, sender, attributes in con.execute(emails).fetchall():
            extra = _params(attributes)
            catalogs.emails[str(email_id)] = EmailContent(
                str(email_id),
                name,
                subject,
                sender,
                next((extra[k] for k in _HTML_KEYS if extra.get(k)), None),
                next((extra[k] for k in _TEXT_KEYS if extra.get(k)), None),
            )
    sms = _catalog_query(tables, "sms", "sms_id", "message")
    if sms:
        for sms_id, message in con.execute(sms).fetchall():
            catalogs.sms[str(sms_id)] = message
    return catalogs


def _catalog_query(tables: set[str], catalog: str, id_name: str, columns: str) -> str | None:
    if f"staging.stg_{catalog}" in tables:
        return f"select {id_name}, {columns} from staging.stg_{catalog}"
    if f"raw.{catalog}" in tables:
        return (
            f"select id as {id_name}, {columns} from raw.{catalog} "
            "qualify row_number() over (partition by id order by _loaded_at desc, "
            "_source_row desc) = 1"
        )
    return None


def _published_emails(home: Home) -> dict[str, EmailContent]:
    path = published_path(home)
    if not path.exists():
        return {}
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            rows = con.execute(
                "select email_id, email_name, subject from reports.rpt_email_performance"
            ).fetchall()
    except duckdb.Error:
        return {}
    return {str(i): EmailContent(str(i), name, subject) for i, name, subject in rows}
