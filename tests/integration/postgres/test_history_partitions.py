"""Monthly partitions on the real PostgreSQL: made on the first run, the next month's made ahead of need as the
run's clock crosses a month, stragglers in the default partition moved into their month, two jobs creating
the same partition at once, and a replayed run stored once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from repo_automation.domain import Health, Metric, RunReport
from repo_automation.history import Batch, open_store
from repo_automation.pipeline import Stages, deliver
from repo_automation.sinks.history import HistorySink
from tests.helpers import make_context
from tests.postgres import in_threads


def m(name: str, value: float) -> Metric:
    return Metric(name=name, value=value, source="git")


def partitions(url: str) -> dict[str, str]:
    """Partition name -> its bounds, of project_metrics in the test's schema."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'project_metrics'::regclass").fetchall()
    return dict(rows)


def where_rows_are(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return [tuple(r) for r in conn.execute(
            "SELECT tableoid::regclass::text, metric_name, timestamp FROM project_metrics "
            "WHERE source <> 'automation' ORDER BY timestamp")]  # the run's own duration row aside


def store_run(url: str, workspace: Path, when: datetime, value: float) -> None:
    """A run of the history sink at `when` (the run's clock)."""
    report = RunReport(schema_version="1.1", repository="acme/app", generated_at=when, dry_run=False,
                       health=Health(overall=None, grade=None, categories={}), metrics=(m("git.commits", value),))
    ctx = make_context(workspace, store_db=True, history_db=url, now=when)
    final = deliver(report, Stages(sinks=[HistorySink.from_context(ctx)]), ctx)
    assert [a.performed for a in final.actions] == [True], final.sources


def test_the_first_run_creates_this_month_s_partition_the_next_and_the_default(pg_url: str, tmp_path: Path) -> None:
    store_run(pg_url, tmp_path, datetime(2026, 11, 29, 12, 0, tzinfo=UTC), 1.0)
    assert partitions(pg_url) == {
        "project_metrics_default": "DEFAULT",
        "project_metrics_y2026m11": "FOR VALUES FROM ('2026-11-01 00:00:00+00') TO ('2026-12-01 00:00:00+00')",
        "project_metrics_y2026m12": "FOR VALUES FROM ('2026-12-01 00:00:00+00') TO ('2027-01-01 00:00:00+00')",
    }
    assert [r[0] for r in where_rows_are(pg_url)] == ["project_metrics_y2026m11"]
    with psycopg.connect(pg_url) as conn:
        kind = conn.execute("SELECT relkind FROM pg_class WHERE oid = 'project_metrics'::regclass").fetchone()
        versions = conn.execute("SELECT version FROM project_metrics_schema").fetchall()
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'project_metrics' "
                                              "AND schemaname = current_schema()")}
    assert kind == ("p",) and versions == [(2,)]
    assert {"idx_project_metrics_timestamp", "idx_project_metrics_name", "idx_project_metrics_source"} <= indexes


def test_the_month_rollover_on_the_run_s_clock(pg_url: str, tmp_path: Path) -> None:
    store_run(pg_url, tmp_path, datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC), 1.0)
    assert set(partitions(pg_url)) == {"project_metrics_default", "project_metrics_y2026m12",
                                       "project_metrics_y2027m01"}
    store_run(pg_url, tmp_path, datetime(2027, 1, 1, 0, 0, 30, tzinfo=UTC), 2.0)  # a minute later, a new year
    assert set(partitions(pg_url)) == {"project_metrics_default", "project_metrics_y2026m12",
                                       "project_metrics_y2027m01", "project_metrics_y2027m02"}
    assert [r[0] for r in where_rows_are(pg_url)] == ["project_metrics_y2026m12", "project_metrics_y2027m01"]


def test_a_straggler_in_the_default_partition_moves_into_its_month(pg_url: str, tmp_path: Path) -> None:
    store_run(pg_url, tmp_path, datetime(2026, 11, 29, tzinfo=UTC), 1.0)
    with psycopg.connect(pg_url) as conn:  # another tool writes a row for a month no partition holds yet
        conn.execute("INSERT INTO project_metrics (timestamp, metric_name, metric_value) "
                     "VALUES ('2027-03-02T10:00:00Z', 'other.tool', 7)")
    assert [r[0] for r in where_rows_are(pg_url)][-1] == "project_metrics_default"
    store_run(pg_url, tmp_path, datetime(2027, 3, 5, tzinfo=UTC), 2.0)
    placed = where_rows_are(pg_url)
    assert [(r[0], r[1]) for r in placed] == [
        ("project_metrics_y2026m11", "git.commits"), ("project_metrics_y2027m03", "other.tool"),
        ("project_metrics_y2027m03", "git.commits")]


def test_two_jobs_creating_the_same_partition_at_once(pg_url: str, tmp_path: Path) -> None:
    when = datetime(2027, 6, 15, tzinfo=UTC)
    store_run(pg_url, tmp_path, datetime(2027, 1, 1, tzinfo=UTC), 0.0)  # the table exists; June does not
    barrier = threading.Barrier(2)

    def job(i: int) -> None:
        with open_store(pg_url, tmp_path) as store:
            barrier.wait(timeout=30)  # both opened: both find June missing, both go for its partition
            store.record([m("git.commits", float(i))], when, repository=f"acme/job{i}")

    assert in_threads(job, 2) == []
    assert {"project_metrics_y2027m06", "project_metrics_y2027m07"} <= set(partitions(pg_url))
    june = [r for r in where_rows_are(pg_url) if r[0] == "project_metrics_y2027m06"]
    assert len(june) == 2


def test_a_replayed_batch_is_stored_once(pg_url: str, tmp_path: Path) -> None:
    batch = Batch.of([m("a.b", 1.0), m("a.c", 2.0)], datetime(2026, 11, 29, tzinfo=UTC), repository="acme/app")
    with open_store(pg_url, tmp_path) as store:
        assert store.write(batch) == 2
        assert store.write(batch) == 0
    assert len(where_rows_are(pg_url)) == 2
