"""RunReport values for the renderer tests: a rich one (every section filled) and an empty one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from repo_automation import config as config_mod
from repo_automation.config import Config
from repo_automation.core.rules import evaluate_rules
from repo_automation.core.verdict import decide
from repo_automation.domain import (
    Action,
    Alert,
    CategoryScore,
    Finding,
    FindingScope,
    GateResult,
    Health,
    History,
    Location,
    Metric,
    MetricChange,
    RunReport,
    Severity,
    SourceResult,
    Status,
    TrendPoint,
)


def judged(report: RunReport, config: Config | None = None, *, enforced: bool = True,
           pull_request: bool = False) -> RunReport:
    """The report with its rules not evaluated and its verdict, as the pipeline's build_report sets them
    (the default configuration unless one is given)."""
    cfg = config if config is not None else config_mod.from_data({})
    unevaluated = evaluate_rules(cfg, report.metric_values).inconclusive
    return replace(report, rules_not_evaluated=unevaluated,
                   verdict=decide(report, cfg, enforced=enforced, pull_request=pull_request))


NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
EVIL = "<img src=x onerror=alert(1)> @octocat **x** [a](http://evil)"


def finding(n: int, severity: Severity, *, state: str = "active", title: str | None = None,
            path: str | None = "src/app.py", line: int | None = 10) -> Finding:
    return Finding(
        tool="bandit", rule_id=f"B{100 + n}", severity=severity, title=title or f"Problem number {n}",
        fingerprint=f"fp{n:04d}", message=f"message {n}",
        location=Location(path=path, start_line=line) if path else None, state=state,
    )


def rich_report(*, dry_run: bool = False) -> RunReport:
    findings = (
        finding(1, Severity.MEDIUM, title="Use of assert detected"),
        finding(2, Severity.CRITICAL, title=EVIL, path="src/x|y.py", line=3),
        Finding(tool="pip-audit", rule_id="PYSEC-2023-74", severity=Severity.HIGH,
                title="requests leaks Proxy-Authorization headers", fingerprint="fpdep1",
                package="requests", version="2.30.0", fixed_versions=("2.31.0",),
                ids=("PYSEC-2023-74", "CVE-2023-32681", "GHSA-j8r2-6x86-q33q"),
                location=Location(path="requirements.txt")),
        finding(4, Severity.LOW, state="ignored"),
        finding(5, Severity.HIGH, state="baseline"),
        finding(6, Severity.LOW, state="new", path=None),
        replace(finding(7, Severity.MEDIUM, title="Call without timeout", path="tests/test_app.py", line=4),
                scope=FindingScope.TEST),
    )
    return RunReport(
        schema_version="1.0", repository="octo-org/hello-world", generated_at=NOW, dry_run=dry_run,
        sha="6113728f27ae82c7b1a177c8d03f9e96e0adf246", ref="refs/heads/main", event_name="schedule",
        health=Health(
            overall=72.456, grade="C",
            categories={
                "activity": CategoryScore(name="activity", score=80.0,
                                          inputs={"git.commits_per_week": 12.5}, formula="min(100, 8 * commits/week)"),
                "security": CategoryScore(name="security", score=55.0,
                                          inputs={"security.critical_vulnerabilities": 1.0,
                                                  "security.high_vulnerabilities": 1.0},
                                          formula="100 - 40 * critical - 5 * high"),
                "quality": CategoryScore(name="quality", score=None, inputs={},
                                         missing=("code_quality.coverage", "code_quality.max_complexity"),
                                         formula="mean of coverage and complexity scores"),
            },
            weights={"activity": 0.4, "security": 0.4, "quality": 0.2},
            partial=("pip-audit failed",),
        ),
        metrics=(
            Metric(name="git.commits_per_week", value=12.5, source="git", unit="commits/week"),
            Metric(name="security.critical_vulnerabilities", value=1.0, source="scanners", unit="count"),
            Metric(name="security.high_vulnerabilities", value=1.0, source="scanners", unit="count"),
            Metric(name="security.vulnerabilities", value=2.0, source="findings", unit="count", metadata={
                "counted": {"dependency_advisories": 1, "code_high_or_critical": 1, "code_medium": 0, "code_low": 2,
                            "test_code_not_counted": 1}, "unknown_severity": 0, "unknown_counted_as": "high"}),
        ),
        findings=findings,
        gates=(
            GateResult(name="coverage", passed=False, actual=61.2, threshold=80.0,
                       message="coverage 61.2% is below 80%"),
            GateResult(name="complexity", passed=True, actual=9.0, threshold=15.0, message="max complexity 9",
                       details=("src/app.py:main (9)",)),
            GateResult(name="sonar", passed=None, actual=None, threshold="A", message="SonarQube not configured"),
        ),
        alerts=(
            Alert(level="critical", condition="security.critical_vulnerabilities > 0", channels=("slack-alerts",),
                  values={"security.critical_vulnerabilities": 1.0}, escalation_time_minutes=15),
        ),
        sources=(
            SourceResult(name="git", kind="collector", status=Status.OK, duration_s=0.412),
            SourceResult(name="github", kind="collector", status=Status.SKIPPED, reason="no token", duration_s=0.0),
            SourceResult(name="sonarqube", kind="collector", status=Status.FAILED,
                         reason="HTTP 401 from https://sonar.example: **bad** token", duration_s=1.5),
            SourceResult(name="bandit", kind="scanner", status=Status.OK, duration_s=180.0),
        ),
        history=History(
            changes=(
                MetricChange(name="git.commits_per_week", value=12.5, previous=10.0, delta_previous=2.5,
                             thirty_days_ago=14.0, delta_30d=-1.5),
                MetricChange(name="security.critical_vulnerabilities", value=1.0, previous=1.0, delta_previous=0.0,
                             thirty_days_ago=None, delta_30d=None),
            ),
            trend=(
                TrendPoint(timestamp=NOW - timedelta(days=14), overall=70.0),
                TrendPoint(timestamp=NOW - timedelta(days=7), overall=None),
                TrendPoint(timestamp=NOW, overall=72.456),
            ),
        ),
        actions=(
            Action(sink="issues", description="open issue for critical finding", performed=not dry_run,
                   target="https://github.com/octo-org/hello-world/issues/7"),
            Action(sink="slack", description="send critical alert to #alerts", performed=not dry_run),
        ),
        notices=("shallow clone: use fetch-depth: 0 for full history",),
    )


def empty_report() -> RunReport:
    return RunReport(schema_version="1.0", repository=None, generated_at=NOW, dry_run=False,
                     health=Health(overall=None, grade=None, categories={}))


def dormant_report() -> RunReport:
    """A dormant repository (two commits about a year ago), measured by the real git arithmetic, with a
    partial and a failed source whose full text is long, one earlier run stored and this one not stored."""
    from repo_automation.collectors.git_local import Commit, compute_metrics

    stamp = NOW.timestamp()
    commits = [Commit(int(stamp - 358.5 * 86400), "alice@example.com", False, False),
               Commit(int(stamp - 360 * 86400), "alice@example.com", False, False)]
    stderr = "\n".join(["Traceback (most recent call last):", '  File "pip_audit/_cli.py", line 1, in main',
                        *(f"    frame {n}" for n in range(40)),
                        "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.osv.dev'): refused"])
    return RunReport(
        schema_version="1.2", repository="octo-org/dormant", generated_at=NOW, dry_run=False,
        health=Health(overall=None, grade=None, categories={}),
        metrics=tuple(compute_metrics(commits, [], NOW, 12)),
        sources=(
            SourceResult(name="git", kind="collector", status=Status.OK, duration_s=0.05),
            SourceResult(name="database", kind="collector", status=Status.PARTIAL,
                         reason="2 of 3 queries failed: app.orders, app.refunds",
                         detail="app.orders: UndefinedTable: relation \"orders\" does not exist\n"
                                "app.refunds: cancelled after the 10 s statement timeout", duration_s=10.2),
            SourceResult(name="pip-audit", kind="scanner", status=Status.FAILED,
                         reason=f"pip-audit failed (exit 1): {stderr}", duration_s=1.5),
        ),
        history=History(trend=(TrendPoint(timestamp=NOW - timedelta(days=7), overall=61.0),), stored_runs=1),
    )
