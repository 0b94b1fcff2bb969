"""Busy repositories: bounded windows stay honest (rates over the span the sample covers, bounds when a
median cannot be exact), and the client's other faces (PyGithub, GraphQL rate limit, the cache file)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from repo_automation.collectors.github import GitHubCollector
from repo_automation.errors import SourceFailed
from repo_automation.github.cache import MAX_FILE_ENTRIES, CachedResponse, FileEtagCache
from repo_automation.github.client import GitHubClient
from tests.fakegithub import Fault
from tests.fakegithub.repo_data import ClientFakeGitHub, Item, data_for
from tests.helpers import FIXED_NOW, make_context

pytestmark = pytest.mark.integration
BUSY = "octo-org/busy"


def seed_busy(fake: ClientFakeGitHub) -> None:
    fake.state.add_repo(BUSY)
    d = data_for(fake.state, BUSY)
    half_day, hour = timedelta(hours=12), timedelta(hours=1)
    for i in range(1, 151):  # two PRs merged a day, 150 of them: more than the window of 100
        created = FIXED_NOW - i * half_day
        d.pulls.append(Item(number=i, created=created, author="a", state="MERGED", merged=created + hour,
                            closed=created + hour))
    d.issues = [Item(number=1000 + i, created=FIXED_NOW - timedelta(days=i), author="b") for i in range(1, 251)]
    d.contributors = [(f"dev{i}", 1000 - i) for i in range(150)]


def test_busy_repository_uses_the_span_its_samples_cover(fake: ClientFakeGitHub,
                                                         make_client: Callable[..., GitHubClient],
                                                         tmp_path: Path) -> None:
    seed_busy(fake)
    ctx = make_context(tmp_path, github_repository=BUSY)
    metrics = {m.name: m for m in GitHubCollector(client=make_client(repository=BUSY)).collect(ctx)}
    merged = metrics["github.pull_requests_merged_per_week"]
    assert merged.metadata["truncated"] is True
    assert merged.value == pytest.approx(14, rel=0.01)  # 2 a day, not 100 / 12 weeks
    age = metrics["github.open_issue_age_median_days"]
    assert age.metadata["exact"] is False
    assert (age.metadata["lower_bound"], age.metadata["upper_bound"]) == (100, 151)
    assert age.value == pytest.approx(125.5)  # the true median of ages 1 … 250
    contributors = metrics["github.contributors"]
    assert contributors.value == 101 and contributors.metadata["exact"] is False
    assert contributors.metadata["upper_bound"] == 200


def test_writes_use_the_same_base_url_and_are_counted(fake: ClientFakeGitHub,
                                                      make_client: Callable[..., GitHubClient]) -> None:
    client = make_client(api_url=fake.url + "/api/v3", write_interval_s=0.0)
    created = client.create_issue("octo-org/hello-world", title="A", body="b", labels=["bug"])
    client.comment("octo-org/hello-world", created.number, "first")
    assert created.number >= 1 and created.url.endswith(f"/issues/{created.number}")
    base = "/api/v3/repos/octo-org/hello-world/issues"
    assert [p for p in fake.raw_paths if p.endswith(("/issues", "/comments"))] == [
        base, f"{base}/{created.number}/comments"]
    client.close()  # the end-of-run log includes the quota the last answer reported, without asking again
    assert client.usage.rest_requests == 2 and client.usage.rest_points == 2
    assert client.usage.remaining["core"] == fake.state.rate_limit - fake.state.rate_used
    assert len(fake.requests) == 2


def test_writes_are_spaced_as_github_asks(fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient]) -> None:
    now, waits = [1000.0], []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    client = make_client(write_interval_s=1.0, sleep=sleep, clock=lambda: now[0])
    for n in range(3):
        client.create_issue("octo-org/hello-world", title=f"T{n}", body="", labels=[])
    client.get_json("/repos/octo-org/hello-world")  # reads are not held back
    assert waits == [1.0, 1.0] and len(fake.mutating_requests()) == 3


def test_graphql_rate_limited_answer_fails_with_the_reset_time(fake: ClientFakeGitHub,
                                                               make_client: Callable[..., GitHubClient],
                                                               tmp_path: Path) -> None:
    import time

    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 1800),
               "x-ratelimit-resource": "graphql"}
    body = {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit already exceeded for user ID 1."}]}
    fake.inject(Fault(status=200, path=r"^/graphql$", headers=headers, body=body))
    client = make_client()
    with pytest.raises(SourceFailed, match="primary rate limit exhausted"):
        GitHubCollector(client=client).collect(make_context(tmp_path, github_repository="octo-org/hello-world"))
    assert client.usage.remaining["graphql"] == 0


def test_cache_file_is_bounded_and_written_atomically(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "cache.json"
    cache = FileEtagCache(path)
    for i in range(MAX_FILE_ENTRIES + 5):
        cache.put(f"k{i}", CachedResponse(etag=f'W/"{i}"', body={"i": i}))
    cache.flush()
    assert [p.name for p in path.parent.iterdir()] == ["cache.json"]  # no temporary file left behind
    data = json.loads(path.read_text(encoding="utf-8"))
    assert len(data["entries"]) == MAX_FILE_ENTRIES and "k0" not in data["entries"]
    again = FileEtagCache(path)
    entry = again.get(f"k{MAX_FILE_ENTRIES + 4}")
    assert entry is not None and entry.body == {"i": MAX_FILE_ENTRIES + 4}


def test_cache_file_of_another_format_is_ignored(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "cache.json"
    path.write_text(json.dumps({"version": 99, "entries": {"k": {"etag": "x", "body": 1}}}), encoding="utf-8")
    assert FileEtagCache(path).get("k") is None
    assert "corrupt" in caplog.text


def test_empty_repository_gives_zeros_and_leaves_out_what_has_no_sample(
        fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient], tmp_path: Path) -> None:
    fake.state.add_repo("octo-org/empty")
    ctx = make_context(tmp_path, github_repository="octo-org/empty")
    values = {m.name: m.value for m in GitHubCollector(client=make_client(repository="octo-org/empty")).collect(ctx)}
    assert values == {"github.stars": 0, "github.forks": 0, "github.watchers": 0, "github.open_issues": 0,
                      "github.open_pull_requests": 0, "github.releases": 0, "github.commits_per_week": 0,
                      "github.pull_requests_merged_per_week": 0, "github.releases_per_quarter": 0,
                      "github.contributors": 0}  # no response times, no absence factor, no CI: nothing to measure


def test_missing_permission_on_runs_omits_ci_health_with_githubs_message(
        fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    fake.inject(Fault.forbidden(path=r"/actions/runs$"))
    ctx = make_context(tmp_path, github_repository="octo-org/hello-world")
    values = {m.name: m.value for m in GitHubCollector(client=make_client()).collect(ctx)}
    assert "reliability.build_success_rate" not in values and values["github.stars"] == 42
    assert "403 Resource not accessible by integration" in caplog.text
