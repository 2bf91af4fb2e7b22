"""Tombstones: people who were forgotten (``funnelhouse forget``) are never loaded again.

``raw._tombstones`` holds one row per key a forgotten person was known by — the email, the
external ids their contact rows carried, the tracking ids linked to them, their social
handles (``<platform>:<handle>``) — as a salted hash of the normalised key (trimmed,
lower-cased), never the key itself. The salt is random per warehouse
(``raw._tombstone_salt``), so a copy of the tombstones alone does not tell whether a given
address was forgotten.

Ingest screens every batch against them: a row whose email, contact key, external id,
tracking id or (a social post) author is a tombstoned key, or whose text (properties, custom
fields, any text column) mentions a tombstoned email, is not loaded. It is quarantined with
the reason ``forgotten contact (tombstone)`` and *no* raw text (the text is the personal
data), so the contract rows read = rows loaded + rows quarantined still holds and the
pipeline health page shows how many rows were kept out. Quarantine rows of other reasons that
mention a tombstoned email or id lose their raw text and reason the same way. The landing
files are not touched.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import polars as pl

from ingest.readers import ROW

TOMBSTONES = "_tombstones"
SALT = "_tombstone_salt"
FORGOTTEN_REASON = "forgotten contact (tombstone)"

TOMBSTONE_COLUMNS = {
    "email_hash": "VARCHAR NOT NULL",  # the person: hash of their email (groups their keys)
    "key_kind": "VARCHAR NOT NULL",  # email | external_id | anonymous_id | social_handle
    "key_hash": "VARCHAR NOT NULL",
    "forgotten_at": "TIMESTAMP NOT NULL",
}

# Columns that name a person outright: compared whole (normalised) with the tombstones.
IDENTITY_COLUMNS = ("email", "contact_key", "anonymous_id", "external_id")

# Email addresses inside free text, on lower-cased text. Two spellings of the local part: the
# permissive one of ingest's own check (finds o'brien@… inside JSON or CSV) and a strict one
# (finds ann@… inside "email=ann@…"). Each candidate is hashed and looked up, so a token that
# is not an address costs a hash and nothing else.
_DOMAIN = r"@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+"
EMAIL_TOKENS = (r"[^\s@\"<>(),;:\[\]\\]+" + _DOMAIN, r"[\p{L}\p{N}._%+-]+" + _DOMAIN)
# Identifier-like words (tracking ids, external ids) inside a quarantined row's text.
ID_TOKEN = r"[\p{L}\p{N}_-]{6,}"


def normalise(key: str) -> str:
    return key.strip().lower()


def social_handle_key(platform: pl.Expr, handle: pl.Expr) -> pl.Expr:
    """A social post's author as a key, ``<platform>:<handle>``, as dbt's stg_social_mentions
    and int_social_handles spell them ('x' is twitter; no leading @; lower-cased)."""
    platform = platform.str.strip_chars().str.to_lowercase()
    platform = pl.when(platform == "x").then(pl.lit("twitter")).otherwise(platform)
    handle = handle.str.strip_chars().str.strip_chars_start("@").str.to_lowercase()
    return platform + ":" + handle


def key_hash(salt: str, key: str) -> str:
    return hashlib.sha256(f"{salt}\0{normalise(key)}".encode()).hexdigest()


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    body = ", ".join(f'"{name}" {sql_type}' for name, sql_type in TOMBSTONE_COLUMNS.items())
    con.execute(f'create table if not exists raw."{TOMBSTONES}" ({body})')
    con.execute(
        f'create table if not exists raw."{SALT}" (salt VARCHAR NOT NULL, created_at TIMESTAMP)'
    )


def salt(con: duckdb.DuckDBPyConnection) -> str:
    """The warehouse's salt, created on first use (call inside the writer's lock)."""
    ensure_tables(con)
    row = con.execute(f'select salt from raw."{SALT}" limit 1').fetchone()
    if row:
        return row[0]
    value = secrets.token_hex(32)
    con.execute(
        f'insert into raw."{SALT}" values (?, ?)',
        [value, datetime.now(UTC).replace(tzinfo=None)],
    )
    return value


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw' and table_name = ?",
            [table],
        ).fetchone()[0]
    )


@dataclass(frozen=True)
class Tombstones:
    salt: str
    hashes: frozenset[str]

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> Tombstones | None:
        """The warehouse's tombstones; None when nobody was ever forgotten (nothing to screen)."""
        if not (_exists(con, TOMBSTONES) and _exists(con, SALT)):
            return None
        rows = con.execute(f'select key_hash from raw."{TOMBSTONES}"').fetchall()
        hashes = frozenset(h for (h,) in rows)
        row = con.execute(f'select salt from raw."{SALT}" limit 1').fetchone()
        return cls(row[0], hashes) if hashes and row else None

    def covers(self, key: str | None) -> bool:
        return bool(key and key.strip()) and key_hash(self.salt, key) in self.hashes

    def _forgotten(self, candidates: set[str]) -> list[str]:
        return [value for value in candidates if self.covers(value)]

    # --- loaded rows ---

    def split(self, rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(rows to load, rows of forgotten people) of one validated batch."""
        texts = [name for name, dtype in rows.schema.items() if dtype == pl.String]
        identity = [name for name in IDENTITY_COLUMNS if name in texts]
        candidates: set[str] = set()
        for name in identity:
            values = rows.get_column(name).str.strip_chars().str.to_lowercase()
            candidates.update(values.drop_nulls().unique().to_list())
        authored = {"platform", "author_handle"} <= set(texts)
        author = social_handle_key(pl.col("platform"), pl.col("author_handle"))
        if authored:
            candidates.update(rows.select(author).to_series().drop_nulls().unique().to_list())
        for name in texts:
            candidates.update(_tokens(rows.get_column(name), EMAIL_TOKENS))
        forgotten = self._forgotten(candidates)
        if not forgotten:
            return rows, rows.clear()
        hit = pl.lit(False)
        for name in identity:
            hit = hit | pl.col(name).str.strip_chars().str.to_lowercase().is_in(forgotten)
        if authored:
            hit = hit | author.is_in(forgotten)
        for name in texts:
            hit = hit | _mentions(pl.col(name), EMAIL_TOKENS, forgotten)
        marked = rows.with_columns(hit.fill_null(False).alias("__forgotten"))
        mask = marked.get_column("__forgotten")
        return rows.filter(~mask), rows.filter(mask)

    # --- quarantine rows ---

    def redact_quarantine(self, quarantine: pl.DataFrame) -> pl.DataFrame:
        """Quarantine rows whose text mentions a forgotten email or id: reason replaced, no
        raw text (columns ``field``, ``reason``, ``raw_text``)."""
        if quarantine.is_empty():
            return quarantine
        patterns = (*EMAIL_TOKENS, ID_TOKEN)
        columns = [c for c in ("raw_text", "reason") if c in quarantine.columns]
        candidates: set[str] = set()
        for name in columns:
            candidates.update(_tokens(quarantine.get_column(name), patterns))
        forgotten = self._forgotten(candidates)
        if not forgotten:
            return quarantine
        hit = pl.lit(False)
        for name in columns:
            hit = hit | _mentions(pl.col(name), patterns, forgotten)
        hit = hit.fill_null(False)
        return quarantine.with_columns(
            field=pl.when(hit).then(None).otherwise(pl.col("field")),
            reason=pl.when(hit).then(pl.lit(FORGOTTEN_REASON)).otherwise(pl.col("reason")),
            raw_text=pl.when(hit).then(None).otherwise(pl.col("raw_text")),
        )


def _token_expr(expr: pl.Expr, patterns: tuple[str, ...]) -> pl.Expr:
    lowered = expr.cast(pl.String).str.to_lowercase()
    return pl.concat_list([lowered.str.extract_all(p) for p in patterns])


def _tokens(values: pl.Series, patterns: tuple[str, ...]) -> set[str]:
    lowered = values.drop_nulls().cast(pl.String).str.to_lowercase()
    found: set[str] = set()
    for pattern in patterns:
        found.update(lowered.str.extract_all(pattern).explode().drop_nulls().unique().to_list())
    return found


def _mentions(expr: pl.Expr, patterns: tuple[str, ...], forgotten: list[str]) -> pl.Expr:
    return (
        _token_expr(expr, patterns).list.eval(pl.element().is_in(forgotten)).list.any()
    ).fill_null(False)


def forgotten_quarantine(rows: pl.DataFrame) -> pl.DataFrame:
    """Quarantine rows (row number, field, reason, raw_text) for loaded rows kept out."""
    return rows.select(
        pl.col("_source_row").alias(ROW),
        pl.lit(None, pl.String).alias("field"),
        pl.lit(FORGOTTEN_REASON).alias("reason"),
        pl.lit(None, pl.String).alias("raw_text"),
    )
