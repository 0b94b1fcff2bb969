"""The GitHub collector against the local GitHub: hand-checked numbers, 3 requests, a free warm rerun."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from repo_automation.collectors.github import GitHubCollector
from repo_automation.github.cache import FileEtagCache, RedisEtagCache
from repo_automation.github.client import GitHubClient
from tests.fakegithub.repo_data import ClientFakeGitHub
from tests.helpers import make_context
from tests.integration.github.client import synthetic
from tests.servers import free_port

pytestmark = pytest.mark.integration


def collect(client: GitHubClient, tmp_path: Path, **config: object) -> dict[str, float]:
    ctx = make_context(tmp_path, config={"tracking": {"data_sources": {"github": config}}} if config else None,
                       github_repository=synthetic.REPO)
    return {m.name: m.value for m in GitHubCollector(client=client).collect(ctx)}


def test_collector_measures_the_synthetic_repository_exactly(fake: ClientFakeGitHub,
                                                              make_client: Callable[..., GitHubClient],
                                                              tmp_path: Path) -> None:
    values = collect(make_client(), tmp_path)
    assert set(values) == set(synthetic.EXPECTED)
    for name, expected in synthetic.EXPECTED.items():
        assert values[name] == pytest.approx(expected), name


def test_whole_set_costs_three_requests(fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient],
                                         tmp_path: Path) -> None:
    client = make_client()
    collect(client, tmp_path)
    assert len(fake.requests) == 3
    assert client.usage.requests == 3
    assert client.usage.graphql_points == 1 and client.usage.rest_points == 2


def test_metadata_explains_window_and_sample(fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient],
                                             tmp_path: Path) -> None:
    ctx = make_context(tmp_path, github_repository=synthetic.REPO)
    metrics = {m.name: m for m in GitHubCollector(client=make_client()).collect(ctx)}
    assert metrics["github.commits_per_week"].metadata["weekly"] == list(range(1, 13))
    assert metrics["github.time_to_first_response_median_hours"].metadata["answered"] == 8
    assert metrics["github.time_to_first_response_median_hours"].metadata["unanswered"] == 2
    assert metrics["performance.build_time"].metadata["sample_size"] == 5
    assert metrics["github.pull_requests_merged_per_week"].metadata["truncated"] is False
    assert metrics["github.open_issue_age_median_days"].metadata["exact"] is True


def test_configured_metric_list_and_workflow(fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient],
                                            tmp_path: Path) -> None:
    values = collect(make_client(), tmp_path, metrics=["github.stars", "performance.build_time"],
                     build_workflow="ci.yml")
    assert values == {"github.stars": 42, "performance.build_time": 16}
    assert any("/actions/workflows/ci.yml/runs" in r.path for r in fake.requests)


def test_warm_rerun_with_file_cache_pays_no_rest_points(fake: ClientFakeGitHub,
                                                         make_client: Callable[..., GitHubClient],
                                                         tmp_path: Path) -> None:
    path = tmp_path / ".repo-automation" / "etag-cache.json"
    cold = make_client(cache=FileEtagCache(path))
    first = collect(cold, tmp_path)
    assert path.is_file()
    warm = make_client(cache=FileEtagCache(path))  # a new process: the cache comes from the file
    second = collect(warm, tmp_path)
    assert second == first
    assert warm.usage.rest_points == 0 and warm.usage.not_modified == 2
    assert warm.usage.graphql_points <= 2
    assert [r.status for r in fake.requests[-2:]] == [304, 304]


def test_changed_data_is_seen_despite_the_cache(fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient],
                                                tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    collect(make_client(cache=FileEtagCache(path)), tmp_path)
    from tests.fakegithub.repo_data import data_for
    data_for(fake.state, synthetic.REPO).contributors.append(("zoe", 1))
    values = collect(make_client(cache=FileEtagCache(path)), tmp_path)
    assert values["github.contributors"] == 6


def test_warm_rerun_with_redis_cache(fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient],
                                     tmp_path: Path) -> None:
    import redis

    prefix = f"repo-automation-test:{uuid.uuid4().hex}:"
    conn = redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=5)
    try:
        first = collect(make_client(cache=RedisEtagCache(conn, prefix=prefix)), tmp_path)
        assert len(list(conn.scan_iter(prefix + "*"))) == 2
        warm = make_client(cache=RedisEtagCache(conn, prefix=prefix))
        assert collect(warm, tmp_path) == first
        assert warm.usage.rest_points == 0 and warm.usage.graphql_points <= 2
    finally:
        keys = list(conn.scan_iter(prefix + "*"))
        if keys:
            conn.delete(*keys)
        conn.close()


def test_dry_run_reads_the_cache_but_never_writes_it(fake: ClientFakeGitHub,
                                                     make_client: Callable[..., GitHubClient],
                                                     tmp_path: Path) -> None:
    path = tmp_path / "cache.json"
    collect(make_client(cache=FileEtagCache(path, read_only=True)), tmp_path)
    assert not path.exists()


def test_corrupt_cache_file_is_ignored_with_a_warning(fake: ClientFakeGitHub,
                                                      make_client: Callable[..., GitHubClient],
                                                      tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "cache.json"
    path.write_text("{not json", encoding="utf-8")
    values = collect(make_client(cache=FileEtagCache(path)), tmp_path)
    assert values["github.contributors"] == 5
    assert "corrupt" in caplog.text
    assert FileEtagCache(path).get(f"{fake.url}/repos/{synthetic.REPO}/contributors?per_page=100") is not None


def test_every_metric_is_in_the_catalogue_with_its_unit(fake: ClientFakeGitHub,
                                                        make_client: Callable[..., GitHubClient],
                                                        tmp_path: Path) -> None:
    from repo_automation.catalogue import info

    ctx = make_context(tmp_path, github_repository=synthetic.REPO)
    for metric in GitHubCollector(client=make_client()).collect(ctx):
        known = info(metric.name)
        assert known is not None, metric.name
        assert metric.unit == known.unit, metric.name
        assert metric.source == "github"


def test_unreachable_redis_degrades_to_uncached_reads(fake: ClientFakeGitHub,
                                                      make_client: Callable[..., GitHubClient],
                                                      tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # a port nobody listens on
    cache = RedisEtagCache.from_url(f"redis://127.0.0.1:{port}/0")
    values = collect(make_client(cache=cache), tmp_path)
    assert values["github.contributors"] == 5
    assert "ETag cache (Redis) unavailable" in caplog.text


def test_a_redis_url_that_is_not_one_is_a_usage_error(tmp_path: Path) -> None:
    from repo_automation.errors import UsageError

    ctx = make_context(tmp_path, env={"GITHUB_TOKEN": "x", "GITHUB_REPOSITORY": synthetic.REPO,
                                      "REDIS_URL": "http://user:hunter22@cache.example"})
    with pytest.raises(UsageError, match="REDIS_URL is not a Redis URL") as err:
        GitHubClient.from_context(ctx)
    assert "hunter22" not in str(err.value)
