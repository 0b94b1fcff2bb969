"""The metrics history: one `project_metrics` table in SQLite (default) or PostgreSQL, and the deltas and
health trend a run reads from it. See store.py (reads and writes), values.py, schema.py (versions, partitions),
migrate.py (`repo-automation history migrate`), backends.py (opening it), spool.py (runs kept while the
store cannot be reached), deltas.py and rollup.py."""

from __future__ import annotations

from repo_automation.history.backends import check_target, describe, open_store
from repo_automation.history.deltas import OVERALL, build_history, health_metrics, read_history
from repo_automation.history.store import Batch, HistoryError, HistoryStore, StoredValue

__all__ = [
    "OVERALL",
    "Batch",
    "HistoryError",
    "HistoryStore",
    "StoredValue",
    "build_history",
    "check_target",
    "describe",
    "health_metrics",
    "open_store",
    "read_history",
]
