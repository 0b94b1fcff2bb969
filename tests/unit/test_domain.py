"""The domain's closed sets: text given for one becomes its member, anything else is refused at once."""

from __future__ import annotations

import json

import pytest

from repo_automation.domain import (
    Alert,
    AlertLevel,
    Finding,
    FindingState,
    Severity,
    SourceKind,
    SourceResult,
    Status,
)


def test_text_becomes_the_member_and_serialises_as_the_same_text() -> None:
    f = Finding(tool="bandit", rule_id="B101", severity=Severity.LOW, title="t", fingerprint="fp", state="new")  # type: ignore[arg-type]
    s = SourceResult(name="bandit", kind="scanner", status=Status.OK)  # type: ignore[arg-type]
    a = Alert(level="warning", condition="code_quality.coverage < 80", channels=(), values={})  # type: ignore[arg-type]
    assert f.state is FindingState.NEW and s.kind is SourceKind.SCANNER and a.level is AlertLevel.WARNING
    assert json.dumps([f.state, s.kind, a.level]) == '["new", "scanner", "warning"]'


def test_a_value_outside_the_set_is_refused() -> None:
    with pytest.raises(ValueError, match="'plugin' is not a valid SourceKind"):
        SourceResult(name="x", kind="plugin", status=Status.OK)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'info' is not a valid AlertLevel"):
        Alert(level="info", condition="c", channels=(), values={})  # type: ignore[arg-type]


def test_a_source_reason_is_one_line_and_its_full_text_the_detail() -> None:
    from repo_automation.domain import DETAIL_MAX, REASON_MAX, SourceResult, Status

    stderr = "Traceback (most recent call last):\n" + "\n".join(f"  frame {n}" for n in range(2000)) + \
        "\nInvalidVersion: Invalid version: '1.*'"
    r = SourceResult(name="pip-audit", kind="scanner", status="failed", reason=f"pip-audit failed: {stderr}")
    assert r.status is Status.FAILED
    assert r.reason == "pip-audit failed: Traceback (most recent call last): … InvalidVersion: Invalid version: '1.*'"
    assert r.detail.startswith("pip-audit failed: Traceback") and r.detail.endswith("'1.*'")
    assert len(r.detail) <= DETAIL_MAX and "characters cut" in r.detail
    long = SourceResult(name="x", kind="sink", status="failed", reason="a" * 400 + " the end")
    assert len(long.reason) == REASON_MAX and long.reason.endswith("the end") and long.detail.endswith("the end")
    plain = SourceResult(name="x", kind="sink", status="failed", reason="HTTP 401")
    assert (plain.reason, plain.detail) == ("HTTP 401", "")  # nothing more to say
