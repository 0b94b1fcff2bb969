"""The automation's own numbers: what each stored run says about itself, and the totals across runs.

A Pushgateway keeps the last push and adds nothing, so a counter pushed by one short CI job would read what
that job counted. The totals are therefore computed from the history store, where every run is kept. Each
stored run carries, beside its metrics and health scores, rows of source "automation":

- `automation.duration_seconds`: how long the run had taken when the history stored it;
- `automation.changes.<type>`: how many changes of each ChangeKind it made (performed actions only; a type it
  did not make has no row). Issues created are `automation.changes.issue_created`.

`read_totals` reads them back for one repository (and the rows that carry none, as every read does): the
runs are the distinct run timestamps in `project_metrics` (every version of the table has them, so runs
stored before these rows existed are counted too), the durations feed the histogram, the changes are summed
per type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from repo_automation.domain import ChangeKind, Metric, RunReport
from repo_automation.history.store import HistoryStore

SOURCE = "automation"
DURATION = "automation.duration_seconds"
CHANGES_PREFIX = "automation.changes."


@dataclass(frozen=True, slots=True, kw_only=True)
class Totals:
    """One repository's automation totals, over every run the history holds."""

    runs: int = 0
    durations: tuple[float, ...] = ()  # one per run that stored its duration
    changes: Mapping[str, float] = field(default_factory=dict)  # ChangeKind value -> total

    @property
    def issues_created(self) -> float:
        return self.changes.get(ChangeKind.ISSUE_CREATED.value, 0.0)


def changes_made(report: RunReport) -> dict[ChangeKind, int]:
    """The changes this run's sinks performed so far, by kind (a dry run's would-be changes are not counted)."""
    counted = Counter(a.change for a in report.actions if a.performed and a.change is not None)
    return {kind: counted[kind] for kind in ChangeKind if counted[kind]}


def automation_metrics(report: RunReport, duration_s: float) -> list[Metric]:
    """The rows this run stores about itself: its duration and the changes it made, by kind."""
    out = [Metric(name=DURATION, value=round(duration_s, 3), source=SOURCE, unit="s")]
    out += [Metric(name=CHANGES_PREFIX + kind.value, value=float(n), source=SOURCE, unit="count")
            for kind, n in changes_made(report).items()]
    return out


def read_totals(store: HistoryStore, repository: str) -> Totals:
    """The totals of `repository` in `store` (a store with no table yet: all zero)."""
    if store.version() == 0:
        return Totals()
    scoped = store.dialect.scoped()
    runs = store.query(f"SELECT COUNT(DISTINCT timestamp) FROM project_metrics WHERE {scoped}",  # noqa: S608  # nosec B608
                       [repository], "count the stored runs")
    durations = store.query(  # the formatted part is the dialect's own SQL
        f"SELECT metric_value FROM project_metrics WHERE metric_name = ? AND {scoped} "  # noqa: S608  # nosec B608
        "AND metric_value IS NOT NULL ORDER BY timestamp", [DURATION, repository], "read the run durations")
    changes = store.query(
        f"SELECT metric_name, SUM(metric_value) FROM project_metrics WHERE metric_name LIKE ? AND {scoped} "  # noqa: S608  # nosec B608
        "AND metric_value IS NOT NULL GROUP BY metric_name", [CHANGES_PREFIX + "%", repository],
        "sum the changes made")
    return Totals(runs=int(runs[0][0]) if runs else 0, durations=tuple(float(v) for (v,) in durations),
                  changes={str(name)[len(CHANGES_PREFIX):]: float(total) for name, total in changes})
