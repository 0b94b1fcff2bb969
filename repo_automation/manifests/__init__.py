"""Dependency manifests, one model for the audit and for the updates.

Requirements files (`requirements*.txt`, `requirements/**/*.txt`, `constraints*.txt`) are read as pip reads
them (one logical-line reader, `packaging` for each requirement); `pyproject.toml` through `tomlkit`
(PEP 621 dependencies and optional-dependencies, PEP 735 dependency-groups, Poetry's
`tool.poetry.*dependencies`), so a rewrite touches the pinned value alone and never a comment that mentions
it; lock files (`uv.lock`, `poetry.lock`, `pylock*.toml`) are read for the audit. One definition of
"pinned" (`model.pinned_version`: `==` without a wildcard, or `===`) serves everything.
"""

from __future__ import annotations

from repo_automation.manifests.model import Manifest, Pin, Unpinned, canonical, pinned_version
from repo_automation.manifests.read import (
    find_manifests,
    is_lock,
    is_updatable,
    lock_refresh,
    parse_manifest,
    pin_lines,
    rewrite_pin,
)

__all__ = ["Manifest", "Pin", "Unpinned", "canonical", "find_manifests", "is_lock", "is_updatable",
           "lock_refresh", "parse_manifest", "pin_lines", "pinned_version",
           "rewrite_pin"]
