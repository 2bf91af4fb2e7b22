"""Shape simulated events into Segment/RudderStack messages (one polars frame per shape).

Each frame holds rows of one shape only (page with or without UTM campaign, identify, one
track event with or without known traits), so the JSON carries no ``null`` noise. Only
events inside the window are kept.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl

from ingest.generator.events import Identifies, PageHits, Track
from ingest.generator.population import Population
from ingest.generator.site import PAGES, lookup
from ingest.generator.timeline import Window, iso_series, iso_timestamps

PAGE, IDENTIFY = "page", "identify"


class MessageIds:
    """Sequential, zero-padded message ids under a prefix unique to the chunk."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.next = 0

    def take(self, n: int) -> pl.Series:
        counter = pl.Series(np.arange(self.next, self.next + n)).cast(pl.String).str.zfill(9)
        self.next += n
        return (self.prefix + "-" + counter).alias("messageId")


PATHS = lookup(PAGES, "path")
TITLES = lookup(PAGES, "title")


def pages(
    hits: PageHits, pop: Population, window: Window, ids: MessageIds
) -> Iterator[pl.DataFrame]:
    inside = np.flatnonzero(window.contains(hits.ts))
    device = hits.device[inside]
    page = hits.page[inside]
    campaign = hits.campaign[inside]
    base = pl.DataFrame(
        {
            "ts": hits.ts[inside],
            "anonymousId": pop.anonymous_id.gather(device),
            "url": hits.url.gather(inside),
            "path": PATHS.gather(page),
            "title": TITLES.gather(page),
            "referrer": hits.referrer.gather(inside),
            "page_id": page,
            "userAgent": pop.user_agent.gather(device),
            "ip": pop.ip.gather(device),
            "locale": pop.locale.gather(pop.device_person[device]),
            "campaign": campaign,
        }
    )
    base = base.join(
        hits.campaigns.with_row_index("campaign").with_columns(pl.col("campaign").cast(pl.Int64)),
        on="campaign",
        how="left",
        maintain_order="left",
    )
    page_fields = ("url", "path", "title", "referrer")
    for with_utm in (False, True):
        rows = base.filter((pl.col("campaign") >= 0) == with_utm)
        context = [pl.struct(*page_fields).alias("page")]
        if with_utm:
            context.append(pl.struct("source", "medium", "name").alias("campaign"))
        context += [pl.col("userAgent"), pl.col("ip"), pl.col("locale")]
        yield rows.select(
            type=pl.lit(PAGE),
            messageId=ids.take(rows.height),
            anonymousId="anonymousId",
            timestamp=iso_timestamps(pl.col("ts")),
            name="title",
            properties=pl.struct(*page_fields, "page_id"),
            context=pl.struct(*context),
        )


def identifies(calls: Identifies, pop: Population, window: Window, ids: MessageIds) -> pl.DataFrame:
    inside = np.flatnonzero(window.contains(calls.ts))
    contact = calls.contact[inside]
    email = pop.email.gather(contact)
    return pl.DataFrame(
        {
            "type": pl.Series([IDENTIFY] * inside.size, dtype=pl.String),
            "messageId": ids.take(inside.size),
            "anonymousId": pop.anonymous_id.gather(calls.device[inside]),
            "userId": email,
            "traits": pl.DataFrame(
                {
                    "email": email,
                    "firstname": pop.firstname.gather(contact),
                    "lastname": pop.lastname.gather(contact),
                }
            ).to_struct(),
            "timestamp": iso_series(calls.ts[inside]),
        }
    )


def tracks(
    track: Track, pop: Population, window: Window, ids: MessageIds
) -> Iterator[pl.DataFrame]:
    """``track`` calls: rows whose sender knew the email carry ``context.traits.email``."""
    track = track.take(np.flatnonzero(window.contains(track.ts)))
    if track.contact is None:
        known = np.zeros(len(track), dtype=bool)
    elif track.known is None:
        known = track.contact >= 0
    else:
        known = track.known & (track.contact >= 0)
    for with_traits in (True, False):
        part = track.take(np.flatnonzero(known == with_traits))
        if not len(part):
            continue
        columns: dict[str, pl.Series] = {
            "type": pl.Series(["track"] * len(part), dtype=pl.String),
            "event": pl.Series([track.event] * len(part), dtype=pl.String),
            "messageId": ids.take(len(part)),
        }
        if part.device is not None:
            columns["anonymousId"] = pop.anonymous_id.gather(part.device)
        if part.user_id:
            columns["userId"] = pop.email.gather(part.contact)
        columns["timestamp"] = iso_series(part.ts)
        columns["properties"] = part.properties.to_struct()
        if with_traits:
            traits = pl.DataFrame({"email": pop.email.gather(part.contact)}).to_struct()
            columns["context"] = pl.DataFrame({"traits": traits}).to_struct()
        yield pl.DataFrame(columns)
