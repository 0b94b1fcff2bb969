"""Fixtures for the GitHub client tests: ClientFakeGitHub (tests/fakegithub) seeded with the synthetic
repository, and a GitHubClient pointed at it with short, bounded retries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from repo_automation.github.auth import TokenAuth
from repo_automation.github.cache import EtagCache
from repo_automation.github.client import GitHubClient, build_session
from repo_automation.redaction import Secret
from tests.fakegithub import github_spec  # noqa: F401 — fixture
from tests.fakegithub.repo_data import ClientFakeGitHub
from tests.integration.github.client import synthetic


@pytest.fixture
def fake(github_spec: object) -> Iterator[ClientFakeGitHub]:  # noqa: F811 — the fixture above, by name
    server = ClientFakeGitHub().start()
    synthetic.seed(server.state)
    try:
        yield server
    finally:
        server.stop()
    assert not server.violations, "requests GitHub would refuse:\n" + "\n".join(server.violations)


@pytest.fixture
def make_client(fake: ClientFakeGitHub) -> Iterator[Callable[..., GitHubClient]]:
    """GitHubClient(...) for the fake, fast backoff; keyword arguments override."""
    made: list[GitHubClient] = []

    def build(cache: EtagCache | None = None, **kw: Any) -> GitHubClient:
        options: dict[str, Any] = {"session": build_session(), "auth": TokenAuth(Secret(fake.token)),
                                   "api_url": fake.url, "cache": cache, "repository": synthetic.REPO,
                                   "timeout_s": 5.0, "backoff_s": 0.05, "max_wait_s": 5.0}
        options.update(kw)
        client = GitHubClient(**options)
        made.append(client)
        return client

    yield build
    for c in made:
        c.session.close()
