"""The run's verdict: did policy hold? Pure: a function of the RunReport and the configuration.

Exit status 1 when a gate failed, an alert of a blocking level fired, an active/new finding reaches the
fail_on severities, or a required source (a scanner in `required_tools`, a data source with `required`)
failed or was skipped with something left unmeasured. Other sources that failed do not fail the run by
themselves (they are reported).

The pipeline decides it in `build_report`, before any sink runs, and every renderer and sink reads
`RunReport.verdict`. Sinks add `sink` sources; the only one a reason reads is a required metrics history
(`tracking.data_sources.history.required`), so the pipeline decides again after each sink (`pipeline.judged`)
and the sinks after it and the writers show the verdict the run exits with.
"""

from __future__ import annotations

from repo_automation.config import Config
from repo_automation.core.policy import blocking_findings, unmet_requirements
from repo_automation.domain import RunReport, Verdict


def decide(report: RunReport, config: Config, *, enforced: bool = True) -> Verdict:
    """The verdict on `report`; `enforced` is the fail-on-policy setting (False: a failure exits 0)."""
    reasons: list[str] = []
    for gate in report.gates:
        if gate.passed is False:
            reasons.append(f"gate {gate.name} failed: {gate.message}")
    for alert in report.alerts:
        if config.alerts[alert.level].blocking:
            reasons.append(f"{alert.level} alert fired: {alert.condition}")
    blocking = blocking_findings(report.findings, config)
    if blocking:
        worst = ", ".join(sorted({f.severity.value for f in blocking}))
        reasons.append(f"{len(blocking)} blocking finding(s) ({worst})")
    reasons += unmet_requirements(report.sources, config)
    return Verdict(passed=not reasons, reasons=tuple(reasons), enforced=enforced)
