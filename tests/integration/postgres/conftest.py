"""The history store under test: SQLite in tmp_path, and the real PostgreSQL at 127.0.0.1:5432 (database
`test`, trust auth), each test in a schema of its own that is dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres import fresh_schema, schema_url
from tests.servers import free_port


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a fresh, empty schema (first on the search_path), dropped after the test."""
    with fresh_schema("ra_history") as name:
        yield schema_url(name)


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
