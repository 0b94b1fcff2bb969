"""The database collector against the real PostgreSQL at 127.0.0.1:5432 (database `test`), one schema per test.

The collector connects as a read-only role made for it (`pg_read_all_data`, as the README's recipe), created
for this module with a random name and dropped after it; the refusal tests connect as the superuser and as
roles with one dangerous grant each."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from repo_automation import config as config_mod
from repo_automation.collectors.database import DatabaseCollector
from repo_automation.core.checks import check_config
from repo_automation.core.rules import evaluate_rules
from repo_automation.domain import Status
from repo_automation.errors import ConfigError, SourceFailed, SourceSkipped, UsageError
from repo_automation.pipeline import Stages, build_report
from repo_automation.redaction import Secret
from repo_automation.report import json_report, markdown
from repo_automation.report.escape import escape_markdown
from repo_automation.stages import notices_of
from tests.helpers import make_context
from tests.postgres import PG_ADMIN, fresh_schema
from tests.servers import free_port

READER = f"ra_reader_{uuid.uuid4().hex[:10]}"
URL = f"postgresql://{READER}@127.0.0.1:5432/test"


@contextmanager
def role(name: str, *grants: str) -> Iterator[str]:
    """A LOGIN role with the given GRANT statements ({r} is the role), dropped with its privileges afterwards."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{name}" LOGIN')
        for grant in grants:
            conn.execute(grant.format(r=f'"{name}"'))
    try:
        yield f"postgresql://{name}@127.0.0.1:5432/test"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{name}"')
            conn.execute(f'DROP ROLE "{name}"')


@pytest.fixture(scope="module", autouse=True)
def reader() -> Iterator[str]:
    with role(READER, "GRANT pg_read_all_data TO {r}") as url:
        yield url


@pytest.fixture
def schema() -> Iterator[str]:
    """A fresh schema with `orders` (5 rows, 3 open) and `requests` (8 rows, 2 failed), dropped after the test."""
    with fresh_schema("ra") as name:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"CREATE TABLE {name}.orders (id serial PRIMARY KEY, status text NOT NULL, total numeric)")
            conn.execute(f"INSERT INTO {name}.orders (status, total) VALUES ('open', 10.5), ('open', 4), ('open', 1),"
                         " ('shipped', 20), ('shipped', 7.25)")
            conn.execute(f"CREATE TABLE {name}.requests (id serial PRIMARY KEY, failed boolean NOT NULL)")
            conn.execute(f"INSERT INTO {name}.requests (failed) SELECT n <= 2 FROM generate_series(1, 8) AS n")
        yield name


def orders(schema: str) -> int:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        row = conn.execute(f"SELECT count(*) FROM {schema}.orders").fetchone()
        assert row is not None
        return int(row[0])


def collector(queries: dict[str, str], **kw: Any) -> DatabaseCollector:
    source = config_mod.defaults().data_sources.database
    kw = {"url_env": source.url_env, "enabled": source.enabled, **kw}
    return DatabaseCollector(url=Secret(kw.pop("url", URL)), queries=queries, **kw)


def test_catalogue_and_app_metrics_are_collected(tmp_path: Path, schema: str) -> None:
    c = collector({"app.open_orders": f"SELECT count(*) FROM {schema}.orders WHERE status = 'open'",
                   "app.open_order_value": f"SELECT sum(total) FROM {schema}.orders WHERE status = 'open'",
                   "reliability.error_rate": f"SELECT 100.0 * avg(failed::int) FROM {schema}.requests"})
    collected = c.collect(make_context(tmp_path))
    got = {m.name: m for m in collected}
    assert {k: m.value for k, m in got.items()} == {"app.open_orders": 3.0, "app.open_order_value": 15.5,
                                                    "reliability.error_rate": 25.0}
    assert got["reliability.error_rate"].unit == "percent" and got["app.open_orders"].source == "database"
    assert notices_of(collected) == ()


@pytest.mark.parametrize("write", [
    "DELETE FROM {s}.orders RETURNING 1",
    "WITH gone AS (DELETE FROM {s}.orders RETURNING 1) SELECT count(*) FROM gone",
    "INSERT INTO {s}.orders (status) VALUES ('x') RETURNING id",
    "SELECT 1; DELETE FROM {s}.orders",
    "COMMIT; DELETE FROM {s}.orders",
])
def test_a_query_that_writes_is_refused_and_the_others_are_kept(tmp_path: Path, schema: str, write: str) -> None:
    c = collector({"app.write": write.format(s=schema),
                   "app.open_orders": f"SELECT count(*) FROM {schema}.orders WHERE status = 'open'"})
    got = c.collect(make_context(tmp_path))
    assert [(m.name, m.value) for m in got] == [("app.open_orders", 3.0)]
    [notice] = notices_of(got)
    assert notice.startswith("database query app.write: ")
    assert "read-only transaction" in notice or "cannot insert multiple commands" in notice
    assert orders(schema) == 5


def test_turning_read_only_off_in_one_query_does_not_let_the_next_write(tmp_path: Path, schema: str) -> None:
    c = collector({"app.sneaky": "SELECT set_config('default_transaction_read_only', 'off', false)",
                   "app.write": f"DELETE FROM {schema}.orders RETURNING 1"})
    with pytest.raises(SourceFailed) as err:
        c.collect(make_context(tmp_path))
    assert str(err.value) == "no database query gave a number (2 failed: app.sneaky, app.write)"
    assert "app.sneaky: returned a str, not a number" in err.value.detail
    assert "app.write: ReadOnlySqlTransaction: cannot execute DELETE in a read-only transaction" in err.value.detail
    assert orders(schema) == 5


def test_a_slow_query_is_cancelled_by_the_statement_timeout(tmp_path: Path, schema: str) -> None:
    c = collector({"app.slow": "SELECT count(*) FROM pg_sleep(30)",
                   "app.open_orders": f"SELECT count(*) FROM {schema}.orders WHERE status = 'open'"},
                  statement_timeout_s=0.3)
    got = c.collect(make_context(tmp_path))
    assert [m.name for m in got] == ["app.open_orders"]
    assert notices_of(got) == ("database query app.slow: cancelled after the 0.3 s statement timeout",)


def test_results_that_are_not_one_number(tmp_path: Path, schema: str) -> None:
    c = collector({"app.rows": f"SELECT id FROM {schema}.orders",
                   "app.columns": "SELECT 1, 2",
                   "app.text": "SELECT 'many'",
                   "app.null": f"SELECT max(total) FROM {schema}.orders WHERE status = 'none'",
                   "app.none": f"SELECT total FROM {schema}.orders WHERE false",
                   "app.syntax": "SELEC 1",
                   "app.ok": "SELECT 42"})
    got = c.collect(make_context(tmp_path))
    assert [(m.name, m.value) for m in got] == [("app.ok", 42.0)]  # NULL and no rows: no data, not an error
    assert notices_of(got) == (
        "database query app.rows: returned several rows; one row of one column is needed (aggregate, or add LIMIT 1)",
        "database query app.columns: returned 2 columns; one number is needed",
        "database query app.text: returned a str, not a number",
        'database query app.syntax: SyntaxError: syntax error at or near "SELEC"',
    )


def test_unknown_metric_names_stop_the_run_with_each_named(tmp_path: Path) -> None:
    cfg = {"tracking": {"data_sources": {"database": {"queries": {
        "app.ok": "SELECT 1", "coverage": "SELECT 1", "app.Bad-Name": "SELECT 1", "reliability.uptime": "SELECT 1"}}}}}
    with pytest.raises(ConfigError) as err:
        DatabaseCollector.from_context(make_context(tmp_path, config=cfg))
    assert err.value.problems == [
        "$.tracking.data_sources.database.queries.coverage: 'coverage' is not a catalogue metric nor an app.<name> "
        "metric (lower case letters, digits and _ after 'app.')",
        "$.tracking.data_sources.database.queries.app.Bad-Name: 'app.Bad-Name' is not a catalogue metric nor an "
        "app.<name> metric (lower case letters, digits and _ after 'app.')"]


def test_a_url_that_is_not_postgresql_is_a_usage_error_without_the_url(tmp_path: Path) -> None:
    cfg = {"tracking": {"data_sources": {"database": {"url_env": "SHOP_DB", "queries": {"app.x": "SELECT 1"}}}}}
    ctx = make_context(tmp_path, config=cfg, env={"SHOP_DB": "mysql://app:s3cret-pw@db/shop"})
    with pytest.raises(UsageError, match="SHOP_DB must be a postgresql:// URL") as err:
        DatabaseCollector.from_context(ctx)
    assert "s3cret-pw" not in str(err.value)


def test_nothing_to_do_is_skipped_with_the_reason(tmp_path: Path) -> None:
    cfg = {"tracking": {"data_sources": {"database": {"queries": {"app.x": "SELECT 1"}}}}}
    with pytest.raises(SourceSkipped, match="APP_DATABASE_URL is not set"):
        DatabaseCollector.from_context(make_context(tmp_path, config=cfg)).collect(make_context(tmp_path))
    with pytest.raises(SourceSkipped, match="no queries configured"):
        DatabaseCollector.from_context(make_context(tmp_path, env={"APP_DATABASE_URL": URL})).collect(
            make_context(tmp_path))


def test_an_unreachable_database_fails_without_showing_the_password(tmp_path: Path) -> None:
    port = free_port()  # a port nobody listens on
    c = collector({"app.x": "SELECT 1"}, url=f"postgresql://app:s3cret-pw@127.0.0.1:{port}/test")
    with pytest.raises(SourceFailed, match="cannot connect to the database in APP_DATABASE_URL") as err:
        c.collect(make_context(tmp_path))
    assert "s3cret-pw" not in str(err.value)


def test_app_metrics_can_fire_alerts_and_failures_reach_the_report(tmp_path: Path, schema: str) -> None:
    cfg = {"tracking": {"data_sources": {"database": {"queries": {
        "app.open_orders": f"SELECT count(*) FROM {schema}.orders WHERE status = 'open'",
        "app.broken": f"SELECT count(*) FROM {schema}.missing"}}}},
        "alerts": {"warning": {"conditions": ["app.open_orders > 2"], "notification_channels": ["slack-ops"]}}}
    ctx = make_context(tmp_path, config=cfg, env={"APP_DATABASE_URL": URL})
    report = build_report(Stages(collectors=[DatabaseCollector.from_context(ctx)]), ctx)
    [alert] = report.alerts
    assert (alert.condition, dict(alert.values), alert.channels) == ("app.open_orders > 2", {"app.open_orders": 3.0},
                                                                    ("slack-ops",))
    [source] = [s for s in report.sources if s.name == "database"]
    assert (source.status, source.reason) == (Status.PARTIAL, "1 of 2 queries failed: app.broken")
    assert any(n.startswith("database query app.broken: UndefinedTable: relation") for n in report.notices)
    assert evaluate_rules(ctx.config, {"app.open_orders": 1.0}).fired == ()
    with pytest.raises(ConfigError) as err:
        check_config(config_mod.from_data({"alerts": {"warning": {"conditions": ["apps.open_orders > 2",
                                                                                 "app.Open > 2"]}}}))
    assert [p.split(": ", 1)[1].split(" (")[0].split(";")[0] for p in err.value.problems] == [
        "column 1: unknown metric 'apps.open_orders'", "column 1: unknown metric 'app.Open'"]


def test_without_psycopg_installed_the_collector_says_which_extra_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "psycopg", None)  # as if the extra were not installed
    with pytest.raises(SourceFailed, match=r"needs psycopg: install repo-automation\[postgres\]"):
        collector({"app.x": "SELECT 1"}).collect(make_context(tmp_path))


def large_objects() -> int:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_largeobject_metadata").fetchone()
        assert row is not None
        return int(row[0])


def test_a_superuser_is_refused_before_any_query_runs(tmp_path: Path, schema: str) -> None:
    """Under a superuser, a read-only transaction still lets COPY ... TO PROGRAM run a shell command."""
    marker = tmp_path / "ran"
    c = collector({"app.shell": f"COPY (SELECT 1) TO PROGRAM 'touch {marker}'",
                   "app.open_orders": f"SELECT count(*) FROM {schema}.orders WHERE status = 'open'"}, url=PG_ADMIN)
    with pytest.raises(SourceFailed) as err:
        c.collect(make_context(tmp_path))
    assert str(err.value).startswith("refused to query the database: the role in the URL is not read-only "
                                     "(it is a superuser;")
    assert "GRANT pg_read_all_data" in str(err.value)  # the fix, in the reason itself
    assert not marker.exists()


@pytest.mark.parametrize(("grant", "reason"), [
    ("GRANT pg_execute_server_program TO {r}", "it is a member of pg_execute_server_program"),
    ("GRANT pg_write_server_files TO {r}", "it is a member of pg_write_server_files"),
    ("GRANT USAGE ON SCHEMA {s} TO {r}; GRANT SELECT, UPDATE ON {s}.orders TO {r}", "it may write to {s}.orders"),
    ("GRANT pg_write_all_data TO {r}", "it may write to {s}.orders"),
])
def test_a_role_that_can_write_or_run_programs_is_refused(tmp_path: Path, schema: str, grant: str,
                                                         reason: str) -> None:
    grants = [g.strip().replace("{s}", schema) for g in grant.split(";")]
    with role(f"ra_probe_{uuid.uuid4().hex[:10]}", *grants) as url:
        c = collector({"app.open_orders": f"SELECT count(*) FROM {schema}.orders WHERE status = 'open'"}, url=url)
        with pytest.raises(SourceFailed, match="refused to query the database") as err:
            c.collect(make_context(tmp_path))
    assert reason.format(s=schema) in str(err.value)


def test_a_read_only_role_runs_and_a_large_object_it_writes_is_rolled_back(tmp_path: Path, schema: str) -> None:
    """pg_read_all_data may still create large objects, even in a read-only transaction: nothing is committed."""
    before = large_objects()
    c = collector({"app.lo": "SELECT lo_from_bytea(0, 'x')::bigint",
                   "app.open_orders": f"SELECT count(*) FROM {schema}.orders WHERE status = 'open'"})
    got = {m.name: m.value for m in c.collect(make_context(tmp_path))}
    assert got["app.open_orders"] == 3.0
    assert large_objects() == before


def test_the_statement_timeout_is_configurable(tmp_path: Path, schema: str) -> None:
    cfg = {"tracking": {"data_sources": {"database": {"statement_timeout_seconds": 0.25, "queries": {
        "app.slow": "SELECT count(*) FROM pg_sleep(30)", "app.ok": "SELECT 1"}}}}}
    ctx = make_context(tmp_path, config=cfg, env={"APP_DATABASE_URL": URL})
    got = DatabaseCollector.from_context(ctx).collect(ctx)
    assert [m.name for m in got] == ["app.ok"]
    assert notices_of(got) == ("database query app.slow: cancelled after the 0.25 s statement timeout",)


def test_a_run_in_which_most_queries_failed_is_partial_and_names_each_failed_query(tmp_path: Path,
                                                                                  schema: str) -> None:
    queries = {f"app.missing_{n}": f"SELECT count(*) FROM {schema}.missing_{n}" for n in range(1, 11)}
    queries |= {"app.open_orders": f"SELECT count(*) FROM {schema}.orders WHERE status = 'open'",
                "reliability.error_rate": f"SELECT 100.0 * avg(failed::int) FROM {schema}.requests"}
    cfg = {"tracking": {"data_sources": {"database": {"queries": queries}}}}
    ctx = make_context(tmp_path, config=cfg, env={"APP_DATABASE_URL": URL})
    report = build_report(Stages(collectors=[DatabaseCollector.from_context(ctx)]), ctx)
    assert sorted(m.name for m in report.metrics) == ["app.open_orders", "reliability.error_rate"]  # kept
    [source] = [s for s in report.sources if s.name == "database"]
    failed = [f"app.missing_{n}" for n in range(1, 11)]
    assert source.status is Status.PARTIAL
    assert source.reason == "10 of 12 queries failed: " + ", ".join(failed)
    for name in failed:  # each failed query with why, in the JSON report's detail
        assert f'{name}: UndefinedTable: relation "{schema}.{name.removeprefix("app.")}" does not exist' \
            in source.detail.splitlines()
    doc = json_report.to_json(report)
    assert json_report.validate(doc) == []
    [entry] = [s for s in doc["sources"] if s["name"] == "database"]
    assert (entry["status"], entry["reason"]) == ("partial", source.reason)
    md = markdown.health_report(report)
    [row] = [ln for ln in md.splitlines() if ln.startswith("| database |")]
    assert f"| partial | {escape_markdown(source.reason)} |" in row  # every failed query named in its one line
