"""Writing a file so that a reader never meets half of it: a temporary file in the same folder, then a rename;
and making the folders our files go in, where our own state folder (`.repo-automation/`) ignores itself."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

STATE_DIR = ".repo-automation"  # caches, the default history and its spool: never part of the user's tree


def make_folder(folder: Path) -> None:
    """Create `folder` (and its parents). Inside `.repo-automation/` a `.gitignore` of `*` is left too, so the
    state folder never shows in the user's `git status` and is never committed by mistake."""
    folder.mkdir(parents=True, exist_ok=True)
    for part in (folder, *folder.parents):
        if part.name == STATE_DIR:
            ignore = part / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# repo-automation's state (caches, history): not part of the repository\n*\n",
                                  encoding="utf-8")
            break


def write_atomic(path: Path, text: str) -> None:
    """Write text to path via a temp file in the same folder and a rename (never a half-written file)."""
    make_folder(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
