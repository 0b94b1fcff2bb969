"""One place for each default: the configuration schema. The package must not spell a schema default again.

Only defaults distinctive enough to be recognised are checked: lists, URLs and environment-variable names
(a `12` or `"high"` in the code can mean anything). Config has no path lookup (`get("a", "b", default=…)`)
left to restate one in: mypy holds every reader to the typed sections.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from repo_automation import config as config_mod

PACKAGE = Path(__file__).resolve().parents[2] / "repo_automation"
# The GITHUB_API_URL setting's own default (settings.py, github/client.py) is the same URL as the config's
# api_endpoint default, but a different input with its own precedence (GITHUB_API_URL wins when set).
OTHER_INPUTS = {"https://api.github.com"}


def _distinctive(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value)
    return isinstance(value, str) and bool(re.match(r"https?://|[A-Z][A-Z0-9]*_[A-Z0-9_]+$", value))


def _defaults(sch: Mapping[str, Any], path: str = "$") -> Iterator[tuple[str, Any]]:
    if "default" in sch and _distinctive(sch["default"]) and str(sch["default"]) not in OTHER_INPUTS:
        yield path, sch["default"]
    for key, sub in sch.get("properties", {}).items():
        yield from _defaults(sub, f"{path}.{key}")
    if isinstance(sch.get("items"), dict):
        yield from _defaults(sch["items"], f"{path}[]")


def _literals(tree: ast.AST) -> Iterator[tuple[int, Any]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, (ast.Tuple, ast.List)) and node.elts and all(
                isinstance(e, ast.Constant) for e in node.elts):
            yield node.lineno, [e.value for e in node.elts]  # type: ignore[attr-defined]


def test_the_check_knows_the_defaults_it_looks_for() -> None:
    found = dict(_defaults(config_mod.schema()))
    assert found["$.tracking.data_sources.database.url_env"] == "APP_DATABASE_URL"
    assert found["$.automation.security_scanning.exclude"][:2] == [".venv", "venv"]
    assert len(found) >= 7


def test_no_schema_default_is_spelled_in_the_package() -> None:
    defaults = list(_defaults(config_mod.schema()))
    restated = []
    for file in sorted(PACKAGE.rglob("*.py")):
        for line, value in _literals(ast.parse(file.read_text(encoding="utf-8"))):
            restated += [f"{file.relative_to(PACKAGE.parent)}:{line}: {value!r} is the default of {path}"
                         for path, default in defaults if value == default]
    assert restated == []
