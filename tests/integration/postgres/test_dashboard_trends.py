"""What the dashboard draws, read from SQLite and from a real PostgreSQL: each metric's values over the last
90 days of this repository (and the unscoped rows), and each repository's overall score for the roll-up page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from repo_automation.domain import Metric
from repo_automation.history import open_store
from repo_automation.history.trends import TREND_DAYS, metric_trends, overall_trends

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _seed(target: str, workspace: Path) -> None:
    with open_store(target, workspace) as store:
        for days_ago in (120, 60, 30, 1):
            at = NOW - timedelta(days=days_ago)
            for repo, base in (("octo/a", 50.0), ("octo/b", 70.0)):
                store.record([Metric(name="health.overall", value=base + days_ago, source="health"),
                              Metric(name="git.commits_per_week", value=float(days_ago), source="git")],
                             at, repository=repo)
        store.record([Metric(name="git.commits_per_week", value=-1.0, source="git")], NOW - timedelta(days=2))


def test_the_dashboard_reads_this_repositorys_last_ninety_days(store_target: str, tmp_path: Path) -> None:
    _seed(store_target, tmp_path)
    with open_store(store_target, tmp_path, readonly=True) as store:
        got = metric_trends(store, ["health.overall", "git.commits_per_week", "never.stored"], NOW,
                            repository="octo/a")
        assert [v for _, v in got["health.overall"]] == [110.0, 80.0, 51.0]  # 120 days ago is outside
        assert [v for _, v in got["git.commits_per_week"]] == [60.0, 30.0, -1.0, 1.0]  # the unscoped row too
        assert "never.stored" not in got
        assert all(NOW - timedelta(days=TREND_DAYS) <= t <= NOW for t, _ in got["health.overall"])
        trends = overall_trends(store, ["octo/a", "octo/b"], NOW)
        assert [v for _, v in trends["octo/b"]] == [130.0, 100.0, 71.0]


def test_a_store_without_runs_reads_as_empty(tmp_path: Path) -> None:
    with open_store("never.sqlite", tmp_path, readonly=True) as store:
        assert metric_trends(store, ["health.overall"], NOW) == {}
    assert not (tmp_path / "never.sqlite").exists()
