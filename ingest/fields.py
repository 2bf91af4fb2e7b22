"""Typed parsing of text fields as polars expressions: vectorised, null where a value fails.

Every parser takes an expression over a *string* column (already stripped, empty → null)
and returns the typed value or null; the validator turns "present but null after parsing"
into a quarantine reason.
"""

from __future__ import annotations

import duckdb
import polars as pl

# Simple, permissive address check: one @, a dotted domain with a 2+ letter TLD, no spaces,
# no control or invisible format characters (DEL, zero-width space, BOM).
EMAIL_PATTERN = (
    r"^[^\s@\"<>(),;:\[\]\\\p{Cc}\p{Cf}]+@"
    r"(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,63}$"
)

_TRUE = ["1", "true", "t", "yes", "y", "on"]
_FALSE = ["0", "false", "f", "no", "n", "off"]

# Formats tried in order; the first that parses wins. Slashes are read the US way, as
# Mautic exports them (8/9/14 19:00); dots the European way.
_AWARE_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%d %b %Y %H:%M:%S %z")
_NAIVE_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%m/%d/%y %H:%M",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%y",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)


def clean_text(expr: pl.Expr) -> pl.Expr:
    """Strip surrounding whitespace; an empty string means missing."""
    stripped = expr.cast(pl.String).str.strip_chars()
    return pl.when(stripped.str.len_bytes() > 0).then(stripped)


def normalize_email(expr: pl.Expr) -> pl.Expr:
    """Trimmed, lower-cased address (as Mautic identifies contacts by it)."""
    return expr.str.strip_chars().str.to_lowercase()


def parse_email(expr: pl.Expr) -> pl.Expr:
    email = normalize_email(expr)
    valid = email.str.contains(EMAIL_PATTERN) & (email.str.len_chars() <= 254)
    valid = valid & ~email.str.contains(r"\.\.|^\.|\.@")
    return pl.when(valid).then(email)


def email_address(text: str | None) -> str | None:
    """One address checked by ``parse_email`` (the collector's forms): normalised or None."""
    if not text or not text.strip():
        return None
    return pl.select(parse_email(pl.lit(text, pl.String))).item()


def parse_int(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)


def parse_float(expr: pl.Expr) -> pl.Expr:
    number = expr.cast(pl.Float64, strict=False)
    return pl.when(number.is_finite()).then(number)


def parse_bool(expr: pl.Expr) -> pl.Expr:
    lowered = expr.str.to_lowercase()
    return pl.when(lowered.is_in(_TRUE)).then(True).when(lowered.is_in(_FALSE)).then(False)


def parse_timestamp(expr: pl.Expr) -> pl.Expr:
    """Any common timestamp spelling → naive UTC datetime (µs).

    Offsets are converted to UTC; values without one are taken as UTC. Bare numbers are
    epoch seconds, or milliseconds/microseconds when too large to be seconds.
    """
    return expr.map_batches(_parse_timestamps, return_dtype=pl.Datetime("us"))


def _parse_timestamps(text: pl.Series) -> pl.Series:
    # A file nearly always uses one spelling: try formats in turn on what is still unparsed,
    # so the common case costs one pass instead of one per format.
    frame = pl.DataFrame({"text": text}).with_columns(
        iso=pl.col("text")
        .str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]", "${1}T")
        .str.replace(r"\s*(?:Z|UTC|GMT)$", "+00:00")
        .str.replace(r"^[A-Za-z]{3},\s*", ""),
        parsed=pl.lit(None, pl.Datetime("us")),
    )
    attempts = [
        *(
            pl.col("iso")
            .str.to_datetime(f, strict=False, time_zone="UTC", time_unit="us")
            .dt.replace_time_zone(None)
            for f in _AWARE_FORMATS
        ),
        *(pl.col("iso").str.to_datetime(f, strict=False, time_unit="us") for f in _NAIVE_FORMATS),
        _parse_epoch(pl.col("text")),
    ]
    for attempt in attempts:
        todo = pl.col("parsed").is_null() & pl.col("text").is_not_null()
        if not frame.select(todo.any()).item():
            break
        index = frame.with_row_index("_i").filter(todo)
        found = index.select("_i", value=attempt).filter(pl.col("value").is_not_null())
        if found.height:
            frame = frame.with_columns(parsed=frame["parsed"].scatter(found["_i"], found["value"]))
    return frame["parsed"].alias(text.name)


def _parse_epoch(expr: pl.Expr) -> pl.Expr:
    is_number = expr.str.contains(r"^-?\d{1,16}(?:\.\d+)?$")
    value = pl.when(is_number).then(expr).cast(pl.Float64, strict=False)
    magnitude = value.abs()
    micros = (
        pl.when(magnitude >= 1e14)
        .then(value)
        .when(magnitude >= 1e11)
        .then(value * 1e3)
        .otherwise(value * 1e6)
    )
    return pl.from_epoch(micros.round(0).cast(pl.Int64), time_unit="us")


def parse_json_object(expr: pl.Expr) -> pl.Expr:
    """JSON text that holds an object (as extracted from a source), else null."""
    return pl.when(expr.map_batches(is_json_object, return_dtype=pl.Boolean)).then(expr)


def is_json_object(text: pl.Series) -> pl.Series:
    """Whether each text is a well-formed JSON object (DuckDB's parser: fast, and strict)."""
    frame = pl.DataFrame({"text": text})  # noqa: F841 (read by the SQL)
    with duckdb.connect() as con:
        mask = con.sql(
            # (json_type would raise on broken text: a valid text starting with { is an object)
            "select coalesce(json_valid(text)"
            " and ltrim(text, chr(32) || chr(9) || chr(10) || chr(13))[1] = '{', false) as ok"
            " from frame"
        ).pl()
    return mask["ok"]
