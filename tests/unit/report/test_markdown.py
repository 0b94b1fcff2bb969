from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from repo_automation import config as config_mod
from repo_automation.core.rules import evaluate_rules
from repo_automation.domain import (
    Action,
    GateMode,
    GateResult,
    GateScope,
    RunReport,
    SourceResult,
    Status,
    TrendPoint,
    Verdict,
)
from repo_automation.report import markdown
from tests.reports import EVIL, NOW, dormant_report, empty_report, finding, judged, rich_report

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"  # regenerate: UPDATE_GOLDEN=1 pytest tests/unit/report
# unknown (coverage missing) or false: the rule cannot be evaluated
CONFIG = config_mod.from_data({"alerts": {"warning": {"conditions": [
    "code_quality.coverage < 70 or git.commits_per_week < 1"]}}})


FAILED = Verdict(passed=False, reasons=("gate coverage failed: coverage 61.2% is below 80%",
                                        "critical alert fired: security.critical_vulnerabilities > 0"))
PASSED = Verdict(passed=True)


def _render(kind: str, report: RunReport, policy: Verdict | None = None) -> str:
    report = replace(report, verdict=policy,
                     rules_not_evaluated=evaluate_rules(CONFIG, report.metric_values).inconclusive)
    if kind == "health":
        return markdown.health_report(report)
    if kind == "automation":
        return markdown.automation_report(report)
    return markdown.job_summary(report, report_files=["reports/project-health-report.md"])


CASES: list[tuple[str, str, Callable[[], RunReport], Verdict | None]] = [
    ("rich-health.md", "health", rich_report, FAILED),
    ("rich-automation-dry-run.md", "automation", lambda: rich_report(dry_run=True),
     replace(FAILED, enforced=False)),
    ("rich-summary.md", "summary", rich_report, FAILED),
    ("empty-health.md", "health", empty_report, PASSED),
    ("empty-automation.md", "automation", empty_report, None),
    ("empty-summary.md", "summary", empty_report, PASSED),
    ("dormant-health.md", "health", dormant_report, PASSED),  # every number with its window and sample size
]


@pytest.mark.parametrize(("golden", "kind", "build", "policy"), CASES, ids=[c[0] for c in CASES])
def test_golden(golden: str, kind: str, build: Callable[[], RunReport], policy: Verdict | None) -> None:
    text = _render(kind, build(), policy)
    path = GOLDEN / golden
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{golden} changed; review and rerun with UPDATE_GOLDEN=1"


def _html(text: str) -> str:
    return str(MarkdownIt("commonmark").enable("table").render(text))


def _evil_report() -> RunReport:
    r = rich_report()
    return replace(
        r, repository=EVIL, notices=(EVIL,),
        findings=(finding(1, r.findings[0].severity, title=EVIL, path=EVIL),),
        gates=(GateResult(name=EVIL, passed=False, actual=EVIL, threshold=1.0, message=EVIL, details=(EVIL,)),),
        sources=(SourceResult(name=EVIL, kind="collector", status=Status.FAILED, reason=EVIL),),
        actions=(Action(sink=EVIL, description=EVIL, performed=False, target=EVIL),),
    )


@pytest.mark.parametrize("kind", ["health", "automation", "summary"])
def test_untrusted_text_renders_inert(kind: str) -> None:
    text = _render(kind, _evil_report())
    html = _html(text)
    assert "<img" not in html
    assert 'href="http://evil"' not in html
    assert "<strong>x</strong>" not in html
    outside_code = re.sub(r"<code>.*?</code>", "", html)  # GitHub links no mention inside code
    assert "@octocat" not in outside_code  # a zero-width joiner after @: nobody is pinged
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in text  # still readable


def test_finalize_escapes_by_default_and_trusts_only_the_marker() -> None:
    assert markdown.finalize("**x**") == "\\*\\*x\\*\\*"
    assert markdown.finalize(markdown.Trusted("**x**")) == "**x**"
    assert markdown.finalize(None) == ""
    assert markdown.finalize(72.456) == "72.46"


def test_a_pipe_in_a_path_does_not_break_the_table() -> None:
    html = _html(_render("health", rich_report()))
    assert "<code>src/x|y.py:3</code>" in html


def test_inconclusive_category_is_shown_with_missing_inputs_not_zero() -> None:
    text = _render("health", rich_report())
    row = next(line for line in text.splitlines() if line.startswith("| quality |"))
    assert "inconclusive" in row and "`code_quality.coverage`" in row
    assert "| 0 |" not in row


def test_trend_chart_needs_two_scored_points() -> None:
    r = rich_report()
    assert "xychart-beta" in _render("health", r)
    one = replace(r, history=replace(r.history, trend=(TrendPoint(timestamp=NOW, overall=70.0),
                                                       TrendPoint(timestamp=NOW - timedelta(days=1), overall=None))))
    text = _render("health", one)
    assert "xychart-beta" not in text  # this run's own point alone: it is not a stored run
    assert "0 earlier scored runs stored, and this run is not stored (`store-db` is off)" in text
    stored = _render("health", replace(one, history=replace(one.history, stored_runs=1, storing=True)))
    assert "1 earlier scored run stored, and this run is stored too" in stored


def test_findings_are_listed_most_severe_first_and_cut_with_a_pointer_to_json() -> None:
    from repo_automation.domain import Severity

    many = (*(finding(i, Severity.LOW) for i in range(40)), finding(99, Severity.CRITICAL))
    text = _render("summary", replace(empty_report(), findings=many))
    rows = [line for line in text.splitlines() if "Problem number" in line and line.startswith("|")]
    assert rows[0].startswith("| critical | active")
    assert len(rows) == markdown.SUMMARY_FINDINGS_LIMIT
    assert f"…and {41 - markdown.SUMMARY_FINDINGS_LIMIT} more finding(s)" in text


def test_dry_run_lists_what_would_be_done() -> None:
    text = _render("automation", rich_report(dry_run=True))
    assert "Dry run: nothing was written outside the report folder" in text
    assert "- Would (issues): open issue for critical finding" in text
    assert "- Done" not in text


def test_policy_section_says_why_the_run_failed_and_whether_it_is_enforced() -> None:
    text = _render("summary", rich_report(), FAILED)
    assert "**Failed** (exit status 1):\n\n- gate coverage failed: coverage 61\\.2% is below 80%" in text
    relaxed = _render("summary", rich_report(), replace(FAILED, enforced=False))
    assert "**Failed, not enforced** (fail-on-policy is off" in relaxed
    assert "**Passed**" in _render("summary", empty_report(), PASSED)
    assert "## Policy" not in _render("summary", empty_report(), None)


def test_a_rule_that_fired_through_or_is_not_listed_as_unevaluated() -> None:
    config = config_mod.from_data({"alerts": {"warning": {"conditions": [
        "code_quality.coverage < 70 or git.commits_per_week > 1", "code_quality.coverage < 70"]}}})
    text = markdown.health_report(judged(rich_report(), config))
    assert [line for line in text.splitlines() if line.startswith("- warning: ")] == [
        "- warning: `code_quality.coverage < 70` — missing `code_quality.coverage`"]


def test_ratchet_gates_show_their_mode_suggestions_and_repository_wide_context() -> None:
    gate = GateResult(name="complexity_threshold", passed=False, actual=13, threshold=10,
                      message="this pull request adds or worsens 1 function(s) over complexity 10",
                      details=("app/new.py:1 tangled: complexity 13 (new)",), mode=GateMode.RATCHET,
                      scope=GateScope.CHANGE, suggestions=("Split tangled (app/new.py:1, complexity 13) into smaller "
                                                           "functions: 3 decision point(s) over the threshold of 10",))
    policy = Verdict(passed=False, reasons=("gate complexity_threshold failed: …",),
                     context=("gate coverage_minimum failed: low",))
    text = _render("health", replace(empty_report(), gates=(gate,)), policy)
    assert "| complexity\\_threshold | ratchet (this change) | **failed** | 13 | 10 |" in text
    assert "<br>app/new\\.py:1 tangled: complexity 13 \\(new\\)" in text
    assert "### Improvement suggestions\n\n- Split tangled \\(app/new\\.py:1, complexity 13\\)" in text
    assert "Repository-wide, not judged on this pull request:\n\n- gate coverage\\_minimum failed: low" in text
