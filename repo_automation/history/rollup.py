"""The organisation roll-up: the latest health of every repository in a shared history store.

`repo-automation rollup` (or the action's `command: rollup`, as the last job of the fan-out example) reads
the store the matrix of jobs wrote to and lists, per repository, its newest scored run: the overall score
and grade, each category's score, and the change against that repository's previous run and 30 days before
(the same comparisons a run's own report makes, deltas.py). Read-only: it opens the store
read-only and writes only its two report files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from repo_automation.history.deltas import OVERALL, THIRTY_DAYS, TOLERANCE, delta, nearest
from repo_automation.history.store import HistoryStore, StoredRow, StoredValue, metadata_of

ROLLUP_VERSION = "1.0"
HEALTH_PREFIX = "health."
_SLACK_DAYS = 1 / 1440  # the SQL window is a minute wider each side; nearest() applies the exact tolerance


@dataclass(frozen=True, slots=True, kw_only=True)
class RepositoryHealth:
    repository: str
    timestamp: datetime  # the newest scored run
    overall: float
    grade: str | None
    categories: dict[str, float] = field(default_factory=dict)  # category -> score (inconclusive ones absent)
    delta_previous: float | None = None  # overall against the repository's previous scored run
    delta_30d: float | None = None  # overall against its run nearest to 30 days before (±7 days)


def _latest(store: HistoryStore) -> str:
    """A CTE `latest(repo, timestamp)`: each repository's newest run with a health.overall value (one
    parameter: the metric name). Rows without a repository are not attributable and are left out."""
    repo = store.dialect.repository_of("p")
    return ("WITH latest AS (SELECT repo, timestamp FROM (SELECT " + repo + " AS repo, p.timestamp, "  # noqa: S608  # nosec B608
            "ROW_NUMBER() OVER (PARTITION BY " + repo + " ORDER BY p.timestamp DESC) AS rn "
            "FROM project_metrics p WHERE p.metric_name = ? AND p.metric_value IS NOT NULL AND " + repo + " <> '') "
            "newest WHERE rn = 1) ")


def latest_scored(store: HistoryStore) -> set[tuple[str, datetime]]:
    """(repository, timestamp) of each repository's newest scored run. PostgreSQL: DISTINCT ON over a backward
    scan of the repository index (no sort); SQLite: the window query."""
    if store.dialect.postgres:
        repo = store.dialect.repository_of()
        sql = (f"SELECT DISTINCT ON ({repo}) {repo}, timestamp FROM project_metrics WHERE metric_name = ? "  # noqa: S608  # nosec B608
               f"AND metric_value IS NOT NULL AND {repo} <> '' ORDER BY {repo} DESC, timestamp DESC")
    else:
        sql = _latest(store) + "SELECT repo, timestamp FROM latest"  # noqa: S608  # nosec B608
    rows = store.query(sql, [OVERALL], "find each repository's last run")
    return {(str(r), store.dialect.decode(t)) for r, t in rows}


def newest_runs(store: HistoryStore, prefix: str = HEALTH_PREFIX) -> dict[str, tuple[datetime, list[StoredRow]]]:
    """Per repository, its newest scored run: the timestamp and the rows named `prefix`…, in name order."""
    latest = latest_scored(store)
    if not latest:
        return {}
    stamps = sorted({t for _, t in latest})
    marks = ", ".join("?" for _ in stamps)
    rows = store.query(  # the formatted parts are "?" placeholders and the dialect's own SQL
        f"SELECT {store.dialect.repository_of()}, timestamp, metric_name, metric_value, metric_metadata "  # noqa: S608  # nosec B608
        f"FROM project_metrics WHERE timestamp IN ({marks}) AND metric_name LIKE ? AND metric_value IS NOT NULL "
        "ORDER BY 1, metric_name, id",
        [*(store.dialect.encode(t) for t in stamps), prefix.replace("%", "") + "%"], "read each repository's last run")
    out: dict[str, tuple[datetime, list[StoredRow]]] = {}
    for repository, ts, name, value, meta in rows:
        when = store.dialect.decode(ts)
        if (str(repository), when) in latest:  # another repository's run at the same instant is not this one
            entry = out.setdefault(str(repository), (when, []))
            entry[1].append(StoredRow(name=str(name), value=float(value), metadata=metadata_of(meta)))
    return out


def earlier_scores(store: HistoryStore, latest: dict[str, datetime]
                   ) -> dict[str, tuple[StoredValue | None, list[StoredValue]]]:
    """Per repository, before its newest scored run (`latest`): the previous health.overall, and the ones
    about 30 days before it (the candidates for the 30-day comparison). Scoped as every read is: the
    repository's rows and the unscoped ones."""
    if store.dialect.postgres:
        return _earlier_postgres(store, latest)
    d = store.dialect
    lo = (THIRTY_DAYS - TOLERANCE).total_seconds() / 86400 - _SLACK_DAYS
    hi = (THIRTY_DAYS + TOLERANCE).total_seconds() / 86400 + _SLACK_DAYS
    rows = store.query(  # the formatted parts are the dialect's own SQL
        _latest(store) + "SELECT repo, timestamp, metric_value, rn FROM (SELECT l.repo, p.timestamp, "  # noqa: S608  # nosec B608
        "p.metric_value, ROW_NUMBER() OVER (PARTITION BY l.repo ORDER BY p.timestamp DESC, p.id DESC) AS rn, "
        f"{d.days_between('l.timestamp', 'p.timestamp')} AS age FROM latest l JOIN project_metrics p "
        f"ON {d.repository_of('p')} IN (l.repo, '') AND p.metric_name = ? AND p.timestamp < l.timestamp "
        "AND p.metric_value IS NOT NULL) prior WHERE rn = 1 OR age BETWEEN ? AND ?",
        [OVERALL, OVERALL, lo, hi], "read each repository's earlier scores")
    out: dict[str, tuple[StoredValue | None, list[StoredValue]]] = {}
    for repository, ts, value, rn in rows:
        previous, window = out.get(str(repository), (None, []))
        stored = StoredValue(timestamp=d.decode(ts), value=float(value))
        out[str(repository)] = (stored if rn == 1 else previous, [*window, stored])
    return out


def _earlier_postgres(store: HistoryStore, latest: dict[str, datetime]
                      ) -> dict[str, tuple[StoredValue | None, list[StoredValue]]]:
    """earlier_scores on PostgreSQL: per repository and scope one backward index step for the previous score
    (LATERAL ... LIMIT 1), and one index range for the 30-day window."""
    d = store.dialect
    repo = d.repository_of("p")
    runs = [list(latest), [d.encode(t) for t in latest.values()]]
    previous = store.query(  # the formatted parts are the dialect's own SQL
        "SELECT l.repo, x.timestamp, x.metric_value, x.id FROM unnest(?::text[], ?::timestamptz[]) AS l(repo, ts) "  # noqa: S608  # nosec B608
        "CROSS JOIN LATERAL (VALUES (l.repo), ('')) AS s(scope) CROSS JOIN LATERAL (SELECT p.timestamp, "
        f"p.metric_value, p.id FROM project_metrics p WHERE p.metric_name = ? AND {repo} = s.scope "
        "AND p.timestamp < l.ts AND p.metric_value IS NOT NULL ORDER BY p.timestamp DESC, p.id DESC LIMIT 1) x",
        [*runs, OVERALL], "read each repository's previous score")
    window = store.query(  # the formatted part is the dialect's own SQL
        "SELECT l.repo, x.timestamp, x.metric_value FROM unnest(?::text[], ?::timestamptz[]) AS l(repo, ts) "  # noqa: S608  # nosec B608
        "CROSS JOIN LATERAL (VALUES (l.repo), ('')) AS s(scope) CROSS JOIN LATERAL (SELECT p.timestamp, "
        f"p.metric_value FROM project_metrics p WHERE p.metric_name = ? AND {repo} = s.scope "
        "AND p.timestamp >= l.ts - ? AND p.timestamp <= l.ts - ? AND p.timestamp < l.ts "
        "AND p.metric_value IS NOT NULL OFFSET 0) x",
        [*runs, OVERALL, THIRTY_DAYS + TOLERANCE, THIRTY_DAYS - TOLERANCE], "read each repository's 30-day scores")
    best: dict[str, tuple[Any, Any, float]] = {}
    for r, t, v, row_id in previous:
        if r not in best or (t, row_id) > best[r][:2]:
            best[r] = (t, row_id, float(v))
    out: dict[str, tuple[StoredValue | None, list[StoredValue]]] = {
        r: (StoredValue(timestamp=d.decode(t), value=v), []) for r, (t, _, v) in best.items()}
    for r, t, v in window:
        prev, values = out.get(r, (None, []))
        out[r] = (prev, [*values, StoredValue(timestamp=d.decode(t), value=float(v))])
    return out


def rollup(store: HistoryStore) -> list[RepositoryHealth]:
    """Every repository with a stored health score, with its newest scored run; sorted by repository.

    Two set-based reads whatever the number of repositories; the comparisons are the ones deltas.py makes
    for a run (previous scored run; the run nearest to 30 days before, within ±7 days)."""
    runs = newest_runs(store)
    earlier = earlier_scores(store, {r: when for r, (when, _) in runs.items()}) if runs else {}
    out = []
    for repository in sorted(runs):
        when, rows = runs[repository]
        overall = next((r for r in rows if r.name == OVERALL), None)
        if overall is None:
            continue
        previous, window = earlier.get(repository, (None, []))
        target = when - THIRTY_DAYS
        candidates = [v for v in window if target - TOLERANCE <= v.timestamp <= min(target + TOLERANCE, when)]
        grade = overall.metadata.get("grade")
        out.append(RepositoryHealth(
            repository=repository, timestamp=when, overall=overall.value,
            grade=str(grade) if grade else None,
            categories={r.name.removeprefix(HEALTH_PREFIX): r.value for r in rows if r.name != OVERALL},
            delta_previous=delta(overall.value, previous),
            delta_30d=delta(overall.value, nearest(candidates, target))))
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
