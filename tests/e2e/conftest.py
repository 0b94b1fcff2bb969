"""Run `python entrypoint.py` the way the runner starts the container: INPUT_* (hyphens kept), GITHUB_*
files, a webhook payload, a sample git repository as the workspace. No token and no network: every URL
points at a closed port on 127.0.0.1, and git's global config lives in the test's HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "entrypoint.py"
EXAMPLES = ROOT / "node_modules" / "@octokit" / "webhooks-examples" / "api.github.com" / "index.json"
PAYLOADS = Path(__file__).parent / "payloads"
CLOSED = "http://127.0.0.1:9"  # discard port: nothing listens, a stray request fails at once

# The sample repository's own configuration: bandit only (no network scanners), no dependency updates.
SAMPLE_CONFIG: dict[str, Any] = {
    "automation": {
        "dependency_updates": {"enabled": False},
        "security_scanning": {"tools": ["bandit"], "fail_on_high": False, "fail_on_critical": False},
        "code_quality": {"enabled": False},
    },
}

SAMPLE_CODE = '''import subprocess


def run(command):
    """Runs a shell command: bandit reports shell=True."""
    return subprocess.call(command, shell=True)


def check(value):
    assert value, "value required"
    return value * 2
'''


def _examples() -> list[dict[str, Any]]:
    return json.loads(EXAMPLES.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def example_payload(event: str, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first real payload of `event` in @octokit/webhooks-examples that matches predicate."""
    for group in _examples():
        if group["name"] == event:
            for ex in group["examples"]:
                if predicate(ex):
                    return ex  # type: ignore[no-any-return]
    raise LookupError(f"no {event} example matches")


EVENTS: dict[str, Callable[[], dict[str, Any]]] = {
    "push": lambda: example_payload("push", lambda e: str(e.get("ref", "")).startswith("refs/heads/")),
    "pull_request-opened": lambda: example_payload("pull_request", lambda e: e.get("action") == "opened"),
    "pull_request-synchronize": lambda: example_payload("pull_request", lambda e: e.get("action") == "synchronize"),
    "workflow_dispatch": lambda: example_payload("workflow_dispatch", lambda e: True),
    "schedule": lambda: json.loads((PAYLOADS / "schedule.json").read_text(encoding="utf-8")),
}


def git(cwd: Path, *args: str) -> str:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "Mona", "GIT_AUTHOR_EMAIL": "mona@example.com",
           "GIT_COMMITTER_NAME": "Mona", "GIT_COMMITTER_EMAIL": "mona@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True,
                          timeout=30).stdout


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str
    workspace: Path
    output_file: Path
    summary_file: Path
    home: Path

    def outputs(self) -> dict[str, str]:
        from tests.unit.report.runner_files import parse_output_file

        return parse_output_file(self.output_file.read_text(encoding="utf-8"))

    @property
    def reports(self) -> Path:
        return self.workspace / "reports"

    def report_json(self) -> dict[str, Any]:
        return json.loads((self.reports / "project-health-report.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "workspace"
    (ws / "app").mkdir(parents=True)
    (ws / "app" / "__init__.py").write_text("", encoding="utf-8")
    (ws / "app" / "tasks.py").write_text(SAMPLE_CODE, encoding="utf-8")
    (ws / ".github").mkdir()
    (ws / ".github" / "project-metrics.json").write_text(json.dumps(SAMPLE_CONFIG, indent=2), encoding="utf-8")
    git(ws, "init", "-q", "-b", "main")
    git(ws, "add", ".")
    git(ws, "commit", "-q", "-m", "Sample project")
    return ws


@pytest.fixture
def run_action(tmp_path: Path, workspace: Path) -> Callable[..., Run]:
    def run(event: str = "workflow_dispatch", inputs: Mapping[str, str] | None = None,
            env: Mapping[str, str] | None = None,
            edit_payload: Callable[[dict[str, Any]], None] | None = None) -> Run:
        payload = EVENTS[event]()
        if edit_payload is not None:
            edit_payload(payload)
        event_path = tmp_path / "event.json"
        event_path.write_text(json.dumps(payload), encoding="utf-8")
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        out, summary = tmp_path / "github_output", tmp_path / "step_summary"
        environ = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1",
            "LANG": "C.UTF-8", "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
            "GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_EVENT_NAME": event.split("-")[0], "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": payload["repository"]["full_name"],
            "GITHUB_SHA": git(workspace, "rev-parse", "HEAD").strip(),
            "GITHUB_REF": str(payload.get("ref") or "refs/heads/main"), "RUNNER_TEMP": str(tmp_path),
            "GITHUB_API_URL": CLOSED, "GITHUB_GRAPHQL_URL": CLOSED + "/graphql", "GITHUB_SERVER_URL": CLOSED,
            "PIP_INDEX_URL": CLOSED + "/simple", "PIP_AUDIT_OSV_URL": CLOSED,
            "NO_PROXY": "*", "INPUT_SOURCE-TIMEOUT": "120",
        }
        environ.update({"INPUT_" + k.upper(): v for k, v in (inputs or {}).items()})
        environ.update(env or {})
        proc = subprocess.run([sys.executable, str(ENTRYPOINT)], cwd=workspace, env=environ, capture_output=True,
                              text=True, timeout=240, check=False)
        return Run(status=proc.returncode, stdout=proc.stdout, stderr=proc.stderr, workspace=workspace,
                   output_file=out, summary_file=summary, home=home)

    return run
