"""Which files a scan covers: exclude globs, configured roots, manifests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from repo_automation.discover import is_excluded, is_manifest, manifests, python_files, walk, within

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "scan_fixture"
DEFAULT = (".venv", "venv", "node_modules", ".git", "build", "dist")


def test_exclude_matches_folders_names_and_paths() -> None:
    assert is_excluded("venv/generated.py", DEFAULT)
    assert is_excluded("pkg/node_modules/x.py", DEFAULT)
    assert not is_excluded("app/rebuild.py", DEFAULT)  # a name containing "build" is not the build folder
    assert is_excluded("app/web.py", ["app/web.py"]) and is_excluded("app/web.py", ["*.py"])
    assert is_excluded("tests/data/x.py", ["tests/data"])


def test_fixture_files_and_manifests() -> None:
    assert python_files(FIXTURE, None, (), DEFAULT) == ["app/__init__.py", "app/shell.py", "app/web.py"]
    assert manifests(FIXTURE, None, (), DEFAULT) == ["pyproject.toml", "requirements.txt"]
    assert python_files(FIXTURE, ["app/web.py", "gone.py", "README.md"], (), DEFAULT) == ["app/web.py"]


def test_manifest_names_and_roots() -> None:
    assert is_manifest("requirements-dev.txt") and is_manifest("requirements/base.txt")
    assert is_manifest("sub/pyproject.toml") and not is_manifest("notes.txt")
    assert is_manifest("pylock.toml") and is_manifest("sub/pylock.dev.toml")  # PEP 751 lock files
    assert not is_manifest("pylock.a.b.toml") and not is_manifest("mypylock.toml")
    assert within("src/a.py", ["src"]) and within("src/a.py", ["src/"]) and not within("srcx/a.py", ["src"])
    assert within("anything.py", []) and within("x.py", ["."])


# In a git checkout the scanners see what the repository holds, not what lies around in the work tree.
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
