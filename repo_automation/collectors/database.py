"""Application metrics from the application's own PostgreSQL database: one read-only SQL query per metric.

Config `tracking.data_sources.database`: `url_env` names the environment variable holding the connection URL
(its default is in the schema; `postgresql://user:password@host:port/db`), `queries` maps a metric name to SQL
that returns one number (one row, one column). Not set, or no queries: skipped, saying why.

Metric names: a catalogue name (`reliability.error_rate`, `performance.request_rate`, …) or a name of the free
`app.` namespace (`app.active_users`: lower case, digits and `_` after `app.`), which alert conditions accept
too. Any other name is a ConfigError before the run starts.

Safety: a read-only transaction does not stop everything (`COPY … TO PROGRAM` runs a shell command as the
server's user, `lo_from_bytea` writes a large object), so the role itself must be read-only. Before any
query the collector refuses (a failed source, saying why and how to fix it) a role that is a superuser, a
member of `pg_execute_server_program` or `pg_write_server_files`, or holds INSERT, UPDATE, DELETE or
TRUNCATE on any table it can see. A role made for it, e.g. `CREATE ROLE metrics LOGIN PASSWORD '…';
GRANT pg_read_all_data TO metrics;` (PostgreSQL 14+), passes. Then the session defaults to read-only
transactions, and every query runs in its own transaction opened with `SET TRANSACTION READ ONLY` and a
`statement_timeout` (`statement_timeout_seconds`, 10 s by default), as a prepared statement, so a query
holds exactly one statement, and the transaction is always rolled back, never committed. A query that tries
to write is refused by PostgreSQL ("cannot execute … in a read-only transaction").

Each query stands alone: one that fails, times out, returns no number or several rows is named, and the others
are still collected. Then the source is `partial`: its reason names each failed query ("2 of 12 queries
failed: app.a, app.b"), its detail and the run's notices say why each failed. Only when none gives a number
does the collector fail, naming them all. NULL or
no rows: no data, that metric is left out. The connection URL (and its password) never appears in a message.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlsplit

from repo_automation.catalogue import info, is_app_metric, known_metrics
from repo_automation.context import RunContext
from repo_automation.domain import Metric
from repo_automation.errors import ConfigError, SourceFailed, SourceSkipped, UsageError
from repo_automation.redaction import Secret, Secrets, with_passwords
from repo_automation.stages import Collector, Noted

log = logging.getLogger(__name__)

SOURCE = "database"
STATEMENT_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 10
CONFIG_PATH = "$.tracking.data_sources.database"
Connect = Callable[..., Any]  # psycopg.connect, or a stand-in with its signature


class QueryError(Exception):
    """One query gave no usable number; the message says why."""


def check_names(queries: Mapping[str, str]) -> None:
    """A ConfigError naming every query whose metric name is neither a catalogue name nor `app.<name>`."""
    known = known_metrics()
    bad = [f"{CONFIG_PATH}.queries.{name}: {name!r} is not a catalogue metric nor an app.<name> metric "
           "(lower case letters, digits and _ after 'app.')" for name in queries
           if name not in known and not is_app_metric(name)]
    if bad:
        raise ConfigError("configuration has database queries for unknown metrics:", bad)


def check_url(url: str, variable: str) -> None:
    """A UsageError (without the URL, which may hold a password) when it is not a PostgreSQL URL."""
    scheme = urlsplit(url).scheme
    if scheme not in ("postgres", "postgresql"):
        raise UsageError(f"{variable} must be a postgresql:// URL (got a {scheme or 'schemeless'} value)")


def as_number(rows: Sequence[Sequence[Any]]) -> float | None:
    """The one number of a result (None: no rows or NULL); QueryError for anything else."""
    if not rows:
        return None
    if len(rows) > 1:
        raise QueryError("returned several rows; one row of one column is needed (aggregate, or add LIMIT 1)")
    if len(rows[0]) != 1:
        raise QueryError(f"returned {len(rows[0])} columns; one row of one column is needed")
    value = rows[0][0]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise QueryError(f"returned a {type(value).__name__}, not a number")
    number = float(value)
    if not math.isfinite(number):
        raise QueryError(f"returned {number}, not a finite number")
    return number


# What makes a role unsafe for our queries, each row a reason. The table check reads only what the role can
# see (has_table_privilege on its own privileges), a few names at most.
ROLE_CHECK = """
SELECT 'it is a superuser' WHERE (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
UNION ALL
SELECT 'it is a member of ' || r FROM unnest(ARRAY['pg_execute_server_program', 'pg_write_server_files']) AS r
 WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) AND pg_has_role(current_user, r, 'MEMBER')
UNION ALL
(SELECT 'it may write to ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname)
   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'f')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
    AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
  ORDER BY 1 LIMIT 3)
"""
READ_ONLY_RECIPE = ("connect as a role made for reading: CREATE ROLE metrics LOGIN PASSWORD '…'; "
                    "GRANT pg_read_all_data TO metrics; (or GRANT SELECT on the tables the queries read)")


def check_role(conn: Any) -> None:
    """SourceFailed, before any query runs, when the connected role could change anything (see the module doc)."""
    with conn.transaction(force_rollback=True):
        reasons = [str(row[0]) for row in conn.execute(ROLE_CHECK).fetchall()]
    if reasons:
        raise SourceFailed("refused to query the database: the role in the URL is not read-only ("
                           + "; ".join(reasons) + "); " + READ_ONLY_RECIPE)


def _each(failed: Sequence[tuple[str, str]]) -> str:
    """One line per failed query: its metric name and why."""
    return "\n".join(f"{name}: {why}" for name, why in failed)


class DatabaseCollector(Collector):
    name: ClassVar[str] = "database"

    def __init__(self, *, url: Secret | None, queries: Mapping[str, str], url_env: str,
                 enabled: bool, statement_timeout_s: float = STATEMENT_TIMEOUT_S,
                 connect: Connect | None = None) -> None:
        check_names(queries)
        if url:
            check_url(url.reveal(), url_env)
        self._url = url
        self.queries = dict(queries)
        self.url_env = url_env
        self.enabled = enabled
        self.statement_timeout_s = statement_timeout_s
        self._connect = connect

    @classmethod
    def from_context(cls, ctx: RunContext) -> DatabaseCollector:
        """Production wiring; unknown metric names (ConfigError) or a non-PostgreSQL URL (UsageError) stop the run."""
        cfg = ctx.config.data_sources.database
        url_env = cfg.url_env
        raw = ctx.env.get(url_env)
        return cls(url=Secret(raw) if raw else None, queries=dict(cfg.queries), url_env=url_env,
                   enabled=cfg.enabled, statement_timeout_s=cfg.statement_timeout_seconds)

    def collect(self, ctx: RunContext) -> Sequence[Metric]:
        if not self.enabled:
            raise SourceSkipped(f"disabled in configuration ({CONFIG_PATH}.enabled)")
        if not self.queries:
            raise SourceSkipped(f"no queries configured ({CONFIG_PATH}.queries)")
        if not self._url:
            raise SourceSkipped(f"{self.url_env} is not set: no database to query")
        metrics: list[Metric] = []
        failed: list[tuple[str, str]] = []  # (metric name, why its query gave no number)
        with self._open() as conn:
            check_role(conn)
            for name, sql in self.queries.items():
                try:
                    value = self._query(conn, sql)
                except QueryError as e:
                    failed.append((name, self._redact(str(e))))
                    continue
                if value is None:
                    log.info("database: %s gave no data (no rows or NULL)", name)
                    continue
                meta = info(name)
                metrics.append(Metric(name=name, value=value, source=SOURCE, unit=meta.unit if meta else "",
                                      metadata={"query": sql}))
        if failed and not metrics:
            raise SourceFailed(f"no database query gave a number ({len(failed)} failed: "
                               f"{', '.join(name for name, _ in failed)})", detail=_each(failed))
        if not metrics:
            raise SourceSkipped(f"the database queries gave no data ({', '.join(self.queries)})")
        if not failed:
            return metrics
        # the others still count: the source is partial, its reason names each failed query, its detail why
        partial = (f"{len(failed)} of {len(self.queries)} queries failed: {', '.join(name for name, _ in failed)}\n"
                   + _each(failed))
        return Noted(metrics, [f"database query {name}: {why}" for name, why in failed], partial=partial)

    def _open(self) -> Any:
        try:
            import psycopg  # lazily: psycopg is the optional [postgres] extra
        except ImportError as e:
            raise SourceFailed("the database collector needs psycopg: install repo-automation[postgres]") from e

        connect = self._connect or psycopg.connect
        timeout_ms = max(1, int(self.statement_timeout_s * 1000))
        assert self._url is not None
        try:
            return connect(self._url.reveal(), autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                           options=f"-c default_transaction_read_only=on -c statement_timeout={timeout_ms}",
                           application_name="repo-automation")
        except psycopg.Error as e:
            raise SourceFailed(f"cannot connect to the database in {self.url_env}: "
                               f"{self._redact(str(e).strip())}") from e

    def _query(self, conn: Any, sql: str) -> float | None:
        """One query in its own read-only transaction with the statement timeout; QueryError when it fails."""
        import psycopg  # lazily: psycopg is the optional [postgres] extra

        try:
            with conn.transaction(force_rollback=True):  # nothing a query did is ever committed
                conn.execute("SET TRANSACTION READ ONLY")
                conn.execute("SELECT set_config('statement_timeout', %s, true)",
                             [str(max(1, int(self.statement_timeout_s * 1000)))])
                cur = conn.execute(sql, prepare=True)  # a prepared statement holds exactly one statement
                rows = cur.fetchmany(2) if cur.description else []
                if cur.description and len(cur.description) != 1:
                    raise QueryError(f"returned {len(cur.description)} columns; one number is needed")
                return as_number(rows)
        except psycopg.errors.QueryCanceled as e:
            raise QueryError(f"cancelled after the {self.statement_timeout_s:g} s statement timeout") from e
        except psycopg.Error as e:
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise QueryError(f"{type(e).__name__}: {first}") from e

    def _redact(self, text: str) -> str:
        """The text without the URL or its password (they are this collector's own secrets)."""
        return Secrets(with_passwords(self._url.reveal())).redact(text) if self._url else text
