"""Real GitHub conversations (@octokit/fixtures recordings) replayed through PyGithub, and checked against
the OpenAPI description our fake enforces: proof that the validator accepts real traffic, and that the
calls our sinks make are the calls GitHub answered.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import github
import pytest

from tests.fakegithub import FakeGitHub
from tests.fakegithub.clients import raw
from tests.fakegithub.replay import API, FIXTURES, ReplayServer, load_scenario
from tests.fakegithub.spec import SpecRequest, check

TOKEN = "0000000000000000000000000000000000000001"  # the token the recordings were normalised to
# Recorded requests GitHub's current description no longer lists (the endpoints were retired since 2017):
RETIRED = {
    "api.github.com/project-cards": "classic Projects API, sunset",
    "api.github.com/git-refs": "GET …/git/refs (list all refs), replaced by …/git/matching-refs",
}


def _scenarios() -> list[str]:
    return sorted(f"api.github.com/{p.name}" for p in (FIXTURES / "api.github.com").iterdir() if p.is_dir())


def _client(server: ReplayServer, **kw: Any) -> github.Github:
    return github.Github(base_url=server.url, auth=github.Auth.Token(TOKEN), timeout=10, retry=None,
                         seconds_between_requests=0, seconds_between_writes=0, **kw)


@pytest.mark.parametrize("scenario", _scenarios())
def test_every_recorded_request_passes_the_validator(scenario: str, github_spec: object) -> None:
    refused = []
    for rec in load_scenario(scenario):
        if not rec["scope"].startswith(API):
            continue  # uploads.github.com, codeload.github.com: other hosts
        url = urlsplit(rec["path"])
        body = rec.get("body")
        data = json.dumps(body).encode() if body not in (None, "") else None
        headers = {k: str(v) for k, v in (rec.get("reqheaders") or {}).items()}
        invalid = check(SpecRequest(rec["method"], url.path, data, parse_qsl(url.query), headers,
                                    headers.get("content-type", "application/json")))
        if invalid is not None:
            refused.append(f"{rec['method']} {rec['path']}: {invalid.message[:200]}")
    if scenario in RETIRED:
        assert refused, f"{scenario} was expected to use retired endpoints ({RETIRED[scenario]})"
    else:
        assert refused == []


def test_paginate_issues_replayed_through_pygithub(github_spec: object) -> None:
    with ReplayServer("api.github.com/paginate-issues") as server:
        issues = list(_client(server, per_page=3).withLazy(True).get_repo("octokit-fixture-org/paginate-issues")
                      .get_issues())
        assert server.unmatched == [] and server.pending() == []
    assert len(issues) == 13 and issues[0].number == 13


def test_create_status_replayed_through_pygithub(github_spec: object) -> None:
    """The fallback of the checks sink (commit statuses), as GitHub answered it. Reading statuses back goes
    through the documented …/commits/{ref}/statuses: PyGithub's get_statuses() uses GET …/statuses/{sha},
    which the description does not list and the recording does not hold."""
    sha = "0000000000000000000000000000000000000001"
    with ReplayServer("api.github.com/create-status") as server:
        gh = _client(server).withLazy(True)
        repo = gh.get_repo("octokit-fixture-org/create-status")
        commit = repo.get_commit(sha)
        commit.create_status(state="failure", target_url="https://example.com",
                             description="create-status failure test", context="example/1")
        commit.create_status(state="success", target_url="https://example.com",
                             description="create-status success test", context="example/2")
        _, statuses = gh.requester.requestJsonAndCheck("GET", f"{repo.url}/commits/{sha}/statuses")
        combined = commit.get_combined_status()
        assert server.unmatched == [] and server.pending() == []
    assert sorted(s["context"] for s in statuses) == ["example/1", "example/2"] and combined.state == "failure"
    assert check(SpecRequest("GET", f"/repos/o/r/statuses/{sha}", None)) is not None


def test_labels_replayed_through_pygithub(github_spec: object) -> None:
    with ReplayServer("api.github.com/labels") as server:
        repo = _client(server).withLazy(True).get_repo("octokit-fixture-org/labels")
        names = [lab.name for lab in repo.get_labels()]
        repo.create_label("test-label", "663399")
        label = repo.get_label("test-label")
        assert label.color == "663399"  # a lazy object: this reads it
        label.edit("test-label-updated", "BADA55")
        label.delete()
        assert server.unmatched == [] and server.pending() == []
    assert "bug" in names and label.color == "BADA55"


def test_recorded_422_error_and_our_fake_agree(fake_github: FakeGitHub, github_spec: object) -> None:
    """GitHub answered an invalid label colour with 422; the fake must answer the same request alike."""
    (rec,) = load_scenario("api.github.com/errors")
    with ReplayServer("api.github.com/errors") as server, pytest.raises(github.GithubException) as real:
        _client(server).withLazy(True).get_repo("octokit-fixture-org/errors").create_label("foo", "invalid")
    ours = raw(fake_github, "POST", "/repos/octo-org/hello-world/labels", json=rec["body"])
    assert real.value.status == ours.status_code == 422
    assert real.value.data["message"] == ours.json()["message"] == "Validation Failed"
    assert ([(e["resource"], e["field"], e["code"]) for e in real.value.data["errors"]]
            == [(e["resource"], e["field"], e["code"]) for e in ours.json()["errors"]])


def test_labels_to_an_issue_in_the_recorded_form_our_triage_sends(github_spec: object) -> None:
    """The triage sink posts {"labels": [...]}: the form GitHub recorded (PyGithub's add_to_labels sends a
    bare list, which the description no longer accepts)."""
    with ReplayServer("api.github.com/add-labels-to-issue") as server:
        repo = _client(server).withLazy(True).get_repo("octokit-fixture-org/add-labels-to-issue")
        issue = repo.create_issue(title="Issue without a label")
        issue.requester.requestJsonAndCheck("POST", f"{issue.url}/labels", input={"labels": ["Foo", "bAr", "baZ"]})
        assert server.unmatched == [] and server.pending() == []


def test_unrecorded_requests_are_caught(github_spec: object) -> None:
    with ReplayServer("api.github.com/get-repository") as server:
        with pytest.raises(github.GithubException):
            _client(server).get_repo("octokit-fixture-org/not-recorded")
        assert server.unmatched and server.pending() == ["GET /repos/octokit-fixture-org/hello-world"]
