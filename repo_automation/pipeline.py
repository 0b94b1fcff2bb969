"""One run, as DESIGN.md draws it: stages concurrently → pure core → one RunReport → sinks.

The pipeline knows nothing about particular sources: `registry.py` builds the stage lists from Settings
and Config, and tests pass their own.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import functools
import logging
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from repo_automation.context import RunContext
from repo_automation.core.derive import Counting, derive_metrics
from repo_automation.core.rules import evaluate_rules
from repo_automation.core.scoring import score
from repo_automation.core.secrets import redact_findings, redact_sources
from repo_automation.core.verdict import decide
from repo_automation.domain import (
    Action,
    Finding,
    GateResult,
    Health,
    History,
    Metric,
    RunReport,
    SourceKind,
    SourceResult,
    Status,
)
from repo_automation.errors import NothingToScan, SourceFailed, SourceSkipped
from repo_automation.progress import NO_PROGRESS, Progress
from repo_automation.stages import Collector, Gate, Scanner, Sink, notices_of, partial_of

log = logging.getLogger(__name__)

REPORT_SCHEMA_VERSION = "1.2"  # 1.2: health headline/measured/partial, finding scope, gate modes, policy.context,
# source status partial and detail, metric basis

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Stages:
    collectors: Sequence[Collector] = ()
    scanners: Sequence[Scanner] = ()
    gates: Sequence[Gate] = ()
    sinks: Sequence[Sink] = ()  # external effects (issues, checks, Slack, history, …), in order
    writers: Sequence[Sink] = ()  # files, summary, outputs: run last, on the report with actions attached
    finding_policy: Callable[[Sequence[Finding], RunContext], Sequence[Finding]] | None = None
    notices: Sequence[str] = field(default_factory=tuple)
    closers: Sequence[Callable[[], None]] = ()  # what the stages share, closed once at the end of the run
    progress: Progress = NO_PROGRESS  # told when each stage starts and ends (the CLI's live view, Actions groups)


def _run_one(kind: SourceKind, name: str, fn: Callable[[], Sequence[T]], progress: Progress = NO_PROGRESS
             ) -> tuple[list[T], SourceResult]:
    progress.started(kind, name)
    start = time.monotonic()
    idle = False
    notices: tuple[str, ...] = ()
    detail = ""
    try:
        returned = fn()
        items, notices, detail = list(returned), notices_of(returned), partial_of(returned)
        reason = detail.strip().split("\n", 1)[0]  # the detail names each failed part
        status = Status.PARTIAL if reason else Status.OK
    except SourceSkipped as e:
        items, status, reason, idle = [], Status.SKIPPED, str(e), isinstance(e, NothingToScan)
    except SourceFailed as e:
        items, status, reason, detail = [], Status.FAILED, str(e), e.detail
    except Exception as e:  # partial failure is data: any crash becomes a failed source
        log.debug("%s %s crashed", kind, name, exc_info=True)
        items, status, reason = [], Status.FAILED, f"{type(e).__name__}: {e}"
        detail = "".join(traceback.format_exception(e))
    duration = time.monotonic() - start
    if status is not Status.OK:
        log.debug("%s %s %s: %s", kind, name, status.value, reason)  # the engine summarises at the end
    result = SourceResult(name=name, kind=kind, status=status, reason=reason, detail=detail,
                          duration_s=round(duration, 3), nothing_to_do=idle, notices=notices)
    progress.finished(result)
    return items, result


def measure(stages: Stages, ctx: RunContext) -> tuple[list[Metric], list[Finding], list[SourceResult]]:
    """Run every collector and scanner concurrently, each within the source time limit."""
    jobs: list[tuple[SourceKind, str, Callable[[], Sequence[Metric] | Sequence[Finding]]]] = []
    for c in stages.collectors:
        jobs.append((SourceKind.COLLECTOR, c.name, functools.partial(c.collect, ctx)))
    for s in stages.scanners:
        jobs.append((SourceKind.SCANNER, s.name, functools.partial(s.scan, ctx)))
    metrics: list[Metric] = []
    findings: list[Finding] = []
    results: list[SourceResult] = []
    if not jobs:
        return metrics, findings, results
    timeout = ctx.settings.source_timeout_s
    pool = cf.ThreadPoolExecutor(max_workers=min(8, len(jobs)), thread_name_prefix="stage")
    try:
        futures = {pool.submit(_run_one, kind, name, fn, stages.progress): (kind, name) for kind, name, fn in jobs}
        _done, not_done = cf.wait(futures, timeout=timeout)
        for fut in futures:
            kind, name = futures[fut]
            if fut in not_done:
                late = SourceResult(name=name, kind=kind, status=Status.FAILED,
                                    reason=f"timed out after {timeout:.0f}s", duration_s=timeout)
                stages.progress.finished(late)
                results.append(late)
                continue
            items, result = fut.result()
            results.append(result)
            if kind is SourceKind.COLLECTOR:
                metrics.extend(items)  # type: ignore[arg-type]
            else:
                findings.extend(items)  # type: ignore[arg-type]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return metrics, findings, results


def _gate_once(gate: Gate, metrics: dict[str, Metric], ctx: RunContext) -> list[GateResult]:
    return [gate.evaluate(metrics, ctx)]


def evaluate_gates(gates: Sequence[Gate], metrics: Sequence[Metric], ctx: RunContext,
                   progress: Progress = NO_PROGRESS) -> tuple[list[GateResult], list[SourceResult]]:
    by_name = {m.name: m for m in metrics}
    out: list[GateResult] = []
    results: list[SourceResult] = []
    for g in gates:
        items, res = _run_one(SourceKind.GATE, g.name, functools.partial(_gate_once, g, by_name, ctx), progress)
        out.extend(items)
        results.append(res)
    return out, results


HistoryReader = Callable[[Sequence[Metric], Health], History]


def _read_history(reader: HistoryReader, metrics: Sequence[Metric], health: Health, progress: Progress
                  ) -> tuple[History, list[SourceResult]]:
    """The history comparison; a store that cannot be read is a failed source, not a crash."""
    items, result = _run_one(SourceKind.HISTORY, "history", lambda: [reader(metrics, health)], progress)
    return (items[0] if items else History()), [result]


def build_report(stages: Stages, ctx: RunContext, *, history: HistoryReader | None = None) -> RunReport:
    """Everything up to the immutable RunReport: measure, gate, score, evaluate rules, decide the verdict.
    No side effects."""
    metrics, findings, sources = measure(stages, ctx)
    findings = redact_findings(findings)  # once, where findings enter: no secret leaves in any output
    sources = redact_sources(sources)  # nor in what a failed tool said
    if stages.finding_policy is not None:
        findings = list(stages.finding_policy(findings, ctx))
    metrics = derive_metrics(metrics, findings, [s for s in sources if s.kind is SourceKind.SCANNER],
                             counting=Counting.from_section(ctx.config.security_scanning))
    gates, gate_sources = evaluate_gates(stages.gates, metrics, ctx, stages.progress)
    health = score(metrics, ctx.config)
    outcome = evaluate_rules(ctx.config, {m.name: m.value for m in metrics})
    hist, history_sources = (_read_history(history, metrics, health, stages.progress) if history is not None
                             else (History(), []))
    report = RunReport(
        schema_version=REPORT_SCHEMA_VERSION,
        repository=ctx.repository,
        generated_at=ctx.now,
        dry_run=ctx.dry_run,
        sha=ctx.sha,
        ref=ctx.ref,
        event_name=ctx.event_name,
        health=health,
        metrics=tuple(metrics),
        findings=tuple(findings),
        gates=tuple(gates),
        alerts=outcome.fired,
        rules_not_evaluated=outcome.inconclusive,
        sources=(*sources, *gate_sources, *history_sources),
        history=hist,
        notices=(*stages.notices, *(n for s in sources for n in s.notices)),
    )
    return judged(report, ctx)


def judged(report: RunReport, ctx: RunContext) -> RunReport:
    """`report` with its verdict decided (core/verdict.decide, the one place a verdict is made)."""
    return dataclasses.replace(report, verdict=decide(report, ctx.config, enforced=ctx.settings.fail_on_policy,
                                                      pull_request=ctx.pull_request is not None))


def deliver(report: RunReport, stages: Stages, ctx: RunContext) -> RunReport:
    """Run the sinks in order (each isolated), then the writers on the report with every action attached.

    A required sink (the metrics history with `tracking.data_sources.history.required`) that fails is part of
    the verdict: it is decided again after each sink, so the sinks after it (the check run, the PR comment)
    and the writers show the verdict the run exits with. Each sink sees the actions and results of the sinks
    before it (the history stores the changes the GitHub sinks made; the Pushgateway reads what it stored)."""
    actions: list[Action] = []
    current = report
    for sink in [*stages.sinks]:
        items, res = _run_one(SourceKind.SINK, sink.name, functools.partial(sink.deliver, current, ctx),
                              stages.progress)
        actions.extend(items)
        current = judged(dataclasses.replace(current, sources=(*current.sources, res), actions=tuple(actions)),
                         ctx)
    final = dataclasses.replace(current, actions=tuple(actions))
    writer_actions: list[Action] = []
    for writer in stages.writers:
        items, res = _run_one(SourceKind.SINK, writer.name, functools.partial(writer.deliver, final, ctx),
                              stages.progress)
        writer_actions.extend(items)
        if res.status is Status.FAILED:
            log.error("writer %s failed: %s", writer.name, res.reason)
        final = dataclasses.replace(final, sources=(*final.sources, res))
    return dataclasses.replace(final, actions=(*final.actions, *writer_actions))
