"""Docs upkeep: the README badge and the changelog, through one docs pull request on the local GitHub."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import pytest

from repo_automation.domain import Health
from repo_automation.errors import SourceSkipped
from repo_automation.maintenance.docs import BADGE_END, BADGE_START, badge_markdown, with_badge, with_unreleased
from repo_automation.sinks.github.docs_upkeep import DOCS_BRANCH, DocsSink
from tests.fakegithub import FakeGitHub
from tests.fakegithub.builders import context
from tests.fakegithub.builders import report as base_report
from tests.fakegithub.clients import REPO
from tests.fakegithub.routes_git import files_at, seed

README = "# demo\n\nA small project.\n"
CHANGELOG = "# Changelog\n\n## 1.0.0\n\n- First release\n"
DOCS_ON = {"automation": {"docs": {"badges": True, "changelog": True}}}


def _git(ws: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=ws, check=True, capture_output=True, timeout=30)


def _history(ws: Path) -> Path:
    """A real repository: a tag, then merged pull requests, conventional commits and noise."""
    ws.mkdir(parents=True, exist_ok=True)
    _git(ws, "init", "-q", "-b", "main")
    _git(ws, "config", "user.email", "dev@example.invalid")
    _git(ws, "config", "user.name", "Dev")
    for message in ("Initial import", "feat: before the release (#1)"):
        _git(ws, "commit", "-q", "--allow-empty", "-m", message)
    _git(ws, "tag", "v1.0.0")
    _git(ws, "commit", "-q", "--allow-empty", "-m", "feat(auth): add login (#3)")
    _git(ws, "commit", "-q", "--allow-empty", "-m", "fix: handle an empty <body> (#4)")
    _git(ws, "checkout", "-q", "-b", "feature-x")
    _git(ws, "commit", "-q", "--allow-empty", "-m", "wip on export")  # inside the PR: not listed on its own
    _git(ws, "checkout", "-q", "main")
    _git(ws, "merge", "-q", "--no-ff", "feature-x", "-m", "Merge pull request #5 from octo-org/feature-x",
         "-m", "Export reports to CSV")
    _git(ws, "commit", "-q", "--allow-empty", "-m", "chore: tidy the imports (#6)")  # left out
    _git(ws, "commit", "-q", "--allow-empty", "-m", "typo")  # neither a PR nor conventional: left out
    return ws


def report(health: Health | None = None) -> Any:
    import dataclasses

    out = base_report()
    return dataclasses.replace(out, health=health) if health is not None else out


def _health(score: float, grade: str) -> Health:
    return Health(overall=score, grade=grade, categories={})


def _sink(ghc: Any, **kw: Any) -> DocsSink:
    return DocsSink(client=ghc, repository=REPO, badges=kw.get("badges", True),
                    changelog=kw.get("changelog", True))


def _seeded(server: FakeGitHub, files: dict[str, str] | None = None) -> Any:
    repo = server.state.repo(*REPO.split("/"))
    seed(server.state, repo, files or {"README.md": README, "CHANGELOG.md": CHANGELOG})
    return repo


def test_docs_pr_carries_badge_and_changelog_then_is_updated_in_place(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    repo = _seeded(fake_github)
    ctx = context(_history(tmp_path), fake_github, config=DOCS_ON)
    actions = _sink(ghc).deliver(report(health=_health(87.4, "B")), ctx)
    assert [a.performed for a in actions] == [True]
    branch = files_at(repo, DOCS_BRANCH)
    assert branch["README.md"] == (
        "# demo\n\n" + BADGE_START + "\n![Repository health: 87/100, grade B]"
        "(https://img.shields.io/badge/health-87%20%28B%29-green)\n" + BADGE_END + "\n\nA small project.\n")
    assert branch["CHANGELOG.md"] == (
        "# Changelog\n\n## Unreleased\n\n### Added\n\n- add login (#3)\n\n### Changed\n\n- Export reports to CSV (#5)"
        "\n\n### Fixed\n\n- handle an empty &lt;body&gt; (#4)\n\n## 1.0.0\n\n- First release\n")
    assert files_at(repo, "main")["README.md"] == README  # only the pull request changes the default branch
    pulls = list(repo.pulls.values())
    assert len(pulls) == 1 and repo.issues[1]["title"] == "docs: update the health badge and changelog"
    assert {lab["name"] for lab in repo.issues[1]["labels"]} == {"documentation"}

    writes = len(fake_github.mutating_requests())
    assert _sink(ghc).deliver(report(health=_health(87.4, "B")), ctx) == []  # same score: nothing
    assert len(fake_github.mutating_requests()) == writes

    actions = _sink(ghc).deliver(report(health=_health(92.0, "A")), ctx)
    assert len(repo.pulls) == 1 and "updated pull request #1" in actions[0].description
    assert "health-92%20%28A%29-brightgreen" in files_at(repo, DOCS_BRANCH)["README.md"]
    assert "(grade A)" in repo.issues[1]["body"]


def test_nothing_to_change_means_no_branch_and_no_pr(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    badge = badge_markdown(_health(75, "C"))
    assert badge is not None
    repo = _seeded(fake_github, {"README.md": with_badge(README, badge) or ""})
    ctx = context(tmp_path, fake_github)
    assert _sink(ghc, changelog=False).deliver(report(health=_health(75.2, "C")), ctx) == []
    assert fake_github.mutating_requests() == [] and repo.pulls == {}


def test_dry_run_describes_the_docs_pr_and_writes_nothing(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    _seeded(fake_github)
    ctx = context(_history(tmp_path), fake_github, dry_run=True)
    actions = _sink(ghc).deliver(report(health=_health(61, "D")), ctx)
    assert fake_github.mutating_requests() == []
    assert len(actions) == 1 and not actions[0].performed
    assert actions[0].description.startswith("would create branch; commit README.md, CHANGELOG.md; open pull request")


def test_no_score_leaves_the_badge_and_skips_are_explained(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    _seeded(fake_github)
    ctx = context(tmp_path, fake_github)
    actions = _sink(ghc, changelog=False).deliver(report(), ctx)  # health inconclusive
    assert [a.description for a in actions] == ["no health score this run: the README badge is left as it is"]
    assert fake_github.mutating_requests() == []
    with pytest.raises(SourceSkipped, match="skip-docs"):
        DocsSink.from_context(context(tmp_path, fake_github, skip_docs=True)).deliver(report(), ctx)
    off = {"automation": {"docs": {"badges": False, "changelog": False}}}
    with pytest.raises(SourceSkipped, match="both false"):
        DocsSink.from_context(context(tmp_path, fake_github, config=off)).deliver(report(), ctx)


def test_badge_replaces_only_what_is_between_the_markers() -> None:
    readme = f"Intro\n{BADGE_START}\nold badge\n{BADGE_END} other badges\n\nText\n"
    assert with_badge(readme, "NEW") == f"Intro\n{BADGE_START}\nNEW\n{BADGE_END} other badges\n\nText\n"
    assert with_badge("No heading here.\n", "NEW") == f"{BADGE_START}\nNEW\n{BADGE_END}\n\nNo heading here.\n"
    assert with_badge(None, "NEW") is None  # no README: none is created


def test_unreleased_section_is_replaced_in_place_or_created() -> None:
    text = "# Changelog\n\n## [Unreleased]\n\n- stale\n\n## 1.0.0\n\n- First\n"
    want = "# Changelog\n\n## Unreleased\n\n- new\n\n## 1.0.0\n\n- First\n"
    assert with_unreleased(text, "## Unreleased\n\n- new\n") == want
    assert with_unreleased(None, "## Unreleased\n") == "# Changelog\n\n## Unreleased\n"


def test_shallow_clone_or_other_branch_leaves_the_changelog_alone(tmp_path: Path, fake_github: FakeGitHub,
                                                                  ghc: Any) -> None:
    _seeded(fake_github)
    origin = _history(tmp_path / "origin")
    _git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", "shallow")
    ctx = context(tmp_path / "shallow", fake_github)
    actions = _sink(ghc, badges=False).deliver(report(), ctx)
    assert [a.description for a in actions] == [
        "changelog left as it is: the local history cannot be read (shallow clone: check out with "
        "fetch-depth: 0 so the history and tags are there)"]
    assert fake_github.mutating_requests() == []
    push = dataclasses.replace(ctx, ref="refs/heads/feature", event={"repository": {"default_branch": "main"}})
    with pytest.raises(SourceSkipped, match="this run is on 'feature'"):
        _sink(ghc).deliver(report(), push)


def test_closed_docs_pr_is_respected_until_the_content_changes(tmp_path: Path, fake_github: FakeGitHub,
                                                               ghc: Any) -> None:
    repo = _seeded(fake_github)
    ctx = context(tmp_path, fake_github)
    _sink(ghc, changelog=False).deliver(report(health=_health(70, "C")), ctx)
    repo.issues[1]["state"] = "closed"  # someone closed it without merging
    actions = _sink(ghc, changelog=False).deliver(report(health=_health(70, "C")), ctx)
    assert [a.description.split(":")[0] for a in actions] == ["left alone"] and not actions[0].performed
    actions = _sink(ghc, changelog=False).deliver(report(health=_health(95, "A")), ctx)
    assert "opened pull request #2" in actions[0].description  # new content: proposed again, once
    assert [i["state"] for i in fake_github.state.issues(REPO, include_pulls=True)] == ["closed", "open"]
