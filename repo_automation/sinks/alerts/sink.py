"""AlertsSink: the fired alerts to the channels named in `integrations.channels`, with their life across runs.

Per run: the alert states are read from the metrics history (`history-db`, table alert_state; read-only in
a dry run), lifecycle.plan decides the steps (send a new alert once, remind, escalate once, resolve), each
step is rendered per channel (messages.py) and sent by that channel's sender (senders.py); then the states
are written back, corrected for what was not delivered, so the next run tries that again. The lifecycle
state is kept whether or not `store-db` stores the run's metrics.

A fired alert naming a channel nothing can deliver to (neither configured here nor a Slack route of the
SLACK_WEBHOOK_URL webhook) fails the sink, saying how to configure it; so does any message that was not
delivered, and a state that could not be read or written. A dry run sends nothing and writes no state: one
Action per step and channel says what it would do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from repo_automation.config.sections import Channel, ChannelKind
from repo_automation.context import RunContext
from repo_automation.domain import Action, Alert, AlertLevel, FindingState, RunReport, SourceKind, Status
from repo_automation.errors import NothingToScan, SourceFailed
from repo_automation.history import HistoryError, HistoryStore, alert_state, describe, open_store
from repo_automation.redaction import Secret
from repo_automation.runner import run_link
from repo_automation.sessions import make_session, make_slack_client
from repo_automation.sinks.alerts import lifecycle
from repo_automation.sinks.alerts.lifecycle import Event, Policy, verb
from repo_automation.sinks.alerts.messages import Info, render
from repo_automation.sinks.alerts.routing import how_to_configure, is_slack_route
from repo_automation.sinks.alerts.senders import (
    EmailSender,
    PagerDutySender,
    Sender,
    SlackApiSender,
    SlackWebhookSender,
    WebhookSender,
)
from repo_automation.sinks.webpost import DeliveryError
from repo_automation.stages import Sink

if TYPE_CHECKING:
    import ssl

    import requests

log = logging.getLogger(__name__)

Opener = Callable[..., HistoryStore]


@dataclass(frozen=True, slots=True, kw_only=True)
class Collaborators:
    """What the senders use; tests pass their own (a session without backoff, a context trusting a test CA)."""

    session: requests.Session | None = None
    ssl_context: Callable[[], ssl.SSLContext] | None = None
    slack_client: Callable[[str, str], Any] | None = None  # (token, api_url) -> WebClient


def _secret(env: Mapping[str, str], var: str | None, what: str) -> Secret:
    value = env.get(var or "")
    if not value:
        raise DeliveryError(f"{what}: the environment variable {var} is not set")
    return Secret(value)


def build_sender(name: str, ch: Channel, ctx: RunContext, session: requests.Session, extra: Collaborators) -> Sender:
    """The sender of one channel; DeliveryError when a secret it needs is not in the environment."""
    env, secrets = ctx.env, ctx.secrets
    match ch.kind:
        case ChannelKind.SLACK_WEBHOOK:
            return SlackWebhookSender(url=_secret(env, ch.url_env, name), session=session, secrets=secrets)
        case ChannelKind.SLACK_API:
            token = _secret(env, ch.token_env, name).reveal()
            client = (extra.slack_client or (lambda t, u: make_slack_client(t, base_url=u)))(token, ch.api_url)
            return SlackApiSender(client=client, secrets=secrets)
        case ChannelKind.PAGERDUTY:
            return PagerDutySender(url=ch.events_url, routing_key=_secret(env, ch.routing_key_env, name),
                                   session=session, secrets=secrets)
        case ChannelKind.WEBHOOK:
            url = _secret(env, ch.url_env, name) if ch.url_env else Secret(ch.url or "")
            key = _secret(env, ch.secret_env, name) if ch.secret_env else None
            return WebhookSender(url=url, key=key, session=session, secrets=secrets)
        case ChannelKind.EMAIL:
            assert ch.smtp_host and ch.smtp_port and ch.sender, "the schema requires them"
            password = _secret(env, ch.password_env, name) if ch.password_env else None
            return EmailSender(host=ch.smtp_host, port=ch.smtp_port, security=ch.smtp_security, sender=ch.sender,
                               recipients=ch.recipients, username=ch.username, password=password,
                               context=extra.ssl_context or _context(ch, ctx.workspace), secrets=secrets)


def _context(ch: Channel, workspace: Path) -> Callable[[], ssl.SSLContext]:
    def make() -> ssl.SSLContext:
        import ssl  # lazily, for start-up time

        cafile = str(workspace / ch.ca_file) if ch.ca_file else None
        return ssl.create_default_context(cafile=cafile)

    return make


SECURITY_UPDATE = "security update: "


def security_updates(report: RunReport, channels: tuple[str, ...]) -> list[Alert]:
    """The vulnerable dependencies that have a fixed version, as warning alerts to the security-update channels
    (`automation.dependency_updates.security_updates.notification_channels`): sent once, resolved once fixed."""
    if not channels:
        return []
    out = []
    for f in report.findings:
        if f.package and f.fixed_versions and f.state in (FindingState.ACTIVE, FindingState.NEW):
            advisory = f" ({f.ids[0]})" if f.ids else ""
            condition = f"{SECURITY_UPDATE}{f.package} {f.version or '?'} → {f.fixed_versions[0]}{advisory}"
            out.append(Alert(level=AlertLevel.WARNING, condition=condition, channels=channels, values={},
                             escalation_time_minutes=0))
    return out


def _scanned(report: RunReport) -> bool:
    """Did a scanner run this time? Without one, no security update can be said to be fixed."""
    return any(s.kind is SourceKind.SCANNER and s.status is Status.OK for s in report.sources)


class AlertsSink(Sink):
    name: ClassVar[str] = "alerts"

    def __init__(self, *, channels: Mapping[str, Channel], policies: Mapping[AlertLevel, Policy],
                 slack_channels: Mapping[str, str], history_db: str, workspace: Path,
                 security_update_channels: tuple[str, ...] = (), collaborators: Collaborators = Collaborators(),
                 opener: Opener = open_store) -> None:
        self.channels = dict(channels)
        self.security_update_channels = security_update_channels
        self.policies = dict(policies)
        self.slack_channels = dict(slack_channels)
        self.history_db = history_db
        self.workspace = workspace
        self._extra = collaborators
        self._opener = opener

    @classmethod
    def from_context(cls, ctx: RunContext, collaborators: Collaborators = Collaborators()) -> AlertsSink:
        return cls(channels=ctx.config.channels, policies=lifecycle.policies_of(ctx.config.alerts),
                   slack_channels=ctx.config.slack.channels, history_db=ctx.settings.history_db,
                   workspace=ctx.workspace, collaborators=collaborators,
                   security_update_channels=ctx.config.dependency_updates.security_updates.notification_channels)

    # -- the run ------------------------------------------------------------------------------------------

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        alerts = [*report.alerts, *security_updates(report, self.security_update_channels)]
        missing = self._unconfigured(alerts)
        if not self.channels:
            if missing:
                raise SourceFailed("; ".join(missing))
            raise NothingToScan("no alert channels are configured (integrations.channels)")
        states, store_error = self._states(ctx)
        plan, events = self._plan(report, alerts, states, ctx)
        where = describe(self.history_db, self.workspace)
        if ctx.dry_run:
            return self._dry_run(events, plan, where, missing, store_error)
        if not events and not missing and store_error is None:
            raise NothingToScan(f"nothing to send: {len(states)} alert(s) still firing, sent before" if states
                                else "no alert fired, none to resolve")
        sent, failures, undelivered = self._send_all(events, report, ctx)
        if store_error is None:
            failures += self._save(lifecycle.settle(plan, states, undelivered), report.repository or "")
        else:
            failures.append(f"alert states unknown ({store_error}): every firing alert was sent as new")
        problems = [*missing, *failures]
        if problems:
            done = "; ".join(a.description for a in sent) or "nothing"
            raise SourceFailed(f"{len(problems)} alert delivery problem(s): {'; '.join(problems)} (sent: {done})")
        return [*sent, Action(sink=self.name, performed=True, target=where,
                              description=f"recorded the state of {len(plan.states) + len(plan.removed)} alert(s)")]

    def _plan(self, report: RunReport, alerts: Sequence[Alert], states: Mapping[str, alert_state.AlertState],
              ctx: RunContext) -> tuple[lifecycle.Plan, list[Event]]:
        """The lifecycle plan over the configured channels, and its events that go somewhere."""
        firing = [replace(a, channels=tuple(c for c in a.channels if c in self.channels)) for a in alerts]
        unevaluated = lifecycle.fingerprints([(r.level, r.condition) for r in report.rules_not_evaluated])
        if not _scanned(report):  # no scan this run: a security update is not known to be fixed
            unevaluated |= {fp for fp, st in states.items() if st.condition.startswith(SECURITY_UPDATE)}
        plan = lifecycle.plan([a for a in firing if a.channels], states, ctx.now, self.policies, unevaluated)
        events = [replace(e, channels=tuple(c for c in e.channels if c in self.channels)) for e in plan.events]
        return plan, [e for e in events if e.channels]

    def _unconfigured(self, alerts: Sequence[Alert]) -> list[str]:
        out = []
        for alert in alerts:
            names = [*alert.channels, *self.policies[alert.level].escalation_channels]
            for name in dict.fromkeys(names):
                if name not in self.channels and not is_slack_route(name, self.slack_channels):
                    out.append(f"{alert.level} alert {alert.condition!r} names the channel {name!r}, which is not "
                               f"configured: {how_to_configure(name)}")
                    log.warning("alerts: %s", out[-1])
        return out

    def _states(self, ctx: RunContext) -> tuple[dict[str, alert_state.AlertState], str | None]:
        try:
            with self._opener(self.history_db, self.workspace, readonly=True) as store:
                return alert_state.load(store, ctx.repository or ""), None
        except HistoryError as e:
            log.warning("alerts: %s", e)
            return {}, str(e)

    def _dry_run(self, events: Sequence[Event], plan: lifecycle.Plan, where: str, missing: Sequence[str],
                 store_error: str | None) -> list[Action]:
        actions = []
        for e in events:
            for name in e.channels:
                kind = self.channels[name].kind
                description = f"would {verb(e.step)} {e.summary} to {name} ({kind})"
                log.info("dry run: %s", description)
                actions.append(Action(sink=self.name, description=description, performed=False, target=name))
        changes = len(plan.states) + len(plan.removed)
        if changes:
            actions.append(Action(sink=self.name, performed=False, target=where,
                                  description=f"would record the state of {changes} alert(s)"))
        problems = [*missing, *([f"alert states unknown ({store_error})"] if store_error else [])]
        if problems:
            raise SourceFailed(f"{'; '.join(problems)} (dry run: {len(actions)} step(s) described, nothing sent)")
        if not actions:
            raise NothingToScan("nothing to send: no alert fired, none to resolve, none to escalate")
        return actions

    def _send_all(self, events: Sequence[Event], report: RunReport, ctx: RunContext
                  ) -> tuple[list[Action], list[str], set[tuple[str, str]]]:
        session = self._extra.session or make_session(methods=("POST",), retries=3, retry_after_max_s=30.0)
        info = Info(repository=report.repository, sha=report.sha, link=run_link(ctx.env), now=ctx.now)
        senders: dict[str, Sender | str] = {}
        sent: list[Action] = []
        failures: list[str] = []
        undelivered: set[tuple[str, str]] = set()
        try:
            for e in events:
                for name in e.channels:
                    what = f"{verb(e.step)} {e.summary} to {name}"
                    try:
                        sender = senders.get(name) or build_sender(name, self.channels[name], ctx, session, self._extra)
                        senders[name] = sender
                        if isinstance(sender, str):
                            raise DeliveryError(sender)
                        sender.send(render(e, name, self.channels[name], info))
                    except DeliveryError as err:
                        senders.setdefault(name, str(err))
                        failures.append(f"{what}: {err}")
                        undelivered.add((e.fingerprint, name))
                        log.warning("alerts: could not %s: %s", what, err)
                        continue
                    log.info("alerts: %s", what)
                    sent.append(Action(sink=self.name, description=what, performed=True, target=name))
        finally:
            if self._extra.session is None:
                session.close()
        return sent, failures, undelivered

    def _save(self, plan: lifecycle.Plan, repository: str) -> list[str]:
        try:
            with self._opener(self.history_db, self.workspace) as store:
                alert_state.save(store, repository, plan.states, plan.removed)
        except HistoryError as e:
            log.warning("alerts: %s", e)
            return [f"the alert states were not recorded, so the next run sends these again: {e}"]
        return []
