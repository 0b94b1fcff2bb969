"""One run of the engine, used by both the CLI and the action: config → context → stages → report → sinks.

Everything the user can get wrong is checked before any stage runs, so a bad input writes nothing.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from repo_automation import config as config_mod
from repo_automation import pipeline, runner, wiring
from repo_automation.context import RunContext, build_context
from repo_automation.core.checks import check_config
from repo_automation.domain import Status
from repo_automation.errors import UsageError
from repo_automation.fileio import write_atomic
from repo_automation.github.auth import check_settings
from repo_automation.history import describe, open_store
from repo_automation.history.rollup import as_json
from repo_automation.history.rollup import rollup as build_rollup
from repo_automation.history.trends import overall_trends
from repo_automation.progress import NO_PROGRESS, Progress
from repo_automation.redaction import gather, run_secrets
from repo_automation.report.dashboard import RepositoryRow, render_rollup_dashboard
from repo_automation.report.markdown import rollup_report
from repo_automation.settings import Settings
from repo_automation.sinks.dashboard import DASHBOARD_PAGE

log = logging.getLogger(__name__)


def read_config(path: Path, *, required: bool) -> config_mod.Config:
    """The configuration file checked by the schema (config.load) and by the core (alert conditions, scoring,
    required sources): ConfigError, exit status 2, before anything runs."""
    return check_config(config_mod.load(path, required=required))


def load_config(settings: Settings) -> config_mod.Config:
    """The default path may be absent (defaults apply); a path the user named must exist."""
    required = settings.config_path != Settings().config_path
    return read_config(settings.resolve(settings.config_path), required=required)


def config_secrets(cfg: config_mod.Config, env: Mapping[str, str]) -> list[str]:
    """Secrets only the configuration can name: the application database URL (and its password), the alert
    channels' webhook URLs, tokens, routing keys and passwords, and the
    password of any URL the configuration holds (a Prometheus endpoint, a package index)."""
    var = cfg.data_sources.database.url_env
    channels = [name for channel in cfg.channels.values() for name in channel.secret_variables]
    return gather(env, [*([str(var)] if var else []), *channels], [cfg])


def preflight(settings: Settings) -> None:
    """Checks that must pass before anything runs (nothing is written if they fail)."""
    if not settings.workspace.is_dir():
        raise UsageError(f"workspace is not a folder: {settings.workspace}")
    out = settings.resolve(settings.output_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"output-dir exists and is not a folder: {out}")
    check_settings(settings)


def run(settings: Settings, env: Mapping[str, str], progress: Progress = NO_PROGRESS) -> int:
    preflight(settings)
    cfg = load_config(settings)
    secrets = run_secrets()
    secrets.add(*config_secrets(cfg, env))  # logs mask them from here on; a runner is told to (::add-mask::)
    ctx: RunContext = build_context(settings, cfg, env, secrets=secrets)
    stages = dataclasses.replace(wiring.build_stages(ctx), progress=progress)  # UsageError/ConfigError: nothing ran
    log.info("repo-automation %s on %s (%s)%s", settings.command, ctx.repository or settings.workspace,
             ctx.event_name or "local", " — dry run" if settings.dry_run else "")
    try:
        report = pipeline.build_report(stages, ctx, history=wiring.history_reader(ctx))
        final = pipeline.deliver(report, stages, ctx)
    finally:
        progress.close()
        wiring.release(stages)
    verdict = final.verdict
    assert verdict is not None  # build_report decides it
    for src in final.sources:
        if src.status is not Status.OK:
            log.info("%s %s: %s (%s)", src.kind, src.name, src.status.value, src.reason)
    if final.health.overall is not None:
        log.info("health %.1f (%s)", final.health.overall, final.health.grade)
    else:
        log.info("health inconclusive: no category had its inputs")
    for reason in verdict.reasons:
        log.warning("policy: %s", reason)
    return verdict.exit_code  # 0 when the policy held or fail-on-policy is off


def rollup(settings: Settings, env: Mapping[str, str]) -> int:
    """`repo-automation rollup`: the latest health of every repository in the (shared) metrics history.

    Reads the store read-only and writes rollup-report.md and rollup-report.json to the output folder (with
    `dashboard`, the roll-up page dashboard/index.html too; and the Markdown to the job summary in Actions).
    A store that does not exist is a usage error (exit 2)."""
    where = describe(settings.history_db, settings.workspace)
    with open_store(settings.history_db, settings.workspace, readonly=True) as store:
        if not store.table_exists():
            raise UsageError(f"the metrics history {where} holds no runs (no project_metrics table): nothing to "
                             "roll up; store runs with --store-db (store-db: true) and the same history-db first")
        rows = build_rollup(store)
        now = datetime.now(UTC)
        trends = overall_trends(store, [r.repository for r in rows], now) if settings.dashboard else {}
    markdown = rollup_report(rows, generated_at=now, store=where)
    out = settings.resolve(settings.output_dir)
    write_atomic(out / "rollup-report.md", markdown)
    write_atomic(out / "rollup-report.json", json.dumps(as_json(rows, generated_at=now, store=where), indent=2) + "\n")
    if settings.dashboard:
        page = render_rollup_dashboard([RepositoryRow(
            repository=r.repository, timestamp=r.timestamp, overall=r.overall, grade=r.grade, categories=r.categories,
            trend=trends.get(r.repository, ())) for r in rows], generated_at=now)
        write_atomic(out / DASHBOARD_PAGE, page)
        log.info("roll-up dashboard -> %s", (out / DASHBOARD_PAGE).absolute())
    if env.get("GITHUB_STEP_SUMMARY"):
        runner.write_summary(Path(env["GITHUB_STEP_SUMMARY"]), markdown)
    log.info("roll-up: %d repositories from %s -> %s", len(rows), where, (out / "rollup-report.md").absolute())
    return 0
