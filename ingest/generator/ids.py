"""Identifiers: random UUIDs for devices, sequential message ids, IPv4 addresses."""

from __future__ import annotations

import numpy as np
import polars as pl

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
# Character positions of the 16 bytes' hex digits in the 36-character UUID text.
_DIGITS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def uuid4(rng: np.random.Generator, n: int) -> pl.Series:
    """``n`` random version-4 UUIDs as text, drawn from ``rng``."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    text[:, _DIGITS[0::2]] = _HEX[raw >> 4]
    text[:, _DIGITS[1::2]] = _HEX[raw & 0x0F]
    return pl.Series(text.view("S36").ravel().astype("U36"))


def ipv4(rng: np.random.Generator, n: int) -> pl.Series:
    """Public-looking IPv4 addresses (first octet avoids 0, 10, 127 and the reserved tail)."""
    first = rng.choice(np.setdiff1d(np.arange(11, 224), [127, 172, 192]), size=n)
    rest = rng.integers(0, 256, size=(3, n))
    rest[2] = np.maximum(rest[2], 1)
    frame = pl.DataFrame({"a": first, "b": rest[0], "c": rest[1], "d": rest[2]})
    return frame.select(pl.concat_str(pl.all().cast(pl.String), separator=".")).to_series()


def message_ids(prefix: str, start: int, n: int) -> pl.Expr:
    """``<prefix>-000000042``: unique within a generation when prefixes are."""
    counter = pl.int_range(start, start + n, dtype=pl.Int64).cast(pl.String).str.zfill(9)
    return pl.lit(prefix + "-") + counter
