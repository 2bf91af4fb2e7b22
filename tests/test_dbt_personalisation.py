"""Personalisation marts (dbt_project/models/marts/_personalisation.yml) on the generated,
built and published home: what the tracking collector reads to answer /content/{slot},
/focus, /asset/{id} and who an anonymous id is.

The published assignments are checked against an oracle written here in Python from the
rules seed, dim_contacts and segment_membership (not from the models' SQL). The hand-worked
cases are dbt unit tests, run by the build. Read-only: the shared home is never written."""

from __future__ import annotations

import csv

import pytest

from tests.conftest import ROOT, published

SEED = ROOT / "dbt_project" / "seeds" / "personalisation_rules.csv"
PAYLOAD = ["item_name", "variant", "content", "url", "style", "focus_type"]
CONTRACT = {
    "dim_dynamic_content": ["dynamic_content_id", "name", "slot_name", "variant", "content"],
    "dim_focus_items": ["focus_item_id", "name", "focus_type", "style", "url"],
    "dim_assets": [
        "asset_id", "title", "alias", "url", "extension", "category", "downloads", "downloaders",
    ],
    "dim_tracking_ids": ["anonymous_id", "email", "contact_id", "linked_at"],
    "personalisation_assignments": [
        "email", "contact_id", "kind", "slot", "rule_id", "item_id", "priority", *PAYLOAD,
    ],
    "personalisation_defaults": ["kind", "slot", "rule_id", "item_id", "priority", *PAYLOAD],
}  # fmt: skip


def rules() -> list[dict]:
    """The seed as the build read it, empty cells as None."""
    with SEED.open(encoding="utf-8", newline="") as handle:
        rows = [{k: (v.strip() or None) for k, v in row.items()} for row in csv.DictReader(handle)]
    for row in rows:
        row["priority"] = int(row["priority"])
    return rows


def shown_rules(home) -> list[dict]:
    """Rules whose item is published (the others show nothing)."""
    live = set(
        published(
            home,
            "select 'dynamic_content', dynamic_content_id from marts.dim_dynamic_content"
            " where is_published union all"
            " select 'focus', focus_item_id from marts.dim_focus_items where is_published",
        )
    )
    return [r for r in rules() if (r["kind"], r["item_id"]) in live]


def rank(rule: dict) -> tuple[int, str]:
    """Lower wins: priority, then rule_id."""
    return rule["priority"], rule["rule_id"]


def holds(operator: str, actual: str | None, expected: str | None) -> bool:
    """A rule's condition, as the seed's documentation states it."""
    actual = actual.lower() if actual is not None else None
    expected = expected.lower() if expected is not None else None
    if operator == "empty":
        return not (actual or "").strip()
    if operator == "not_empty":
        return bool((actual or "").strip())
    if operator == "neq":
        return actual is None or actual != expected
    if actual is None or expected is None:
        return False
    if operator == "eq":
        return actual == expected
    if operator == "in":
        return actual in [item.strip() for item in expected.split("|")]
    if operator == "contains":
        return expected in actual
    if operator in ("gte", "lte"):
        try:
            a, e = float(actual), float(expected)
        except ValueError:
            a, e = actual, expected  # type: ignore[assignment]
        return a >= e if operator == "gte" else a <= e
    raise AssertionError(f"unknown operator {operator}")


@pytest.fixture(scope="module")
def assignments(built_home) -> dict[tuple[str, str, str], dict]:
    columns = CONTRACT["personalisation_assignments"]
    rows = published(
        built_home, f"select {', '.join(columns)} from marts.personalisation_assignments"
    )
    return {(r[0], r[2], r[3]): dict(zip(columns, r, strict=True)) for r in rows}


def test_the_five_marts_are_published_with_the_collectors_columns(built_home) -> None:
    for table, expected in CONTRACT.items():
        columns = [
            name
            for (name,) in published(
                built_home,
                "select column_name from information_schema.columns"
                " where table_schema = 'marts' and table_name = ? order by ordinal_position",
                [table],
            )
        ]
        assert [c for c in columns if c in expected] == expected, (table, columns)
    assert published(built_home, "select count(*) > 0 from marts.personalisation_assignments")
    [(html,)] = published(
        built_home,
        "select count(*) from marts.dim_dynamic_content"
        " where is_published and coalesce(content, '') not like '<%>%'",
    )
    assert html == 0, "every published variant has HTML to show"


def test_every_contact_gets_the_winning_rule_of_the_seed(built_home, assignments) -> None:
    live = shown_rules(built_home)
    fields = sorted({r["field"] for r in live if r["field"]})
    contacts = published(
        built_home,
        "select contact_id, email"
        + "".join(f", cast({field} as varchar)" for field in fields)
        + " from marts.dim_contacts where email is not null",  # assignments are keyed by email
    )
    members = set(
        published(built_home, "select contact_id, segment_id from marts.segment_membership")
    )
    expected: dict[tuple[str, str, str], dict] = {}
    for contact_id, email, *values in contacts:
        row = dict(zip(fields, values, strict=True))
        for rule in live:
            if rule["segment"] and (contact_id, rule["segment"]) not in members:
                continue
            if rule["field"] and not holds(rule["operator"], row[rule["field"]], rule["value"]):
                continue
            key = (email, rule["kind"], rule["slot"])
            if key not in expected or rank(rule) < rank(expected[key]):
                expected[key] = rule
    assert {k: v["rule_id"] for k, v in expected.items()} == {
        k: v["rule_id"] for k, v in assignments.items()
    }
    assert all(assignments[k]["item_id"] == v["item_id"] for k, v in expected.items())
    # the demo data exercises targeting: per kind, some get a targeted item, some the default
    for kind in ("dynamic_content", "focus"):
        won = {v["rule_id"] for k, v in expected.items() if k[1] == kind}
        defaults = {r["rule_id"] for r in live if not r["segment"] and not r["field"]}
        assert won & defaults and won - defaults, (kind, won)


def test_segment_members_get_the_rules_item_unless_a_better_rule_applies(built_home) -> None:
    targeted = [r for r in shown_rules(built_home) if r["segment"] and not r["field"]]
    assert targeted
    for rule in targeted:
        # members whose assignment is not this rule's item although no rule ranks before it
        wrong = published(
            built_home,
            "select members.contact_id, assigned.rule_id, assigned.item_id"
            " from marts.segment_membership as members"
            " inner join marts.dim_contacts as contacts using (contact_id)"
            " left join marts.personalisation_assignments as assigned"
            "   on assigned.contact_id = members.contact_id"
            "   and assigned.kind = ? and assigned.slot = ?"
            " where members.segment_id = ?"
            "   and (assigned.rule_id is null or not ("
            "     assigned.priority < ?"
            "     or (assigned.priority = ? and assigned.rule_id < ?)"
            "     or assigned.item_id = ?))",
            [
                rule["kind"], rule["slot"], rule["segment"], rule["priority"], rule["priority"],
                rule["rule_id"], rule["item_id"],
            ],
        )  # fmt: skip
        assert wrong == [], rule["rule_id"]


def test_defaults_exist_for_every_slot_used(built_home, assignments) -> None:
    live = shown_rules(built_home)
    defaults = {
        (kind, slot): (rule_id, item_id)
        for kind, slot, rule_id, item_id in published(
            built_home, "select kind, slot, rule_id, item_id from marts.personalisation_defaults"
        )
    }
    used = {(r["kind"], r["slot"]) for r in live} | {(k[1], k[2]) for k in assignments}
    assert used == set(defaults)
    for (kind, slot), (rule_id, item_id) in defaults.items():
        best = min(
            (r for r in live if (r["kind"], r["slot"]) == (kind, slot) and not r["segment"]
             and not r["field"]),
            key=rank,
        )  # fmt: skip
        assert (rule_id, item_id) == (best["rule_id"], best["item_id"])
    assert ("focus", "site") in defaults
    # the payload is the item's catalog row
    assert published(
        built_home,
        "select count(*) from marts.personalisation_defaults as d"
        " left join marts.dim_dynamic_content as c on d.item_id = c.dynamic_content_id"
        " left join marts.dim_focus_items as f on d.item_id = f.focus_item_id"
        " where (d.kind = 'dynamic_content' and (d.content is distinct from c.content"
        "        or d.variant is distinct from c.variant or d.url is not null))"
        "    or (d.kind = 'focus' and (d.url is distinct from f.url"
        "        or d.style is distinct from f.style or d.content is not null))",
    ) == [(0,)]


def test_every_contact_is_assigned_every_slot_with_a_default(built_home, assignments) -> None:
    slots = published(built_home, "select kind, slot from marts.personalisation_defaults")
    # every contact with an email (social authors known by handle only have nothing to show it to)
    [(contacts,)] = published(
        built_home, "select count(*) from marts.dim_contacts where email is not null"
    )
    for kind, slot in slots:
        assert sum(1 for k in assignments if k[1:] == (kind, slot)) == contacts, (kind, slot)


def test_tracking_ids_agree_with_the_latest_attribution_in_fct_events(built_home) -> None:
    latest = dict(
        published(
            built_home,
            "select anonymous_id, email from ("
            " select anonymous_id, email, row_number() over ("
            "   partition by anonymous_id order by occurred_at desc, event_id desc) as from_latest"
            " from marts.fct_events where anonymous_id is not null)"
            " where from_latest = 1 and email is not null",
        )
    )
    tracked = {
        anonymous_id: (email, contact_id)
        for anonymous_id, email, contact_id in published(
            built_home,
            "select t.anonymous_id, t.email, t.contact_id from marts.dim_tracking_ids as t"
            " inner join marts.dim_contacts as c on t.contact_id = c.contact_id"
            " and t.email = c.email",
        )
    }
    [(total,)] = published(built_home, "select count(*) from marts.dim_tracking_ids")
    assert total == len(tracked) > 0, "every tracking id's contact is in dim_contacts"
    assert {a: email for a, (email, _) in tracked.items()} == latest


def test_asset_downloads_count_the_download_events(built_home) -> None:
    assert published(
        built_home,
        "select count(*) from marts.dim_assets as a left join ("
        " select asset_id, count(*) as n, count(distinct visitor_id) as v"
        " from marts.fct_events where event_type = 'asset_download' group by asset_id) as e"
        " using (asset_id)"
        " where a.downloads <> coalesce(e.n, 0) or a.downloaders <> coalesce(e.v, 0)",
    ) == [(0,)]
    [(downloads,)] = published(built_home, "select sum(downloads) from marts.dim_assets")
    assert downloads > 0
