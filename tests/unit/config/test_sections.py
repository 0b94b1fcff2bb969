"""The typed configuration sections: built from the schema's defaults, in step with the schema, frozen."""

from __future__ import annotations

import dataclasses
import enum
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from repo_automation import config as config_mod
from repo_automation.config import sections
from repo_automation.domain import AlertLevel, Severity


def _dataclasses(cls: type[Any], seen: set[type[Any]] | None = None) -> Iterator[type[Any]]:
    """Every section class reachable from `cls` (field types, tuple items, mapping values)."""
    seen = set() if seen is None else seen
    if cls in seen:
        return
    seen.add(cls)
    yield cls
    for tp in typing.get_type_hints(cls).values():
        for inner in (tp, *typing.get_args(tp)):
            if dataclasses.is_dataclass(inner):
                yield from _dataclasses(inner, seen)  # type: ignore[arg-type]


def _plain(value: Any) -> Any:
    """A typed value as the JSON the schema writes its defaults in."""
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}  # type: ignore[arg-type]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _object_schema(sch: Mapping[str, Any]) -> Mapping[str, Any]:
    if sch.get("type") == "array":
        return sch["items"]  # type: ignore[no-any-return]
    if "properties" not in sch and isinstance(sch.get("additionalProperties"), dict):
        return sch["additionalProperties"]  # type: ignore[no-any-return]  # a mapping of name -> object
    return sch


def test_no_section_field_has_a_default_of_its_own() -> None:
    """Defaults live in the schema only: a section field with a default would be a second place for one."""
    restated = [f"{cls.__name__}.{f.name}" for cls in _dataclasses(sections.Document)
                for f in dataclasses.fields(cls)
                if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING]
    assert restated == []


def _check_against_schema(cls: type[Any], sch: Mapping[str, Any], where: str) -> Iterator[str]:
    """Disagreements between a section class and its object in the schema."""
    props = {k: v for k, v in sch["properties"].items() if k != "$schema"}
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    if names != set(props):
        yield f"{where}: fields {sorted(names)} but schema keys {sorted(props)}"
        return
    for name, sub in props.items():
        tp, path = hints[name], f"{where}.{name}"
        optional = type(None) in typing.get_args(tp)
        if not optional and "default" not in sub and name not in sch.get("required", ()):
            yield f"{path}: read as always set, but the schema neither defaults nor requires it"
        if optional and "default" in sub:
            yield f"{path}: optional in the code, but the schema gives it a default"
        inner = [a for a in (tp, *typing.get_args(tp)) if dataclasses.is_dataclass(a)]
        if inner:
            yield from _check_against_schema(inner[0], _object_schema(sub), path)


def test_sections_and_schema_name_the_same_keys() -> None:
    """Every key of the schema is a typed field and back; a field read as always set has a default (or is
    required), and an optional field has none, so None means "not set"."""
    top = {k: v for k, v in config_mod.schema()["properties"].items() if k != "$schema"}
    hints = typing.get_type_hints(sections.Document)
    assert set(hints) == set(top)
    alerts = top["alerts"]["properties"]
    assert set(alerts) == {level.value for level in AlertLevel}
    problems = [p for level in AlertLevel
                for p in _check_against_schema(sections.AlertRules, alerts[level], f"$.alerts.{level}")]
    for name in sorted(set(top) - {"alerts"}):
        problems += _check_against_schema(hints[name], top[name], f"$.{name}")
    assert problems == []


def _schema_defaults(sch: Mapping[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, sub in sch.get("properties", {}).items():
        if "default" in sub and sub.get("type") != "object":
            yield (*path, key), sub["default"]
        if sub.get("type") == "object":
            yield from _schema_defaults(sub, (*path, key))


def _at(doc: Any, path: tuple[str, ...]) -> Any:
    node = _plain(doc)
    for key in path:
        node = node[key]
    return node


def test_an_empty_config_gives_the_schema_defaults_in_the_typed_sections() -> None:
    doc = config_mod.document({})
    defaults = list(_schema_defaults(config_mod.schema()))
    assert len(defaults) > 50  # every leaf default of the schema, not a sample
    wrong = {".".join(p): (_at(doc, p), d) for p, d in defaults if _at(doc, p) != d}
    assert wrong == {}


def test_the_config_exposes_the_typed_sections_with_their_defaults(tmp_path: Path) -> None:
    cfg = config_mod.defaults()
    assert cfg.path is None
    assert cfg.security_scanning.tools == ("bandit", "pip-audit", "safety")
    assert cfg.security_scanning.unknown_severity is Severity.HIGH
    assert cfg.data_sources.database.url_env == "APP_DATABASE_URL"
    assert cfg.data_sources.prometheus.endpoint is None  # no default in the schema: not set
    assert cfg.alerts[AlertLevel.WARNING].escalation_time_minutes == 60
    assert cfg.code_quality.quality_gates.complexity_threshold == 10
    assert cfg.pushgateway.job == "repo_automation"
    assert config_mod.load(tmp_path / "absent.json") == cfg


def test_what_the_file_sets_wins_and_the_rest_keeps_its_default() -> None:
    cfg = config_mod.from_data({
        "automation": {"security_scanning": {"tools": ["semgrep"], "ignore": [{"id": "B101", "reason": "tests"}]}},
        "tracking": {"data_sources": {"prometheus": {"endpoint": "http://prom:9090"}}},
    })
    assert cfg.security_scanning.tools == ("semgrep",)
    assert cfg.security_scanning.ignore == (sections.IgnoreRule(id="B101", reason="tests", expires=None),)
    assert cfg.security_scanning.fail_on_high is True
    assert cfg.data_sources.prometheus.endpoint == "http://prom:9090"
    assert cfg.data_sources.prometheus.enabled is True


def test_sections_are_frozen() -> None:
    cfg = config_mod.from_data({"tracking": {"data_sources": {"database": {"queries": {"app.x": "SELECT 1"}}}}})
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.security_scanning.tools = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.data_sources.database.queries["app.y"] = "SELECT 2"  # type: ignore[index]


def test_a_key_the_schema_neither_defaults_nor_makes_optional_is_a_clear_bug() -> None:
    with pytest.raises(sections.SectionError, match=r"\$\.weeks: the schema gives no default"):
        sections.from_document(sections.GitSource, {"enabled": True, "required": False})
