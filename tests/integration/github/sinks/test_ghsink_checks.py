"""Pull-request check runs and the sticky health comment, against the local GitHub."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from repo_automation.context import PullRequest
from repo_automation.domain import CategoryScore, Health, History, MetricChange, Severity, Status, TrendPoint
from repo_automation.errors import SourceSkipped
from repo_automation.github.client import connect
from repo_automation.pipeline import Stages, deliver
from repo_automation.sinks.github.checks import CHECK_NAME, STATUS_CONTEXT, CheckRunSink, fork_notice
from repo_automation.sinks.github.pr_comment import PrCommentSink
from tests.fakegithub import FakeGitHub, Fault
from tests.fakegithub.builders import code_finding, context, report
from tests.fakegithub.clients import REPO
from tests.helpers import FIXED_NOW

HEAD, BASE = "b" * 40, "c" * 40


def _pr(server: FakeGitHub, *, fork: bool = False) -> PullRequest:
    repo = server.state.repo("octo-org", "hello-world")
    assert repo is not None
    issue = server.state.add_pull(repo, title="Add a feature", head_sha=HEAD, base_sha=BASE)
    return PullRequest(number=issue["number"], base_sha=BASE, head_sha=HEAD, base_ref="main",
                       head_ref="feature", is_fork=fork)


def _runs(server: FakeGitHub) -> list[dict[str, Any]]:
    repo = server.state.repo("octo-org", "hello-world")
    assert repo is not None
    return list(repo.check_runs.values())


def test_clean_report_gives_one_successful_check_run(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    ctx = context(tmp_path, fake_github, pull_request=_pr(fake_github))
    (action,) = CheckRunSink(client=ghc, repository=REPO).deliver(report(()), ctx)
    (run,) = _runs(fake_github)
    assert (run["name"], run["head_sha"], run["conclusion"]) == (CHECK_NAME, HEAD, "success")
    assert run["details_url"] == "https://github.com/octo-org/hello-world/actions/runs/42"
    assert action.performed and action.target == run["html_url"]


def test_blocking_finding_fails_the_check_or_is_neutral_when_not_enforced(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    pr = _pr(fake_github)
    bad = (code_finding("B602", severity=Severity.CRITICAL),)
    CheckRunSink(client=ghc, repository=REPO).deliver(report(bad), context(tmp_path, fake_github, pull_request=pr))
    lax = context(tmp_path, fake_github, pull_request=pr, fail_on_policy=False)
    CheckRunSink(client=ghc, repository=REPO).deliver(report(bad, enforced=False), lax)
    assert [r["conclusion"] for r in _runs(fake_github)] == ["failure", "neutral"]
    assert "blocking finding" in _runs(fake_github)[0]["output"]["summary"]


def test_more_than_50_annotations_are_sent_50_per_request(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    findings = tuple(code_finding("B101", f"app/m{n % 7}.py", n, severity=Severity.LOW) for n in range(1, 121))
    ctx = context(tmp_path, fake_github, pull_request=_pr(fake_github))
    CheckRunSink(client=ghc, repository=REPO).deliver(report(findings), ctx)
    (run,) = _runs(fake_github)
    repo = fake_github.state.repo("octo-org", "hello-world")
    assert repo is not None and len(repo.annotations[run["id"]]) == 120
    assert fake_github.count("POST", "/check-runs") == 1 and fake_github.count("PATCH", "/check-runs") == 2
    assert {a["annotation_level"] for a in repo.annotations[run["id"]]} == {"notice"}


def test_no_permission_for_checks_falls_back_to_a_commit_status(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    fake_github.inject(Fault.forbidden(method="POST", path=r"/check-runs$"))
    ctx = context(tmp_path, fake_github, pull_request=_pr(fake_github))
    bad = (code_finding("B602", severity=Severity.HIGH),)
    (action,) = CheckRunSink(client=ghc, repository=REPO).deliver(report(bad), ctx)
    repo = fake_github.state.repo("octo-org", "hello-world")
    assert repo is not None and _runs(fake_github) == []
    (status,) = repo.statuses
    assert (status["sha"], status["state"], status["context"]) == (HEAD, "failure", STATUS_CONTEXT)
    assert len(status["description"]) <= 140 and "commit status" in action.description


def test_fork_pull_request_is_a_notice_not_a_failure(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    ctx = context(tmp_path, fake_github, pull_request=_pr(fake_github, fork=True))
    notice = fork_notice(ctx)
    assert notice is not None and "fork" in notice
    for sink in (CheckRunSink.from_context(ctx), PrCommentSink.from_context(ctx),
                 CheckRunSink(client=ghc, repository=REPO), PrCommentSink(client=ghc, repository=REPO)):
        with pytest.raises(SourceSkipped, match="read-only"):
            sink.deliver(report(()), ctx)
    assert fake_github.requests == []


def test_not_a_pull_request_is_skipped(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    ctx = context(tmp_path, fake_github)
    with pytest.raises(SourceSkipped, match="not a pull request"):
        CheckRunSink(client=ghc, repository=REPO).deliver(report(()), ctx)
    assert fork_notice(ctx) is None


def test_dry_run_writes_no_check_and_no_comment(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    findings = tuple(code_finding("B101", "a.py", n) for n in range(1, 80))
    ctx = context(tmp_path, fake_github, pull_request=_pr(fake_github), dry_run=True)
    actions = [*CheckRunSink(client=ghc, repository=REPO).deliver(report(findings), ctx),
               *PrCommentSink(client=ghc, repository=REPO).deliver(report(findings), ctx)]
    assert fake_github.mutating_requests() == []
    assert [a.performed for a in actions] == [False, False]
    assert "79 annotation(s) in 2 request(s)" in actions[0].description


def test_a_500_on_creation_still_gives_exactly_one_check_run(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    fake_github.inject(Fault.server_error(500, method="POST", path=r"/check-runs$"))
    ctx = context(tmp_path, fake_github, pull_request=_pr(fake_github))
    CheckRunSink(client=ghc, repository=REPO).deliver(report(()), ctx)
    assert len(_runs(fake_github)) == 1


def _with_health(overall: float, changes: tuple[MetricChange, ...] = ()) -> Any:
    cats = {"security": CategoryScore(name="security", score=overall, inputs={}),
            "quality": CategoryScore(name="quality", score=None, inputs={}, missing=("code_quality.coverage",))}
    hist = History(changes=changes, trend=(TrendPoint(timestamp=FIXED_NOW - timedelta(days=1), overall=75.0),))
    return dataclasses.replace(report(()), health=Health(overall=overall, grade="B", categories=cats), history=hist)


def test_sticky_comment_is_created_once_then_edited_never_duplicated(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    pr = _pr(fake_github)
    ctx = context(tmp_path, fake_github, pull_request=pr)
    sink = PrCommentSink(client=ghc, repository=REPO)
    change = MetricChange(name="code_quality.coverage", value=81.0, previous=78.5, delta_previous=2.5,
                          thirty_days_ago=None, delta_30d=None)
    sink.deliver(_with_health(80.0, (change,)), ctx)
    (comment,) = fake_github.state.comments(REPO, pr.number)
    assert "+5.0 since the previous run" in comment["body"] and "+2.5" in comment["body"]
    assert "n/a (missing inputs)" in comment["body"]
    before = len(fake_github.mutating_requests())
    assert sink.deliver(_with_health(80.0, (change,)), ctx) == []  # same text: nothing written
    assert len(fake_github.mutating_requests()) == before
    (action,) = sink.deliver(_with_health(70.0), ctx)
    (edited,) = fake_github.state.comments(REPO, pr.number)
    assert edited["id"] == comment["id"] and "-5.0 since the previous run" in edited["body"]
    assert action.description.startswith("update") and fake_github.count("POST", "/comments") == 1


def test_a_person_quoting_the_marker_does_not_capture_the_comment(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    pr = _pr(fake_github)
    repo = fake_github.state.repo("octo-org", "hello-world")
    assert repo is not None
    stamp = "2026-01-01T00:00:00Z"
    quoted = {"id": 1, "body": "> <!-- repo-automation:fingerprint=pr-health -->",
              "user": fake_github.state.user("mallory"), "created_at": stamp, "updated_at": stamp,
              "issue_url": f"{fake_github.state.repo_url(repo)}/issues/{pr.number}", "url": "", "html_url": "",
              "node_id": "x", "author_association": "NONE"}
    repo.comments[1] = quoted
    sink = PrCommentSink(client=ghc, repository=REPO)
    sink.deliver(report(()), context(tmp_path, fake_github, pull_request=pr))
    assert quoted["body"].startswith("> ") and len(fake_github.state.comments(REPO, pr.number)) == 2


def _real_pull_request_event(tmp_path: Path, *, fork: bool) -> Path:
    """GitHub's own example `pull_request.opened` payload (@octokit/webhooks-examples), optionally from a fork."""
    import json

    from tests.fakegithub.spec import ROOT

    index = json.loads((ROOT / "node_modules/@octokit/webhooks-examples/api.github.com/index.json").read_text())
    payload = next(e for e in index if e["name"] == "pull_request")["examples"][0]
    if fork:
        payload["pull_request"]["head"]["repo"] = {**payload["pull_request"]["head"]["repo"],
                                                   "full_name": "mallory/Hello-World", "fork": True}
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return path


@pytest.mark.parametrize("fork", [False, True])
def test_real_pull_request_payloads_drive_the_pr_sinks(tmp_path: Path, fake_github: FakeGitHub, fork: bool) -> None:
    from repo_automation import config as config_mod
    from repo_automation.context import build_context
    from repo_automation.settings import from_environment

    repo = fake_github.state.add_repo("Codertocat/Hello-World", default_branch="master")
    fake_github.state.add_issue(repo, title="filler")
    fake_github.state.add_pull(repo, title="Update the README with new information.", head_sha="ec26c3e5" + "0" * 32,
                               base_sha="f95f852b" + "0" * 32)
    env = {"GITHUB_TOKEN": fake_github.token, "GITHUB_API_URL": fake_github.url, "GITHUB_EVENT_NAME": "pull_request",
           "GITHUB_EVENT_PATH": str(_real_pull_request_event(tmp_path, fork=fork))}
    ctx = build_context(from_environment(env, workspace=tmp_path), config_mod.from_data({}), env)
    assert ctx.repository == "Codertocat/Hello-World" and ctx.pull_request is not None
    client, why = connect(ctx)
    sinks = [CheckRunSink.from_context(ctx, client=client, unavailable=why),
             PrCommentSink.from_context(ctx, client=client, unavailable=why)]
    out = deliver(report(()), Stages(sinks=sinks), ctx)
    statuses = [s.status for s in out.sources if s.kind == "sink"]
    if fork:
        assert statuses == [Status.SKIPPED, Status.SKIPPED] and fake_github.requests == []
        assert fork_notice(ctx) is not None and "#2" in (fork_notice(ctx) or "")
    else:
        assert statuses == [Status.OK, Status.OK]
        (run,) = repo.check_runs.values()
        assert run["head_sha"] == ctx.pull_request.head_sha and len(fake_github.state.comments(
            "Codertocat/Hello-World", 2)) == 1


def test_the_commit_status_fallback_names_the_repository_wide_context(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    from repo_automation.domain import GateResult, GateScope
    from tests.reports import judged

    fake_github.inject(Fault.forbidden(method="POST", path=r"/check-runs$"))
    ctx = context(tmp_path, fake_github, pull_request=_pr(fake_github))
    gates = (GateResult(name="coverage", passed=False, actual=61.2, threshold=80.0, message="61.2% < 80%"),
             GateResult(name="coverage", passed=True, actual=90.0, threshold=80.0, message="changed lines 90%",
                        scope=GateScope.CHANGE))
    pr_report = judged(dataclasses.replace(report(()), gates=gates), pull_request=True)
    CheckRunSink(client=ghc, repository=REPO).deliver(pr_report, ctx)
    repo = fake_github.state.repo("octo-org", "hello-world")
    assert repo is not None
    (status,) = repo.statuses
    assert status["state"] == "success"
    assert status["description"] == ("policy satisfied by the change (context, repository-wide: gate coverage "
                                     "failed)")
