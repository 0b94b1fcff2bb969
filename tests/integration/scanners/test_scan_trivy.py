"""Real trivy (0.59.1; scripts/fetch_trivy.py) on secrets and misconfigurations, which it scans offline.

Its vulnerability database lives on ghcr.io, out of reach here, so dependency findings are covered by the
parser tests on trivy's documented report shape; what trivy finds in files is checked against the tool.
The secrets are assembled at run time: no token-shaped string is committed to this repository.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from repo_automation.domain import Finding, Severity
from repo_automation.errors import SourceSkipped
from repo_automation.scanners.trivy import TrivyScanner
from repo_automation.stages import notices_of
from tests.integration.scanners.scanning import context, external_tool

ARGS = ["--scanners", "secret,misconfig", "--skip-check-update"]


def trivy_binary() -> str:
    return external_tool("trivy", "TRIVY", "`python scripts/fetch_trivy.py .tools/trivy` and set TRIVY=.tools/trivy")


def github_token(seed: str) -> str:
    return "ghp_" + (seed * 36)[:36]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRIVY_CACHE_DIR", str(tmp_path / "trivy-cache"))
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    slack = "xoxb-" + "1" * 12 + "-" + "2" * 13 + "-" + "Ab3" * 8
    (root / "app" / "settings.py").write_text(
        f'DEBUG = False\nTOKEN = "{github_token("a1B2")}"\nSLACK = "{slack}"\n', encoding="utf-8")
    (root / "Dockerfile").write_text('FROM python:3.11\nRUN pip install flask\nCMD ["python", "app.py"]\n',
                                     encoding="utf-8")
    return root


def scan(root: Path) -> list[Finding]:
    ctx = context(root, None, tools=["trivy"], trivy_args=ARGS)
    return list(TrivyScanner(options=ctx.config.security_scanning, executable=trivy_binary()).scan(ctx))


def trivy_directly(root: Path) -> list[tuple[str, str, int | None]]:
    proc = subprocess.run([trivy_binary(), "fs", "--format", "json", "--quiet", *ARGS, "."], cwd=root,
                          capture_output=True, text=True, timeout=300, check=True)
    out = []
    for res in json.loads(proc.stdout).get("Results") or []:
        out += [(res["Target"], s["RuleID"], s.get("StartLine")) for s in res.get("Secrets") or []]
        out += [(res["Target"], m["ID"], (m.get("CauseMetadata") or {}).get("StartLine"))
                for m in res.get("Misconfigurations") or [] if m.get("Status") == "FAIL"]
    return sorted(out, key=str)


def test_every_secret_and_failed_check_trivy_prints_is_one_finding(repo: Path) -> None:
    findings = scan(repo)
    direct = trivy_directly(repo)
    assert {rule for _, rule, _ in direct} >= {"github-pat", "slack-access-token"}  # what the test planted
    assert any(target == "Dockerfile" for target, _, _ in direct)  # and trivy's built-in Dockerfile checks
    ours = sorted(((f.location.path, f.rule_id, f.location.start_line) for f in findings if f.location), key=str)
    assert ours == direct
    assert len({f.fingerprint for f in findings}) == len(findings)
    by_rule = {f.rule_id: f for f in findings}
    assert by_rule["github-pat"].severity is Severity.CRITICAL and by_rule["github-pat"].tool == "trivy"
    assert by_rule["github-pat"].location and by_rule["github-pat"].location.start_line == 2
    assert by_rule["slack-access-token"].severity is Severity.HIGH


def test_moving_a_secret_keeps_its_fingerprint_and_a_second_copy_is_a_second_finding(repo: Path) -> None:
    before = {f.rule_id: f.fingerprint for f in scan(repo)}
    settings = repo / "app" / "settings.py"
    text = settings.read_text(encoding="utf-8")
    settings.write_text("import os\n\n# moved down by three lines\n" + text, encoding="utf-8")
    moved = {f.rule_id: f for f in scan(repo)}
    assert moved["github-pat"].location and moved["github-pat"].location.start_line == 5
    assert moved["github-pat"].fingerprint == before["github-pat"]
    # the same token again, in the same file: trivy reports it twice, and it stays two findings
    settings.write_text(settings.read_text(encoding="utf-8") + f'BACKUP = "{github_token("a1B2")}"\n',
                        encoding="utf-8")
    tokens = [f for f in scan(repo) if f.rule_id == "github-pat"]
    assert len(tokens) == 2 and len({f.fingerprint for f in tokens}) == 2
    assert before["github-pat"] in {f.fingerprint for f in tokens}


def test_without_its_vulnerability_database_trivy_still_scans_offline_and_says_what_it_skipped(
        repo: Path) -> None:
    """No network (here: a database registry that refuses connections): secrets and misconfigurations still
    scanned, the vulnerability scan named as skipped with its reason, never reported as a clean result."""
    unreachable = ["--db-repository", "127.0.0.1:9/trivy-db", "--skip-check-update"]
    ctx = context(repo, None, tools=["trivy"], trivy_args=["--scanners", "vuln,secret,misconfig", *unreachable])
    scanner = TrivyScanner(options=ctx.config.security_scanning, executable=trivy_binary())
    findings = scanner.scan(ctx)
    assert sorted(((f.location.path, f.rule_id, f.location.start_line) for f in findings if f.location),
                  key=str) == trivy_directly(repo)
    notices = notices_of(findings)
    assert len(notices) == 1, notices
    assert notices[0].startswith(
        "trivy: vulnerability scan skipped: trivy's vulnerability database needs the network"), notices
    assert "127.0.0.1:9" in notices[0] and notices[0].endswith("the secret,misconfig scans ran")

    ctx = context(repo, None, tools=["trivy"], trivy_args=["--scanners=vuln", *unreachable])
    with pytest.raises(SourceSkipped, match="needs the network"):
        TrivyScanner(options=ctx.config.security_scanning, executable=trivy_binary()).scan(ctx)
