"""Finding policy: ignores (with expiry), baseline file, unknown severities, and what blocks a run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from repo_automation.core.policy import apply_finding_policy, blocking_findings
from repo_automation.domain import Finding, Severity
from repo_automation.errors import ConfigError
from tests.helpers import make_context  # FIXED_NOW is 2026-11-29

VULN = Finding(tool="pip-audit", rule_id="PYSEC-2024-39", severity=Severity.HIGH, title="jinja2 sandbox escape",
               fingerprint="fp-jinja", package="jinja2", version="3.1.3",
               ids=("PYSEC-2024-39", "CVE-2024-34064", "GHSA-h75v-3vvj-5mfj"))
CODE = Finding(tool="bandit", rule_id="B602", severity=Severity.CRITICAL, title="subprocess with shell=True",
               fingerprint="fp-b602")
UNKNOWN = Finding(tool="pip-audit", rule_id="GHSA-xxxx-yyyy-zzzz", severity=Severity.UNKNOWN, title="no severity",
                  fingerprint="fp-unknown", package="foo")


def _policy(tmp_path: Path, section: dict[str, Any], findings: list[Finding]) -> list[Finding]:
    ctx = make_context(tmp_path, config={"automation": {"security_scanning": section}})
    return apply_finding_policy(findings, ctx)


@pytest.mark.parametrize("ignore_id", ["PYSEC-2024-39", "CVE-2024-34064", "GHSA-h75v-3vvj-5mfj", "fp-jinja"])
def test_ignore_by_advisory_id_alias_or_fingerprint(tmp_path: Path, ignore_id: str) -> None:
    out = _policy(tmp_path, {"ignore": [{"id": ignore_id, "reason": "sandbox not used"}]}, [VULN, CODE])
    assert out[0].state == "ignored"
    assert out[0].note == f"ignored ({ignore_id}): sandbox not used"
    assert out[1] == CODE


def test_ignore_by_rule_id_until_its_expiry_date(tmp_path: Path) -> None:
    entry = {"id": "B602", "reason": "trusted input", "expires": "2026-11-29"}  # today: still applies
    assert _policy(tmp_path, {"ignore": [entry]}, [CODE])[0].state == "ignored"


def test_expired_ignore_stops_and_says_so(tmp_path: Path) -> None:
    entry = {"id": "B602", "reason": "trusted input", "expires": "2026-11-28"}
    [out] = _policy(tmp_path, {"ignore": [entry]}, [CODE])
    assert out.state == "active"
    assert out.note == "ignore of B602 expired on 2026-11-28 (was: trusted input)"
    assert blocking_findings([out], make_context(tmp_path).config) == [out]


def test_baseline_file_relative_to_workspace(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "baseline.json").write_text(json.dumps(["fp-b602"]), encoding="utf-8")
    out = _policy(tmp_path, {"baseline": ".github/baseline.json"}, [VULN, CODE])
    assert [f.state for f in out] == ["active", "baseline"]
    assert out[1].note == "in the baseline"
    assert blocking_findings(out, make_context(tmp_path).config) == [out[0]]


def test_baseline_object_form_and_ignore_wins(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text(json.dumps({"fingerprints": ["fp-b602", "fp-jinja"]}), encoding="utf-8")
    out = _policy(tmp_path, {"baseline": "b.json", "ignore": [{"id": "B602", "reason": "ok"}]}, [VULN, CODE])
    assert [f.state for f in out] == ["baseline", "ignored"]


@pytest.mark.parametrize(("content", "fragment"), [
    (None, "is missing"),
    ("dir", "is a folder, not a file"),
    ("{not json", "is not readable JSON"),
    ('{"a": 1}', "must hold a JSON list of fingerprint strings"),
    ("[1, 2]", "must hold a JSON list of fingerprint strings"),
])
def test_bad_baseline_is_a_config_error_naming_the_file(tmp_path: Path, content: str | None, fragment: str) -> None:
    target = tmp_path / "baseline.json"
    if content == "dir":
        target.mkdir()
    elif content is not None:
        target.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        _policy(tmp_path, {"baseline": "baseline.json"}, [CODE])
    msg = err.value.diagnostics()
    assert "$.automation.security_scanning.baseline" in msg and str(target) in msg and fragment in msg


def test_an_unknown_severity_stays_unknown_and_the_note_says_how_it_counts(tmp_path: Path) -> None:
    [high] = _policy(tmp_path, {}, [UNKNOWN])  # default: counted as high
    assert high.severity is Severity.UNKNOWN  # shown as the source gave it
    assert high.note == "severity: unknown in the source; counted as high (unknown_severity)"
    [low] = _policy(tmp_path, {"unknown_severity": "low"}, [UNKNOWN])
    assert low.severity is Severity.UNKNOWN and low.note and "counted as low" in low.note
    [kept] = _policy(tmp_path, {"unknown_severity": "unknown"}, [UNKNOWN])
    assert kept == UNKNOWN
    assert _block(tmp_path, {}, [UNKNOWN]) == [UNKNOWN.fingerprint]  # counted as high: it blocks
    assert _block(tmp_path, {"unknown_severity": "medium"}, [UNKNOWN]) == []


def test_fixed_findings_are_left_alone(tmp_path: Path) -> None:
    fixed = Finding(tool="bandit", rule_id="B602", severity=Severity.UNKNOWN, title="t", fingerprint="f",
                    state="fixed")
    assert _policy(tmp_path, {"ignore": [{"id": "B602", "reason": "x"}]}, [fixed]) == [fixed]


def test_new_findings_in_a_pr_can_be_ignored(tmp_path: Path) -> None:
    import dataclasses

    new = dataclasses.replace(CODE, state="new")
    assert _policy(tmp_path, {"ignore": [{"id": "fp-b602", "reason": "x"}]}, [new])[0].state == "ignored"


def _block(tmp_path: Path, section: dict[str, Any], findings: list[Finding]) -> list[str]:
    cfg = make_context(tmp_path, config={"automation": {"security_scanning": section}}).config
    return [f.fingerprint for f in blocking_findings(findings, cfg)]


def _f(fp: str, severity: Severity, state: str = "active") -> Finding:
    return Finding(tool="t", rule_id="r", severity=severity, title="t", fingerprint=fp, state=state)


FINDINGS = [_f("c", Severity.CRITICAL), _f("h", Severity.HIGH), _f("m", Severity.MEDIUM), _f("u", Severity.UNKNOWN),
            _f("hn", Severity.HIGH, "new"), _f("he", Severity.HIGH, "existing"), _f("hb", Severity.HIGH, "baseline"),
            _f("hi", Severity.HIGH, "ignored"), _f("cf", Severity.CRITICAL, "fixed")]


def test_blocking_defaults_high_and_critical(tmp_path: Path) -> None:
    assert _block(tmp_path, {}, FINDINGS) == ["c", "h", "u", "hn"]  # unknown counts as high by default


def test_blocking_critical_only(tmp_path: Path) -> None:
    assert _block(tmp_path, {"fail_on_high": False}, FINDINGS) == ["c"]


def test_blocking_high_includes_critical(tmp_path: Path) -> None:
    assert _block(tmp_path, {"fail_on_critical": False}, FINDINGS) == ["c", "h", "u", "hn"]


def test_blocking_disabled(tmp_path: Path) -> None:
    assert _block(tmp_path, {"fail_on_high": False, "fail_on_critical": False}, FINDINGS) == []


def test_blocking_unknown_as_medium(tmp_path: Path) -> None:
    assert _block(tmp_path, {"unknown_severity": "medium"}, FINDINGS) == ["c", "h", "hn"]


def test_check_policy_fails_early_on_a_missing_baseline(tmp_path: Path) -> None:
    from repo_automation.core.policy import check_policy

    check_policy(make_context(tmp_path))  # nothing configured: nothing to check
    ctx = make_context(tmp_path, config={"automation": {"security_scanning": {"baseline": "gone.json"}}})
    with pytest.raises(ConfigError, match=r"gone\.json is missing"):
        check_policy(ctx)
