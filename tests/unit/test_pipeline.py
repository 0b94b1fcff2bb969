"""The pure core inside the real pipeline: policy → derived counts → score → alerts, on one RunReport.

The stages are small real implementations of the stage interfaces returning fixed data (no patching): what
is checked is how the core turns their output into what the user reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from repo_automation.context import RunContext
from repo_automation.core.policy import apply_finding_policy, blocking_findings
from repo_automation.core.rules import evaluate_rules
from repo_automation.domain import Finding, Metric, Severity
from repo_automation.errors import SourceFailed
from repo_automation.pipeline import Stages, build_report
from repo_automation.stages import Collector, Scanner
from tests.helpers import make_context


class Measured(Collector):
    name = "measured"

    def collect(self, ctx: RunContext) -> Sequence[Metric]:
        return [Metric(name="code_quality.coverage", value=76.0, source=self.name),
                Metric(name="code_quality.maintainability_index", value=25.0, source=self.name),  # A
                Metric(name="performance.response_time_p95", value=300.0, source=self.name)]


class Bandit(Scanner):
    name = "bandit"

    def scan(self, ctx: RunContext) -> Sequence[Finding]:
        return [Finding(tool="bandit", rule_id="B602", severity=Severity.HIGH, title="shell", fingerprint="a"),
                Finding(tool="bandit", rule_id="B108", severity=Severity.MEDIUM, title="tmp", fingerprint="b"),
                Finding(tool="bandit", rule_id="B303", severity=Severity.CRITICAL, title="md5", fingerprint="c")]


class BrokenSafety(Scanner):
    name = "safety"

    def scan(self, ctx: RunContext) -> Sequence[Finding]:
        raise SourceFailed("safety needs SAFETY_API_KEY")


CONFIG = {
    "alerts": {"critical": {"conditions": ["security.critical_vulnerabilities > 0", "reliability.uptime < 99.0"],
                            "notification_channels": ["pagerduty"]},
               "warning": {"conditions": ["code_quality.coverage < 80"]}},
    "automation": {"security_scanning": {"ignore": [{"id": "B303", "reason": "checksum only, not security"}]}},
}


def test_one_run_through_the_core(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, config=CONFIG)
    stages = Stages(collectors=[Measured()], scanners=[Bandit(), BrokenSafety()], finding_policy=apply_finding_policy)
    report = build_report(stages, ctx)

    assert [f.state for f in report.findings] == ["active", "active", "ignored"]
    values = report.metric_values
    assert values["security.critical_vulnerabilities"] == 0.0  # the md5 finding is ignored
    assert values["security.high_vulnerabilities"] == 1.0
    assert values["security.vulnerabilities"] == 1.0
    assert values["security.hotspots"] == 1.0
    assert values["code_quality.maintainability_rating"] == 1.0
    assert report.metric("security.vulnerabilities").metadata["failed"] == (  # type: ignore[union-attr]
        "safety: safety needs SAFETY_API_KEY",)

    h = report.health
    assert h.categories["code_quality"].score == 100.0   # 76 + (6-1)*5 = 101, capped
    assert h.categories["performance"].score == 85.0     # 100 - 300/2000*100
    assert h.categories["security"].score == 85.0        # 100 - (1*10 + 1*5)
    assert h.categories["reliability"].score is None
    assert h.overall == 90.0 and h.grade == "A"          # (100 + 85 + 85) / 3

    assert [(a.level, a.condition) for a in report.alerts] == [("warning", "code_quality.coverage < 80")]
    outcome = evaluate_rules(ctx.config, values)
    assert [i.message for i in outcome.inconclusive] == ["not evaluated: reliability.uptime missing"]
    assert [f.fingerprint for f in blocking_findings(report.findings, ctx.config)] == ["a"]
