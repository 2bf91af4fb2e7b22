"""Typed parsing of text fields as polars expressions: vectorised, null where a value fails.

Every parser takes an expression over a *string* column (already stripped, empty → null)
and returns the typed value or null; the validator turns "present but null after parsing"
into a quarantine reason.
"""

from __future__ import annotations

import polars as pl

# Simple, permissive address check: one @, a dotted domain with a 2+ letter TLD, no spaces.
EMAIL_PATTERN = (
    r"^[^\s@\"<>(),;:\[\]\\]+@"
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
    text = (
        expr.str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]", "${1}T")
        .str.replace(r"\s*(?:Z|UTC|GMT)$", "+00:00")
        .str.replace(r"^[A-Za-z]{3},\s*", "")
    )
    aware = [
        text.str.to_datetime(fmt, strict=False, time_zone="UTC").dt.replace_time_zone(None)
        for fmt in _AWARE_FORMATS
    ]
    naive = [text.str.to_datetime(fmt, strict=False, time_unit="us") for fmt in _NAIVE_FORMATS]
    return pl.coalesce(*aware, *naive, _parse_epoch(expr)).dt.cast_time_unit("us")


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
    canonical = expr.str.json_path_match("$")
    return pl.when(canonical.str.starts_with("{")).then(expr)
