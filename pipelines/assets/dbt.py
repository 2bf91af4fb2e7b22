"""The dbt project as Dagster assets: every model and seed an asset, every dbt test a check."""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from pydantic import Field

from ingest.home import HOME_ENV
from pipelines.build_state import current_inputs, decide, record_build, record_published
from pipelines.dbt_project import (
    Target,
    dbt_target,
    ensure_manifest,
    full_refresh_args,
    prepared_target_path,
    spark_raw_env,
)
from pipelines.publish import PublishReport, publish_checked
from pipelines.resources import BuildPolicy, HomeResource

PUBLISHED_MARTS = dg.AssetKey("published_marts")


class FunnelhouseTranslator(DagsterDbtTranslator):
    """Groups follow the project's folders (staging, intermediate, marts, segments, reports);
    seeds are the rule tables."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "rules"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else super().get_group_name(dbt_resource_props)


class DbtBuildConfig(dg.Config):
    full_refresh: bool = Field(False, description="Rebuild incremental models from scratch.")
    force: bool = Field(False, description="Build even when nothing changed since the last build.")
    unit_tests: bool = Field(
        False,
        description="Also run dbt's unit tests (each before its model); implies a build.",
    )


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """The dbt resource passes os.environ to dbt; the profile finds the home through it."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dbt_assets(
    manifest=ensure_manifest(),
    dagster_dbt_translator=FunnelhouseTranslator(),
    name="dbt_build",
)
def dbt_models(
    context: dg.AssetExecutionContext,
    config: DbtBuildConfig,
    dbt: DbtCliResource,
    home: HomeResource,
    build_policy: BuildPolicy,
):
    """`dbt build` (seeds, models, data tests), skipped when nothing changed since the last
    build. dbt's unit tests check the models' logic on fixed inputs, not the data: they run
    in CI (`make test`), with `funnelhouse build` and with `funnelhouse run --unit-tests`
    (config ``unit_tests``), not in every scheduled run.

    When nothing changed but the last build was never published (the run that built it was
    killed, or its publish failed), this step publishes it: the publish step, downstream of
    models this step does not build, is skipped."""
    engine = dbt_target()
    args = [
        "build",
        *([] if config.unit_tests else ["--exclude-resource-type", "unit_test"]),
        *(full_refresh_args() if config.full_refresh else []),
    ]
    whole_project = context.selected_asset_keys == set(context.assets_def.keys)
    with home.writing(context) as target:
        # The target is part of what was built: switching engines rebuilds (and republishes).
        inputs = current_inputs(
            target, ["build", *(["--target", engine] if engine is not Target.duckdb else [])]
        )
        republish = False
        asked_for = [
            label
            for label, asked in (
                ("full refresh", config.full_refresh),
                ("forced", config.force),
                ("unit tests", config.unit_tests),
                ("a subset", not whole_project),
            )
            if asked
        ]
        if asked_for:
            reason, build = "asked for: " + ", ".join(asked_for), True
        else:
            decision = decide(target, inputs, build_policy.rebuild_after)
            reason, build, republish = decision.reason, decision.build, decision.publish
        context.log.info(f"dbt: {reason}")
        if republish:
            _publish_unpublished_build(context, target)
        if not build:
            return
        # The profile finds the home, the target (FUNNELHOUSE_TARGET, already in os.environ
        # when set) and, on Spark, the exported raw tables through the environment.
        with _environment(**{HOME_ENV: str(target.root), **spark_raw_env(target)}):
            invocation = dbt.cli(args, context=context, target_path=prepared_target_path(target))
        yield from invocation.stream()
        if whole_project:
            # Published by the publish step (record_published); until then a build that
            # readers never saw, which the next run publishes if this one stops first.
            record_build(target, inputs, published=False)


def _publish_unpublished_build(context: dg.AssetExecutionContext, target) -> None:
    report, mismatched = publish_checked(target, run_id=context.run.run_id)
    if mismatched:
        raise dg.Failure(f"the published file does not match the build: {mismatched}")
    record_published(target)
    context.log_event(dg.AssetMaterialization(PUBLISHED_MARTS, metadata=publish_metadata(report)))
    context.log.info(f"dbt: published the build to {report.path}")


def publish_metadata(report: PublishReport) -> dict[str, Any]:
    return {
        "path": dg.MetadataValue.path(str(report.path)),
        "tables": len(report.tables),
        "size_mib": round(report.bytes / 2**20, 1),
        "published_at": report.published_at.isoformat(),
    }
