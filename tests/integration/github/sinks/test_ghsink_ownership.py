"""What the action owns on GitHub is found by its marker and closed only by its owners (issue #9, item 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from repo_automation.domain import FindingState, Location, Severity, SourceResult, Status
from repo_automation.github.fingerprint import find_fingerprint, make_fingerprint, with_marker
from repo_automation.scanners.dedup import merge_findings
from repo_automation.sinks.github.issues import IssueSink
from repo_automation.sinks.github.pr_comment import PrCommentSink
from tests.fakegithub import FakeGitHub
from tests.fakegithub.builders import code_finding, context, dep_finding, report
from tests.fakegithub.clients import REPO


def _sink(ghc: Any) -> IssueSink:
    return IssueSink(client=ghc, repository=REPO)


def _open(server: FakeGitHub) -> list[dict[str, Any]]:
    return [i for i in server.state.issues(REPO) if i["state"] == "open"]


def _by_fp(server: FakeGitHub) -> dict[str, dict[str, Any]]:
    return {find_fingerprint(i["body"]) or "": i for i in server.state.issues(REPO)}


def _repo(server: FakeGitHub) -> Any:
    repo = server.state.repo("octo-org", "hello-world")
    assert repo is not None
    return repo


def _sources(**status: Status) -> tuple[SourceResult, ...]:
    return tuple(SourceResult(name=name.replace("_", "-"), kind="scanner", status=s,
                              reason="exit status 1: no database" if s is Status.FAILED else "")
                 for name, s in status.items())


ADVISORIES = (
    dep_finding("PYSEC-2021-142", "PyYAML", "5.3", severity=Severity.CRITICAL),
    dep_finding("PYSEC-2020-96", "pyyaml", "5.3", severity=Severity.HIGH),
    dep_finding("PYSEC-2019-217", "jinja2", "2.10", severity=Severity.MEDIUM),
)


def test_one_issue_per_package_lists_every_advisory_the_fix_for_all_and_the_update_pull_request(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    import dataclasses

    yaml = [dataclasses.replace(ADVISORIES[0], fixed_versions=("5.4", "6.0")),
            dataclasses.replace(ADVISORIES[1], fixed_versions=("5.3.1",), ids=("PYSEC-2020-96", "CVE-2020-1747"))]
    pull = fake_github.state.add_pull(_repo(fake_github), title="Update pyyaml to 5.4", head_sha="d" * 40,
                                      base_sha="a" * 40, head_ref="repo-automation/deps/pyyaml-5.4")
    ctx = context(tmp_path, fake_github, create_issues=True)
    _sink(ghc).deliver(report((*yaml, ADVISORIES[2])), ctx)
    issues = _by_fp(fake_github)
    assert sorted(issues) == ["pkg:jinja2", "pkg:pyyaml"]
    body = issues["pkg:pyyaml"]["body"]
    assert issues["pkg:pyyaml"]["title"] == "[critical] pyyaml 5.3: 2 advisories"
    assert "Upgrade to `5.4`: the lowest version that fixes all of them." in body
    assert f"- Update pull request: #{pull['number']}" in body
    assert "| `PYSEC-2021-142` | critical | `5.4`, `6.0` |" in body and "| `PYSEC-2020-96` | high | `5.3.1` |" in body
    assert "Update pull request" not in issues["pkg:jinja2"]["body"]  # no update proposed for it

    _sink(ghc).deliver(report((yaml[1], ADVISORIES[2])), ctx)  # an advisory went away: the issue follows
    body = _by_fp(fake_github)["pkg:pyyaml"]["body"]
    assert "PYSEC-2021-142" not in body and "Upgrade to `5.3.1`" in body and "1 advisory" in body
    _sink(ghc).deliver(report((ADVISORIES[2],)), ctx)  # pyyaml upgraded: its issue closes
    assert _by_fp(fake_github)["pkg:pyyaml"]["state"] == "closed" and len(_open(fake_github)) == 1


def test_existing_issues_of_one_advisory_are_closed_with_a_link_to_their_package_issue(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    repo = _repo(fake_github)
    old = [fake_github.state.add_issue(repo, title=f"[critical] {a.rule_id} in pyyaml", labels=["repo-automation"],
                                       body=with_marker("old body", make_fingerprint("dep", a.rule_id)))
           for a in ADVISORIES[:2]]
    ctx = context(tmp_path, fake_github, create_issues=True)
    actions = _sink(ghc).deliver(report(ADVISORIES), ctx)
    package = _by_fp(fake_github)["pkg:pyyaml"]
    assert all(i["state"] == "closed" and i["state_reason"] == "duplicate" for i in old)
    for issue in old:
        (comment,) = fake_github.state.comments(REPO, issue["number"])
        assert f"#{package['number']}" in comment["body"]
    assert sorted(find_fingerprint(i["body"]) for i in _open(fake_github)) == ["pkg:jinja2", "pkg:pyyaml"]
    assert sum(a.description.startswith("close (migrated)") for a in actions) == 2
    assert _sink(ghc).deliver(report(ADVISORIES), ctx) == []  # migrated once: nothing more to do


def test_a_label_removed_by_hand_gives_no_duplicate(tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    ctx = context(tmp_path, fake_github, create_issues=True)
    findings = (code_finding("B602", "app/run.py", 10), ADVISORIES[0])
    _sink(ghc).deliver(report(findings), ctx)
    for issue in fake_github.state.issues(REPO):
        issue["labels"] = []  # a person took the action's label off every issue
    _sink(ghc).deliver(report(findings), ctx)
    assert len(fake_github.state.issues(REPO)) == 2 and fake_github.count("POST", "/issues") == 2
    _sink(ghc).deliver(report(findings[:1]), ctx)  # and it is still the action's to close
    assert _by_fp(fake_github)["pkg:pyyaml"]["state"] == "closed"


def test_a_failing_trivy_leaves_pip_audits_issues_to_pip_audit(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    secret = code_finding("github-pat", "app/settings.py", 2, tool="trivy", title="GitHub Personal Access Token")
    ctx = context(tmp_path, fake_github, create_issues=True)
    everything_ok = _sources(bandit=Status.OK, pip_audit=Status.OK, trivy=Status.OK)
    _sink(ghc).deliver(report((secret, *ADVISORIES), sources=everything_ok), ctx)
    trivy_failed = _sources(bandit=Status.OK, pip_audit=Status.OK, trivy=Status.FAILED)
    actions = _sink(ghc).deliver(report((ADVISORIES[2],), sources=trivy_failed), ctx)  # pyyaml fixed
    issues = _by_fp(fake_github)
    assert issues["pkg:pyyaml"]["state"] == "closed"  # pip-audit owns it and ran
    kept = issues["code:trivy:github-pat:app/settings.py"]
    assert kept["state"] == "open" and "> **Still open:** not seen in the last run, but trivy failed: exit status 1: " \
        "no database." in kept["body"]
    assert any(a.description.startswith("keep open issue") and "trivy failed" in a.description for a in actions)
    _sink(ghc).deliver(report((ADVISORIES[2],), sources=everything_ok), ctx)  # trivy ran again: its call
    assert _by_fp(fake_github)["code:trivy:github-pat:app/settings.py"]["state"] == "closed"


def test_bandit_and_semgrep_on_one_line_and_cwe_make_one_issue_naming_both(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    import dataclasses

    where = Location(path="app/shell.py", start_line=7)
    bandit = dataclasses.replace(code_finding("B602", "app/shell.py", 7), cwe=("CWE-78",), location=where)
    semgrep = dataclasses.replace(code_finding("subprocess-shell-true", "app/shell.py", 7, tool="semgrep"),
                                  cwe=("CWE-78",), location=where, severity=Severity.HIGH)
    other_line = dataclasses.replace(semgrep, location=Location(path="app/shell.py", start_line=9),
                                     fingerprint="semgrep:other")
    merged = merge_findings([bandit, semgrep, other_line])
    assert [f.tool for f in merged] == ["bandit+semgrep", "semgrep"] and merged[0].state is FindingState.ACTIVE
    _sink(ghc).deliver(report(tuple(merged[:1])), context(tmp_path, fake_github, create_issues=True))
    (issue,) = fake_github.state.issues(REPO)
    assert "- Tools: bandit, semgrep" in issue["body"] and "- Rules: `B602`, `subprocess-shell-true`" in issue["body"]
    assert "<!-- repo-automation:owners=bandit,semgrep -->" in issue["body"]


def test_a_pr_comment_written_under_a_personal_token_is_recognised(
        tmp_path: Path, fake_github: FakeGitHub, ghc: Any) -> None:
    from repo_automation.context import PullRequest

    issue = fake_github.state.add_pull(_repo(fake_github), title="feature", head_sha="b" * 40, base_sha="c" * 40)
    pr = PullRequest(number=issue["number"], base_sha="c" * 40, head_sha="b" * 40, base_ref="main",
                     head_ref="feature", is_fork=False)
    ctx = context(tmp_path, fake_github, pull_request=pr)
    PrCommentSink(client=ghc, repository=REPO).deliver(report(()), ctx)
    (comment,) = fake_github.state.comments(REPO, pr.number)
    comment["user"] = fake_github.state.user("octocat")  # as if written under a person's token
    assert comment["user"]["type"] == "User"
    actions = PrCommentSink(client=ghc, repository=REPO).deliver(report((code_finding(),)), ctx)
    assert [a.description.split(" ")[0] for a in actions] == ["update"]
    assert len(fake_github.state.comments(REPO, pr.number)) == 1
