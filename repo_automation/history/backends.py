"""Opening the history store from the `history-db` setting: a SQLite path or a postgresql:// URL.

- A path (or `sqlite:///path`) is SQLite, relative to the workspace; its parent folders are created.
- `postgresql://` or `postgres://` is PostgreSQL through psycopg 3 (imported only then). The URL may carry
  libpq options, e.g. `?options=-csearch_path%3Dmetrics` to keep the table in its own schema.
- Anything else is a HistoryError that says what is accepted.

Opened `readonly`, a store that does not exist yet is not created: it reads as empty. That is how a run that
only shows deltas reads the history without writing anything.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path
from typing import Any

from repo_automation.fileio import make_folder
from repo_automation.history.schema import POSTGRES_REPOSITORY, SQLITE_REPOSITORY
from repo_automation.history.store import Dialect, HistoryError, HistoryStore
from repo_automation.redaction import redact_url

log = logging.getLogger(__name__)

SQLITE = Dialect(name="sqlite", param="?", errors=(sqlite3.Error,), repository=SQLITE_REPOSITORY,
                 exists="SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
CONNECT_TIMEOUT_S = 10
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
POSTGRES_SCHEMES = ("postgresql", "postgres")


def is_postgres(target: str) -> bool:
    return target.strip().split("://", 1)[0].lower() in POSTGRES_SCHEMES and "://" in target


def sqlite_path(target: str, workspace: Path) -> Path:
    """The SQLite file a `history-db` value names, resolved against the workspace."""
    raw = target.strip()
    if raw.lower().startswith("sqlite:///"):
        raw = raw[len("sqlite:///"):]
    elif _URL.match(raw):
        scheme = raw.split("://", 1)[0]
        raise HistoryError(
            f"history-db: unsupported URL scheme {scheme!r} in {redact_url(raw)}: give a SQLite file path "
            "(e.g. .repo-automation/history.sqlite) or a postgresql://user@host:5432/database URL")
    path = Path(raw).expanduser()
    return path if path.is_absolute() else workspace / path


def describe(target: str, workspace: Path) -> str:
    """Where the history lives, fit for a report (no password)."""
    if is_postgres(target):
        return redact_url(target.strip())
    return str(sqlite_path(target, workspace))


def open_store(target: str, workspace: Path, *, readonly: bool = False) -> HistoryStore:
    """Open (and unless `readonly`, create) the history store named by `target`. Raises HistoryError."""
    check_target(target, workspace)
    if is_postgres(target):
        return _open_postgres(target.strip(), readonly=readonly)
    return _open_sqlite(sqlite_path(target, workspace), readonly=readonly)


def check_target(target: str, workspace: Path) -> str:
    """What can be checked of `target` without reaching the store (a preflight: nothing is opened or written):
    it names a SQLite file or a PostgreSQL URL, and psycopg is installed for the latter. Returns the
    description of the store; raises HistoryError with the reason otherwise."""
    if not target or not target.strip():
        raise HistoryError("history-db is empty: give a SQLite file path or a postgresql:// URL")
    if is_postgres(target):
        _psycopg(redact_url(target.strip()))
        return redact_url(target.strip())
    path = sqlite_path(target, workspace)
    if path.is_dir():
        raise HistoryError(f"history-db {path} is a folder: name a file, e.g. {path / 'history.sqlite'}")
    return str(path)


def _open_sqlite(path: Path, *, readonly: bool) -> HistoryStore:
    if readonly and not path.exists():
        log.debug("history: %s does not exist yet; no past runs", path)
        return HistoryStore(connection=None, dialect=SQLITE, target=str(path))
    try:
        if readonly:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        else:
            make_folder(path.parent)
            conn = sqlite3.connect(path, timeout=30)
    except (OSError, sqlite3.Error) as e:
        raise HistoryError(f"metrics history {path}: cannot open: {e}") from e
    return _prepared(HistoryStore(connection=conn, dialect=SQLITE, target=str(path)), readonly=readonly)


def _prepared(store: HistoryStore, *, readonly: bool) -> HistoryStore:
    """Create the table (writing) or check it (reading: a missing table reads as an empty store)."""
    try:
        if not readonly:
            store.ensure_schema()
        elif store.table_exists():
            store.check_columns()
            store.version()
        else:
            store.close()
            return HistoryStore(connection=None, dialect=store.dialect, target=store.target)
    except HistoryError:
        store.close()
        raise
    return store


def _open_postgres(url: str, *, readonly: bool) -> HistoryStore:
    shown = redact_url(url)
    psycopg = _psycopg(shown)
    dialect = Dialect(name="postgresql", param="%s", errors=(psycopg.Error,), exists="SELECT to_regclass(?)",
                      repository=POSTGRES_REPOSITORY)
    try:
        conn: Any = psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, application_name="repo-automation")
    except psycopg.Error as e:
        detail = " ".join(str(e).split())
        raise HistoryError(f"cannot connect to the metrics history {shown}: {detail}") from e
    return _prepared(HistoryStore(connection=conn, dialect=dialect, target=shown), readonly=readonly)


def _psycopg(shown: str) -> Any:
    try:
        import psycopg
    except ImportError as e:
        raise HistoryError(f"history-db {shown} needs psycopg: pip install 'repo-automation[postgres]'") from e
    return psycopg
