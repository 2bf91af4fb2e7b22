"""The generation window, epoch-millisecond arithmetic and local-time seasonality.

All times inside the generator are int64 milliseconds since the Unix epoch (UTC). The
window is ``[end_date - days, end_date)``: it starts at 00:00 UTC ``days`` days before
``end_date`` and ends, exclusive, at ``end_date`` 00:00 UTC, so nothing happens on
``end_date`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from ingest.generator import reference

SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
NEVER = np.iinfo(np.int64).max  # "no such time yet"

TIME_ZONES: tuple[str, ...] = tuple(
    sorted({tz for country in reference.COUNTRIES for _, _, tz in country.cities})
)
WORK, HOME = 0, 1  # activity profiles


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class Window:
    end_date: date
    days: int
    start_ms: int = field(init=False)
    end_ms: int = field(init=False)

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("days must be at least 1")
        end = datetime.combine(self.end_date, time(), tzinfo=UTC)
        object.__setattr__(self, "end_ms", to_ms(end))
        object.__setattr__(self, "start_ms", to_ms(end - timedelta(days=self.days)))

    @property
    def start(self) -> datetime:
        return datetime.fromtimestamp(self.start_ms / 1000, UTC)

    @property
    def end(self) -> datetime:
        return datetime.fromtimestamp(self.end_ms / 1000, UTC)

    def day_start(self, day: int) -> int:
        return self.start_ms + day * DAY

    def weekdays(self) -> np.ndarray:
        """Weekday (Mon=0) of each day of the window."""
        first = (self.end_date - timedelta(days=self.days)).weekday()
        return (first + np.arange(self.days)) % 7

    def contains(self, ts: np.ndarray) -> np.ndarray:
        return (ts >= self.start_ms) & (ts < self.end_ms)


@dataclass(frozen=True)
class Seasonality:
    """Samples UTC times whose local hour and weekday follow an activity profile."""

    window: Window
    offsets: np.ndarray = field(init=False)  # (time zone, day) → UTC offset in ms
    day_weights: np.ndarray = field(init=False)  # (profile, day) → probability
    hour_weights: np.ndarray = field(init=False)  # (profile, hour) → probability

    def __post_init__(self) -> None:
        window = self.window
        first = window.end_date - timedelta(days=window.days)
        offsets = np.empty((len(TIME_ZONES), window.days), dtype=np.int64)
        for z, name in enumerate(TIME_ZONES):  # a calendar table: zones × days, not rows
            zone = ZoneInfo(name)
            for d in range(window.days):
                noon = datetime.combine(first + timedelta(days=d), time(12), tzinfo=zone)
                offsets[z, d] = int(noon.utcoffset().total_seconds() * 1000)
        weekdays = window.weekdays()
        days = np.stack([np.asarray(reference.WORK_WEEK)[weekdays],
                         np.asarray(reference.HOME_WEEK)[weekdays]])  # fmt: skip
        hours = np.stack([np.asarray(reference.WORK_HOURS), np.asarray(reference.HOME_HOURS)])
        object.__setattr__(self, "offsets", offsets)
        object.__setattr__(self, "day_weights", days / days.sum(axis=1, keepdims=True))
        object.__setattr__(self, "hour_weights", hours / hours.sum(axis=1, keepdims=True))

    def sample(self, rng: np.random.Generator, zone: np.ndarray, profile: np.ndarray) -> np.ndarray:
        """One UTC time (ms) per row, for people in ``zone`` with activity ``profile``."""
        n = len(zone)
        day = np.empty(n, dtype=np.int64)
        hour = np.empty(n, dtype=np.int64)
        for p in (WORK, HOME):
            rows = np.flatnonzero(profile == p)
            day[rows] = rng.choice(self.window.days, size=rows.size, p=self.day_weights[p])
            hour[rows] = rng.choice(24, size=rows.size, p=self.hour_weights[p])
        local = self.window.start_ms + day * DAY + hour * HOUR + rng.integers(0, HOUR, n)
        return local - self.offsets[zone, day]


def iso_timestamps(ts: pl.Expr) -> pl.Expr:
    """Epoch ms → ``2026-08-01T10:00:00.123Z``."""
    return pl.from_epoch(ts, time_unit="ms").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")


def csv_timestamps(ts: pl.Expr) -> pl.Expr:
    """Epoch ms → ``2026-08-01 10:00:00`` (as Mautic exports it, UTC)."""
    return pl.from_epoch(ts, time_unit="ms").dt.strftime("%Y-%m-%d %H:%M:%S")


def lognormal_ms(rng: np.random.Generator, median_ms: float, sigma: float, n: int) -> np.ndarray:
    """Heavy-tailed delays with the given median."""
    return (median_ms * rng.lognormal(0.0, sigma, n)).astype(np.int64)


def iso_series(ts: np.ndarray) -> pl.Series:
    return pl.select(iso_timestamps(pl.lit(pl.Series(ts, dtype=pl.Int64)))).to_series()


def csv_series(ts: np.ndarray) -> pl.Series:
    return pl.select(csv_timestamps(pl.lit(pl.Series(ts, dtype=pl.Int64)))).to_series()
