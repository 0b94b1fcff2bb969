"""Helpers for the scanner tests: contexts, git, the real tools, stand-in tools for failure injection."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

from tests.fakeosv import FakeOSV
from tests.helpers import make_context

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "scan_fixture"
VENV_BIN = Path(__file__).resolve().parents[3] / ".venv" / "bin"


def tool_path(name: str) -> str:
    """The real tool: beside the test's Python (the project venv), else on PATH."""
    import sys

    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} must be installed for the scanner tests (it is a dependency of the package)"
    return found


def scan_config(osv: FakeOSV | None, **security: Any) -> dict[str, Any]:
    sec: dict[str, Any] = {"vulnerability_service": "osv", "timeout_seconds": 120}
    if osv is not None:
        sec["osv_url"] = osv.query_url
    sec.update(security)
    return {"automation": {"security_scanning": sec}}


def context(workspace: Path, osv: FakeOSV | None = None, *, env: dict[str, str] | None = None,
            event_path: Path | None = None, **security: Any) -> Any:
    environ = dict(env or {})
    if event_path is not None:
        environ["GITHUB_EVENT_PATH"] = str(event_path)
    return make_context(workspace, config=scan_config(osv, **security), env=environ)


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=60, check=True)
    return proc.stdout.strip()


def fake_tool(folder: Path, name: str, script: str) -> str:
    """A stand-in executable for failure injection (garbage output, crash, hang)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


def audited_pins(osv: FakeOSV) -> list[tuple[str, str]]:
    """The pins pip-audit asked the OSV server about (our severity queries, made under our User-Agent, left out)."""
    from repo_automation.scanners.osv import USER_AGENT

    return osv.queries_from(USER_AGENT, others=True)


def external_tool(name: str, env_var: str, how: str) -> str:
    """A scanner installed outside the project venv (its own venv, a binary): `env_var`, else on PATH."""
    found = os.environ.get(env_var) or shutil.which(name)
    assert found, f"{name} must be installed for this test: {how} (.ci/run does this)"
    return found
