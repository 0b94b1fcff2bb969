"""Fixtures for the GitHub sink tests: the local GitHub (tests/fakegithub) and a PyGithub client for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakegithub import FakeGitHub, fake_github, github_spec  # noqa: F401 — fixtures
from tests.fakegithub.clients import pygithub_for


@pytest.fixture
def gh(fake_github: FakeGitHub) -> Any:  # noqa: F811 — the fixture above, by name
    return pygithub_for(fake_github)


@pytest.fixture
def ghc(fake_github: FakeGitHub) -> Iterator[Any]:  # noqa: F811
    """A GitHubClient aimed at the fake (the sinks read through it), with an in-memory ETag cache."""
    from repo_automation.github.auth import TokenAuth
    from repo_automation.github.cache import MemoryEtagCache
    from repo_automation.github.client import GitHubClient, build_session
    from repo_automation.redaction import Secret

    client = GitHubClient(session=build_session(), auth=TokenAuth(Secret(fake_github.token)), api_url=fake_github.url,
                          cache=MemoryEtagCache(), repository="octo-org/hello-world", timeout_s=5.0, backoff_s=0.05,
                          max_wait_s=5.0)
    yield client
    client.close()
