"""The closed loop in tests: a home built with the segment clock pinned (ingest → dbt build of
what campaigns need, without dbt's tests → publish), and a story's day zero in the past."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from ingest.home import Home
from ingest.loader import ingest
from pipelines.publish import publish
from tests.dbt_worker import DbtWorker

# The campaign models, the contacts, the email sends and everything upstream, without the dbt
# tests (the dbt suites run them): a build takes seconds.
LOOP_MODELS = ("+activation_queue", "+campaign_contact_state", "+fct_email_sends")
NO_DBT_TESTS = ("--exclude", "resource_type:test", "resource_type:unit_test")


def wednesday(days_ago: int) -> datetime:
    """A Wednesday, 10:00 UTC, at least ``days_ago`` days ago: a story told from there stays
    in the past (ingest refuses events more than a day ahead)."""
    day = datetime.now(UTC).replace(tzinfo=None, hour=10, minute=0, second=0, microsecond=0)
    day -= timedelta(days=days_ago)
    return day - timedelta(days=(day.weekday() - 2) % 7)


def build_at(home: Home, dbt_worker: DbtWorker, at: datetime, *models: str) -> None:
    """ingest (every file loads whole, nothing quarantined) → dbt build of ``models`` and the
    loop's with the clock pinned at ``at`` → publish. The builds go through the session's dbt
    worker: one parse (dbt would parse the project again for every new --vars)."""
    failed = [r for r in ingest(home) if r.status == "failed" or r.rows_quarantined]
    assert not failed, failed
    reference = json.dumps({"segment_reference_time": at.strftime("%Y-%m-%d %H:%M:%S")})
    selection = ("--select", *models, *LOOP_MODELS, *NO_DBT_TESTS)
    result = dbt_worker.run(home, "build", *selection, "--vars", reference, "--quiet")
    assert result.returncode == 0, result.stdout[-5000:]
    publish(home)
