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
from repo_automation.domain import Action, Finding, Metric, RunReport, Severity, Status, Verdict
from repo_automation.errors import SourceFailed
from repo_automation.pipeline import Stages, build_report, deliver
from repo_automation.stages import Collector, Noted, Scanner, Sink
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
    assert report.metric("security.vulnerabilities").metadata["failed"] == ("safety",)  # type: ignore[union-attr]

    h = report.health
    assert h.categories["code_quality"].score == 100.0   # 76 + (6-1)*5 = 101, capped
    assert h.categories["performance"].score == 85.0     # 100 - 300/2000*100
    assert h.categories["security"].score == 85.0        # 100 - (1*10 + 1*5)
    assert h.categories["reliability"].score is None
    assert h.overall == 90.0 and h.grade == "A"          # (100 + 85 + 85) / 3

    assert [(a.level, a.condition) for a in report.alerts] == [("warning", "code_quality.coverage < 80")]
    assert [i.message for i in report.rules_not_evaluated] == ["not evaluated: reliability.uptime missing"]
    assert report.rules_not_evaluated == evaluate_rules(ctx.config, values).inconclusive
    assert [f.fingerprint for f in blocking_findings(report.findings, ctx.config)] == ["a"]
    assert report.verdict == Verdict(passed=False, reasons=("1 blocking finding(s) (high)",), enforced=True)
    assert (report.verdict.exit_code, report.verdict.conclusion) == (1, "failure")


class Noting(Collector):
    name = "database"

    def collect(self, ctx: RunContext) -> Sequence[Metric]:
        return Noted([Metric(name="app.orders", value=3.0, source=self.name)], ["database query app.slow: timed out"])


def test_notices_come_back_with_what_a_stage_returned(tmp_path: Path) -> None:
    """A stage says what the reader should know by returning it (stages.Noted), not through an attribute."""
    ctx = make_context(tmp_path)
    report = build_report(Stages(collectors=[Noting(), Measured()], notices=["shallow clone"]), ctx)
    assert report.notices == ("shallow clone", "database query app.slow: timed out")
    assert {s.name: s.notices for s in report.sources} == {
        "database": ("database query app.slow: timed out",), "measured": ()}
    assert report.metric_values["app.orders"] == 3.0


class FailingSink(Sink):
    name = "broken-sink"

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        raise SourceFailed("the sink's server is down")


def test_the_verdict_is_decided_before_the_sinks_and_holds_after_them(tmp_path: Path) -> None:
    """Sinks run after build_report; a failing sink is reported, and the report keeps the verdict it had."""
    ctx = make_context(tmp_path, config={**CONFIG, "automation": {}}, fail_on_policy=False)
    report = build_report(Stages(collectors=[Measured()]), ctx)
    assert report.verdict == Verdict(passed=True, enforced=False)
    final = deliver(report, Stages(sinks=[FailingSink()]), ctx)
    assert [(s.name, s.status) for s in final.sources if s.kind == "sink"] == [("broken-sink", Status.FAILED)]
    assert final.verdict == report.verdict


def test_a_failed_policy_that_is_not_enforced_exits_0_with_a_neutral_check(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, config=CONFIG, fail_on_policy=False)
    verdict = build_report(Stages(scanners=[Bandit()], finding_policy=apply_finding_policy), ctx).verdict
    assert verdict is not None and not verdict.passed and not verdict.enforced
    assert (verdict.exit_code, verdict.conclusion) == (0, "neutral")
