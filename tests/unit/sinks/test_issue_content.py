"""Which findings file issues: test code's findings are reported apart and file none unless they count."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from repo_automation.domain import FindingScope, Severity
from repo_automation.sinks.github.issue_content import desired_issues
from tests.helpers import make_context
from tests.reports import empty_report, finding


def _report() -> object:
    package = finding(1, Severity.HIGH, path="pkg/core.py")
    in_tests = dataclasses.replace(finding(2, Severity.MEDIUM, path="tests/test_core.py"), scope=FindingScope.TEST)
    return dataclasses.replace(empty_report(), findings=(package, in_tests))


def _titles(tmp_path: Path, scanning: dict[str, object]) -> list[str]:
    ctx = make_context(tmp_path, config={"automation": {"security_scanning": {"auto_create_issues": True, **scanning}}})
    return [d.title for d in desired_issues(_report(), ctx).desired]  # type: ignore[arg-type]


def test_findings_in_test_code_file_no_issue_by_default(tmp_path: Path) -> None:
    titles = _titles(tmp_path, {})
    assert len(titles) == 1 and "Problem number 1" in titles[0]


def test_findings_in_test_code_file_issues_when_they_count(tmp_path: Path) -> None:
    titles = _titles(tmp_path, {"count_test_findings": True})
    assert len(titles) == 2 and any("Problem number 2" in t for t in titles)
