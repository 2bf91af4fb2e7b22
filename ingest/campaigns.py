"""Campaign definitions: YAML files validated into ``raw.campaign_*`` tables for dbt.

One file per campaign in ``dbt_project/campaigns/`` (reviewed like code; the format is in that
folder's README.md). :func:`load_campaign_tables` validates every file and replaces

- ``raw.campaign_definitions``: one row per campaign (name, kind, published, restart, entry),
- ``raw.campaign_sources``: the segments and forms contacts enter from,
- ``raw.campaign_steps``: one row per step, with its parent, branch, depth, timing and payload,
- ``raw.campaign_step_paths``: every (ancestor, descendant) pair of steps with the branch taken
  out of the ancestor — dbt reads the graph without recursive SQL,

and keeps ``raw.campaign_publications`` (when each campaign was first loaded as published: the
moment its entry rules start counting from), all in one transaction. A file that fails
validation loads nothing of its campaign; every problem is reported with the file, the step
and the field (:class:`CampaignError`), never as a traceback.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import polars as pl
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

# Where the project's campaign files live (reviewed like code, beside the models that run them).
CAMPAIGNS_DIR = Path(__file__).resolve().parents[1] / "dbt_project" / "campaigns"
# The raw tables a load replaces (dbt sources); raw.campaign_publications is kept across loads.
CAMPAIGN_TABLES = (
    "campaign_definitions",
    "campaign_sources",
    "campaign_steps",
    "campaign_step_paths",
)

# Steps deeper than this are not evaluated by the dbt models (they unroll the graph level by
# level); keep it equal to the dbt var `campaign_max_depth`.
MAX_DEPTH = 12
# dim_contacts columns a field_value condition may read; `custom.<key>` reads a custom field.
# The dbt macro campaign_contact_field (macros/campaigns.sql) lists the same names.
CONTACT_FIELDS = (
    "email", "title", "first_name", "last_name", "job_title", "company_name", "phone",
    "mobile", "city", "state", "zip_code", "country", "timezone", "preferred_locale",
    "preferred_channel", "tags", "points", "stage_id", "stage_name",
)  # fmt: skip
FIELD_OPERATORS = (
    "eq", "neq", "in", "not_in", "contains", "starts_with", "ends_with", "empty", "not_empty",
    "gt", "gte", "lt", "lte",
)  # fmt: skip
WEBHOOK_FIELDS = (*CONTACT_FIELDS, "contact_id")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SETS = {
    "weekdays": DAYS[:5],
    "weekends": DAYS[5:],
    "every day": DAYS,
    "daily": DAYS,
}
ID_PATTERN = r"^[a-z][a-z0-9_]*$"
_UNITS = {"minute": 1, "hour": 60, "day": 1440, "week": 10080}
_INTERVAL = re.compile(r"^\s*(\d+)\s*(minute|min|m|hour|h|day|d|week|w)s?\s*$", re.IGNORECASE)
_SHORT_UNITS = {"min": "minute", "m": "minute", "h": "hour", "d": "day", "w": "week"}
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


# ── Errors and the load report ──────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class CampaignError:
    """One problem in one campaign file: where (file, step, field) and what."""

    file: str
    message: str
    step: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.step:
            where += f", step '{self.step}'"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"


@dataclass
class CampaignLoad:
    """What a load did (or a validation would do): the campaigns loaded, and every problem of
    the files that were not."""

    folder: str
    files: list[str] = field(default_factory=list)
    campaigns: list[str] = field(default_factory=list)  # ids of the campaigns loaded
    steps: int = 0
    errors: list[CampaignError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def failed_files(self) -> list[str]:
        return sorted({error.file for error in self.errors})

    def summary(self) -> str:
        lines = [
            f"campaigns: {len(self.campaigns)} loaded ({self.steps} steps) from "
            f"{len(self.files)} file(s) in {self.folder}"
        ]
        if self.errors:
            lines.append(f"campaigns: {len(self.failed_files)} file(s) not loaded:")
            lines += [f"  {error}" for error in self.errors]
        return "\n".join(lines)


class _Invalid(Exception):
    def __init__(self, errors: list[CampaignError]):
        super().__init__("; ".join(map(str, errors)))
        self.errors = errors


# ── Value types ─────────────────────────────────────────────────────────────────────────────


def interval_minutes(value: Any) -> int:
    """'3 days', '2 hours', '30 minutes', '1 week' (or 3d, 2h, 30m, 1w) → minutes."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"an interval is text like '3 days' or '2 hours', not {value!r}")
    match = _INTERVAL.match(str(value))
    if not match:
        raise ValueError(
            f"'{value}' is not an interval: write a number and minutes, hours, days or weeks "
            "(e.g. '3 days', '2 hours', '30 minutes')"
        )
    unit = match.group(2).lower()
    return int(match.group(1)) * _UNITS[_SHORT_UNITS.get(unit, unit)]


def _utc(value: Any) -> Any:
    """A date/time in UTC without offset (a value without offset is taken as UTC)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"'{value}' is not a date/time: write 'YYYY-MM-DD HH:MM' (UTC) or ISO 8601"
            ) from None
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _as_id(value: Any) -> Any:
    """Catalog ids (email, sms, form …) are compared as text, as events carry them."""
    if isinstance(value, bool):
        raise ValueError("an id is a number or a name, not true/false")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError(f"an id is a number or a name, not {value!r}")


def _as_list(value: Any) -> Any:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


Minutes = Annotated[int, BeforeValidator(interval_minutes)]
UtcTime = Annotated[datetime, BeforeValidator(_utc)]
CatalogId = Annotated[str, BeforeValidator(_as_id)]
StepId = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
StepRefs = Annotated[list[StepId], BeforeValidator(_as_list)]
Channel = Literal["email", "sms"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SendWindow(_Strict):
    """When sends may go out, in the contact's time zone: days and/or hours (start-end)."""

    days: list[str] | str = Field(default_factory=lambda: list(DAYS))
    hours: str = "00:00-24:00"

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str] | str) -> list[str]:
        if isinstance(value, str):
            key = value.strip().lower()
            if key in DAY_SETS:
                return list(DAY_SETS[key])
            value = [value]
        days = []
        for day in value:
            key = str(day).strip().lower()[:3]
            if key not in DAYS:
                raise ValueError(
                    f"'{day}' is not a day: use mon … sun, or weekdays, weekends, every day"
                )
            days.append(key)
        if not days:
            raise ValueError("a send window needs at least one day")
        return sorted(set(days), key=DAYS.index)

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        start, end = cls.bounds(value)
        if not 0 <= start < end <= 1440:
            raise ValueError(
                f"'{value}' is not a window within one day: the start must come before the end"
            )
        return value

    @staticmethod
    def bounds(value: str) -> tuple[int, int]:
        match = _HOURS.match(value)
        if not match:
            raise ValueError(f"'{value}' is not an hour range: write it like '09:00-17:00'")
        h1, m1, h2, m2 = map(int, match.groups())
        if m1 > 59 or m2 > 59:
            raise ValueError(f"'{value}' has minutes past 59")
        return h1 * 60 + m1, h2 * 60 + m2

    def columns(self) -> dict[str, Any]:
        start, end = self.bounds(self.hours)
        return {
            "window_days": "|" + "|".join(str(DAYS.index(d) + 1) for d in self.days) + "|",
            "window_start_minute": start,
            "window_end_minute": end,
        }


# ── Steps ───────────────────────────────────────────────────────────────────────────────────


class _Step(_Strict):
    id: StepId
    description: str | None = None

    def children(self) -> list[tuple[str | None, str]]:
        """(branch, child step id) pairs: branch None for an action's next steps."""
        return []

    def row(self) -> dict[str, Any]:
        return {}


class _Timed(_Step):
    wait: Minutes | None = None
    at: UtcTime | None = None

    @model_validator(mode="after")
    def _one_timing(self):
        if self.wait is not None and self.at is not None:
            raise ValueError("give either wait (an interval) or at (a date/time), not both")
        return self

    def row(self) -> dict[str, Any]:
        return {"wait_minutes": self.wait, "run_at": self.at}


class _Action(_Timed):
    action: str
    next: StepRefs = Field(default_factory=list)
    send_window: SendWindow | None = None

    def children(self) -> list[tuple[str | None, str]]:
        return [(None, step) for step in self.next]

    def row(self) -> dict[str, Any]:
        row = super().row() | {"step_type": "action", "step_kind": self.action}
        if self.send_window:
            row |= self.send_window.columns()
        return row | self.payload()

    def payload(self) -> dict[str, Any]:
        """channel, payload_ref, params (a dict, stored as JSON) and email_id/sms_id."""
        raise NotImplementedError


class SendEmail(_Action):
    action: Literal["send_email"]
    email_id: CatalogId

    def payload(self):
        return {
            "channel": "email",
            "payload_ref": self.email_id,
            "email_id": self.email_id,
            "params": {"email_id": self.email_id},
        }


class SendSms(_Action):
    action: Literal["send_sms"]
    sms_id: CatalogId

    def payload(self):
        return {
            "channel": "sms",
            "payload_ref": self.sms_id,
            "sms_id": self.sms_id,
            "params": {"sms_id": self.sms_id},
        }


class SendMarketingMessage(_Action):
    """The contact's preferred channel (dim_contacts.preferred_channel), else the other one."""

    action: Literal["send_marketing_message"]
    email_id: CatalogId | None = None
    sms_id: CatalogId | None = None

    @model_validator(mode="after")
    def _content(self):
        if self.email_id is None and self.sms_id is None:
            raise ValueError("give email_id, sms_id or both (the channels it may use)")
        return self

    def payload(self):
        params = {"email_id": self.email_id, "sms_id": self.sms_id}
        return {
            "channel": "preferred",
            "payload_ref": None,
            "email_id": self.email_id,
            "sms_id": self.sms_id,
            "params": params,
        }


class CallWebhook(_Action):
    """A JSON POST: to a webhook configured by name in activation, or to a URL."""

    action: Literal["call_webhook"]
    webhook: StepId | None = None
    url: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None
    fields: list[str] = Field(default_factory=lambda: ["contact_id", "email"])

    @model_validator(mode="after")
    def _target(self):
        if (self.webhook is None) == (self.url is None):
            raise ValueError("give either webhook (a configured name) or url, one of them")
        unknown = [
            f
            for f in self.fields
            if f not in WEBHOOK_FIELDS and not re.match(r"^custom\.[A-Za-z0-9_]+$", f)
        ]
        if unknown:
            raise ValueError(
                f"unknown contact field(s) {', '.join(unknown)} in fields; "
                f"known: {', '.join(WEBHOOK_FIELDS)}, or custom.<key>"
            )
        return self

    def payload(self):
        params = {"webhook": self.webhook, "url": self.url, "fields": self.fields}
        return {"channel": "webhook", "payload_ref": self.webhook or self.url, "params": params}


class _SegmentAction(_Action):
    segment: StepId

    def payload(self):
        return {
            "channel": "none",
            "payload_ref": self.segment,
            "params": {"segment_id": self.segment},
        }


class AddToSegment(_SegmentAction):
    action: Literal["add_to_segment"]


class RemoveFromSegment(_SegmentAction):
    action: Literal["remove_from_segment"]


class ChangeStage(_Action):
    action: Literal["change_stage"]
    stage: StepId

    def payload(self):
        return {"channel": "none", "payload_ref": self.stage, "params": {"stage_id": self.stage}}


class AdjustPoints(_Action):
    action: Literal["adjust_points"]
    delta: int
    reason: str | None = None

    @field_validator("delta")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("delta must not be 0")
        return value

    def payload(self):
        params = {"delta": self.delta, "reason": self.reason or "campaign"}
        return {"channel": "none", "payload_ref": None, "params": params}


class UpdateField(_Action):
    action: Literal["update_field"]
    field: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    value: str | int | float | bool | None

    def payload(self):
        return {
            "channel": "none",
            "payload_ref": self.field,
            "params": {"field": self.field, "value": self.value},
        }


class SetDnc(_Action):
    action: Literal["set_dnc"]
    channel: Channel = "email"
    reason: str | None = None

    def payload(self):
        params = {"channel": self.channel, "reason": self.reason or "campaign"}
        return {"channel": "none", "payload_ref": self.channel, "params": params}


ACTIONS: dict[str, type[_Action]] = {
    "send_email": SendEmail,
    "send_sms": SendSms,
    "send_marketing_message": SendMarketingMessage,
    "call_webhook": CallWebhook,
    "add_to_segment": AddToSegment,
    "remove_from_segment": RemoveFromSegment,
    "change_stage": ChangeStage,
    "adjust_points": AdjustPoints,
    "update_field": UpdateField,
    "set_dnc": SetDnc,
}


class _Branching(_Step):
    yes: StepRefs = Field(default_factory=list)
    no: StepRefs = Field(default_factory=list)

    def children(self) -> list[tuple[str | None, str]]:
        return [("yes", step) for step in self.yes] + [("no", step) for step in self.no]


class _Decision(_Branching):
    """Waits for the contact to do something: yes at the first matching event within the
    window after the step is reached, no when the window passes without one."""

    decision: str
    within: Minutes | None = None

    @model_validator(mode="after")
    def _window(self):
        if self.no and self.within is None:
            raise ValueError("a decision with a 'no' branch needs 'within' (how long to wait)")
        if self.within is not None and self.within <= 0:
            raise ValueError("within must be longer than 0 minutes")
        return self

    def row(self) -> dict[str, Any]:
        return {
            "step_type": "decision",
            "step_kind": self.decision,
            "within_minutes": self.within,
        } | self.match()

    def match(self) -> dict[str, Any]:
        return {}


def _url_pattern(value: str | None) -> str | None:
    """A URL filter as a lower-case LIKE pattern: '*' is any text; without '*' it matches
    anywhere in the URL."""
    if value is None:
        return None
    text = value.strip().lower().replace("%", r"\%").replace("_", r"\_")
    return text.replace("*", "%") if "*" in text else f"%{text}%"


class OpenedEmail(_Decision):
    decision: Literal["opened_email"]
    email_id: CatalogId | None = None  # default: the email the parent step sent; 'any'

    def match(self):
        return {"match_id": None if self.email_id == "any" else self.email_id}


class ClickedLink(_Decision):
    decision: Literal["clicked_link"]
    email_id: CatalogId | None = None  # default: the email the parent step sent; 'any'
    url: str | None = None  # any link when empty

    def match(self):
        return {
            "match_id": None if self.email_id == "any" else self.email_id,
            "match_url": _url_pattern(self.url),
        }


class SubmittedForm(_Decision):
    decision: Literal["submitted_form"]
    form_id: CatalogId | None = None  # any form when empty

    def match(self):
        return {"match_id": self.form_id}


class VisitedPage(_Decision):
    decision: Literal["visited_page"]
    page_id: CatalogId | None = None
    url: str | None = None

    def match(self):
        return {"match_id": self.page_id, "match_url": _url_pattern(self.url)}


class DownloadedAsset(_Decision):
    decision: Literal["downloaded_asset"]
    asset_id: CatalogId | None = None

    def match(self):
        return {"match_id": self.asset_id}


class RepliedSms(_Decision):
    """An `sms_reply` event (the provider's inbound message), optionally to one text."""

    decision: Literal["replied_sms"]
    sms_id: CatalogId | None = None

    def match(self):
        return {"match_id": self.sms_id}


DECISIONS: dict[str, type[_Decision]] = {
    "opened_email": OpenedEmail,
    "clicked_link": ClickedLink,
    "submitted_form": SubmittedForm,
    "visited_page": VisitedPage,
    "downloaded_asset": DownloadedAsset,
    "replied_sms": RepliedSms,
}


class _Condition(_Branching, _Timed):
    """Checks the contact's data when reached (after its wait): yes or no."""

    condition: str

    def row(self) -> dict[str, Any]:
        return (
            _Timed.row(self)
            | {"step_type": "condition", "step_kind": self.condition}
            | (self.check())
        )

    def check(self) -> dict[str, Any]:
        raise NotImplementedError


class FieldValue(_Condition):
    condition: Literal["field_value"]
    field: str
    operator: Literal[FIELD_OPERATORS] = "eq"  # type: ignore[valid-type]
    value: str | int | float | bool | list[str | int | float] | None = None

    @model_validator(mode="after")
    def _field(self):
        custom = self.field.startswith("custom.")
        if custom and not re.match(r"^[A-Za-z0-9_]+$", self.field[7:]):
            raise ValueError(f"'{self.field}' is not a custom field: write custom.<key>")
        if not custom and self.field not in CONTACT_FIELDS:
            raise ValueError(
                f"unknown field '{self.field}': use one of {', '.join(CONTACT_FIELDS)}, "
                "or custom.<key>"
            )
        needs_value = self.operator not in ("empty", "not_empty")
        if needs_value and self.value is None:
            raise ValueError(f"operator {self.operator} needs a value")
        if isinstance(self.value, list) and self.operator not in ("in", "not_in"):
            raise ValueError("a list of values needs operator in or not_in")
        values = self.value if isinstance(self.value, list) else [self.value]
        if any("|" in str(v) for v in values):
            raise ValueError("values must not contain '|'")
        return self

    def check(self):
        value = self.value
        if isinstance(value, list):
            text = "|" + "|".join(str(v).lower() for v in value) + "|"
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = None if value is None else str(value)
        return {
            "condition_field": self.field,
            "condition_operator": self.operator,
            "condition_value": text,
        }


class SegmentMembership(_Condition):
    condition: Literal["segment_membership"]
    segment: StepId

    def check(self):
        return {"condition_operator": "member", "condition_value": self.segment}


class PointsAtLeast(_Condition):
    condition: Literal["points_at_least"]
    points: int

    def check(self):
        return {"condition_operator": "gte", "condition_value": str(self.points)}


class StageIs(_Condition):
    """The contact's current stage is `stage` (operator eq) or at least that far (at_least)."""

    condition: Literal["stage"]
    stage: StepId
    operator: Literal["eq", "at_least"] = "eq"

    def check(self):
        return {"condition_operator": self.operator, "condition_value": self.stage}


class DncStatus(_Condition):
    """Yes when the contact is on the do-not-contact list of the channel."""

    condition: Literal["dnc_status"]
    channel: Channel = "email"

    def check(self):
        return {"condition_operator": "dnc", "condition_value": self.channel}


CONDITIONS: dict[str, type[_Condition]] = {
    "field_value": FieldValue,
    "segment_membership": SegmentMembership,
    "points_at_least": PointsAtLeast,
    "stage": StageIs,
    "dnc_status": DncStatus,
}
STEP_KINDS = {"action": ACTIONS, "decision": DECISIONS, "condition": CONDITIONS}


# ── Campaign files ──────────────────────────────────────────────────────────────────────────


class Sources(_Strict):
    segments: Annotated[list[StepId], BeforeValidator(_as_list)] = Field(default_factory=list)
    forms: Annotated[list[CatalogId], BeforeValidator(_as_list)] = Field(default_factory=list)


class Entry(_Strict):
    """Which triggers count. By default those from the campaign's first publication on;
    `lookback` also admits form submissions and segment members from that long before it;
    `from` gives the start explicitly; `until` stops new entries."""

    from_: UtcTime | None = Field(default=None, alias="from")
    lookback: Minutes = 0
    until: UtcTime | None = None


class _File(_Strict):
    id: StepId | None = None
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: str | None = None
    published: bool = False
    timezone: str = "UTC"  # for contacts without a (known) time zone

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}' (use an IANA name)") from None
        return value


class CampaignFile(_File):
    kind: Literal["campaign"] = "campaign"
    allow_restart: bool = False
    exit_on_segment_leave: bool = False
    sources: Sources
    entry: Entry = Field(default_factory=Entry)
    steps: list[dict[str, Any]] = Field(min_length=1)

    @model_validator(mode="after")
    def _has_source(self):
        if not self.sources.segments and not self.sources.forms:
            raise ValueError("sources needs at least one segment or form")
        return self


class BroadcastFile(_File):
    """Mautic's segment email: one email to every member of the segments, once each."""

    kind: Literal["broadcast"]
    segments: Annotated[list[StepId], BeforeValidator(_as_list)] = Field(min_length=1)
    email_id: CatalogId
    send_at: UtcTime | None = None
    send_window: SendWindow | None = None
    until: UtcTime | None = None  # members who join later do not get it


@dataclass
class ValidCampaign:
    file: str
    definition: dict[str, Any]
    sources: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    paths: list[dict[str, Any]]


def _pydantic_errors(file: str, error: ValidationError, step: str | None = None, prefix=()):
    found = []
    for item in error.errors():
        loc = [str(part) for part in (*prefix, *item["loc"])]
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        elif item["type"] == "missing":
            message = "required field missing"
        elif item["type"] == "literal_error" and item.get("ctx"):
            message = f"got {item.get('input')!r}; {item['msg'].lower()}"
        found.append(CampaignError(file, message, step, ".".join(loc) or None))
    return found


def _step_kind(raw: dict[str, Any]) -> tuple[str, type[_Step]]:
    given = [key for key in STEP_KINDS if key in raw]
    if len(given) != 1:
        raise ValueError(
            "a step needs exactly one of 'action', 'decision' or 'condition'"
            + (f" (it has {', '.join(given)})" if given else "")
        )
    key = given[0]
    value = raw[key]
    kinds = STEP_KINDS[key]
    if value not in kinds:
        raise ValueError(f"unknown {key} '{value}': use one of {', '.join(kinds)}")
    return key, kinds[value]


def _validate_steps(file: str, raw_steps: list[Any]) -> list[_Step]:
    errors: list[CampaignError] = []
    steps: list[_Step] = []
    for position, raw in enumerate(raw_steps, start=1):
        label = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
        label = label or f"#{position}"
        if not isinstance(raw, dict):
            errors.append(CampaignError(file, "a step is a mapping (id, action …)", label))
            continue
        try:
            key, model = _step_kind(raw)
        except ValueError as exc:
            errors.append(
                CampaignError(
                    file, str(exc), label, next((k for k in STEP_KINDS if k in raw), None)
                )
            )
            continue
        try:
            steps.append(model.model_validate(raw))
        except ValidationError as exc:
            errors += _pydantic_errors(file, exc, label)
    if errors:
        raise _Invalid(errors)
    return steps


def _graph(file: str, steps: list[_Step]) -> tuple[dict[str, tuple], dict[str, int]]:
    """Check the steps form a forest and return each step's (parent, branch) and depth."""
    errors = []
    by_id: dict[str, _Step] = {}
    for step in steps:
        if step.id in by_id:
            errors.append(CampaignError(file, "two steps have this id", step.id, "id"))
        by_id[step.id] = step
    parent: dict[str, tuple[str, str | None]] = {}
    for step in steps:
        for branch, child in step.children():
            name = branch or "next"
            if child not in by_id:
                errors.append(CampaignError(file, f"no step has the id '{child}'", step.id, name))
            elif child == step.id:
                errors.append(CampaignError(file, "a step cannot follow itself", step.id, name))
            elif child in parent:
                errors.append(
                    CampaignError(
                        file,
                        f"step '{child}' already follows step '{parent[child][0]}': "
                        "a step has one parent (copy it under another id)",
                        step.id,
                        name,
                    )
                )
            else:
                parent[child] = (step.id, branch)
    if errors:
        raise _Invalid(errors)
    depth: dict[str, int] = {}
    roots = [s.id for s in steps if s.id not in parent]
    frontier = [(root, 0) for root in roots]
    while frontier:
        step_id, level = frontier.pop()
        depth[step_id] = level
        frontier += [(child, level + 1) for _, child in by_id[step_id].children()]
    for step in steps:
        if step.id not in depth:
            errors.append(
                CampaignError(file, "the step is in a loop: no first step leads to it", step.id)
            )
        elif depth[step.id] >= MAX_DEPTH:
            errors.append(
                CampaignError(
                    file,
                    f"the step is {depth[step.id] + 1} steps deep; at most {MAX_DEPTH} are "
                    "evaluated",
                    step.id,
                )
            )
    if not roots:
        errors.append(CampaignError(file, "no first step: every step follows another one"))
    if errors:
        raise _Invalid(errors)
    return parent, depth


def _default_match_ids(file: str, steps: list[_Step], parent: dict[str, tuple]) -> None:
    """opened_email / clicked_link without email_id follow the email their parent sent;
    replied_sms without sms_id the text its parent sent."""
    by_id = {s.id: s for s in steps}
    errors = []
    for step in steps:
        wants = {OpenedEmail: "email_id", ClickedLink: "email_id"}.get(type(step))
        if wants is None or getattr(step, wants) is not None:
            continue
        above = by_id[parent[step.id][0]] if step.id in parent else None
        sent = getattr(above, "email_id", None) if isinstance(above, _Action) else None
        if sent is None:
            errors.append(
                CampaignError(
                    file,
                    "give email_id (or 'any'): the step before sends no email to follow",
                    step.id,
                    "email_id",
                )
            )
        else:
            step.email_id = sent
    for step in steps:
        if isinstance(step, RepliedSms) and step.sms_id is None and step.id in parent:
            above = by_id[parent[step.id][0]]
            step.sms_id = getattr(above, "sms_id", None)
    if errors:
        raise _Invalid(errors)


def _references(file: str, steps: list[_Step], segments: Iterable[str], project: Path | None):
    """Segments and stages named by steps and sources exist in the dbt project (when the
    campaigns folder sits in one)."""
    if project is None:
        return
    errors = []
    segment_dir = project / "models" / "segments"
    stages_csv = project / "seeds" / "stages.csv"
    known_stages = None
    if stages_csv.exists():
        lines = stages_csv.read_text().splitlines()[1:]
        known_stages = {line.split(",", 1)[0].strip() for line in lines if line.strip()}

    def check_segment(segment_id: str, step: str | None, name: str) -> None:
        if segment_dir.is_dir() and not (segment_dir / f"seg_{segment_id}.sql").exists():
            errors.append(
                CampaignError(
                    file,
                    f"no segment '{segment_id}' (models/segments/seg_{segment_id}.sql)",
                    step,
                    name,
                )
            )

    for segment_id in segments:
        check_segment(segment_id, None, "sources.segments")
    for step in steps:
        segment_id = getattr(step, "segment", None)
        if segment_id:
            check_segment(segment_id, step.id, "segment")
        stage = getattr(step, "stage", None)
        if stage and known_stages is not None and stage not in known_stages:
            errors.append(
                CampaignError(
                    file,
                    f"no stage '{stage}' in seeds/stages.csv ({', '.join(sorted(known_stages))})",
                    step.id,
                    "stage",
                )
            )
    if errors:
        raise _Invalid(errors)


def _paths(steps: list[_Step], parent: dict[str, tuple]) -> list[dict[str, Any]]:
    rows = []
    for step in steps:
        child, distance = step.id, 0
        while child in parent:
            ancestor, branch = parent[child]
            distance += 1
            rows.append(
                {
                    "ancestor_step_id": ancestor,
                    "step_id": step.id,
                    "branch": branch,
                    "distance": distance,
                }
            )
            child = ancestor
    return rows


def validate_campaign(path: Path, text: str, project: Path | None = None) -> ValidCampaign:
    """One campaign file → its table rows; raises _Invalid with every problem found."""
    file = path.name
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise _Invalid([CampaignError(file, f"not valid YAML: {where}{problem}")]) from None
    if not isinstance(raw, dict):
        raise _Invalid([CampaignError(file, "a campaign file is a mapping (name, steps …)")])
    kind = raw.get("kind", "campaign")
    model = {"campaign": CampaignFile, "broadcast": BroadcastFile}.get(kind)
    if model is None:
        raise _Invalid(
            [CampaignError(file, f"kind is campaign or broadcast, not {kind!r}", None, "kind")]
        )
    try:
        parsed = model.model_validate(raw)
    except ValidationError as exc:
        raise _Invalid(_pydantic_errors(file, exc)) from None
    campaign_id = parsed.id or path.stem
    if not re.match(ID_PATTERN, campaign_id):
        raise _Invalid(
            [
                CampaignError(
                    file,
                    f"'{campaign_id}' is not a campaign id: name the file "
                    "(or give id:) in lower case, a-z 0-9 _",
                    None,
                    "id",
                )
            ]
        )

    if isinstance(parsed, BroadcastFile):
        steps: list[_Step] = [
            SendEmail(
                id="send",
                action="send_email",
                email_id=parsed.email_id,
                at=parsed.send_at,
                send_window=parsed.send_window,
            )
        ]
        segments, forms = parsed.segments, []
        allow_restart, exit_on_leave = False, False
        entry = Entry(until=parsed.until)
    else:
        steps = _validate_steps(file, parsed.steps)
        segments, forms = parsed.sources.segments, parsed.sources.forms
        allow_restart, exit_on_leave = parsed.allow_restart, parsed.exit_on_segment_leave
        entry = parsed.entry
    parent, depth = _graph(file, steps)
    _default_match_ids(file, steps, parent)
    _references(file, steps, segments, project)

    step_rows = []
    for order, step in enumerate(steps, start=1):
        row = dict.fromkeys(STEP_COLUMNS)
        row |= step.row()
        row["params"] = json.dumps(row["params"]) if row.get("params") is not None else None
        branch = parent.get(step.id, (None, None))
        row |= {
            "step_id": step.id,
            "step_order": order,
            "description": step.description,
            "parent_step_id": branch[0],
            "parent_branch": branch[1],
            "depth": depth[step.id],
        }
        step_rows.append(row)
    definition = {
        "campaign_id": campaign_id,
        "name": parsed.name,
        "description": parsed.description,
        "kind": parsed.kind,
        "is_published": parsed.published,
        "allow_restart": allow_restart,
        "exit_on_segment_leave": exit_on_leave,
        "entry_from": entry.from_,
        "entry_lookback_minutes": entry.lookback,
        "entry_until": entry.until,
        "default_timezone": parsed.timezone,
        "step_count": len(steps),
        "definition": json.dumps(parsed.model_dump(mode="json", by_alias=True)),
        "content_hash": hashlib.sha256(text.encode()).hexdigest(),
    }
    sources = [{"source_type": "segment", "source_id": s} for s in dict.fromkeys(segments)]
    sources += [{"source_type": "form", "source_id": f} for f in dict.fromkeys(forms)]
    return ValidCampaign(file, definition, sources, step_rows, _paths(steps, parent))


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last), and
    reads booleans as YAML 1.2 does: only true/false, so the branch keys `yes:` and `no:` stay
    text (YAML 1.1 would make them booleans)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


_UniqueKeyLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_UniqueKeyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


# ── Tables ──────────────────────────────────────────────────────────────────────────────────

DEFINITION_SCHEMA = {
    "campaign_id": pl.String,
    "name": pl.String,
    "description": pl.String,
    "kind": pl.String,
    "is_published": pl.Boolean,
    "allow_restart": pl.Boolean,
    "exit_on_segment_leave": pl.Boolean,
    "entry_from": pl.Datetime("us"),
    "entry_lookback_minutes": pl.Int64,
    "entry_until": pl.Datetime("us"),
    "default_timezone": pl.String,
    "step_count": pl.Int64,
    "definition": pl.String,
    "content_hash": pl.String,
}
SOURCE_SCHEMA = {"campaign_id": pl.String, "source_type": pl.String, "source_id": pl.String}
STEP_SCHEMA = {
    "campaign_id": pl.String,
    "step_id": pl.String,
    "step_order": pl.Int64,
    "step_type": pl.String,  # action | decision | condition
    "step_kind": pl.String,  # send_email … / opened_email … / field_value …
    "description": pl.String,
    "parent_step_id": pl.String,
    "parent_branch": pl.String,  # yes | no under a decision or condition; null under an action
    "depth": pl.Int64,
    "wait_minutes": pl.Int64,
    "run_at": pl.Datetime("us"),
    "window_days": pl.String,  # '|1|2|3|4|5|' (ISO weekdays)
    "window_start_minute": pl.Int64,
    "window_end_minute": pl.Int64,
    "channel": pl.String,  # email | sms | webhook | none | preferred
    "payload_ref": pl.String,
    "email_id": pl.String,
    "sms_id": pl.String,
    "params": pl.String,  # JSON
    "within_minutes": pl.Int64,
    "match_id": pl.String,
    "match_url": pl.String,  # lower-case LIKE pattern
    "condition_field": pl.String,
    "condition_operator": pl.String,
    "condition_value": pl.String,
}
STEP_COLUMNS = tuple(STEP_SCHEMA)
PATH_SCHEMA = {
    "campaign_id": pl.String,
    "ancestor_step_id": pl.String,
    "step_id": pl.String,
    "branch": pl.String,
    "distance": pl.Int64,
}
META_SCHEMA = {"_source": pl.String, "_loaded_at": pl.Datetime("us")}
TABLES = {
    "campaign_definitions": DEFINITION_SCHEMA | {"published_at": pl.Datetime("us")},
    "campaign_sources": SOURCE_SCHEMA,
    "campaign_steps": STEP_SCHEMA,
    "campaign_step_paths": PATH_SCHEMA,
}


def campaign_files(folder: Path) -> list[Path]:
    """The campaign files of a folder: *.yml and *.yaml, in name order (READMEs are not)."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix in (".yml", ".yaml") and not p.name.startswith(".")
    )


def validate_folder(folder: Path) -> tuple[list[ValidCampaign], CampaignLoad]:
    """Validate every file of the folder (no database needed)."""
    folder = Path(folder)
    report = CampaignLoad(str(folder))
    project = folder.parent if (folder.parent / "dbt_project.yml").exists() else None
    valid: list[ValidCampaign] = []
    seen: dict[str, str] = {}
    for path in campaign_files(folder):
        report.files.append(path.name)
        try:
            campaign = validate_campaign(path, path.read_text(encoding="utf-8"), project)
        except _Invalid as exc:
            report.errors += exc.errors
            continue
        except UnicodeDecodeError:
            report.errors.append(CampaignError(path.name, "not a UTF-8 text file"))
            continue
        campaign_id = campaign.definition["campaign_id"]
        if campaign_id in seen:
            report.errors.append(
                CampaignError(
                    path.name,
                    f"campaign id '{campaign_id}' is taken by {seen[campaign_id]}",
                    None,
                    "id",
                )
            )
            continue
        seen[campaign_id] = path.name
        valid.append(campaign)
    report.campaigns = [c.definition["campaign_id"] for c in valid]
    report.steps = sum(len(c.steps) for c in valid)
    return valid, report


def load_campaign_tables(
    con: duckdb.DuckDBPyConnection, folder: Path, now: datetime | None = None
) -> CampaignLoad:
    """Validate the campaign files of ``folder`` and replace the ``raw.campaign_*`` tables.

    Runs inside the caller's transaction when one is open (so it commits or rolls back with
    the caller's work), else in its own. A campaign is published from the first load that
    sees it published (``now``, UTC, defaults to the current time): that time is kept in
    ``raw.campaign_publications`` across loads, also while a file is broken or unpublished.
    """
    folder = Path(folder)
    now = now or datetime.now(UTC)
    loaded_at = now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now
    valid, report = validate_folder(folder)

    own_transaction = not _in_transaction(con)
    if own_transaction:
        con.begin()
    try:
        _write(con, folder, valid, loaded_at)
        if own_transaction:
            con.commit()
    except BaseException:
        if own_transaction:
            con.rollback()
        raise
    return report


def _in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection has a transaction open: in autocommit mode every statement runs
    in a transaction of its own, so two statements see different transaction ids. (Calling
    begin() to find out would abort the caller's open transaction.)"""
    first = con.execute("select txid_current()").fetchone()
    return first == con.execute("select txid_current()").fetchone()


def _write(con, folder: Path, valid: list[ValidCampaign], loaded_at: datetime) -> None:
    con.execute("create schema if not exists raw")
    con.execute(
        "create table if not exists raw.campaign_publications ("
        "campaign_id varchar primary key, first_published_at timestamp not null, "
        "last_published_at timestamp not null)"
    )
    for campaign in valid:
        if campaign.definition["is_published"]:
            con.execute(
                "insert into raw.campaign_publications values (?, ?, ?) on conflict (campaign_id)"
                " do update set last_published_at = excluded.last_published_at",
                [campaign.definition["campaign_id"], loaded_at, loaded_at],
            )
    published = dict(
        con.execute(
            "select campaign_id, first_published_at from raw.campaign_publications"
        ).fetchall()
    )

    def meta(campaign: ValidCampaign) -> dict[str, Any]:
        return {"_source": f"{folder.name}/{campaign.file}", "_loaded_at": loaded_at}

    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for campaign in valid:
        campaign_id = campaign.definition["campaign_id"]
        extra = {"campaign_id": campaign_id} | meta(campaign)
        rows["campaign_definitions"].append(
            campaign.definition | {"published_at": published.get(campaign_id)} | meta(campaign)
        )
        rows["campaign_sources"] += [row | extra for row in campaign.sources]
        rows["campaign_steps"] += [row | extra for row in campaign.steps]
        rows["campaign_step_paths"] += [row | extra for row in campaign.paths]
    for name, schema in TABLES.items():
        full = schema | META_SCHEMA
        frame = pl.DataFrame(
            [{column: row.get(column) for column in full} for row in rows[name]],
            schema=full,
            orient="row",
        )
        con.register("_campaign_frame", frame)
        try:
            con.execute(f"create or replace table raw.{name} as select * from _campaign_frame")
        finally:
            con.unregister("_campaign_frame")
