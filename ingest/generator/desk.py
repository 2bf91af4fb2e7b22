"""The marketing team's desk (issue 12): the integrations directory's sources.

Written under ``landing/desk/<table>/`` (and two small files the desk needs elsewhere):

* ``integration_proposals/proposals.csv``: Decidim's open-data export of proposals, flattened
  (``id``, ``title/en``, ``state``, ``reference``, ``supports``, ``endorsements/total_count``,
  ``comments``, ``followers``, ``published_at``, ``url``, ``category/name/en``);
* ``integration_votes/votes.csv``: member supports of proposals (target = the proposal's
  reference) and quarterly home-page votes (target = the integration's id) over the last four
  quarters, with repeated votes and votes of non-members, as real exports have;
* ``members/members.csv``: membership periods;
* ``integrations/integrations.csv``: the catalog (licence, open source / partner / member
  flags, maintainer, use-case score, last release, commit and content review);
* ``contacts/integration-maintainers.csv``: the maintainers as contacts (the removal notice is
  an email of the campaign engine, which writes to contacts);
* ``catalogs/emails/desk-emails.csv``: the removal notice email;
* ``desk/social_mentions/mentions.jsonl``: posts mentioning the product or carrying its
  hashtags, by maintainers (known by their twitter handle) and by strangers;
* ``desk/search_console/search_console.csv`` (Google Search Console's performance export:
  date, query, page, clicks, impressions, ctr, position) and
  ``desk/social_analytics/social_analytics.csv`` (per platform and day, and per post:
  followers, impressions, engagements) over the last 200 days;
* ``events/desk-notices.jsonl``: the removal notices earlier activation runs sent (the
  ``email_sent`` events the campaign engine writes back), so the demo shows every state: one
  stale integration's notice is past the notice period (removed), one is within it.

Small and fixed in size (a dozen integrations, 40 members), deterministic for a seed and an
end date; the dates are relative to the end date so every quarter has votes.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from ingest.generator import writer
from ingest.home import Home

# name, licence (None: closed source), partner, member project, use-case score, popularity,
# days since the last release / commit (None: none), days since the content review
INTEGRATIONS = (
    ("Matrix bridge", "Apache-2.0", False, True, 5, 9, 20, 3, 40),
    ("Nextcloud forms", "AGPL-3.0", False, True, 4, 8, 45, 12, 90),
    ("OpenProject sync", "GPL-3.0", False, False, 4, 7, 60, 30, 200),
    ("Zapier connector", None, True, False, 3, 7, 15, 5, 30),
    ("Mattermost alerts", "MIT", False, False, 3, 6, 400, 390, 300),
    ("Grafana panel", "AGPL-3.0", False, True, 2, 6, 100, 80, 60),
    ("Salesforce sync", None, False, False, 5, 6, 10, 2, 20),
    ("WordPress plugin", "GPL-2.0", False, False, 5, 5, 30, 10, 120),
    ("Metabase cards", "AGPL-3.0", False, False, 2, 4, 500, 420, 500),
    ("HubSpot import", None, True, False, 2, 3, 90, 40, 100),
    ("Discourse badges", "GPL-2.0", False, True, 1, 3, 200, 150, 210),
    ("Odoo contacts", "LGPL-3.0", False, False, 3, 2, 380, 370, 150),
)
# Proposals without a catalog entry yet: proposed, not (yet) eligible.
EXTRA_PROPOSALS = (("Jitsi meetings", 4, 1), ("Telegram bot", 6, 0), ("Gitea webhooks", 2, 1))
MEMBERS = 40
GUESTS = 6
NOTICE_EMAIL_ID = "integration_notice"
CATEGORIES = ("Collaboration", "CRM", "Analytics", "Content")


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def _at(day: date, rng: np.random.Generator) -> datetime:
    return datetime.combine(day, time(int(rng.integers(7, 21)), int(rng.integers(0, 60))))


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def frames(seed: int, end_date: date) -> dict[str, pl.DataFrame]:
    """The desk's files as frames, keyed by their path under landing/."""
    rng = np.random.default_rng([seed, 12])
    today = end_date - timedelta(days=1)  # the last day of the window
    fmt = "%Y-%m-%d %H:%M:%S"

    # Members: most joined long ago; some left during the year, some joined during it.
    members = []
    for number in range(1, MEMBERS + 1):
        recent = number % 7 == 0  # a few joined during the last year
        since = today - timedelta(
            days=int(rng.integers(30, 300) if recent else rng.integers(500, 900))
        )
        until = None
        if number % 9 == 0:
            until = today - timedelta(days=int(rng.integers(20, 200)))
            since = min(since, until - timedelta(days=60))
        members.append(
            {
                "member_id": f"m{number:03d}",
                "email": f"member{number:03d}@members.example.org",
                "name": f"Member {number}",
                "member_from": since.isoformat(),
                "member_until": until.isoformat() if until else None,
            }
        )
    member_ids = [m["member_id"] for m in members]
    joined = {m["member_id"]: date.fromisoformat(m["member_from"]) for m in members}
    guests = [f"guest{n}" for n in range(1, GUESTS + 1)]

    proposals, integrations, maintainers, votes = [], [], [], []
    catalog = [(row, True) for row in INTEGRATIONS] + [
        ((name, "MIT", False, False, 0, popularity, None, None, None), False)
        for name, popularity, _ in EXTRA_PROPOSALS
    ]
    for number, (row, listed) in enumerate(catalog, start=1):
        name, licence, partner, member, score, popularity, release, commit, review = row
        slug = _slug(name)
        published = today - timedelta(days=int(rng.integers(330, 450)))
        reference = f"FH-PROP-{published:%Y-%m}-{number}"
        supporters = list(rng.choice(member_ids, size=min(popularity, 9), replace=False))
        if number == 9:  # one proposal supported by exactly 4 members: not eligible
            supporters = supporters[:4]
        supporters += list(rng.choice(guests, size=int(rng.integers(0, 3)), replace=False))
        for voter in supporters:
            # a member who joined after the proposal supports it once a member (one who
            # has left since supported it after leaving: a non-member's vote)
            voted = published + timedelta(days=int(rng.integers(1, 60)))
            voted = max(voted, joined.get(voter, voted) + timedelta(days=1))
            votes.append({"voter": voter, "target": reference, "voted_at": _at(voted, rng)})
        endorsed = 1 if listed or EXTRA_PROPOSALS[number - len(INTEGRATIONS) - 1][2] else 0
        proposals.append(
            {
                "id": str(1000 + number),
                "title/en": name,
                "state": "accepted" if listed else "evaluating",
                "reference": reference,
                "supports": len(supporters),
                "endorsements/total_count": endorsed,
                "comments": int(rng.integers(0, 25)),
                "followers": int(rng.integers(1, 40)),
                "published_at": f"{published.isoformat()}T09:00:00+00:00",
                "url": f"https://community.example.org/processes/integrations/f/7/proposals/"
                f"{1000 + number}",
                "category/name/en": CATEGORIES[number % len(CATEGORIES)],
            }
        )
        if not listed:
            continue
        integration_id = f"int_{slug.replace('-', '_')}"
        email = f"maintainer@{slug}.dev"
        integrations.append(
            {
                "integration_id": integration_id,
                "name": name,
                "proposal_reference": reference,
                "repository_url": f"https://git.example.org/{slug}" if licence else None,
                "licence": licence or "proprietary",
                "is_open_source": "true" if licence else "false",
                "is_partner": "true" if partner else "false",
                "is_member": "true" if member else "false",
                "maintainer_email": email,
                "use_case_score": score,
                "last_release_date": (today - timedelta(days=release)).isoformat(),
                "last_commit_date": (today - timedelta(days=commit)).isoformat(),
                "last_content_review_date": (today - timedelta(days=review)).isoformat(),
            }
        )
        first, _, last = name.partition(" ")
        maintainers.append(
            {
                "email": email,
                "firstname": first,
                "lastname": "maintainers",
                "company": name,
                "twitter": f"@{slug.replace('-', '_')}_dev",
                # a contact export says when each was added: growth reports count them then
                "date_added": f"{today - timedelta(days=400):%Y-%m-%d} 09:00:00",
            }
        )

    # Quarterly home-page votes over the last four quarters: each member votes for up to
    # three integrations, more often for popular ones; some vote twice, guests vote too.
    weights = np.array([row[5] for row in INTEGRATIONS], dtype=float)
    ids = [i["integration_id"] for i in integrations]
    start = _quarter_start(today)
    quarters = []
    for _ in range(4):
        quarters.insert(0, start)
        start = _quarter_start(start - timedelta(days=1))
    for q_start in quarters:
        q_end = min(_quarter_start(q_start + timedelta(days=95)) - timedelta(days=1), today)
        span = (q_end - q_start).days + 1
        shift = rng.permutation(len(ids))[:3]  # the quarter's own favourites
        quarter_weights = weights.copy()
        quarter_weights[shift] += 3
        quarter_weights /= quarter_weights.sum()
        for voter in member_ids + guests:
            if rng.random() < 0.2:
                continue
            picks = rng.choice(
                len(ids), size=int(rng.integers(1, 4)), replace=False, p=quarter_weights
            )
            for pick in picks:
                day = q_start + timedelta(days=int(rng.integers(0, span)))
                votes.append({"voter": voter, "target": ids[pick], "voted_at": _at(day, rng)})
                if rng.random() < 0.08:  # the same vote again: counts once
                    votes.append({"voter": voter, "target": ids[pick], "voted_at": _at(day, rng)})

    votes.sort(key=lambda v: (v["voted_at"], v["voter"], v["target"]))
    vote_frame = pl.DataFrame(votes).with_columns(pl.col("voted_at").dt.strftime(fmt))
    email = {
        "id": NOTICE_EMAIL_ID,
        "name": "Integration removal notice",
        "subject": "Your integration will leave the directory unless it is updated",
        "email_type": "template",
        "category": "integrations",
        "from_address": "community@example-saas.com",
        "published": 1,
        "created_at": (today - timedelta(days=400)).isoformat() + " 00:00:00",
    }
    return {
        "desk/integration_proposals/proposals.csv": pl.DataFrame(proposals),
        "desk/integration_votes/votes.csv": vote_frame,
        "desk/members/members.csv": pl.DataFrame(members),
        "desk/integrations/integrations.csv": pl.DataFrame(integrations),
        "contacts/integration-maintainers.csv": pl.DataFrame(maintainers),
        "catalogs/emails/desk-emails.csv": pl.DataFrame([email]),
    }


# (integration, days before the end the notice was sent): Metabase cards has been at risk for
# 55 days, noticed 35 days ago → removed; Mattermost alerts at risk for 25 days, noticed 10 days
# ago → notice sent. Odoo contacts (at risk for 5 days) has had none: the campaign sends it.
EARLIER_NOTICES = (("Metabase cards", 35), ("Mattermost alerts", 10))


def notices(end_date: date) -> pl.DataFrame:
    rows = []
    for name, days in EARLIER_NOTICES:
        sent = datetime.combine(end_date - timedelta(days=days), time(9, 0))
        key = f"integration_removal_notice:{_slug(name)}"
        rows.append(
            {
                "event_id": f"act:{key}:email_sent",
                "event_type": "email_sent",
                "occurred_at": sent.isoformat() + "Z",
                "contact_key": f"maintainer@{_slug(name)}.dev",
                "properties": {
                    "campaign_id": "integration_removal_notice",
                    "step_id": "removal_notice",
                    "email_id": NOTICE_EMAIL_ID,
                },
            }
        )
    return pl.DataFrame(rows)


# Social monitoring: people who post about the product. Maintainers (known by their twitter
# handle) and a few strangers, who post more than once (each becomes one contact).
STRANGERS = ("ada_codes", "growthgeek", "oss_marketer", "dataduck", "campaignqueen")
HASHTAGS = ("funnelhouse", "opensourcemarketing", "martech", "duckdb", "dbt")
PLATFORMS = ("twitter", "twitter", "twitter", "mastodon", "linkedin")


def mentions(seed: int, end_date: date, days: int) -> pl.DataFrame:
    rng = np.random.default_rng([seed, 13])
    maintainers = [f"{_slug(row[0]).replace('-', '_')}_dev" for row in INTEGRATIONS]
    authors = [(h, "twitter", f"{h.split('_')[0].title()} maintainers") for h in maintainers]
    authors += [(h, PLATFORMS[i % len(PLATFORMS)], h.title()) for i, h in enumerate(STRANGERS)]
    span = max(1, min(days, 90))
    rows = []
    for number in range(40):
        handle, platform, name = authors[int(rng.integers(0, len(authors)))]
        tags = list(rng.choice(HASHTAGS, size=int(rng.integers(0, 3)), replace=False))
        mention = rng.random() < 0.5
        text = (
            "Loving @funnelhouse for our campaigns"
            if mention
            else "Marketing data, warehouse-first"
        ) + "".join(f" #{t}" for t in tags)
        posted = datetime.combine(end_date, time(0)) - timedelta(
            days=int(rng.integers(1, span + 1)), minutes=int(rng.integers(0, 1440))
        )
        rows.append(
            {
                "platform": platform,
                "post_id": f"{platform}-{seed}-{number}",
                "author_handle": "@" + handle if rng.random() < 0.5 else handle,
                "author_name": name,
                "text": text,
                "hashtags": tags,
                "posted_at": posted.isoformat() + "Z",
                "url": f"https://{platform}.example/{handle}/{number}",
            }
        )
    return pl.DataFrame(rows, schema_overrides={"hashtags": pl.List(pl.String)})


# Search Console: (query, page, daily impressions, click-through rate, position).
QUERIES = (
    ("marketing automation", "/", 120, 0.04, 8.5),
    ("open source marketing automation", "/", 60, 0.12, 3.2),
    ("mautic alternative", "/features", 45, 0.09, 5.1),
    ("lead scoring model", "/blog/lead-scoring-model", 80, 0.015, 11.0),
    ("what is marketing automation", "/blog/what-is-marketing-automation", 150, 0.01, 14.2),
    ("email deliverability checklist", "/blog/email-deliverability-checklist", 40, 0.05, 6.8),
    ("marketing automation pricing", "/pricing", 25, 0.2, 2.1),
    ("duckdb marketing", "/blog/what-is-marketing-automation", 8, 0.0, 24.0),
    ("funnelhouse", "/", 30, 0.5, 1.1),
)
SOCIAL_ACCOUNTS = (("twitter", 2400, 4), ("linkedin", 1300, 6), ("mastodon", 600, 2))
SCORECARD_DAYS = 200  # two quarters and more, whatever the window: quarter-over-quarter


def search_console(seed: int, end_date: date) -> pl.DataFrame:
    rng = np.random.default_rng([seed, 14])
    rows = []
    for back in range(SCORECARD_DAYS, 0, -1):
        day = end_date - timedelta(days=back)
        trend = 1 + (SCORECARD_DAYS - back) / SCORECARD_DAYS  # growing traffic
        for query, page, impressions, ctr, position in QUERIES:
            shown = int(rng.poisson(impressions * trend))
            if shown == 0:
                continue
            clicks = int(rng.binomial(shown, ctr))
            rows.append(
                {
                    "date": day.isoformat(),
                    "query": query,
                    "page": f"https://example-saas.com{page}",
                    "clicks": clicks,
                    "impressions": shown,
                    "ctr": f"{100 * clicks / shown:.2f}%",
                    "position": round(max(1.0, position + rng.normal(0, 0.8)), 1),
                }
            )
    return pl.DataFrame(rows)


def social_analytics(seed: int, end_date: date) -> pl.DataFrame:
    rng = np.random.default_rng([seed, 15])
    rows = []
    for platform, followers, posts_per_week in SOCIAL_ACCOUNTS:
        count = followers
        for back in range(SCORECARD_DAYS, 0, -1):
            day = end_date - timedelta(days=back)
            count += int(rng.integers(-2, 8))
            rows.append(
                {
                    "platform": platform,
                    "date": day.isoformat(),
                    "post_id": None,
                    "followers": count,
                    "impressions": int(rng.poisson(count * 0.05)),
                    "engagements": int(rng.poisson(count * 0.002)),
                }
            )
            if rng.random() < posts_per_week / 7:
                impressions = int(rng.poisson(count * 0.4))
                rows.append(
                    {
                        "platform": platform,
                        "date": day.isoformat(),
                        "post_id": f"{platform}-{day:%Y%m%d}",
                        "followers": count,
                        "impressions": impressions,
                        "engagements": int(rng.binomial(impressions, 0.03)),
                    }
                )
    return pl.DataFrame(rows, schema_overrides={"post_id": pl.String})


def write(
    home: Home, seed: int, end_date: date, staging: Path, days: int = 90
) -> tuple[list[Path], dict[str, int]]:
    """Writes the desk's files; returns them and the rows they add to the shared sources
    (raw.contacts, the email catalog, events by type), which the summary counts."""
    written = []
    shared = {}
    for relative, frame in frames(seed, end_date).items():
        written.append(writer.write_csv(frame, home.landing / relative, staging))
        if not relative.startswith("desk/"):
            shared[relative.split("/")[-2]] = frame.height  # contacts, emails
    path = home.landing / "events" / "desk-notices.jsonl"
    notice_events = notices(end_date)
    written.append(writer.write_ndjson([notice_events], path, staging))
    for event_type, count in notice_events["event_type"].value_counts().iter_rows():
        shared[f"events:{event_type}"] = count
    for folder, frame in (
        ("search_console", search_console(seed, end_date)),
        ("social_analytics", social_analytics(seed, end_date)),
    ):
        path = home.landing / "desk" / folder / f"{folder}.csv"
        written.append(writer.write_csv(frame, path, staging))
    path = home.landing / "desk" / "social_mentions" / "mentions.jsonl"
    written.append(writer.write_ndjson([mentions(seed, end_date, days)], path, staging))
    return written, shared
