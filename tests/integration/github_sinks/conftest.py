"""Fixtures for the GitHub sink tests: the local GitHub (tests/fakegithub) and a PyGithub client for it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakegithub import FakeGitHub, fake_github, github_spec  # noqa: F401 — fixtures
from tests.fakegithub.clients import pygithub_for


@pytest.fixture
def gh(fake_github: FakeGitHub) -> Any:  # noqa: F811 — the fixture above, by name
    return pygithub_for(fake_github)
