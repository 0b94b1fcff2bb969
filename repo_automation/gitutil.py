"""Running git: argument lists, a timeout, stderr kept for the report."""

from __future__ import annotations

import subprocess
from pathlib import Path

from repo_automation.errors import SourceFailed


def run_git(args: list[str], cwd: Path, *, timeout: float = 60.0, errors: str = "strict") -> str:
    """Run `git ARGS` in cwd and return stdout; raise SourceFailed with git's stderr on failure.

    `errors="replace"` for output that may hold bytes that are not UTF-8 (old author names)."""
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, errors=errors,
            timeout=timeout, check=False,
        )
    except FileNotFoundError as e:
        raise SourceFailed("git is not installed") from e
    except subprocess.TimeoutExpired as e:
        raise SourceFailed(f"git {args[0]} timed out after {timeout:.0f}s") from e
    if proc.returncode != 0:
        raise SourceFailed(f"git {' '.join(args[:2])} failed: {proc.stderr.strip()[:500]}")
    return proc.stdout


def is_git_checkout(path: Path) -> bool:
    try:
        return run_git(["rev-parse", "--is-inside-work-tree"], path, timeout=10).strip() == "true"
    except SourceFailed:
        return False


def changed_files(cwd: Path, base: str, head: str = "HEAD") -> list[str]:
    """Repo-relative paths changed between the merge base of base and head, and head."""
    out = run_git(["diff", "--name-only", "--no-renames", f"{base}...{head}"], cwd)
    return [line for line in out.splitlines() if line]
