"""Both maintenance sinks wired as production does (from_context), run by the pipeline's deliver()."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from repo_automation.domain import Health, Status
from repo_automation.pipeline import Stages, deliver
from repo_automation.sinks.github.dependency_updates import DependencyUpdateSink
from repo_automation.sinks.github.docs_upkeep import DocsSink
from tests.fakegithub import FakeGitHub
from tests.fakegithub.builders import context, report
from tests.fakegithub.clients import REPO
from tests.fakegithub.routes_git import seed


def _run(ctx: Any, client: Any) -> Any:
    stages = Stages(sinks=[DependencyUpdateSink.from_context(ctx, client=client),
                           DocsSink.from_context(ctx, client=client)])
    health = Health(overall=83.0, grade="B", categories={})
    return deliver(dataclasses.replace(report(), health=health), stages, ctx)


def test_dry_run_of_the_maintenance_sinks_describes_every_pr_and_writes_nothing(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any, live_index: Any) -> None:
    files = {"requirements.txt": "six==1.16.0\nidna==2.10\n", "README.md": "# demo\n"}
    seed(fake_github.state, fake_github.state.repo(*REPO.split("/")), files)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    config = {"automation": {"dependency_updates": {"index_url": live_index.url}}}
    final = _run(context(tmp_path, fake_github, config=config, dry_run=True), ghc)
    assert fake_github.mutating_requests() == []
    assert {s.name: s.status for s in final.sources if s.kind == "sink"} == {
        "dependency-updates": Status.OK, "docs": Status.OK}
    would = sorted(a.description.split(" — ")[-1] for a in final.actions if a.description.startswith("would "))
    assert would == ["Bump idna from 2.10 to 3.7 (repo-automation/deps/idna-major)",
                     "Bump six from 1.16.0 to 1.17.0 (repo-automation/deps/six-minor)",
                     "docs: update the health badge and changelog (repo-automation/docs)"]


def test_switched_off_sinks_are_reported_skipped_with_the_reason(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    final = _run(context(tmp_path, fake_github, skip_deps=True, skip_docs=True), ghc)
    assert {s.name: (s.status, s.reason) for s in final.sources} == {
        "dependency-updates": (Status.SKIPPED, "skip-deps is set"), "docs": (Status.SKIPPED, "skip-docs is set"),
        "bandit": (Status.OK, ""), "pip-audit": (Status.OK, "")}
    assert fake_github.requests == []
