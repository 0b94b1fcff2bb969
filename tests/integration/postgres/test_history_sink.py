"""HistorySink through the pipeline's deliver(): stores the run when store-db is on, only describes it in a
dry run, and turns a store that is down into a failed sink with the reason."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from repo_automation.domain import CategoryScore, Health, Metric, RunReport, Status
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.history import Batch, describe, open_store, read_history, spool
from repo_automation.pipeline import Stages, deliver
from repo_automation.sinks.history import HistorySink
from tests.helpers import FIXED_NOW, make_context


def report(now: datetime = FIXED_NOW, overall: float = 77.0) -> RunReport:
    return RunReport(
        schema_version="1.0", repository="octo/repo", generated_at=now, dry_run=False,
        health=Health(overall=overall, grade="C", categories={
            "security": CategoryScore(name="security", score=100.0, inputs={"security.vulnerabilities": 0}),
            "quality": CategoryScore(name="quality", score=None, inputs={}, missing=("code_quality.coverage",)),
        }),
        metrics=(
            Metric(name="git.commits_per_week", value=4.5, source="git", metadata={"weeks": 12}),
            Metric(name="security.vulnerabilities", value=0, source="pip-audit"),
            Metric(name="code_quality.coverage", value=float("nan"), source="coverage"),
        ),
    )


def test_a_stored_run_is_read_back_as_the_previous_run(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, store_db=True, history_db="db/history.sqlite")
    final = deliver(report(), Stages(sinks=[HistorySink.from_context(ctx)]), ctx)

    [action] = final.actions
    assert action.performed is True
    assert action.sink == "history"
    assert action.target == str(tmp_path / "db/history.sqlite")
    assert action.description == ("stored 2 metrics, 2 health scores and 1 automation figure at "
                                  "2026-11-29T12:00:00+00:00 in the metrics history (5 rows)")
    assert [s.status for s in final.sources] == [Status.OK]
    with sqlite3.connect(tmp_path / "db/history.sqlite") as conn:
        names = [r[0] for r in conn.execute("SELECT metric_name FROM project_metrics ORDER BY id")]
    assert names == ["git.commits_per_week", "security.vulnerabilities", "health.overall", "health.security",
                     "automation.duration_seconds"]

    later = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    history = read_history("db/history.sqlite", tmp_path,
                           [Metric(name="git.commits_per_week", value=6.0, source="git")], later,
                           health=Health(overall=80.0, grade="B", categories={}), repository="octo/repo")
    assert history.changes[0].previous == 4.5
    assert history.changes[0].delta_previous == 1.5
    assert [(p.timestamp, p.overall) for p in history.trend] == [(FIXED_NOW, 77.0), (later, 80.0)]


def test_a_dry_run_writes_nothing_and_says_what_it_would_store(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, store_db=True, dry_run=True)
    [action] = HistorySink.from_context(ctx).deliver(report(), ctx)
    assert action.performed is False
    assert action.description == ("would store 2 metrics, 2 health scores and 1 automation figure at "
                                  "2026-11-29T12:00:00+00:00 in the metrics history")
    assert action.target == str(tmp_path / ".repo-automation/history.sqlite")
    assert list(tmp_path.iterdir()) == []


def test_store_db_off_skips_the_sink(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    with pytest.raises(SourceSkipped, match="store-db is off"):
        HistorySink.from_context(ctx).deliver(report(), ctx)
    assert list(tmp_path.iterdir()) == []


def test_a_store_that_is_down_fails_the_sink_with_the_reason(tmp_path: Path, unused_port: int) -> None:
    url = f"postgresql://postgres:pw-1234@127.0.0.1:{unused_port}/test"
    ctx = make_context(tmp_path, store_db=True, history_db=url)
    final = deliver(report(), Stages(sinks=[HistorySink.from_context(ctx)]), ctx)
    [source] = final.sources
    assert source.status is Status.FAILED
    assert source.reason.startswith(f"cannot connect to the metrics history postgresql://postgres:***@127.0.0.1:"
                                    f"{unused_port}/test")
    assert "pw-1234" not in source.reason
    assert final.actions == ()


def test_an_unsupported_store_fails_the_sink(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, store_db=True, history_db="redis://127.0.0.1:6379/0")
    with pytest.raises(SourceFailed, match="unsupported URL scheme 'redis'"):
        HistorySink.from_context(ctx).deliver(report(), ctx)


def test_postgres_store_receives_the_run(pg_url: str, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, store_db=True, history_db=pg_url)
    [action] = HistorySink.from_context(ctx).deliver(report(), ctx)
    assert action.performed is True
    names, later = ["health.overall", "health.security"], datetime(2027, 1, 1, tzinfo=UTC)
    with open_store(pg_url, tmp_path, readonly=True) as store:
        latest = store.latest_before(names, later, repository="octo/repo")
        other = store.latest_before(names, later, repository="octo/other")
    assert {k: (v.timestamp, v.value) for k, v in latest.items()} == {
        "health.overall": (FIXED_NOW, 77.0), "health.security": (FIXED_NOW, 100.0)}
    assert other == {}  # the run is octo/repo's: another repository sharing the store does not see it


def test_a_dry_run_with_spooled_runs_says_so_and_writes_nothing(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, store_db=True, dry_run=True)
    where = describe(ctx.settings.history_db, tmp_path)
    waiting = spool.write(tmp_path, Batch.of([Metric(name="a.b", value=1.0, source="git")], FIXED_NOW), where)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    [action] = HistorySink.from_context(ctx).deliver(report(), ctx)
    assert action.performed is False
    assert action.description.endswith("in the metrics history (and first the 1 spooled run)")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # no store, no new spool
    assert waiting.is_file()


def test_spooled_runs_go_only_to_the_store_they_were_meant_for(tmp_path: Path) -> None:
    mine = Batch.of([Metric(name="a.b", value=1.0, source="git")], FIXED_NOW, repository="octo/repo")
    spool.write(tmp_path, mine, str(tmp_path / "db/history.sqlite"))
    other = spool.write(tmp_path, Batch.of([Metric(name="a.b", value=2.0, source="git")], FIXED_NOW),
                        "postgresql://metrics@db.example:5432/metrics")
    ctx = make_context(tmp_path, store_db=True, history_db="db/history.sqlite")
    final = deliver(report(), Stages(sinks=[HistorySink.from_context(ctx)]), ctx)
    assert final.actions[0].description == (
        "stored 1 run spooled while the metrics history could not be reached (1 rows)")
    assert [p.name for p in spool.spool_dir(tmp_path).iterdir()] == [other.name]
    with sqlite3.connect(tmp_path / "db/history.sqlite") as conn:
        runs = conn.execute("SELECT run_id, row_count FROM project_metrics_runs ORDER BY timestamp").fetchall()
    assert len(runs) == 2 and (mine.run_id, 1) in runs


def test_a_replayed_batch_is_stored_once_on_sqlite(tmp_path: Path) -> None:
    batch = Batch.of([Metric(name="a.b", value=1.0, source="git")], FIXED_NOW)
    with open_store("h.sqlite", tmp_path) as store:
        assert (store.write(batch), store.write(batch)) == (1, 0)


def test_a_spooled_run_keeps_odd_metadata_and_never_the_password(tmp_path: Path, unused_port: int) -> None:
    url = f"postgresql://metrics:pw-5a9e@127.0.0.1:{unused_port}/test"
    ctx = make_context(tmp_path, store_db=True, history_db=url)
    odd = dataclasses.replace(report(), metrics=(
        Metric(name="git.last_tag", value=1.0, source="git", metadata={"when": FIXED_NOW, "tags": ("v1",)}),))
    final = deliver(odd, Stages(sinks=[HistorySink.from_context(ctx)]), ctx)
    assert final.sources[0].status is Status.FAILED
    [item] = spool.pending(tmp_path)
    text = item.path.read_text(encoding="utf-8")
    assert "pw-5a9e" not in text and item.store == f"postgresql://metrics:***@127.0.0.1:{unused_port}/test"
    assert item.batch.rows[0].metadata == {"when": FIXED_NOW.isoformat(sep=" "), "tags": ["v1"],
                                           "repository": "octo/repo"}
