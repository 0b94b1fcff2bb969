"""Each channel kind against its receiver's documented answers: what is retried, what fails and with which
reason, and that no secret shows in a reason."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from repo_automation.domain import Status
from repo_automation.sinks.alerts.senders import SIGNATURE_HEADER, signature
from tests.fakealerts import SmtpServer
from tests.helpers import FIXED_NOW
from tests.integration.alerts.conftest import (
    FIRING,
    HOOK_KEY,
    SMTP_PASSWORD,
    SMTP_USER,
    Receivers,
    context,
    run_alerts,
    run_report,
)

CONDITION = "security.critical_vulnerabilities > 0"


def one_channel(channel: dict[str, Any]) -> dict[str, Any]:
    return {"alerts": {"critical": {"conditions": [CONDITION], "notification_channels": ["only"]}},
            "integrations": {"channels": {"only": channel}}}


def deliver_once(tmp_path: Path, r: Receivers, channel: dict[str, Any]) -> tuple[Status, str]:
    ctx = context(tmp_path, r, one_channel(channel), FIXED_NOW)
    result, _ = run_alerts(ctx, run_report(ctx, FIRING))
    for secret in (r.env["SLACK_BOT_TOKEN"], r.env["PAGERDUTY_ROUTING_KEY"], r.env["SLACK_WEBHOOK_CRITICAL"],
                   SMTP_PASSWORD, HOOK_KEY, r.slack.token_path):
        assert secret not in result.reason
    return result.status, result.reason


WEBHOOK = {"kind": "slack_webhook", "url_env": "SLACK_WEBHOOK_CRITICAL"}


@pytest.mark.parametrize(("status", "error"), [(400, "invalid_payload"), (404, "channel_not_found"),
                                               (410, "channel_is_archived")])
def test_slack_webhook_refusals_fail_with_slacks_reason_and_are_not_retried(
        tmp_path: Path, receivers: Receivers, status: int, error: str) -> None:
    receivers.slack.fail(status, error)
    got, reason = deliver_once(tmp_path, receivers, WEBHOOK)
    assert got is Status.FAILED and f"to only: HTTP {status} {error}" in reason
    assert [q.status for q in receivers.slack.requests] == [status]


def test_slack_webhook_429_waits_for_retry_after_then_sends(tmp_path: Path, receivers: Receivers) -> None:
    receivers.slack.fail(429, "rate_limited", headers={"Retry-After": "1"})
    started = time.monotonic()
    got, _ = deliver_once(tmp_path, receivers, WEBHOOK)
    assert got is Status.OK and time.monotonic() - started >= 1.0
    assert [q.status for q in receivers.slack.requests] == [429, 200]
    assert len(receivers.slack.delivered("#critical")) == 1


API = {"kind": "slack_api", "channel": "#alerts"}


def api(r: Receivers, **kw: str) -> dict[str, Any]:
    return {**API, "api_url": r.slack.api_url, **kw}


def test_slack_api_posts_to_the_named_channel_with_the_bot_token(tmp_path: Path, receivers: Receivers) -> None:
    got, _ = deliver_once(tmp_path, receivers, api(receivers))
    assert got is Status.OK
    [message] = receivers.slack.api_messages
    assert message["channel"] == "#alerts" and message["blocks"][0]["type"] == "header"


@pytest.mark.parametrize(("channel", "env", "error"), [("#nowhere", {}, "channel_not_found"),
                                                       ("#alerts", {"SLACK_BOT_TOKEN": "xoxb-wrong"}, "invalid_auth")])
def test_slack_api_errors_fail_with_slacks_error(tmp_path: Path, receivers: Receivers, channel: str,
                                                 env: dict[str, str], error: str) -> None:
    receivers.env.update(env)
    got, reason = deliver_once(tmp_path, receivers, api(receivers, channel=channel))
    assert got is Status.FAILED and f"chat.postMessage to {channel}: HTTP 200 {error}" in reason
    assert receivers.slack.api_messages == []


def test_slack_api_429_is_retried_by_slack_sdk_after_retry_after(tmp_path: Path, receivers: Receivers) -> None:
    receivers.slack.fail(429, "ratelimited", headers={"Retry-After": "1"})
    got, _ = deliver_once(tmp_path, receivers, api(receivers))
    assert got is Status.OK and len(receivers.slack.api_messages) == 1
    assert [q.status for q in receivers.slack.requests] == [429, 200]


def test_slack_api_a_long_retry_after_is_not_waited_for(tmp_path: Path, receivers: Receivers) -> None:
    receivers.slack.fail(429, "ratelimited", headers={"Retry-After": "3600"})
    started = time.monotonic()
    got, reason = deliver_once(tmp_path, receivers, api(receivers))
    assert got is Status.FAILED and "rate limited by Slack (HTTP 429, Retry-After 3600 s)" in reason
    assert time.monotonic() - started < 30


def pagerduty(r: Receivers) -> dict[str, Any]:
    return {"kind": "pagerduty", "events_url": r.pagerduty.events_url}


def test_pagerduty_answers_202_with_the_dedup_key(tmp_path: Path, receivers: Receivers) -> None:
    got, _ = deliver_once(tmp_path, receivers, pagerduty(receivers))
    assert got is Status.OK
    [request] = receivers.pagerduty.requests
    assert request.status == 202
    assert json.loads(request.answer) == {"status": "success", "message": "Event processed",
                                          "dedup_key": "alert:critical:security.critical_vulnerabilities_0"}


def test_pagerduty_an_invalid_event_fails_with_its_errors(tmp_path: Path, receivers: Receivers) -> None:
    receivers.env["PAGERDUTY_ROUTING_KEY"] = "f" * 32  # a key of no integration
    got, reason = deliver_once(tmp_path, receivers, pagerduty(receivers))
    assert got is Status.FAILED and "HTTP 400" in reason and "'routing_key' does not belong to an integration" in reason
    assert len(receivers.pagerduty.requests) == 1  # a 400 is not retried
    assert "f" * 32 not in reason


def test_pagerduty_429_is_retried(tmp_path: Path, receivers: Receivers) -> None:
    receivers.pagerduty.fail(429, '{"status": "throttle event", "message": "Requests for this service are '
                                  'arriving too quickly.  Please retry later."}', headers={"Retry-After": "1"})
    got, _ = deliver_once(tmp_path, receivers, pagerduty(receivers))
    assert got is Status.OK and [q.status for q in receivers.pagerduty.requests] == [429, 202]


def hook(**kw: str) -> dict[str, Any]:
    return {"kind": "webhook", "url_env": "OPS_WEBHOOK_URL", "secret_env": "OPS_WEBHOOK_KEY", **kw}


def test_the_webhook_is_signed_with_hmac_sha256_of_the_body(tmp_path: Path, receivers: Receivers) -> None:
    got, _ = deliver_once(tmp_path, receivers, hook())
    assert got is Status.OK
    [request] = receivers.webhook.requests
    assert request.headers[SIGNATURE_HEADER.lower()] == signature(HOOK_KEY, request.body)
    assert request.payload["event"] == "fire" and request.payload["condition"] == CONDITION


def test_a_webhook_with_the_wrong_key_or_none_is_refused(tmp_path: Path, receivers: Receivers) -> None:
    receivers.env["OPS_WEBHOOK_KEY"] = "another-key-entirely"
    got, reason = deliver_once(tmp_path, receivers, hook())
    assert got is Status.FAILED and "HTTP 401" in reason
    got, reason = deliver_once(tmp_path / "unsigned", receivers, {"kind": "webhook", "url_env": "OPS_WEBHOOK_URL"})
    assert got is Status.FAILED and "HTTP 401" in reason
    assert receivers.webhook.accepted() == []


def email(server: SmtpServer, **kw: Any) -> dict[str, Any]:
    return {"kind": "email", "smtp_host": "127.0.0.1", "smtp_port": server.port, "username": SMTP_USER,
            "password_env": "SMTP_PASSWORD", "ca_file": str(server.ca_file), "sender": "alerts@example.com",
            "recipients": ["oncall@example.com"], **kw}


def test_email_over_starttls_with_auth_has_a_plain_and_an_html_body(tmp_path: Path, receivers: Receivers) -> None:
    got, _ = deliver_once(tmp_path, receivers, email(receivers.smtp))
    assert got is Status.OK and receivers.smtp.logins == [SMTP_USER]
    [mail] = receivers.smtp.messages
    assert receivers.smtp.envelopes == [("alerts@example.com", ["oncall@example.com"])]
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # aiosmtpd: SSL is TLS all along
def test_email_over_ssl(tmp_path: Path, receivers: Receivers) -> None:
    certs = tmp_path / "ssl"
    certs.mkdir()
    with SmtpServer(certs, tls="ssl", user=SMTP_USER, password=SMTP_PASSWORD) as server:
        got, reason = deliver_once(tmp_path, receivers, email(server, smtp_security="ssl"))
        assert got is Status.OK, reason
        assert len(server.messages) == 1 and server.logins == [SMTP_USER]


def test_email_a_wrong_password_or_an_untrusted_certificate_fails(tmp_path: Path, receivers: Receivers) -> None:
    receivers.env["SMTP_PASSWORD"] = "not-the-password"
    got, reason = deliver_once(tmp_path, receivers, email(receivers.smtp))
    assert got is Status.FAILED and f"refused the login of {SMTP_USER} (535)" in reason
    assert "not-the-password" not in reason
    receivers.env["SMTP_PASSWORD"] = SMTP_PASSWORD
    untrusted = {k: v for k, v in email(receivers.smtp).items() if k != "ca_file"}
    got, reason = deliver_once(tmp_path / "untrusted", receivers, untrusted)
    assert got is Status.FAILED and "SSLCertVerificationError" in reason
    assert receivers.smtp.messages == []
