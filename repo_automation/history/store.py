"""The metrics history store: one table, `project_metrics`, in SQLite (default) or PostgreSQL.

    project_metrics(id, timestamp, metric_name, metric_value, metric_metadata JSON, source)
    indexes: timestamp · (metric_name, timestamp) · source · (repository, metric_name, timestamp)

One store may hold many repositories (an organisation's matrix of jobs sharing one PostgreSQL database):
every row records its run's repository in `metric_metadata.repository`, and every read is scoped to one
repository, so a run is never compared with another repository's numbers. Rows stored before the scope
existed carry no repository and are read by every scope (a store that only ever held one repository, the
SQLite default, keeps its history across the upgrade).

The table and its indexes are created when missing (PostgreSQL: under an advisory lock, so a matrix of jobs
sharing one database cannot race). Every row of one run carries the run's timestamp: a run is a timestamp.
SQLite keeps timestamps as ISO-8601 UTC text of fixed width (so text order is time order), PostgreSQL as
TIMESTAMPTZ. Every database problem becomes a HistoryError naming the store (passwords redacted).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from repo_automation.domain import Metric
from repo_automation.errors import RepoAutomationError

log = logging.getLogger(__name__)

TABLE = "project_metrics"
_CHECK_COLUMNS = (
    "SELECT id, timestamp, metric_name, metric_value, metric_metadata, source FROM project_metrics WHERE 1 = 0"
)
_INSERT = (
    "INSERT INTO project_metrics (timestamp, metric_name, metric_value, metric_metadata, source) "
    "VALUES (?, ?, ?, ?, ?)"
)


class HistoryError(RepoAutomationError):
    """The history store cannot be opened, created, read or written."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredValue:
    timestamp: datetime
    value: float


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRow:
    name: str
    value: float
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Dialect:
    name: str  # sqlite | postgresql
    param: str  # DB-API placeholder
    create: tuple[str, ...]  # statements run in one transaction when the table may be missing
    exists: str  # a query whose one value is NULL/absent when the table is missing
    errors: tuple[type[Exception], ...]
    repository: str  # SQL for a row's repository ('' when none), `{t}` standing for a table alias and dot

    def repository_of(self, alias: str = "") -> str:
        """SQL for the repository of a row (of table `alias` when given)."""
        return self.repository.format(t=alias + "." if alias else "")

    def scoped(self, alias: str = "") -> str:
        """A WHERE condition: the row belongs to the repository given as the parameter, or to none."""
        return f"{self.repository_of(alias)} IN (?, '')"

    def encode(self, ts: datetime) -> Any:
        if ts.tzinfo is None:
            raise HistoryError(f"history timestamps must carry a time zone, got {ts.isoformat()}")
        utc = ts.astimezone(UTC)
        return utc.isoformat(timespec="microseconds") if self.name == "sqlite" else utc

    def decode(self, raw: Any) -> datetime:
        if isinstance(raw, datetime):
            return raw.astimezone(UTC)
        return datetime.fromisoformat(str(raw)).astimezone(UTC)


class HistoryStore:
    """An open history store. A context manager: leaving it closes the connection.

    `connection` None is a store that does not exist yet, opened only to read: it answers with no rows.
    """

    def __init__(self, *, connection: Any, dialect: Dialect, target: str) -> None:
        self._conn = connection
        self.dialect = dialect
        self.target = target  # the resolved path or the redacted URL

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
    def _errors(self, doing: str) -> Iterator[None]:
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

    def _sql(self, text: str) -> str:
        return text.replace("?", self.dialect.param)

    def _query(self, text: str, params: Sequence[Any], doing: str) -> list[tuple[Any, ...]]:
        if self._conn is None:
            return []
        with self._errors(doing):
            cur = self._conn.cursor()
            try:
                cur.execute(self._sql(text), tuple(params))
                rows = cur.fetchall()
            finally:
                cur.close()
            self._conn.rollback()  # reads end their transaction: no idle-in-transaction on PostgreSQL
        return [tuple(r) for r in rows]

    def ensure_schema(self) -> None:
        """Create the table and indexes when missing, then check the columns are the expected ones."""
        if self._conn is None:
            return
        if self.table_exists():
            self.check_columns()
        with self._errors("create the project_metrics table"):
            cur = self._conn.cursor()
            try:
                for statement in self.dialect.create:
                    cur.execute(statement)
            finally:
                cur.close()
            self._conn.commit()
        self.check_columns()

    def table_exists(self) -> bool:
        rows = self._query(self.dialect.exists, (TABLE,), f"look for the {TABLE} table")
        return bool(rows) and rows[0][0] is not None

    def check_columns(self) -> None:
        self._query(_CHECK_COLUMNS, (), f"use the existing {TABLE} table, whose columns are not "
                    "(id, timestamp, metric_name, metric_value, metric_metadata, source)")

    def record(self, metrics: Iterable[Metric], timestamp: datetime, *, repository: str = "") -> int:
        """Insert one row per finite metric, all with `timestamp` and `repository` (kept in the metadata), in
        one transaction. Returns the row count."""
        if self._conn is None:
            raise HistoryError(f"metrics history {self.target} was opened read-only")
        ts = self.dialect.encode(timestamp)
        rows = []
        for m in metrics:
            if not math.isfinite(m.value):
                log.debug("history: %s is %s, not stored", m.name, m.value)
                continue
            metadata = {**m.metadata, "repository": repository} if repository else dict(m.metadata)
            rows.append((ts, m.name, float(m.value), json.dumps(metadata, default=str, sort_keys=True), m.source))
        if not rows:
            return 0
        sql = self._sql(_INSERT)
        with self._errors("store this run's metrics"):
            cur = self._conn.cursor()
            try:
                cur.executemany(sql, rows)
            finally:
                cur.close()
            self._conn.commit()
        log.info("history: stored %d values in %s", len(rows), self.target)
        return len(rows)

    def latest_before(self, names: Sequence[str], before: datetime, *, repository: str = ""
                      ) -> dict[str, StoredValue]:
        """Each metric's most recent stored value strictly before `before` (the previous run)."""
        if not names:
            return {}
        marks = ", ".join("?" for _ in names)
        ts = self.dialect.encode(before)
        rows = self._query(  # the formatted parts are "?" placeholders and the dialect's own SQL
            "SELECT p.metric_name, p.timestamp, p.metric_value FROM project_metrics p "  # noqa: S608  # nosec B608
            f"WHERE p.metric_name IN ({marks}) AND {self.dialect.scoped('p')} AND p.timestamp = "
            "(SELECT MAX(q.timestamp) FROM project_metrics q WHERE q.metric_name = p.metric_name AND "
            f"{self.dialect.scoped('q')} AND q.timestamp < ?) ORDER BY p.id",
            [*names, repository, repository, ts], "read the previous run")
        return {name: StoredValue(timestamp=self.dialect.decode(t), value=float(v)) for name, t, v in rows}

    def values_between(self, names: Sequence[str], start: datetime, end: datetime, *, repository: str = ""
                       ) -> dict[str, list[StoredValue]]:
        """Every stored value of these metrics with start <= timestamp <= end, oldest first."""
        if not names:
            return {}
        marks = ", ".join("?" for _ in names)
        rows = self._query(  # the formatted parts are "?" placeholders and the dialect's own SQL
            "SELECT metric_name, timestamp, metric_value FROM project_metrics "  # noqa: S608  # nosec B608
            f"WHERE metric_name IN ({marks}) AND {self.dialect.scoped()} AND timestamp >= ? AND timestamp <= ? "
            "ORDER BY timestamp, id",
            [*names, repository, self.dialect.encode(start), self.dialect.encode(end)], "read past values")
        out: dict[str, list[StoredValue]] = {}
        for name, t, v in rows:
            out.setdefault(name, []).append(StoredValue(timestamp=self.dialect.decode(t), value=float(v)))
        return out

    def series(self, name: str, before: datetime, limit: int, *, repository: str = "") -> list[StoredValue]:
        """The last `limit` values of one metric strictly before `before`, oldest first."""
        rows = self._query(  # the formatted part is the dialect's own SQL
            "SELECT timestamp, metric_value FROM project_metrics "  # noqa: S608  # nosec B608
            f"WHERE metric_name = ? AND {self.dialect.scoped()} AND timestamp < ? ORDER BY timestamp DESC, id DESC "
            "LIMIT ?",
            [name, repository, self.dialect.encode(before), int(limit)], f"read the {name} trend")
        return [StoredValue(timestamp=self.dialect.decode(t), value=float(v)) for t, v in reversed(rows)]

    def repositories(self, name: str) -> list[str]:
        """The repositories with at least one stored `name` (rows without a repository left out), sorted."""
        repo = self.dialect.repository_of()
        rows = self._query(  # the formatted part is the dialect's own SQL
            f"SELECT DISTINCT {repo} FROM project_metrics WHERE metric_name = ? AND {repo} <> '' "  # noqa: S608  # nosec B608
            "ORDER BY 1", [name], "list the repositories")
        return [str(r[0]) for r in rows]

    def latest_run(self, repository: str, anchor: str, prefix: str) -> tuple[datetime, list[StoredRow]] | None:
        """The newest run of `repository` that stored `anchor`: its timestamp and its rows named `prefix`…"""
        repo = self.dialect.repository_of()
        rows = self._query(  # the formatted part is the dialect's own SQL
            "SELECT timestamp, metric_name, metric_value, metric_metadata FROM project_metrics "  # noqa: S608  # nosec B608
            f"WHERE {repo} = ? AND metric_name LIKE ? AND timestamp = (SELECT MAX(timestamp) FROM project_metrics "
            f"WHERE {repo} = ? AND metric_name = ?) ORDER BY metric_name, id",
            [repository, prefix.replace("%", "") + "%", repository, anchor], f"read the last run of {repository}")
        if not rows:
            return None
        when = self.dialect.decode(rows[0][0])
        return when, [StoredRow(name=str(n), value=float(v), metadata=_metadata(meta)) for _, n, v, meta in rows]


def _metadata(raw: Any) -> dict[str, Any]:
    """A row's metadata: JSONB arrives as a dict (PostgreSQL), TEXT as a JSON string (SQLite)."""
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
