"""Fixtures for the GitHub sink tests: the local GitHub (tests/fakegithub), our GitHubClient for it (what the
sinks use) and a PyGithub client (the fake's own tests check it answers PyGithub like GitHub does)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from repo_automation.github.client import GitHubClient
from tests.fakegithub import FakeGitHub, fake_github, github_spec  # noqa: F401 — fixtures
from tests.fakegithub.clients import client_for, pygithub_for


@pytest.fixture
def gh(fake_github: FakeGitHub) -> Any:  # noqa: F811 — the fixture above, by name
    return pygithub_for(fake_github)


@pytest.fixture
def ghc(fake_github: FakeGitHub) -> Iterator[GitHubClient]:  # noqa: F811
    """The run's GitHubClient aimed at the fake (the sinks read and write through it)."""
    client = client_for(fake_github)
    yield client
    client.close()
