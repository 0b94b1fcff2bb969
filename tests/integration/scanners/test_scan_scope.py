"""The scan scope on real tools through the real CLI: test code reported apart, our own output never scanned.

A repository whose package code is clean and whose tests call `requests.get` without a timeout (bandit B113,
medium) and `assert` (B101) scores 100 and passes: the test findings are listed apart, B101 not at all. One
real `shell=True` in the package is counted and fails the run under fail_on_high. With real trivy and bandit
a second run over the same tree gives exactly the first run's findings: the reports the first run wrote
(with the secret they quote), a virtualenv, node_modules and gitignored folders are never scanned.
The token is assembled at run time: no secret-shaped string is committed to this repository.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from repo_automation.cli import main
from tests.integration.scanners.scanning import external_tool, git, tool_path

PACKAGE = '"""A clean package."""\n\n\ndef add(a: int, b: int) -> int:\n    return a + b\n'
TESTS = '''import requests

from pkg import add


def test_add():
    assert add(1, 2) == 3


def test_remote():
    response = requests.get("https://example.org/health")
    assert response.status_code == 200
'''
SHELL = "import subprocess\n\n\ndef run(command: str) -> int:\n    return subprocess.call(command, shell=True)\n"


def repository(tmp_path: Path, security: dict[str, Any] | None = None, *, shell: bool = False) -> Path:
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "pkg" / "__init__.py").write_text(PACKAGE, encoding="utf-8")
    (repo / "tests" / "test_api.py").write_text(TESTS, encoding="utf-8")
    (repo / "tests" / "conftest.py").write_text("import pytest\n", encoding="utf-8")
    if shell:
        (repo / "pkg" / "run.py").write_text(SHELL, encoding="utf-8")
    config = {"automation": {"security_scanning": {"tools": ["bandit"], **(security or {})}}}
    (repo / "repo-automation.json").write_text(json.dumps(config), encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    return repo


def run(repo: Path, out: Path, *, path: str | None = None) -> tuple[int, dict[str, Any]]:
    env = {"PATH": path or f"{Path(tool_path('bandit')).parent}:/usr/bin:/bin"}
    status = main(["run", "-C", str(repo), "--config", "repo-automation.json", "--output-dir", str(out),
                   "--skip-deps", "--skip-docs"], env=env)
    return status, json.loads((out / "project-health-report.json").read_text(encoding="utf-8"))


def rules(findings: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((f["rule_id"], f["location"]["path"]) for f in findings)


def test_findings_in_tests_are_apart_and_clean_package_code_scores_100(tmp_path: Path) -> None:
    status, report = run(repository(tmp_path), tmp_path / "out")
    assert status == 0
    assert report["health"]["categories"]["security"]["score"] == 100
    assert report["health"]["overall"] == 100
    assert report["health"]["headline"] == "100 (A), from 1 of 4 categories (25% of the weight)"
    assert report["findings"] == []
    assert rules(report["test_findings"]) == [("B113", "tests/test_api.py")]  # B101 is no finding in tests
    assert {f["scope"] for f in report["test_findings"]} == {"test"}
    markdown = (tmp_path / "out" / "project-health-report.md").read_text(encoding="utf-8")
    assert "**Overall: 100 (A), from 1 of 4 categories (25% of the weight)**" in markdown
    assert "### Findings in test code" in markdown and "`tests/test_api.py:11`" in markdown
    assert "1 finding in test code (`count_test_findings` is off)" in markdown


def test_one_shell_true_in_package_code_is_counted_and_fails_under_fail_on_high(tmp_path: Path) -> None:
    status, report = run(repository(tmp_path, {"fail_on_high": True}, shell=True), tmp_path / "out")
    assert status == 1
    assert rules(report["findings"]) == [("B404", "pkg/run.py"), ("B602", "pkg/run.py")]
    assert report["health"]["categories"]["security"]["score"] == 90  # 1 vulnerability; B404 (low) in neither
    assert report["policy"]["reasons"] == ["1 blocking finding(s) (high)"]
    status, report = run(repository(tmp_path / "off", {"fail_on_high": False, "fail_on_critical": False},
                                    shell=True), tmp_path / "out-off")
    assert status == 0 and report["health"]["categories"]["security"]["score"] == 90


def test_test_code_counts_when_the_config_says_so_and_extra_paths_add_to_the_defaults(tmp_path: Path) -> None:
    repo = repository(tmp_path, {"count_test_findings": True, "test_paths_extra": ["qa"]})
    (repo / "qa").mkdir()
    (repo / "qa" / "smoke.py").write_text(SHELL, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "qa")
    status, report = run(repo, tmp_path / "out")
    assert rules(report["test_findings"]) == [("B113", "tests/test_api.py"), ("B404", "qa/smoke.py"),
                                              ("B602", "qa/smoke.py")]  # tests/ still test code: a default
    assert status == 1  # the high B602 in qa/ counts now
    assert report["health"]["categories"]["security"]["score"] == 85  # 1 vulnerability, 1 hotspot


def test_a_rerun_with_trivy_and_bandit_gives_exactly_the_first_runs_findings(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIVY_CACHE_DIR", str(tmp_path / "trivy-cache"))
    trivy = external_tool("trivy", "TRIVY", "`python scripts/fetch_trivy.py .tools/trivy` and set TRIVY=.tools/trivy")
    repo = repository(tmp_path, {"tools": ["bandit", "trivy"], "fail_on_high": False, "fail_on_critical": False,
                                 "trivy_args": ["--scanners", "secret", "--skip-check-update"]})
    token = "ghp_" + ("a1B2" * 9)
    line = f'TOKEN = "{token}"\n'
    (repo / "pkg" / "settings.py").write_text(line, encoding="utf-8")
    (repo / ".gitignore").write_text("generated/\n", encoding="utf-8")
    for folder in (".venv/lib", "node_modules/left-pad", "generated", ".repo-automation"):
        (repo / folder).mkdir(parents=True)
        (repo / folder / "copy.py").write_text(line, encoding="utf-8")
    git(repo, "add", "pkg", ".gitignore")
    git(repo, "commit", "-q", "-m", "settings")
    path = f"{Path(trivy).parent}:{Path(tool_path('bandit')).parent}:/usr/bin:/bin"
    monkeypatch.setenv("PATH", path)  # the scanners look tools up on the process's PATH

    out = repo / "reports"  # the default output folder, inside the scanned tree
    _, first = run(repo, out, path=path)
    assert token not in (out / "project-health-report.json").read_text(encoding="utf-8")  # redacted (#9)
    (out / "older-report.json").write_text(f'{{"message": "{token}"}}\n', encoding="utf-8")  # trivy would flag it
    _, second = run(repo, out, path=path)

    def seen(report: dict[str, Any]) -> list[tuple[str, str, str, str]]:
        return sorted((f["tool"], f["rule_id"], f["location"]["path"], f["fingerprint"])
                      for f in report["findings"] + report["test_findings"])

    assert seen(second) == seen(first)
    assert {(tool, rule, where) for tool, rule, where, _ in seen(first)} >= {
        ("trivy", "github-pat", "pkg/settings.py"), ("bandit", "B105", "pkg/settings.py")}
    assert all(where.startswith(("pkg/", "tests/")) for _, _, where, _ in seen(second))
    direct = subprocess.run([trivy, "fs", "--format", "json", "--quiet", "--scanners", "secret",
                             "--skip-check-update", "."], cwd=repo, capture_output=True, text=True, timeout=300,
                            check=True)
    targets = {r["Target"] for r in json.loads(direct.stdout).get("Results") or []}
    # trivy left alone walks our reports, the gitignored folder, the virtualenv and our state folder
    assert {"reports/older-report.json", "generated/copy.py", ".venv/lib/copy.py",
            ".repo-automation/copy.py"} <= targets
