"""Which files a scan covers: exclude globs, configured roots, manifests."""

from __future__ import annotations

from pathlib import Path

from repo_automation.scanners.discover import is_excluded, is_manifest, manifests, python_files, within

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "scan_fixture"
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
