"""Fixtures for the maintenance tests: a real package index (pypiserver) and the local GitHub.

The index serves real distributions downloaded once with `pip download --no-deps` into a cache folder kept
between sessions (pytest's cache, else the temp folder); each session starts pypiserver on 127.0.0.1 with
its PyPI fallback off, so nothing ever leaves the machine at test time after that first download.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from repo_automation.github.client import GitHubClient
from tests.fakegithub import FakeGitHub, fake_github, github_spec  # noqa: F401 — fixtures
from tests.fakegithub.clients import client_for
from tests.servers import free_port, running

# patch (pyparsing 3.1.2 -> 3.1.4; 3.2.0rc1 is a pre-release), minor (six), major (idna); tomli has all three
# buckets above 1.0.0 (1.0.4 is held back: the "newer release" tests add it); jinja2 has advisories
DISTS = ("six==1.16.0", "six==1.17.0", "idna==2.10", "idna==3.7",
         "pyparsing==3.1.2", "pyparsing==3.1.4", "pyparsing==3.2.0rc1",
         "tomli==1.0.0", "tomli==1.0.3", "tomli==1.0.4", "tomli==1.2.3", "tomli==2.0.1",
         "jinja2==2.10", "jinja2==2.10.1", "jinja2==2.11.3")
HELD_BACK = ("tomli-1.0.4",)
RELEASED = datetime(2024, 1, 15, tzinfo=UTC)  # the upload time the per-test index gives every file


def _have(folder: Path, spec: str) -> bool:
    name, version = spec.split("==")
    return any(folder.glob(f"{name}-{version}-*.whl")) or any(folder.glob(f"{name}-{version}.tar.gz")) or any(
        folder.glob(f"{name.capitalize()}-{version}-*.whl"))


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


@dataclass
class LiveIndex:
    """A pypiserver of its own over a folder the test may change: `add` publishes a held-back release,
    `touch` makes one fresh (its file's Last-Modified, the upload time an HTML index can tell, becomes now)."""

    url: str
    folder: Path
    source: Path

    def _files(self, folder: Path, stem: str) -> list[Path]:
        return [f for f in folder.iterdir() if f.name.lower().startswith(stem.lower() + "-")
                or f.name.lower().startswith(stem.lower() + ".tar")]

    def add(self, stem: str, *, fresh: bool = False) -> None:
        for f in self._files(self.source, stem):
            shutil.copy2(f, self.folder / f.name)
            when = time.time() if fresh else RELEASED.timestamp()
            os.utime(self.folder / f.name, (when, when))

    def touch(self, stem: str) -> None:
        now = time.time()
        for f in self._files(self.folder, stem):
            os.utime(f, (now, now))


@pytest.fixture
def live_index(dists_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveIndex]:
    folder = tmp_path_factory.mktemp("live-index")
    for f in dists_dir.iterdir():
        if f.is_file() and not any(f.name.lower().startswith(h + "-") for h in HELD_BACK):
            shutil.copy2(f, folder / f.name)
            os.utime(folder / f.name, (RELEASED.timestamp(), RELEASED.timestamp()))
    port = free_port()
    exe = Path(sys.executable).parent / "pypi-server"
    with running([str(exe), "run", "-i", "127.0.0.1", "-p", str(port), "--disable-fallback", "--backend",
                  "simple-dir", str(folder)], f"http://127.0.0.1:{port}/simple/", folder.parent / "server.log",
                 timeout=15) as server:
        yield LiveIndex(url=server.ready_url, folder=folder, source=dists_dir)
