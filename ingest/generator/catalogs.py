"""Catalog tables (emails, sms, forms, pages, assets, focus items, dynamic content).

One frame per catalog with an integer ``id`` first, ``published`` as 1/0 and ``created_at``
as ``YYYY-MM-DD HH:MM:SS`` (UTC). Website items were created before the window; list emails
a few days before they were sent.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ingest.generator.reference import SITE
from ingest.generator.schedule import Schedule
from ingest.generator.site import ASSETS, DYNAMIC_CONTENT, FOCUS_ITEMS, FORMS, PAGES
from ingest.generator.timeline import DAY, HOUR, Window, csv_timestamps

NAMES = ("emails", "sms", "forms", "pages", "assets", "focus_items", "dynamic_content")

# The HTML each dynamic content variant puts into its slot (the collector serves it).
DYNAMIC_CONTENT_HTML: dict[int, str] = {
    1: (
        "<h1>Welcome back</h1><p>New this month: journeys that branch on your own SQL.</p>"
        '<a href="/features">See what is new</a>'
    ),
    2: (
        "<h1>Marketing automation for data teams</h1><p>Segments, scoring and campaigns as "
        'models in your warehouse.</p><a href="/demo">Book a demo</a>'
    ),
    3: (
        "<p>Single sign-on, audit logs and a named engineer.</p>"
        '<a href="/contact">Talk to sales about Enterprise</a>'
    ),
    4: (
        "<p>Everything you need to get started, no credit card.</p>"
        '<a href="/trial">Start your free trial</a>'
    ),
    5: "<p>Every feature in every plan.</p>",
}
assert set(DYNAMIC_CONTENT_HTML) == {d.id for d in DYNAMIC_CONTENT}


def build(window: Window, seed: int, schedule: Schedule) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng([seed, 1 << 32, 3])

    def created(n: int, oldest_days: int, newest_days: int) -> np.ndarray:
        days = rng.integers(newest_days, oldest_days, n)
        return window.start_ms - days * DAY - rng.integers(8, 18, n) * HOUR

    tables = {
        "emails": pl.DataFrame(schedule.email_rows),
        "sms": pl.DataFrame(
            schedule.sms_rows,
            schema={
                "id": pl.Int64,
                "name": pl.String,
                "message": pl.String,
                "category": pl.String,
                "published": pl.Int64,
                "created_at": pl.Int64,
            },
        ),  # fmt: skip
        "forms": pl.DataFrame(
            {
                "id": [f.id for f in FORMS],
                "name": [f.name for f in FORMS],
                "alias": [f.alias for f in FORMS],
                "form_type": [f.form_type for f in FORMS],
                "published": [int(f.published) for f in FORMS],
                "created_at": created(len(FORMS), 900, 60),
            }
        ),
        "pages": pl.DataFrame(
            {
                "id": [p.id for p in PAGES],
                "title": [p.title for p in PAGES],
                "alias": [p.alias for p in PAGES],
                "url": [p.url for p in PAGES],
                "language": [p.language for p in PAGES],
                "category": [p.category for p in PAGES],
                "published": [int(p.published) for p in PAGES],
                "created_at": created(len(PAGES), 1200, 30),
            }
        ),
        "assets": pl.DataFrame(
            {
                "id": [a.id for a in ASSETS],
                "title": [a.title for a in ASSETS],
                "alias": [a.alias for a in ASSETS],
                "url": [a.url for a in ASSETS],
                "extension": [a.extension for a in ASSETS],
                "category": [a.category for a in ASSETS],
                "published": [int(a.published) for a in ASSETS],
                "created_at": created(len(ASSETS), 900, 30),
            }
        ),
        "focus_items": pl.DataFrame(
            {
                "id": [f.id for f in FOCUS_ITEMS],
                "name": [f.name for f in FOCUS_ITEMS],
                "focus_type": [f.focus_type for f in FOCUS_ITEMS],
                "style": [f.style for f in FOCUS_ITEMS],
                "url": [SITE + f.target for f in FOCUS_ITEMS],
                "published": [int(f.published) for f in FOCUS_ITEMS],
                "created_at": created(len(FOCUS_ITEMS), 700, 20),
            }
        ),
        "dynamic_content": pl.DataFrame(
            {
                "id": [d.id for d in DYNAMIC_CONTENT],
                "name": [d.name for d in DYNAMIC_CONTENT],
                "slot_name": [d.slot for d in DYNAMIC_CONTENT],
                "variant": [d.variant for d in DYNAMIC_CONTENT],
                "segment_hint": [d.segment_hint for d in DYNAMIC_CONTENT],
                "content": [DYNAMIC_CONTENT_HTML[d.id] for d in DYNAMIC_CONTENT],
                "published": [int(d.published) for d in DYNAMIC_CONTENT],
                "created_at": created(len(DYNAMIC_CONTENT), 500, 20),
            }
        ),
    }
    return {
        name: frame.with_columns(csv_timestamps(pl.col("created_at")).alias("created_at"))
        for name, frame in tables.items()
    }
