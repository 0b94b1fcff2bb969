"""The automation's own numbers: what each stored run says about itself, and the totals across runs.

A Pushgateway keeps the last push and adds nothing, so a counter pushed by one short CI job would read what
that job counted. The totals are therefore computed from the history store, where every run is kept. Each
stored run carries, beside its metrics and health scores, rows of source "automation":

- `automation.duration_seconds`: how long the run had taken when the history stored it;
- `automation.changes.<type>`: how many changes of each ChangeKind it made (performed actions only; a type it
  did not make has no row). Issues created are `automation.changes.issue_created`.

`read_totals` reads them back for one repository (and the rows that carry none, as every read does): the
runs are those of the runs ledger plus, for rows without a run id (a plain version-1 table, or rows a
migration brought over), their distinct timestamps, so runs stored before these rows existed are counted
too; the durations feed the histogram; the changes are summed per type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from repo_automation.domain import ChangeKind, Metric, RunReport
from repo_automation.history import schema
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
    """The totals of `repository` in `store` (a store with no table yet: all zero). Each read is a few index
    steps, not a scan of the store: the runs from the ledger, the rows by their names."""
    version = store.version()
    if version == 0:
        return Totals()
    scoped = store.dialect.scoped()
    names = [CHANGES_PREFIX + kind.value for kind in ChangeKind]
    marks = ", ".join("?" for _ in names)
    durations = store.query(  # the formatted parts are "?" placeholders and the dialect's own SQL
        f"SELECT metric_value FROM project_metrics WHERE metric_name = ? AND {scoped} "  # noqa: S608  # nosec B608
        "AND metric_value IS NOT NULL ORDER BY timestamp", [DURATION, repository], "read the run durations")
    changes = store.query(
        f"SELECT metric_name, SUM(metric_value) FROM project_metrics WHERE metric_name IN ({marks}) "  # noqa: S608  # nosec B608
        f"AND {scoped} AND metric_value IS NOT NULL GROUP BY metric_name", [*names, repository],
        "sum the changes made")
    return Totals(runs=_runs(store, repository, ledger=version >= 2), durations=tuple(float(v) for (v,) in durations),
                  changes={str(name)[len(CHANGES_PREFIX):]: float(total) for name, total in changes})


def _runs(store: HistoryStore, repository: str, *, ledger: bool) -> int:
    """The runs stored: from version 2 each is once in the ledger, and the rows a migration brought over (no
    run id) count by their distinct timestamps; a plain table (version 1) counts only those."""
    scoped = store.dialect.scoped()
    legacy = f"SELECT COUNT(DISTINCT timestamp) FROM project_metrics WHERE {scoped}"  # noqa: S608  # nosec B608
    if not ledger:
        rows = store.query(legacy, [repository], "count the stored runs")
        return int(rows[0][0]) if rows else 0
    rows = store.query(  # the formatted parts are the dialect's own SQL
        f"SELECT (SELECT COUNT(*) FROM {schema.RUNS} WHERE repository IN (?, '')) + "  # noqa: S608  # nosec B608
        f"({legacy} AND run_id IS NULL)", [repository, repository], "count the stored runs")
    return int(rows[0][0]) if rows else 0
