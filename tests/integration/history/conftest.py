"""The history store under test: SQLite in tmp_path, and the real PostgreSQL at 127.0.0.1:5432 (database
`test`, trust auth), each test in a schema of its own that is dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.servers import free_port

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def schema_url(schema: str) -> str:
    return f"{PG_ADMIN}?options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a fresh, empty schema (first on the search_path), dropped after the test."""
    import psycopg

    name = f"ra_history_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield schema_url(name)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A history-db value for each backend (SQLite relative to the workspace tmp_path)."""
    if request.param == "sqlite":
        return "state/nested/history.sqlite"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def unused_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    return free_port()
