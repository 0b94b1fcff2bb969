"""Dependency-update pull requests against a real package index (pypiserver) and the local GitHub."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from repo_automation import config as config_mod
from repo_automation.domain import Action, Finding
from repo_automation.errors import ConfigError, SourceFailed, SourceSkipped
from repo_automation.package_index import PackageIndex
from repo_automation.sinks.github.dependency_updates import DependencyUpdateSink
from tests.fakegithub import FakeGitHub, Fault
from tests.fakegithub.builders import context, dep_finding, report
from tests.fakegithub.clients import REPO
from tests.fakegithub.routes_git import files_at, git, seed

REQUIREMENTS = """\
# Runtime pins (comments stay)
six==1.16.0  # keep me
idna[all]==2.10 ; python_version >= "3"
pyparsing==3.1.2
requests>=2.31
attrs==23.1.0 \\
    --hash=sha256:1f28b4522cdc2fb4256ac1a020c78acf9cba2c6b461ccd2c126f3aa8e8335d04
"""
PYPROJECT = """\
[project]
name = "demo"
version = "1.0"
dependencies = [
  "six==1.16.0",
  "packaging>=23",
]
"""
FILES = {"requirements.txt": REQUIREMENTS, "pyproject.toml": PYPROJECT, "README.md": "# demo\n"}


def _workspace(tmp: Path, files: dict[str, str] = FILES) -> Path:
    for name, text in files.items():
        (tmp / name).write_text(text, encoding="utf-8")
    return tmp


def _seeded(server: FakeGitHub, files: dict[str, str] = FILES) -> Any:
    repo = server.state.repo(*REPO.split("/"))
    seed(server.state, repo, files)
    return repo


def _sink(ghc: Any, index_url: str, section: dict[str, Any] | None = None) -> DependencyUpdateSink:
    import requests

    typed = config_mod.document({"automation": {"dependency_updates": section or {}}}).automation.dependency_updates
    return DependencyUpdateSink(client=ghc, repository=REPO, section=typed,
                                index=PackageIndex(index_url=index_url, session=requests.Session(), timeout_s=5))


def _pulls(server: FakeGitHub) -> dict[str, dict[str, Any]]:
    repo = server.state.repo(*REPO.split("/"))
    return {p["head_ref"]: {**p, **repo.issues[n]} for n, p in repo.pulls.items()}


def _idna_advisory() -> Finding:
    """A pip-audit finding on the pinned idna 2.10 that 3.7 (a major update) fixes."""
    return dataclasses.replace(dep_finding("PYSEC-2024-60", package="idna", version="2.10"), fixed_versions=("3.7",))


def _performed(actions: list[Action] | Any) -> list[str]:
    return [a.description for a in actions if a.performed]


def test_one_pr_per_package_patch_merged_by_default_rerun_changes_nothing(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, package_index: str) -> None:
    repo = _seeded(fake_github)
    ctx = context(_workspace(tmp_path), fake_github)
    actions = list(_sink(ghc, package_index).deliver(report(), ctx))

    pulls = _pulls(fake_github)
    assert sorted(pulls) == ["repo-automation/deps/idna-3.7", "repo-automation/deps/pyparsing-3.1.4",
                             "repo-automation/deps/six-1.17.0"]  # 3.2.0rc1 is a pre-release: not proposed
    assert pulls["repo-automation/deps/six-1.17.0"]["title"] == "Bump six from 1.16.0 to 1.17.0"
    # patch-only policy (the default): only the patch update is merged, the others wait for review
    assert [p["head_ref"] for p in pulls.values() if p.get("merged_at")] == ["repo-automation/deps/pyparsing-3.1.4"]
    assert {p["state"] for h, p in pulls.items() if "pyparsing" not in h} == {"open"}
    main = files_at(repo, "main")
    assert main["requirements.txt"] == REQUIREMENTS.replace("pyparsing==3.1.2", "pyparsing==3.1.4")
    # six is pinned in both manifests: one pull request changes both, comments and layout kept
    six = files_at(repo, "repo-automation/deps/six-1.17.0")
    # opened after the patch was merged, so built on the new head
    assert six["requirements.txt"] == main["requirements.txt"].replace("six==1.16.0  #", "six==1.17.0  #")
    assert '"six==1.17.0",' in six["pyproject.toml"] and '"packaging>=23",' in six["pyproject.toml"]
    idna = files_at(repo, "repo-automation/deps/idna-3.7")["requirements.txt"]
    assert 'idna[all]==3.7 ; python_version >= "3"' in idna
    assert any("merged pull request" in d for d in _performed(actions))
    assert any("attrs==23.1.0" in a.description and "--hash" in a.description for a in actions)  # reported
    assert any("requests>=2.31" in a.description for a in actions)  # a range: reported, never rewritten

    before = len(fake_github.mutating_requests())
    assert _performed(_sink(ghc, package_index).deliver(report(), ctx)) == []
    assert len(fake_github.mutating_requests()) == before  # a rerun writes nothing and opens no duplicate
    assert len(_pulls(fake_github)) == 3
    points = ghc.usage.rest_points
    assert _performed(_sink(ghc, package_index).deliver(report(), ctx)) == []
    assert ghc.usage.rest_points == points  # once settled, a rerun reads only free 304s from the ETag cache


def test_dry_run_sends_no_mutating_request_and_describes_each_pull_request(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, package_index: str) -> None:
    _seeded(fake_github)
    ctx = context(_workspace(tmp_path), fake_github, dry_run=True)
    actions = list(_sink(ghc, package_index).deliver(report(), ctx))
    assert fake_github.mutating_requests() == []
    would = [a.description for a in actions if a.description.startswith("would ")]
    assert len(would) == 3 and not any(a.performed for a in actions)
    pyparsing = next(d for d in would if "pyparsing" in d)
    assert "create branch" in pyparsing and "open pull request" in pyparsing and "merge (patch update" in pyparsing
    assert "merge" not in next(d for d in would if "idna" in d).split("—")[0]


def test_security_update_is_marked_and_follows_security_auto_merge(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, package_index: str) -> None:
    _seeded(fake_github)
    ctx = context(_workspace(tmp_path), fake_github)
    finding = _idna_advisory()
    _sink(ghc, package_index).deliver(report((finding,)), ctx)
    pull = _pulls(fake_github)["repo-automation/deps/idna-3.7"]
    assert pull["title"] == "Bump idna from 2.10 to 3.7 (security)" and "PYSEC\\-2024\\-60" in pull["body"]
    assert pull.get("merged_at")  # a major bump, merged because it fixes a vulnerability (auto_merge: true)
    assert {lab["name"] for lab in pull["labels"]} == {"dependencies", "security"}


def test_security_auto_merge_off_leaves_the_security_pr_open(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, package_index: str) -> None:
    _seeded(fake_github)
    ctx = context(_workspace(tmp_path), fake_github)
    finding = _idna_advisory()
    section = {"auto_merge": {"patch": False}, "security_updates": {"auto_merge": False}}
    _sink(ghc, package_index, section).deliver(report((finding,)), ctx)
    assert not any(p.get("merged_at") for p in _pulls(fake_github).values())


def test_blocked_merge_is_retried_by_a_later_run(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, package_index: str) -> None:
    repo = _seeded(fake_github)
    git(repo).merge_blocked = "Required status check \"tests\" is expected."
    ctx = context(_workspace(tmp_path), fake_github)
    actions = _sink(ghc, package_index).deliver(report(), ctx)
    assert any("not merged yet" in a.description and "Required status check" in a.description for a in actions)
    assert not any(p.get("merged_at") for p in _pulls(fake_github).values())
    git(repo).merge_blocked = None
    actions = _sink(ghc, package_index).deliver(report(), ctx)
    merged = [p["head_ref"] for p in _pulls(fake_github).values() if p.get("merged_at")]
    assert merged == ["repo-automation/deps/pyparsing-3.1.4"] and len(_pulls(fake_github)) == 3
    assert sum("merged pull request #" in d for d in _performed(actions)) == 1
    assert not any("opened" in d for d in _performed(actions))  # the same pull requests, no new ones


def test_default_branch_moved_auto_merged_branches_are_rebuilt_others_left(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, package_index: str) -> None:
    repo = _seeded(fake_github)
    git(repo).merge_blocked = "Required status check \"tests\" is expected."
    ctx = context(_workspace(tmp_path), fake_github)
    section = {"auto_merge": {"patch": True, "minor": False, "major": False}}
    _sink(ghc, package_index, section).deliver(report(), ctx)
    numbers = {h: p["number"] for h, p in _pulls(fake_github).items()}
    heads = dict(git(repo).refs)
    moved = REQUIREMENTS.replace("# Runtime pins (comments stay)", "# Runtime pins, reviewed")
    seed(fake_github.state, repo, {"requirements.txt": moved}, message="Edit a comment")
    actions = _sink(ghc, package_index, section).deliver(report(), ctx)
    # the patch update is merged automatically: its branch is rebuilt level with main (what is merged is what
    # was checked); the branches left for review still carry their edit and are not rewritten
    assert [d.split(" — ")[0] for d in _performed(actions)] == ["committed to repo-automation/deps/pyparsing-3.1.4"]
    assert {h: p["number"] for h, p in _pulls(fake_github).items()} == numbers  # same pull requests
    pyparsing = files_at(repo, "repo-automation/deps/pyparsing-3.1.4")["requirements.txt"]
    assert "# Runtime pins, reviewed" in pyparsing and "pyparsing==3.1.4" in pyparsing
    assert git(repo).refs["repo-automation/deps/six-1.17.0"] == heads["repo-automation/deps/six-1.17.0"]


def test_pr_closed_without_merging_is_not_reopened(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, package_index: str) -> None:
    repo = _seeded(fake_github)
    ctx = context(_workspace(tmp_path), fake_github)
    _sink(ghc, package_index).deliver(report(), ctx)
    number = _pulls(fake_github)["repo-automation/deps/idna-3.7"]["number"]
    repo.issues[number]["state"] = "closed"
    actions = _sink(ghc, package_index).deliver(report(), ctx)
    assert any(a.description.startswith("left alone") and f"#{number}" in a.description for a in actions)
    assert len(_pulls(fake_github)) == 3 and _performed(actions) == []


def test_an_open_pr_for_an_older_version_is_closed_as_superseded(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, package_index: str) -> None:
    files = {"requirements.txt": "six==1.16.0\n"}
    repo = _seeded(fake_github, files)
    old = "repo-automation/deps/six-1.16.5"  # proposed by an earlier run, when 1.16.5 was the newest
    seed(fake_github.state, repo, {"requirements.txt": "six==1.16.5\n"}, branch=old)
    stale = ghc.create_pull(REPO, base="main", head=old, title="Bump six from 1.16.0 to 1.16.5", body="")
    ctx = context(_workspace(tmp_path, files), fake_github)
    actions = _sink(ghc, package_index).deliver(report(), ctx)
    assert repo.issues[stale.number]["state"] == "closed"
    comment = fake_github.state.comments(REPO, stale.number)[-1]["body"]
    assert comment == "Superseded: six 1.17.0 is proposed on repo-automation/deps/six-1.17.0."
    assert any(a.description.startswith(f"closed pull request #{stale.number}") for a in actions)
    assert [p["state"] for h, p in _pulls(fake_github).items() if h.endswith("1.17.0")] == ["open"]


def test_an_open_pr_the_default_branch_caught_up_with_is_closed(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, package_index: str) -> None:
    files = {"requirements.txt": "six==1.16.0\n"}
    repo = _seeded(fake_github, files)
    section = {"auto_merge": {"patch": False}}
    _sink(ghc, package_index, section).deliver(report(), context(_workspace(tmp_path, files), fake_github))
    [number] = [p["number"] for p in _pulls(fake_github).values()]
    bumped = {"requirements.txt": "six==1.17.0\n"}  # someone updated the pin by hand on main
    seed(fake_github.state, repo, bumped)
    actions = _sink(ghc, package_index, section).deliver(report(), context(_workspace(tmp_path, bumped),
                                                                               fake_github))
    assert repo.issues[number]["state"] == "closed"
    assert [a.description for a in actions] == [
        f"closed pull request #{number}: Up to date: the default branch pins six 1.17.0 already."]


def test_pr_created_behind_a_gateway_error_is_not_created_twice(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, package_index: str) -> None:
    files = {"requirements.txt": "six==1.16.0\n"}
    repo = _seeded(fake_github, files)
    ctx = context(_workspace(tmp_path, files), fake_github)
    fault = fake_github.inject(Fault.server_error(502, method="POST", path=r"/pulls$", apply=True))
    actions = _sink(ghc, package_index).deliver(report(), ctx)  # GitHub acted, the answer was lost
    assert fault.hits == 1 and fake_github.count("POST", "/pulls") == 2  # the retry met "already exists"
    [pull] = _pulls(fake_github).values()
    assert [x["name"] for x in pull["labels"]] == ["dependencies"]  # the pull request found is finished
    assert [a.description.split(" — ")[0] for a in actions] == [
        f"committed to repo-automation/deps/six-1.17.0; opened pull request #{pull['number']}"]
    assert len(repo.pulls) == 1


def test_token_that_cannot_write_prs_fails_with_what_to_change(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, package_index: str) -> None:
    files = {"requirements.txt": "six==1.16.0\n"}
    _seeded(fake_github, files)
    fake_github.inject(Fault.forbidden("GitHub Actions is not permitted to create or approve pull requests.",
                                       method="POST", path=r"/pulls$"))
    with pytest.raises(SourceFailed) as e:
        _sink(ghc, package_index).deliver(report(), context(_workspace(tmp_path, files), fake_github))
    assert "HTTP 403 GitHub Actions is not permitted" in str(e.value)
    assert "pull-requests: write" in str(e.value) and "Allow GitHub Actions to create" in str(e.value)
    assert "committed to repo-automation/deps/six-1.17.0" in str(e.value)  # what was done is said too


def test_package_unknown_to_the_index_is_reported_and_the_others_go_on(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, package_index: str) -> None:
    files = {"requirements.txt": "six==1.16.0\nno-such-package-here==1.0\n"}
    _seeded(fake_github, files)
    ctx = context(_workspace(tmp_path, files), fake_github)
    actions = _sink(ghc, package_index).deliver(report(), ctx)
    assert any("no-such-package-here: not found on the package index" in a.description for a in actions)
    assert list(_pulls(fake_github)) == ["repo-automation/deps/six-1.17.0"]


def test_switched_off_or_misconfigured(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    ws = _workspace(tmp_path)
    off = DependencyUpdateSink.from_context(context(ws, fake_github, skip_deps=True))
    with pytest.raises(SourceSkipped, match="skip-deps"):
        off.deliver(report(), context(ws, fake_github))
    config = {"automation": {"dependency_updates": {"enabled": False}}}
    disabled = DependencyUpdateSink.from_context(context(ws, fake_github, config=config))
    with pytest.raises(SourceSkipped, match="enabled is false"):
        disabled.deliver(report(), context(ws, fake_github))
    config = {"automation": {"dependency_updates": {"requirements_files": ["requirements/prod.txt"]}}}
    with pytest.raises(ConfigError) as e:
        DependencyUpdateSink.from_context(context(ws, fake_github, config=config), client=ghc)
    assert "requirements/prod.txt" in e.value.diagnostics()
    assert fake_github.requests == []
