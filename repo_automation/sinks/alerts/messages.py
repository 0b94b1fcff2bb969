"""Pure rendering of one lifecycle event for one channel: what each kind of channel is sent.

- Slack (webhook and Web API): Block Kit within Slack's limits (sinks/slack.py's helpers), outside text
  escaped for mrkdwn; a Web API message names its channel.
- PagerDuty Events API v2: `trigger` (FIRE, REMIND, ESCALATE) or `resolve`, `dedup_key` = the alert's
  fingerprint, so every step lands on one incident. Severity: critical → `critical`, warning → `warning`;
  an escalation raises it one step (warning → `error`; critical stays `critical`, PagerDuty's highest).
  The routing key is added by the sender (it is a secret).
- E-mail: a subject, a plain-text body and an HTML body (every outside value HTML-escaped).
- Generic webhook: the JSON document below (version 1), signed by the sender when a key is configured.

    {"version": 1, "event": "fire" | "remind" | "escalate" | "resolve", "fingerprint": "alert:critical:…",
     "repository": "acme/widgets", "level": "critical" | "warning", "severity": "critical" | "error" | "warning",
     "condition": "security.critical_vulnerabilities > 0", "values": {"security.critical_vulnerabilities": 2},
     "escalated": false, "first_fired_at": "2026-11-29T12:00:00+00:00", "sent_at": "…", "sha": "…" | null,
     "run_url": "https://github.com/…/actions/runs/42" | null}
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, assert_never

from repo_automation.config.sections import Channel, ChannelKind
from repo_automation.domain import AlertLevel
from repo_automation.sinks.alerts.lifecycle import Event, Step
from repo_automation.sinks.slack import (
    MAX_SECTION,
    context_block,
    cut,
    escape,
    fit_blocks,
    header_block,
    level_icon,
    section_block,
)

PAYLOAD_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Info:
    """What every message says about the run."""

    repository: str | None
    sha: str | None
    link: str | None  # the run's page
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    name: str  # the channel's name, as the rules use it
    kind: ChannelKind
    event: Event
    body: Mapping[str, Any]

    @property
    def summary(self) -> str:
        return f"{self.event.summary} to {self.name}"


def severity(level: AlertLevel, escalated: bool) -> str:
    match level:
        case AlertLevel.CRITICAL:
            return "critical"
        case AlertLevel.WARNING:
            return "error" if escalated else "warning"
        case _:
            assert_never(level)


def title(event: Event, repository: str | None) -> str:
    """e.g. `Escalated: critical alert in acme/widgets`."""
    head = f"{event.level.capitalize()} alert in {repository or 'the repository'}"
    match event.step:
        case Step.FIRE:
            return head
        case Step.REMIND:
            return f"Reminder: {head}"
        case Step.ESCALATE:
            return f"Escalated: {head}"
        case Step.RESOLVE:
            return f"Resolved: {head}"
        case _:
            assert_never(event.step)


def _number(v: float) -> str:
    return f"{v:g}" if math.isfinite(v) else str(v)


def _facts(event: Event, info: Info) -> list[str]:
    facts = [f"firing since {event.first_fired:%Y-%m-%d %H:%M} UTC"]
    if event.step is Step.RESOLVE:
        facts.append(f"cleared at {info.now:%Y-%m-%d %H:%M} UTC")
    elif event.escalated:
        facts.append("escalated")
    if info.sha:
        facts.append(f"commit {info.sha[:12]}")
    return facts


def render(event: Event, name: str, channel: Channel, info: Info) -> Message:
    match channel.kind:
        case ChannelKind.SLACK_WEBHOOK | ChannelKind.SLACK_API:
            body = slack_body(event, info, channel.channel if channel.kind is ChannelKind.SLACK_API else None)
        case ChannelKind.PAGERDUTY:
            body = pagerduty_event(event, info)
        case ChannelKind.EMAIL:
            body = email_body(event, info)
        case ChannelKind.WEBHOOK:
            body = webhook_payload(event, info)
        case _:
            assert_never(channel.kind)
    return Message(name=name, kind=channel.kind, event=event, body=body)


def slack_body(event: Event, info: Info, channel: str | None) -> dict[str, Any]:
    pointer = f"full report: <{info.link}|the run>" if info.link else "the full report is in the run's summary"
    icon = ":white_check_mark:" if event.step is Step.RESOLVE else level_icon(event.level)
    lines = [f"{icon} *Condition:* `{escape(event.condition)}`"]
    if event.values:
        lines.append("*Values:* " + ", ".join(f"`{escape(k)}` = {_number(v)}" for k, v in event.values.items()))
    blocks = [header_block(title(event, info.repository)), section_block("\n".join(lines)),
              context_block(" · ".join([*(escape(f) for f in _facts(event, info)), pointer]))]
    text = f"{escape(title(event, info.repository))}: {escape(event.condition)}"
    body: dict[str, Any] = {"text": cut(text, MAX_SECTION, pointer), "blocks": fit_blocks(blocks, pointer)}
    if channel:
        body["channel"] = channel
    return body


def pagerduty_event(event: Event, info: Info) -> dict[str, Any]:
    if event.step is Step.RESOLVE:
        return {"event_action": "resolve", "dedup_key": event.fingerprint}
    body: dict[str, Any] = {
        "event_action": "trigger", "dedup_key": event.fingerprint,
        "payload": {"summary": f"{title(event, info.repository)}: {event.condition}"[:1024],
                    "source": info.repository or "repo-automation",
                    "severity": severity(event.level, event.escalated),
                    "component": "repo-automation", "group": event.level, "class": event.step,
                    "custom_details": {"condition": event.condition, "values": dict(event.values),
                                       "first_fired_at": event.first_fired.isoformat(), "sha": info.sha}},
        "client": "repo-automation",
    }
    if info.link:
        body["client_url"] = info.link
        body["links"] = [{"href": info.link, "text": "the run"}]
    return body


def email_body(event: Event, info: Info) -> dict[str, str]:
    subject = f"[{event.level}] {title(event, info.repository)}: {event.condition}"
    values = [f"{k} = {_number(v)}" for k, v in event.values.items()]
    facts = _facts(event, info)
    plain = "\n".join([title(event, info.repository), "", f"Condition: {event.condition}",
                       *(["Values: " + ", ".join(values)] if values else []), *facts,
                       *([f"Run: {info.link}"] if info.link else []), "", "-- repo-automation"])
    esc = html.escape
    items = "".join(f"<li>{esc(f)}</li>" for f in facts)
    run = f'<p><a href="{esc(info.link)}">The run</a></p>' if info.link else ""
    shown = f"<p>Values: {esc(', '.join(values))}</p>" if values else ""
    page = (f"<html><body><h2>{esc(title(event, info.repository))}</h2><p>Condition: "
            f"<code>{esc(event.condition)}</code></p>{shown}<ul>{items}</ul>{run}</body></html>")
    return {"subject": subject.replace("\n", " ")[:200], "text": plain, "html": page}


def webhook_payload(event: Event, info: Info) -> dict[str, Any]:
    return {"version": PAYLOAD_VERSION, "event": str(event.step), "fingerprint": event.fingerprint,
            "repository": info.repository, "level": str(event.level),
            "severity": severity(event.level, event.escalated), "condition": event.condition,
            "values": dict(event.values), "escalated": event.escalated,
            "first_fired_at": event.first_fired.isoformat(), "sent_at": info.now.isoformat(), "sha": info.sha,
            "run_url": info.link}
