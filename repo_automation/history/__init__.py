"""The metrics history: one `project_metrics` table in SQLite (default) or PostgreSQL, and the deltas and
health trend a run reads from it. See store.py (the table), backends.py (opening it) and deltas.py."""

from __future__ import annotations

from repo_automation.history.backends import check_store, describe, open_store
from repo_automation.history.deltas import OVERALL, build_history, health_metrics, read_history
from repo_automation.history.store import HistoryError, HistoryStore, StoredValue

__all__ = [
    "OVERALL",
    "HistoryError",
    "HistoryStore",
    "StoredValue",
    "build_history",
    "check_store",
    "describe",
    "health_metrics",
    "open_store",
    "read_history",
]
