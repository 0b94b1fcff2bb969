"""Our state folder ignores itself: nothing we keep between runs shows in the user's `git status`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from repo_automation.fileio import make_folder, write_atomic


def test_the_state_folder_never_shows_in_git_status(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write_atomic(tmp_path / ".repo-automation" / "cache" / "x.json", "{}\n")
    make_folder(tmp_path / "reports")
    (tmp_path / "reports" / "r.md").write_text("report\n", encoding="utf-8")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=tmp_path,
                            capture_output=True, text=True, check=True).stdout
    assert status == "?? reports/r.md\n"  # the reports are the user's to keep or ignore; our state is not
    assert (tmp_path / ".repo-automation" / "cache" / "x.json").read_text(encoding="utf-8") == "{}\n"
