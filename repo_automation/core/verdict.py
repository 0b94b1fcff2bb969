"""The run's verdict: did policy hold? Pure: a function of the RunReport and the configuration.

Exit status 1 when a gate failed, an alert of a blocking level fired, an active/new finding reaches the
fail_on severities, or a required source (a scanner in `required_tools`, a data source with `required`)
failed or was skipped with something left unmeasured. Other sources that failed do not fail the run by
themselves (they are reported).
"""

from __future__ import annotations

from dataclasses import dataclass

from repo_automation.config import Config
from repo_automation.domain import RunReport


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    passed: bool
    reasons: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    @property
    def conclusion(self) -> str:
        """A check-run conclusion."""
        return "success" if self.passed else "failure"


def decide(report: RunReport, config: Config) -> Verdict:
    from repo_automation.core.policy import blocking_findings, unmet_requirements

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
    return Verdict(passed=not reasons, reasons=tuple(reasons))
