"""Segments: the filter vocabulary on hand-made rows whose answers were worked out by hand, the
demo segments cross-checked with hand-written SQL on a generated home, and segment_history /
segment_membership across builds (nothing new when nothing changed, `since` kept, nothing
invented by --full-refresh).

Relative dates are pinned with the dbt var segment_reference_time. The dbt commands go through
the session's dbt worker (one parse, although --vars change from one command to the next)."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from ingest.generator import generate
from ingest.home import Home
from ingest.loader import ingest
from tests.conftest import query


@pytest.fixture(scope="module")
def dbt(dbt_worker):
    """``dbt(home, *args, reference_time=...)``: a dbt command with the segments' clock pinned."""

    def run(home: Home, *args: str, reference_time: str | None = None):
        if reference_time:
            args += ("--vars", json.dumps({"segment_reference_time": reference_time}))
        return dbt_worker.run(home, *args)

    return run


def ok(result) -> None:
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]


# ── The vocabulary on hand-made rows ────────────────────────────────────────────────────────

CONTACTS = """
with contact as (
    select * from (values
        ('a', 'Foo_bar', 10, cast('2026-03-31 10:00:00' as timestamp),
         '{"industry": "Software", "size": "250"}', '|newsletter|webinar|'),
        ('b', 'foobar', 5, cast('2026-03-30 23:00:00' as timestamp),
         '{"industry": "retail", "size": "abc"}', '|ebook|'),
        ('c', null, null, null, null, null),
        ('d', '50% off', 20, cast('2025-03-31 08:00:00' as timestamp),
         '{"size": "1000"}', '|newsletter|')
    ) as t(contact_id, name, score, created_at, custom_fields, tags)
)
"""

# filter → the contacts it must select, at reference time 2026-03-31 15:20 (a Tuesday)
FILTERS = {
    "contact_field('name', '=', 'FOO_BAR')": "a",
    "contact_field('name', '!=', 'foo_bar')": "bcd",  # negative operators keep empty values
    "contact_field('name', 'startsWith', 'foo_')": "a",  # _ is literal, not a wildcard
    "contact_field('name', 'like', 'oo')": "ab",  # like without % means contains
    "contact_field('name', 'like', 'foo%')": "ab",
    "contact_field('name', '!like', '%bar')": "cd",
    "contact_field('name', 'endsWith', 'BAR')": "ab",
    "contact_field('name', 'contains', '%')": "d",
    "contact_field('name', 'regexp', '^foo_?bar$')": "ab",
    "contact_field('name', '!regexp', '^foo')": "cd",
    "contact_field('name', 'in', ['foobar', '50% OFF'])": "bd",
    "contact_field('name', '!in', ['foobar'])": "acd",
    "contact_field('name', 'empty')": "c",
    "contact_field('name', '!empty')": "abd",
    "contact_field('score', 'gt', 5)": "ad",
    "contact_field('score', 'lte', 5)": "b",
    "contact_field('score', 'between', [5, 10])": "ab",
    "contact_field('score', '!between', [5, 10])": "cd",
    "contact_field('created_at', '=', 'today')": "a",
    "contact_field('created_at', '=', 'yesterday')": "b",
    "contact_field('created_at', 'gte', '-1 day')": "ab",
    "contact_field('created_at', 'lt', 'this month')": "d",
    "contact_field('created_at', '=', 'anniversary')": "ad",
    "contact_field('created_at', '!=', 'this year')": "cd",
    "contact_field('created_at', 'between', ['2026-03-30', '2026-03-30'])": "b",
    "contact_field('created_at', 'gt', '2026-03-31 09:00')": "a",
    "contact_field('created_at', 'lte', '-6 hours')": "bd",  # up to 09:20 today
    "contact_field('created_at', '=', 'this week')": "ab",  # from Monday 03-30
    "contact_field('created_at', '=', 'last year')": "d",
    "custom_field('industry', '=', 'software')": "a",
    "custom_field('industry', '!=', 'Software')": "bcd",
    "custom_field('size', 'gte', 250)": "ad",  # 'abc' is no number
    "custom_field('industry', 'empty')": "cd",
    "tags('has_any', ['webinar', 'ebook'])": "ab",
    "tags('has_all', ['newsletter', 'webinar'])": "a",
    "tags('has_none', ['newsletter'])": "bc",
}


def test_filter_operators_and_relative_dates(dbt, home):
    columns = ",\n".join(f"    {{{{ {f} }}}} as f{i}" for i, f in enumerate(FILTERS))
    sql = f"{CONTACTS}\nselect contact_id,\n{columns}\nfrom contact order by contact_id"
    result = dbt(
        home,
        "--quiet",
        "show",
        "--inline",
        sql,
        "--output",
        "json",
        "--limit",
        "10",
        reference_time="2026-03-31 15:20:00",
    )
    ok(result)
    rows = json.loads(result.stdout[result.stdout.index("{") :])["show"]
    for i, (condition, expected) in enumerate(FILTERS.items()):
        selected = "".join(row["contact_id"] for row in rows if row[f"f{i}"] is True)
        assert selected == expected, condition


def test_relative_dates_resolve_against_the_reference_time(dbt, home):
    values = {
        "now": ("2026-03-31T15:20:00", None),
        "today": ("2026-03-31T00:00:00", "2026-04-01T00:00:00"),
        "yesterday": ("2026-03-30T00:00:00", "2026-03-31T00:00:00"),
        "tomorrow": ("2026-04-01T00:00:00", "2026-04-02T00:00:00"),
        "this week": ("2026-03-30T00:00:00", "2026-04-06T00:00:00"),
        "last week": ("2026-03-23T00:00:00", "2026-03-30T00:00:00"),
        "this month": ("2026-03-01T00:00:00", "2026-04-01T00:00:00"),
        "last month": ("2026-02-01T00:00:00", "2026-03-01T00:00:00"),
        "next month": ("2026-04-01T00:00:00", "2026-05-01T00:00:00"),
        "this quarter": ("2026-01-01T00:00:00", "2026-04-01T00:00:00"),
        "this year": ("2026-01-01T00:00:00", "2027-01-01T00:00:00"),
        "last year": ("2025-01-01T00:00:00", "2026-01-01T00:00:00"),
        "-7 days": ("2026-03-24T00:00:00", "2026-03-25T00:00:00"),
        "+1 month": ("2026-04-30T00:00:00", "2026-05-01T00:00:00"),  # 31 March + 1 month
        "-2 weeks": ("2026-03-17T00:00:00", "2026-03-18T00:00:00"),
        "-6 hours": ("2026-03-31T09:20:00", None),
        "2026-02-28": ("2026-02-28T00:00:00", "2026-03-01T00:00:00"),
        "2026-02-28 13:45": ("2026-02-28T13:45:00", None),
    }
    selects = " union all ".join(
        f"select '{v}' as value, {{{{ segment_date_bounds('{v}').start }}}} as starts,"
        f" {{{{ segment_date_bounds('{v}').end or 'null' }}}} as ends"
        for v in values
    )
    result = dbt(
        home,
        "--quiet",
        "show",
        "--inline",
        selects,
        "--output",
        "json",
        "--limit",
        "100",
        reference_time="2026-03-31 15:20:00",
    )
    ok(result)
    rows = json.loads(result.stdout[result.stdout.index("{") :])["show"]
    assert {r["value"]: (r["starts"], r["ends"]) for r in rows} == values


def test_unknown_operator_and_date_are_clear_errors(dbt, home):
    result = dbt(home, "compile", "--inline", "select {{ contact_field('name', 'bogus', 1) }}")
    assert result.returncode != 0
    assert "Unknown segment operator 'bogus'" in result.stdout
    result = dbt(
        home,
        "compile",
        "--inline",
        "select {{ contact_field('created_at', 'gte', 'fortnight ago') }}",
    )
    assert result.returncode != 0
    assert "Segment date 'fortnight ago' is not one of" in result.stdout


# ── The demo segments and the marts across builds ───────────────────────────────────────────

T1 = "2026-07-02 00:00:00"
T2 = "2026-07-16 00:00:00"
SEGMENT_RUN = ("run", "--select", "tag:segment", "segment_history", "segment_membership")


@pytest.fixture(scope="module")
def segment_home(tmp_path_factory, dbt) -> Home:
    home = Home.resolve(tmp_path_factory.mktemp("segments") / "home").ensure()
    generate(home, contacts=600, days=45, seed=11, end_date=date(2026, 7, 1))
    ingest(home)
    # Unit tests run below, on their own: some need their model built once already.
    ok(
        dbt(
            home,
            "build",
            "--select",
            "+segment_membership",
            "--exclude",
            "test_type:unit",
            # only tests whose every parent is built (relationships from other models to
            # dim_contacts are not)
            "--indirect-selection",
            "cautious",
            reference_time=T1,
        )
    )
    return home


def segment_sizes(home: Home) -> dict[str, int]:
    return dict(query(home, "select segment_id, count(*) from marts.segment_membership group by 1"))


def test_segment_unit_tests_pass(segment_home, dbt):
    ok(
        dbt(
            segment_home,
            "test",
            "--select",
            "test_type:unit,tag:segment",
            "test_type:unit,segment_history",
            "test_type:unit,segment_membership",
            reference_time=T1,
        )
    )


def test_demo_segments_match_hand_written_sql(segment_home):
    home = segment_home
    sizes = segment_sizes(home)
    expected = {
        "email_dnc": "select count(*) from marts.dim_contacts where is_dnc_email",
        "uk_de_new": "select count(*) from marts.dim_contacts"
        " where country in ('United Kingdom', 'Germany') and created_at >= '2026-04-03'",
        "paid_search_first_touch": "select count(*) from marts.dim_contacts"
        " where lower(first_source) = 'google' and lower(first_medium) = 'cpc'",
        "enterprise_contacts": "select count(*) from marts.dim_contacts c"
        " join marts.dim_companies co using (company_id) where co.employee_count >= 5000",
        "frequent_visitors": "select count(*) from (select contact_id from marts.fct_events"
        " where event_type = 'page_hit' and contact_id is not null"
        " and occurred_at >= '2026-06-02' group by 1 having count(*) >= 10)",
        "reengagement": "select count(*) from marts.dim_contacts"
        " where last_active_at < '2026-05-03' and not is_dnc_email",
        "newsletter_non_openers": """
            select count(*) from marts.dim_contacts c
            where not c.is_dnc_email
              and c.contact_id in (
                select contact_id from marts.fct_events
                where event_type = 'email_sent' and occurred_at >= '2026-06-02'
                  and email_id in ('4', '6', '7', '8', '9', '11', '12'))
              and c.contact_id not in (
                select contact_id from marts.fct_events
                where event_type in ('email_open', 'email_click') and contact_id is not null
                  and occurred_at >= '2026-06-02'
                  and email_id in ('4', '6', '7', '8', '9', '11', '12'))""",
        "nurture": """
            select count(*) from marts.dim_contacts c
            where c.contact_id in (
                select contact_id from segments.seg_playbook_downloaders
                union select contact_id from segments.seg_webinar_registrants)
              and c.contact_id not in (
                select contact_id from segments.seg_hot_leads
                union select contact_id from segments.seg_email_dnc)
              and (c.tags is null or c.tags not like '%|customer|%')""",
    }
    for segment_id, sql in expected.items():
        ((count,),) = query(home, sql)
        assert sizes.get(segment_id, 0) == count, segment_id
    # the demo's behaviour fills the segments (hot leads need points: not checked here)
    for segment_id in (
        "email_dnc",
        "enterprise_contacts",
        "newsletter_engaged",
        "newsletter_non_openers",
        "paid_search_first_touch",
        "playbook_downloaders",
        "webinar_registrants",
        "linkedin_responders",
        "uk_de_new",
        "nurture",
    ):
        assert sizes.get(segment_id, 0) > 0, segment_id
    ((contacts,),) = query(home, "select count(*) from marts.dim_contacts")
    assert sizes["enterprise_contacts"] < contacts


def test_history_and_since_across_builds(segment_home, dbt):
    home = segment_home
    members_t1 = set(query(home, "select segment_id, contact_id from marts.segment_membership"))
    assert members_t1
    assert query(home, "select distinct since from marts.segment_membership") == [
        (datetime(2026, 7, 2),)
    ]
    assert query(
        home, "select distinct change, is_baseline, build_number from marts.segment_history"
    ) == [("added", True, 1)]
    # membership is the union of the segment models
    (union,) = query(
        home,
        "select count(*) from ("
        + " union all ".join(
            f"select contact_id from segments.{table}"
            for (table,) in query(
                home,
                "select table_name from information_schema.tables where table_schema = 'segments'",
            )
        )
        + ")",
    )[0]
    assert union == len(members_t1)

    # the same build again: nothing changed, nothing logged
    ok(dbt(home, *SEGMENT_RUN, reference_time=T1))
    assert query(home, "select max(build_number), count(*) from marts.segment_history")[0] == (
        1,
        len(members_t1),
    )

    # two weeks later, same data: windows move on, contacts leave and join
    ok(dbt(home, *SEGMENT_RUN, reference_time=T2))
    changes = dict(
        query(
            home,
            "select change, count(*) from marts.segment_history where build_number = 2 group by 1",
        )
    )
    assert changes.get("removed", 0) > 0 and changes.get("added", 0) > 0
    # No baseline for a segment the first build logged. (One with no member then has nothing
    # logged, so its first members count as its baseline: a known limitation.)
    assert query(
        home,
        "select count(*) from marts.segment_history where build_number = 2 and is_baseline"
        " and segment_id in (select segment_id from marts.segment_history where build_number = 1)",
    ) == [(0,)]
    since = dict(
        ((s, c), t)
        for s, c, t in query(
            home, "select segment_id, contact_id, since from marts.segment_membership"
        )
    )
    for pair, entered in since.items():
        assert entered == (datetime(2026, 7, 2) if pair in members_t1 else datetime(2026, 7, 16))
    # the log's state is the membership
    logged = set(
        query(
            home,
            "select segment_id, contact_id from marts.segment_history group by 1, 2"
            " having sum(case when change = 'added' then 1 else -1 end) > 0",
        )
    )
    assert logged == set(since)

    # a full refresh rebuilds everything but invents no history
    rows_before = query(home, "select count(*) from marts.segment_history")
    ok(dbt(home, *SEGMENT_RUN, "--full-refresh", reference_time=T2))
    assert query(home, "select count(*) from marts.segment_history") == rows_before
    assert (
        dict(
            ((s, c), t)
            for s, c, t in query(
                home, "select segment_id, contact_id, since from marts.segment_membership"
            )
        )
        == since
    )
