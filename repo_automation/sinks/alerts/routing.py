"""Which channel names the configuration uses, which of them are configured, and how to configure the rest.

A name is served by `integrations.channels.<name>` (this package, with the lifecycle), else by the
SLACK_WEBHOOK_URL webhook when it is a Slack route (`slack`, `slack-<purpose>`, a `#channel` of
`integrations.slack.channels`: sinks/slack.py). Any other name is not configured: the run says so in the
log and the report (a notice, so the job summary shows it too), with the settings that would configure it,
and a fired alert that names it fails the alerts sink.
"""

from __future__ import annotations

from collections.abc import Mapping

from repo_automation.config import Config
from repo_automation.sinks.slack import route

EXAMPLES = {
    "pagerduty": '{"kind": "pagerduty", "routing_key_env": "PAGERDUTY_ROUTING_KEY"}',
    "email": '{"kind": "email", "smtp_host": "smtp.example.com", "smtp_port": 587, "username": "alerts", '
             '"password_env": "SMTP_PASSWORD", "sender": "alerts@example.com", "recipients": ["oncall@example.com"]}',
    "slack": '{"kind": "slack_webhook", "url_env": "SLACK_WEBHOOK_ALERTS"} or {"kind": "slack_api", '
             '"channel": "#alerts"} (bot token in SLACK_BOT_TOKEN)',
    "webhook": '{"kind": "webhook", "url_env": "ALERT_WEBHOOK_URL", "secret_env": "ALERT_WEBHOOK_SECRET"}',
}


def used_names(config: Config) -> dict[str, list[str]]:
    """Every channel name the configuration uses, with the keys that name it."""
    out: dict[str, list[str]] = {}
    for level, rules in config.alerts.items():
        for key, names in (("notification_channels", rules.notification_channels),
                           ("escalation_channels", rules.escalation_channels)):
            for name in names:
                out.setdefault(name, []).append(f"alerts.{level}.{key}")
    for name in config.dependency_updates.security_updates.notification_channels:
        out.setdefault(name, []).append("automation.dependency_updates.security_updates.notification_channels")
    return out


def is_slack_route(name: str, slack_channels: Mapping[str, str]) -> bool:
    return route(name, {k: v for k, v in slack_channels.items() if v}) is not None


def how_to_configure(name: str) -> str:
    lowered = name.lower()
    kind = next((k for k in ("pagerduty", "email", "slack") if k in lowered or (k == "email" and "mail" in lowered)),
                "webhook")
    return f'add "integrations": {{"channels": {{"{name}": {EXAMPLES[kind]}}}}}'


def unconfigured(config: Config) -> list[str]:
    """One notice per channel name that nothing can deliver to, saying how to configure it."""
    notices = []
    for name, keys in used_names(config).items():
        if name in config.channels or is_slack_route(name, config.slack.channels):
            continue
        notices.append(f"alert channel {name!r} ({', '.join(keys)}) is not configured, so nothing is delivered "
                       f"to it: {how_to_configure(name)} (README: Alert channels)")
    return notices
