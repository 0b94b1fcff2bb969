"""The sample repository the end-to-end runs check out as the workspace (tests/e2e runs entrypoint.py on it,
tests/container runs the image on it): one module bandit has findings in, the project's own configuration, and a
real git history made with the system's git (git's global and system config kept out)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

# The sample repository's configuration: bandit only (no scanner that needs the internet), no dependency PRs.
SAMPLE_CONFIG: dict[str, Any] = {
    "automation": {
        "dependency_updates": {"enabled": False},
        "security_scanning": {"tools": ["bandit"], "fail_on_high": False, "fail_on_critical": False},
        "code_quality": {"enabled": False},
    },
}

# bandit reports B602 (shell=True, high) in run() and B101 (assert, low) in check().
SAMPLE_CODE = '''import subprocess


def run(command):
    """Runs a shell command: bandit reports shell=True."""
    return subprocess.call(command, shell=True)


def check(value):
    assert value, "value required"
    return value * 2
'''


def git(cwd: Path, *args: str, date: str | None = None) -> str:
    """Run git in cwd as Mona, with HOME at cwd and no system config; `date` (ISO 8601) fixes the author and
    committer dates, else git takes the clock's."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "Mona", "GIT_AUTHOR_EMAIL": "mona@example.com",
           "GIT_COMMITTER_NAME": "Mona", "GIT_COMMITTER_EMAIL": "mona@example.com"}
    if date is not None:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True,
                          timeout=30).stdout


def write_sample_repo(workspace: Path, *, date: str | None = None) -> Path:
    """Create the sample repository at `workspace`: app/tasks.py (SAMPLE_CODE), .github/project-metrics.json
    (SAMPLE_CONFIG), committed on branch main as "Sample project" (at `date`, if given)."""
    (workspace / "app").mkdir(parents=True)
    (workspace / "app" / "__init__.py").write_text("", encoding="utf-8")
    (workspace / "app" / "tasks.py").write_text(SAMPLE_CODE, encoding="utf-8")
    (workspace / ".github").mkdir()
    (workspace / ".github" / "project-metrics.json").write_text(json.dumps(SAMPLE_CONFIG, indent=2),
                                                                 encoding="utf-8")
    git(workspace, "init", "-q", "-b", "main")
    git(workspace, "add", ".")
    git(workspace, "commit", "-q", "-m", "Sample project", date=date)
    return workspace
