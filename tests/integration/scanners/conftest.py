"""Fixtures for the scanner tests: the local OSV server and a fresh copy of the fixture project."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakeosv import FakeOSV
from tests.integration.scanners.scanning import FIXTURE


@pytest.fixture
def osv() -> Iterator[FakeOSV]:
    with FakeOSV() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh copy of tests/data/scan_fixture (tests may edit it)."""
    dest = tmp_path / "project"
    shutil.copytree(FIXTURE, dest)
    return dest
