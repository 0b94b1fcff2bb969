"""An alert's life across runs, as a pure function of this run's alerts, the stored states and the clock.

Keyed by the alert's fingerprint (`alert:<level>:<condition>`):
- new (no state): FIRE to its channels;
- still firing: nothing, except a REMIND to the channels that got it every `reminder_interval_minutes`
  (0: never), and a FIRE to a channel of its rule that has not got it (an earlier run could not reach it,
  or it was added to the rule since);
- firing for `escalation_time_minutes` or longer (0: never) and not escalated yet: ESCALATE, once, to the
  level's `escalation_channels` (empty: its own channels, marked as escalated);
- stored but no longer firing: RESOLVE to every channel that got it, and the state is dropped. A rule that
  could not be evaluated this run (a metric missing) neither fires nor clears: its state is kept as it is.

`settle` then takes what could not be delivered into account, so the next run tries again: a channel a
FIRE did not reach is not recorded as having it, an ESCALATE that reached nobody is not recorded, and a
RESOLVE that some channel did not get keeps the state with just those channels.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import assert_never

from repo_automation.config.sections import AlertRules
from repo_automation.domain import Alert, AlertLevel
from repo_automation.history.alert_state import AlertState
from repo_automation.sinks.slack import alert_fingerprint


class Step(enum.StrEnum):
    FIRE = "fire"
    REMIND = "remind"
    ESCALATE = "escalate"
    RESOLVE = "resolve"


def verb(step: Step) -> str:
    """How an Action names the step: `send`, `remind`, `escalate`, `resolve`."""
    match step:
        case Step.FIRE:
            return "send"
        case Step.REMIND | Step.ESCALATE | Step.RESOLVE:
            return str(step)
        case _:
            assert_never(step)


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """A level's lifecycle settings (alerts.<level>; its escalation time comes with each Alert)."""

    reminder_interval_minutes: int
    escalation_channels: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One step for one alert, to these channels."""

    step: Step
    fingerprint: str
    level: AlertLevel
    condition: str
    channels: tuple[str, ...]
    first_fired: datetime
    values: Mapping[str, float] = field(default_factory=dict)  # empty for a RESOLVE
    escalated: bool = False  # an ESCALATE, or a REMIND/RESOLVE of an alert that escalated

    @property
    def summary(self) -> str:
        return f"{self.level} alert {self.condition!r}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    events: tuple[Event, ...]
    states: Mapping[str, AlertState]  # to store (new or changed)
    removed: tuple[str, ...]  # fingerprints whose state goes


def _minutes(since: datetime, now: datetime) -> float:
    return (now - since) / timedelta(minutes=1)


def plan(alerts: Iterable[Alert], states: Mapping[str, AlertState], now: datetime,
         policies: Mapping[AlertLevel, Policy], unevaluated: Collection[str] = ()) -> Plan:
    """The steps of this run and the states they leave (see the module doc). `unevaluated`: fingerprints of
    rules that ended unknown this run."""
    events: list[Event] = []
    changed: dict[str, AlertState] = {}
    firing: dict[str, Alert] = {}
    for alert in alerts:
        firing.setdefault(alert_fingerprint(alert), alert)
    for fp, alert in firing.items():
        step, state, targets = _next(fp, alert, states.get(fp), now, policies[alert.level])
        if step is not None and state is not None:
            changed[fp] = state
            events.append(Event(step=step, fingerprint=fp, level=alert.level, condition=alert.condition,
                                channels=targets, first_fired=state.first_fired, values=alert.values,
                                escalated=state.escalated_at is not None))
    removed = []
    for fp, state in states.items():
        if fp in firing or fp in unevaluated:
            continue
        removed.append(fp)
        events.append(Event(step=Step.RESOLVE, fingerprint=fp, level=AlertLevel(state.level),
                            condition=state.condition, channels=state.channels, first_fired=state.first_fired,
                            escalated=state.escalated_at is not None))
    return Plan(events=tuple(events), states=changed, removed=tuple(removed))


def _targets(step: Step, alert: Alert, policy: Policy) -> tuple[str, ...]:
    if step is Step.ESCALATE and policy.escalation_channels:
        return policy.escalation_channels
    return alert.channels


def _next(fp: str, alert: Alert, state: AlertState | None, now: datetime, policy: Policy
          ) -> tuple[Step | None, AlertState | None, tuple[str, ...]]:
    """This run's step for one firing alert, the state it leaves and the channels it goes to."""
    if state is None:
        return Step.FIRE, AlertState(fingerprint=fp, level=alert.level, condition=alert.condition,
                                     channels=alert.channels, first_fired=now, last_sent=now), alert.channels
    escalate_after = alert.escalation_time_minutes or 0
    if state.escalated_at is None and escalate_after > 0 and _minutes(state.first_fired, now) >= escalate_after:
        targets = _targets(Step.ESCALATE, alert, policy)
        channels = tuple(dict.fromkeys([*state.channels, *targets]))
        return Step.ESCALATE, replace(state, channels=channels, last_sent=now, escalated_at=now), targets
    missed = tuple(c for c in alert.channels if c not in state.channels)
    if missed:  # a channel an earlier run could not reach, or one added to the rule since
        return Step.FIRE, replace(state, channels=(*state.channels, *missed)), missed
    remind = policy.reminder_interval_minutes
    if remind > 0 and _minutes(state.last_sent, now) >= remind:
        return Step.REMIND, replace(state, last_sent=now), state.channels
    return None, None, ()


def settle(p: Plan, previous: Mapping[str, AlertState], undelivered: Collection[tuple[str, str]]) -> Plan:
    """The plan's states corrected for the (fingerprint, channel) pairs that were not delivered."""
    if not undelivered:
        return p
    states = dict(p.states)
    removed = list(p.removed)
    for e in p.events:
        missed = tuple(c for c in e.channels if (e.fingerprint, c) in undelivered)
        if not missed:
            continue
        if e.step is Step.RESOLVE:
            removed.remove(e.fingerprint)
            states[e.fingerprint] = replace(previous[e.fingerprint], channels=missed)
        elif e.step is Step.FIRE:
            got = tuple(c for c in states[e.fingerprint].channels if c not in missed)
            if got and e.fingerprint in previous:
                states[e.fingerprint] = replace(previous[e.fingerprint], channels=got)
            elif got:
                states[e.fingerprint] = replace(states[e.fingerprint], channels=got)
            else:
                del states[e.fingerprint]
        elif e.step is Step.ESCALATE and len(missed) == len(e.channels):
            states[e.fingerprint] = previous[e.fingerprint]
    return Plan(events=p.events, states=states, removed=tuple(removed))


def policies_of(rules: Mapping[AlertLevel, AlertRules]) -> dict[AlertLevel, Policy]:
    """The lifecycle settings of each level from the typed `alerts` section."""
    return {level: Policy(reminder_interval_minutes=r.reminder_interval_minutes,
                          escalation_channels=r.escalation_channels) for level, r in rules.items()}


def fingerprints(conditions: Sequence[tuple[str, str]]) -> set[str]:
    """Fingerprints of (level, condition) pairs (the rules not evaluated)."""
    return {alert_fingerprint(Alert(level=AlertLevel(level), condition=c, channels=(), values={}))
            for level, c in conditions}
