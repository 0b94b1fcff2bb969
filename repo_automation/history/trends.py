"""The stored values the dashboard draws: every metric of a run over the last days, and each repository's
overall score over time for the roll-up page. Read-only; a store without runs reads as empty."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from repo_automation.history.deltas import OVERALL
from repo_automation.history.store import HistoryStore

TREND_DAYS = 90  # how far back the dashboard's charts and sparklines reach
Series = dict[str, list[tuple[datetime, float]]]


def metric_trends(store: HistoryStore, names: Iterable[str], now: datetime, *, repository: str = "",
                  days: int = TREND_DAYS) -> Series:
    """Each named metric's stored values from `days` before `now` up to `now`, oldest first."""
    wanted = sorted(set(names))
    if not wanted or not store.table_exists():
        return {}
    found = store.values_between(wanted, now - timedelta(days=days), now, repository=repository)
    return {name: [(v.timestamp, v.value) for v in values] for name, values in found.items()}


def overall_trends(store: HistoryStore, repositories: Sequence[str], now: datetime, *,
                   days: int = TREND_DAYS) -> Series:
    """Per repository, its overall health score over the last `days` (one read a repository)."""
    out: Series = {}
    for repository in repositories:
        out[repository] = metric_trends(store, [OVERALL], now, repository=repository, days=days).get(OVERALL, [])
    return out
