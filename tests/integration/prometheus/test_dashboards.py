"""The Grafana dashboard proved without a Grafana (none can be installed here): three real `repo-automation
metrics` runs store into a real PostgreSQL history and push to a real Pushgateway that a real Prometheus
scrapes; then every PromQL expression of every panel returns at least one series, `automation_runs_total`
reads 3, and every SQL query of every panel runs against that history and returns rows (variables and macros
expanded as Grafana does: tests/grafana_panels.py).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from devtools.grafana_dashboards import POSTGRES, PROMETHEUS
from repo_automation.cli import main
from tests.grafana_panels import dashboard, promql, sql, targets
from tests.postgres import fresh_schema, schema_url
from tests.sample_repo import write_sample_repo

REPOSITORY = "acme/widgets"
RUNS = 3


@pytest.fixture
def pg_url() -> Iterator[str]:
    with fresh_schema("ra_dashboards") as name:
        yield schema_url(name)


def query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    body = requests.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=5).json()
    assert body["status"] == "success", (expr, body)
    return body["data"]["result"]  # type: ignore[no-any-return]


def until(prometheus: str, expr: str, want: float, timeout_s: float = 30) -> list[dict[str, Any]]:
    """The result of `expr` once its first series reads `want` (a push shows up a scrape or two later)."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = query(prometheus, expr)
        if (result and float(result[0]["value"][1]) == want) or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


@pytest.fixture
def runs(tmp_path: Path, pushed_prometheus: tuple[str, str], pg_url: str) -> tuple[str, str, datetime]:
    """(Prometheus URL, history URL, when the runs began): three real runs of the same repository."""
    prometheus, gateway = pushed_prometheus
    repo = tmp_path / "repo"
    write_sample_repo(repo)
    # a coverage report, so the code-quality category (and the overall score) is scored
    (repo / "coverage.json").write_text(json.dumps({"totals": {"covered_lines": 8, "num_statements": 10}}),
                                        encoding="utf-8")
    began = datetime.now(UTC)
    env = {"PATH": "/usr/bin:/bin", "GITHUB_REPOSITORY": REPOSITORY, "PUSHGATEWAY_URL": gateway}
    for i in range(RUNS):
        status = main(["metrics", "-C", str(repo), "--store-db", "--history-db", pg_url,
                       "--output-dir", str(tmp_path / f"out-{i}")], env=env)
        assert status == 0
        # each push is scraped before the next one replaces it, as with runs on a schedule
        until(prometheus, f'automation_runs_total{{repository="{REPOSITORY}"}}', i + 1)
    return prometheus, pg_url, began


@pytest.mark.timeout(180)
def test_every_panel_query_answers_after_real_runs(runs: tuple[str, str, datetime]) -> None:
    prometheus, history, began = runs
    [total] = until(prometheus, f'automation_runs_total{{repository="{REPOSITORY}"}}', RUNS)
    assert float(total["value"][1]) == RUNS and total["metric"]["job"] == "repo_automation"
    [count] = query(prometheus, f'automation_duration_seconds_count{{repository="{REPOSITORY}"}}')
    assert float(count["value"][1]) == RUNS

    proms = targets(PROMETHEUS)
    assert len(proms) >= 8
    for title, target in proms:
        assert query(prometheus, promql(target["expr"], REPOSITORY)), f"{title}: {target['expr']} returned no series"
    health = {s["metric"]["category"] for s in query(prometheus, promql(
        next(t["expr"] for title, t in proms if title == "Project Health Scores"), REPOSITORY))}
    assert "overall" in health

    sqls = targets(POSTGRES)
    assert len(sqls) >= 3
    end = datetime.now(UTC) + timedelta(minutes=1)
    with psycopg.connect(history, connect_timeout=10) as conn:
        for title, target in sqls:
            rows = conn.execute(sql(target["rawSql"], REPOSITORY, began - timedelta(minutes=1), end)).fetchall()
            assert rows, f"{title}: no rows"
        stored = next(t["rawSql"] for title, t in sqls if title == "Stored runs")
        rows = conn.execute(sql(stored, REPOSITORY, began - timedelta(minutes=1), end)).fetchall()
    assert len(rows) == RUNS  # one row per run: its time, repository, health, duration, changes, values
    assert all(r[1] == REPOSITORY and r[3] is not None and r[3] >= 0 for r in rows)


def test_prometheus_variables_query_the_pushed_labels(runs: tuple[str, str, datetime]) -> None:
    prometheus, _, _ = runs
    variable = next(v for v in dashboard()["templating"]["list"] if v["name"] == "repository")
    match = re.fullmatch(r"label_values\((\w+), (\w+)\)", variable["query"]["query"])
    assert match is not None
    body = requests.get(f"{prometheus}/api/v1/label/{match.group(2)}/values",
                        params={"match[]": match.group(1)}, timeout=5).json()
    assert body["data"] == [REPOSITORY]
