"""The metrics history store: one table, `project_metrics`, in SQLite (default) or PostgreSQL.

    project_metrics(id, timestamp, metric_name, metric_value, metric_metadata JSON, source, run_id)

One store may hold many repositories (an organisation's matrix of jobs sharing one PostgreSQL database):
every row records its run's repository in `metric_metadata.repository`, and every read is scoped to one
repository, so a run is never compared with another repository's numbers. Rows stored before the scope
existed carry no repository and are read by every scope (a store that only ever held one repository, the
SQLite default, keeps its history across the upgrade).

A run is written as one Batch in one transaction (PostgreSQL: COPY), recorded once in the runs ledger by its
id, so writing the same batch again (a spooled run replayed) stores nothing. Every row of one run carries
the run's timestamp. A NULL `metric_value` (the guide's DDL allows it) reads as "no value": such rows are
left out of every read. SQLite keeps timestamps as ISO-8601 UTC text of fixed width (so text order is time
order), PostgreSQL as TIMESTAMPTZ. Every database problem becomes a HistoryError naming the store
(passwords redacted). The values: values.py; the schema, its versions and partitions: schema.py;
migrations: migrate.py.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any

from repo_automation.domain import Metric
from repo_automation.history import schema
from repo_automation.history.values import (
    Batch,
    Dialect,
    HistoryError,
    Row,
    StoredRow,
    StoredValue,
    metadata_of,
)

__all__ = ["Batch", "Dialect", "HistoryError", "HistoryStore", "Row", "StoredRow", "StoredValue", "metadata_of"]

log = logging.getLogger(__name__)

TABLE = schema.TABLE
_CHECK_COLUMNS = (
    "SELECT id, timestamp, metric_name, metric_value, metric_metadata, source FROM project_metrics WHERE 1 = 0"
)
_COLUMNS = "timestamp, metric_name, metric_value, metric_metadata, source"
_HAS_VALUE = "metric_value IS NOT NULL"


class HistoryStore:
    """An open history store. A context manager: leaving it closes the connection.

    `connection` None is a store that does not exist yet, opened only to read: it answers with no rows.
    """

    def __init__(self, *, connection: Any, dialect: Dialect, target: str) -> None:
        self._conn = connection
        self.dialect = dialect
        self.target = target  # the resolved path or the redacted URL
        self._version: int | None = None

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    @contextmanager
    def errors(self, doing: str) -> Iterator[None]:
        """Turn a database error into a HistoryError naming the store (the transaction rolled back)."""
        try:
            yield
        except self.dialect.errors as e:
            if self._conn is not None:
                try:
                    self._conn.rollback()
                except self.dialect.errors:
                    log.debug("rollback failed after a history error", exc_info=True)
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise HistoryError(f"metrics history {self.target}: cannot {doing}: {first}") from e

    def sql(self, text: str) -> str:
        return text.replace("?", self.dialect.param)

    def query(self, text: str, params: Sequence[Any], doing: str) -> list[tuple[Any, ...]]:
        """Rows of one read, its transaction ended (no idle-in-transaction on PostgreSQL)."""
        if self._conn is None:
            return []
        with self.errors(doing):
            cur = self._conn.cursor()
            try:
                cur.execute(self.sql(text), tuple(params))
                rows = cur.fetchall()
            finally:
                cur.close()
            self._conn.rollback()
        return [tuple(r) for r in rows]

    @contextmanager
    def transaction(self, doing: str) -> Iterator[Any]:
        """A cursor in one transaction, committed at the end (rolled back and a HistoryError on failure)."""
        if self._conn is None:
            raise HistoryError(f"metrics history {self.target} was opened read-only")
        with self.errors(doing):
            cur = self._conn.cursor()
            try:
                yield cur
            except BaseException:
                self._conn.rollback()
                raise
            finally:
                cur.close()
            self._conn.commit()

    def rollback(self) -> None:
        if self._conn is not None:
            self._conn.rollback()

    # -- schema -------------------------------------------------------------------------------------------

    def table_exists(self, name: str = TABLE) -> bool:
        rows = self.query(self.dialect.exists, (name,), f"look for the {name} table")
        return bool(rows) and rows[0][0] is not None

    def check_columns(self) -> None:
        self.query(_CHECK_COLUMNS, (), f"use the existing {TABLE} table, whose columns are not "
                   "(id, timestamp, metric_name, metric_value, metric_metadata, source)")

    def version(self, *, fresh: bool = False) -> int:
        """The schema version: 0 no table, 1 a plain table without versions, else the highest applied."""
        if self._version is None or fresh:
            self._set_version(self._read_version())
        assert self._version is not None
        return self._version

    def _set_version(self, version: int) -> None:
        """Remember the version; on PostgreSQL from version 2 the reads use the generated repository column."""
        self._version = version
        if self.dialect.postgres and version >= 2:
            self.dialect = dataclasses.replace(self.dialect, repository=schema.POSTGRES_REPOSITORY_COLUMN)

    def _read_version(self) -> int:
        if not self.table_exists():
            return 0
        if not self.table_exists(schema.VERSIONS):
            return 1
        rows = self.query(f"SELECT MAX(version) FROM {schema.VERSIONS}", (), "read the schema version")  # noqa: S608  # nosec B608
        return int(rows[0][0] or 1) if rows else 1

    def ensure_schema(self) -> None:
        """Create the current schema when the store is empty; check the columns of an existing table."""
        if self._conn is None:
            return
        version = self.version(fresh=True)
        if version > schema.CURRENT:
            raise HistoryError(f"metrics history {self.target} is at schema version {version}, newer than this "
                               f"version of repo-automation knows ({schema.CURRENT}): upgrade repo-automation")
        if version == 0:
            with self.transaction(f"create the {TABLE} table") as cur:
                if self.dialect.postgres:
                    cur.execute(f"SELECT pg_advisory_xact_lock({schema.LOCK_KEY})")
                for statement in (*(schema.POSTGRES_CREATE if self.dialect.postgres else schema.SQLITE_CREATE),
                                  schema.record_version(schema.CURRENT)):
                    cur.execute(statement)
            self._set_version(schema.CURRENT)
        elif version == 2:
            self.add_alert_table()
        self.check_columns()

    def add_alert_table(self) -> None:
        """Version 2 to 3: the step only adds the alert lifecycle table, so a run applies it by itself."""
        with self.transaction(f"create the {schema.ALERTS} table") as cur:
            if self.dialect.postgres:
                cur.execute(f"SELECT pg_advisory_xact_lock({schema.LOCK_KEY})")
            cur.execute(schema.alerts_table("TIMESTAMPTZ" if self.dialect.postgres else "TEXT"))
            cur.execute(schema.record_version(3))
        self._set_version(3)

    def upgrade_notice(self) -> str | None:
        """What a store below the current schema version misses, and the command that migrates it."""
        version = self.version()
        if not 0 < version < schema.CURRENT:
            return None
        return (f"{self.target} is a plain {TABLE} table (schema version {version}): it keeps working; "
                f"`repo-automation history migrate` moves it to version {schema.CURRENT} "
                f"({schema.DESCRIPTIONS[schema.CURRENT]})")

    def ensure_partitions(self, when: datetime) -> list[str]:
        """PostgreSQL, current schema: make sure the partitions of `when`'s month and the next exist, creating
        the missing ones under the advisory lock. Returns the names created."""
        if self._conn is None or not self.dialect.postgres or self.version() < 2:
            return []
        wanted = schema.ahead(when)
        if not self._missing_partitions(wanted):
            return []
        created = []
        with self.transaction("create the monthly partitions") as cur:
            cur.execute(f"SELECT pg_advisory_xact_lock({schema.LOCK_KEY})")
            for start in wanted:
                cur.execute("SELECT to_regclass(%s)", (schema.partition_name(start),))
                row = cur.fetchone()
                if row is not None and row[0] is not None:
                    continue  # another job created it while we waited for the lock
                for statement in schema.create_partition(start):
                    cur.execute(statement)
                created.append(schema.partition_name(start))
        if created:
            log.info("history: created the partitions %s", ", ".join(created))
        return created

    def _missing_partitions(self, starts: Sequence[datetime]) -> list[datetime]:
        names = [schema.partition_name(s) for s in starts]
        rows = self.query("SELECT " + ", ".join("to_regclass(?)" for _ in names), names, "look for the partitions")
        return [s for s, found in zip(starts, rows[0], strict=True) if found is None] if rows else list(starts)

    # -- writes -------------------------------------------------------------------------------------------

    def record(self, metrics: Iterable[Metric], timestamp: datetime, *, repository: str = "",
               run_id: str | None = None) -> int:
        """Store one run: one row per finite metric, all with `timestamp` and `repository`. Returns the rows
        written (0 when this run id was stored before)."""
        return self.write(Batch.of(metrics, timestamp, repository=repository, run_id=run_id))

    def write(self, batch: Batch) -> int:
        """Store one batch in one transaction, at most once. Returns the rows written (0: stored before)."""
        if self._conn is None:
            raise HistoryError(f"metrics history {self.target} was opened read-only")
        if not batch.rows:
            return 0
        version = self.version()
        self.ensure_partitions(batch.timestamp)
        ts = self.dialect.encode(batch.timestamp)
        with self.transaction("store this run's metrics") as cur:
            if not self._claim(cur, batch, ts, ledger=version >= 2):
                self.rollback()
                log.info("history: run %s is stored already in %s; not stored again", batch.run_id, self.target)
                return 0
            self._insert(cur, batch, ts, with_run_id=version >= 2)
        log.info("history: stored %d values in %s", len(batch.rows), self.target)
        return len(batch.rows)

    def _claim(self, cur: Any, batch: Batch, ts: Any, *, ledger: bool) -> bool:
        """Record the run in the ledger (False: it is there already). A plain table has no ledger: a run is
        then its (repository, timestamp), and one already stored is not stored again."""
        if ledger:
            cur.execute(self.sql(f"INSERT INTO {schema.RUNS} (run_id, repository, timestamp, row_count) "  # noqa: S608  # nosec B608
                                 "VALUES (?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING"),
                        (batch.run_id, batch.repository, ts, len(batch.rows)))
            return bool(cur.rowcount)
        cur.execute(self.sql(f"SELECT 1 FROM {TABLE} WHERE timestamp = ? AND {self.dialect.repository_of()} = ? "  # noqa: S608  # nosec B608
                             "LIMIT 1"), (ts, batch.repository))
        return cur.fetchone() is None

    def _insert(self, cur: Any, batch: Batch, ts: Any, *, with_run_id: bool) -> None:
        columns = _COLUMNS + (", run_id" if with_run_id else "")
        extra = (batch.run_id,) if with_run_id else ()
        rows = [(ts, r.name, r.value, json.dumps(r.metadata, default=str, sort_keys=True), r.source, *extra)
                for r in batch.rows]
        if self.dialect.postgres:
            with cur.copy(f"COPY {TABLE} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" for _ in range(len(rows[0])))
        cur.executemany(f"INSERT INTO {TABLE} ({columns}) VALUES ({marks})", rows)  # noqa: S608  # nosec B608

    # -- reads --------------------------------------------------------------------------------------------

    def latest_before(self, names: Sequence[str], before: datetime, *, repository: str = ""
                      ) -> dict[str, StoredValue]:
        """Each metric's most recent stored value strictly before `before` (the previous run)."""
        if not names:
            return {}
        if self.dialect.postgres:
            return self._latest_before_postgres(names, before, repository)
        marks = ", ".join("?" for _ in names)
        rows = self.query(  # the formatted parts are "?" placeholders and the dialect's own SQL
            "SELECT metric_name, timestamp, metric_value FROM (SELECT metric_name, timestamp, metric_value, "  # noqa: S608  # nosec B608
            "ROW_NUMBER() OVER (PARTITION BY metric_name ORDER BY timestamp DESC, id DESC) AS rn "
            f"FROM project_metrics WHERE metric_name IN ({marks}) AND {self.dialect.scoped()} AND timestamp < ? "
            f"AND {_HAS_VALUE}) latest WHERE rn = 1",
            [*names, repository, self.dialect.encode(before)], "read the previous run")
        return {name: StoredValue(timestamp=self.dialect.decode(t), value=float(v)) for name, t, v in rows}

    def _latest_before_postgres(self, names: Sequence[str], before: datetime, repository: str
                                ) -> dict[str, StoredValue]:
        """latest_before on PostgreSQL: per metric and scope (the repository, and no repository) the newest row
        is one backward step of the repository index (a LATERAL ... LIMIT 1), whatever the store's size."""
        rows = self.query(  # the formatted part is the dialect's own SQL
            "SELECT n.name, x.timestamp, x.metric_value, x.id FROM unnest(?::text[]) AS n(name) "  # noqa: S608  # nosec B608
            "CROSS JOIN unnest(?::text[]) AS s(scope) CROSS JOIN LATERAL (SELECT p.timestamp, p.metric_value, p.id "
            f"FROM project_metrics p WHERE p.metric_name = n.name AND {self.dialect.repository_of('p')} = s.scope "
            "AND p.timestamp < ? AND p.metric_value IS NOT NULL ORDER BY p.timestamp DESC, p.id DESC LIMIT 1) x",
            [list(names), list(dict.fromkeys([repository, ""])), self.dialect.encode(before)],
            "read the previous run")
        best: dict[str, tuple[Any, Any, float]] = {}
        for name, t, v, row_id in rows:
            if name not in best or (t, row_id) > best[name][:2]:
                best[name] = (t, row_id, float(v))
        return {name: StoredValue(timestamp=self.dialect.decode(t), value=v) for name, (t, _, v) in best.items()}

    def values_between(self, names: Sequence[str], start: datetime, end: datetime, *, repository: str = ""
                       ) -> dict[str, list[StoredValue]]:
        """Every stored value of these metrics with start <= timestamp <= end, oldest first."""
        if not names:
            return {}
        marks = ", ".join("?" for _ in names)
        rows = self.query(  # the formatted parts are "?" placeholders and the dialect's own SQL
            "SELECT metric_name, timestamp, metric_value FROM project_metrics "  # noqa: S608  # nosec B608
            f"WHERE metric_name IN ({marks}) AND {self.dialect.scoped()} AND timestamp >= ? AND timestamp <= ? "
            f"AND {_HAS_VALUE} ORDER BY timestamp, id",
            [*names, repository, self.dialect.encode(start), self.dialect.encode(end)], "read past values")
        out: dict[str, list[StoredValue]] = {}
        for name, t, v in rows:
            out.setdefault(name, []).append(StoredValue(timestamp=self.dialect.decode(t), value=float(v)))
        return out

    def series(self, name: str, before: datetime, limit: int, *, repository: str = "") -> list[StoredValue]:
        """The last `limit` values of one metric strictly before `before`, oldest first."""
        rows = self.query(  # the formatted part is the dialect's own SQL
            "SELECT timestamp, metric_value FROM project_metrics "  # noqa: S608  # nosec B608
            f"WHERE metric_name = ? AND {self.dialect.scoped()} AND timestamp < ? AND {_HAS_VALUE} "
            "ORDER BY timestamp DESC, id DESC LIMIT ?",
            [name, repository, self.dialect.encode(before), int(limit)], f"read the {name} trend")
        return [StoredValue(timestamp=self.dialect.decode(t), value=float(v)) for t, v in reversed(rows)]
