"""A score computed while a source behind it failed says so: in the category, the JSON and the Markdown."""

from __future__ import annotations

from dataclasses import replace

from repo_automation import config as config_mod
from repo_automation.core.derive import derive_metrics
from repo_automation.core.scoring import score
from repo_automation.domain import Metric, SourceResult, Status
from repo_automation.report import json_report, markdown
from tests.reports import empty_report


def _security_only_from_bandit() -> list[Metric]:
    sources = [
        SourceResult(name="bandit", kind="scanner", status=Status.OK),
        SourceResult(name="pip-audit", kind="scanner", status=Status.FAILED, reason="OSV did not answer"),
        SourceResult(name="safety", kind="scanner", status=Status.SKIPPED, reason="no API key"),
    ]
    return derive_metrics([], [], sources)


def test_security_from_bandit_alone_is_scored_and_names_what_it_did_not_see() -> None:
    health = score(_security_only_from_bandit(), config_mod.from_data({}))
    security = health.categories["security"]
    assert security.score == 100.0  # no findings from the scanner that ran
    assert security.notes == ("failed: pip-audit", "skipped: safety")  # why: in the sources, once
    assert health.categories["reliability"].notes == ()  # nothing measured, nothing to qualify


def test_json_and_markdown_carry_the_notes_and_the_metric_metadata() -> None:
    metrics = _security_only_from_bandit()
    report = replace(empty_report(), metrics=tuple(metrics), health=score(metrics, config_mod.from_data({})))
    doc = json_report.to_json(report)
    assert json_report.validate(doc) == []
    assert doc["health"]["categories"]["security"]["notes"] == ["failed: pip-audit", "skipped: safety"]
    vulns = next(m for m in doc["metrics"] if m["name"] == "security.vulnerabilities")
    assert vulns["metadata"]["scanners"] == ["bandit"]
    text = markdown.health_report(report)
    assert "**security** is scored on partial evidence:" in text
    assert "- failed: pip\\-audit" in text
