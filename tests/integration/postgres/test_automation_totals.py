"""The automation's counters are totals over the runs the history holds (SQLite and the real PostgreSQL): the
history sink stores each run's duration and the changes the sinks before it made, and the Pushgateway sink's
textfile carries the sums, whatever one run did."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

from prometheus_client.parser import text_string_to_metric_families

from repo_automation.context import RunContext
from repo_automation.domain import Action, ChangeKind, Health, Metric, RunReport
from repo_automation.history import open_store
from repo_automation.history.automation import read_totals
from repo_automation.pipeline import Stages, deliver
from repo_automation.sinks.history import HistorySink
from repo_automation.sinks.pushgateway import PushgatewaySink
from repo_automation.stages import Sink
from tests.helpers import FIXED_NOW, make_context

REPOSITORY = "acme/app"
CONFIG = {"integrations": {"pushgateway": {"textfile": "metrics/repo_automation.prom"}}}


class ChangesMade(Sink):
    """A sink that made these changes (as the issue and pull-request sinks report theirs)."""

    name: ClassVar[str] = "changes"

    def __init__(self, *changes: tuple[ChangeKind, bool]) -> None:
        self.changes = changes

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        return [Action(sink=self.name, description=f"{kind} ({done})", performed=done, change=kind)
                for kind, done in self.changes]


def run(workspace: Path, target: str, when_days: int, *changes: tuple[ChangeKind, bool],
        dry_run: bool = False) -> RunReport:
    when = FIXED_NOW + timedelta(days=when_days)
    ctx = make_context(workspace, config=CONFIG, env={"GITHUB_REPOSITORY": REPOSITORY}, store_db=True,
                       history_db=target, now=when, dry_run=dry_run)
    report = RunReport(schema_version="1.1", repository=REPOSITORY, generated_at=when, dry_run=dry_run,
                       health=Health(overall=70.0, grade="C", categories={}),
                       metrics=(Metric(name="git.commits_per_week", value=3.0, source="git"),))
    sinks = [ChangesMade(*changes), HistorySink.from_context(ctx), PushgatewaySink.from_context(ctx)]
    return deliver(report, Stages(sinks=sinks), ctx)


def textfile(workspace: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = (workspace / "metrics" / "repo_automation.prom").read_text(encoding="utf-8")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_counters_are_totals_over_the_stored_runs(tmp_path: Path, store_target: str) -> None:
    first = run(tmp_path, store_target, 0, (ChangeKind.ISSUE_CREATED, True), (ChangeKind.ISSUE_CREATED, True),
                (ChangeKind.DEPENDENCY_PULL_REQUEST, True))
    assert all(s.status.value == "ok" for s in first.sources), first.sources
    after_one = textfile(tmp_path)
    repo = (("repository", REPOSITORY),)
    assert after_one[("automation_runs_total", repo)] == 1
    assert after_one[("automation_issues_created_total", repo)] == 2

    run(tmp_path, store_target, 1, (ChangeKind.ISSUE_CREATED, True), (ChangeKind.ISSUE_UPDATED, False))
    run(tmp_path, store_target, 2)  # a run that changed nothing still counts as a run
    got = textfile(tmp_path)
    assert got[("automation_runs_total", repo)] == 3
    assert got[("automation_issues_created_total", repo)] == 3  # the update that was not performed: not counted
    changes = {dict(labels)["type"]: v for (name, labels), v in got.items() if name == "automation_changes_total"}
    assert changes == {kind.value: 0.0 for kind in ChangeKind} | {"issue_created": 3.0,
                                                                  "dependency_pull_request": 1.0}
    assert got[("automation_duration_seconds_count", repo)] == 3
    assert got[("automation_duration_seconds_bucket", (("le", "+Inf"), *repo))] == 3
    assert got[("project_health_score", (("category", "overall"), *repo))] == 70.0
    assert got[("repo_automation_git_commits_per_week", (*repo, ("source", "git")))] == 3.0

    with open_store(store_target, tmp_path, readonly=True) as store:
        totals = read_totals(store, REPOSITORY)
        other = read_totals(store, "acme/other")
    assert totals.runs == 3 and len(totals.durations) == 3 and all(d >= 0 for d in totals.durations)
    assert other.runs == 0 and other.changes == {}  # another repository's runs are not counted


def test_a_dry_run_stores_and_writes_nothing(tmp_path: Path, store_target: str) -> None:
    final = run(tmp_path, store_target, 0, (ChangeKind.ISSUE_CREATED, False), dry_run=True)
    pushed = [a for a in final.actions if a.sink == "pushgateway"]
    assert [a.performed for a in pushed] == [False]
    assert pushed[0].description.startswith("would write ") and pushed[0].target is not None
    assert not (tmp_path / "metrics").exists()
    with open_store(store_target, tmp_path, readonly=True) as store:
        assert read_totals(store, REPOSITORY).runs == 0
