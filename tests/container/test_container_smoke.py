"""The action's image, run the way the GitHub runner runs a Docker action.

The runner's layout: the checkout at /github/workspace (owned by another uid than the container's root),
HOME at /github/home, the event payload under /github/workflow, the output and summary files under
/github/file_commands, every declared input as INPUT_<NAME> (hyphens kept) with action.yml's defaults. The
GitHub API is a local FakeGitHub on 127.0.0.1 (the container shares the host network), which validates each
request against GitHub's OpenAPI description; in a dry run it must see reads only.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.container.conftest import ROOT, Image
from tests.fakegithub import FakeGitHub, github_spec  # noqa: F401  (fixture)
from tests.fakegithub.repo_data import ClientFakeGitHub, data_for
from tests.postgres import PG_ADMIN, fresh_schema
from tests.runner_files import parse_output_file
from tests.sample_repo import SAMPLE_CONFIG, git, write_sample_repo

pytestmark = [pytest.mark.container, pytest.mark.timeout(1800)]

REPOSITORY = "octo-org/hello-world"
RUNNER_UID = 1001  # the hosted runner's user, who owns the checkout
RUN_TIMEOUT_S = 300
EXAMPLES = ROOT / "node_modules" / "@octokit" / "webhooks-examples" / "api.github.com" / "index.json"
GUIDE = ROOT / "tests" / "data" / "configs" / "admin-guide-example.json"
SEMGREP_RULES = ROOT / "tests" / "data" / "scan_fixture" / "semgrep" / "rules.yml"

def push_payload(head_sha: str) -> dict[str, Any]:
    """A real push payload from @octokit/webhooks-examples, pointed at the sample repository."""
    groups = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    push = next(g for g in groups if g["name"] == "push")
    payload: dict[str, Any] = next(e for e in push["examples"] if str(e.get("ref", "")).startswith("refs/heads/"))
    payload = json.loads(json.dumps(payload))
    payload["ref"], payload["after"] = "refs/heads/main", head_sha
    owner, name = REPOSITORY.split("/")
    payload["repository"].update(full_name=REPOSITORY, name=name)
    payload["repository"]["owner"]["login"] = owner
    return payload


@pytest.fixture
def github(github_spec: object) -> Iterator[ClientFakeGitHub]:  # noqa: F811 (the fixture, by name)
    """The fake GitHub with the sample repository; fails the test on any request GitHub would refuse."""
    server = ClientFakeGitHub()
    server.start()
    server.state.add_repo(REPOSITORY)
    data_for(server.state, REPOSITORY).contributors = [("mona", 2)]
    try:
        yield server
    finally:
        server.stop()
    assert not server.violations, "requests GitHub would refuse:\n" + "\n".join(server.violations)


@dataclass
class Runner:
    """The runner's directories for one step, on the host side of the mounts."""

    root: Path

    @property
    def workspace(self) -> Path:
        return self.root / "workspace"

    @property
    def output_file(self) -> Path:
        return self.root / "file_commands" / "set_output_0"

    @property
    def summary_file(self) -> Path:
        return self.root / "file_commands" / "step_summary_0"

    def mounts(self) -> list[str]:
        return [f"-v{self.root / d}:/github/{d}" for d in ("workspace", "home", "workflow", "file_commands")]


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return make_runner(tmp_path)


def make_runner(tmp_path: Path) -> Runner:
    """The runner's directories, with a two-commit sample repository checked out as the workspace."""
    r = Runner(tmp_path)
    for d in ("home", "workflow", "file_commands"):
        (tmp_path / d).mkdir()
    ws = write_sample_repo(r.workspace, date="2026-11-02T09:00:00Z")
    (ws / "README.md").write_text("# Sample\n", encoding="utf-8")
    git(ws, "add", ".")
    git(ws, "commit", "-q", "-m", "Add a README", date="2026-11-20T10:00:00Z")
    for p in [ws, *ws.rglob("*")]:  # the checkout belongs to the runner's user, not to the container's root
        os.lchown(p, RUNNER_UID, RUNNER_UID)
    return r


def runner_env(r: Runner, gh: FakeGitHub, inputs: dict[str, str]) -> dict[str, str]:
    """What the runner passes: GITHUB_* (paths inside the container) and every input with its default."""
    sha = git(r.workspace, "-c", "safe.directory=*", "rev-parse", "HEAD").strip()
    (r.root / "workflow" / "event.json").write_text(json.dumps(push_payload(sha)), encoding="utf-8")
    env = {
        "GITHUB_ACTIONS": "true", "CI": "true", "HOME": "/github/home", "GITHUB_WORKSPACE": "/github/workspace",
        "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": "/github/workflow/event.json",
        "GITHUB_OUTPUT": "/github/file_commands/set_output_0",
        "GITHUB_STEP_SUMMARY": "/github/file_commands/step_summary_0",
        "GITHUB_REPOSITORY": REPOSITORY, "GITHUB_SHA": sha, "GITHUB_REF": "refs/heads/main",
        "GITHUB_API_URL": gh.url, "GITHUB_GRAPHQL_URL": gh.url + "/graphql", "GITHUB_SERVER_URL": gh.url,
        "GITHUB_RUN_ID": "4242", "GITHUB_WORKFLOW": "health", "GITHUB_ACTOR": "mona",
    }
    declared = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["inputs"]
    for name, spec in declared.items():
        default = str(spec.get("default", ""))
        if default:
            env["INPUT_" + name.upper()] = gh.token if default == "${{ github.token }}" else default
    env.update({"INPUT_" + k.upper(): v for k, v in inputs.items()})
    return env


def run_action(image: Image, r: Runner, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    args = [*image.run_args(), "--workdir", "/github/workspace", *r.mounts()]
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    started = time.monotonic()
    proc = subprocess.run([*args, image.tag], capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    image.timings[f"run {len(image.timings) + 1}"] = time.monotonic() - started
    return proc


def test_the_image_runs_the_action_as_the_runner_does(action_image: Image, runner: Runner,
                                                      github: FakeGitHub) -> None:
    env = runner_env(runner, github, {"dry-run": "true", "create-issues": "true", "source-timeout": "120"})
    proc = run_action(action_image, runner, env)
    shown = f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-6000:]}"
    assert proc.returncode == 0, shown

    outputs = parse_output_file(runner.output_file.read_text(encoding="utf-8"))
    assert "health-score" in outputs, shown
    assert 0 <= float(outputs["health-score"]) <= 100, outputs  # git and GitHub metrics: a score is due
    assert outputs["dry-run"] == "true", outputs

    reports = runner.workspace / "reports"
    report = json.loads((reports / "project-health-report.json").read_text(encoding="utf-8"))
    assert (reports / "project-health-report.md").stat().st_size > 0
    assert outputs["report-json"] == "reports/project-health-report.json", outputs
    assert runner.summary_file.read_text(encoding="utf-8").strip(), "no job summary written"
    assert f"::add-mask::{github.token}" in proc.stdout, "the token was not masked first"
    assert github.token not in (reports / "project-health-report.md").read_text(encoding="utf-8")

    # git ran inside the container on a checkout owned by another uid, bandit ran from the image, and the
    # GitHub collector measured through the API it was pointed at: no source failed.
    names = {m["name"] for m in report["metrics"]}
    assert "git.commits_per_week" in names, sorted(names)
    assert any(n.startswith("github.") for n in names), sorted(names)
    assert any(f["tool"] == "bandit" and f["rule_id"] == "B602" for f in report["findings"]), report["findings"]
    assert outputs["sources-failed"] == "0", [x for x in report["sources"] if x.get("status") == "failed"]

    # The action reached GitHub where GITHUB_API_URL said, and a dry run wrote nothing there.
    assert github.requests, "the action never called the GitHub API it was given"
    assert github.writes() == []


def test_a_bad_input_stops_the_image_with_a_message_and_nothing_written(action_image: Image, runner: Runner,
                                                                        github: FakeGitHub) -> None:
    env = runner_env(runner, github, {"format": "pdf"})
    proc = run_action(action_image, runner, env)
    assert proc.returncode == 2, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "format must be one of markdown, json, both" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert not (runner.workspace / "reports").exists(), "a report was written although the input was rejected"
    assert github.requests == []


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A schema of its own in the real PostgreSQL at 127.0.0.1:5432, dropped afterwards."""
    with fresh_schema("ra_container") as name:
        yield name


def test_the_image_stores_a_fan_out_run_in_postgresql(action_image: Image, runner: Runner, github: FakeGitHub,
                                                       pg_schema: str) -> None:
    """org-fan-out.yml's step: metrics into a shared PostgreSQL history, whose URL carries a password."""
    import psycopg

    password = "fan-out-s3cret"  # trust authentication here ignores it; it must still never be shown
    url = f"postgresql://postgres:{password}@127.0.0.1:5432/test?options=-csearch_path%3D{pg_schema}"
    env = runner_env(runner, github, {"command": "metrics", "store-db": "true", "history-db": url,
                                      "repository": REPOSITORY, "source-timeout": "120"})
    proc = run_action(action_image, runner, env)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"

    with psycopg.connect(PG_ADMIN, connect_timeout=10) as conn:
        rows = conn.execute(f"SELECT metric_name, metric_value FROM {pg_schema}.project_metrics").fetchall()
    names = {name for name, _ in rows}
    assert "git.commits_per_week" in names and any(n.startswith("github.") for n in names), sorted(names)

    # The runner is told to mask it (::add-mask::, which it never shows), and it appears nowhere else.
    masks = [line for line in proc.stdout.splitlines() if line.startswith("::add-mask::")]
    assert f"::add-mask::{password}" in masks
    stdout = "\n".join(line for line in proc.stdout.splitlines() if not line.startswith("::add-mask::"))
    shown = [stdout, proc.stderr, runner.summary_file.read_text(encoding="utf-8"),
             *(p.read_text(encoding="utf-8") for p in (runner.workspace / "reports").iterdir())]
    assert not [text for text in shown if password in text], "the database password was shown"
    assert github.writes() == []


def guide_tools() -> list[str]:
    """The administration guide's scanners: `tools: ["bandit", "safety", "semgrep", "trivy"]`."""
    guide = json.loads(GUIDE.read_text(encoding="utf-8"))
    tools: list[str] = guide["automation"]["security_scanning"]["tools"]
    assert set(tools) == {"bandit", "safety", "semgrep", "trivy"}, tools
    return tools


def with_every_scanner(r: Runner) -> None:
    """The sample repository, configured with the guide's tools list and given something for each to find:
    semgrep's local rules (shell=True in app/tasks.py), a token for trivy's secret scan (assembled here: no
    token-shaped string is committed), a Dockerfile for its misconfiguration checks, pins for safety.
    trivy's vulnerability database is pointed at a port that refuses connections, so the run is the same with
    or without a network: the database cannot be had, as on a machine that reaches no registry."""
    ws = r.workspace
    scanning = {**SAMPLE_CONFIG["automation"]["security_scanning"], "tools": guide_tools(),
                "semgrep_config": ["semgrep/rules.yml"],
                "trivy_args": ["--scanners", "vuln,secret,misconfig", "--db-repository", "127.0.0.1:9/trivy-db"]}
    config = {**SAMPLE_CONFIG, "automation": {**SAMPLE_CONFIG["automation"], "security_scanning": scanning}}
    (ws / ".github" / "project-metrics.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (ws / "semgrep").mkdir()
    (ws / "semgrep" / "rules.yml").write_text(SEMGREP_RULES.read_text(encoding="utf-8"), encoding="utf-8")
    (ws / "app" / "settings.py").write_text(f'TOKEN = "ghp_{"a1B2" * 9}"\n', encoding="utf-8")
    (ws / "Dockerfile").write_text('FROM python:3.11\nRUN pip install flask\nCMD ["python", "app.py"]\n',
                                   encoding="utf-8")
    (ws / "requirements.txt").write_text("requests==2.19.0\n", encoding="utf-8")
    git(ws, "-c", "safe.directory=*", "add", ".")  # the checkout already belongs to the runner's user
    git(ws, "-c", "safe.directory=*", "commit", "-q", "-m", "Scan with every scanner", date="2026-11-21T10:00:00Z")
    for p in [ws, *ws.rglob("*")]:
        os.lchown(p, RUNNER_UID, RUNNER_UID)


def test_the_image_runs_every_scanner_of_the_guides_tools_list(action_image: Image, runner: Runner,
                                                               github: FakeGitHub) -> None:
    """The image carries the scanners the configuration can name: each runs inside it, and what needs the
    network (trivy's vulnerability database, the Safety platform's account) is skipped with that reason."""
    with_every_scanner(runner)
    env = runner_env(runner, github, {"dry-run": "true", "source-timeout": "240"})
    proc = run_action(action_image, runner, env)
    shown = f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-6000:]}"
    assert proc.returncode == 0, shown
    report = json.loads((runner.workspace / "reports" / "project-health-report.json").read_text(encoding="utf-8"))
    scanners = {s["name"]: s for s in report["sources"] if s["kind"] == "scanner"}
    assert set(scanners) == set(guide_tools()), report["sources"]

    for tool in ("bandit", "semgrep", "trivy"):
        assert scanners[tool]["status"] == "ok", (tool, scanners[tool], shown)
    found = {(f["tool"], f["rule_id"], (f.get("location") or {}).get("path")) for f in report["findings"]}
    # bandit and semgrep both flag shell=True on one line (CWE-78): one finding naming both tools and rules
    shell = [f for f in report["findings"] if f["tool"] == "bandit+semgrep" and f["rule_id"] == "B602"]
    assert len(shell) == 1 and (shell[0].get("location") or {}).get("path") == "app/tasks.py", sorted(found)
    assert "B602" in shell[0]["ids"], shell[0]
    assert any(i.endswith("subprocess-shell-true") for i in shell[0]["ids"]), shell[0]  # semgrep's rule
    assert ("trivy", "github-pat", "app/settings.py") in found, sorted(found)  # the secret scan, offline
    assert any(t == "trivy" and path == "Dockerfile" for t, _, path in found), sorted(found)  # misconfigurations

    trivy_notes = [n for n in report["notices"] if n.startswith("trivy:")]
    assert len(trivy_notes) == 1 and trivy_notes[0].startswith(
        "trivy: vulnerability scan skipped: trivy's vulnerability database needs the network"), (
        report["notices"])
    assert scanners["safety"]["status"] == "skipped", scanners["safety"]
    assert "needs a Safety API key" in scanners["safety"]["reason"], scanners["safety"]
    assert github.writes() == []
