"""What the history says about this run: each metric against the previous run and 30 days ago, and the trend.

- previous: the metric's most recent stored value before `now` (the last run that measured it).
- 30 days ago: the stored value whose timestamp is nearest to now - 30 days, within ±7 days (the earlier one
  on a tie). Nothing that close means no 30-day comparison, rather than comparing with last week.
- trend: `health.overall` of the last stored runs (at most 30 points, oldest first), then this run's own
  score when the metrics passed in carry it.

The run's health is stored as metrics too: `health.overall` (0 to 100, the grade in its metadata) and
`health.<category>` for every category with a score, source "health".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from repo_automation.domain import Health, History, Metric, MetricChange, TrendPoint
from repo_automation.history.backends import open_store
from repo_automation.history.store import HistoryStore, StoredValue

OVERALL = "health.overall"
HEALTH_SOURCE = "health"
THIRTY_DAYS = timedelta(days=30)
TOLERANCE = timedelta(days=7)
TREND_POINTS = 30


def health_metrics(health: Health) -> list[Metric]:
    """The run's health scores as metrics for the store: health.overall and health.<category>."""
    out: list[Metric] = []
    if health.overall is not None:
        out.append(Metric(name=OVERALL, value=float(health.overall), source=HEALTH_SOURCE, unit="score",
                          metadata={"grade": health.grade} if health.grade else {}))
    for name in sorted(health.categories):
        cat = health.categories[name]
        if cat.score is not None:
            out.append(Metric(name=f"health.{name}", value=float(cat.score), source=HEALTH_SOURCE, unit="score",
                              metadata={"missing": list(cat.missing)} if cat.missing else {}))
    return out


def nearest(values: Sequence[StoredValue], target: datetime, tolerance: timedelta = TOLERANCE
            ) -> StoredValue | None:
    """The value stored nearest to `target`, within `tolerance` (the earlier one on a tie)."""
    close = [v for v in values if abs(v.timestamp - target) <= tolerance]
    if not close:
        return None
    return min(close, key=lambda v: (abs(v.timestamp - target), v.timestamp))


def delta(value: float, past: StoredValue | None) -> float | None:
    return None if past is None else round(value - past.value, 6)


def build_history(store: HistoryStore, metrics: Sequence[Metric], now: datetime,
                  *, trend_points: int = TREND_POINTS, repository: str = "") -> History:
    """Compare `metrics` (this run of `repository`, at `now`) with that repository's stored runs; read-only.
    Raises HistoryError."""
    current = [m for m in metrics if math.isfinite(m.value)]
    names = list(dict.fromkeys(m.name for m in current))
    previous = store.latest_before(names, now, repository=repository)
    target = now - THIRTY_DAYS
    window = store.values_between(names, target - TOLERANCE, min(target + TOLERANCE, now), repository=repository)
    changes = []
    seen: set[str] = set()
    for m in current:
        if m.name in seen:
            continue
        seen.add(m.name)
        prev = previous.get(m.name)
        month = nearest([v for v in window.get(m.name, []) if v.timestamp < now], target)
        changes.append(MetricChange(
            name=m.name, value=m.value,
            previous=None if prev is None else prev.value, delta_previous=delta(m.value, prev),
            thirty_days_ago=None if month is None else month.value, delta_30d=delta(m.value, month),
        ))
    own = next((m.value for m in current if m.name == OVERALL), None)
    stored = store.series(OVERALL, now, trend_points - (1 if own is not None else 0), repository=repository)
    trend = [TrendPoint(timestamp=v.timestamp, overall=v.value) for v in stored]
    if own is not None:
        trend.append(TrendPoint(timestamp=now, overall=own))
    return History(changes=tuple(changes), trend=tuple(trend), stored_runs=len(stored))


def read_history(target: str, workspace: Path, metrics: Sequence[Metric], now: datetime,
                 *, health: Health | None = None, repository: str = "", storing: bool = False) -> History:
    """Open the store read-only (a store that does not exist yet is empty, and is not created) and compare.

    With `health`, this run's scores are compared and appended to the trend too; `storing` says whether this
    run will be stored (--store-db), so the report does not count it as stored when it is not. Raises
    HistoryError."""
    everything = [*metrics, *(health_metrics(health) if health is not None else [])]
    with open_store(target, workspace, readonly=True) as store:
        return replace(build_history(store, everything, now, repository=repository), storing=storing)
