"""Production wiring (GitHubClient.from_context, connect, the run's stages): token and GitHub App auth, GHES
URLs, skip reasons, one client per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from repo_automation.collectors.github import GitHubCollector
from repo_automation.context import RunContext
from repo_automation.domain import Status
from repo_automation.errors import UsageError
from repo_automation.github.auth import AppAuth, TokenAuth
from repo_automation.github.client import GitHubClient, connect
from repo_automation.pipeline import Stages, measure
from repo_automation.sinks.github.base import GitHubSink
from repo_automation.wiring import build_stages, release
from tests.fakegithub.repo_data import APP_ID, ClientFakeGitHub, data_for
from tests.helpers import make_context
from tests.integration.github.client import synthetic

pytestmark = pytest.mark.integration


def rsa_pem() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def run_collector(tmp_path: Path, env: dict[str, str]) -> tuple[dict[str, float], list[object]]:
    ctx = make_context(tmp_path, env={"GITHUB_REPOSITORY": synthetic.REPO, **env})
    metrics, _, results = measure(Stages(collectors=[GitHubCollector()]), ctx)
    return {m.name: m.value for m in metrics}, list(results)


def installed_app_context(fake: ClientFakeGitHub, tmp_path: Path) -> RunContext:
    """A run configured as a GitHub App (a fresh key pair, the fake holding the public half) that is installed
    on synthetic.REPO as installation 77."""
    private, public = rsa_pem()
    fake.app_public_key = public
    data_for(fake.state, synthetic.REPO).installation_id = 77
    return make_context(tmp_path, env={"GITHUB_API_URL": fake.url, "GITHUB_APP_ID": APP_ID,
                                       "GITHUB_APP_PRIVATE_KEY": private, "GITHUB_REPOSITORY": synthetic.REPO})


def test_token_from_the_environment(fake: ClientFakeGitHub, tmp_path: Path) -> None:
    values, _ = run_collector(tmp_path, {"GITHUB_API_URL": fake.url, "GITHUB_TOKEN": fake.token})
    assert values["github.stars"] == 42
    assert (tmp_path / ".repo-automation" / "etag-cache.json").is_file()


def test_ghes_urls(fake: ClientFakeGitHub, tmp_path: Path) -> None:
    """GHES: REST under /api/v3, GraphQL at /api/graphql (derived, GITHUB_GRAPHQL_URL not set)."""
    values, _ = run_collector(tmp_path, {"GITHUB_API_URL": fake.url + "/api/v3", "GITHUB_TOKEN": fake.token})
    assert values["github.contributors"] == 5 and values["github.stars"] == 42
    assert "/api/graphql" in fake.raw_paths
    assert f"/api/v3/repos/{synthetic.REPO}/contributors" in fake.raw_paths
    assert not any(p.startswith("/repos/") or p == "/graphql" for p in fake.raw_paths)


def test_explicit_graphql_url_wins(fake: ClientFakeGitHub, tmp_path: Path) -> None:
    ctx = make_context(tmp_path, env={"GITHUB_API_URL": fake.url + "/api/v3", "GITHUB_TOKEN": fake.token,
                                      "GITHUB_GRAPHQL_URL": fake.url + "/graphql", "GITHUB_REPOSITORY": synthetic.REPO})
    client = GitHubClient.from_context(ctx)
    assert client.graphql_url == fake.url + "/graphql" and client.api_url == fake.url + "/api/v3"


def test_github_app_auth_buys_an_installation_token(fake: ClientFakeGitHub, tmp_path: Path) -> None:
    ctx = installed_app_context(fake, tmp_path)
    client = GitHubClient.from_context(ctx)
    assert isinstance(client.auth, AppAuth)
    values = {m.name: m.value for m in GitHubCollector(client=client).collect(ctx)}
    assert values["github.stars"] == 42 and values["github.contributors"] == 5
    paths = [(r.method, r.path, r.status) for r in fake.requests]
    assert paths[:2] == [("GET", f"/repos/{synthetic.REPO}/installation", 200),
                         ("POST", "/app/installations/77/access_tokens", 201)]
    assert sum(1 for p in paths if "access_tokens" in p[1]) == 1  # bought once, reused
    assert client.auth.token() in fake.state.__dict__["installation_tokens"]
    assert fake.state.token not in repr(client.auth) and "BEGIN" not in repr(client.auth)


def test_installation_token_is_masked_in_the_log(fake: ClientFakeGitHub, tmp_path: Path) -> None:
    import logging

    from repo_automation.redaction import MaskingFilter

    ctx = installed_app_context(fake, tmp_path)
    handler, mask = logging.NullHandler(), MaskingFilter()
    handler.addFilter(mask)
    logging.getLogger("repo_automation").addHandler(handler)
    try:
        token = GitHubClient.from_context(ctx).auth.token()  # type: ignore[union-attr]
    finally:
        logging.getLogger("repo_automation").removeHandler(handler)
    assert mask.redact(f"token {token} leaked") == "token *** leaked"


def test_the_wiring_hands_one_client_to_the_collector_and_every_github_sink(
        fake: ClientFakeGitHub, tmp_path: Path) -> None:
    """One client per run: one installation token, one ETag cache (saved when the run releases its stages)."""
    ctx = installed_app_context(fake, tmp_path)
    stages = build_stages(ctx)
    (collector,) = [c for c in stages.collectors if isinstance(c, GitHubCollector)]
    github_sinks = [s for s in stages.sinks if isinstance(s, GitHubSink)]
    assert collector.client is not None and len(github_sinks) == 6
    with_client = [s for s in github_sinks if s.client is not None]
    assert with_client and all(s.client is collector.client for s in with_client)  # the upkeep sinks, here
    collector.collect(ctx)
    (tmp_path / ".repo-automation" / "etag-cache.json").unlink()  # the collector saved it; the release saves again
    collector.client.get(f"/repos/{synthetic.REPO}/labels")  # what a sink reads, with the same token
    release(stages)
    assert fake.count("POST", "access_tokens") == 1
    assert (tmp_path / ".repo-automation" / "etag-cache.json").is_file()
    (next_run,) = [c for c in build_stages(ctx).collectors if isinstance(c, GitHubCollector)]
    assert next_run.client is not collector.client  # a new run, a new client


def test_github_app_with_the_wrong_key_fails_clearly(fake: ClientFakeGitHub, tmp_path: Path) -> None:
    fake.app_public_key = rsa_pem()[1]
    data_for(fake.state, synthetic.REPO).installation_id = 77
    _, results = run_collector(tmp_path, {"GITHUB_API_URL": fake.url, "GITHUB_APP_ID": APP_ID,
                                          "GITHUB_APP_PRIVATE_KEY": rsa_pem()[0]})
    (result,) = results
    assert result.status is Status.FAILED  # type: ignore[attr-defined]
    assert "GitHub App authentication" in result.reason and "401" in result.reason  # type: ignore[attr-defined]


def test_github_app_not_installed_says_so(fake: ClientFakeGitHub, tmp_path: Path) -> None:
    private, public = rsa_pem()
    fake.app_public_key = public
    _, (result,) = run_collector(tmp_path, {"GITHUB_API_URL": fake.url, "GITHUB_APP_ID": APP_ID,
                                            "GITHUB_APP_PRIVATE_KEY": private})
    assert result.status is Status.FAILED  # type: ignore[attr-defined]
    assert "is the app installed on this repository?" in result.reason  # type: ignore[attr-defined]


def test_no_credentials_or_no_repository_skips_with_the_reason(tmp_path: Path) -> None:
    _, (no_token,) = run_collector(tmp_path, {})
    assert no_token.status is Status.SKIPPED and "GITHUB_TOKEN" in no_token.reason  # type: ignore[attr-defined]
    ctx = make_context(tmp_path, env={"GITHUB_TOKEN": "x"})
    _, _, (no_repo,) = measure(Stages(collectors=[GitHubCollector()]), ctx)
    assert no_repo.status is Status.SKIPPED and "GITHUB_REPOSITORY" in no_repo.reason


def test_without_a_client_the_run_reports_why(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, env={"GITHUB_REPOSITORY": synthetic.REPO})
    client, why = connect(ctx)
    assert client is None
    collector = GitHubCollector.from_context(ctx, client=client, unavailable=why)
    _, _, (result,) = measure(Stages(collectors=[collector]), ctx)
    assert result.status is Status.SKIPPED and "no GitHub credentials" in result.reason
    with pytest.raises(UsageError):
        connect(make_context(tmp_path, env={"GITHUB_APP_ID": "1", "GITHUB_REPOSITORY": synthetic.REPO}))


def test_disabled_in_configuration_skips(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, config={"tracking": {"data_sources": {"github": {"enabled": False}}}},
                       env={"GITHUB_TOKEN": "x", "GITHUB_REPOSITORY": synthetic.REPO})
    _, _, (result,) = measure(Stages(collectors=[GitHubCollector()]), ctx)
    assert result.status is Status.SKIPPED and "enabled" in result.reason


def test_half_an_app_configuration_is_a_usage_error(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, env={"GITHUB_APP_ID": "123", "GITHUB_REPOSITORY": synthetic.REPO})
    with pytest.raises(UsageError, match="github-app-private-key"):
        GitHubClient.from_context(ctx)
    ctx = make_context(tmp_path, env={"GITHUB_APP_ID": "my-app", "GITHUB_APP_PRIVATE_KEY": "k",
                                      "GITHUB_REPOSITORY": synthetic.REPO})
    with pytest.raises(UsageError, match="numeric"):
        GitHubClient.from_context(ctx)


def test_token_never_shows_in_repr(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, env={"GITHUB_TOKEN": "ghp_secretvalue123", "GITHUB_REPOSITORY": synthetic.REPO})
    client = GitHubClient.from_context(ctx)
    assert isinstance(client.auth, TokenAuth)
    assert "ghp_secretvalue123" not in repr(client.auth) + repr(vars(client))


def test_configured_api_endpoint_is_used_when_github_api_url_is_not_set(fake: ClientFakeGitHub,
                                                                        tmp_path: Path) -> None:
    ctx = make_context(tmp_path, config={"tracking": {"data_sources": {"github": {
        "api_endpoint": fake.url + "/api/v3"}}}}, env={"GITHUB_TOKEN": fake.token, "GITHUB_REPOSITORY": synthetic.REPO})
    client = GitHubClient.from_context(ctx)
    assert (client.api_url, client.graphql_url) == (fake.url + "/api/v3", fake.url + "/api/graphql")
    values = {m.name: m.value for m in GitHubCollector(client=client).collect(ctx)}
    assert values["github.stars"] == 42
