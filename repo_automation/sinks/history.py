"""HistorySink: stores the run's metrics and health scores in the metrics history (settings.store_db).

In a dry run it opens nothing and writes nothing: it returns the Action it would perform. A store that cannot
be opened or written makes the sink fail with the store's own reason (the run itself goes on).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar

from repo_automation.context import RunContext
from repo_automation.domain import Action, Metric, RunReport
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.history import HistoryError, HistoryStore, describe, health_metrics, open_store
from repo_automation.stages import Sink

log = logging.getLogger(__name__)

Opener = Callable[[str, Path], HistoryStore]


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
            raise SourceSkipped("store-db is off: this run is not added to the metrics history")
        try:
            where = describe(self.target, self.workspace)
        except HistoryError as e:
            raise SourceFailed(str(e)) from e
        measured = [m for m in report.metrics if math.isfinite(m.value)]
        scores = health_metrics(report.health)
        what = (f"{len(measured)} metric{'s' if len(measured) != 1 else ''} and {len(scores)} health "
                f"score{'s' if len(scores) != 1 else ''} at {report.generated_at.isoformat()}")
        if ctx.dry_run:
            log.info("dry run: would store %s in %s", what, where)
            return [Action(sink=self.name, description=f"would store {what} in the metrics history",
                           performed=False, target=where)]
        rows: list[Metric] = [*measured, *scores]
        try:
            with self._opener(self.target, self.workspace) as store:
                written = store.record(rows, report.generated_at, repository=report.repository or "")
        except HistoryError as e:
            raise SourceFailed(str(e)) from e
        return [Action(sink=self.name, description=f"stored {what} in the metrics history ({written} rows)",
                       performed=True, target=where)]
