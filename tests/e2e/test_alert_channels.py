"""The action itself, run twice on the sample repository with an alert channel configured: the first run
sends the alert, the second does not send it again (the state is in the run's metrics history), and a channel
the rules name but nobody configured is in the job summary with how to configure it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from markdown_it import MarkdownIt

from tests.fakealerts import FakeWebhook
from tests.sample_repo import SAMPLE_CONFIG

from .conftest import Run

KEY = "e2e-webhook-signing-key"


def test_an_alert_is_sent_once_across_two_runs_and_an_unconfigured_channel_is_in_the_summary(
        run_action: Callable[..., Run], workspace: Path) -> None:
    config = {**SAMPLE_CONFIG,
              "alerts": {"critical": {"conditions": ["git.contributors_total > 0"],
                                      "notification_channels": ["ops", "pagerduty"]}},
              "integrations": {"channels": {"ops": {"kind": "webhook", "url_env": "OPS_HOOK",
                                                    "secret_env": "OPS_HOOK_KEY"}}}}
    (workspace / ".github" / "project-metrics.json").write_text(json.dumps(config), encoding="utf-8")
    with FakeWebhook(key=KEY) as hook:
        env = {"OPS_HOOK": hook.url, "OPS_HOOK_KEY": KEY}
        first = run_action("schedule", env=env)
        second = run_action("schedule", env=env)
        received = hook.accepted()
    assert [p["event"] for p in received] == ["fire"], (first.stderr, second.stderr)
    assert received[0]["condition"] == "git.contributors_total > 0"
    sources = {s["name"]: s for s in first.report_json()["sources"]}
    assert sources["alerts"]["status"] == "failed"  # pagerduty is named but not configured
    assert "names the channel 'pagerduty', which is not configured" in sources["alerts"]["reason"]
    summary = first.summary_file.read_text(encoding="utf-8")  # both runs' summaries, one after the other
    lines = [x for x in summary.splitlines() if "alert channel 'pagerduty'" in x]
    assert len(lines) == 2, summary
    shown = MarkdownIt().render(lines[0])  # as GitHub shows the summary: the Markdown escapes are gone
    assert "is not configured" in shown and '{"kind": "pagerduty", "routing_key_env": "PAGERDUTY_ROUTING_KEY"}' \
        in shown.replace("&quot;", '"')
    assert KEY not in summary and hook.url not in summary
    assert KEY not in first.stderr + second.stderr
