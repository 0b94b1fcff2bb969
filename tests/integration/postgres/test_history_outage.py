"""Nothing lost when the history store cannot be reached, through the real CLI on a PostgreSQL cluster the test
starts itself: stopped at the start of a run, or cut in the middle of the write by a TCP proxy. The run goes
on and reports; its rows wait in the spool; the next run that reaches the store writes them exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from repo_automation.cli import main
from repo_automation.history.spool import SPOOL_DIR
from tests.pgcluster import Cluster, CuttingProxy, cluster
from tests.sample_repo import write_sample_repo

REPOSITORY = "acme/app"


@pytest.fixture(scope="module")
def pg() -> Iterator[Cluster]:
    with cluster() as c:
        yield c


@pytest.fixture
def db(pg: Cluster) -> Iterator[str]:
    """A fresh database in the test's cluster (the cluster is running again afterwards)."""
    name = f"outage_{abs(hash(object())) % 10**8}"
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg.url().replace("/postgres?", f"/{name}?")
    if not pg.running:
        pg.start()


def run(workspace: Path, url: str, *, config: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    """One `repo-automation metrics --store-db` run; its exit status and its JSON report."""
    args = ["metrics", "-C", str(workspace), "--store-db", "--history-db", url,
            "--output-dir", str(workspace / "reports")]
    if config is not None:
        (workspace / "history-required.json").write_text(json.dumps(config), encoding="utf-8")
        args += ["--config", "history-required.json"]
    status = main(args, env={"GITHUB_REPOSITORY": REPOSITORY})
    report = json.loads((workspace / "reports" / "project-health-report.json").read_text(encoding="utf-8"))
    return status, report


def history_sink(report: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in report["sources"] if s["kind"] == "sink" and s["name"] == "history")


def spooled(workspace: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((workspace / SPOOL_DIR).glob("*.json"))]


def stored(url: str) -> tuple[dict[str, int], dict[str, int]]:
    """Rows per run id in project_metrics, and row_count per run id in the runs ledger."""
    with psycopg.connect(url) as conn:
        rows = dict(conn.execute("SELECT run_id, COUNT(*) FROM project_metrics GROUP BY run_id").fetchall())
        ledger = dict(conn.execute("SELECT run_id, row_count FROM project_metrics_runs").fetchall())
    return rows, ledger


def test_a_store_down_at_the_start_loses_nothing(pg: Cluster, db: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    workspace = write_sample_repo(tmp_path / "ws")
    pg.stop()
    status, report = run(workspace, db)
    log = capsys.readouterr().err
    assert status == 0  # the history is not required: the run passes, and says what happened
    sink = history_sink(report)
    assert sink["status"] == "failed"
    assert "cannot connect to the metrics history" in sink["reason"]
    assert ".repo-automation/history-spool/" in sink["reason"]
    assert any(" WARNING " in line and "history: cannot connect" in line and "spooled" in line
               for line in log.splitlines())
    assert report["metrics"], "the run measured and reported although the store was down"
    [first] = spooled(workspace)
    assert first["repository"] == REPOSITORY and len(first["rows"]) >= 5

    pg.start()
    status, report = run(workspace, db)
    assert status == 0 and history_sink(report)["status"] == "ok"
    assert spooled(workspace) == []
    rows, ledger = stored(db)
    assert len(rows) == 2 and rows[first["run_id"]] == len(first["rows"])
    assert rows == ledger  # every run once, with every one of its rows
    print(f"outage at the start: spooled {len(first['rows'])} rows; after the flush {rows}")

    run(workspace, db)  # a third run: the spooled one is not written again
    again, _ = stored(db)
    assert len(again) == 3 and {k: again[k] for k in rows} == rows


def test_required_history_fails_the_run_after_spooling(pg: Cluster, db: str, tmp_path: Path) -> None:
    workspace = write_sample_repo(tmp_path / "ws")
    pg.stop()
    status, report = run(workspace, db, config={"tracking": {"data_sources": {"history": {"required": True}}}})
    assert status == 1
    assert any(r.startswith("required sink history failed: cannot connect") for r in report["policy"]["reasons"])
    assert len(spooled(workspace)) == 1
    pg.start()
    status, _ = run(workspace, db, config={"tracking": {"data_sources": {"history": {"required": True}}}})
    assert status == 0 and spooled(workspace) == []
    rows, ledger = stored(db)
    assert len(rows) == 2 and rows == ledger


def test_a_connection_cut_in_the_middle_of_the_write_loses_nothing(pg: Cluster, db: str, tmp_path: Path) -> None:
    workspace = write_sample_repo(tmp_path / "ws")
    proxy = CuttingProxy(pg.port)
    try:
        through = db.replace(f":{pg.port}/", f":{proxy.port}/")
        proxy.marker = b"COPY "
        status, report = run(workspace, through)
        assert proxy.cuts == 1, "the proxy cut the connection after the COPY statement"
        assert status == 0
        sink = history_sink(report)
        assert sink["status"] == "failed" and "cannot store this run's metrics" in sink["reason"]
        [first] = spooled(workspace)
        assert stored(db) == ({}, {})  # the transaction never committed: not a row, not a ledger entry

        proxy.marker = None
        status, report = run(workspace, through)
        assert status == 0 and history_sink(report)["status"] == "ok"
        assert spooled(workspace) == []
        rows, ledger = stored(db)
        assert len(rows) == 2 and rows[first["run_id"]] == len(first["rows"]) and rows == ledger
        print(f"connection cut mid-write: spooled {len(first['rows'])} rows; after the flush {rows}")
    finally:
        proxy.close()
