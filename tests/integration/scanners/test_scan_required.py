"""Required sources through the real CLI: a required scanner (required_tools) or data source (`required`)
that could not run fails the run; a scanner whose scope was empty (nothing of its kind to scan) does not,
and the JSON report says which is which."""

from __future__ import annotations

import json
from pathlib import Path

from repo_automation.cli import main
from tests.integration.scanners.scanning import git, tool_path


def repository(tmp_path: Path, required: list[str], *, python: bool = True,
               data_sources: dict | None = None) -> Path:  # type: ignore[type-arg]
    repo = tmp_path / "repo"
    repo.mkdir()
    if python:
        (repo / "app.py").write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    else:
        (repo / "README.md").write_text("# docs only\n", encoding="utf-8")
    (repo / "repo-automation.json").write_text(json.dumps({
        "tracking": {"data_sources": data_sources or {}},
        "automation": {"security_scanning": {"tools": ["bandit", "safety"], "required_tools": required}}}),
        encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    return repo


def run(repo: Path, tmp_path: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    out = tmp_path / "out"
    # bandit beside the test's Python; no SAFETY_API_KEY, so safety skips ("needs a Safety API key")
    env = {"PATH": f"{Path(tool_path('bandit')).parent}:/usr/bin:/bin"}
    status = main(["run", "-C", str(repo), "--config", "repo-automation.json", "--output-dir", str(out),
                   "--skip-deps", "--skip-docs", "--skip-quality"], env=env)
    return status, json.loads((out / "project-health-report.json").read_text(encoding="utf-8"))


def source(report: dict, name: str) -> dict:  # type: ignore[type-arg]
    return next(s for s in report["sources"] if s["name"] == name)


def test_a_required_scanner_without_its_key_fails_the_run(tmp_path: Path) -> None:
    status, report = run(repository(tmp_path, ["safety"]), tmp_path)
    assert status == 1
    assert source(report, "safety")["status"] == "skipped" and source(report, "safety")["nothing_to_do"] is False
    assert report["policy"]["passed"] is False
    assert report["policy"]["reasons"] == [
        "required scanner safety skipped: safety needs a Safety API key (input safety-api-key or SAFETY_API_KEY)"]


def test_the_same_skip_passes_when_the_scanner_is_not_required(tmp_path: Path) -> None:
    status, report = run(repository(tmp_path, []), tmp_path)
    assert status == 0 and report["policy"]["passed"] is True
    assert source(report, "safety")["status"] == "skipped"
    assert source(report, "bandit")["status"] == "ok"


def test_a_required_scanner_with_nothing_to_scan_leaves_no_gap(tmp_path: Path) -> None:
    status, report = run(repository(tmp_path, ["bandit"], python=False), tmp_path)
    bandit = source(report, "bandit")
    assert bandit["status"] == "skipped" and bandit["reason"] == "no Python files to scan"
    assert bandit["nothing_to_do"] is True
    assert status == 0 and report["policy"]["passed"] is True


def test_a_required_data_source_that_measured_nothing_fails_the_run(tmp_path: Path) -> None:
    # git measures this repository; Prometheus has no endpoint configured, so it is skipped
    repo = repository(tmp_path, [], data_sources={"git": {"required": True}, "prometheus": {"required": True}})
    status, report = run(repo, tmp_path)
    assert source(report, "git")["status"] == "ok"
    assert status == 1
    assert report["policy"]["reasons"] == ["required collector prometheus skipped: no Prometheus endpoint "
                                           "configured (tracking.data_sources.prometheus.endpoint)"]


def test_required_data_sources_that_measured_pass(tmp_path: Path) -> None:
    status, report = run(repository(tmp_path, [], data_sources={"git": {"required": True}}), tmp_path)
    assert status == 0 and report["policy"]["passed"] is True
