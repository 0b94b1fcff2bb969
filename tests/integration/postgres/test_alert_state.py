"""The alert lifecycle's state in each history backend (SQLite and the real PostgreSQL): written, read back,
deleted once resolved; one repository's alerts never seen by another's run."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

from repo_automation.domain import AlertLevel
from repo_automation.errors import NothingToScan
from repo_automation.history import alert_state, open_store
from repo_automation.history.alert_state import AlertState
from repo_automation.sinks.alerts.lifecycle import Policy, Step, plan
from repo_automation.sinks.alerts.sink import AlertsSink
from tests.fakealerts import FakeWebhook
from tests.helpers import FIXED_NOW, make_context
from tests.integration.alerts.conftest import run_report

CONFIG = {"alerts": {"critical": {"conditions": ["security.critical_vulnerabilities > 0"],
                                  "notification_channels": ["ops"], "escalation_time_minutes": 15}},
          "integrations": {"channels": {"ops": {"kind": "webhook", "url_env": "OPS_URL"}}}}


def test_states_round_trip_and_are_scoped_by_repository(store_target: str, tmp_path: Path) -> None:
    state = AlertState(fingerprint="alert:critical:x", level="critical", condition="x > 0", channels=("a", "b"),
                       first_fired=FIXED_NOW, last_sent=FIXED_NOW + timedelta(minutes=1))
    with open_store(store_target, tmp_path) as store:
        assert store.version() == 3
        alert_state.save(store, "acme/one", {state.fingerprint: state}, ())
        assert alert_state.load(store, "acme/one") == {state.fingerprint: state}
        assert alert_state.load(store, "acme/two") == {}
        escalated = dataclasses.replace(state, escalated_at=FIXED_NOW + timedelta(minutes=20))
        alert_state.save(store, "acme/one", {state.fingerprint: escalated}, ())
        assert alert_state.load(store, "acme/one")[state.fingerprint].escalated_at == FIXED_NOW + timedelta(minutes=20)
        alert_state.save(store, "acme/one", {}, [state.fingerprint])
        assert alert_state.load(store, "acme/one") == {}


def test_a_run_on_each_backend_fires_once_escalates_once_and_resolves(store_target: str, tmp_path: Path) -> None:
    with FakeWebhook() as hook:
        env = {"GITHUB_REPOSITORY": "acme/widgets", "OPS_URL": hook.url}
        events = []
        for minutes, value in ((0, 2.0), (5, 2.0), (16, 2.0), (20, 2.0), (30, 0.0), (40, 0.0)):
            ctx = make_context(tmp_path, config=CONFIG, env=env, now=FIXED_NOW + timedelta(minutes=minutes),
                               history_db=store_target)
            try:
                AlertsSink.from_context(ctx).deliver(run_report(ctx, {"security.critical_vulnerabilities": value}),
                                                     ctx)
            except NothingToScan as e:  # the quiet runs
                assert "nothing to send" in str(e) or "none to resolve" in str(e), e
            events.append([p["event"] for p in hook.accepted()])
    assert events[-1] == ["fire", "escalate", "resolve"]
    assert [len(e) for e in events] == [1, 1, 2, 2, 3, 3]
    with open_store(store_target, tmp_path, readonly=True) as store:
        assert alert_state.load(store, "acme/widgets") == {}


def test_plan_reads_what_the_store_gives_back(store_target: str, tmp_path: Path) -> None:
    """Timestamps survive the store (time zone and all), so the escalation clock is right on each backend."""
    from repo_automation.domain import Alert

    alert = Alert(level=AlertLevel.CRITICAL, condition="x > 0", channels=("ops",), values={"x": 1.0},
                  escalation_time_minutes=15)
    policies = {AlertLevel.CRITICAL: Policy(reminder_interval_minutes=0, escalation_channels=())}
    first = plan([alert], {}, FIXED_NOW, policies)
    with open_store(store_target, tmp_path) as store:
        alert_state.save(store, "r", first.states, ())
        stored = alert_state.load(store, "r")
    assert json.dumps(sorted(stored)) == json.dumps(sorted(first.states))
    assert [e.step for e in plan([alert], stored, FIXED_NOW + timedelta(minutes=14), policies).events] == []
    assert [e.step for e in plan([alert], stored, FIXED_NOW + timedelta(minutes=15), policies).events] == [
        Step.ESCALATE]
