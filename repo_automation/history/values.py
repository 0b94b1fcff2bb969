"""The values the history store reads and writes, and how each dialect spells its SQL: plain data, no I/O."""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from repo_automation.domain import Metric
from repo_automation.errors import RepoAutomationError

log = logging.getLogger(__name__)


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
class Row:
    """One metric of a batch, as stored (the metadata already carries the repository)."""

    name: str
    value: float
    source: str
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """One run's rows: written in one transaction, at most once (by `run_id`)."""

    run_id: str
    repository: str
    timestamp: datetime
    rows: tuple[Row, ...]

    @classmethod
    def of(cls, metrics: Iterable[Metric], timestamp: datetime, *, repository: str = "",
           run_id: str | None = None) -> Batch:
        """A batch of the finite metrics (NaN and infinities are not stored), `repository` in each row."""
        rows = []
        for m in metrics:
            if not math.isfinite(m.value):
                log.debug("history: %s is %s, not stored", m.name, m.value)
                continue
            metadata = {**m.metadata, "repository": repository} if repository else dict(m.metadata)
            rows.append(Row(name=m.name, value=float(m.value), source=m.source, metadata=metadata))
        return cls(run_id=run_id or uuid.uuid4().hex, repository=repository, timestamp=timestamp, rows=tuple(rows))


@dataclass(frozen=True, slots=True, kw_only=True)
class Dialect:
    name: str  # sqlite | postgresql
    param: str  # DB-API placeholder
    exists: str  # a query whose one value is NULL/absent when the table named by its parameter is missing
    errors: tuple[type[Exception], ...]
    repository: str  # SQL for a row's repository ('' when none), `{t}` standing for a table alias and dot

    @property
    def postgres(self) -> bool:
        return self.name == "postgresql"

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

    def days_between(self, newer: str, older: str) -> str:
        """SQL for the days (fractional) from timestamp column `older` to `newer`."""
        if self.postgres:
            return f"(EXTRACT(EPOCH FROM ({newer} - {older})) / 86400.0)"
        return f"(julianday({newer}) - julianday({older}))"


def metadata_of(raw: Any) -> dict[str, Any]:
    """A row's metadata: JSONB arrives as a dict (PostgreSQL), TEXT as a JSON string (SQLite)."""
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
