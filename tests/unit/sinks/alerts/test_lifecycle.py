"""The lifecycle planner on its own: what each run sends, on a clock the test sets."""

from __future__ import annotations

from datetime import timedelta

from repo_automation.domain import Alert, AlertLevel
from repo_automation.history.alert_state import AlertState
from repo_automation.sinks.alerts.lifecycle import Plan, Policy, Step, plan, settle
from repo_automation.sinks.alerts.messages import Info, pagerduty_event, render, severity, webhook_payload
from repo_automation.sinks.alerts.routing import how_to_configure, unconfigured
from tests.helpers import FIXED_NOW, make_context

T0 = FIXED_NOW
WARN = Alert(level=AlertLevel.WARNING, condition="code_quality.coverage < 80", channels=("email", "pd"),
             values={"code_quality.coverage": 71.0}, escalation_time_minutes=60)
POLICIES = {AlertLevel.WARNING: Policy(reminder_interval_minutes=0, escalation_channels=()),
            AlertLevel.CRITICAL: Policy(reminder_interval_minutes=0,
                                        escalation_channels=())}
FP = "alert:warning:code_quality.coverage_80"


def runs(*minutes: int, alerts: tuple[Alert, ...] = (WARN,), policies: dict[AlertLevel, Policy] = POLICIES
         ) -> list[Plan]:
    """Plans of successive runs, each run's states carried to the next (every message delivered)."""
    states: dict[str, AlertState] = {}
    out = []
    for m in minutes:
        p = plan(alerts, states, T0 + timedelta(minutes=m), policies)
        states = {**{k: v for k, v in states.items() if k not in p.removed}, **p.states}
        out.append(p)
    return out


def steps(p: Plan) -> list[tuple[Step, tuple[str, ...]]]:
    return [(e.step, e.channels) for e in p.events]


def test_new_is_sent_once_then_escalates_once_after_its_time() -> None:
    fire, again, before, escalate, after = runs(0, 30, 59, 60, 120)
    assert steps(fire) == [(Step.FIRE, ("email", "pd"))] and fire.states[FP].first_fired == T0
    assert steps(again) == [] and steps(before) == []
    assert steps(escalate) == [(Step.ESCALATE, ("email", "pd"))] and escalate.events[0].escalated
    assert steps(after) == []


def test_escalation_goes_to_the_escalation_channels_and_the_resolve_to_everyone_who_got_it() -> None:
    policies = {**POLICIES, AlertLevel.WARNING: Policy(reminder_interval_minutes=0,
                                                       escalation_channels=("oncall",))}
    states: dict[str, AlertState] = {}
    first = plan([WARN], states, T0, policies)
    up = plan([WARN], first.states, T0 + timedelta(minutes=61), policies)
    assert steps(up) == [(Step.ESCALATE, ("oncall",))]
    gone = plan([], up.states, T0 + timedelta(minutes=90), policies)
    assert steps(gone) == [(Step.RESOLVE, ("email", "pd", "oncall"))] and gone.removed == (FP,)


def test_a_reminder_interval_repeats_to_the_channels_that_got_it() -> None:
    policies = {**POLICIES, AlertLevel.WARNING: Policy(reminder_interval_minutes=20, escalation_channels=())}
    never = Alert(level=AlertLevel.WARNING, condition=WARN.condition, channels=WARN.channels, values={},
                  escalation_time_minutes=0)
    plans = runs(0, 10, 20, 30, 45, 500, alerts=(never,), policies=policies)
    assert [[s for s, _ in steps(p)] for p in plans] == [[Step.FIRE], [], [Step.REMIND], [], [Step.REMIND],
                                                         [Step.REMIND]]  # escalation 0: never escalates


def test_a_rule_not_evaluated_neither_fires_nor_resolves() -> None:
    first = plan([WARN], {}, T0, POLICIES)
    later = plan([], first.states, T0 + timedelta(minutes=5), POLICIES, unevaluated={FP})
    assert later.events == () and later.removed == ()


def test_settle_keeps_what_was_not_delivered_for_the_next_run() -> None:
    first = plan([WARN], {}, T0, POLICIES)
    settled = settle(first, {}, {(FP, "pd")})
    assert settled.states[FP].channels == ("email",)
    retry = plan([WARN], settled.states, T0 + timedelta(minutes=5), POLICIES)
    assert steps(retry) == [(Step.FIRE, ("pd",))]  # only the one that missed it
    assert settle(first, {}, {(FP, "pd"), (FP, "email")}).states == {}  # reached nobody: new next run
    gone = plan([], {FP: first.states[FP]}, T0 + timedelta(minutes=9), POLICIES)
    owed = settle(gone, {FP: first.states[FP]}, {(FP, "email")})
    assert owed.removed == () and owed.states[FP].channels == ("email",)


def test_severity_is_raised_by_an_escalation_and_pagerduty_resolves_by_dedup_key() -> None:
    assert [severity(AlertLevel.WARNING, False), severity(AlertLevel.WARNING, True),
            severity(AlertLevel.CRITICAL, True)] == ["warning", "error", "critical"]
    fire, *_, escalate = runs(0, 60)
    info = Info(repository="acme/widgets", sha=None, link=None, now=T0)
    assert pagerduty_event(escalate.events[0], info)["payload"]["severity"] == "error"
    gone = plan([], fire.states, T0 + timedelta(minutes=5), POLICIES)
    assert pagerduty_event(gone.events[0], info) == {"event_action": "resolve", "dedup_key": FP}
    assert webhook_payload(gone.events[0], info)["event"] == "resolve"


def test_outside_text_is_escaped_in_slack_and_html(tmp_path: object) -> None:
    evil = Alert(level=AlertLevel.WARNING, condition="<!channel> & <b>x</b>", channels=("c",), values={})
    [event] = plan([evil], {}, T0, POLICIES).events
    ctx = make_context(tmp_path, config={"integrations": {"channels": {  # type: ignore[arg-type]
        "s": {"kind": "slack_webhook", "url_env": "X"},
        "m": {"kind": "email", "smtp_host": "h", "smtp_port": 25, "sender": "a@b", "recipients": ["c@d"]}}}})
    info = Info(repository="r", sha=None, link=None, now=T0)
    slack = render(event, "s", ctx.config.channels["s"], info).body
    assert "<!channel>" not in str(slack) and "&lt;!channel&gt; &amp;" in slack["text"]
    mail = render(event, "m", ctx.config.channels["m"], info).body
    assert "<b>x</b>" not in mail["html"] and "&lt;b&gt;x&lt;/b&gt;" in mail["html"]


def test_unconfigured_names_are_reported_with_how_to_configure_them(tmp_path: object) -> None:
    cfg = {"alerts": {"critical": {"notification_channels": ["pagerduty", "slack-critical", "ops"]},
                      "warning": {"notification_channels": ["email"], "escalation_channels": ["pagerduty"]}},
           "integrations": {"channels": {"ops": {"kind": "webhook", "url": "https://hooks.example.com/x"}}}}
    ctx = make_context(tmp_path, config=cfg)  # type: ignore[arg-type]
    notices = unconfigured(ctx.config)
    assert len(notices) == 2  # slack-critical is a Slack route of the webhook, ops is configured
    assert notices[0].startswith("alert channel 'pagerduty' (alerts.critical.notification_channels, "
                                 "alerts.warning.escalation_channels) is not configured")
    assert '"kind": "email", "smtp_host"' in notices[1]
    assert how_to_configure("teams").startswith('add "integrations": {"channels": {"teams": {"kind": "webhook"')


def test_the_guides_example_validates_and_its_unconfigured_channels_become_notices(tmp_path: object) -> None:
    """The guide's file as is: valid; pagerduty and email are named but not configured, so each run says so
    (log and report notices, which the job summary shows) and how to configure them."""
    import json
    from pathlib import Path

    from repo_automation import wiring

    guide = Path(__file__).resolve().parents[3] / "data" / "configs" / "admin-guide-example.json"
    ctx = make_context(tmp_path, config=json.loads(guide.read_text(encoding="utf-8")))  # type: ignore[arg-type]
    notices = wiring._notices(ctx)
    assert [n.split(" (")[0] for n in notices] == ["alert channel 'pagerduty'", "alert channel 'email'"]
    assert all("is not configured" in n and '"integrations": {"channels"' in n for n in notices)
