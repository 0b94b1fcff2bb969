"""Production wiring: which collectors, scanners, gates, sinks and writers a run uses.

The only module that knows every plug-in. Commands select stages:
- metrics: collectors (no scanners), scoring, reports, history;
- maintain: quality collectors, scanners, gates, issues and upkeep;
- run: everything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from repo_automation.context import RunContext
from repo_automation.domain import History, Metric
from repo_automation.pipeline import Stages
from repo_automation.stages import Collector, Gate, Scanner, Sink

log = logging.getLogger(__name__)


def _collectors(ctx: RunContext) -> list[Collector]:
    from repo_automation.collectors.git_local import GitCollector

    out: list[Collector] = []
    command = ctx.settings.command
    if command in ("run", "metrics") and ctx.config.get("tracking", "data_sources", "git", "enabled"):
        out.append(GitCollector.from_context(ctx))
    return out


def _scanners(ctx: RunContext) -> list[Scanner]:
    return []


def _gates(ctx: RunContext) -> list[Gate]:
    return []


def _sinks(ctx: RunContext) -> list[Sink]:
    return []


def _writers(ctx: RunContext) -> list[Sink]:
    return []


def build_stages(ctx: RunContext) -> Stages:
    return Stages(
        collectors=_collectors(ctx),
        scanners=_scanners(ctx),
        gates=_gates(ctx),
        sinks=_sinks(ctx),
        writers=_writers(ctx),
    )


def history_reader(ctx: RunContext) -> Callable[[list[Metric]], History] | None:
    return None
