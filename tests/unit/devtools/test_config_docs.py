"""docs/configuration.md is generated from the schema: the committed file must equal the generator's output."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from devtools.config_docs import generate, main, type_of
from repo_automation.catalogue import CATALOGUE
from repo_automation.config import schema

DOCS = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def _keys(node: Mapping[str, Any], path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for key, sub in node.get("properties", {}).items():
        yield f"{path}.{key}", sub
        yield from _keys(sub, f"{path}.{key}")
        if isinstance(sub.get("items"), Mapping):
            yield from _keys(sub["items"], f"{path}.{key}[]")


def test_committed_docs_are_current() -> None:
    assert DOCS.read_text(encoding="utf-8") == generate(), (
        "docs/configuration.md is stale: python -m devtools.config_docs > docs/configuration.md")


def test_every_key_is_documented_with_its_description_and_default() -> None:
    text = generate()
    for path, sub in _keys(schema(), "$"):
        if path == "$.$schema":
            continue
        assert sub.get("description"), f"{path} has no description in schema.json"
        [row] = [line for line in text.splitlines() if line.startswith(f"| `{path}` |")]
        assert sub["description"].replace("|", "\\|") in row
        if "default" in sub and sub.get("type") != "object":
            assert "`" in row.split(" | ")[2], f"{path}: default missing"


def test_rows_show_types_defaults_and_the_catalogue() -> None:
    text = generate()
    assert "| `$.tracking.data_sources.git.weeks` | integer (1-104) | `12` |" in text
    unknown = "string: one of critical, high, medium, low, unknown"
    assert f"| `$.automation.security_scanning.unknown_severity` | {unknown} | `\"high\"` |" in text
    assert "| `$.automation.security_scanning.ignore[].expires` | string (YYYY-MM-DD) |" in text
    assert "| `$.tracking.data_sources.prometheus.queries` | map of string |" in text
    for m in CATALOGUE.values():
        assert f"| `{m.name}` | {m.unit} |" in text
    assert "and_expr   := primary (\"and\" primary)*" in text


def test_type_of_edge_cases() -> None:
    assert type_of({"type": "number", "exclusiveMinimum": 0}) == "number (> 0)"
    assert type_of({"type": "number", "maximum": 5}) == "number (≤ 5)"
    assert type_of({"type": "array", "items": {"type": "string"}, "uniqueItems": True}) == \
        "array (unique items) of string"


def test_check_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text("# old\n", encoding="utf-8")
    assert main(["--check", str(stale)]) == 1
    assert "is stale" in capsys.readouterr().err
    stale.write_text(generate(), encoding="utf-8")
    assert main(["--check", str(stale)]) == 0
