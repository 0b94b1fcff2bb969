"""The history store, the same tests on SQLite and on the real PostgreSQL: three recorded runs, then the
deltas and the trend worked out by hand."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from repo_automation.domain import CategoryScore, Health, History, Metric, MetricChange, TrendPoint
from repo_automation.errors import RepoAutomationError
from repo_automation.history import (
    HistoryError,
    build_history,
    health_metrics,
    open_store,
    read_history,
)
from tests.postgres import in_threads

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
T1, T2, T3 = NOW - timedelta(days=40), NOW - timedelta(days=29), NOW - timedelta(days=1)


def m(name: str, value: float, source: str = "git", **metadata: Any) -> Metric:
    return Metric(name=name, value=value, source=source, metadata=metadata)


def raw_rows(target: str, workspace: Path) -> list[tuple[Any, ...]]:
    sql = ("SELECT timestamp, metric_name, metric_value, metric_metadata, source FROM project_metrics "
           "ORDER BY timestamp, id")
    if target.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(target, connect_timeout=10) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
    with sqlite3.connect(workspace / target) as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]


def index_names(target: str, workspace: Path) -> set[str]:
    if target.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(target, connect_timeout=10) as conn:
            rows = conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'project_metrics' "
                                "AND schemaname = current_schema()").fetchall()
    else:
        with sqlite3.connect(workspace / target) as conn:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                                "AND tbl_name = 'project_metrics'").fetchall()
    return {r[0] for r in rows}


def record_three_runs(target: str, workspace: Path) -> None:
    runs = [
        (T1, [m("git.commits_per_week", 2.0, series=[1, 3]), m("security.high_vulnerabilities", 2, "pip-audit"),
              m("health.overall", 60.0, "health")]),
        (T2, [m("git.commits_per_week", 3.0), m("health.overall", 70.0, "health")]),
        (T3, [m("git.commits_per_week", 5.0), m("health.overall", 75.0, "health")]),
    ]
    for when, metrics in runs:
        with open_store(target, workspace) as store:
            assert store.record(metrics, when) == len(metrics)


def test_three_runs_give_deltas_and_trend_by_hand(store_target: str, tmp_path: Path) -> None:
    record_three_runs(store_target, tmp_path)
    current = [m("git.commits_per_week", 4.0), m("security.high_vulnerabilities", 0, "pip-audit"),
               m("git.contributors_total", 7), m("health.overall", 80.0, "health")]
    with open_store(store_target, tmp_path, readonly=True) as store:
        history = build_history(store, current, NOW)

    changes = {c.name: c for c in history.changes}
    # previous run: T3 (5); 30 days ago: T2 (29 days ago, 1 day off); T1 (40 days ago) is 10 days off the mark
    assert changes["git.commits_per_week"] == MetricChange(
        name="git.commits_per_week", value=4.0, previous=5.0, delta_previous=-1.0,
        thirty_days_ago=3.0, delta_30d=1.0)
    # only measured in the first run: that is its previous value, but nothing lies within 30 days ± 7
    assert changes["security.high_vulnerabilities"] == MetricChange(
        name="security.high_vulnerabilities", value=0, previous=2.0, delta_previous=-2.0,
        thirty_days_ago=None, delta_30d=None)
    assert changes["git.contributors_total"].previous is None
    assert changes["git.contributors_total"].delta_30d is None
    assert changes["health.overall"].delta_previous == 5.0
    assert history.trend == (
        TrendPoint(timestamp=T1, overall=60.0), TrendPoint(timestamp=T2, overall=70.0),
        TrendPoint(timestamp=T3, overall=75.0), TrendPoint(timestamp=NOW, overall=80.0),
    )


def test_the_table_holds_what_was_recorded(store_target: str, tmp_path: Path) -> None:
    record_three_runs(store_target, tmp_path)
    rows = raw_rows(store_target, tmp_path)
    assert len(rows) == 7
    ts, name, value, metadata, source = rows[0]
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts)
    assert ts == T1
    assert name == "git.commits_per_week"
    assert value == 2.0
    assert (json.loads(metadata) if isinstance(metadata, str) else metadata) == {"series": [1, 3]}
    assert source == "git"
    assert {"idx_project_metrics_timestamp", "idx_project_metrics_name",
            "idx_project_metrics_source", "idx_project_metrics_repository"} <= index_names(store_target, tmp_path)


def test_repositories_sharing_one_store_see_only_their_own_runs(store_target: str, tmp_path: Path) -> None:
    # an organisation's matrix: api and web write to one store, on alternate days, with very different numbers
    with open_store(store_target, tmp_path) as store:
        store.record([m("git.commits_per_week", 50.0), m("health.overall", 90.0, "health")], T1,
                     repository="acme/api")
        store.record([m("git.commits_per_week", 2.0), m("health.overall", 40.0, "health")], T2,
                     repository="acme/web")
        store.record([m("git.commits_per_week", 55.0), m("health.overall", 92.0, "health")], T3 - timedelta(hours=1),
                     repository="acme/api")
        store.record([m("git.commits_per_week", 3.0), m("health.overall", 45.0, "health")], T3,
                     repository="acme/web")
        current = [m("git.commits_per_week", 60.0), m("health.overall", 95.0, "health")]
        api = build_history(store, current, NOW, repository="acme/api")
        web = build_history(store, current, NOW, repository="acme/web")
        new = build_history(store, current, NOW, repository="acme/new")
    api_change = {c.name: c for c in api.changes}["git.commits_per_week"]
    # api's previous run is its own (55, an hour before web's last run), never web's 3; 30 days ago is web's
    # T2 for the whole store, but api has no run within 30 days ± 7, so there is no 30-day comparison
    assert (api_change.previous, api_change.delta_previous) == (55.0, 5.0)
    assert api_change.thirty_days_ago is None
    assert [p.overall for p in api.trend] == [90.0, 92.0, 95.0]
    web_change = {c.name: c for c in web.changes}["git.commits_per_week"]
    assert (web_change.previous, web_change.thirty_days_ago) == (3.0, 2.0)
    assert [p.overall for p in web.trend] == [40.0, 45.0, 95.0]
    assert all(c.previous is None for c in new.changes) and [p.overall for p in new.trend] == [95.0]
    metadata = raw_rows(store_target, tmp_path)[0][3]
    assert (json.loads(metadata) if isinstance(metadata, str) else metadata) == {"repository": "acme/api"}


def test_rows_from_before_the_repository_scope_are_read_by_every_repository(store_target: str,
                                                                           tmp_path: Path) -> None:
    with open_store(store_target, tmp_path) as store:
        store.record([m("git.commits_per_week", 7.0)], T2)  # stored without a repository (an older version)
        store.record([m("git.commits_per_week", 9.0)], T3, repository="acme/other")
        mine = build_history(store, [m("git.commits_per_week", 8.0)], NOW, repository="acme/api")
    change = mine.changes[0]
    assert (change.previous, change.thirty_days_ago) == (7.0, 7.0)  # the unscoped row, never acme/other's 9


def test_the_trend_keeps_the_last_thirty_runs(store_target: str, tmp_path: Path) -> None:
    with open_store(store_target, tmp_path) as store:
        for day in range(35, 0, -1):  # 35 daily runs, scores 1 … 35
            store.record([m("health.overall", 36 - day, "health")], NOW - timedelta(days=day))
        history = build_history(store, [m("health.overall", 99.0, "health")], NOW)
        without_own = build_history(store, [m("git.commits_per_week", 1.0)], NOW)
    assert len(history.trend) == 30
    assert [p.overall for p in history.trend] == [*[float(v) for v in range(7, 36)], 99.0]
    assert history.trend[0].timestamp == NOW - timedelta(days=29)
    assert [p.overall for p in without_own.trend] == [float(v) for v in range(6, 36)]


def test_thirty_days_ago_is_the_nearest_run_and_the_earlier_on_a_tie(store_target: str, tmp_path: Path) -> None:
    with open_store(store_target, tmp_path) as store:
        store.record([m("x.y", 1.0)], NOW - timedelta(days=32))
        store.record([m("x.y", 2.0)], NOW - timedelta(days=28))
        store.record([m("x.y", 3.0)], NOW - timedelta(days=27))
        tie = build_history(store, [m("x.y", 10.0)], NOW).changes[0]
        store.record([m("x.y", 4.0)], NOW - timedelta(days=30, hours=1))
        near = build_history(store, [m("x.y", 10.0)], NOW).changes[0]
    assert (tie.thirty_days_ago, tie.delta_30d, tie.previous) == (1.0, 9.0, 3.0)
    assert (near.thirty_days_ago, near.delta_30d) == (4.0, 6.0)


def test_values_that_are_not_numbers_are_not_stored(store_target: str, tmp_path: Path) -> None:
    with open_store(store_target, tmp_path) as store:
        assert store.record([m("a.b", float("nan")), m("a.c", float("inf")), m("a.d", 1.5)], NOW) == 1
    assert [r[1] for r in raw_rows(store_target, tmp_path)] == ["a.d"]


def test_health_is_stored_as_metrics() -> None:
    health = Health(overall=72.5, grade="C", categories={
        "security": CategoryScore(name="security", score=90.0, inputs={}),
        "activity": CategoryScore(name="activity", score=None, inputs={}, missing=("git.commits_per_week",)),
        "quality": CategoryScore(name="quality", score=55.0, inputs={}, missing=("code_quality.coverage",)),
    })
    got = health_metrics(health)
    assert [(x.name, x.value, x.source) for x in got] == [
        ("health.overall", 72.5, "health"), ("health.quality", 55.0, "health"), ("health.security", 90.0, "health")]
    assert got[0].metadata == {"grade": "C"}
    assert got[1].metadata == {"missing": ["code_quality.coverage"]}
    assert health_metrics(Health(overall=None, grade=None, categories={})) == []


def test_reading_a_store_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    history = read_history("never/written.sqlite", tmp_path, [m("git.commits_per_week", 1.0)], NOW)
    assert history == History(changes=(MetricChange(
        name="git.commits_per_week", value=1.0, previous=None, delta_previous=None,
        thirty_days_ago=None, delta_30d=None),), trend=())
    assert not (tmp_path / "never").exists()


def test_reading_a_postgres_schema_without_the_table_creates_nothing(pg_url: str, tmp_path: Path) -> None:
    url = pg_url
    health = Health(overall=50.0, grade="D", categories={})
    history = read_history(url, tmp_path, [], NOW, health=health)
    assert history.trend == (TrendPoint(timestamp=NOW, overall=50.0),)
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as conn:
        assert conn.execute("SELECT to_regclass('project_metrics')").fetchone() == (None,)


def test_read_history_with_health_compares_the_scores_too(store_target: str, tmp_path: Path) -> None:
    record_three_runs(store_target, tmp_path)
    health = Health(overall=81.0, grade="B", categories={})
    history = read_history(store_target, tmp_path, [m("git.commits_per_week", 4.0)], NOW, health=health)
    assert [c.name for c in history.changes] == ["git.commits_per_week", "health.overall"]
    assert history.changes[1].delta_previous == 6.0
    assert history.trend[-1] == TrendPoint(timestamp=NOW, overall=81.0)


def test_a_server_that_is_down_is_a_clear_error(unused_port: int, tmp_path: Path) -> None:
    url = f"postgresql://metrics:s3cret-pass@127.0.0.1:{unused_port}/test"
    with pytest.raises(HistoryError) as exc:
        open_store(url, tmp_path)
    message = exc.value.diagnostics()
    assert isinstance(exc.value, RepoAutomationError)
    assert message.startswith(f"cannot connect to the metrics history postgresql://metrics:***@127.0.0.1:{unused_port}")
    assert "Connection refused" in message
    assert "s3cret-pass" not in message
    with pytest.raises(HistoryError, match="cannot connect"):
        read_history(url, tmp_path, [], NOW)


@pytest.mark.parametrize(("target", "expected"), [
    ("mysql://root@127.0.0.1/metrics", "unsupported URL scheme 'mysql'"),
    ("   ", "history-db is empty"),
])
def test_targets_that_are_not_a_store_are_clear_errors(target: str, expected: str, tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match=expected):
        open_store(target, tmp_path)


def test_a_folder_or_a_file_that_is_not_sqlite_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "folder.sqlite").mkdir()
    with pytest.raises(HistoryError, match="is a folder"):
        open_store("folder.sqlite", tmp_path)
    (tmp_path / "notes.txt").write_text("these are notes, not a database " * 40)
    for readonly in (False, True):
        with pytest.raises(HistoryError, match="not a database"):
            open_store("notes.txt", tmp_path, readonly=readonly)


def test_a_table_of_another_shape_is_a_clear_error(pg_url: str, tmp_path: Path) -> None:
    import psycopg

    url = pg_url
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("CREATE TABLE project_metrics (id serial, name text, value float)")
    expected = (r"cannot use the existing project_metrics table, whose columns are not \(id, timestamp, .*\): "
                r"column \"timestamp\" does not exist")
    with pytest.raises(HistoryError, match=expected):
        open_store(url, tmp_path)
    with pytest.raises(HistoryError, match="existing project_metrics table"):
        read_history(url, tmp_path, [], NOW)


def test_sqlite_paths_resolve_against_the_workspace(tmp_path: Path) -> None:
    with open_store("a/b/h.sqlite", tmp_path) as store:
        assert store.target == str(tmp_path / "a/b/h.sqlite")
    assert (tmp_path / "a/b/h.sqlite").is_file()
    absolute = tmp_path / "abs.sqlite"
    with open_store(f"sqlite:///{absolute}", Path("/nonexistent")) as store:
        assert store.target == str(absolute)


def test_jobs_sharing_one_postgres_create_the_table_once(pg_url: str, tmp_path: Path) -> None:
    url = pg_url

    def job(i: int) -> None:
        with open_store(url, tmp_path) as store:
            store.record([m("git.commits_per_week", float(i))], NOW)

    assert in_threads(job, 4) == []
    assert sorted(r[2] for r in raw_rows(url, tmp_path)) == [0.0, 1.0, 2.0, 3.0]
