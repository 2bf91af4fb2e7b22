"""Rare contact-level happenings: social mentions, manual points, manual do-not-contact."""

from __future__ import annotations

import numpy as np
import polars as pl

from ingest.generator import reference
from ingest.generator.email import EMAIL_CHANNEL, MANUAL, dnc_properties
from ingest.generator.events import Track
from ingest.generator.population import Population
from ingest.generator.timeline import NEVER, Window

MENTIONS_PER_CONTACT_DAY = 0.00006  # about one contact in 180 per quarter
POINTS_PER_CONTACT_DAY = 0.00004


def _times(rng: np.random.Generator, pop: Population, window: Window, idx: np.ndarray):
    """Uniform times between each contact's arrival (or the window start) and the end."""
    since = np.maximum(pop.date_added[idx], window.start_ms)
    return since + (rng.random(idx.size) * (window.end_ms - since)).astype(np.int64)


def simulate(rng: np.random.Generator, pop: Population, window: Window) -> list[Track]:
    tracks = []
    count = rng.poisson(MENTIONS_PER_CONTACT_DAY * window.days * pop.engagement[: pop.n])
    who = np.repeat(np.arange(pop.n), count)
    ts = _times(rng, pop, window, who)
    network = rng.integers(0, len(reference.SOCIAL_NETWORKS), who.size)
    handle = pop.email.gather(who).str.split("@").list.first().str.replace_all(r"\.", "_")
    post = pl.Series(rng.integers(10**17, 10**18, who.size)).cast(pl.String)
    frame = pl.DataFrame({"net": network, "h": handle, "n": post})
    url = frame.select(
        pl.coalesce(
            pl.when(pl.col("net") == i).then(
                pl.lit(head) + pl.col("n") if middle is None
                else pl.lit(head) + pl.col("h") + pl.lit(middle) + pl.col("n")
            )
            for i, (_name, head, middle) in enumerate(reference.SOCIAL_NETWORKS)
        )
    ).to_series()  # fmt: skip
    props = pl.DataFrame(
        {
            "network": pl.Series([n for n, *_ in reference.SOCIAL_NETWORKS]).gather(network),
            "handle": "@" + handle,
            "url": url,
        }
    )
    tracks.append(Track("Social Mention", ts, props, contact=who, user_id=True))

    count = rng.poisson(POINTS_PER_CONTACT_DAY * window.days, pop.n)
    who = np.repeat(np.arange(pop.n), count)
    reasons, deltas, weights = zip(*reference.POINT_REASONS, strict=True)
    pick = rng.choice(len(reasons), size=who.size, p=np.asarray(weights) / sum(weights))
    props = pl.DataFrame(
        {"delta": np.asarray(deltas)[pick], "reason": pl.Series(reasons).gather(pick)}
    )
    tracks.append(
        Track("Points Adjusted", _times(rng, pop, window, who), props, contact=who, user_id=True)
    )

    blocked = np.flatnonzero(pop.manual_dnc < NEVER)
    k = blocked.size
    props = dnc_properties(np.full(k, EMAIL_CHANNEL), np.full(k, MANUAL))
    tracks.append(
        Track(
            "Do Not Contact Changed", pop.manual_dnc[blocked], props, contact=blocked, user_id=True
        )
    )
    return tracks
