"""All four GitHub sinks wired for production (the run's client from connect()) and run by the pipeline."""

from __future__ import annotations

from pathlib import Path

from repo_automation.context import PullRequest, RunContext
from repo_automation.domain import Status
from repo_automation.github.client import connect
from repo_automation.pipeline import Stages, deliver
from repo_automation.sinks.github.checks import CheckRunSink
from repo_automation.sinks.github.issues import IssueSink
from repo_automation.sinks.github.pr_comment import PrCommentSink
from repo_automation.sinks.github.triage import TriageSink
from tests.fakegithub import FakeGitHub
from tests.fakegithub.builders import code_finding, context, report

TRIAGE = {"automation": {"issue_triage": {"enabled": True, "rules": [{"keywords": ["crash"], "labels": ["bug"]}]}}}


def _sinks(ctx: RunContext) -> Stages:
    client, _ = connect(ctx)
    assert client is not None
    sinks = [cls.from_context(ctx, client=client) for cls in (IssueSink, TriageSink, CheckRunSink, PrCommentSink)]
    return Stages(sinks=sinks, closers=(client.close,))


def test_dry_run_of_every_github_sink_sends_no_write(tmp_path: Path, fake_github: FakeGitHub) -> None:
    repo = fake_github.state.repo("octo-org", "hello-world")
    assert repo is not None
    fake_github.state.add_issue(repo, title="It crashes", body="crash", user="someone")
    findings = tuple(code_finding("B602", "app/run.py", n) for n in range(1, 70))
    push = context(tmp_path, fake_github, config=TRIAGE, create_issues=True, dry_run=True)
    out = deliver(report(findings), _sinks(push), push)
    issue = fake_github.state.add_pull(repo, title="feature", head_sha="b" * 40, base_sha="c" * 40)
    pr = PullRequest(number=issue["number"], base_sha="c" * 40, head_sha="b" * 40, base_ref="main",
                     head_ref="feature", is_fork=False)
    on_pr = context(tmp_path, fake_github, config=TRIAGE, create_issues=True, dry_run=True, pull_request=pr)
    out_pr = deliver(report(findings), _sinks(on_pr), on_pr)
    assert fake_github.mutating_requests() == []
    assert fake_github.requests  # it did read
    described = [a.description for a in (*out.actions, *out_pr.actions)]
    assert any(d.startswith("create issue") for d in described)
    assert any(d.startswith("triage issue") for d in described)
    assert any(d.startswith("check run") for d in described)
    assert any("health comment" in d for d in described)
    assert not any(a.performed for a in (*out.actions, *out_pr.actions))
    statuses = {s.name: s.status for s in out.sources if s.kind == "sink"}
    assert statuses == {"issues": Status.OK, "triage": Status.OK, "checks": Status.SKIPPED,
                        "pr-comment": Status.SKIPPED}


def test_warm_rerun_of_the_reading_sinks_costs_no_rest_point(
        tmp_path: Path, fake_github: FakeGitHub, ghc: object) -> None:
    from typing import Any

    repo = fake_github.state.repo("octo-org", "hello-world")
    assert repo is not None
    fake_github.state.add_issue(repo, title="It crashes", body="crash", user="someone")
    issue = fake_github.state.add_pull(repo, title="feature", head_sha="b" * 40, base_sha="c" * 40)
    pr = PullRequest(number=issue["number"], base_sha="c" * 40, head_sha="b" * 40, base_ref="main",
                     head_ref="feature", is_fork=False)
    push = context(tmp_path, fake_github, config=TRIAGE, create_issues=True)
    on_pr = context(tmp_path, fake_github, config=TRIAGE, pull_request=pr)
    findings = (code_finding("B602", "app/run.py", 3),)
    kw: dict[str, Any] = {"client": ghc, "repository": "octo-org/hello-world"}

    def run() -> None:
        IssueSink(**kw).deliver(report(findings), push)
        TriageSink(**kw).deliver(report(findings), push)
        PrCommentSink(**kw).deliver(report(findings), on_pr)

    run()
    run()  # sees the first run's own writes (labels, a comment): listings changed, nothing to write
    settled = len(fake_github.requests)
    assert len(fake_github.mutating_requests()) == 5  # 2 labels, 1 issue, 1 triage label, 1 comment
    run()
    again = fake_github.requests[settled:]
    assert [(r.method, r.status) for r in again] == [("GET", 304)] * 3  # issues, open issues, PR comments
    import json

    sent = json.dumps([r.body for r in fake_github.requests])
    assert fake_github.token not in sent  # the token authenticates; it is never written anywhere
