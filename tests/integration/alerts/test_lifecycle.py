"""The guide's example config with its five channels configured, delivering for real, and an alert's life
across runs on a controlled clock: fire → rerun → past the escalation time → fixed."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

from repo_automation.domain import Status
from tests.fakealerts.pagerduty import FakePagerDuty
from tests.helpers import FIXED_NOW
from tests.integration.alerts.conftest import (
    CLEAR,
    FIRING,
    SMTP_USER,
    VULNERABLE,
    Receivers,
    context,
    guide_config,
    run_alerts,
    run_report,
)

T0 = FIXED_NOW
CRITICAL_KEY = "alert:critical:security.critical_vulnerabilities_0"


def test_the_guides_config_with_its_five_channels_configured_delivers_to_each(tmp_path: Path,
                                                                              receivers: Receivers) -> None:
    r = receivers
    ctx = context(tmp_path, r, guide_config(r), T0)
    result, actions = run_alerts(ctx, run_report(ctx, FIRING, [VULNERABLE]))
    assert result.status is Status.OK, result.reason
    assert {k: v for k, v in r.counts().items() if k != "ops-webhook"} == {
        "pagerduty": 1, "slack-critical": 1, "slack-alerts": 1, "email": 1, "slack-security": 1}
    [trigger] = r.pagerduty.events
    assert trigger["event_action"] == "trigger" and trigger["payload"]["severity"] == "critical"
    assert trigger["dedup_key"] == CRITICAL_KEY and r.pagerduty.incidents[CRITICAL_KEY]["severity"] == "critical"
    [critical] = r.slack.delivered("#critical")
    assert "security.critical_vulnerabilities &gt; 0" in json.dumps(critical["blocks"])
    [api] = r.slack.api_messages
    assert api["channel"] == "#alerts" and "code_quality.coverage &lt; 80" in api["text"]
    [security] = r.slack.delivered("#security")
    assert "requests 2.30.0 → 2.31.0 (PYSEC-2023-74)" in security["text"]
    [mail] = r.smtp.messages
    assert mail["To"] == "oncall@example.com, lead@example.com" and r.smtp.logins == [SMTP_USER]
    assert mail["Subject"] == "[warning] Warning alert in acme/widgets: code_quality.coverage < 80"
    plain, page = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None and "Condition: code_quality.coverage < 80" in plain.get_content()
    assert page is not None and "<code>code_quality.coverage &lt; 80</code>" in page.get_content()
    assert len([a for a in actions if a.startswith("send ")]) == 5


def test_an_alerts_life_fire_rerun_escalate_resolve(tmp_path: Path, receivers: Receivers) -> None:
    r = receivers
    cfg = guide_config(r, webhook=True)
    counts = []

    def run(minutes: int, values: dict[str, float], findings: tuple = ()) -> tuple[Status, list[str]]:
        ctx = context(tmp_path, r, cfg, T0 + timedelta(minutes=minutes))
        result, actions = run_alerts(ctx, run_report(ctx, values, findings))
        counts.append(r.counts())
        return result.status, actions

    status, _ = run(0, FIRING, (VULNERABLE,))  # fire: each channel once
    assert status is Status.OK
    assert r.counts() == {"pagerduty": 1, "slack-critical": 1, "slack-alerts": 1, "email": 1, "slack-security": 1,
                          "ops-webhook": 1}

    status, actions = run(10, FIRING, (VULNERABLE,))  # still firing: nothing is sent again
    assert status is Status.SKIPPED and actions == []
    assert counts[1] == counts[0]

    status, actions = run(61, FIRING, (VULNERABLE,))  # past both escalation times (15 and 60 min): once each
    assert status is Status.OK
    assert r.counts() == {"pagerduty": 2, "slack-critical": 2, "slack-alerts": 2, "email": 2, "slack-security": 1,
                          "ops-webhook": 2}
    last = r.pagerduty.events[-1]
    assert last["dedup_key"] == CRITICAL_KEY and last["payload"]["class"] == "escalate"
    escalated = r.webhook.accepted()[-1]
    assert (escalated["event"], escalated["escalated"], escalated["severity"]) == ("escalate", True, "error")
    assert r.smtp.messages[-1]["Subject"].startswith("[warning] Escalated: Warning alert in acme/widgets")

    status, _ = run(75, FIRING, (VULNERABLE,))  # escalated already: nothing more
    assert status is Status.SKIPPED and counts[3] == counts[2]

    status, actions = run(90, CLEAR)  # fixed: one "resolved" to every channel that got it
    assert status is Status.OK
    assert r.counts() == {"pagerduty": 3, "slack-critical": 3, "slack-alerts": 3, "email": 3, "slack-security": 2,
                          "ops-webhook": 3}
    assert r.pagerduty.events[-1] == {"routing_key": r.pagerduty.routing_key, "event_action": "resolve",
                                      "dedup_key": CRITICAL_KEY}
    assert r.pagerduty.incidents == {}
    assert r.webhook.accepted()[-1]["event"] == "resolve"
    assert "Resolved: " in r.slack.delivered("#security")[-1]["text"]

    status, _ = run(100, CLEAR)  # nothing left to say
    assert status is Status.SKIPPED and counts[5] == counts[4]
    with sqlite3.connect(tmp_path / ".repo-automation" / "history.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM alert_state").fetchone() == (0,)
    print("lifecycle counts per receiver after each run:", json.dumps(counts))


def test_a_dry_run_describes_each_step_sends_nothing_and_writes_no_state(tmp_path: Path,
                                                                         receivers: Receivers) -> None:
    r = receivers
    ctx = context(tmp_path, r, guide_config(r), T0, dry_run=True)
    result, actions = run_alerts(ctx, run_report(ctx, FIRING, [VULNERABLE]))
    assert result.status is Status.OK
    assert set(r.counts().values()) == {0} and r.slack.requests == [] and r.pagerduty.requests == []
    assert "would send critical alert 'security.critical_vulnerabilities > 0' to pagerduty (pagerduty)" in actions
    assert "would send warning alert 'code_quality.coverage < 80' to email (email)" in actions
    assert any(a.startswith("would record the state of 3 alert(s)") for a in actions)
    assert not (tmp_path / ".repo-automation" / "history.sqlite").exists()


def test_a_channel_that_did_not_get_it_is_tried_again_next_run(tmp_path: Path, receivers: Receivers) -> None:
    r = receivers
    cfg = guide_config(r)
    r.pagerduty.fail(500, '{"status": "error"}', times=4)  # 1 try + 3 retries
    ctx = context(tmp_path, r, cfg, T0)
    result, _ = run_alerts(ctx, run_report(ctx, FIRING))
    assert result.status is Status.FAILED
    assert "send critical alert 'security.critical_vulnerabilities > 0' to pagerduty: HTTP 500" in result.reason
    assert r.counts()["slack-critical"] == 1 and r.pagerduty.events == []
    ctx = context(tmp_path, r, cfg, T0 + timedelta(minutes=5))
    result, actions = run_alerts(ctx, run_report(ctx, FIRING))
    assert result.status is Status.OK
    assert actions[0] == "send critical alert 'security.critical_vulnerabilities > 0' to pagerduty"
    assert r.counts()["slack-critical"] == 1 and len(r.pagerduty.events) == 1  # the others are not sent again


def test_a_rule_naming_an_unconfigured_channel_fails_the_sink_and_says_how(tmp_path: Path,
                                                                           receivers: Receivers) -> None:
    r = receivers
    cfg = guide_config(r)
    del cfg["integrations"]["channels"]["pagerduty"]
    ctx = context(tmp_path, r, cfg, T0)
    result, _ = run_alerts(ctx, run_report(ctx, FIRING))
    assert result.status is Status.FAILED
    assert "critical alert 'security.critical_vulnerabilities > 0' names the channel 'pagerduty', which is not " \
           'configured: add "integrations": {"channels": {"pagerduty": {"kind": "pagerduty"' in result.detail
    assert result.reason.startswith("1 alert delivery problem(s): ")  # one line; the whole text is the detail
    assert r.counts()["slack-critical"] == 1  # the configured ones still got it


def test_pagerduty_needs_its_routing_key(tmp_path: Path, receivers: Receivers) -> None:
    r = receivers
    r.env.pop("PAGERDUTY_ROUTING_KEY")
    ctx = context(tmp_path, r, guide_config(r), T0)
    result, _ = run_alerts(ctx, run_report(ctx, FIRING))
    assert result.status is Status.FAILED
    assert "pagerduty: the environment variable PAGERDUTY_ROUTING_KEY is not set" in result.detail
    assert isinstance(r.pagerduty, FakePagerDuty) and r.pagerduty.requests == []
