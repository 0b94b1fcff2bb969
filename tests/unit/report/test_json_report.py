from __future__ import annotations

import json
import math
from dataclasses import replace

from repo_automation import config as config_mod
from repo_automation.domain import Metric, Verdict
from repo_automation.report import json_report
from tests.reports import empty_report, judged, rich_report


def test_rich_report_validates_against_the_shipped_schema() -> None:
    report = rich_report()
    config = config_mod.from_data({"alerts": {"warning": {"conditions": ["code_quality.coverage < 70"]}}})
    doc = json.loads(json_report.dumps(json_report.to_json(judged(report, config))))
    assert json_report.validate(doc) == []
    assert doc["schema_version"] == "1.0"
    assert doc["generated_at"] == "2026-11-29T12:00:00Z"
    assert doc["alert_rules_not_evaluated"] == [
        {"level": "warning", "condition": "code_quality.coverage < 70", "missing": ["code_quality.coverage"]}]


def test_empty_report_validates() -> None:
    doc = json_report.to_json(empty_report())
    assert json_report.validate(doc) == []
    assert doc["health"] == {"overall": None, "grade": None, "weights": {}, "categories": {},
                             "headline": "inconclusive: no category had the inputs it needs",
                             "measured": {"categories": 0, "of": 0, "weight_share": 0.0}, "partial": []}


def test_inconclusive_category_is_null_with_its_missing_inputs_never_zero() -> None:
    doc = json_report.to_json(rich_report())
    quality = doc["health"]["categories"]["quality"]
    assert quality["score"] is None
    assert quality["status"] == "inconclusive"
    assert quality["missing"] == ["code_quality.coverage", "code_quality.max_complexity"]


def test_metrics_carry_change_against_previous_run_and_30_days() -> None:
    doc = json_report.to_json(rich_report())
    by_name = {m["name"]: m for m in doc["metrics"]}
    assert by_name["git.commits_per_week"]["change"] == {
        "previous": 10.0, "delta_previous": 2.5, "thirty_days_ago": 14.0, "delta_30d": -1.5}
    assert by_name["security.high_vulnerabilities"]["change"]["previous"] is None


def test_findings_keep_identity_location_and_state() -> None:
    doc = json_report.to_json(rich_report())
    dep = next(f for f in doc["findings"] if f["tool"] == "pip-audit")
    assert dep["ids"] == ["PYSEC-2023-74", "CVE-2023-32681", "GHSA-j8r2-6x86-q33q"]
    assert dep["package"] == "requests" and dep["fixed_versions"] == ["2.31.0"]
    assert dep["location"] == {"path": "requirements.txt", "start_line": None, "end_line": None,
                               "start_column": None}
    assert {f["state"] for f in doc["findings"]} == {"active", "ignored", "baseline", "new"}


def test_sources_gates_and_actions_are_reported() -> None:
    doc = json_report.to_json(rich_report(dry_run=True))
    assert [(s["name"], s["status"]) for s in doc["sources"]] == [
        ("git", "ok"), ("github", "skipped"), ("sonarqube", "failed"), ("bandit", "ok")]
    assert [g["status"] for g in doc["gates"]] == ["failed", "passed", "inconclusive"]
    assert all(a["performed"] is False for a in doc["actions"])
    assert doc["dry_run"] is True


def test_non_finite_numbers_become_null_and_the_text_is_strict_json() -> None:
    report = replace(empty_report(), metrics=(Metric(name="git.commits_per_week", value=math.nan, source="git"),))
    doc = json_report.to_json(report)
    text = json_report.dumps(doc)
    assert "NaN" not in text
    assert json.loads(text)["metrics"][0]["value"] is None
    assert json_report.validate(doc) == []


def test_schema_rejects_what_a_consumer_could_not_read() -> None:
    doc = json_report.to_json(rich_report())
    doc["sources"][0]["status"] = "maybe"
    doc["health"]["overall"] = 140
    del doc["findings"][0]["fingerprint"]
    problems = json_report.validate(doc)
    assert any(p.startswith("$.sources[0].status") for p in problems)
    assert any(p.startswith("$.health.overall") for p in problems)
    assert any(p.startswith("$.findings[0]") and "fingerprint" in p for p in problems)


def test_policy_is_the_reports_verdict() -> None:
    doc = json_report.to_json(replace(rich_report(), verdict=Verdict(passed=False, reasons=("gate coverage failed",))))
    assert doc["policy"] == {"passed": False, "enforced": True, "reasons": ["gate coverage failed"], "context": []}
    assert json_report.validate(doc) == []
    assert "policy" not in json_report.to_json(rich_report())  # a report built by hand, without a verdict


def test_the_verdict_decided_on_the_report_is_what_the_json_says() -> None:
    """The rich report has a failed gate and critical findings: the JSON says so, and that it is not enforced."""
    doc = json_report.to_json(judged(rich_report(), enforced=False))
    assert doc["policy"]["passed"] is False and doc["policy"]["enforced"] is False
    assert any(r.startswith("gate coverage failed") for r in doc["policy"]["reasons"])
    assert any("blocking finding(s) (critical" in r for r in doc["policy"]["reasons"])
    assert json_report.validate(doc) == []
