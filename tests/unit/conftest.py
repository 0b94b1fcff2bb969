"""Fixtures for the renderer and writer tests: a RunContext on a temp workspace, built without environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from repo_automation import config as config_mod
from repo_automation.context import RunContext
from repo_automation.settings import Settings


def context(workspace: Path, **settings: object) -> RunContext:
    s = Settings(workspace=workspace, **settings)  # type: ignore[arg-type]
    return RunContext(settings=s, config=config_mod.defaults(), workspace=workspace, repository="octo-org/hello-world",
                      sha=None, ref=None, event_name=None)


@pytest.fixture
def ctx(tmp_path: Path) -> RunContext:
    return context(tmp_path)
