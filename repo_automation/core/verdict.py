"""The run's verdict: did policy hold? Pure: a function of the RunReport and the configuration.

Exit status 1 when a gate failed (on a pull request: a gate that judges the change, see below), an alert of
a blocking level fired, an active/new finding reaches the fail_on severities, or a required source (a
scanner in `required_tools`, a data source with `required`) failed or was skipped with something left
unmeasured. Other sources that failed do not fail the run by
themselves (they are reported).

The pipeline decides it in `build_report`, before any sink runs, and every renderer and sink reads
`RunReport.verdict`. Sinks add `sink` sources; the only one a reason reads is a required metrics history
(`tracking.data_sources.history.required`), so the pipeline decides again after each sink (`pipeline.judged`)
and the sinks after it and the writers show the verdict the run exits with.

On a pull request the check is about the change: a gate result that judges the whole repository (an absolute
threshold, a Sonar rating: `GateScope.REPOSITORY`) does not fail it. Such failures are kept in
`Verdict.context`, which the check run and the reports show as neutral context, not as this pull request's
failure; the ratchet results that compare with the base (`GateScope.CHANGE`) decide.
"""

from __future__ import annotations

from repo_automation.config import Config
from repo_automation.core.policy import blocking_findings, unmet_requirements
from repo_automation.domain import GateScope, RunReport, Verdict


def decide(report: RunReport, config: Config, *, enforced: bool = True, pull_request: bool = False) -> Verdict:
    """The verdict on `report`; `enforced` is the fail-on-policy setting (False: a failure exits 0);
    `pull_request`: the run judges a pull request, so repository-wide gate failures are context only."""
    reasons: list[str] = []
    context: list[str] = []
    context_gates: list[str] = []
    for gate in report.gates:
        if gate.passed is False:
            failed = f"gate {gate.name} failed: {gate.message}"
            if pull_request and gate.scope is GateScope.REPOSITORY:
                context.append(failed)
                context_gates.append(gate.name)
            else:
                reasons.append(failed)
    for alert in report.alerts:
        if config.alerts[alert.level].blocking:
            reasons.append(f"{alert.level} alert fired: {alert.condition}")
    blocking = blocking_findings(report.findings, config)
    if blocking:
        worst = ", ".join(sorted({f.severity.value for f in blocking}))
        reasons.append(f"{len(blocking)} blocking finding(s) ({worst})")
    reasons += unmet_requirements(report.sources, config)
    return Verdict(passed=not reasons, reasons=tuple(reasons), enforced=enforced, context=tuple(context),
                   context_gates=tuple(context_gates))
