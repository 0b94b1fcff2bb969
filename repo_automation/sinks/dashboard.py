"""The health dashboard page: `dashboard/index.html` in the output folder, from the RunReport and the stored
history (report/dashboard.py draws it; history/trends.py reads the values over time).

A writer, like the report files: the output folder is the run's product, so it writes in dry runs too. The
store is opened read-only; one that cannot be read gives a page without history and says so in the Action.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from pathlib import Path

from repo_automation.context import RunContext
from repo_automation.domain import Action, RunReport
from repo_automation.errors import SourceFailed
from repo_automation.fileio import write_atomic
from repo_automation.history import HistoryError, open_store
from repo_automation.history.trends import Series, metric_trends
from repo_automation.redaction import redact
from repo_automation.report.dashboard import OVERALL, SEVERITY_METRICS, render_dashboard
from repo_automation.sinks.files import RENDERED_FORMS, display_path
from repo_automation.stages import Sink

log = logging.getLogger(__name__)

DASHBOARD_PAGE = Path("dashboard") / "index.html"


def dashboard_names(report: RunReport) -> list[str]:
    """Every series the page draws: the scores, the findings by severity and each metric of this run."""
    return [OVERALL, *(f"health.{c}" for c in report.health.categories), *SEVERITY_METRICS.values(),
            *(m.name for m in report.metrics)]


class DashboardWriter(Sink):
    name = "dashboard"

    def __init__(self, *, output_dir: Path, workspace: Path, history_db: str,
                 secrets: Collection[str] = ()) -> None:
        self.output_dir = output_dir
        self.workspace = workspace
        self.history_db = history_db
        self.secrets = secrets

    @classmethod
    def from_context(cls, ctx: RunContext) -> DashboardWriter:
        s = ctx.settings
        return cls(output_dir=s.resolve(s.output_dir),
                   workspace=ctx.workspace, history_db=s.history_db, secrets=ctx.secrets)

    def history(self, report: RunReport) -> tuple[Series, str]:
        """The stored values to draw, and what went wrong reading them (empty when nothing did)."""
        try:
            with open_store(self.history_db, self.workspace, readonly=True) as store:
                return metric_trends(store, dashboard_names(report), report.generated_at,
                                     repository=report.repository or ""), ""
        except HistoryError as e:
            return {}, str(e)

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        series, problem = self.history(report)
        page = redact(render_dashboard(report, series), self.secrets, forms=RENDERED_FORMS)
        path = self.output_dir / DASHBOARD_PAGE
        try:
            write_atomic(path, page)
        except OSError as e:
            raise SourceFailed(f"cannot write {path}: {e.strerror or e}") from e
        shown = display_path(path, self.workspace)
        log.info("wrote the health dashboard: %s", shown)
        what = "wrote the health dashboard" + (f" without history ({problem})" if problem else "")
        return [Action(sink=self.name, description=what, performed=True, target=shown)]
