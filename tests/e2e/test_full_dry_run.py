"""A dry run of the whole production pipeline (CLI → engine → registry → every sink) writes nothing anywhere.

Every writer is switched on — issues, triage, dependency and docs PRs, Slack, the Pushgateway, the history —
and every server the run talks to records what it got: the local GitHub (each request validated against
GitHub's own descriptions), a Slack webhook that enforces Slack's contract, and a plain recording server for
the package index and the Pushgateway. None may receive a write; the reports must describe each one.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from repo_automation.cli import main
from tests.fakegithub import github_spec  # noqa: F401 — fixture
from tests.fakegithub.repo_data import ClientFakeGitHub
from tests.fakegithub.routes_git import seed
from tests.fakeslack import FakeSlack
from tests.integration.github.client import synthetic

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": "/tmp"}


# A PEP 503 project page: what a package index answers for `six` (two releases; 1.10.0 is pinned).
SIX_PAGE = b"""<!DOCTYPE html><html><body>
<a href="/files/six-1.10.0-py2.py3-none-any.whl">six-1.10.0-py2.py3-none-any.whl</a>
<a href="/files/six-1.16.0-py2.py3-none-any.whl">six-1.16.0-py2.py3-none-any.whl</a>
</body></html>"""


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Remembers every method and path (the package index and the Pushgateway); serves the index page for
    `six` and answers 404 to everything else."""

    seen: list[str]

    def _any(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        found = self.command == "GET" and self.path.rstrip("/") == "/simple/six"
        body = SIX_PAGE if found else b""
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def github(github_spec: object) -> Iterator[ClientFakeGitHub]:  # noqa: F811 — the fixture, by name
    server = ClientFakeGitHub()
    server.start()
    synthetic.seed(server.state)
    repo = server.state.repo(*synthetic.REPO.split("/"))
    assert repo is not None
    seed(server.state, repo, {"README.md": "# hello\n", "requirements.txt": "six==1.10.0\n"})  # GitHub's copy
    try:
        yield server
    finally:
        server.stop()
    assert not server.violations, "requests GitHub would refuse:\n" + "\n".join(server.violations)


def _checkout(root: Path) -> str:
    (root / "app").mkdir(parents=True)
    (root / "app" / "run.py").write_text("import subprocess\n\n\ndef run(c):\n"
                                         "    return subprocess.call(c, shell=True)\n", encoding="utf-8")
    (root / "requirements.txt").write_text("six==1.10.0\n", encoding="utf-8")
    (root / "README.md").write_text("# hello\n", encoding="utf-8")
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-q", "-m", "first"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=GIT_ENV, timeout=60)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True,
                          timeout=60).stdout.strip()


def test_a_dry_run_with_every_writer_on_sends_no_write_anywhere(
        tmp_path: Path, github: ClientFakeGitHub, recorder: tuple[str, list[str]]) -> None:
    other_url, other_seen = recorder
    repo = tmp_path / "repo"
    sha = _checkout(repo)
    config = {
        "alerts": {"critical": {"conditions": ["security.high_vulnerabilities > 0"],
                                "notification_channels": ["slack-alerts", "pagerduty"]}},
        "automation": {
            "security_scanning": {"tools": ["bandit"], "fail_on_high": False, "fail_on_critical": False},
            "dependency_updates": {"index_url": other_url + "/simple"},
            "issue_triage": {"enabled": True, "rules": [{"keywords": ["crash"], "labels": ["bug"]}]},
            "docs": {"badges": True, "changelog": True},
        },
        "integrations": {"slack": {"enabled": True},
                         "channels": {"pagerduty": {"kind": "pagerduty", "events_url": other_url + "/v2/enqueue"}}},
    }
    (repo / "repo-automation.json").write_text(json.dumps(config), encoding="utf-8")
    event = tmp_path / "push.json"
    event.write_text(json.dumps({"ref": "refs/heads/main", "after": sha,
                                 "repository": {"full_name": synthetic.REPO, "default_branch": "main"}}),
                     encoding="utf-8")
    out = tmp_path / "out"
    with FakeSlack() as slack:
        env = {"GITHUB_API_URL": github.url, "GITHUB_GRAPHQL_URL": github.url + "/graphql",
               "GITHUB_TOKEN": github.token, "GITHUB_REPOSITORY": synthetic.REPO, "GITHUB_EVENT_NAME": "push",
               "GITHUB_EVENT_PATH": str(event), "GITHUB_REF": "refs/heads/main", "GITHUB_SHA": sha,
               "SLACK_WEBHOOK_URL": slack.webhook_url, "PUSHGATEWAY_URL": other_url, "PATH": "/usr/bin:/bin",
               "PAGERDUTY_ROUTING_KEY": "0123456789abcdef0123456789abcdef"}
        status = main(["run", "--dry-run", "--create-issues", "--notify-slack", "--store-db",
                       "-C", str(repo), "--config", "repo-automation.json", "--output-dir", str(out)], env=env)
        slack_messages = slack.messages

    assert status in (0, 1), status
    assert github.writes() == []
    assert github.requests, "the run read from GitHub"
    assert slack_messages == []
    assert [r for r in other_seen if not r.startswith("GET ")] == []
    assert not (repo / ".repo-automation" / "history.sqlite").exists(), "a dry run stores no history"
    assert not (repo / ".repo-automation" / "etag-cache.json").exists(), "a dry run writes no cache"

    report = json.loads((out / "project-health-report.json").read_text(encoding="utf-8"))
    assert report["dry_run"] is True
    described = {a["sink"] for a in report["actions"] if not a["performed"]}
    # every writer said what it would have done (the report files themselves are the run's product)
    assert {"issues", "slack", "alerts", "pushgateway", "history", "dependency-updates", "docs"} <= described, \
        report["actions"]
    sinks = {s["name"]: s["status"] for s in report["sources"] if s["kind"] == "sink"}
    assert all(status != "failed" for status in sinks.values()), report["sources"]
