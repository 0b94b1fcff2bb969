"""Fixtures for the maintenance tests: a real package index (pypiserver) and the local GitHub.

The index serves real distributions downloaded once with `pip download --no-deps` into a cache folder kept
between sessions (pytest's cache, else the temp folder); each session starts pypiserver on 127.0.0.1 with
its PyPI fallback off, so nothing ever leaves the machine at test time after that first download.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from repo_automation.github.client import GitHubClient
from tests.fakegithub import FakeGitHub, fake_github, github_spec  # noqa: F401 — fixtures
from tests.fakegithub.clients import client_for
from tests.servers import free_port, running

# patch (pyparsing 3.1.2 -> 3.1.4; 3.2.0rc1 is a pre-release), minor (six), major (idna)
DISTS = ("six==1.16.0", "six==1.17.0", "idna==2.10", "idna==3.7",
         "pyparsing==3.1.2", "pyparsing==3.1.4", "pyparsing==3.2.0rc1")


def _have(folder: Path, spec: str) -> bool:
    name, version = spec.split("==")
    return any(folder.glob(f"{name}-{version}-*.whl")) or any(folder.glob(f"{name}-{version}.tar.gz"))


@pytest.fixture(scope="session")
def dists_dir(request: pytest.FixtureRequest) -> Path:
    cache = getattr(request.config, "cache", None)
    folder = Path(cache.mkdir("maintenance-dists")) if cache else Path(tempfile.gettempdir()) / "ra-maintenance-dists"
    folder.mkdir(parents=True, exist_ok=True)
    for spec in DISTS:  # one by one: pip refuses two versions of one package in one command
        if not _have(folder, spec):
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder), spec],
                           check=True, capture_output=True, timeout=180)
    return folder


@pytest.fixture(scope="session")
def package_index(dists_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The simple-index URL of a pypiserver serving DISTS (no fallback to pypi.org)."""
    port = free_port()
    exe = Path(sys.executable).parent / "pypi-server"
    with running([str(exe), "run", "-i", "127.0.0.1", "-p", str(port), "--disable-fallback", str(dists_dir)],
                 f"http://127.0.0.1:{port}/simple/", tmp_path_factory.mktemp("pypiserver") / "server.log",
                 timeout=15) as server:
        yield server.ready_url


@pytest.fixture
def ghc(fake_github: FakeGitHub) -> Iterator[GitHubClient]:  # noqa: F811 — the fixture imported above, by name
    """The run's GitHubClient aimed at the fake (the sinks read and write through it)."""
    client = client_for(fake_github)
    yield client
    client.close()
