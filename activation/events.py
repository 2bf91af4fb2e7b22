"""Result events: what activation did, written back into the landing zone (the closed loop).

One JSON-lines file per activation run, ``<home>/landing/events/activation/<run id>.jsonl``,
in ingest's flat event shape (``event_id``, ``event_type``, ``occurred_at``, ``anonymous_id``,
``contact_key``, ``properties``). It is written beside its final name as a dotfile (ingest
ignores dotfiles) and renamed into place, so ingest never reads half a file.

Per executed queue row, a ``campaign_action`` event (the campaign models read it to move the
contact on, and to apply segment, stage and field actions), plus what the action means for the
rest of the warehouse:

* ``send_email`` → ``email_sent`` (email_id, …: counts in fct_email_sends and the email reports)
* ``send_sms`` → ``sms_sent`` or, when it failed, ``sms_failed``
* ``adjust_points`` → ``manual_points`` (delta, reason: the points ledger's manual rows)
* ``set_dnc`` → ``dnc_change`` (channel, reason ``manual``, comments, action add/remove:
  dim_contacts' DNC flags)
* ``update_field`` → ``identify`` with the new values as traits

Event ids are fixed by the idempotency key (``act:<key>:<event type>``): the warehouse keeps one
event per id, so writing a row's events twice (a crash between the rename and the ledger update)
counts once.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from activation.ledger import LedgerRow
from ingest.home import Home

SOURCE_FOLDER = "activation"


def events_dir(home: Home) -> Path:
    return home.landing / "events" / SOURCE_FOLDER


def events_path(home: Home, file_name: str) -> Path:
    return events_dir(home) / file_name


def iso(moment: datetime | None) -> str:
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _event(row: LedgerRow, event_type: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": f"act:{row.idempotency_key}:{event_type}",
        "event_type": event_type,
        "occurred_at": iso(row.completed_at),
        "anonymous_id": None,
        "contact_key": row.contact_key,
        "properties": {k: v for k, v in properties.items() if v is not None},
    }


def events_for(row: LedgerRow) -> list[dict[str, Any]]:
    """The result events of one ledger row in a final state."""
    result = row.result
    channel = result.get("channel") or row.channel
    common = {
        "idempotency_key": row.idempotency_key,
        "campaign_id": row.campaign_id,
        "step_id": row.step_id,
    }
    events = [
        _event(
            row,
            "campaign_action",
            {
                **common,
                "campaign_name": row.campaign_name,
                "action": row.action,
                "channel": channel,
                "status": row.state,
                "reason": row.reason,
                "payload_ref": result.get("payload_ref") or row.payload_ref,
                "params": row.params or None,
                "message_id": row.message_id,
                "due_at": iso(row.due_at) if row.due_at else None,
            },
        )
    ]
    if row.state == "sent" and channel == "email":
        events.append(
            _event(
                row,
                "email_sent",
                {**common, "email_id": result.get("email_id"), "message_id": row.message_id},
            )
        )
    elif channel == "sms" and row.state in ("sent", "failed") and result.get("sms_id"):
        sms = {**common, "sms_id": result.get("sms_id"), "message_id": row.message_id}
        if row.state == "sent":
            events.append(_event(row, "sms_sent", sms))
        else:
            events.append(_event(row, "sms_failed", {**sms, "reason": row.reason}))
    elif row.state == "sent" and row.action == "adjust_points":
        events.append(
            _event(
                row,
                "manual_points",
                {**common, "delta": result.get("delta"), "reason": result.get("reason")},
            )
        )
    elif row.state == "sent" and row.action == "set_dnc":
        events.append(
            _event(
                row,
                "dnc_change",
                {
                    **common,
                    "channel": result.get("dnc_channel"),
                    # Mautic's DNC reasons are unsubscribed, bounced and manual: a campaign's
                    # is manual, its own words go in the comments (as in Mautic)
                    "reason": "manual",
                    "comments": result.get("reason"),
                    "action": result.get("dnc_action"),
                },
            )
        )
    elif row.state == "sent" and row.action == "update_field":
        traits = dict(result.get("traits") or {})
        events.append(_event(row, "identify", {**traits, "source": "campaign", **common}))
    return events


def new_file_name(run_id: str) -> str:
    return f"{run_id}.jsonl"


def write_events_file(path: Path, events: list[dict[str, Any]]) -> None:
    """Temp file (a dotfile, which ingest ignores) + fsync + rename + fsync of the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            for event in events:
                handle.write(json.dumps(event, default=str, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        temporary.unlink(missing_ok=True)
