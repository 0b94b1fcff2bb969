"""The organisation roll-up: the latest health of every repository in a shared history store.

`repo-automation rollup` (or the action's `command: rollup`, as the last job of the fan-out example) reads
the store the matrix of jobs wrote to and lists, per repository, its newest scored run: the overall score
and grade, each category's score, and the change against that repository's previous run and 30 days before
(the same comparisons a run's own report makes, via deltas.build_history). Read-only: it opens the store
read-only and writes only its two report files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from repo_automation.domain import Metric
from repo_automation.history.deltas import HEALTH_SOURCE, OVERALL, build_history
from repo_automation.history.store import HistoryStore

ROLLUP_VERSION = "1.0"
HEALTH_PREFIX = "health."


@dataclass(frozen=True, slots=True, kw_only=True)
class RepositoryHealth:
    repository: str
    timestamp: datetime  # the newest scored run
    overall: float
    grade: str | None
    categories: dict[str, float] = field(default_factory=dict)  # category -> score (inconclusive ones absent)
    delta_previous: float | None = None  # overall against the repository's previous scored run
    delta_30d: float | None = None  # overall against its run nearest to 30 days before (±7 days)


def rollup(store: HistoryStore) -> list[RepositoryHealth]:
    """Every repository with a stored health score, with its newest scored run; sorted by repository."""
    out = []
    for repository in store.repositories(OVERALL):
        latest = store.latest_run(repository, OVERALL, HEALTH_PREFIX)
        if latest is None:
            continue
        when, rows = latest
        overall = next(r for r in rows if r.name == OVERALL)
        metrics = [Metric(name=r.name, value=r.value, source=HEALTH_SOURCE) for r in rows]
        history = build_history(store, metrics, when, repository=repository, trend_points=1)
        change = next(c for c in history.changes if c.name == OVERALL)
        grade = overall.metadata.get("grade")
        out.append(RepositoryHealth(
            repository=repository, timestamp=when, overall=overall.value,
            grade=str(grade) if grade else None,
            categories={r.name.removeprefix(HEALTH_PREFIX): r.value for r in rows if r.name != OVERALL},
            delta_previous=change.delta_previous, delta_30d=change.delta_30d))
    return out


def as_json(rows: Sequence[RepositoryHealth], *, generated_at: datetime, store: str) -> dict[str, Any]:
    """The roll-up as a JSON document (rollup-report.json; schema: repo_automation/report/rollup.schema.json)."""
    return {
        "rollup_version": ROLLUP_VERSION,
        "generated_at": generated_at.isoformat(),
        "store": store,
        "repositories": [{
            "repository": r.repository, "last_run": r.timestamp.isoformat(), "overall": r.overall,
            "grade": r.grade, "categories": dict(sorted(r.categories.items())),
            "delta_previous": r.delta_previous, "delta_30d": r.delta_30d,
        } for r in rows],
    }
