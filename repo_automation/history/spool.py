"""The spool: runs that could not be stored, kept as files until a run reaches the store again.

`.repo-automation/history-spool/` in the workspace (keep it between runs with `actions/cache`, as the
examples do) holds one JSON file per run, named so that name order is time order:
`<UTC timestamp>-<run id>.json` = {"spool_version", "run_id", "repository", "timestamp", "store", "rows"}.
`store` is the store the run was meant for (its description, passwords redacted): a run is only ever
replayed into that store. Files are written atomically (a temporary file, then a rename) and removed only
after the store has committed the run; the store's runs ledger makes a replay after a crash between the
two store nothing twice.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from repo_automation.fileio import make_folder
from repo_automation.history.store import Batch, HistoryError, Row

log = logging.getLogger(__name__)

SPOOL_DIR = Path(".repo-automation/history-spool")
SPOOL_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Spooled:
    path: Path
    store: str
    batch: Batch


def spool_dir(workspace: Path) -> Path:
    return workspace / SPOOL_DIR


def to_json(batch: Batch, store: str) -> dict[str, Any]:
    return {
        "spool_version": SPOOL_VERSION, "run_id": batch.run_id, "repository": batch.repository,
        "timestamp": batch.timestamp.isoformat(), "store": store,
        "rows": [{"name": r.name, "value": r.value, "source": r.source, "metadata": r.metadata} for r in batch.rows],
    }


def from_json(doc: dict[str, Any]) -> Batch:
    rows = tuple(Row(name=str(r["name"]), value=float(r["value"]), source=str(r.get("source", "")),
                     metadata=dict(r.get("metadata") or {})) for r in doc["rows"])
    return Batch(run_id=str(doc["run_id"]), repository=str(doc.get("repository", "")),
                 timestamp=datetime.fromisoformat(str(doc["timestamp"])), rows=rows)


def write(workspace: Path, batch: Batch, store: str) -> Path:
    """Keep `batch` (meant for `store`) in the spool. Raises HistoryError when the file cannot be written."""
    folder = spool_dir(workspace)
    stamp = batch.timestamp.strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"{stamp}-{batch.run_id}.json"
    try:
        make_folder(folder)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".spool-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(to_json(batch, store), fh, sort_keys=True, default=str)  # as the store does
        os.replace(tmp, path)
    except OSError as e:
        raise HistoryError(f"cannot spool this run's metrics to {folder}: {e.strerror or e}") from e
    return path


def pending(workspace: Path) -> list[Spooled]:
    """Every spooled run, oldest first. A file that cannot be read is named in a warning and left in place
    (nothing is lost; the other runs go on)."""
    folder = spool_dir(workspace)
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            out.append(Spooled(path=path, store=str(doc.get("store", "")), batch=from_json(doc)))
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.warning("history: the spooled run %s cannot be read (%s): left in place", path, e)
    return out


def remove(item: Spooled) -> None:
    """Forget a spooled run the store has committed."""
    item.path.unlink(missing_ok=True)
