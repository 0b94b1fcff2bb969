"""The real PostgreSQL at 127.0.0.1:5432 (database `test`, trust auth): each test works in a schema of its own,
created empty and dropped with everything in it afterwards."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import quote

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_S = 10


def schema_url(schema: str) -> str:
    """PG_ADMIN with `schema` first on the search_path."""
    return f"{PG_ADMIN}?options={quote(f'-csearch_path={schema}')}"


@contextmanager
def fresh_schema(prefix: str) -> Iterator[str]:
    """The name of a new, empty schema (`prefix` and a random suffix), dropped CASCADE when the block ends."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def in_threads(job: Callable[[int], None], count: int, timeout: float = 60) -> list[BaseException]:
    """Run job(0) … job(count - 1) at once, as jobs of one matrix would; what each raised, if anything."""
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            job(i)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return errors
