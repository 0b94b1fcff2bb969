"""One run of the engine, used by both the CLI and the action: config → context → stages → report → sinks.

Everything the user can get wrong is checked before any stage runs, so a bad input writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from repo_automation import config as config_mod
from repo_automation.context import RunContext, build_context
from repo_automation.domain import Status
from repo_automation.errors import UsageError
from repo_automation.settings import Settings

log = logging.getLogger(__name__)


def load_config(settings: Settings) -> config_mod.Config:
    """The default path may be absent (defaults apply); a path the user named must exist."""
    required = settings.config_path != Settings().config_path
    return config_mod.load(settings.resolve(settings.config_path), required=required)


def preflight(settings: Settings) -> None:
    """Checks that must pass before anything runs (nothing is written if they fail)."""
    if not settings.workspace.is_dir():
        raise UsageError(f"workspace is not a folder: {settings.workspace}")
    out = settings.resolve(settings.output_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"output-dir exists and is not a folder: {out}")
    from repo_automation.github.auth import check_settings

    check_settings(settings)


def run(settings: Settings, env: Mapping[str, str]) -> int:
    from repo_automation import pipeline, registry
    from repo_automation.verdict import decide

    preflight(settings)
    cfg = load_config(settings)
    ctx: RunContext = build_context(settings, cfg, env)
    stages = registry.build_stages(ctx)  # raises UsageError/ConfigError before anything runs
    log.info("repo-automation %s on %s (%s)%s", settings.command, ctx.repository or settings.workspace,
             ctx.event_name or "local", " — dry run" if settings.dry_run else "")
    try:
        report = pipeline.build_report(stages, ctx, history=registry.history_reader(ctx))
        final = pipeline.deliver(report, stages, ctx)
    finally:
        registry.release(ctx)
    verdict = decide(final, cfg)
    for src in final.sources:
        if src.status is not Status.OK:
            log.info("%s %s: %s (%s)", src.kind, src.name, src.status.value, src.reason)
    if final.health.overall is not None:
        log.info("health %.1f (%s)", final.health.overall, final.health.grade)
    else:
        log.info("health inconclusive: no category had its inputs")
    for reason in verdict.reasons:
        log.warning("policy: %s", reason)
    if not settings.fail_on_policy:
        return 0
    return verdict.exit_code
