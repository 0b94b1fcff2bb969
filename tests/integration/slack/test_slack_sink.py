"""The Slack sink against the local webhook in tests/fakeslack, which answers as Slack documents."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from repo_automation.context import RunContext
from repo_automation.core.rules import evaluate_rules
from repo_automation.core.scoring import score
from repo_automation.domain import Metric, RunReport, SourceResult, Status
from repo_automation.errors import SourceFailed, SourceSkipped, UsageError
from repo_automation.pipeline import Stages, deliver
from repo_automation.redaction import Secret
from repo_automation.sessions import make_session
from repo_automation.sinks.slack import SlackSink, fit_blocks
from tests.fakeslack import FakeSlack, payload_error
from tests.helpers import make_context

CONFIG: dict[str, Any] = {
    "alerts": {
        "critical": {"conditions": ["security.critical_vulnerabilities > 0"],
                     "notification_channels": ["slack-alerts", "pagerduty"], "escalation_time_minutes": 15},
        "warning": {"conditions": ["code_quality.coverage < 80"], "notification_channels": ["slack-security"]},
    },
    "integrations": {"slack": {"enabled": True,
                               "channels": {"alerts": "#alerts", "security": "#sec", "metrics": "#metrics"}}},
}
VALUES = {"security.critical_vulnerabilities": 2.0, "code_quality.coverage": 71.5}
ENV = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/widgets", "GITHUB_RUN_ID": "42",
       "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567"}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(channels=["#alerts", "#sec", "#metrics"], archived=["#old"]) as fake:
        yield fake


def context(tmp_path: Path, config: Mapping[str, Any] = CONFIG, **overrides: Any) -> RunContext:
    return make_context(tmp_path, config=config, env=overrides.pop("env", ENV), **overrides)


def run_report(ctx: RunContext, values: Mapping[str, float] = VALUES,
               sources: Sequence[SourceResult] = ()) -> RunReport:
    metrics = [Metric(name=k, value=v, source="test") for k, v in values.items()]
    return RunReport(schema_version="1.0", repository=ctx.repository, generated_at=ctx.now, dry_run=ctx.dry_run,
                     sha=ctx.sha, health=score(metrics, ctx.config), metrics=tuple(metrics),
                     alerts=evaluate_rules(ctx.config, values).fired, sources=tuple(sources))


def sink(slack: FakeSlack, ctx: RunContext, **kw: Any) -> SlackSink:
    cfg = ctx.config.slack
    kw.setdefault("session", make_session(methods=("POST",), retries=3, backoff_factor=0.01, retry_after_max_s=1))
    return SlackSink(webhook_url=Secret(slack.webhook_url), enabled=True, channels=cfg.channels,
                     secrets=ctx.secrets, **kw)


def test_alerts_are_routed_by_their_channels_and_the_health_goes_to_metrics(tmp_path: Path,
                                                                            slack: FakeSlack) -> None:
    ctx = context(tmp_path)
    actions = sink(slack, ctx).deliver(run_report(ctx), ctx)
    by_channel = {m["channel"]: m for m in slack.messages}
    assert sorted(by_channel) == ["#alerts", "#metrics", "#sec"]
    critical = json.dumps(by_channel["#alerts"]["blocks"])
    assert "security.critical_vulnerabilities &gt; 0" in critical and "= 2" in critical
    assert "escalates after 15 min" in critical and "<https://github.com/acme/widgets/actions/runs/42|" in critical
    assert by_channel["#alerts"]["text"] == "Critical alert in acme/widgets: security.critical_vulnerabilities &gt; 0"
    assert "code_quality.coverage &lt; 80" in json.dumps(by_channel["#sec"]["blocks"])
    assert "*Alerts fired:* 2" in json.dumps(by_channel["#metrics"]["blocks"])
    assert all(r.content_type.startswith("application/json") for r in slack.requests)
    performed = sorted(a.description for a in actions if a.performed)
    assert len(performed) == 3 and all(d.startswith("sent ") for d in performed)
    assert all(a.performed for a in actions)  # 'pagerduty' is not Slack's: the alerts sink reports it


def test_one_message_per_alert_fingerprint_and_channel(tmp_path: Path, slack: FakeSlack) -> None:
    """The same channel named twice (slack-alerts and #alerts) and an alert listed twice: one message."""
    cfg = json.loads(json.dumps(CONFIG))
    cfg["alerts"]["critical"]["notification_channels"] = ["slack-alerts", "#alerts", "slack"]
    cfg["integrations"]["slack"]["channels"].pop("metrics")
    ctx = context(tmp_path, cfg)
    report = run_report(ctx, {"security.critical_vulnerabilities": 1.0})
    report = dataclasses.replace(report, alerts=report.alerts * 2)
    sink(slack, ctx).deliver(report, ctx)
    assert [m["channel"] for m in slack.messages] == ["#alerts"]


def test_outside_text_is_escaped_and_long_content_is_cut_with_a_pointer(tmp_path: Path, slack: FakeSlack) -> None:
    ctx = context(tmp_path)
    reason = "<!channel> & <https://evil.example|click> " + "x" * 4000
    failed = [SourceResult(name=f"src{i}", kind="collector", status=Status.FAILED, reason=reason)
              for i in range(15)]  # a reason is cut to one line of 300 characters: many make it long
    sink(slack, ctx).deliver(run_report(ctx, sources=failed), ctx)
    [health] = [m for m in slack.messages if m["channel"] == "#metrics"]
    section = health["blocks"][1]["text"]["text"]
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in section
    assert "<!channel>" not in json.dumps(health)
    assert len(section) <= 3000 and "cut to fit Slack's limit; full report: <https://github.com/acme/widgets" in section


def test_more_than_50_blocks_are_cut_to_49_and_a_pointer() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"line {i}"}} for i in range(70)]
    fitted = fit_blocks(blocks, "full report: the run")
    assert len(fitted) == 50 and payload_error({"text": "t", "blocks": fitted}) is None
    assert "21 more block(s) cut to fit Slack's limit; full report: the run" in json.dumps(fitted[-1])
    assert payload_error({"text": "t", "blocks": blocks}) == "invalid_blocks"  # what Slack would have said


@pytest.mark.parametrize(("channel", "answer", "status"), [("#gone", "channel_not_found", 404),
                                                           ("#old", "channel_is_archived", 410)])
def test_a_missing_or_archived_channel_fails_with_slacks_reason_without_retry(
        tmp_path: Path, slack: FakeSlack, channel: str, answer: str, status: int) -> None:
    cfg = json.loads(json.dumps(CONFIG))
    cfg["integrations"]["slack"]["channels"] = {"alerts": "#alerts", "security": channel}
    ctx = context(tmp_path, cfg)
    with pytest.raises(SourceFailed) as err:
        sink(slack, ctx).deliver(run_report(ctx), ctx)
    assert f"1 of 2 Slack message(s) failed: warning alert 'code_quality.coverage < 80' to {channel}: " \
           f"HTTP {status} {answer}" in str(err.value)
    assert "sent: sent critical alert" in str(err.value)
    assert [r.status for r in slack.requests] == [200, status]  # no retry of the refused one
    assert slack.webhook_url not in str(err.value) and "abcdefghijklmnop" not in str(err.value)


def test_invalid_payload_is_not_retried(tmp_path: Path, slack: FakeSlack) -> None:
    ctx = context(tmp_path)
    slack.fail(400, "invalid_payload")
    with pytest.raises(SourceFailed, match="HTTP 400 invalid_payload"):
        sink(slack, ctx).deliver(run_report(ctx), ctx)
    assert [r.status for r in slack.requests] == [400, 200, 200]


def test_429_waits_for_retry_after_then_sends(tmp_path: Path, slack: FakeSlack) -> None:
    ctx = context(tmp_path)
    slack.fail(429, "rate_limited", headers={"Retry-After": "1"})
    sink(slack, ctx).deliver(run_report(ctx), ctx)
    assert [r.status for r in slack.requests] == [429, 200, 200, 200]
    assert len(slack.messages) == 3


def test_a_rate_limit_that_does_not_lift_fails_after_bounded_retries(tmp_path: Path, slack: FakeSlack) -> None:
    ctx = context(tmp_path)
    slack.fail(429, "rate_limited", times=20, headers={"Retry-After": "3600"})
    with pytest.raises(SourceFailed, match=r"rate limited by Slack \(HTTP 429, Retry-After 3600 s\)"):
        sink(slack, ctx, session=make_session(methods=("POST",), retries=1, retry_after_max_s=0)).deliver(
            run_report(ctx), ctx)
    assert len(slack.requests) == 6  # 3 messages x (1 try + 1 retry)
    assert slack.messages == []


def test_server_errors_are_retried_with_backoff(tmp_path: Path, slack: FakeSlack) -> None:
    ctx = context(tmp_path)
    slack.fail(500, "rollup_error", times=2)
    sink(slack, ctx).deliver(run_report(ctx), ctx)
    assert [r.status for r in slack.requests][:3] == [500, 500, 200] and len(slack.messages) == 3


def test_dry_run_sends_nothing_and_describes_each_message(tmp_path: Path, slack: FakeSlack) -> None:
    ctx = context(tmp_path, dry_run=True)
    actions = sink(slack, ctx).deliver(run_report(ctx), ctx)
    assert slack.requests == []
    would = sorted(a.description for a in actions if a.description.startswith("would send"))
    assert would == ["would send critical alert 'security.critical_vulnerabilities > 0' to #alerts (3 blocks)",
                     "would send health summary to #metrics (4 blocks)",
                     "would send warning alert 'code_quality.coverage < 80' to #sec (3 blocks)"]
    assert not any(a.performed for a in actions)


def test_no_secret_leaves_in_a_payload(tmp_path: Path, slack: FakeSlack) -> None:
    ctx = context(tmp_path, env={**ENV, "GITHUB_TOKEN": "acme/widgets"})  # a secret that shows up in the text
    sink(slack, ctx).deliver(run_report(ctx), ctx)
    sent = json.dumps(slack.messages)
    assert "acme/widgets" not in sent and "***" in sent


def test_off_or_without_webhook_is_skipped_with_the_reason(tmp_path: Path) -> None:
    cfg = {**CONFIG, "integrations": {"slack": {"enabled": False}}}
    ctx = context(tmp_path, cfg)
    with pytest.raises(SourceSkipped, match=r"Slack is off .*; 2 fired alert\(s\) for Slack not sent"):
        SlackSink.from_context(ctx).deliver(run_report(ctx), ctx)
    ctx = context(tmp_path, cfg, notify_slack=True)
    with pytest.raises(SourceSkipped, match="no webhook is set"):
        SlackSink.from_context(ctx).deliver(run_report(ctx), ctx)


def test_a_webhook_that_is_not_a_url_is_a_usage_error_that_does_not_echo_it(tmp_path: Path) -> None:
    ctx = context(tmp_path, env={**ENV, "SLACK_WEBHOOK_URL": "hooks.slack.com/services/SECRET"})
    with pytest.raises(UsageError) as err:
        SlackSink.from_context(ctx)
    assert "SECRET" not in str(err.value)


def test_in_the_pipeline_a_failed_delivery_is_a_failed_source(tmp_path: Path, slack: FakeSlack) -> None:
    ctx = context(tmp_path, env={**ENV, "SLACK_WEBHOOK_URL": slack.base_url + "/services/wrong"})
    final = deliver(run_report(ctx), Stages(sinks=[SlackSink.from_context(ctx)]), ctx)
    [result] = [s for s in final.sources if s.name == "slack"]
    assert result.status is Status.FAILED and "HTTP 404 no_service" in result.reason
    assert "/services/wrong" not in result.reason


def test_security_findings_go_to_the_security_channel(tmp_path: Path, slack: FakeSlack) -> None:
    from repo_automation.domain import Finding, FindingState, Location, Severity

    ctx = context(tmp_path)
    findings = (
        Finding(tool="pip-audit", rule_id="PYSEC-2023-74", severity=Severity.HIGH, title="requests <leaks>",
                fingerprint="dep:requests", package="requests", version="2.30.0", fixed_versions=("2.31.0",)),
        Finding(tool="bandit", rule_id="B602", severity=Severity.CRITICAL, title="shell=True",
                fingerprint="code:b602", location=Location(path="app.py", start_line=7)),
        Finding(tool="bandit", rule_id="B101", severity=Severity.LOW, title="assert", fingerprint="code:b101"),
        Finding(tool="bandit", rule_id="B105", severity=Severity.HIGH, title="password", fingerprint="code:b105",
                state=FindingState.IGNORED),
    )
    report = dataclasses.replace(run_report(ctx), findings=findings)
    sink(slack, ctx).deliver(report, ctx)
    [security] = [m for m in slack.messages if m["text"].startswith("2 critical/high security finding(s)")]
    assert security["channel"] == "#sec" and payload_error(security) is None
    listed = security["blocks"][1]["text"]["text"].splitlines()
    assert listed == ["• *critical* B602 (bandit) at `app.py:7`: shell=True",
                      "• *high* PYSEC-2023-74 (pip-audit) in `requests` 2.30.0: requests &lt;leaks&gt;"]
