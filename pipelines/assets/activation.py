"""Activation as a Dagster asset: send what the published activation_queue says is due."""

import dagster as dg
from pydantic import Field

from activation.run import activate
from pipelines.assets.publish import PUBLISHED_MARTS
from pipelines.resources import HomeResource


class ActivationConfig(dg.Config):
    dry_run: bool = Field(False, description="Render and record, send nothing.")
    campaign: str | None = Field(None, description="Only this campaign (name or id).")


@dg.asset(
    deps=[PUBLISHED_MARTS],
    group_name="activation",
    kinds={"python"},
    check_specs=[
        dg.AssetCheckSpec(
            "no_unknown_sends",
            asset="activation",
            description="No send is left 'unknown' by a crash (waiting for an operator to "
            "settle it with `funnelhouse activate --resolve KEY=sent|not_sent`).",
        )
    ],
)
def activation(context: dg.AssetExecutionContext, config: ActivationConfig, home: HomeResource):
    """Campaign emails, SMS, webhooks and contact actions due now, each sent exactly once
    (send ledger in <home>/activation/); results land as events for the next refresh.
    Channels are configured by FUNNELHOUSE_SMTP_*, _SMS_*, _WEBHOOK_* variables."""
    report = activate(home.home, dry_run=config.dry_run, campaign=config.campaign)
    counts = report.counts()
    context.log.info(
        "activation: "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in ("sent", "skipped", "deferred", "failed"))
        + f" of {report.due} due"
    )
    for note in report.notes:
        context.log.info(f"activation: {note}")
    yield dg.MaterializeResult(metadata=report.metadata())
    yield dg.AssetCheckResult(
        check_name="no_unknown_sends",
        passed=not report.unknown,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"unknown": [r.idempotency_key for r in report.unknown]},
    )
