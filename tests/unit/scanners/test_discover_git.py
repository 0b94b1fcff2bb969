"""In a git checkout the scanners see what the repository holds, not what lies around in the work tree."""

from __future__ import annotations

import subprocess
from pathlib import Path

from repo_automation.scanners.discover import walk


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _tree(root: Path) -> None:
    for rel in ("app/main.py", "app/new_module.py", ".venv-tools/lib/site.py", "build/gen.py", "vendor/x.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("print('x')\n", encoding="utf-8")
    (root / ".gitignore").write_text(".venv-tools/\nbuild/\n", encoding="utf-8")


def test_ignored_folders_are_never_scanned_whatever_they_are_called(tmp_path: Path) -> None:
    _tree(tmp_path)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "app/main.py", ".gitignore", "vendor/x.py")
    files = walk(tmp_path, [], ["vendor"])
    # tracked, and untracked-but-not-ignored (a new module not yet added) are scanned;
    # ignored folders (.venv-tools, build) and excluded globs (vendor) are not
    assert files == [".gitignore", "app/main.py", "app/new_module.py"]


def test_outside_a_checkout_every_file_is_walked_minus_the_excludes(tmp_path: Path) -> None:
    _tree(tmp_path)
    files = walk(tmp_path, ["app", "build"], ["vendor"])
    assert files == ["app/main.py", "app/new_module.py", "build/gen.py"]


def test_configured_roots_restrict_a_checkout_too(tmp_path: Path) -> None:
    _tree(tmp_path)
    _git(tmp_path, "init", "-q")
    assert walk(tmp_path, ["app"], []) == ["app/main.py", "app/new_module.py"]
