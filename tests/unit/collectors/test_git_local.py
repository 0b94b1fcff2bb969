"""GitCollector on real repositories built in tmp_path with controlled dates, authors, merges and tags.

Every expected number below is worked out by hand from the history drawn in `history_repo`.
"""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from repo_automation.collectors.git_local import SHALLOW_REASON, GitCollector, shallow_notice
from repo_automation.domain import Status
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.gitutil import run_git
from repo_automation.pipeline import Stages, measure
from tests.helpers import FIXED_NOW, make_context

NOW = FIXED_NOW  # 2026-11-29 12:00 UTC

ALICE = ("Alice", "alice@example.com")
ALICE_OLD = ("Alice Old", "alice@old.example")  # mapped to ALICE by .mailmap
BOB = ("Bob", "bob@example.com")
CAROL = ("Carol", "carol@example.com")
DAVE = ("Dave", "dave@example.com")
BOT = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")


class Repo:
    """A git repository whose every commit and tag has a chosen author and date (days before NOW)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def env(self, who: tuple[str, str], days: float) -> dict[str, str]:
        when = (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S+0000")
        return {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": who[0], "GIT_AUTHOR_EMAIL": who[1], "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_NAME": who[0], "GIT_COMMITTER_EMAIL": who[1], "GIT_COMMITTER_DATE": when,
        }

    def git(self, *args: str, who: tuple[str, str] = ALICE, days: float = 0) -> str:
        proc = subprocess.run(["git", *args], cwd=self.path, env=self.env(who, days), capture_output=True,
                              text=True, timeout=30, check=True)
        return proc.stdout

    def commit(self, who: tuple[str, str], days: float, message: str = "change") -> None:
        (self.path / "log.txt").open("a").write(f"{message} {days}\n")
        self.git("add", "log.txt", who=who, days=days)
        self.git("commit", "-q", "-m", message, who=who, days=days)


@pytest.fixture
def history_repo(tmp_path: Path) -> Repo:
    """The history every number in this file is checked against (days before NOW):

    400 carol (initial; tag v0.1, light) · 200 alice-old (→ alice by .mailmap) · 150 tag v1.0 (annotated, on the
    100-day commit) · 100 bob · 60 alice · 50 tag v1.1 · 40 tag v1.2 · 30 dave · 20 alice · 10 bob · 10 dependabot
    · 8 dave · branch feature: 5 bob · main: 3 alice (tag v1.3, light) · 2.5 merge of feature by carol (--no-ff).
    """
    r = Repo(tmp_path / "repo")
    (r.path / ".mailmap").write_text("Alice <alice@example.com> Alice Old <alice@old.example>\n")
    r.git("add", ".mailmap", who=CAROL, days=400)
    r.commit(CAROL, 400, "initial")
    r.git("tag", "v0.1", who=CAROL, days=400)
    r.commit(ALICE_OLD, 200)
    r.commit(BOB, 100)
    r.git("tag", "-a", "v1.0", "-m", "1.0", who=BOB, days=150)
    r.commit(ALICE, 60)
    r.git("tag", "-a", "v1.1", "-m", "1.1", who=ALICE, days=50)
    r.git("tag", "-a", "v1.2", "-m", "1.2", who=ALICE, days=40)
    r.commit(DAVE, 30)
    r.commit(ALICE, 20)
    r.commit(BOB, 10)
    r.commit(BOT, 10, "Bump requests")
    r.commit(DAVE, 8)
    r.git("checkout", "-q", "-b", "feature")
    (r.path / "feature.txt").write_text("x\n")
    r.git("add", "feature.txt", who=BOB, days=5)
    r.git("commit", "-q", "-m", "feature", who=BOB, days=5)
    r.git("checkout", "-q", "main")
    r.commit(ALICE, 3)
    r.git("tag", "v1.3", who=ALICE, days=3)
    r.git("merge", "-q", "--no-ff", "-m", "Merge feature", "feature", who=CAROL, days=2.5)
    return r


def _collect(repo_path: Path, config: dict[str, Any] | None = None) -> dict[str, Any]:
    ctx = make_context(repo_path, config=config)
    return {m.name: m for m in GitCollector.from_context(ctx).collect(ctx)}


def test_every_metric_matches_the_history_worked_out_by_hand(history_repo: Repo) -> None:
    got = _collect(history_repo.path, {"tracking": {"data_sources": {"git": {"weeks": 4}}}})

    cpw = got["git.commits_per_week"]
    # weeks ending at NOW, oldest first: (28,21]: none · (21,14]: alice 20 · (14,7]: bob 10, bot 10, dave 8 ·
    # (7,0]: bob 5 (feature), alice 3. The merge (2.5) is not counted.
    assert [w["commits"] for w in cpw.metadata["series"]] == [0, 1, 3, 2]
    assert cpw.value == pytest.approx(6 / 4)
    assert cpw.metadata["weeks"] == 4
    assert cpw.metadata["bot_commits"] == 1
    assert cpw.metadata["series"][-1]["week_start"] == (NOW - timedelta(days=7)).isoformat()
    assert cpw.source == "git"
    # last 90 days, no bots, no merges: alice (60, 20, 3), dave (30, 8), bob (10, 5) — carol only merged
    assert got["git.active_contributors_90d"].value == 3
    # carol, alice (both of her e-mails, by .mailmap), bob, dave — not dependabot
    assert got["git.contributors_total"].value == 4
    # last 365 days: alice 4 (200, 60, 20, 3), bob 3 (100, 10, 5), dave 2 → 4 < 9/2, 4 + 3 ≥ 9/2 → 2 people
    absence = got["git.contributor_absence_factor"]
    assert absence.value == 2
    assert absence.metadata == {"window_days": 365, "commits": 9, "authors": 3}
    # the merge commit 2.5 days ago is the last commit
    assert got["git.days_since_last_commit"].value == pytest.approx(2.5)
    # 91-day windows, oldest first: (364,273]: none (v0.1 is 400 days old) · (273,182]: none · (182,91]: v1.0 (150)
    # · (91,0]: v1.1 (50), v1.2 (40), v1.3 (3)
    rpq = got["git.releases_per_quarter"]
    assert [q["tags"] for q in rpq.metadata["series"]] == [0, 0, 1, 3]
    assert rpq.value == pytest.approx(1.0)
    assert rpq.metadata["tags_total"] == 5


def test_default_window_is_twelve_weeks(history_repo: Repo) -> None:
    cpw = _collect(history_repo.path)["git.commits_per_week"]
    # 12 weeks = 84 days: the 4-week commits plus dave 30 and alice 60 → 8 commits
    assert len(cpw.metadata["series"]) == 12
    assert sum(w["commits"] for w in cpw.metadata["series"]) == 8
    assert cpw.value == pytest.approx(8 / 12)


def test_without_mailmap_the_old_address_is_another_person(history_repo: Repo) -> None:
    history_repo.git("rm", "-q", ".mailmap", who=ALICE, days=1)
    history_repo.git("commit", "-q", "-m", "drop mailmap", who=ALICE, days=1)
    got = _collect(history_repo.path)
    assert got["git.contributors_total"].value == 5
    assert got["git.days_since_last_commit"].value == pytest.approx(1.0)


def test_git_calls_do_not_grow_with_history(history_repo: Repo, tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def counting(args: list[str], cwd: Path, *, timeout: float = 60.0, errors: str = "strict") -> str:
        calls.append(args)
        return run_git(args, cwd, timeout=timeout, errors=errors)

    ctx = make_context(history_repo.path)
    GitCollector(workspace=history_repo.path, weeks=12, enabled=True, runner=counting).collect(ctx)
    assert len(calls) == 3
    assert [c[0] for c in calls] == ["rev-parse", "log", "for-each-ref"]


def test_a_shallow_clone_is_skipped_with_the_fix(history_repo: Repo, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", history_repo.path.as_uri(), str(clone)],
                   check=True, capture_output=True, timeout=60)
    ctx = make_context(clone)
    with pytest.raises(SourceSkipped) as exc:
        GitCollector.from_context(ctx).collect(ctx)
    assert str(exc.value) == SHALLOW_REASON
    assert "fetch-depth: 0" in str(exc.value)
    assert shallow_notice(clone) == SHALLOW_REASON
    assert shallow_notice(history_repo.path) is None


def test_the_pipeline_reports_skips_as_data(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    ctx = make_context(plain)
    metrics, _, results = measure(Stages(collectors=[GitCollector.from_context(ctx)]), ctx)
    assert metrics == []
    assert [(r.name, r.status) for r in results] == [("git", Status.SKIPPED)]
    assert results[0].reason == f"not a git checkout: {plain}"


def test_an_empty_repository_is_skipped(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "empty")
    ctx = make_context(repo.path)
    with pytest.raises(SourceSkipped, match="no commits yet"):
        GitCollector.from_context(ctx).collect(ctx)


def test_disabled_in_configuration_is_skipped(history_repo: Repo) -> None:
    ctx = make_context(history_repo.path, config={"tracking": {"data_sources": {"git": {"enabled": False}}}})
    with pytest.raises(SourceSkipped, match="disabled"):
        GitCollector.from_context(ctx).collect(ctx)


def test_no_commit_in_the_last_year_withholds_the_absence_factor(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "old")
    repo.commit(ALICE, 500)
    got = _collect(repo.path)
    assert "git.contributor_absence_factor" not in got
    assert got["git.active_contributors_90d"].value == 0
    assert got["git.contributors_total"].value == 1
    assert got["git.commits_per_week"].value == 0
    assert got["git.releases_per_quarter"].value == 0
    assert got["git.days_since_last_commit"].value == pytest.approx(500)


def test_a_dormant_repository_says_the_window_and_sample_of_each_number(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "dormant")
    repo.commit(ALICE, 360)
    repo.commit(ALICE, 358.5)
    got = _collect(repo.path)
    assert got["git.contributor_absence_factor"].value == 1
    assert got["git.contributor_absence_factor"].basis == "2 commits by 1 author in 365 days up to today (2026-11-29)"
    assert got["git.commits_per_week"].value == 0
    assert got["git.commits_per_week"].basis == \
        "0 commits over 12 weeks up to today (2026-11-29), last commit 358 days ago"
    assert (got["git.commits_per_week"].metadata["window_days"], got["git.commits_per_week"].metadata["sample_size"]) \
        == (84, 0)
    assert got["git.active_contributors_90d"].basis == "authors of 0 commits in 90 days up to today (2026-11-29)"
    assert got["git.contributors_total"].basis == "authors of 2 commits, the whole history (merges and bots left out)"
    assert got["git.days_since_last_commit"].basis == "last commit on 2025-12-06, counted up to today (2026-11-29)"
    assert got["git.releases_per_quarter"].basis == "0 tags in 4 quarters of 91 days up to today (2026-11-29)"


def test_dubious_ownership_names_the_safe_directory_fix(history_repo: Repo) -> None:
    """git refuses a checkout owned by another user (the runner's workspace in a container): say the fix.

    Handing the folder to another user needs root, which is how the suite runs in CI and in the container."""
    env = {k: v for k, v in os.environ.items() if k not in ("SUDO_UID", "SUDO_USER")}
    env.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})

    def isolated(args: list[str], cwd: Path, *, timeout: float = 60.0, errors: str = "strict") -> str:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, errors=errors,
                              timeout=timeout, env=env, check=False)
        if proc.returncode != 0:
            raise SourceFailed(f"git {args[0]} failed: {proc.stderr.strip()}")
        return proc.stdout

    os.chown(history_repo.path, 65534, 65534)
    try:
        ctx = make_context(history_repo.path)
        with pytest.raises(SourceFailed, match=r"git config --global --add safe.directory .*repo"):
            GitCollector(workspace=history_repo.path, weeks=12, enabled=True, runner=isolated).collect(ctx)
    finally:
        os.chown(history_repo.path, os.getuid(), os.getgid())


def test_every_metric_is_in_the_catalogue_with_its_unit(history_repo: Repo) -> None:
    from repo_automation.catalogue import info

    got = _collect(history_repo.path)
    assert len(got) == 6
    for name, metric in got.items():
        entry = info(name)
        assert entry is not None, name
        assert metric.unit == entry.unit, name


def test_an_author_name_that_is_not_utf8_does_not_fail_the_history(tmp_path: Path) -> None:
    """Old repositories hold Latin-1 author names written without an encoding header."""
    repo = Repo(tmp_path / "latin1")
    stamp = int((NOW - timedelta(days=3)).timestamp())
    stream = (f"commit refs/heads/main\nauthor Jos\xe9 <jose@example.com> {stamp} +0000\n"
              f"committer Jos\xe9 <jose@example.com> {stamp} +0000\ndata 2\nhi\n\n").encode("latin-1")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo.path, input=stream, check=True, timeout=30)
    repo.commit(("José", "jose@example.com"), 1)
    got = _collect(repo.path)
    assert got["git.contributors_total"].value == 1
    assert got["git.active_contributors_90d"].value == 1
    assert sum(w["commits"] for w in got["git.commits_per_week"].metadata["series"]) == 2
