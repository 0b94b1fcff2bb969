"""The run's verdict: did policy hold? Pure: a function of the RunReport and the configuration.

Exit status 1 when a gate failed, an alert of a blocking level fired, an active/new finding reaches the
fail_on severities, or a required source (a scanner in `required_tools`, a data source with `required`)
failed or was skipped with something left unmeasured. Other sources that failed do not fail the run by
themselves (they are reported).

The pipeline decides it once, in `build_report`, before any sink runs, and every renderer and sink reads
`RunReport.verdict`. That is complete: sinks add only `sink` sources to the report, and no reason looks at
those (required sources are scanners and collectors, which have all run by then), so the report after
delivery holds the same verdict.
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
