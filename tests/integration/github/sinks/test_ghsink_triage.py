"""Triage of new issues by configured rules, against the local GitHub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from repo_automation.errors import SourceSkipped
from repo_automation.sinks.github.triage import TriageRule, TriageSink, match_rule, mentioned_paths
from tests.fakegithub import FakeGitHub
from tests.fakegithub.builders import context, report
from tests.fakegithub.clients import REPO

CONFIG = {"automation": {"issue_triage": {"enabled": True, "rules": [
    {"keywords": ["crash", "traceback"], "labels": ["bug"], "assignees": ["octocat"]},
    {"paths": ["docs/*"], "labels": ["documentation"]},
    {"keywords": ["please add"], "paths": ["src/*"], "labels": ["enhancement"]},
]}}}


def test_first_matching_rule_wins_on_whole_words() -> None:
    rules = [TriageRule(keywords=("crash",), labels=("bug",)), TriageRule(paths=("docs/*",), labels=("docs",)),
             TriageRule(labels=("needs-triage",))]
    assert match_rule(rules, "App crash on start", "see docs/intro.md").labels == ("bug",)  # type: ignore[union-attr]
    assert match_rule(rules, "Crashes", "typo in ./docs/intro.md").labels == ("docs",)  # type: ignore[union-attr]
    assert match_rule(rules, "Question", "hello").labels == ("needs-triage",)  # type: ignore[union-attr]
    assert match_rule(rules[:2], "Question", "hello") is None
    assert mentioned_paths("look at src/app/main.py and README.md, mail a@b.io") == ["src/app/main.py", "README.md"]


def _issue(server: FakeGitHub, title: str, body: str, **kw: Any) -> dict[str, Any]:
    repo = server.state.repo("octo-org", "hello-world")
    assert repo is not None
    return server.state.add_issue(repo, title=title, body=body, user="someone", **kw)


def test_new_unlabelled_issues_are_labelled_and_assigned(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    crash = _issue(fake_github, "Crash when saving", "Traceback (most recent call last): ...")
    docs = _issue(fake_github, "Typo", "In docs/install.md the command is wrong")
    feature = _issue(fake_github, "Please add dark mode", "src/ui/theme.css could hold it")
    other = _issue(fake_github, "Question", "How do I configure it?")
    labelled = _issue(fake_github, "Crash again", "crash", labels=["wontfix"])
    ours = _issue(fake_github, "[high] B602", "crash <!-- repo-automation:fingerprint=code:bandit:B602:a.py -->")
    repo = fake_github.state.repo("octo-org", "hello-world")
    assert repo is not None
    pr = fake_github.state.add_pull(repo, title="Fix crash", head_sha="b" * 40, base_sha="c" * 40)
    actions = TriageSink(client=ghc, repository=REPO).deliver(report(()), context(tmp_path, fake_github,
                                                                                 config=CONFIG))
    names = lambda i: [lab["name"] for lab in i["labels"]]  # noqa: E731
    assert names(crash) == ["bug"] and [u["login"] for u in crash["assignees"]] == ["octocat"]
    assert names(docs) == ["documentation"] and names(feature) == ["enhancement"]
    assert names(other) == [] and names(labelled) == ["wontfix"] and names(ours) == [] and names(pr) == []
    assert len(actions) == 3 and all(a.performed for a in actions)
    sink = TriageSink(client=ghc, repository=REPO)
    again = sink.deliver(report(()), context(tmp_path, fake_github, config=CONFIG))
    assert again == []  # labelled now: never triaged twice


def test_dry_run_only_describes(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    _issue(fake_github, "Crash when saving", "boom")
    ctx = context(tmp_path, fake_github, config=CONFIG, dry_run=True)
    (action,) = TriageSink(client=ghc, repository=REPO).deliver(report(()), ctx)
    assert not action.performed and "label bug, assign octocat" in action.description
    assert fake_github.mutating_requests() == []


def test_off_by_default_and_without_rules(tmp_path: Path, fake_github: FakeGitHub) -> None:
    off = context(tmp_path, fake_github)
    with pytest.raises(SourceSkipped, match="triage is off"):
        TriageSink.from_context(off).deliver(report(()), off)
    empty = context(tmp_path, fake_github, config={"automation": {"issue_triage": {"enabled": True}}})
    with pytest.raises(SourceSkipped, match="no rules"):
        TriageSink.from_context(empty).deliver(report(()), empty)
    assert fake_github.requests == []
