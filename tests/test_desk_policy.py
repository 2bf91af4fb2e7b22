"""The desk's policy thresholds (issue 12) are a seed read by dbt, tested by dbt."""

import csv

from tests.conftest import ROOT, query

SEED = ROOT / "dbt_project" / "seeds" / "desk_policy.csv"
SETTINGS = {
    "min_supporting_votes",
    "review_max_age_days",
    "at_risk_after_days",
    "notice_period_days",
    "max_use_case_score",
    "seo_min_impressions",
    "seo_max_ctr_percent",
    "seo_position_from",
    "seo_position_to",
}


def test_desk_policy_seed_loads_and_passes_its_tests(home, dbt_worker):
    result = dbt_worker.run(home, "build", "--select", "desk_policy", "--quiet")
    assert result.returncode == 0, result.stdout[-3000:]
    rows = dict(query(home, "select setting, value from rules.desk_policy"))
    with SEED.open() as f:
        expected = {row["setting"]: int(row["value"]) for row in csv.DictReader(f)}
    assert set(rows) == SETTINGS
    assert rows == expected
    # The policy: eligible from 5 supporting votes; the score runs 0-5.
    assert rows["min_supporting_votes"] == 5
    assert rows["max_use_case_score"] == 5
