"""The receivers of every channel kind, started on 127.0.0.1 for each test, and the guide's example config with
its five channels configured against them."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from repo_automation.context import RunContext
from repo_automation.core.rules import evaluate_rules
from repo_automation.core.scoring import score
from repo_automation.domain import Finding, Metric, RunReport, Severity, SourceResult, Status
from repo_automation.pipeline import Stages, deliver
from repo_automation.sessions import make_session
from repo_automation.sinks.alerts.sink import AlertsSink, Collaborators
from tests.fakealerts import FakePagerDuty, FakeWebhook, SmtpServer
from tests.fakeslack import FakeSlack
from tests.helpers import make_context

GUIDE = Path(__file__).resolve().parents[2] / "data" / "configs" / "admin-guide-example.json"
HOOK_KEY = "whsec-0123456789-test-key"
SMTP_USER, SMTP_PASSWORD = "alerts", "smtp-pass-0123456789"
FIRING = {"security.critical_vulnerabilities": 2.0, "code_quality.coverage": 71.5}
CLEAR = {"security.critical_vulnerabilities": 0.0, "code_quality.coverage": 91.0}
VULNERABLE = Finding(tool="pip-audit", rule_id="PYSEC-2023-74", severity=Severity.HIGH, title="requests: leak",
                     fingerprint="dep:pip-audit:requests:PYSEC-2023-74", package="requests", version="2.30.0",
                     fixed_versions=("2.31.0",), ids=("PYSEC-2023-74", "CVE-2023-32681"))


@dataclass
class Receivers:
    slack: FakeSlack
    pagerduty: FakePagerDuty
    webhook: FakeWebhook
    smtp: SmtpServer
    env: dict[str, str]

    def counts(self) -> dict[str, int]:
        """Accepted deliveries per channel name."""
        return {"pagerduty": len(self.pagerduty.events), "slack-critical": len(self.slack.delivered("#critical")),
                "slack-alerts": len(self.slack.delivered("#alerts")), "email": len(self.smtp.messages),
                "slack-security": len(self.slack.delivered("#security")), "ops-webhook": len(self.webhook.accepted())}


@pytest.fixture
def receivers(tmp_path: Path) -> Iterator[Receivers]:
    certs = tmp_path / "certs"
    certs.mkdir()
    with FakeSlack(channels=["#critical", "#alerts", "#security", "#metrics"]) as slack, FakePagerDuty() as pd, \
            FakeWebhook(key=HOOK_KEY) as hook, SmtpServer(certs, user=SMTP_USER, password=SMTP_PASSWORD) as smtp:
        env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/widgets", "GITHUB_RUN_ID": "42",
               "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
               "SLACK_WEBHOOK_CRITICAL": slack.add_webhook("#critical"),
               "SLACK_WEBHOOK_SECURITY": slack.add_webhook("#security"), "SLACK_BOT_TOKEN": slack.bot_token,
               "PAGERDUTY_ROUTING_KEY": pd.routing_key, "SMTP_PASSWORD": SMTP_PASSWORD,
               "OPS_WEBHOOK_URL": hook.url, "OPS_WEBHOOK_KEY": HOOK_KEY}
        yield Receivers(slack=slack, pagerduty=pd, webhook=hook, smtp=smtp, env=env)


def guide_config(r: Receivers, *, webhook: bool = False) -> dict[str, Any]:
    """The guide's example, unchanged but for `integrations.channels` naming its five channels (and, with
    `webhook`, a generic webhook added to the warning level's channels)."""
    cfg: dict[str, Any] = json.loads(GUIDE.read_text(encoding="utf-8"))
    cfg["integrations"]["channels"] = {
        "pagerduty": {"kind": "pagerduty", "events_url": r.pagerduty.events_url},
        "slack-critical": {"kind": "slack_webhook", "url_env": "SLACK_WEBHOOK_CRITICAL"},
        "slack-alerts": {"kind": "slack_api", "channel": "#alerts", "api_url": r.slack.api_url},
        "email": {"kind": "email", "smtp_host": "127.0.0.1", "smtp_port": r.smtp.port, "username": SMTP_USER,
                  "password_env": "SMTP_PASSWORD", "ca_file": str(r.smtp.ca_file),
                  "sender": "alerts@example.com", "recipients": ["oncall@example.com", "lead@example.com"]},
        "slack-security": {"kind": "slack_webhook", "url_env": "SLACK_WEBHOOK_SECURITY"},
    }
    if webhook:
        cfg["integrations"]["channels"]["ops-webhook"] = {"kind": "webhook", "url_env": "OPS_WEBHOOK_URL",
                                                          "secret_env": "OPS_WEBHOOK_KEY"}
        cfg["alerts"]["warning"]["notification_channels"].append("ops-webhook")
    return cfg


def context(tmp_path: Path, r: Receivers, cfg: Mapping[str, Any], now: datetime, **overrides: Any) -> RunContext:
    ctx = make_context(tmp_path, config=cfg, env=r.env, now=now, **overrides)
    from repo_automation.engine import config_secrets

    ctx.secrets.add(*config_secrets(ctx.config, r.env))  # as the engine does
    return ctx


def run_report(ctx: RunContext, values: Mapping[str, float], findings: Sequence[Finding] = ()) -> RunReport:
    metrics = [Metric(name=k, value=v, source="test") for k, v in values.items()]
    scanned = SourceResult(name="pip-audit", kind="scanner", status=Status.OK)
    return RunReport(schema_version="1.0", repository=ctx.repository, generated_at=ctx.now, dry_run=ctx.dry_run,
                     sha=ctx.sha, health=score(metrics, ctx.config), metrics=tuple(metrics), findings=tuple(findings),
                     alerts=evaluate_rules(ctx.config, values).fired, sources=(scanned,))


def quick() -> Collaborators:
    """Retries as in production, without the backoff wait."""
    return Collaborators(session=make_session(methods=("POST",), retries=3, backoff_factor=0.01, retry_after_max_s=2))


def run_alerts(ctx: RunContext, report: RunReport, collaborators: Collaborators | None = None
               ) -> tuple[SourceResult, list[str]]:
    """The alerts sink in the pipeline, as a run delivers it: its SourceResult and its actions."""
    sink = AlertsSink.from_context(ctx, collaborators or quick())
    final = deliver(report, Stages(sinks=[sink]), ctx)
    [result] = [s for s in final.sources if s.name == "alerts"]
    return result, [a.description for a in final.actions]
