"""The dashboard's SQL panels on the guide's own `project_metrics` table (schema version 1, as its DDL makes
it: no run ids, no ledger, DECIMAL values, nullable metadata), written by real runs of the history sink: every
query runs and returns rows, and the totals count its runs by their timestamps."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import psycopg

from devtools.grafana_dashboards import POSTGRES
from repo_automation.cli import main
from repo_automation.domain import Health, Metric, RunReport
from repo_automation.history import open_store
from repo_automation.history.automation import read_totals
from repo_automation.pipeline import Stages, deliver
from repo_automation.sinks.history import HistorySink
from tests.grafana_panels import sql, targets
from tests.helpers import FIXED_NOW, make_context
from tests.integration.postgres.test_history_migrate import GUIDE_DDL

REPOSITORY = "acme/app"


def store_run(url: str, workspace: Path, day: int) -> None:
    when = FIXED_NOW + timedelta(days=day)
    ctx = make_context(workspace, env={"GITHUB_REPOSITORY": REPOSITORY}, store_db=True, history_db=url, now=when)
    report = RunReport(schema_version="1.1", repository=REPOSITORY, generated_at=when, dry_run=False,
                       health=Health(overall=60.0 + day, grade="D", categories={}),
                       metrics=(Metric(name="git.commits_per_week", value=2.0, source="git"),))
    final = deliver(report, Stages(sinks=[HistorySink.from_context(ctx)]), ctx)
    assert [a.performed for a in final.actions] == [True]


def guide_table(url: str, workspace: Path, runs: int) -> None:
    with psycopg.connect(url) as conn:
        for statement in GUIDE_DDL:
            conn.execute(statement)
    for day in range(runs):
        store_run(url, workspace, day)


def test_every_sql_panel_runs_on_the_guides_table(pg_url: str, tmp_path: Path) -> None:
    guide_table(pg_url, tmp_path, 3)

    queries = targets(POSTGRES)
    assert len(queries) >= 3
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT relkind FROM pg_class WHERE oid = 'project_metrics'::regclass"
                            ).fetchone() == ("r",)  # still the plain table: nothing migrated it
        for title, target in queries:
            rows = conn.execute(sql(target["rawSql"], REPOSITORY, FIXED_NOW - timedelta(days=1),
                                    FIXED_NOW + timedelta(days=3))).fetchall()
            assert rows, f"{title}: no rows"
            if title == "Stored runs":
                assert [float(r[2]) for r in rows] == [62.0, 61.0, 60.0]  # newest first, health per run
    with open_store(pg_url, tmp_path, readonly=True) as store:
        assert store.version() == 1
        assert read_totals(store, REPOSITORY).runs == 3


def test_runs_from_before_a_migration_are_still_counted(pg_url: str, tmp_path: Path) -> None:
    """After `history migrate`, the old runs have no run id and no ledger entry; the new ones have both."""
    guide_table(pg_url, tmp_path, 2)
    assert main(["history", "migrate", "-C", str(tmp_path), "--history-db", pg_url], env={}) == 0
    store_run(pg_url, tmp_path, 5)
    with open_store(pg_url, tmp_path, readonly=True) as store:
        assert store.version() == 2
        totals = read_totals(store, REPOSITORY)
    assert totals.runs == 3 and len(totals.durations) == 3
