"""The alert lifecycle's memory in the history store: table `alert_state` (schema version 3).

One row per alert of a repository, keyed by its fingerprint: which channels got it, when it first fired,
when it was last sent and when (if ever) it escalated. A row is written when an alert is first delivered and
deleted once its "resolved" reached every channel that got it. `load` reads one repository's rows; `save`
writes a run's changes in one transaction (upserts and deletions), so a run either records all it did or
nothing. A store without the table (a plain version-1 table that was not migrated) reads as no alerts and
refuses `save` with a HistoryError that names `repo-automation history migrate`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from repo_automation.history import schema
from repo_automation.history.store import HistoryError, HistoryStore

_COLUMNS = "fingerprint, level, condition, channels, first_fired, last_sent, escalated_at"


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertState:
    """What earlier runs did about one alert."""

    fingerprint: str
    level: str
    condition: str
    channels: tuple[str, ...]  # the channels that got it (and are owed a "resolved")
    first_fired: datetime
    last_sent: datetime
    escalated_at: datetime | None = None


def load(store: HistoryStore, repository: str) -> dict[str, AlertState]:
    """The repository's alert states by fingerprint (none when the store has no alert table yet)."""
    if not store.table_exists(schema.ALERTS):
        return {}
    rows = store.query(f"SELECT {_COLUMNS} FROM {schema.ALERTS} WHERE repository = ?",  # noqa: S608  # nosec B608
                       (repository,), "read the alert states")
    decode = store.dialect.decode
    return {fp: AlertState(fingerprint=fp, level=level, condition=condition, channels=tuple(json.loads(channels)),
                           first_fired=decode(first), last_sent=decode(last),
                           escalated_at=decode(escalated) if escalated is not None else None)
            for fp, level, condition, channels, first, last, escalated in rows}


def save(store: HistoryStore, repository: str, states: Mapping[str, AlertState], removed: Iterable[str]) -> None:
    """Upsert `states` and delete the `removed` fingerprints, in one transaction."""
    gone = list(removed)
    if not states and not gone:
        return
    if not store.table_exists(schema.ALERTS):
        raise HistoryError(f"metrics history {store.target} has no {schema.ALERTS} table (schema version "
                           f"{store.version()}): run `repo-automation history migrate`")
    enc = store.dialect.encode
    with store.transaction("store the alert states") as cur:
        for fp in gone:
            cur.execute(store.sql(f"DELETE FROM {schema.ALERTS} WHERE repository = ? AND fingerprint = ?"),  # noqa: S608  # nosec B608
                        (repository, fp))
        for s in states.values():
            cur.execute(store.sql(
                f"INSERT INTO {schema.ALERTS} (repository, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "  # noqa: S608  # nosec B608
                "ON CONFLICT (repository, fingerprint) DO UPDATE SET level = excluded.level, "
                "condition = excluded.condition, channels = excluded.channels, first_fired = excluded.first_fired, "
                "last_sent = excluded.last_sent, escalated_at = excluded.escalated_at"),
                (repository, s.fingerprint, s.level, s.condition, json.dumps(list(s.channels)), enc(s.first_fired),
                 enc(s.last_sent), enc(s.escalated_at) if s.escalated_at is not None else None))
