"""A local GitHub for tests: `FakeGitHub` (a server on 127.0.0.1 validating every request against GitHub's
OpenAPI description), `Fault` (injectable failures) and the pytest fixture `fake_github`.

Use the fixture by importing it into a conftest.py: `from tests.fakegithub import fake_github  # noqa: F401`.
Its finaliser fails the test when any request was one GitHub would have refused.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakegithub.faults import Fault
from tests.fakegithub.server import FakeGitHub, Recorded
from tests.fakegithub.spec import openapi

__all__ = ["FakeGitHub", "Fault", "Recorded", "fake_github", "github_spec"]


@pytest.fixture(scope="session")
def github_spec() -> object:
    """GitHub's REST description, loaded once per test session (about 0.4 s)."""
    return openapi()


@pytest.fixture
def fake_github(github_spec: object) -> Iterator[FakeGitHub]:
    """A started FakeGitHub with one repository, octo-org/hello-world; fails the test on any violation."""
    server = FakeGitHub().start()
    server.state.add_repo("octo-org/hello-world")
    try:
        yield server
    finally:
        server.stop()
    assert not server.violations, "requests GitHub would refuse:\n" + "\n".join(server.violations)
