"""The metrics history store: batch writes against row-by-row ones, and reads on an organisation's store.

- pg_batch_speedup / sqlite_batch_speedup: 100,000 rows written as one batch (HistoryStore.write: one
  transaction; COPY on PostgreSQL) against one INSERT and one commit per row, as rows per second. The
  row-by-row path is timed on its first PER_ROW_SAMPLE rows (at a constant rate, 100,000 of them would take
  100,000 / SAMPLE times as long; timing all of them would only make the benchmark slow). Target >= 20.
- On PostgreSQL, a shared store of 50 repositories x 365 daily runs x 40 metrics (730,000 rows, loaded with
  COPY into the store's own partitioned table: one partition per month, then VACUUM ANALYZE as autovacuum
  would), each figure the median of several repetitions:
  - trend_query_ms: one repository's 1-year trend of one metric (HistoryStore.series, 365 points). < 50.
  - run_read_ms_50repos: a run's whole history read (deltas.build_history for its 40 metrics: previous run,
    30 days ago, trend). Target <= 100.
  - rollup_ms_50repos: the roll-up of all 50 repositories (rollup.rollup). Target <= 300.
  - totals_ms_50repos: one repository's automation totals, what the Pushgateway sink reads on each run
    (history/automation.read_totals: its runs, durations and changes).

Everything lives in a schema of its own in the PostgreSQL of REPO_AUTOMATION_BENCH_PG (default: the local
test server) and a temporary folder, both removed at the end. `--explain` prints the plans of the reads.

Usage: .venv/bin/python benchmarks/store.py [--explain]   (last line: name=value pairs)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from repo_automation.domain import Metric  # noqa: E402
from repo_automation.history import Batch, build_history, open_store, schema  # noqa: E402
from repo_automation.history.automation import read_totals  # noqa: E402
from repo_automation.history.rollup import rollup  # noqa: E402
from repo_automation.history.store import HistoryStore  # noqa: E402

PG = os.environ.get("REPO_AUTOMATION_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
BATCH_ROWS = 100_000
PER_ROW_SAMPLE = 2_000
REPOS, DAYS = 50, 365
NAMES = ["health.overall", *(f"health.{c}" for c in ("activity", "quality", "reliability", "security", "upkeep")),
         *(f"bench.metric_{i:02d}" for i in range(34))]
REPEAT = 15


def median_ms(fn: Callable[[], Any], repeat: int = REPEAT) -> float:
    fn()  # warm: plan caches, buffers
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


@contextmanager
def pg_schema() -> Iterator[str]:
    """A store URL in a new schema of its own, dropped with everything in it afterwards."""
    import psycopg

    name = f"bench_store_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield f"{PG}?options={quote(f'-csearch_path={name}')}"
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def batch_of(rows: int, repository: str = "acme/bench") -> Batch:
    metrics = [Metric(name=NAMES[i % len(NAMES)], value=float(i), source="bench") for i in range(rows)]
    return Batch.of(metrics, NOW, repository=repository)


def row_by_row_per_s(store: HistoryStore, batch: Batch) -> float:
    """Rows per second with one INSERT and one commit per row (the first PER_ROW_SAMPLE rows of `batch`)."""
    conn: Any = store._conn  # the benchmark measures the path the store does not take
    sql = store.sql("INSERT INTO project_metrics (timestamp, metric_name, metric_value, metric_metadata, source, "
                    "run_id) VALUES (?, ?, ?, ?, ?, ?)")
    ts = store.dialect.encode(batch.timestamp)
    rows = batch.rows[:PER_ROW_SAMPLE]
    t = time.perf_counter()
    for r in rows:
        cur = conn.cursor()
        cur.execute(sql, (ts, r.name, r.value, json.dumps(r.metadata), r.source, batch.run_id))
        cur.close()
        conn.commit()
    return len(rows) / (time.perf_counter() - t)


def batch_speedup(target: str, workspace: Path) -> float:
    with open_store(target, workspace) as store:
        batch = batch_of(BATCH_ROWS)
        t = time.perf_counter()
        assert store.write(batch) == BATCH_ROWS
        batch_per_s = BATCH_ROWS / (time.perf_counter() - t)
        single = row_by_row_per_s(store, batch_of(PER_ROW_SAMPLE, "acme/single"))
    print(f"{target.split('?')[0].split('://')[0]}: batch {batch_per_s:,.0f} rows/s, row by row {single:,.0f} rows/s",
          file=sys.stderr)
    return batch_per_s / single


def load_org(url: str) -> None:
    """50 repositories' daily runs of 40 metrics for a year, by COPY into the current schema's partitions."""
    import psycopg

    with open_store(url, Path(".")):
        pass  # creates the schema
    first = NOW - timedelta(days=DAYS)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for start in schema.months(first, NOW + timedelta(days=31)):
            for statement in schema.create_partition(start):
                cur.execute(statement)
        runs = []
        with cur.copy("COPY project_metrics (timestamp, metric_name, metric_value, metric_metadata, source, run_id) "
                      "FROM STDIN") as copy:
            for repo in range(REPOS):
                repository = f"acme/repo{repo:02d}"
                meta = json.dumps({"repository": repository})
                lines = []
                for day in range(DAYS):
                    ts = (first + timedelta(days=day, minutes=repo)).isoformat()
                    run_id = f"{repo:02d}-{day:03d}"
                    runs.append(f"{run_id}\t{repository}\t{ts}\t{len(NAMES)}\n")
                    for i, name in enumerate(NAMES):
                        value = 50 + (day + 3 * i + repo) % 50
                        lines.append(f"{ts}\t{name}\t{value}\t{meta}\t{'health' if i < 6 else 'bench'}\t{run_id}\n")
                copy.write("".join(lines))
        with cur.copy("COPY project_metrics_runs (run_id, repository, timestamp, row_count) FROM STDIN") as copy:
            copy.write("".join(runs))
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE project_metrics")
        conn.execute("VACUUM ANALYZE project_metrics_runs")


def explain(store: HistoryStore, label: str, fn: Callable[[], Any]) -> None:
    """Print the plan of every query `fn` runs (EXPLAIN ANALYZE), by wrapping the store's query()."""
    original = store.query

    def explained(text: str, params: Any, doing: str) -> list[tuple[Any, ...]]:
        rows = original("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + text, params, doing)
        print(f"--- {label}: {doing}", *(r[0] for r in rows), sep="\n")
        return original(text, params, doing)

    store.query = explained  # type: ignore[method-assign]
    try:
        fn()
    finally:
        store.query = original  # type: ignore[method-assign]


def org_reads(url: str, show_plans: bool) -> tuple[float, float, float, float]:
    current = [Metric(name=n, value=75.0, source="bench") for n in NAMES]
    with open_store(url, Path("."), readonly=True) as store:
        def trend() -> None:
            assert len(store.series("health.overall", NOW, 365, repository="acme/repo17")) == 365

        def run_read() -> None:
            history = build_history(store, current, NOW, repository="acme/repo17")
            assert all(c.previous is not None and c.thirty_days_ago is not None for c in history.changes)
            assert len(history.trend) == 30

        def org() -> None:
            assert len(rollup(store)) == REPOS

        def totals() -> None:
            assert read_totals(store, "acme/repo17").runs == DAYS

        if show_plans:
            for label, fn in (("trend", trend), ("run read", run_read), ("rollup", org), ("totals", totals)):
                explain(store, label, fn)
        return median_ms(trend), median_ms(run_read), median_ms(org), median_ms(totals)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--explain", action="store_true", help="print the plans of the reads")
    ns = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        sqlite = batch_speedup("history.sqlite", Path(tmp))
    with pg_schema() as url:
        pg = batch_speedup(url, Path("."))
    with pg_schema() as url:
        t = time.perf_counter()
        load_org(url)
        print(f"loaded {REPOS * DAYS * len(NAMES):,} rows in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        trend_ms, run_ms, rollup_ms, totals_ms = org_reads(url, ns.explain)
    print(f"pg_batch_speedup={pg:.0f} sqlite_batch_speedup={sqlite:.0f} trend_query_ms={trend_ms:.1f} "
          f"run_read_ms_50repos={run_ms:.1f} rollup_ms_50repos={rollup_ms:.1f} totals_ms_50repos={totals_ms:.1f}")


if __name__ == "__main__":
    main()
