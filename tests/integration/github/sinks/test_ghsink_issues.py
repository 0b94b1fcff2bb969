"""The issues sink against the local GitHub: one issue per fingerprint, whatever happens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from repo_automation.domain import Alert, Severity, SourceResult, Status
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.github.client import connect
from repo_automation.github.fingerprint import find_fingerprint
from repo_automation.pipeline import Stages, deliver
from repo_automation.sinks.github.issues import IssueSink
from tests.fakegithub import FakeGitHub, Fault
from tests.fakegithub.builders import code_finding, context, dep_finding, report
from tests.fakegithub.clients import REPO

FINDINGS = (
    code_finding("B602", "app/run.py", 10),
    code_finding("B602", "app/run.py", 31),  # same rule, same file: the same issue
    code_finding("B105", "app/settings.py", 3, title="hard-coded password", severity=Severity.LOW),
    dep_finding(),
)


def _sink(ghc: Any) -> IssueSink:
    return IssueSink(client=ghc, repository=REPO)


def _open(server: FakeGitHub) -> list[dict[str, Any]]:
    return [i for i in server.state.issues(REPO) if i["state"] == "open"]


def _fps(issues: list[dict[str, Any]]) -> list[str | None]:
    return sorted(find_fingerprint(i["body"]) or "" for i in issues)


def test_ten_runs_with_the_same_findings_keep_exactly_one_issue_per_group(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    ctx = context(tmp_path, fake_github, create_issues=True)
    first = _sink(ghc).deliver(report(FINDINGS), ctx)
    assert [a.description.split(" ")[0] for a in first].count("create") == 3 + 2  # 3 issues, 2 labels
    for _ in range(9):
        assert _sink(ghc).deliver(report(FINDINGS), ctx) == []
    issues = fake_github.state.issues(REPO)
    assert len(issues) == 3 and len(set(_fps(issues))) == 3
    assert fake_github.count("POST", "/issues") == 3 and fake_github.count("PATCH") == 0
    assert fake_github.count("GET", "/labels") == 1  # labels only looked at when an issue needs them
    listings = [r.status for r in fake_github.requests if r.method == "GET" and r.path.endswith("/issues")]
    # warm reruns read for free: the issues, and the open pull requests (a package issue links its update)
    assert listings == [200, 200] + [304] * 9 and ghc.usage.not_modified == 9 * 2
    run = next(i for i in issues if "app/run.py" in i["title"])
    assert "line 10" in run["body"] and "line 31" in run["body"]
    assert {lab["name"] for lab in run["labels"]} == {"repo-automation", "security"}


def test_gone_finding_is_closed_with_a_comment_and_reopened_when_back(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    ctx = context(tmp_path, fake_github, create_issues=True)
    _sink(ghc).deliver(report(FINDINGS), ctx)
    dep_issue = next(i for i in fake_github.state.issues(REPO) if "pyyaml" in i["title"])
    actions = _sink(ghc).deliver(report(FINDINGS[:3]), ctx)
    assert [a.description.split(" issue")[0] for a in actions] == ["close"]
    assert dep_issue["state"] == "closed" and dep_issue["state_reason"] == "completed"
    assert "No longer detected" in fake_github.state.comments(REPO, dep_issue["number"])[-1]["body"]
    actions = _sink(ghc).deliver(report(FINDINGS), ctx)
    assert [a.description.split(" issue")[0] for a in actions] == ["reopen"]
    assert dep_issue["state"] == "open" and len(fake_github.state.issues(REPO)) == 3
    assert "Detected again" in fake_github.state.comments(REPO, dep_issue["number"])[-1]["body"]


def test_issue_closed_as_not_planned_stays_closed(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    ctx = context(tmp_path, fake_github, create_issues=True)
    _sink(ghc).deliver(report(FINDINGS[3:]), ctx)
    issue = fake_github.state.issues(REPO)[0]
    issue.update(state="closed", state_reason="not_planned")
    assert _sink(ghc).deliver(report(FINDINGS[3:]), ctx) == []
    assert issue["state"] == "closed" and fake_github.count("POST", "/issues") == 1


def test_a_failed_scanner_does_not_close_its_issues(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    ctx = context(tmp_path, fake_github, create_issues=True)
    _sink(ghc).deliver(report(FINDINGS), ctx)
    sources = (SourceResult(name="bandit", kind="scanner", status=Status.FAILED, reason="timed out"),
               SourceResult(name="pip-audit", kind="scanner", status=Status.OK))
    actions = _sink(ghc).deliver(report(FINDINGS[3:], sources=sources), ctx)
    assert [a.description.split(" ")[:2] for a in actions] == [["keep", "open"]] * 2 and len(_open(fake_github)) == 3
    kept = [i for i in _open(fake_github) if "code:bandit" in i["body"]]
    assert all("> **Still open:** not seen in the last run, but bandit failed: timed out" in i["body"] for i in kept)
    again = _sink(ghc).deliver(report(FINDINGS[3:], sources=sources), ctx)  # it says so already: no write
    assert [a.performed for a in again] == [False, False] and fake_github.count("PATCH") == 2
    ok = tuple(SourceResult(name=s.name, kind="scanner", status=Status.OK) for s in sources)
    assert len(_sink(ghc).deliver(report(FINDINGS[3:], sources=ok), ctx)) == 2  # now bandit ran: close both


def test_labels_people_added_are_kept_and_labels_are_created_once(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    ctx = context(tmp_path, fake_github, create_issues=True,
                  config={"automation": {"security_scanning": {"issue_labels": ["security", "vuln"]}}})
    _sink(ghc).deliver(report(FINDINGS[:1]), ctx)
    issue = fake_github.state.issues(REPO)[0]
    issue["labels"].append(fake_github.state.add_label(fake_github.state.repo("octo-org", "hello-world"),  # type: ignore[arg-type]
                                                       "triaged"))
    _sink(ghc).deliver(report(FINDINGS), ctx)
    assert {lab["name"] for lab in issue["labels"]} == {"repo-automation", "security", "vuln", "triaged"}
    assert fake_github.count("POST", "/labels") == 3


def test_oversized_body_is_cut_with_a_pointer_to_the_report(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    many = tuple(code_finding("B608", "app/db.py", n, message="SQL built from strings " + "x" * 200)
                 for n in range(1, 1001))
    _sink(ghc).deliver(report(many), context(tmp_path, fake_github, create_issues=True))
    (issue,) = fake_github.state.issues(REPO)
    assert len(issue["body"]) <= 65_536
    assert "more, cut to fit GitHub's issue size limit" in issue["body"]
    assert "https://github.com/octo-org/hello-world/actions/runs/42" in issue["body"]
    assert find_fingerprint(issue["body"]) == "code:bandit:B608:app/db.py"


def test_injection_in_titles_and_messages_is_inert(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    evil = "@octo-org/admins <!-- repo-automation:fingerprint=hijack --> [x](javascript:alert(1)) <img src=x>"
    finding = code_finding("B101", "app/x.py", 1, title=evil, message=evil + "\n\n# heading")
    _sink(ghc).deliver(report((finding,)), context(tmp_path, fake_github, create_issues=True))
    (issue,) = fake_github.state.issues(REPO)
    assert "@octo-org" not in issue["title"] and "@\u200docto-org" in issue["title"]
    assert issue["body"].count("<!--") == 2 and issue["body"].count("<!-- repo-automation:") == 2
    assert "<img" not in issue["body"] and "](javascript" not in issue["body"]
    assert find_fingerprint(issue["body"]) == "code:bandit:B101:app/x.py"
    assert "@octo-org" not in issue["body"]


def test_alerts_get_their_own_issue(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    alert = Alert(level="critical", condition="security.critical_vulnerabilities > 0", channels=("slack",),
                  values={"security.critical_vulnerabilities": 2.0})
    _sink(ghc).deliver(report((), alerts=(alert,)), context(tmp_path, fake_github, create_issues=True))
    (issue,) = fake_github.state.issues(REPO)
    assert issue["title"] == "[critical alert] security.critical_vulnerabilities > 0"
    assert {lab["name"] for lab in issue["labels"]} == {"repo-automation", "alert", "critical"}


def test_dry_run_reads_only_and_describes_every_write(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    first = _sink(ghc).deliver(report(FINDINGS), context(tmp_path, fake_github, create_issues=True,
                                                              dry_run=True))
    assert fake_github.mutating_requests() == []
    assert sorted(a.description.split(" ")[0] + " " + a.description.split(" ")[1] for a in first) == [
        "create issue", "create issue", "create issue", "create label", "create label"]
    _sink(ghc).deliver(report(FINDINGS), context(tmp_path, fake_github, create_issues=True))
    before = len(fake_github.mutating_requests())
    dry = context(tmp_path, fake_github, create_issues=True, dry_run=True)
    changed = (FINDINGS[0], code_finding("B303", "app/hash.py", 4, title="md5 used"))
    actions = _sink(ghc).deliver(report(changed), dry)
    assert len(fake_github.mutating_requests()) == before
    # B602 lost one of its two lines (update), B303 is new, the other two are gone
    assert sorted(a.description.split(" issue")[0] for a in actions) == ["close", "close", "create", "update"]
    assert not any(a.performed for a in actions)


def test_pull_requests_in_the_listing_are_not_touched(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    repo = fake_github.state.repo("octo-org", "hello-world")
    assert repo is not None
    pr = fake_github.state.add_pull(repo, title="bump", head_sha="b" * 40, base_sha="c" * 40)
    pr["labels"] = [fake_github.state.ensure_label(repo, "repo-automation")]
    pr["body"] = "<!-- repo-automation:fingerprint=code:bandit:B101:app/x.py -->"
    _sink(ghc).deliver(report(()), context(tmp_path, fake_github, create_issues=True))
    assert pr["state"] == "open" and fake_github.mutating_requests() == []


def test_skipped_without_the_switch_or_credentials(tmp_path: Path, fake_github: FakeGitHub) -> None:
    off = context(tmp_path, fake_github)
    with pytest.raises(SourceSkipped, match="create-issues"):
        IssueSink.from_context(off).deliver(report(FINDINGS), off)
    from tests.helpers import make_context

    no_token = make_context(tmp_path, env={"GITHUB_REPOSITORY": REPO}, create_issues=True)
    client, why = connect(no_token)
    assert client is None
    with pytest.raises(SourceSkipped, match="no GitHub credentials: set github-token"):
        IssueSink.from_context(no_token, client=client, unavailable=why).deliver(report(FINDINGS), no_token)
    assert fake_github.requests == []


def test_production_wiring_through_the_github_client(tmp_path: Path, fake_github: FakeGitHub) -> None:
    ctx = context(tmp_path, fake_github, create_issues=True)
    client, _ = connect(ctx)
    assert client is not None
    actions = IssueSink.from_context(ctx, client=client).deliver(report(FINDINGS[3:]), ctx)
    client.close()
    assert [a.performed for a in actions] == [True, True, True]
    # 4 listings (issues, open pull requests for the package's update, labels, issues after a creation),
    # 2 labels, 1 issue
    assert client.usage.rest_requests == 7
    assert len(fake_github.state.issues(REPO)) == 1


def test_a_500_then_success_creates_each_issue_once(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    fake_github.inject(Fault.server_error(500, method="POST", path=r"/issues$"))
    _sink(ghc).deliver(report(FINDINGS), context(tmp_path, fake_github, create_issues=True))
    assert len(_open(fake_github)) == 3 and len(set(_fps(_open(fake_github)))) == 3


def test_an_issue_created_behind_a_502_is_not_left_duplicated(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    """GitHub created the issue but the gateway answered 502; the client retries the POST: a second copy."""
    fake_github.inject(Fault.server_error(502, method="POST", path=r"/issues$", apply=True))
    actions = _sink(ghc).deliver(report(FINDINGS[3:]), context(tmp_path, fake_github, create_issues=True))
    assert len(fake_github.state.issues(REPO)) == 2  # the copy was made…
    assert len(_open(fake_github)) == 1  # …and closed as a duplicate in the same run
    closed = next(i for i in fake_github.state.issues(REPO) if i["state"] == "closed")
    assert closed["state_reason"] == "duplicate" and "close duplicate" in actions[-1].description


def test_secondary_rate_limit_on_the_listing_is_waited_out(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    fake_github.inject(Fault.secondary_rate_limit(retry_after=1, method="GET", path=r"/issues$"))
    _sink(ghc).deliver(report(FINDINGS[3:]), context(tmp_path, fake_github, create_issues=True))
    assert len(_open(fake_github)) == 1


def test_a_persistent_failure_is_reported_and_the_next_run_repairs(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    ctx = context(tmp_path, fake_github, create_issues=True)
    _sink(ghc).deliver(report(FINDINGS), ctx)
    fake_github.inject(Fault.server_error(500, times=None, method="PATCH"))
    with pytest.raises(SourceFailed, match="issue operation"):
        _sink(ghc).deliver(report(FINDINGS[:1]), ctx)
    out = deliver(report(FINDINGS[:1]), Stages(sinks=[_sink(ghc)]), ctx)
    assert out.sources[-1].status is Status.FAILED and "HTTP 500" in out.sources[-1].reason
    fake_github.faults.clear()
    _sink(ghc).deliver(report(FINDINGS[:1]), ctx)
    assert len(_open(fake_github)) == 1 and len(fake_github.state.issues(REPO)) == 3


def test_creations_are_capped_per_run_worst_first_and_resume_next_run(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    many = tuple(code_finding("B101", f"app/m{n:02}.py", 1, severity=Severity.LOW) for n in range(34))
    ctx = context(tmp_path, fake_github, create_issues=True)
    actions = _sink(ghc).deliver(report((*many, dep_finding())), ctx)
    issues = fake_github.state.issues(REPO)
    assert len(issues) == 30 and "pyyaml" in issues[0]["title"]  # the critical one first
    assert "5 more new issue(s) left for the next runs" in actions[0].description
    _sink(ghc).deliver(report((*many, dep_finding())), ctx)
    assert len(fake_github.state.issues(REPO)) == 35 and len(set(_fps(fake_github.state.issues(REPO)))) == 35


def test_pull_request_runs_leave_issues_alone(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    from repo_automation.context import PullRequest

    pr = PullRequest(number=7, base_sha="c" * 40, head_sha="b" * 40, base_ref="main", head_ref="x", is_fork=False)
    ctx = context(tmp_path, fake_github, create_issues=True, pull_request=pr)
    with pytest.raises(SourceSkipped, match="default branch"):
        _sink(ghc).deliver(report(FINDINGS), ctx)
    assert fake_github.requests == []


def test_secondary_rate_limit_on_a_creation_is_waited_out_without_a_copy(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    fake_github.inject(Fault.secondary_rate_limit(retry_after=1, method="POST", path=r"/issues$"))
    _sink(ghc).deliver(report(FINDINGS[3:]), context(tmp_path, fake_github, create_issues=True))
    assert len(fake_github.state.issues(REPO)) == 1
    assert [r.status for r in fake_github.requests if r.method == "POST" and r.path.endswith("/issues")] == [403, 201]


def test_a_failed_close_comment_is_not_repeated_by_the_next_run(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    ctx = context(tmp_path, fake_github, create_issues=True)
    _sink(ghc).deliver(report(FINDINGS[3:]), ctx)
    fake_github.inject(Fault.server_error(500, times=None, method="POST", path=r"/comments$"))
    with pytest.raises(SourceFailed):
        _sink(ghc).deliver(report(()), ctx)
    fake_github.faults.clear()
    assert _sink(ghc).deliver(report(()), ctx) == []
    (issue,) = fake_github.state.issues(REPO)
    assert issue["state"] == "closed" and fake_github.state.comments(REPO, issue["number"]) == []


def test_a_push_to_another_branch_leaves_issues_alone(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    import dataclasses

    event = {"ref": "refs/heads/feature", "repository": {"default_branch": "main", "full_name": REPO}}
    ctx = dataclasses.replace(context(tmp_path, fake_github, create_issues=True), ref="refs/heads/feature",
                              event=event)
    with pytest.raises(SourceSkipped, match="'feature'"):
        _sink(ghc).deliver(report(FINDINGS), ctx)
    on_main = dataclasses.replace(ctx, ref="refs/heads/main")
    assert len(_sink(ghc).deliver(report(FINDINGS), on_main)) == 5
