"""The ratchet gates end to end, on real git repositories built here and the real CLI: a mature repository
with one old complex function passes, a commit that adds another fails; the same on the pull-request path,
where the base of the pull request is the baseline."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from repo_automation.cli import main
from tests.sample_repo import git

CONFIG: dict[str, Any] = {
    "tracking": {"data_sources": {"github": {"enabled": False}}},
    "automation": {"dependency_updates": {"enabled": False}, "security_scanning": {"enabled": False},
                   "code_quality": {"quality_gates": {"complexity_threshold": 10, "coverage_minimum": 80}}},
}


def complex_function(name: str, branches: int = 11) -> str:
    """A function of cyclomatic complexity branches + 1."""
    body = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(branches))
    return f"def {name}(x):\n{body}    return -1\n"


def mature_repo(root: Path, config: dict[str, Any] | None = None) -> Path:
    """A repository whose history holds one complex legacy function (complexity 12)."""
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("", encoding="utf-8")
    (root / "app" / "legacy.py").write_text(complex_function("legacy"), encoding="utf-8")
    (root / "app" / "util.py").write_text("def double(x):\n    return 2 * x\n", encoding="utf-8")
    (root / ".github").mkdir()
    (root / ".github" / "project-metrics.json").write_text(json.dumps(config or CONFIG), encoding="utf-8")
    (root / ".gitignore").write_text("reports/\n.repo-automation/\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "Legacy code")
    return root


def commit(root: Path, path: str, text: str, message: str) -> str:
    (root / path).write_text(text, encoding="utf-8")
    git(root, "add", path)
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def run(root: Path, tmp: Path, *, event: str = "schedule", payload: dict[str, Any] | None = None,
        args: tuple[str, ...] = (), github: Mapping[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """One real run of the CLI on `root`; without `github` (GITHUB_API_URL, GITHUB_TOKEN, …) no token, so
    nothing is written to GitHub."""
    event_path = tmp / f"event-{event}.json"
    event_path.write_text(json.dumps(payload or {"repository": {"full_name": "octo/app"}}), encoding="utf-8")
    out = tmp / "out"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "GIT_CONFIG_NOSYSTEM": "1", "GITHUB_EVENT_NAME": event,
           "GITHUB_EVENT_PATH": str(event_path), "GITHUB_REPOSITORY": "octo/app",
           "GITHUB_SHA": git(root, "rev-parse", "HEAD").strip(), **(github or {})}
    status = main(["run", "-C", str(root), "--output-dir", str(out), "--skip-deps", "--skip-docs",
                   "--history-db", str(tmp / "history.sqlite"), *args], env=env)
    return status, json.loads((out / "project-health-report.json").read_text(encoding="utf-8"))


def gate(doc: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [g for g in doc["gates"] if g["name"] == name]
    return found


def test_scheduled_runs_ratchet_against_the_last_stored_run(tmp_path: Path) -> None:
    repo = mature_repo(tmp_path / "repo")
    first, doc = run(repo, tmp_path, args=("--store-db",))
    assert first == 0
    assert gate(doc, "complexity_threshold")["status"] == "inconclusive"  # nothing stored to compare with yet
    again, doc = run(repo, tmp_path, args=("--store-db",))
    cx = gate(doc, "complexity_threshold")
    assert again == 0, doc["policy"]
    assert (cx["status"], cx["mode"]) == ("passed", "ratchet")
    assert cx["details"] == ["app/legacy.py:1 legacy: complexity 12"]
    assert cx["baseline"].startswith("the last stored run (")

    commit(repo, "app/new.py", complex_function("tangled", 12), "Add a new complex function")
    worse, doc = run(repo, tmp_path, args=("--store-db",))
    cx = gate(doc, "complexity_threshold")
    assert worse == 1
    assert cx["status"] == "failed"
    assert cx["message"].startswith("2 functions exceed complexity 10, 1 more than at the last stored run")
    assert "app/new.py:1 tangled: complexity 13" in cx["details"]
    assert any(s.startswith("Split tangled (app/new.py:1, complexity 13)") for s in cx["suggestions"])
    summary = (tmp_path / "out" / "project-health-report.md").read_text(encoding="utf-8")
    assert "### Improvement suggestions" in summary and "Split tangled" in summary


def test_absolute_mode_fails_the_old_function_too(tmp_path: Path) -> None:
    config = json.loads(json.dumps(CONFIG))
    config["automation"]["code_quality"]["gate_modes"] = {"complexity_threshold": "absolute"}
    status, doc = run(mature_repo(tmp_path / "repo", config), tmp_path)
    assert status == 1
    assert gate(doc, "complexity_threshold")["mode"] == "absolute"


def pull_request_event(base: str, head: str, *, number: int = 5, repository: str = "octo/app") -> dict[str, Any]:
    repo = {"full_name": repository, "fork": False}
    return {"action": "synchronize", "number": number, "repository": repo,
            "pull_request": {"number": number, "base": {"sha": base, "ref": "main", "repo": repo},
                             "head": {"sha": head, "ref": "feature", "repo": repo}}}


def feature_branch(tmp_path: Path) -> tuple[Path, str, str]:
    """The mature repository with a branch `feature` that adds a simple helper: (repository, base, head)."""
    repo = mature_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "feature")
    head = commit(repo, "app/util.py", "def double(x):\n    return 2 * x\n\n\ndef triple(x):\n    return 3 * x\n",
                  "A simple helper")
    return repo, base, head


def test_a_pull_request_ratchets_against_its_base(tmp_path: Path) -> None:
    repo, base, head = feature_branch(tmp_path)
    status, doc = run(repo, tmp_path, event="pull_request", payload=pull_request_event(base, head))
    cx = gate(doc, "complexity_threshold")
    assert status == 0, doc["policy"]
    assert (cx["status"], cx["scope"]) == ("passed", "change")
    assert "this pull request adds or worsens none of them" in cx["message"]

    head = commit(repo, "app/new.py", complex_function("tangled", 12), "Add a new complex function")
    status, doc = run(repo, tmp_path, event="pull_request", payload=pull_request_event(base, head))
    cx = gate(doc, "complexity_threshold")
    assert status == 1
    assert (cx["status"], cx["scope"]) == ("failed", "change")
    assert cx["details"] == ["app/new.py:1 tangled: complexity 13 (new)"]

    worse_legacy = complex_function("legacy", 13)
    head = commit(repo, "app/new.py", "def tangled(x):\n    return x\n", "Simplify the new one")
    head = commit(repo, "app/legacy.py", worse_legacy, "Make the legacy function worse")
    status, doc = run(repo, tmp_path, event="pull_request", payload=pull_request_event(base, head))
    assert status == 1
    assert gate(doc, "complexity_threshold")["details"] == [
        "app/legacy.py:1 legacy: complexity 14 (was 12 at the base)"]


def coverage_json(root: Path, test_code: str) -> None:
    """A real coverage.py JSON report of running `test_code` against the package."""
    (root / "run_tests.py").write_text(test_code, encoding="utf-8")
    for args in (["run", "--include=app/*", "run_tests.py"], ["json", "-o", "coverage.json"]):
        proc = subprocess.run([sys.executable, "-m", "coverage", *args], cwd=root, capture_output=True, text=True,
                              timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr


def test_a_pull_request_is_judged_on_the_coverage_of_the_lines_it_changes(tmp_path: Path) -> None:
    repo, base, head = feature_branch(tmp_path)  # legacy() never runs: the total is far below 80 %
    coverage_json(repo, "import app.legacy\nfrom app.util import double, triple\n"
                         "assert double(2) == 4 and triple(1) == 3\n")
    status, doc = run(repo, tmp_path, event="pull_request", payload=pull_request_event(base, head))
    cov = gate(doc, "coverage_minimum")
    assert status == 0, doc["policy"]
    assert (cov["status"], cov["scope"]) == ("passed", "change")
    assert "the lines this pull request changes are 100.0% covered (2 of 2 changed line(s))" in cov["message"]
    assert cov["details"][0].startswith("app/legacy.py: ")  # the least covered file is named

    coverage_json(repo, "import app.legacy\nfrom app.util import double\nassert double(2) == 4\n")  # not triple()
    status, doc = run(repo, tmp_path, event="pull_request", payload=pull_request_event(base, head))
    cov = gate(doc, "coverage_minimum")
    assert status == 1
    assert cov["status"] == "failed"
    assert "the lines this pull request changes are 50.0% covered (1 of 2 changed line(s))" in cov["message"]
    assert cov["suggestions"][0] == "Cover the lines this pull request adds: app/util.py:6"
