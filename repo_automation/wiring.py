"""Production wiring: which collectors, scanners, gates, sinks and writers a run uses.

The only module that knows every plug-in. Commands select stages:
- metrics: every collector (no scanners, no gates), scoring, reports, history;
- maintain: the code-quality collectors, scanners, gates, issues and checks;
- run: everything (what the action runs);
- dashboard: what run measures, scans and gates, then only the dashboard page (no sink, no other file).
A plug-in that cannot be built here (no token, no host configured) still appears in the report, as
skipped with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import ClassVar

from repo_automation.collectors.complexity import ComplexityCollector
from repo_automation.collectors.coverage import CoverageCollector
from repo_automation.collectors.database import DatabaseCollector
from repo_automation.collectors.git_local import GitCollector
from repo_automation.collectors.github import GitHubCollector
from repo_automation.collectors.prometheus import PrometheusCollector
from repo_automation.collectors.sonarqube import SonarQubeCollector
from repo_automation.context import RunContext
from repo_automation.core.policy import apply_finding_policy, check_policy
from repo_automation.domain import Finding, Health, History, Metric
from repo_automation.errors import SourceSkipped
from repo_automation.gates import build_gates
from repo_automation.github.client import GitHubClient, connect
from repo_automation.history import check_target, read_history
from repo_automation.pipeline import HistoryReader, Stages
from repo_automation.scanners import merge_findings, scanner_plan
from repo_automation.settings import Command
from repo_automation.sinks.action_outputs import ActionOutputsWriter
from repo_automation.sinks.alerts.routing import unconfigured
from repo_automation.sinks.alerts.sink import AlertsSink
from repo_automation.sinks.dashboard import DashboardWriter
from repo_automation.sinks.files import ReportFilesWriter
from repo_automation.sinks.github.checks import CheckRunSink, fork_notice
from repo_automation.sinks.github.dependency_updates import DependencyUpdateSink
from repo_automation.sinks.github.docs_upkeep import DocsSink
from repo_automation.sinks.github.issues import IssueSink
from repo_automation.sinks.github.pr_comment import PrCommentSink
from repo_automation.sinks.github.triage import TriageSink
from repo_automation.sinks.history import HistorySink
from repo_automation.sinks.pushgateway import PushgatewaySink
from repo_automation.sinks.sarif import SarifWriter
from repo_automation.sinks.slack import SlackSink
from repo_automation.stages import Collector, Gate, Scanner, Sink

log = logging.getLogger(__name__)


class _SkippedCollector(Collector):
    """Stands in the report for a collector that could not be built; says why."""

    name: ClassVar[str] = "unavailable"
    reason: ClassVar[str] = ""

    def collect(self, ctx: RunContext) -> Sequence[Metric]:
        raise SourceSkipped(self.reason)


def _build(name: str, factory: Callable[[RunContext], Collector], ctx: RunContext) -> Collector:
    try:
        return factory(ctx)
    except SourceSkipped as e:
        skipped: type[_SkippedCollector] = type(
            f"Skipped_{name}", (_SkippedCollector,), {"name": name, "reason": str(e)})
        return skipped()


def _collectors(ctx: RunContext, github: GitHubClient | None, unavailable: str | None) -> list[Collector]:
    command = ctx.settings.command
    sources = ctx.config.data_sources
    out: list[Collector] = []
    if command.measures:
        if sources.git.enabled:
            out.append(_build("git", GitCollector.from_context, ctx))
        if sources.github.enabled:
            out.append(GitHubCollector.from_context(ctx, client=github, unavailable=unavailable))
        if sources.prometheus.enabled:  # skipped with the reason when no endpoint is configured
            out.append(_build("prometheus", PrometheusCollector.from_context, ctx))
        if sources.database.enabled and sources.database.queries:
            out.append(_build("database", DatabaseCollector.from_context, ctx))
    quality = not ctx.settings.skip_quality or command is Command.METRICS
    if quality:
        # Order is precedence where two sources give one metric: the later wins, so this commit's coverage
        # file beats SonarQube's (possibly older) analysis.
        if sources.sonarqube.enabled:
            out.append(_build("sonarqube", SonarQubeCollector.from_context, ctx))
        out.append(_build("coverage", CoverageCollector.from_context, ctx))
        out.append(_build("complexity", ComplexityCollector.from_context, ctx))
    return out


def _scanners(ctx: RunContext) -> tuple[list[Scanner], tuple[str, ...]]:
    """The scanners and what choosing them tells the report (PR mode's fallback to a full scan)."""
    if not ctx.settings.command.maintains:
        return [], ()
    return scanner_plan(ctx)


def _gates(ctx: RunContext) -> list[Gate]:
    if not ctx.settings.command.maintains:
        return []
    return build_gates(ctx)


def _finding_policy(findings: Sequence[Finding], ctx: RunContext) -> list[Finding]:
    """Fold what several tools said about one advisory into one finding, then apply ignores/baseline."""
    return apply_finding_policy(merge_findings(findings), ctx)


def _sinks(ctx: RunContext, client: GitHubClient | None, unavailable: str | None) -> list[Sink]:
    # client None when there is no token/repository: each sink then says why it skipped (`unavailable`).
    # Order: what changes the repository (issues, triage, pull requests) first, so the history stores the
    # changes made; then the history, before the check run and PR comment (a required history that cannot be
    # written is in their verdict); the Pushgateway last, reading the totals the history now holds.
    changes: list[Sink] = [s.from_context(ctx, client=client, unavailable=unavailable) for s in (IssueSink, TriageSink)]
    if ctx.settings.command.maintains:
        changes += [DependencyUpdateSink.from_context(ctx, client=client, unavailable=unavailable),
                    DocsSink.from_context(ctx, client=client, unavailable=unavailable)]
    checks = [s.from_context(ctx, client=client, unavailable=unavailable) for s in (CheckRunSink, PrCommentSink)]
    return [*changes, HistorySink.from_context(ctx), *checks, AlertsSink.from_context(ctx), SlackSink.from_context(ctx),
            PushgatewaySink.from_context(ctx)]


def _notices(ctx: RunContext) -> list[str]:
    notice = fork_notice(ctx)
    channels = unconfigured(ctx.config)
    for line in channels:
        log.warning("%s", line)
    return [*([notice] if notice else []), *channels]


def _writers(ctx: RunContext) -> list[Sink]:
    # The outputs writer runs last: it only names files that exist. `dashboard` draws the page and nothing else.
    drawn = ctx.settings.dashboard or not ctx.settings.command.delivers
    dashboard: list[Sink] = [DashboardWriter.from_context(ctx)] if drawn else []
    if not ctx.settings.command.delivers:
        return dashboard
    return [ReportFilesWriter.from_context(ctx), SarifWriter.from_context(ctx), *dashboard,
            ActionOutputsWriter.from_context(ctx)]


def build_stages(ctx: RunContext) -> Stages:
    """Every stage of this run. Checks what can be checked before anything runs (nothing is written).

    The run's one GitHubClient is built here and handed to the GitHub collector and every GitHub sink;
    `release(stages)` closes it at the end of the run."""
    check_policy(ctx)
    preflight(ctx)
    github, unavailable = connect(ctx)  # an incomplete App configuration: UsageError, nothing run
    scanners, scan_notices = _scanners(ctx)
    return Stages(
        collectors=_collectors(ctx, github, unavailable),
        scanners=scanners,
        gates=_gates(ctx),
        sinks=_sinks(ctx, github, unavailable) if ctx.settings.command.delivers else [],
        writers=_writers(ctx),
        finding_policy=_finding_policy,
        notices=(*_notices(ctx), *scan_notices),
        closers=(github.close,) if github is not None else (),
    )


def history_reader(ctx: RunContext) -> HistoryReader:
    """Compare this run with the stored history (read-only: a store that does not exist yet is empty)."""
    def read(metrics: Sequence[Metric], health: Health) -> History:
        return read_history(ctx.settings.history_db, ctx.workspace, metrics, ctx.now, health=health,
                            repository=ctx.repository or "", storing=ctx.settings.store_db)

    return read


def release(stages: Stages) -> None:
    """End of run: close what the stages shared (the GitHub client saves its ETag cache here)."""
    for close in stages.closers:
        close()


def preflight(ctx: RunContext) -> None:
    """With --store-db, history-db must name a store (a SQLite file or a PostgreSQL URL; exit 2 otherwise).
    Nothing is opened here: a store that cannot be reached does not stop the run (the history sink spools
    the run's rows and fails with the reason)."""
    if ctx.settings.store_db:
        check_target(ctx.settings.history_db, ctx.workspace)
