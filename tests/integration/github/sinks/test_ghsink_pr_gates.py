"""The pull-request check judges the change: on a repository whose own gates fail (a legacy function over
the complexity threshold, coverage far below the minimum), a pull request that worsens nothing gets a
successful check run, with the repository-wide failures shown as context. Real git repositories, the real
CLI, and the local GitHub that validates every request against GitHub's OpenAPI description."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.fakegithub import FakeGitHub
from tests.integration.gates.test_ratchet_repo import (
    CONFIG,
    commit,
    complex_function,
    coverage_json,
    feature_branch,
    gate,
    pull_request_event,
    run,
)
from tests.sample_repo import git

REPOSITORY = "octo-org/hello-world"


def _strict_config(repo: Path) -> None:
    """The repository asks for absolute gates: its own legacy code fails them on every push."""
    config: dict[str, Any] = json.loads(json.dumps(CONFIG))
    config["automation"]["code_quality"]["gate_modes"] = {"complexity_threshold": "absolute",
                                                          "coverage_minimum": "absolute"}
    (repo / ".github" / "project-metrics.json").write_text(json.dumps(config), encoding="utf-8")


def _env(fake: FakeGitHub) -> dict[str, str]:
    return {"GITHUB_API_URL": fake.url, "GITHUB_GRAPHQL_URL": fake.url + "/graphql", "GITHUB_TOKEN": fake.token,
            "GITHUB_REPOSITORY": REPOSITORY}


def _check_runs(fake: FakeGitHub) -> list[dict[str, Any]]:
    repo = fake.state.repo(*REPOSITORY.split("/"))
    assert repo is not None
    return list(repo.check_runs.values())


def test_a_pull_request_that_worsens_nothing_passes_on_a_repository_whose_gates_fail(
        tmp_path: Path, fake_github: FakeGitHub) -> None:
    repo, base, _ = feature_branch(tmp_path)
    _strict_config(repo)
    git(repo, "commit", "-q", "-am", "Strict gates")
    head = git(repo, "rev-parse", "HEAD").strip()
    coverage_json(repo, "import app.legacy\nfrom app.util import double, triple\n"
                        "assert double(2) == 4 and triple(1) == 3\n")
    push = {"ref": "refs/heads/feature", "repository": {"full_name": REPOSITORY}}
    pushed, doc = run(repo, tmp_path, event="push", payload=push, github=_env(fake_github))
    assert pushed == 1  # the repository's own gates fail
    assert {g["name"] for g in doc["gates"] if g["status"] == "failed"} >= {"complexity_threshold",
                                                                           "coverage_minimum"}
    assert _check_runs(fake_github) == []  # a push writes no check run

    gh_repo = fake_github.state.repo(*REPOSITORY.split("/"))
    assert gh_repo is not None
    number = fake_github.state.add_pull(gh_repo, title="A helper", head_sha=head, base_sha=base)["number"]
    event = pull_request_event(base, head, number=number, repository=REPOSITORY)
    status, doc = run(repo, tmp_path, event="pull_request", payload=event, github=_env(fake_github))
    assert status == 0, doc["policy"]
    assert doc["policy"]["passed"] is True
    assert any("complexity_threshold failed" in c for c in doc["policy"]["context"])
    [check] = _check_runs(fake_github)
    assert (check["head_sha"], check["conclusion"]) == (head, "success")
    summary = check["output"]["summary"]
    assert "Repository-wide, not judged on this pull request (context):" in summary
    assert "gate complexity\\_threshold failed: 1 function exceeds complexity 10" in summary  # Markdown-escaped

    worse = commit(repo, "app/new.py", complex_function("tangled", 12), "Add a complex function")
    number = fake_github.state.add_pull(gh_repo, title="Tangled", head_sha=worse, base_sha=base)["number"]
    event = pull_request_event(base, worse, number=number, repository=REPOSITORY)
    status, doc = run(repo, tmp_path, event="pull_request", payload=event, github=_env(fake_github))
    assert status == 0  # absolute gates judge the repository: context on a pull request, never its failure
    assert gate(doc, "complexity_threshold")["scope"] == "repository"


def test_the_default_ratchet_fails_the_pull_request_that_adds_a_complex_function(
        tmp_path: Path, fake_github: FakeGitHub) -> None:
    repo, base, _ = feature_branch(tmp_path)
    gh_repo = fake_github.state.repo(*REPOSITORY.split("/"))
    assert gh_repo is not None
    worse = commit(repo, "app/new.py", complex_function("tangled", 12), "Add a complex function")
    number = fake_github.state.add_pull(gh_repo, title="Tangled", head_sha=worse, base_sha=base)["number"]
    event = pull_request_event(base, worse, number=number, repository=REPOSITORY)
    status, _ = run(repo, tmp_path, event="pull_request", payload=event, github=_env(fake_github))
    assert status == 1
    [check] = _check_runs(fake_github)
    assert check["conclusion"] == "failure"
    assert "this pull request adds or worsens 1 function" in check["output"]["summary"]
