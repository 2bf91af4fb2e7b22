"""Social monitoring (issue 12) on a real home: a JSON-lines mentions file, ingest with
quarantine, dbt on the real warehouse, authors matched to contacts by handle.

Worked by hand (reference time t = a day some days ago, 12:00; monitors of
seeds/social_monitors.csv: @funnelhouse 5 points and #funnelhouse 3, both feeding the segment
social_mentioners; #opensourcemarketing 1):

    ann  (contact ann@example.com, twitter '@Ann_Dev')  t-2d  "@ann_dev" on X:
         "Trying @FunnelHouse" #opensourcemarketing → 5 + 1 = 6 points, hers
    bob  (contact bob@example.com, twitter 'bobby')    t-40d "Love @funnelhouse" → 5 points,
         his, but 40 days ago: not in the 30-day segment
    newbie (no contact)  t-3d "@funnelhouse rocks" (5) and t-1d "#funnelhouse" (3) → one new
         contact social:twitter:newbie (a dim_contacts row with no email) with 2 posts and 8
         points
    carol (no contact)   t-1d "nice weather" #weather → matches no monitor: not a mention
    a line without posted_at → quarantined
    segment social_mentioners: ann and the handle-keyed newbie (bob too long ago)

Then newbie identifies with an email and the same handle: the posts and their 8 points move
to that contact, the handle-keyed contact is gone (merged), and the email contact takes its
place in the segment.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest.home import Home
from ingest.loader import ingest
from tests.conftest import query

SELECT = (
    "--select",
    "+dim_social_authors",
    "+seg_social_mentioners",
    "social_monitors",
    "--indirect-selection",
    "cautious",
)


def at() -> datetime:
    day = datetime.now(UTC).replace(tzinfo=None, hour=12, minute=0, second=0, microsecond=0)
    return day - timedelta(days=2)


def iso(moment: datetime) -> str:
    return moment.isoformat() + "Z"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def post(post_id, platform, handle, text, tags, posted_at) -> dict:
    return {
        "platform": platform,
        "post_id": post_id,
        "author_handle": handle,
        "author_name": handle.strip("@").title(),
        "text": text,
        "hashtags": tags,
        "posted_at": iso(posted_at) if posted_at else None,
        "url": f"https://social.example/{post_id}",
    }


def story(home: Home, t: datetime) -> None:
    write(
        home.landing / "contacts" / "contacts.csv",
        "email,firstname,twitter\nann@example.com,Ann,@Ann_Dev\nbob@example.com,Bob,bobby\n",
    )
    posts = [
        post(
            "1", "X", "@ann_dev", "Trying @FunnelHouse", ["OpenSourceMarketing"], t - timedelta(2)
        ),
        post("2", "twitter", "bobby", "Love @funnelhouse", [], t - timedelta(40)),
        post("3", "twitter", "@newbie", "@funnelhouse rocks", [], t - timedelta(3)),
        post("4", "twitter", "newbie", "so good", ["#funnelhouse"], t - timedelta(1)),
        post("5", "twitter", "carol", "nice weather", ["weather"], t - timedelta(1)),
        post("6", "twitter", "dave", "@funnelhouse", [], None),
    ]
    write(
        home.landing / "desk" / "social_mentions" / "mentions.jsonl",
        "".join(json.dumps(p) + "\n" for p in posts),
    )


def build(home: Home, dbt_worker, t: datetime) -> None:
    ingest(home)
    reference = json.dumps({"segment_reference_time": t.strftime("%Y-%m-%d %H:%M:%S")})
    result = dbt_worker.run(home, "build", *SELECT, "--vars", reference)
    assert result.returncode == 0, result.stdout[-5000:]


def contact_id(home: Home, email: str) -> str:
    return query(home, f"select contact_id from marts.dim_contacts where email = '{email}'")[0][0]


def points(home: Home) -> list[tuple]:
    """(contact_id, monitor_id, delta) of the ledger's monitor rows, and each contact's points."""
    ledger = query(
        home,
        "select contact_id, monitor_id, delta from marts.fct_points_ledger "
        "where entry_type = 'monitor' order by all",
    )
    totals = query(home, "select contact_id, points from marts.dim_contacts where points <> 0")
    return ledger, sorted(totals)


NEWBIE_HANDLE = hashlib.md5(b"social:twitter:newbie").hexdigest()  # dbt.hash of its key


def test_mentions_become_contacts_by_handle_points_and_a_segment(home, dbt_worker):
    t = at()
    story(home, t)
    build(home, dbt_worker, t)
    assert query(home, "select file, source_row, field, reason from raw.quarantine") == [
        ("desk/social_mentions/mentions.jsonl", 6, "posted_at", "posted_at: missing"),
    ]
    ann, bob = contact_id(home, "ann@example.com"), contact_id(home, "bob@example.com")
    mentions = query(
        home,
        "select post_id, contact_id, author_key, is_existing_contact, points "
        "from marts.fct_social_mentions order by post_id",
    )
    assert mentions == [
        ("1", ann, "ann@example.com", True, 6),
        ("2", bob, "bob@example.com", True, 5),
        ("3", NEWBIE_HANDLE, "social:twitter:newbie", False, 5),
        ("4", NEWBIE_HANDLE, "social:twitter:newbie", False, 3),
    ]
    authors = query(
        home,
        "select contact_id, mentions, points from marts.dim_social_authors order by all",
    )
    assert authors == sorted(
        [(ann, 1, 6), (bob, 1, 5), (NEWBIE_HANDLE, 2, 8)]
    )  # one new contact for newbie's two posts, not two
    # … and that contact is a known contact: no email, its handle, its name, its first post
    assert query(
        home,
        "select email, social_handle, first_name, created_at, preferred_channel "
        f"from marts.dim_contacts where contact_id = '{NEWBIE_HANDLE}'",
    ) == [(None, "twitter:newbie", "Newbie", t - timedelta(3), None)]
    # The monitors' points are ledger rows (5 + 1 for ann, 5 for bob, 5 + 3 for newbie).
    assert points(home) == (
        sorted(
            [
                (ann, "mentions_funnelhouse", 5),
                (ann, "hashtag_opensourcemarketing", 1),
                (bob, "mentions_funnelhouse", 5),
                (NEWBIE_HANDLE, "mentions_funnelhouse", 5),
                (NEWBIE_HANDLE, "hashtag_funnelhouse", 3),
            ]
        ),
        sorted([(ann, 6), (bob, 5), (NEWBIE_HANDLE, 8)]),
    )
    members = query(home, "select contact_id from segments.seg_social_mentioners order by 1")
    assert members == sorted([(ann,), (NEWBIE_HANDLE,)])

    # newbie identifies with an email and the handle: the posts move to that contact
    write(
        home.landing / "events" / "identify.jsonl",
        json.dumps(
            {
                "type": "identify",
                "messageId": "id-newbie",
                "timestamp": iso(t - timedelta(hours=1)),
                "anonymousId": "anon-newbie",
                "traits": {"email": "newbie@example.com", "twitter": "@Newbie"},
            }
        )
        + "\n",
    )
    build(home, dbt_worker, t)
    newbie = contact_id(home, "newbie@example.com")
    authors = query(
        home,
        "select contact_id, mentions, points from marts.dim_social_authors order by all",
    )
    assert authors == sorted([(ann, 1, 6), (bob, 1, 5), (newbie, 2, 8)])
    assert query(
        home, f"select count(*) from marts.dim_contacts where contact_id = '{NEWBIE_HANDLE}'"
    ) == [(0,)]
    # the incremental ledger moved the rows: none left on the handle-keyed id
    ledger, totals = points(home)
    assert NEWBIE_HANDLE not in {row[0] for row in ledger}
    assert sorted(row for row in ledger if row[0] == newbie) == sorted(
        [(newbie, "mentions_funnelhouse", 5), (newbie, "hashtag_funnelhouse", 3)]
    )
    assert totals == sorted([(ann, 6), (bob, 5), (newbie, 8)])
    members = query(home, "select contact_id from segments.seg_social_mentioners order by 1")
    assert members == sorted([(ann,), (newbie,)])
