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

from tests.sample_repo import git, write_sample_repo

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "entrypoint.py"
EXAMPLES = ROOT / "node_modules" / "@octokit" / "webhooks-examples" / "api.github.com" / "index.json"
PAYLOADS = Path(__file__).parent / "payloads"
CLOSED = "http://127.0.0.1:9"  # discard port: nothing listens, a stray request fails at once

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
        from tests.runner_files import parse_output_file

        return parse_output_file(self.output_file.read_text(encoding="utf-8"))

    @property
    def reports(self) -> Path:
        return self.workspace / "reports"

    def report_json(self) -> dict[str, Any]:
        return json.loads((self.reports / "project-health-report.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return write_sample_repo(tmp_path / "workspace")


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
