"""Dependency-update pull requests against a real package index (pypiserver) and the local GitHub.

The index is a pypiserver of the test's own, serving real distributions whose files carry an old upload
time (Last-Modified); GitHub is the stand-in that validates every REST request against GitHub's OpenAPI
description and every GraphQL document (enablePullRequestAutoMerge included) against GitHub's schema, with
branch protection (required checks on `main`, "tests" by default) and the repository's auto-merge setting.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from repo_automation import config as config_mod
from repo_automation.domain import Action, Finding
from repo_automation.errors import ConfigError, SourceFailed, SourceSkipped
from repo_automation.github.client import GitHubError
from repo_automation.package_index import PackageIndex
from repo_automation.scanners.osv import OSVSeverity
from repo_automation.sinks.github.dependency_updates import DependencyUpdateSink
from tests.fakegithub import FakeGitHub, Fault
from tests.fakegithub.builders import context, dep_finding, report
from tests.fakegithub.clients import REPO
from tests.fakegithub.routes_automerge import ci_passes
from tests.fakegithub.routes_git import files_at, git, seed
from tests.fakeosv import FakeOSV
from tests.integration.pypiserver.conftest import LiveIndex

DATA = Path(__file__).resolve().parents[2] / "data" / "manifests"
T0 = datetime.now(UTC)
HOURLY = {"frequency": "hourly"}
PATCH_AND_MINOR = {**HOURLY, "auto_merge": {"patch": True, "minor": True, "major": False}}


@pytest.fixture(autouse=True, scope="module")
def graphql_schema() -> None:
    """GitHub's GraphQL schema loaded before the first request (loading it takes longer than a client's
    timeout, and a mutation retried after a timeout would be counted twice)."""
    from tests.fakegithub.graphql import schema

    schema()


@pytest.fixture
def osv() -> Iterator[FakeOSV]:
    with FakeOSV() as server:  # the PyPA advisories in tests/data/osv
        yield server


def _workspace(tmp: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(text, encoding="utf-8")
    return tmp


def _seeded(server: FakeGitHub, files: dict[str, str]) -> Any:
    repo = server.state.repo(*REPO.split("/"))
    seed(server.state, repo, files)
    return repo


def _sink(ghc: Any, index: LiveIndex, section: dict[str, Any] | None = None, *,
          osv: FakeOSV | None = None) -> DependencyUpdateSink:
    import requests

    typed = config_mod.document({"automation": {"dependency_updates": section or {}}}).automation.dependency_updates
    return DependencyUpdateSink(client=ghc, repository=REPO, section=typed,
                                index=PackageIndex(index_url=index.url, session=requests.Session(), timeout_s=5),
                                advisories=OSVSeverity.for_url(osv.url).advisories if osv else None)


def _run(ghc: Any, index: LiveIndex, ws: Path, server: FakeGitHub, section: dict[str, Any] | None = None, *,
         hours: float = 0, findings: tuple[Finding, ...] = (), osv: FakeOSV | None = None,
         **kw: Any) -> list[Action]:
    ctx = context(ws, server, now=T0 + timedelta(hours=hours), **kw)
    return list(_sink(ghc, index, section, osv=osv).deliver(report(findings), ctx))


def _pulls(server: FakeGitHub) -> dict[str, dict[str, Any]]:
    repo = server.state.repo(*REPO.split("/"))
    return {p["head_ref"]: {**p, **repo.issues[n]} for n, p in repo.pulls.items()}


def _auto_merged(server: FakeGitHub) -> list[tuple[int, str]]:
    return [(n, m) for _, n, m in server.state.__dict__.get("auto_merge_calls", [])]


def _performed(actions: list[Action]) -> list[str]:
    return [a.description for a in actions if a.performed]


def _diff(before: str, after: str) -> list[str]:
    return [x for x in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if x[:1] in "+-" and not x.startswith(("+++", "---"))]


def test_patch_minor_and_major_buckets_auto_merged_by_policy_then_the_loop_closes(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, live_index: LiveIndex) -> None:
    files = {"requirements.txt": "# tools\ntomli==1.0.0  # TOML parser\n"}
    repo = _seeded(fake_github, files)
    ws = _workspace(tmp_path, files)
    actions = _run(ghc, live_index, ws, fake_github, PATCH_AND_MINOR)

    pulls = _pulls(fake_github)
    assert {h: p["title"] for h, p in pulls.items()} == {
        "repo-automation/deps/tomli-patch": "Bump tomli from 1.0.0 to 1.0.3",
        "repo-automation/deps/tomli-minor": "Bump tomli from 1.0.0 to 1.2.3",
        "repo-automation/deps/tomli-major": "Bump tomli from 1.0.0 to 2.0.1"}
    number = {h.rsplit("-", 1)[1]: p["number"] for h, p in pulls.items()}
    # GitHub's native auto-merge, through the GraphQL mutation, for the buckets the policy merges
    assert _auto_merged(fake_github) == [(number["patch"], "SQUASH"), (number["minor"], "SQUASH")]
    assert not any(p.get("merged_at") for p in pulls.values())  # nothing merged before CI ran
    assert "left for review" in pulls["repo-automation/deps/tomli-major"]["body"]
    assert sum("auto-merge enabled" in d and "once tests pass" in d for d in _performed(actions)) == 2
    assert files_at(repo, "repo-automation/deps/tomli-major")["requirements.txt"] == (
        "# tools\ntomli==2.0.1  # TOML parser\n")

    writes = len(fake_github.mutating_requests())
    assert _performed(_run(ghc, live_index, ws, fake_github, PATCH_AND_MINOR, hours=2)) == []
    assert len(fake_github.mutating_requests()) == writes  # a rerun writes nothing

    live_index.add("tomli-1.0.4")  # a newer patch release updates the open pull request in place
    actions = _run(ghc, live_index, ws, fake_github, PATCH_AND_MINOR, hours=4)
    patch = _pulls(fake_github)["repo-automation/deps/tomli-patch"]
    assert patch["number"] == number["patch"] and patch["title"] == "Bump tomli from 1.0.0 to 1.0.4"
    assert "tomli==1.0.4" in files_at(repo, "repo-automation/deps/tomli-patch")["requirements.txt"]
    assert len(_pulls(fake_github)) == 3 and len(_auto_merged(fake_github)) == 2  # auto-merge stays on

    assert ci_passes(fake_github.state, repo) == [number["patch"]]  # minor conflicts with it now: GitHub waits
    ws = _workspace(tmp_path, {"requirements.txt": files_at(repo, "main")["requirements.txt"]})
    actions = _run(ghc, live_index, ws, fake_github, PATCH_AND_MINOR, hours=6)
    # only the conflicted branches are rebuilt, on the new head: minor and major now start from 1.0.4
    assert sorted(d.split(" — ")[0] for d in _performed(actions)) == [
        f"committed to repo-automation/deps/tomli-major; updated pull request #{number['major']}",
        f"committed to repo-automation/deps/tomli-minor; updated pull request #{number['minor']}"]
    assert ci_passes(fake_github.state, repo) == [number["minor"]]
    assert files_at(repo, "main")["requirements.txt"] == "# tools\ntomli==1.2.3  # TOML parser\n"

    with pytest.raises(GitHubError, match="Merge conflict"):  # a person wants the major update: it conflicts
        ghc.merge_pull(REPO, number["major"], method="merge",
                       sha=git(repo).refs["repo-automation/deps/tomli-major"], commit_title="Take the major update")
    ws = _workspace(tmp_path, {"requirements.txt": files_at(repo, "main")["requirements.txt"]})
    actions = _run(ghc, live_index, ws, fake_github, PATCH_AND_MINOR, hours=8)  # the next run resolves it
    assert [d.split(" — ")[0] for d in _performed(actions)] == [
        f"committed to repo-automation/deps/tomli-major; updated pull request #{number['major']}"]
    ghc.merge_pull(REPO, number["major"], method="merge", sha=git(repo).refs["repo-automation/deps/tomli-major"],
                   commit_title="Take the major update")  # merged by hand
    ws = _workspace(tmp_path, {"requirements.txt": files_at(repo, "main")["requirements.txt"]})
    writes = len(fake_github.mutating_requests())
    actions = _run(ghc, live_index, ws, fake_github, PATCH_AND_MINOR, hours=10)
    assert _performed(actions) == [] and len(fake_github.mutating_requests()) == writes  # the loop is closed
    assert files_at(repo, "main")["requirements.txt"] == "# tools\ntomli==2.0.1  # TOML parser\n"
    assert fake_github.take_violations() == []


def test_security_update_to_the_lowest_release_fixing_every_advisory_ignores_the_cooldown(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, live_index: LiveIndex, osv: FakeOSV) -> None:
    files = {"requirements.txt": "Jinja2==2.10\n"}
    _seeded(fake_github, files)
    live_index.touch("jinja2-2.11.3")  # published a few seconds ago: far inside the 3-day minimum release age
    findings = (dep_finding("PYSEC-2019-217", package="jinja2", version="2.10"),
                dep_finding("PYSEC-2021-66", package="jinja2", version="2.10"))
    findings = tuple(Finding(**{**{s: getattr(f, s) for s in f.__slots__}, "fixed_versions": fixed})
                     for f, fixed in zip(findings, (("2.10.1",), ("2.11.3",)), strict=True))
    actions = _run(ghc, live_index, _workspace(tmp_path, files), fake_github, findings=findings, osv=osv)
    pulls = _pulls(fake_github)
    assert list(pulls) == ["repo-automation/deps/jinja2-security"]  # 2.10.1 fixes one of the two only
    pull = pulls["repo-automation/deps/jinja2-security"]
    assert pull["title"] == "Bump Jinja2 from 2.10 to 2.11.3 (security)"
    assert "PYSEC\\-2019\\-217" in pull["body"] and "PYSEC\\-2021\\-66" in pull["body"]
    assert {x["name"] for x in pull["labels"]} == {"dependencies", "security"}
    assert _auto_merged(fake_github) == [(pull["number"], "SQUASH")]  # security_updates.auto_merge: true
    assert any("next dependency update run due" in a.description for a in actions)


def test_a_target_version_with_its_own_advisory_is_skipped(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, live_index: LiveIndex, osv: FakeOSV) -> None:
    files = {"requirements.txt": "jinja2==2.10\n"}
    _seeded(fake_github, files)
    actions = _run(ghc, live_index, _workspace(tmp_path, files), fake_github, osv=osv)
    assert list(_pulls(fake_github)) == ["repo-automation/deps/jinja2-minor"]  # 2.11.3: no advisory known
    assert "jinja2 2.10.1 has advisories of its own (PYSEC-2021-66): skipped" in [a.description for a in actions]


def test_fresh_releases_wait_for_the_minimum_release_age(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, live_index: LiveIndex) -> None:
    files = {"requirements.txt": "tomli==1.0.0\n"}
    _seeded(fake_github, files)
    live_index.touch("tomli-2.0.1")
    actions = _run(ghc, live_index, _workspace(tmp_path, files), fake_github, {"buckets": ["major"]})
    assert _pulls(fake_github) == {}
    assert ("tomli 2.0.1 is newer than the minimum release age (3 days): not proposed yet"
            in [a.description for a in actions])
    _run(ghc, live_index, tmp_path, fake_github, {"buckets": ["major"], "minimum_release_age_days": 0})
    assert list(_pulls(fake_github)) == ["repo-automation/deps/tomli-major"]


@pytest.mark.parametrize(("setting", "reason"), [
    ({"required_checks": []}, "the default branch has no required status checks"),
    ({"allow_auto_merge": False}, "the repository has auto-merge turned off"),
])
def test_nothing_merged_without_ci_to_wait_for_and_the_reason_is_shown(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, live_index: LiveIndex, setting: dict[str, Any],
        reason: str) -> None:
    files = {"requirements.txt": "tomli==1.0.0\n"}
    repo = _seeded(fake_github, files)
    for key, value in setting.items():
        setattr(git(repo), key, value)
    actions = _run(ghc, live_index, _workspace(tmp_path, files), fake_github, {"buckets": ["patch"]})
    pull = _pulls(fake_github)["repo-automation/deps/tomli-patch"]
    assert not pull.get("merged_at") and _auto_merged(fake_github) == []
    assert f"Not merged automatically: {reason}" in pull["body"]  # said on the pull request
    # and in the report
    assert any(a.description.startswith(f"not merged: #{pull['number']} — {reason}") for a in actions)
    section = {"buckets": ["patch"], "auto_merge": {"without_required_checks": True}, **HOURLY}
    actions = _run(ghc, live_index, tmp_path, fake_github, section, hours=2)
    assert _pulls(fake_github)["repo-automation/deps/tomli-patch"].get("merged_at")  # explicitly allowed
    assert any("without required checks" in d for d in _performed(actions))


def test_frequency_weekly_skips_a_run_two_days_after_the_last_one(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, live_index: LiveIndex) -> None:
    files = {"requirements.txt": "tomli==1.0.0\n"}
    _seeded(fake_github, files)
    ws = _workspace(tmp_path, files)
    _run(ghc, live_index, ws, fake_github, {"buckets": ["patch"]})
    live_index.add("tomli-1.0.4")
    with pytest.raises(SourceSkipped) as e:
        _run(ghc, live_index, ws, fake_github, {"buckets": ["patch"]}, hours=48)
    due = datetime.fromisoformat(_pulls(fake_github)["repo-automation/deps/tomli-patch"]["created_at"]
                                 .replace("Z", "+00:00")) + timedelta(days=7)
    assert str(e.value) == (f"frequency weekly: the next dependency update run is due {due:%Y-%m-%d %H:%M} UTC "
                            "(no security update meanwhile)")
    assert _pulls(fake_github)["repo-automation/deps/tomli-patch"]["title"].endswith("to 1.0.3")
    actions = _run(ghc, live_index, ws, fake_github, {"buckets": ["patch"]}, hours=8 * 24)
    assert _pulls(fake_github)["repo-automation/deps/tomli-patch"]["title"].endswith("to 1.0.4")
    assert any(a.description.startswith("next dependency update run due") for a in actions)


def test_grouping_and_the_open_pull_request_limit(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, live_index: LiveIndex) -> None:
    files = {"requirements.txt": "tomli==1.0.0\npyparsing==3.1.2\nsix==1.16.0\n"}
    _seeded(fake_github, files)
    section = {"group": ["patch"], "pull_request_limit": 2}
    actions = _run(ghc, live_index, _workspace(tmp_path, files), fake_github, section)
    pulls = _pulls(fake_github)
    assert sorted(pulls) == ["repo-automation/deps/group-patch", "repo-automation/deps/six-minor"]
    assert pulls["repo-automation/deps/group-patch"]["title"] == "Bump 2 dependencies (patch updates)"
    assert any(a.description.startswith("2 more update(s) left for the next runs") for a in actions)


def test_real_world_manifests_keep_their_bytes_outside_the_changed_lines(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, live_index: LiveIndex) -> None:
    files = {"requirements.txt": (DATA / "pip-compile.txt").read_text(encoding="utf-8"),
             "pyproject.toml": (DATA / "pyproject-comments.toml").read_text(encoding="utf-8"),
             "poetry/pyproject.toml": (DATA / "poetry-pyproject.toml").read_text(encoding="utf-8"),
             "poetry/poetry.lock": '[[package]]\nname = "six"\nversion = "1.16.0"\n',
             "requirements/base.txt": (DATA / "requirements-layout/requirements/base.txt").read_text("utf-8")}
    repo = _seeded(fake_github, files)
    _run(ghc, live_index, _workspace(tmp_path, files), fake_github, {"buckets": ["minor", "major"]})
    six = files_at(repo, "repo-automation/deps/six-minor")
    new_hash = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"  # the served wheel's sha256
    assert _diff(files["requirements.txt"], six["requirements.txt"]) == [
        "-six==1.16.0 \\",
        "-    --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254",
        "+six==1.17.0 \\", f"+    --hash=sha256:{new_hash}"]
    assert _diff(files["pyproject.toml"], six["pyproject.toml"]) == ["-    'six==1.16.0',", "+    'six==1.17.0',"]
    assert _diff(files["poetry/pyproject.toml"], six["poetry/pyproject.toml"]) == [
        '-six = "1.16.0"          # exact: Poetry reads a bare version as ==',
        '+six = "1.17.0"          # exact: Poetry reads a bare version as ==']
    assert _diff(files["requirements/base.txt"], six["requirements/base.txt"]) == ["-six==1.16.0", "+six==1.17.0"]
    pull = _pulls(fake_github)["repo-automation/deps/six-minor"]
    assert "poetry/poetry.lock (`poetry lock`)" in pull["body"] and "left for review" in pull["body"]
    idna = files_at(repo, "repo-automation/deps/idna-major")
    assert _diff(files["pyproject.toml"], idna["pyproject.toml"]) == [
        '-    "idna==2.10",  # keep in step with "idna==2.10" in constraints',
        '+    "idna==3.7",  # keep in step with "idna==2.10" in constraints',
        "-cli = [\"idna == 2.10; python_version >= '3.8'\", \"rich\"]",
        "+cli = [\"idna == 3.7; python_version >= '3.8'\", \"rich\"]"]  # the comments naming the pin are kept


def test_dry_run_sends_no_mutating_request_and_describes_each_pull_request(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, live_index: LiveIndex) -> None:
    files = {"requirements.txt": "tomli==1.0.0\n"}
    _seeded(fake_github, files)
    actions = _run(ghc, live_index, _workspace(tmp_path, files), fake_github, dry_run=True)
    assert fake_github.mutating_requests() == []
    would = [a.description for a in actions if a.description.startswith("would ")]
    assert len(would) == 3 and not any(a.performed for a in actions)
    patch = next(d for d in would if "tomli-patch" in d)
    assert "create branch" in patch and "open pull request" in patch and "merge once CI agrees (patch" in patch
    assert "merge" not in next(d for d in would if "tomli-major" in d).split("—")[0]


def test_pr_closed_without_merging_is_not_reopened(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, live_index: LiveIndex) -> None:
    files = {"requirements.txt": "tomli==1.0.0\n"}
    repo = _seeded(fake_github, files)
    ws = _workspace(tmp_path, files)
    _run(ghc, live_index, ws, fake_github, HOURLY)
    number = _pulls(fake_github)["repo-automation/deps/tomli-major"]["number"]
    repo.issues[number]["state"] = "closed"
    actions = _run(ghc, live_index, ws, fake_github, HOURLY, hours=2)
    assert any(a.description.startswith("left alone") and f"#{number}" in a.description for a in actions)
    assert len(_pulls(fake_github)) == 3 and _performed(actions) == []


def test_an_open_pr_the_default_branch_caught_up_with_is_closed(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, live_index: LiveIndex) -> None:
    files = {"requirements.txt": "six==1.16.0\n"}
    repo = _seeded(fake_github, files)
    _run(ghc, live_index, _workspace(tmp_path, files), fake_github, HOURLY)
    [number] = [p["number"] for p in _pulls(fake_github).values()]
    bumped = {"requirements.txt": "six==1.17.0\n"}  # someone updated the pin by hand on main
    seed(fake_github.state, repo, bumped)
    actions = _run(ghc, live_index, _workspace(tmp_path, bumped), fake_github, HOURLY, hours=2)
    assert repo.issues[number]["state"] == "closed"
    assert _performed(actions) == [
        f"closed pull request #{number}: Up to date: this update is no longer needed (the default branch has it, "
        "or it moved to another pull request)."]


def test_pr_created_behind_a_gateway_error_is_not_created_twice(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, live_index: LiveIndex) -> None:
    files = {"requirements.txt": "six==1.16.0\n"}
    repo = _seeded(fake_github, files)
    fault = fake_github.inject(Fault.server_error(502, method="POST", path=r"/pulls$", apply=True))
    actions = _run(ghc, live_index, _workspace(tmp_path, files), fake_github)  # GitHub acted, the answer was lost
    assert fault.hits == 1 and fake_github.count("POST", "/pulls") == 2  # the retry met "already exists"
    [pull] = _pulls(fake_github).values()
    assert [x["name"] for x in pull["labels"]] == ["dependencies"]  # the pull request found is finished
    assert [d.split(" — ")[0] for d in _performed(actions)] == [
        f"committed to repo-automation/deps/six-minor; opened pull request #{pull['number']}"]
    assert len(repo.pulls) == 1


def test_token_that_cannot_write_prs_fails_with_what_to_change(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, live_index: LiveIndex) -> None:
    files = {"requirements.txt": "six==1.16.0\n"}
    _seeded(fake_github, files)
    fake_github.inject(Fault.forbidden("GitHub Actions is not permitted to create or approve pull requests.",
                                       method="POST", path=r"/pulls$"))
    with pytest.raises(SourceFailed) as e:
        _run(ghc, live_index, _workspace(tmp_path, files), fake_github)
    assert "HTTP 403 GitHub Actions is not permitted" in str(e.value)
    assert "pull-requests: write" in str(e.value) and "Allow GitHub Actions to create" in str(e.value)
    assert "committed to repo-automation/deps/six-minor" in str(e.value)  # what was done is said too


def test_package_unknown_to_the_index_is_reported_and_the_others_go_on(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, live_index: LiveIndex) -> None:
    files = {"requirements.txt": "six==1.16.0\nno-such-package-here==1.0\n"}
    _seeded(fake_github, files)
    actions = _run(ghc, live_index, _workspace(tmp_path, files), fake_github)
    assert any("no-such-package-here: not found on the package index" in a.description for a in actions)
    assert list(_pulls(fake_github)) == ["repo-automation/deps/six-minor"]


def test_switched_off_or_misconfigured(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    ws = _workspace(tmp_path, {"requirements.txt": "six==1.16.0\n"})
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
