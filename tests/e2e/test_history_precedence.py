"""Which store the action writes to, run through entrypoint.py as the runner starts it: the history-db input the
user set, then DATABASE_URL (the guide's workflows set only that), then the SQLite default. action.yml gives
history-db no default, so the runner has none to pass that could shadow DATABASE_URL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.postgres import fresh_schema, schema_url

from .conftest import ROOT, Run

DEFAULT = Path(".repo-automation/history.sqlite")


@pytest.fixture
def database_url() -> Iterator[str]:
    with fresh_schema("ra_precedence") as name:
        yield schema_url(name)


def pg_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT to_regclass('project_metrics')").fetchone()
        if row is None or row[0] is None:
            return 0
        count = conn.execute("SELECT COUNT(*) FROM project_metrics").fetchone()
    return int(count[0]) if count else 0


def sqlite_rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM project_metrics").fetchone()[0])


def runner_inputs(**given: str) -> dict[str, str]:
    """The inputs as the runner passes them: each declared input, its action.yml default when not given."""
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    out = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()
           if name != "github-token"}
    out.update(given)
    return out


def test_only_database_url_set_stores_there(database_url: str, run_action: Callable[..., Run]) -> None:
    run = run_action("schedule", inputs=runner_inputs(command="metrics", **{"store-db": "true"}),
                     env={"DATABASE_URL": database_url})
    assert run.status == 0, run.stderr
    assert pg_rows(database_url) > 0
    assert not (run.workspace / DEFAULT).exists(), "the SQLite default must not shadow DATABASE_URL"


def test_the_input_the_user_set_wins_over_database_url(database_url: str, run_action: Callable[..., Run]) -> None:
    inputs = runner_inputs(command="metrics", **{"store-db": "true", "history-db": "state/history.sqlite"})
    run = run_action("schedule", inputs=inputs, env={"DATABASE_URL": database_url})
    assert run.status == 0, run.stderr
    assert sqlite_rows(run.workspace / "state/history.sqlite") > 0
    assert pg_rows(database_url) == 0
