"""`repo-automation history migrate [--dry-run]`: move a store forward to the current schema version.

Only this command migrates: a run never changes an existing table. Each step runs in one transaction
(PostgreSQL: under the advisory lock the runs take for DDL), so a migration either completes or changes
nothing. From version 2 to 3 the alert lifecycle table is added (a run does that by itself too). From
version 1 (a plain table: the guide's DDL, or this project's earlier one) to the current version:

- PostgreSQL: the plain table is renamed aside, the partitioned table is created, with a partition for every
  month from the oldest row to the next month and the default partition, every row is copied (ids kept;
  NULL metadata becomes {}, NULL source ''), the counts are compared, and the old table is dropped.
- SQLite: the `run_id` column, the runs ledger and the version table are added, and the index on
  (metric_name, timestamp) takes the guide's name `idx_project_metrics_name`. No row is rewritten.

A dry run reads only (row count, time range) and says what would be done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from repo_automation.history import schema
from repo_automation.history.backends import describe, open_store
from repo_automation.history.store import HistoryError, HistoryStore

OLD = f"{schema.TABLE}_v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Survey:
    """What the store holds before the migration."""

    version: int
    rows: int
    first: datetime | None
    last: datetime | None
    no_timestamp: int


def survey(store: HistoryStore) -> Survey:
    version = store.version(fresh=True)
    if version == 0:
        return Survey(version=0, rows=0, first=None, last=None, no_timestamp=0)
    [(rows, first, last, missing)] = store.query(
        f"SELECT COUNT(*), MIN(timestamp), MAX(timestamp), COUNT(*) - COUNT(timestamp) FROM {schema.TABLE}",  # noqa: S608  # nosec B608
        (), "count the rows")
    decode = store.dialect.decode
    return Survey(version=version, rows=int(rows), first=decode(first) if first is not None else None,
                  last=decode(last) if last is not None else None, no_timestamp=int(missing))


def _partitions(s: Survey, now: datetime) -> list[datetime]:
    last = max(s.last or now, now)
    return [*schema.months(s.first or now, last), schema.next_month(schema.month_start(last))]


def plan(store: HistoryStore, s: Survey, now: datetime) -> list[str]:
    """The steps from `s.version` to the current version, in words."""
    span = "" if s.first is None or s.last is None else f" from {s.first:%Y-%m-%d} to {s.last:%Y-%m-%d}"
    if store.dialect.postgres:
        parts = _partitions(s, now)
        return [f"rename {schema.TABLE} to {OLD}; create {schema.TABLE} partitioned by month on timestamp, with "
                f"{len(parts)} monthly partitions ({schema.partition_name(parts[0])} … "
                f"{schema.partition_name(parts[-1])}) and {schema.DEFAULT_PARTITION}",
                f"copy the {s.rows:,} rows{span} (ids kept), check the count, drop {OLD}",
                f"add run_id, the runs ledger {schema.RUNS} and the version table {schema.VERSIONS}"]
    return [f"add the run_id column, the runs ledger {schema.RUNS} and the version table {schema.VERSIONS}",
            "index (metric_name, timestamp) as idx_project_metrics_name",
            f"keep the {s.rows:,} rows{span} as they are"]


def run_migrate(target: str, workspace: Path, *, dry_run: bool, now: datetime | None = None) -> list[str]:
    """Migrate the store named by `target` (or, with `dry_run`, say how). Returns the lines to show.
    Raises HistoryError (the store unchanged) when it cannot."""
    when = now or datetime.now(UTC)
    where = describe(target, workspace)
    with open_store(target, workspace, readonly=True) as store:
        s = survey(store)
        if s.version == 0:
            return [f"{where}: no {schema.TABLE} table: nothing to migrate (the first run with --store-db "
                    f"creates it at schema version {schema.CURRENT})"]
        if s.version >= schema.CURRENT:
            return [f"{where}: at schema version {s.version}, the current one: nothing to migrate"]
        if s.no_timestamp:
            raise HistoryError(f"metrics history {where}: {s.no_timestamp:,} rows have no timestamp, which a "
                               "partitioned table cannot hold: set a timestamp on each (or remove them), "
                               "then migrate")
        steps = plan(store, s, when) if s.version == 1 else []
        steps.append(f"add the alert lifecycle table {schema.ALERTS}")
    head = f"{where}: schema version {s.version} → {schema.CURRENT} ({schema.DESCRIPTIONS[schema.CURRENT]})"
    if dry_run:
        return [head, *(f"  would {step}" for step in steps), "dry run: nothing was changed"]
    with open_store(target, workspace) as store:  # opening a store at version 2 adds the alert table
        if s.version == 1:
            kept = _migrate_postgres(store, s, when) if store.dialect.postgres else _migrate_sqlite(store)
        else:
            kept = survey(store).rows
    if kept != s.rows:
        raise HistoryError(f"metrics history {where}: {kept:,} rows after the migration, {s.rows:,} before")
    return [head, *(f"  {step}" for step in steps), f"migrated: {kept:,} rows kept"]


def _count(cur: Any, table: str) -> int:
    cur.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608  # nosec B608
    return int(cur.fetchone()[0])


def _migrate_postgres(store: HistoryStore, s: Survey, now: datetime) -> int:
    with store.transaction("migrate the project_metrics table") as cur:
        cur.execute(f"SELECT pg_advisory_xact_lock({schema.LOCK_KEY})")
        before = _count(cur, schema.TABLE)
        cur.execute(f"ALTER TABLE {schema.TABLE} RENAME TO {OLD}")
        cur.execute("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE i.indrelid = %s::regclass", (OLD,))
        for (index,) in cur.fetchall():  # the new table's indexes take the names
            cur.execute(f'ALTER INDEX "{index}" RENAME TO "{index[:59]}_v1"')
        for statement in schema.POSTGRES_CREATE:
            cur.execute(statement)
        for start in _partitions(s, now):
            for statement in schema.create_partition(start):
                cur.execute(statement)
        cur.execute(f"INSERT INTO {schema.TABLE} (id, timestamp, metric_name, metric_value, metric_metadata, "  # noqa: S608  # nosec B608
                    "source) SELECT id, timestamp, metric_name, metric_value::double precision, "
                    "COALESCE(metric_metadata::jsonb, '{}'::jsonb), COALESCE(source::text, '') "
                    f"FROM {OLD} ORDER BY id")
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{schema.TABLE}', 'id'), "  # noqa: S608  # nosec B608
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {schema.TABLE}), false)")
        after = _count(cur, schema.TABLE)
        if after != before:
            raise HistoryError(f"metrics history {store.target}: {after:,} rows copied of {before:,}: "
                               "the migration was rolled back")
        cur.execute(f"DROP TABLE {OLD}")
        for version in range(s.version, schema.CURRENT + 1):
            cur.execute(schema.record_version(version))
    store.version(fresh=True)
    return after


def _migrate_sqlite(store: HistoryStore) -> int:
    with store.transaction("migrate the project_metrics table") as cur:
        cur.execute("BEGIN IMMEDIATE")
        cur.execute(f"SELECT name FROM pragma_table_info('{schema.TABLE}')")  # noqa: S608  # nosec B608
        if "run_id" not in {r[0] for r in cur.fetchall()}:
            cur.execute(f"ALTER TABLE {schema.TABLE} ADD COLUMN run_id TEXT")
        for old in ("metric_name", "repository"):  # the name index takes the guide's name; repository: new order
            cur.execute(f"DROP INDEX IF EXISTS idx_{schema.TABLE}_{old}")
        for statement in schema.SQLITE_CREATE:
            cur.execute(statement)
        for version in range(1, schema.CURRENT + 1):
            cur.execute(schema.record_version(version))
        after = _count(cur, schema.TABLE)
    store.version(fresh=True)
    return after
