"""SlackSink: fired alerts, and one short health message, to Slack through an incoming webhook.

On when the `notify-slack` input or `integrations.slack.enabled` is true and a webhook is set
(`SLACK_WEBHOOK_URL` / `slack-webhook-url`); otherwise skipped, saying why.

Routing, per fired alert, by its level's `notification_channels`:
- `slack` goes to `integrations.slack.channels.alerts` (or the webhook's own channel when that is unset);
- `slack-<purpose>` goes to `integrations.slack.channels.<purpose>`, or `#<purpose>` when unset
  (e.g. `slack-security` to the configured security channel);
- a configured Slack channel named directly (`#ops-alerts`) goes there;
- an alert level without channels goes to the alerts channel (Slack is on, so alerts are wanted there);
- a name configured under `integrations.channels` is the alerts sink's (sinks/alerts), not this one's;
- any other name (`pagerduty`, `email`) is left out here: sinks/alerts/routing.py reports it as not configured.
A modern Slack app webhook posts to the channel it was created for and ignores the channel override; a
legacy webhook honours it. With `channels.metrics` set, one health message goes there too, and with
`channels.security` set, the run's critical and high security findings (active or new) go there in one message.

Messages use Block Kit within Slack's limits (50 blocks, 3000 characters per section, 150 per header): longer
content is cut with a pointer to the run's report. Outside text is escaped for mrkdwn (& < >), and no secret
value is ever sent. One message per alert fingerprint (`alert:<level>:<condition>`) and channel per run.

The webhook answers are handled as Slack documents them: 400 invalid_payload / invalid_blocks / no_text,
403, 404 channel_not_found / no_service, 410 channel_is_archived fail that message with Slack's reason (no
retry); 429 is retried after its Retry-After (bounded) and 5xx with backoff (repo_automation.sessions). Failed
messages fail the sink, naming each one and what was sent. Dry run: no request, one Action per message.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, assert_never
from urllib.parse import urlsplit

from repo_automation.context import RunContext
from repo_automation.domain import Action, Alert, AlertLevel, FindingState, RunReport, Severity, Status
from repo_automation.errors import SourceFailed, SourceSkipped, UsageError
from repo_automation.github.fingerprint import make_fingerprint
from repo_automation.redaction import Secret, redact
from repo_automation.runner import run_link
from repo_automation.sessions import make_session
from repo_automation.sinks.webpost import DeliveryError, post_json, refusal
from repo_automation.stages import Sink

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
TIMEOUT_S = 10.0


def level_icon(level: AlertLevel) -> str:
    match level:
        case AlertLevel.CRITICAL:
            return ":red_circle:"
        case AlertLevel.WARNING:
            return ":warning:"
        case _:
            assert_never(level)


def escape(text: object) -> str:
    """Text made inert in Slack mrkdwn: &, < and > as entities (so no <!channel>, no links, no mentions)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int, pointer: str) -> str:
    """`text` within `limit` characters; a cut text ends with '…' and the pointer to the full report."""
    if len(text) <= limit:
        return text
    tail = f"\n… cut to fit Slack's limit; {pointer}"
    return text[: max(0, limit - len(tail))].rstrip() + tail


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    key: str  # alert fingerprint or "health", unique per channel within a run
    channel: str  # "" = the webhook's own channel
    summary: str  # for Actions and logs
    payload: Mapping[str, Any]


def route(name: str, channels: Mapping[str, str]) -> str | None:
    """The Slack channel for a notification channel name ("" = the webhook's own), None when it is not Slack."""
    if name in channels.values():
        return name
    if name == "slack":
        return channels.get("alerts", "")
    if name.startswith("slack-") and len(name) > len("slack-"):
        purpose = name[len("slack-"):]
        return channels.get(purpose) or f"#{purpose}"
    return None


def fit_blocks(blocks: list[dict[str, Any]], pointer: str) -> list[dict[str, Any]]:
    """Sections and headers cut to Slack's text limits, and at most 50 blocks (the last one a pointer)."""
    out: list[dict[str, Any]] = []
    for b in blocks:
        text = b.get("text")
        if isinstance(text, dict) and b["type"] == "header" and len(text["text"]) > MAX_HEADER:
            b = {**b, "text": {**text, "text": text["text"][: MAX_HEADER - 1] + "…"}}
        elif isinstance(text, dict):
            b = {**b, "text": {**text, "text": cut(text["text"], MAX_SECTION, pointer)}}
        out.append(b)
    if len(out) > MAX_BLOCKS:
        dropped = len(out) - (MAX_BLOCKS - 1)
        out = [*out[: MAX_BLOCKS - 1], context_block(f"… {dropped} more block(s) cut to fit Slack's limit; {pointer}")]
    return out


def section_block(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context_block(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, MAX_SECTION, "")}]}


def header_block(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _number(v: float) -> str:
    return f"{v:g}" if math.isfinite(v) else str(v)


def alert_fingerprint(alert: Alert) -> str:
    return make_fingerprint("alert", alert.level, alert.condition)


def alert_payload(alert: Alert, report: RunReport, channel: str, link: str | None) -> dict[str, Any]:
    repo = escape(report.repository or "this repository")
    pointer = f"full report: <{link}|the run>" if link else "the full report is in the run's summary"
    values = ", ".join(f"`{escape(k)}` = {_number(v)}" for k, v in alert.values.items()) or "n/a"
    facts = [f"escalates after {alert.escalation_time_minutes} min"] if alert.escalation_time_minutes else []
    if report.sha:
        facts.append(f"commit `{escape(report.sha[:12])}`")
    facts.append(pointer)
    blocks = [
        header_block(f"{alert.level.capitalize()} alert: {report.repository or 'repository'}"),
        section_block(f"{level_icon(alert.level)} *Condition:* `{escape(alert.condition)}`\n*Values:* {values}"),
        context_block(" · ".join(facts)),
    ]
    text = f"{alert.level.capitalize()} alert in {repo}: {escape(alert.condition)}"
    payload: dict[str, Any] = {"text": cut(text, MAX_SECTION, pointer), "blocks": fit_blocks(blocks, pointer)}
    if channel:
        payload["channel"] = channel
    return payload


def health_payload(report: RunReport, channel: str, link: str | None) -> dict[str, Any]:
    h = report.health
    pointer = f"full report: <{link}|the run>" if link else "the full report is in the run's summary"
    overall = f"{h.overall:.1f} / 100 ({h.grade})" if h.overall is not None else "inconclusive"
    cats = _category_lines(report)
    blocks = [header_block(f"Repository health: {report.repository or 'repository'}"),
              section_block("\n".join(_health_lines(report, overall)))]
    if cats:
        blocks.append(section_block(cats))
    blocks.append(context_block(pointer))
    payload: dict[str, Any] = {"text": f"Health of {escape(report.repository or 'the repository')}: {overall}",
                               "blocks": fit_blocks(blocks, pointer)}
    if channel:
        payload["channel"] = channel
    return payload


def _category_lines(report: RunReport) -> str:
    """One bullet per category with its score, or 'inconclusive'; empty when there are no categories."""
    return "\n".join(f"• {escape(c.name)}: {f'{c.score:.1f}' if c.score is not None else 'inconclusive'}"
                     for c in report.health.categories.values())


def _health_lines(report: RunReport, overall: str) -> list[str]:
    """The summary section: overall score, alerts, active findings, failed gates and failed sources."""
    failed_gates = [g.name for g in report.gates if g.passed is False]
    failed_sources = [f"{s.name} ({s.reason})" for s in report.sources if s.status is Status.FAILED]
    active = [f for f in report.findings if f.state in ("active", "new")]
    lines = [f"*Health:* {overall}", f"*Alerts fired:* {len(report.alerts)}",
             f"*Active findings:* {len(active)}",
             f"*Gates failed:* {escape(', '.join(failed_gates)) if failed_gates else 'none'}"]
    if failed_sources:
        lines.append(f"*Sources failed:* {escape('; '.join(failed_sources))}")
    return lines


def security_payload(report: RunReport, channel: str, link: str | None) -> dict[str, Any] | None:
    """The run's security findings (critical and high, active or new), worst first, for the security channel;
    None when there are none."""
    found = sorted((f for f in report.findings if f.state in (FindingState.ACTIVE, FindingState.NEW)
                    and f.severity.rank >= Severity.HIGH.rank), key=lambda f: (-f.severity.rank, f.fingerprint))
    if not found:
        return None
    pointer = f"full report: <{link}|the run>" if link else "the full report is in the run's summary"
    lines = []
    for f in found:
        where = f" in `{escape(f.package)}` {escape(f.version or '')}" if f.package else (
            f" at `{escape(f.location.path)}:{f.location.start_line or 0}`" if f.location else "")
        lines.append(f"• *{f.severity}* {escape(f.rule_id)} ({escape(f.tool)}){where}: {escape(f.title)}")
    repo = report.repository or "repository"
    blocks = [header_block(f"Security findings: {repo}"), section_block("\n".join(lines)), context_block(pointer)]
    payload: dict[str, Any] = {"text": f"{len(found)} critical/high security finding(s) in {escape(repo)}",
                               "blocks": fit_blocks(blocks, pointer)}
    if channel:
        payload["channel"] = channel
    return payload


def plan_messages(report: RunReport, channels: Mapping[str, str], link: str | None,
                  configured: Collection[str] = ()) -> list[Message]:
    """The messages to send, deduplicated by fingerprint and channel. Names that are not Slack routes, and
    names configured under integrations.channels (the alerts sink's), are left out."""
    messages: dict[tuple[str, str], Message] = {}
    for alert in report.alerts:
        key = alert_fingerprint(alert)
        names = [n for n in alert.channels if n not in configured] if alert.channels else ["slack"]
        for name in names:
            channel = route(name, channels)
            if channel is None:
                continue
            summary = f"{alert.level} alert {alert.condition!r} to {channel or 'the webhook channel'}"
            messages.setdefault((key, channel), Message(key=key, channel=channel, summary=summary,
                                                        payload=alert_payload(alert, report, channel, link)))
    security = security_payload(report, channels["security"], link) if channels.get("security") else None
    if security is not None:
        messages[("security", channels["security"])] = Message(
            key="security", channel=channels["security"], summary=f"security findings to {channels['security']}",
            payload=security)
    if channels.get("metrics"):
        metrics = channels["metrics"]
        messages[("health", metrics)] = Message(key="health", channel=metrics, summary=f"health summary to {metrics}",
                                                payload=health_payload(report, metrics, link))
    return list(messages.values())


class SlackSink(Sink):
    name: ClassVar[str] = "slack"

    def __init__(self, *, webhook_url: Secret | None, enabled: bool, session: requests.Session | None = None,
                 channels: Mapping[str, str] | None = None, secrets: Collection[str] = (),
                 timeout_s: float = TIMEOUT_S, configured: Collection[str] = ()) -> None:
        if webhook_url and urlsplit(webhook_url.reveal()).scheme not in ("http", "https"):
            raise UsageError("slack-webhook-url (SLACK_WEBHOOK_URL) is not an http(s) URL")
        self._url = webhook_url
        self.enabled = enabled
        self._session = session
        self.channels = {k: v for k, v in (channels or {}).items() if v}
        self._secrets = secrets
        self.timeout_s = timeout_s
        self.configured = frozenset(configured)  # integrations.channels: the alerts sink delivers to those

    @classmethod
    def from_context(cls, ctx: RunContext) -> SlackSink:
        """Production wiring; an unusable webhook URL is a UsageError before anything runs."""
        cfg = ctx.config.slack
        return cls(webhook_url=ctx.settings.slack_webhook_url, enabled=ctx.settings.notify_slack or cfg.enabled,
                   channels=dict(cfg.channels), secrets=ctx.secrets, configured=ctx.config.channels)

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        if not self.enabled:
            mine = self._for_slack(report)
            pending = f"; {mine} fired alert(s) for Slack not sent" if mine else ""
            raise SourceSkipped(f"Slack is off (notify-slack / integrations.slack.enabled){pending}")
        if not self._url:
            raise SourceSkipped("Slack is on but no webhook is set (SLACK_WEBHOOK_URL / slack-webhook-url)")
        messages = plan_messages(report, self.channels, run_link(ctx.env), self.configured)
        if not messages:
            raise SourceSkipped("no fired alerts for the webhook and no metrics channel "
                                "(integrations.slack.channels.metrics)")
        if ctx.dry_run:
            for m in messages:
                log.info("dry run: would send %s", m.summary)
            return [*(Action(sink=self.name, description=f"would send {m.summary} "
                                       f"({len(m.payload['blocks'])} blocks)", performed=False,
                                       target=m.channel or None) for m in messages)]
        sent, failures = self._send_all(messages)
        if failures:
            done = "; ".join(a.description for a in sent) or "nothing"
            raise SourceFailed(f"{len(failures)} of {len(messages)} Slack message(s) failed: "
                               f"{'; '.join(failures)} (sent: {done})")
        return sent

    def _for_slack(self, report: RunReport) -> int:
        """How many fired alerts this sink would send (a Slack route that integrations.channels leaves to it)."""
        return sum(1 for a in report.alerts if not a.channels or any(
            n not in self.configured and route(n, self.channels) is not None for n in a.channels))

    def _send_all(self, messages: Sequence[Message]) -> tuple[list[Action], list[str]]:
        session = self._session or make_session(methods=("POST",), retries=3, retry_after_max_s=30.0)
        sent: list[Action] = []
        failures: list[str] = []
        try:
            for m in messages:
                error = self._post(session, m)
                if error:
                    failures.append(f"{m.summary}: {error}")
                else:
                    sent.append(Action(sink=self.name, description=f"sent {m.summary}", performed=True,
                                       target=m.channel or None))
        finally:
            if self._session is None:
                session.close()
        return sent, failures

    def _post(self, session: requests.Session, m: Message) -> str | None:
        """None when Slack accepted the message, else Slack's reason."""
        # defence in depth: no secret leaves in a payload (as is or JSON-escaped)
        body = redact(json.dumps(m.payload, ensure_ascii=False), self._secrets)
        assert self._url is not None
        try:
            resp = post_json(session, self._url, body.encode("utf-8"), service="Slack", timeout_s=self.timeout_s)
        except DeliveryError as e:
            return str(e)
        return None if resp.status_code == 200 else refusal(resp, "Slack")
