"""The local GitHub itself: it must refuse what GitHub refuses, and answer like GitHub where it accepts."""

from __future__ import annotations

import time

import github
import pytest
import requests

from tests.fakegithub import FakeGitHub, Fault
from tests.fakegithub.clients import REPO, pygithub_for
from tests.fakegithub.clients import raw as _raw


def test_issue_without_title_is_refused_like_github_and_recorded(fake_github: FakeGitHub) -> None:
    resp = _raw(fake_github, "POST", f"/repos/{REPO}/issues", json={"body": "no title"})
    assert resp.status_code == 422
    violations = fake_github.take_violations()
    assert len(violations) == 1 and "'title' is a required property" in violations[0]
    assert fake_github.state.issues(REPO) == []


@pytest.mark.parametrize(("method", "path", "body", "status", "words"), [
    ("PATCH", f"/repos/{REPO}/issues/1", {"state": "finished"}, 422, "'finished' is not one of"),
    ("GET", f"/repos/{REPO}/issues?state=bogus", None, 422, "state"),
    ("GET", f"/repos/{REPO}/no-such-endpoint", None, 404, "Not Found"),
    ("POST", f"/repos/{REPO}/check-runs", {"name": "x", "head_sha": "a", "conclusion": "great"}, 422, "great"),
    ("POST", f"/repos/{REPO}/labels", {"color": "ff0000"}, 422, "'name' is a required property"),
])
def test_requests_github_would_refuse_are_violations(fake_github: FakeGitHub, method: str, path: str,
                                                      body: object, status: int, words: str) -> None:
    resp = _raw(fake_github, method, path, json=body)
    assert resp.status_code == status
    violations = fake_github.take_violations()
    assert len(violations) == 1 and words in violations[0]


def test_listing_paginates_with_link_headers_pygithub_follows(fake_github: FakeGitHub, gh: object) -> None:
    repo_state = fake_github.state.repo("octo-org", "hello-world")
    assert repo_state is not None
    for i in range(7):
        fake_github.state.add_issue(repo_state, title=f"issue {i}", labels=["bug"] if i % 2 else [])
    resp = _raw(fake_github, "GET", f"/repos/{REPO}/issues", params={"per_page": 2, "labels": "bug"})
    assert [i["title"] for i in resp.json()] == ["issue 5", "issue 3"]
    assert 'rel="next"' in resp.headers["Link"] and resp.headers["Link"].startswith(f"<{fake_github.url}/")
    pg = pygithub_for(fake_github, per_page=2)
    titles = [i.title for i in pg.withLazy(True).get_repo(REPO).get_issues(state="all")]
    assert len(titles) == 7 and fake_github.count("GET", "/issues") == 5  # 1 raw + 4 pages of 2


def test_etag_makes_a_repeated_get_a_free_304(fake_github: FakeGitHub) -> None:
    first = _raw(fake_github, "GET", f"/repos/{REPO}")
    used = int(first.headers["x-ratelimit-used"])
    again = _raw(fake_github, "GET", f"/repos/{REPO}", headers={"If-None-Match": first.headers["ETag"],
                                                               "Authorization": f"token {fake_github.token}"})
    assert again.status_code == 304 and again.content == b""
    assert int(again.headers["x-ratelimit-used"]) == used
    repo = fake_github.state.repo("octo-org", "hello-world")
    assert repo is not None
    fake_github.state.add_issue(repo, title="changes the repo")
    changed = requests.get(fake_github.url + f"/repos/{REPO}", timeout=10,
                           headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.json()["open_issues_count"] == 1


def test_label_twice_is_422_already_exists(gh: github.Github) -> None:
    repo = gh.withLazy(True).get_repo(REPO)
    repo.create_label("security", "d73a4a")
    with pytest.raises(github.GithubException) as err:
        repo.create_label("Security", "d73a4a")
    assert err.value.status == 422 and err.value.data["errors"][0]["code"] == "already_exists"


def test_more_than_50_annotations_in_one_request_is_422(fake_github: FakeGitHub) -> None:
    ann = [{"path": "a.py", "start_line": i, "end_line": i, "annotation_level": "warning", "message": "m"}
           for i in range(1, 52)]
    body = {"name": "health", "head_sha": "a" * 40, "status": "completed", "conclusion": "neutral",
            "output": {"title": "t", "summary": "s", "annotations": ann}}
    assert _raw(fake_github, "POST", f"/repos/{REPO}/check-runs", json=body).status_code == 422
    assert ["is too long" in v for v in fake_github.take_violations()] == [True]  # the description says 50
    body["output"]["annotations"] = ann[:50]  # type: ignore[index]
    created = _raw(fake_github, "POST", f"/repos/{REPO}/check-runs", json=body)
    assert created.status_code == 201 and created.json()["output"]["annotations_count"] == 50


def test_unauthenticated_writes_and_bad_tokens_are_refused(fake_github: FakeGitHub) -> None:
    anon = requests.post(fake_github.url + f"/repos/{REPO}/issues", json={"title": "x"}, timeout=10)
    assert anon.status_code == 401
    bad = requests.get(fake_github.url + f"/repos/{REPO}", headers={"Authorization": "token wrong"}, timeout=10)
    assert bad.status_code == 401 and bad.json()["message"] == "Bad credentials"


def test_faults_hit_only_the_next_n_matching_requests(fake_github: FakeGitHub) -> None:
    fake_github.inject(Fault.server_error(502, times=2, method="GET", path=r"/issues$"))
    codes = [_raw(fake_github, "GET", f"/repos/{REPO}/issues").status_code for _ in range(3)]
    assert codes == [502, 502, 200]
    assert _raw(fake_github, "GET", f"/repos/{REPO}").status_code == 200


@pytest.mark.parametrize(("fault", "status", "header"), [
    (Fault.secondary_rate_limit(retry_after=1), 403, "Retry-After"),
    (Fault.too_many_requests(retry_after=1), 429, "Retry-After"),
    (Fault.primary_exhausted(reset_in=1), 403, "x-ratelimit-reset"),
    (Fault.accepted(), 202, None),
])
def test_documented_rate_limit_answers(fake_github: FakeGitHub, fault: Fault, status: int, header: str | None) -> None:
    fake_github.inject(fault)
    resp = _raw(fake_github, "GET", f"/repos/{REPO}")
    assert resp.status_code == status
    if header:
        assert resp.headers[header]
    if status == 403 and "x-ratelimit-reset" in resp.headers:
        assert resp.headers["x-ratelimit-remaining"] == "0"
    elif status == 403:
        assert "secondary rate limit" in resp.json()["message"]


def test_pygithub_waits_out_a_secondary_limit_and_a_500(gh: github.Github, fake_github: FakeGitHub) -> None:
    fake_github.inject(Fault.secondary_rate_limit(retry_after=1, method="GET"))
    fake_github.inject(Fault.server_error(500, method="GET"))
    start = time.monotonic()
    assert gh.get_repo(REPO).full_name == REPO
    assert time.monotonic() - start >= 1.0  # Retry-After honoured
    assert [r.status for r in fake_github.requests] == [403, 500, 200]


def test_slow_answer_trips_the_client_timeout(fake_github: FakeGitHub) -> None:
    fake_github.inject(Fault.slow(1.5, method="GET"))
    with pytest.raises(requests.Timeout):
        requests.get(fake_github.url + f"/repos/{REPO}", timeout=0.3)


def test_graphql_is_routed_to_the_graphql_module(fake_github: FakeGitHub) -> None:
    # the first GraphQL request builds GitHub's whole schema: slow on a busy machine
    resp = _raw(fake_github, "POST", "/graphql", json={"query": "{ viewer { login } }"}, timeout=120)
    try:
        import tests.fakegithub.graphql  # noqa: F401
    except ImportError:
        assert resp.status_code == 501
    else:
        assert resp.status_code != 501


def test_stats_answer_202_while_computing_then_the_data(fake_github: FakeGitHub) -> None:
    repo = fake_github.state.repo("octo-org", "hello-world")
    assert repo is not None
    repo.stats["commit_activity"] = [{"days": [0, 1, 0, 0, 2, 0, 0], "total": 3, "week": 1700000000}]
    fake_github.inject(Fault.accepted(times=2, path="/stats/"))
    codes = [_raw(fake_github, "GET", f"/repos/{REPO}/stats/commit_activity").status_code for _ in range(3)]
    assert codes == [202, 202, 200]
    assert _raw(fake_github, "GET", f"/repos/{REPO}/stats/commit_activity").json()[0]["total"] == 3
