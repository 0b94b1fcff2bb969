"""The real scanners on a repository holding real secret shapes and 12 vulnerable pins (issue #9, items 1, 3).

bandit, semgrep ($SEMGREP), trivy ($TRIVY) and pip-audit (against the local OSV server, tests/fakeosv) run
through the CLI against the local GitHub (tests/fakegithub) and a Slack webhook (tests/fakeslack). The
secrets — a GitHub token, an AWS key, a Slack token, a private key — are made at run time, so the
repository never holds one. No byte of them may reach GitHub, Slack or the output folder; two runs give the
same findings and issues; every vulnerable package has one issue; when trivy fails, pip-audit still closes
its own issues while trivy's stay open saying why, and a label removed by hand makes no duplicate.
"""

from __future__ import annotations

import json
import random
import shutil
import string
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from repo_automation.cli import main
from repo_automation.github.fingerprint import find_fingerprint
from tests.fakegithub import FakeGitHub, fake_github, github_spec  # noqa: F401 — fixtures
from tests.fakegithub.clients import REPO
from tests.fakeosv import FakeOSV
from tests.fakeosv.server import DATA, load_records
from tests.fakeslack import FakeSlack
from tests.integration.scanners.scanning import FIXTURE, VENV_BIN, external_tool, fake_tool, git

MORE_ADVISORIES = DATA.parent / "pypa-advisories-more.jsonl"
PINS = {"jinja2": "2.10", "requests": "2.19.1", "urllib3": "1.26.4", "django": "4.2.15", "pyyaml": "5.3",
        "asyncssh": "1.9.0", "indico": "2.3.3", "keylime": "6.3.2", "piccolo": "0.99.0", "fastapi": "0.9.1",
        "flask-cors": "3.0.8", "jwcrypto": "0.3.1", "six": "1.16.0"}  # six: the one pin with no advisory
SEMGREP_SECRET_RULE = """
  - id: hardcoded-github-token
    languages: [python]
    severity: ERROR
    message: "a GitHub token is written in the code: $TOKEN"
    pattern-regex: (?P<TOKEN>gh[p]_[A-Za-z0-9]{36})
    metadata:
      cwe: ["CWE-798: Use of Hard-coded Credentials"]
  - id: private-key-in-code
    languages: [python]
    severity: ERROR
    message: "a private key is written in the code: $KEY"
    pattern-regex: "(?P<KEY>-----BEGIN PRIVATE KEY-----[^-]+-----END PRIVATE KEY-----)"
    metadata:
      cwe: ["CWE-321: Use of Hard-coded Cryptographic Key"]
"""


def _secrets() -> dict[str, str]:
    """Real secret shapes, made now: nothing token-shaped is committed to this repository."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    r = random.SystemRandom()

    def rnd(alphabet: str, n: int) -> str:
        return "".join(r.choice(alphabet) for _ in range(n))

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return {
        "github": "gh" + "p_" + rnd(string.ascii_letters + string.digits, 36),
        "aws": "AK" + "IA" + rnd(string.ascii_uppercase + string.digits, 16),
        "slack": "xo" + "xb-" + rnd(string.digits, 12) + "-" + rnd(string.digits, 13) + "-"
                 + rnd(string.ascii_lowercase + string.digits, 24),
        "key": key,
    }


def _pieces(secrets: dict[str, str]) -> list[str]:
    """What may never be seen: each secret whole, its tail (trivy shows some tokens' tails), and each line of
    key material."""
    out = []
    for value in secrets.values():
        lines = [x for x in value.splitlines() if x and not x.startswith("-----")]
        out += [value, value[-16:], *lines]
    return out


def _write_repo(root: Path, secrets: dict[str, str]) -> None:
    (root / "app").mkdir(parents=True)
    (root / "deploy").mkdir()
    (root / "semgrep").mkdir()
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    (root / "app" / "settings.py").write_text(
        f'GITHUB_TOKEN = "{secrets["github"]}"\nAWS_ACCESS_KEY_ID = "{secrets["aws"]}"\n'
        f'SLACK_TOKEN = "{secrets["slack"]}"\npassword = "{secrets["github"]}"\n\n\n'
        f'def connect(host, password="{secrets["slack"]}"):\n    return host, password\n', encoding="utf-8")
    (root / "app" / "shell.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n", encoding="utf-8")
    (root / "deploy" / "id_rsa").write_text(secrets["key"], encoding="utf-8")
    (root / "app" / "keys.py").write_text(f'SIGNING_KEY = """{secrets["key"]}"""\n', encoding="utf-8")
    rules = (FIXTURE / "semgrep" / "rules.yml").read_text(encoding="utf-8") + SEMGREP_SECRET_RULE
    (root / "semgrep" / "rules.yml").write_text(rules, encoding="utf-8")
    _pin(root, PINS)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")


def _pin(root: Path, pins: dict[str, str]) -> None:
    (root / "requirements.txt").write_text("".join(f"{n}=={v}\n" for n, v in pins.items()), encoding="utf-8")


@pytest.fixture
def osv() -> Iterator[FakeOSV]:
    with FakeOSV([*load_records(), *load_records(MORE_ADVISORIES)]) as server:
        yield server


@pytest.fixture
def tools(tmp_path: Path) -> Path:
    """A PATH folder with the real scanners."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, path in (("bandit", str(VENV_BIN / "bandit")), ("pip-audit", str(VENV_BIN / "pip-audit")),
                       ("semgrep", external_tool("semgrep", "SEMGREP", "set SEMGREP to semgrep's path")),
                       ("trivy", external_tool("trivy", "TRIVY", "set TRIVY=.tools/trivy"))):
        (folder / name).symlink_to(Path(path).resolve())
    return folder


class World:
    """The repository, the servers, and one CLI run after another."""

    def __init__(self, tmp: Path, github: FakeGitHub, osv: FakeOSV, slack: FakeSlack, tools: Path) -> None:
        self.tmp, self.github, self.slack, self.tools = tmp, github, slack, tools
        self.secrets = _secrets()
        self.repo = tmp / "repo"
        _write_repo(self.repo, self.secrets)
        self.out = tmp / "out"
        config = {
            "alerts": {"critical": {"conditions": ["security.critical_vulnerabilities > 0"],
                                    "notification_channels": ["slack-alerts"]}},
            "automation": {"security_scanning": {
                "tools": ["bandit", "semgrep", "trivy", "pip-audit"], "vulnerability_service": "osv",
                "osv_url": osv.query_url, "semgrep_config": ["semgrep/rules.yml"],
                "trivy_args": ["--scanners", "secret", "--skip-check-update"], "timeout_seconds": 300,
                "exclude": [".repo-automation"], "fail_on_high": False, "fail_on_critical": False}},
            "integrations": {"slack": {"enabled": True}},
        }
        (tmp / "config.json").write_text(json.dumps(config), encoding="utf-8")
        event = tmp / "push.json"
        event.write_text(json.dumps({"ref": "refs/heads/main", "repository": {"full_name": REPO,
                                                                             "default_branch": "main"}}))
        self.env = {"GITHUB_API_URL": github.url, "GITHUB_TOKEN": github.token, "GITHUB_REPOSITORY": REPO,
                    "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(event), "GITHUB_REF": "refs/heads/main",
                    "SLACK_WEBHOOK_URL": slack.webhook_url, "HOME": str(tmp), "TRIVY_CACHE_DIR": str(tmp / "trivy"),
                    "SEMGREP_SEND_METRICS": "off", "PATH": f"{tools}:/usr/bin:/bin"}

    def run(self) -> dict[str, Any]:
        sha = git(self.repo, "rev-parse", "HEAD")
        status = main(["maintain", "--create-issues", "--notify-slack", "--skip-deps", "--skip-docs",
                       "--skip-quality", "-C", str(self.repo), "--config", str(self.tmp / "config.json"),
                       "--output-dir", str(self.out)], env={**self.env, "GITHUB_SHA": sha})
        assert status in (0, 1), status
        report: dict[str, Any] = json.loads((self.out / "project-health-report.json").read_text(encoding="utf-8"))
        scanners = {s["name"]: s for s in report["sources"] if s["kind"] == "scanner"}
        return {"report": report, "scanners": scanners}

    def issues(self) -> dict[str, dict[str, Any]]:
        return {find_fingerprint(i["body"]) or "": i for i in self.github.state.issues(REPO)}

    def published(self) -> str:
        """Everything that left the process: GitHub request bodies, Slack payloads, every output file."""
        sent = [json.dumps(r.body) for r in self.github.requests] + [json.dumps(m) for m in self.slack.messages]
        files = [p.read_text(encoding="utf-8", errors="replace") for p in self.out.rglob("*") if p.is_file()]
        return "\n".join([*sent, *(json.loads(f"[{s}]")[0] if s.startswith('"') else s for s in sent), *files])


@pytest.fixture
def world(tmp_path: Path, fake_github: FakeGitHub, osv: FakeOSV, tools: Path,  # noqa: F811
          monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    import os

    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ.get('PATH', '')}")  # the scanners are found on PATH
    monkeypatch.setenv("TRIVY_CACHE_DIR", str(tmp_path / "trivy"))
    with FakeSlack() as slack:
        yield World(tmp_path, fake_github, osv, slack, tools)


def _findings(report: dict[str, Any]) -> list[str]:
    return sorted(json.dumps(f, sort_keys=True) for f in report["findings"])


def test_no_secret_leaves_two_runs_agree_and_each_vulnerable_package_has_one_issue(world: World) -> None:
    first = world.run()
    assert {n: s["status"] for n, s in first["scanners"].items()} == dict.fromkeys(
        ("bandit", "semgrep", "trivy", "pip-audit"), "ok"), first["scanners"]
    issues_after_first = {fp: (i["title"], i["body"], i["state"]) for fp, i in world.issues().items()}
    writes = len(world.github.mutating_requests())
    second = world.run()
    assert _findings(second["report"]) == _findings(first["report"])
    assert {fp: (i["title"], i["body"], i["state"]) for fp, i in world.issues().items()} == issues_after_first
    assert len(world.github.mutating_requests()) == writes  # nothing to change on GitHub

    published = world.published()
    rules = {r for f in first["report"]["findings"] for r in (f["rule_id"], *f["ids"])}
    assert {"B105", "B107", "github-pat", "aws-access-key-id", "slack-access-token", "private-key",
            "hardcoded-github-token", "private-key-in-code"} <= rules  # every secret was found, by every kind of rule
    # (a merged finding names every tool's rule: semgrep's and trivy's token rules on one line with one CWE)
    # (the marks as each output writes them: Markdown escapes their brackets and hyphens)
    assert "REDACTED github-token len=40 sha256:" in published and "REDACTED private-key len=" in published
    leaked = [p for p in _pieces(world.secrets) if p in published]
    assert leaked == [], f"{len(leaked)} secret pieces published"
    assert world.slack.messages, "the critical alert reached Slack"

    dependency = [f for f in first["report"]["findings"] if f.get("package")]
    advisories = {f["ids"][0] for f in dependency}
    packages = sorted(fp for fp in world.issues() if fp.startswith("pkg:"))
    vulnerable = sorted(f"pkg:{n}" for n in PINS if n != "six")
    assert packages == vulnerable and len(packages) == 12
    print(f"issues_before_grouping={len(advisories)} issues_after_grouping={len(packages)}")
    assert len(advisories) > len(packages)
    shell = world.issues()["code:bandit:B602:app/shell.py"]["body"]
    assert "- Tools: bandit, semgrep" in shell  # one problem on one line, one issue naming both tools
    assert not [fp for fp in world.issues() if fp.startswith("code:semgrep:subprocess-shell-true")]


def test_a_failing_trivy_leaves_pip_audit_its_issues_and_a_removed_label_makes_no_duplicate(
        world: World, tmp_path: Path) -> None:
    world.run()
    created = len(world.github.state.issues(REPO))
    for issue in world.github.state.issues(REPO):
        issue["labels"] = []  # a person took the action's label off every issue
    _pin(world.repo, {**PINS, "jinja2": "2.11.3"})  # jinja2's advisories are fixed
    git(world.repo, "commit", "-q", "-am", "jinja2 2.11.3")
    broken = fake_tool(tmp_path / "broken", "trivy", "echo 'FATAL cache may be in use' >&2\nexit 1")
    (world.tools / "trivy").unlink()
    shutil.copy(broken, world.tools / "trivy")
    third = world.run()

    assert third["scanners"]["trivy"]["status"] == "failed" and third["scanners"]["pip-audit"]["status"] == "ok"
    issues = world.issues()
    assert issues["pkg:jinja2"]["state"] == "closed"  # pip-audit owns it, ran, and saw it fixed
    assert len(world.github.state.issues(REPO)) == created  # found by its marker: no duplicate
    trivy_owned = [i for fp, i in issues.items() if fp.startswith("code:trivy:")]
    assert trivy_owned and all(i["state"] == "open" and "> **Still open:** not seen in the last run, but trivy "
                               "failed" in i["body"] for i in trivy_owned)
    kept = [a["description"] for a in third["report"]["actions"] if a["description"].startswith("keep open")]
    assert len(kept) == len(trivy_owned) and all("trivy failed" in d for d in kept)  # the report says why
    assert all(i["state"] == "open" for fp, i in issues.items() if fp.startswith("pkg:") and fp != "pkg:jinja2")
    assert subprocess.run(["git", "status", "--porcelain"], cwd=world.repo, capture_output=True, text=True,
                          check=True).stdout.strip() in ("", "?? .repo-automation/")


def test_a_problem_two_tools_report_keeps_its_one_issue_while_either_tool_fails(world: World, tmp_path: Path) -> None:
    # bandit's B602 and semgrep's subprocess-shell-true on one line are one issue under bandit's fingerprint;
    # while bandit fails, semgrep's finding must keep that issue, not open a second one, and back again
    world.run()
    merged = world.issues()["code:bandit:B602:app/shell.py"]
    created = len(world.github.state.issues(REPO))
    real_bandit = (world.tools / "bandit").resolve()
    (world.tools / "bandit").unlink()
    shutil.copy(fake_tool(tmp_path / "broken", "bandit", "echo 'bandit: crashed' >&2\nexit 2"), world.tools / "bandit")
    second = world.run()

    assert second["scanners"]["bandit"]["status"] == "failed" and second["scanners"]["semgrep"]["status"] == "ok"
    assert len(world.github.state.issues(REPO)) == created  # no second issue for the same line
    issues = world.issues()
    alone = issues["code:semgrep:subprocess-shell-true:app/shell.py"]
    assert alone["number"] == merged["number"] and alone["state"] == "open"
    assert "code:bandit:B602:app/shell.py" not in issues

    (world.tools / "bandit").unlink()
    (world.tools / "bandit").symlink_to(real_bandit)
    world.run()
    assert len(world.github.state.issues(REPO)) == created
    back = world.issues()["code:bandit:B602:app/shell.py"]
    assert back["number"] == merged["number"] and back["state"] == "open" and "- Tools: bandit, semgrep" in back["body"]
