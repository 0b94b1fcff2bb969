"""HistorySink: stores the run's metrics and health scores in the metrics history (settings.store_db), with
the run's own numbers (its duration so far and the changes the sinks before it made: history/automation.py),
from which the Pushgateway's counters are totalled. It runs after the sinks that change the repository.

Before this run, it stores the runs spooled while the store could not be reached (oldest first, each once:
the store's runs ledger knows every run id). A store that cannot be opened or written, at the start or in
the middle of the write, loses nothing: this run's rows go to the spool (.repo-automation/history-spool/),
the sink fails with the store's own reason (a WARNING, and in the report), and the run itself goes on. With
`tracking.data_sources.history.required` such a run fails (exit 1), after spooling.

In a dry run it opens nothing and writes nothing (no spool either): it returns the Action it would perform.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar

from repo_automation.context import RunContext
from repo_automation.domain import Action, Metric, RunReport
from repo_automation.errors import NothingToScan, SourceFailed
from repo_automation.history import Batch, HistoryError, HistoryStore, describe, health_metrics, open_store, spool
from repo_automation.history.automation import automation_metrics
from repo_automation.stages import Sink

log = logging.getLogger(__name__)

Opener = Callable[[str, Path], HistoryStore]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class HistorySink(Sink):
    name: ClassVar[str] = "history"

    def __init__(self, *, target: str, workspace: Path, enabled: bool = True,
                 opener: Opener = open_store) -> None:
        self.target = target
        self.workspace = workspace
        self.enabled = enabled
        self._opener = opener

    @classmethod
    def from_context(cls, ctx: RunContext) -> HistorySink:
        return cls(target=ctx.settings.history_db, workspace=ctx.workspace, enabled=ctx.settings.store_db)

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        if not self.enabled:
            raise NothingToScan("store-db is off: this run is not added to the metrics history")
        try:
            where = describe(self.target, self.workspace)
        except HistoryError as e:
            raise SourceFailed(str(e)) from e
        measured = [m for m in report.metrics if math.isfinite(m.value)]
        scores = health_metrics(report.health)
        own = automation_metrics(report, ctx.elapsed_s())
        what = (f"{_plural(len(measured), 'metric')}, {_plural(len(scores), 'health score')} and "
                f"{_plural(len(own), 'automation figure')} at {report.generated_at.isoformat()}")
        rows: list[Metric] = [*measured, *scores, *own]
        batch = Batch.of(rows, report.generated_at, repository=report.repository or "")
        waiting = self._waiting(where)
        if ctx.dry_run:
            first = f" (and first the {_plural(len(waiting), 'spooled run')})" if waiting else ""
            log.info("dry run: would store %s in %s%s", what, where, first)
            return [Action(sink=self.name, description=f"would store {what} in the metrics history{first}",
                           performed=False, target=where)]
        actions: list[Action] = []
        try:
            with self._opener(self.target, self.workspace) as store:
                notice = store.upgrade_notice()
                if notice:
                    log.warning("history: %s", notice)
                actions += self._replay(store, waiting, where)
                written = store.write(batch)
        except HistoryError as e:
            reason = self._spool(batch, where, e)
            log.warning("history: %s", reason)
            raise SourceFailed(reason) from e
        return [*actions, Action(sink=self.name, performed=True, target=where,
                                 description=f"stored {what} in the metrics history ({written} rows)")]

    def _waiting(self, where: str) -> list[spool.Spooled]:
        """The spooled runs meant for this store, oldest first (others are left alone, with a warning)."""
        items = spool.pending(self.workspace)
        mine = [s for s in items if s.store == where]
        others = len(items) - len(mine)
        if others:
            log.warning("history: %s in %s meant for another store: left in place",
                        _plural(others, "spooled run"), spool.spool_dir(self.workspace))
        return mine

    def _replay(self, store: HistoryStore, waiting: Sequence[spool.Spooled], where: str) -> list[Action]:
        """Store the spooled runs, oldest first; each file goes once its run is committed."""
        if not waiting:
            return []
        rows = 0
        for item in waiting:
            rows += store.write(item.batch)  # 0 for a run the store holds already
            spool.remove(item)
        log.info("history: stored %s spooled while the store could not be reached (%d rows)",
                 _plural(len(waiting), "run"), rows)
        return [Action(sink=self.name, performed=True, target=where,
                       description=f"stored {_plural(len(waiting), 'run')} spooled while the metrics history "
                                   f"could not be reached ({rows} rows)")]

    def _spool(self, batch: Batch, where: str, error: HistoryError) -> str:
        """Keep the run in the spool; the reason for the report (what failed and where the rows are)."""
        try:
            path = spool.write(self.workspace, batch, where)
        except HistoryError as e:
            return f"{error}; this run's {_plural(len(batch.rows), 'row')} are lost: {e}"
        shown = path.relative_to(self.workspace) if path.is_relative_to(self.workspace) else path
        return (f"{error}; this run's {_plural(len(batch.rows), 'row')} are spooled in {shown} and will be "
                "stored by the next run that reaches the store")
