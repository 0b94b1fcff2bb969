"""Configuration files: the administration guide's example loads; every broken file is rejected naming the
JSON path of its problem, through the loader (schema, then the core's checks) and through
`repo-automation validate-config` (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repo_automation import config as config_mod
from repo_automation.catalogue import known_metrics
from repo_automation.cli import main
from repo_automation.core.rules import alert_rules
from repo_automation.domain import AlertLevel, Severity
from repo_automation.engine import read_config
from repo_automation.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "data" / "configs"
EXAMPLE = CONFIGS / "admin-guide-example.json"

# file -> (JSON path the diagnostics must name, fragment of the message)
BROKEN: dict[str, tuple[str, str]] = {
    "invalid-json-trailing-comma.json": ("$: line 1, column 81", "Expecting value"),
    "empty-file.json": ("$: line 1, column 1", "Expecting value"),
    "top-level-array.json": ("$:", "is not of type 'object'"),
    "unknown-top-level-key.json": ("$:", "('alert' was unexpected)"),
    "unknown-nested-key.json": ("$.automation.security_scanning:", "('fail_on_medium' was unexpected)"),
    "wrong-type-escalation.json": ("$.alerts.critical.escalation_time_minutes:", "'15' is not of type 'integer'"),
    "wrong-type-boolean.json": ("$.automation.security_scanning.enabled:", "'yes' is not of type 'boolean'"),
    "wrong-type-conditions.json": ("$.alerts.warning.conditions:", "is not of type 'array'"),
    "unknown-metric.json": ("$.alerts.critical.conditions[1]:",
                            "column 1: unknown metric 'reliability.uptme' (did you mean reliability.uptime?)"),
    "bad-operator.json": ("$.alerts.warning.conditions[1]:", "column 23: unexpected character '=' (use == to compare)"),
    "unbalanced-parenthesis.json": ("$.alerts.critical.conditions[0]:", "expected ')' to close the '(' at column 1"),
    "empty-condition.json": ("$.alerts.critical.conditions[0]:", "should be non-empty"),
    "coverage-out-of-range.json": ("$.automation.code_quality.quality_gates.coverage_minimum:",
                                   "150 is greater than the maximum of 100"),
    "complexity-out-of-range.json": ("$.automation.code_quality.quality_gates.complexity_threshold:",
                                     "0 is less than the minimum of 1"),
    "negative-escalation.json": ("$.alerts.warning.escalation_time_minutes:", "-5 is less than the minimum of 0"),
    "negative-weight.json": ("$.scoring.weights.security:", "-1 is less than the minimum of 0"),
    "bad-rating-enum.json": ("$.automation.code_quality.quality_gates.maintainability_rating:",
                             "'F' is not one of ['A', 'B', 'C', 'D', 'E']"),
    "unknown-scanner.json": ("$.automation.security_scanning.tools[1]:", "'snyk' is not one of"),
    "bad-frequency.json": ("$.automation.dependency_updates.frequency:", "'sometimes' is not one of"),
    "bad-expiry-date.json": ("$.automation.security_scanning.ignore[0].expires:",
                             "'2026-13-01' is not a date (YYYY-MM-DD)"),
    "ignore-without-reason.json": ("$.automation.security_scanning.ignore[0]:", "'reason' is a required property"),
    "endpoint-not-a-url.json": ("$.tracking.data_sources.prometheus.endpoint:",
                                "'prometheus:9090' is not an http:// or https:// URL"),
    "grades-rising.json": ("$.scoring.grades.C:", "85 is above grade B's 80"),
    "required-tool-not-run.json": ("$.automation.security_scanning.required_tools[1]:",
                                   "'safety' is required but not listed in automation.security_scanning.tools"),
    "required-source-disabled.json": ("$.tracking.data_sources.sonarqube.required:",
                                      "sonarqube is required but disabled (enabled: false)"),
    "several-problems.json": ("$.alerts.critical.escalation_time_minutes:", "'soon' is not of type 'integer'"),
    "nan-threshold.json": ("$:", "NaN is not a number JSON allows (use a finite number)"),
    "infinity-weight.json": ("$:", "Infinity is not a number JSON allows (use a finite number)"),
}


def test_admin_guide_example_validates_as_is() -> None:
    cfg = read_config(EXAMPLE, required=True)
    assert cfg.path == EXAMPLE
    conditions = alert_rules(cfg)
    assert [r.text for r in conditions["critical"]] == [
        "security.critical_vulnerabilities > 0", "reliability.uptime < 99.0", "performance.response_time_p99 > 10000"]
    assert len(conditions["warning"]) == 3
    named = {name for rules in conditions.values() for rule in rules for name in rule.metrics}
    assert named <= known_metrics()
    assert len(named) == 6
    # defaults are filled in around what the file sets
    assert cfg.alerts[AlertLevel.CRITICAL].escalation_time_minutes == 15
    assert cfg.security_scanning.unknown_severity is Severity.HIGH
    assert cfg.scoring.grades["A"] == 90


def test_every_broken_file_is_listed() -> None:
    assert sorted(p.name for p in (CONFIGS / "broken").glob("*.json")) == sorted(BROKEN)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_config_names_the_json_path(name: str) -> None:
    path = CONFIGS / "broken" / name
    with pytest.raises(ConfigError) as err:
        read_config(path, required=True)
    where, fragment = BROKEN[name]
    problems = [line for line in err.value.diagnostics().splitlines() if line.startswith(f"  - {where}")]
    assert problems, err.value.diagnostics()
    assert any(fragment in p for p in problems), err.value.diagnostics()
    assert str(path) in str(err.value)


def test_several_problems_are_all_listed() -> None:
    with pytest.raises(ConfigError) as err:
        read_config(CONFIGS / "broken" / "several-problems.json", required=False)
    assert err.value.problems == [
        "$.alerts.critical.escalation_time_minutes: 'soon' is not of type 'integer'",
        "$.automation.code_quality.quality_gates.coverage_minimum: -1 is less than the minimum of 0",
    ]


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration path is a folder, not a file"):
        config_mod.load(tmp_path)


def test_missing_file_required_or_not(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        config_mod.load(tmp_path / "absent.json", required=True)
    cfg = config_mod.load(tmp_path / "absent.json")
    assert cfg.path is None and cfg.security_scanning.fail_on_high is True


def test_cli_validate_config_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate-config", "--config", str(EXAMPLE)], env={}) == 0
    first, *notes = capsys.readouterr().out.strip().splitlines()
    assert first == f"{EXAMPLE}: valid"
    # the guide names pagerduty and email without configuring them: valid, but said, with how to configure them
    assert [n.split(" (")[0] for n in notes] == ["note: alert channel 'pagerduty'", "note: alert channel 'email'"]


def test_cli_validate_config_the_example_with_its_channels_configured_has_nothing_to_note(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["integrations"]["channels"] = {
        "pagerduty": {"kind": "pagerduty"},
        "email": {"kind": "email", "smtp_host": "smtp.example.com", "smtp_port": 587, "sender": "a@example.com",
                  "recipients": ["oncall@example.com"]}}
    path = tmp_path / "guide.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["validate-config", "--config", str(path)], env={}) == 0
    assert capsys.readouterr().out.strip() == f"{path}: valid"
    data["integrations"]["channels"]["email"].pop("smtp_host")
    path.write_text(json.dumps(data), encoding="utf-8")
    assert main(["validate-config", "--config", str(path)], env={}) == 2
    assert "$.integrations.channels.email: 'smtp_host' is a required property" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["unknown-metric.json", "invalid-json-trailing-comma.json", "bad-expiry-date.json",
                                  "grades-rising.json"])
def test_cli_validate_config_exit_2_with_the_path(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = CONFIGS / "broken" / name
    assert main(["validate-config", "--config", str(path)], env={}) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("repo-automation: error: ")
    assert str(path) in captured.err and BROKEN[name][0] in captured.err
    assert "Traceback" not in captured.err


def test_cli_validate_config_folder_and_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate-config", "--config", str(tmp_path)], env={}) == 2
    assert "is a folder, not a file" in capsys.readouterr().err
    assert main(["validate-config", "--config", str(tmp_path / "nope.json")], env={}) == 2
    err = capsys.readouterr().err
    assert f"configuration file not found: {tmp_path / 'nope.json'}" in err and "Traceback" not in err


@pytest.mark.parametrize("depth", [40, 5000])
def test_a_config_nested_too_deep_exits_2_without_a_traceback(tmp_path: Path, depth: int,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """40 levels parse but are refused; 5,000 would exhaust the parser's recursion (a RecursionError before)."""
    path = tmp_path / "deep.json"
    path.write_text('{"alerts": ' + '{"x": ' * depth + "1" + "}" * depth + "}", encoding="utf-8")
    assert main(["validate-config", "--config", str(path)], env={}) == 2
    err = capsys.readouterr().err
    assert f"{path} is not a usable configuration" in err and "nested more than 32 levels deep" in err
    assert "Traceback" not in err
