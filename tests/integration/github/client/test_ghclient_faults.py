"""Faults injected by the local GitHub: the run completes, or the source fails with a clear reason — always
within bounded time and a bounded number of requests."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from repo_automation.collectors.github import GitHubCollector
from repo_automation.errors import SourceFailed
from repo_automation.github.client import GitHubClient
from tests.fakegithub import Fault
from tests.fakegithub.repo_data import ClientFakeGitHub
from tests.helpers import make_context
from tests.integration.github.client import synthetic

pytestmark = pytest.mark.integration
GRAPHQL = r"^/graphql$"
CONTRIBUTORS = r"/contributors$"
RUNS = r"/actions/runs$"


def collect(client: GitHubClient, tmp_path: Path) -> dict[str, float]:
    ctx = make_context(tmp_path, github_repository=synthetic.REPO)
    return {m.name: m.value for m in GitHubCollector(client=client).collect(ctx)}


@pytest.mark.parametrize("status", [500, 502])
def test_server_error_once_is_retried(fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient],
                                      tmp_path: Path, status: int) -> None:
    fake.inject(Fault.server_error(status, path=GRAPHQL))
    fake.inject(Fault.server_error(status, path=CONTRIBUTORS))
    client = make_client()
    values = collect(client, tmp_path)
    assert values == pytest.approx(synthetic.EXPECTED)
    assert client.usage.retries == 2 and client.usage.requests == 5


def test_persistent_server_error_fails_the_source_with_the_status(
        fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient], tmp_path: Path) -> None:
    fake.inject(Fault.server_error(502, path=GRAPHQL, times=None))
    client = make_client(max_retries=2)
    with pytest.raises(SourceFailed, match="502"):
        collect(client, tmp_path)
    assert fake.count("POST", "/graphql") == 3  # the first try and 2 retries, no more


def test_secondary_rate_limit_waits_retry_after(fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient],
                                                tmp_path: Path) -> None:
    fake.inject(Fault.secondary_rate_limit(retry_after=1, path=GRAPHQL))
    client = make_client()
    start = time.monotonic()
    values = collect(client, tmp_path)
    assert time.monotonic() - start >= 1.0
    assert values["github.stars"] == 42 and client.usage.waited_s == pytest.approx(1.0)


def test_429_with_retry_after_on_rest(fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient],
                                      tmp_path: Path) -> None:
    fake.inject(Fault.too_many_requests(retry_after=1, path=CONTRIBUTORS))
    values = collect(make_client(), tmp_path)
    assert values["github.contributors"] == 5


def test_secondary_limit_longer_than_we_wait_fails_at_once(
        fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient], tmp_path: Path) -> None:
    fake.inject(Fault.secondary_rate_limit(retry_after=600, path=GRAPHQL))
    start = time.monotonic()
    with pytest.raises(SourceFailed, match=r"secondary rate limit; it resets at .*600s"):
        collect(make_client(max_wait_s=5), tmp_path)
    assert time.monotonic() - start < 3


def test_rate_limit_that_never_lifts_gives_up_after_bounded_waits(
        fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient], tmp_path: Path) -> None:
    fake.inject(Fault.secondary_rate_limit(retry_after=0, path=GRAPHQL, times=None))
    with pytest.raises(SourceFailed, match="still rate limited after 2 waits"):
        collect(make_client(max_retries=2), tmp_path)
    assert fake.count("POST", "graphql") == 3


def test_primary_limit_exhausted_reports_the_reset_time(
        fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient], tmp_path: Path) -> None:
    fake.inject(Fault.primary_exhausted(reset_in=3600, path=GRAPHQL))
    start = time.monotonic()
    with pytest.raises(SourceFailed, match="primary rate limit exhausted; it resets at"):
        collect(make_client(), tmp_path)
    assert time.monotonic() - start < 3
    assert fake.count("POST", "graphql") == 1


def test_primary_limit_resetting_soon_is_waited_out(
        fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient], tmp_path: Path) -> None:
    fake.inject(Fault.primary_exhausted(reset_in=1, path=CONTRIBUTORS, status=429))
    client = make_client()
    values = collect(client, tmp_path)
    assert values["github.contributors"] == 5
    assert 0 < client.usage.waited_s <= 3


def test_primary_limit_on_a_rest_read_omits_only_that_metric(
        fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    fake.inject(Fault.primary_exhausted(reset_in=3600, path=RUNS))
    values = collect(make_client(), tmp_path)
    assert "performance.build_time" not in values and values["github.stars"] == 42
    assert "CI health not measured" in caplog.text and "primary rate limit" in caplog.text


def test_slow_answer_times_out_and_is_retried(fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient],
                                              tmp_path: Path) -> None:
    fake.inject(Fault.slow(2.0, path=GRAPHQL))
    client = make_client(timeout_s=0.5)
    values = collect(client, tmp_path)
    assert values["github.stars"] == 42 and client.usage.retries == 1


def test_server_that_never_answers_fails_within_bounded_time(
        fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient], tmp_path: Path) -> None:
    fake.inject(Fault.slow(2.0, path=GRAPHQL, times=None))
    start = time.monotonic()
    with pytest.raises(SourceFailed, match=r"no answer after 3 attempts \(ReadTimeout\)"):
        collect(make_client(timeout_s=0.3, max_retries=2), tmp_path)
    assert time.monotonic() - start < 3


def test_202_accepted_is_asked_again(fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient],
                                     tmp_path: Path) -> None:
    fake.inject(Fault.accepted(path=CONTRIBUTORS, times=2))
    client = make_client()
    values = collect(client, tmp_path)
    assert values["github.contributors"] == 5 and fake.count("GET", "/contributors") == 3


def test_202_forever_gives_up_after_a_bounded_number(
        fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient], tmp_path: Path) -> None:
    fake.inject(Fault.accepted(path=CONTRIBUTORS, times=None))
    client = make_client(accepted_retries=3)
    with pytest.raises(SourceFailed, match="still computing"):
        client.get_json(f"/repos/{synthetic.REPO}/contributors", {"per_page": 100})
    assert fake.count("GET", "/contributors") == 4


def test_bad_token_is_reported_not_retried(fake: ClientFakeGitHub, make_client: Callable[..., GitHubClient],
                                           tmp_path: Path) -> None:
    from repo_automation.github.auth import TokenAuth
    from repo_automation.redaction import Secret

    with pytest.raises(SourceFailed, match="401 Bad credentials"):
        collect(make_client(auth=TokenAuth(Secret("ghp_wrong"))), tmp_path)
    assert len(fake.requests) == 1
