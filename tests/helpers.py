"""Builders shared by the tests: a RunContext without any environment of the machine leaking in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from repo_automation import config as config_mod
from repo_automation.context import RunContext, build_context
from repo_automation.core.checks import check_config
from repo_automation.settings import from_environment

FIXED_NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def make_context(workspace: Path, *, config: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
                 now: datetime | None = FIXED_NOW, **overrides: Any) -> RunContext:
    """A RunContext for `workspace` with the given config data, environment and setting overrides."""
    environ = dict(env or {})
    settings = from_environment(environ, overrides, workspace=workspace)
    cfg = check_config(config_mod.from_data(dict(config or {})))  # as the engine loads it
    return build_context(settings, cfg, environ, now=now)
