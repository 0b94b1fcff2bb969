"""The dashboard writer: the page in the output folder, drawn from the report and what the history holds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from repo_automation.domain import Metric
from repo_automation.history import open_store
from repo_automation.sinks.dashboard import DASHBOARD_PAGE, DashboardWriter
from repo_automation.wiring import _writers
from tests.reports import NOW, rich_report
from tests.unit.conftest import context


def test_the_page_draws_the_stored_runs_of_this_repository_only(tmp_path: Path) -> None:
    report = rich_report()
    with open_store(".repo-automation/history.sqlite", tmp_path) as store:
        for day in range(5):
            at = NOW - timedelta(days=5 - day)
            store.record([Metric(name="health.overall", value=50.0 + day, source="health")], at,
                         repository=report.repository or "")
            store.record([Metric(name="health.overall", value=1.0, source="health")], at, repository="other/repo")
    ctx = context(tmp_path, dashboard=True, dry_run=True)
    writer = DashboardWriter.from_context(ctx)
    series, problem = writer.history(report)
    assert problem == ""
    assert [v for _, v in series["health.overall"]] == [50.0, 51.0, 52.0, 53.0, 54.0]  # not other/repo's
    (action,) = writer.deliver(report, ctx)  # a dry run writes it too: the output folder is the run's product
    assert action.performed and action.target == f"reports/{DASHBOARD_PAGE.as_posix()}"
    page = (tmp_path / "reports" / DASHBOARD_PAGE).read_text(encoding="utf-8")
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_a_history_that_cannot_be_read_still_gives_the_page_and_says_why(tmp_path: Path) -> None:
    ctx = context(tmp_path, history_db="mysql://db.example/metrics")
    (action,) = DashboardWriter.from_context(ctx).deliver(rich_report(), ctx)
    assert "without history" in action.description and "mysql" in action.description
    assert (tmp_path / "reports" / DASHBOARD_PAGE).is_file()


def test_the_writer_runs_only_when_asked_for_and_alone_for_the_dashboard_command(tmp_path: Path) -> None:
    assert "dashboard" not in [w.name for w in _writers(context(tmp_path))]
    assert [w.name for w in _writers(context(tmp_path, dashboard=True))] == [
        "reports", "sarif", "dashboard", "action-outputs"]
    assert [w.name for w in _writers(context(tmp_path, command="dashboard"))] == ["dashboard"]
