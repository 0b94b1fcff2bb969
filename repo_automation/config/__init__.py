"""Project configuration: `.github/project-metrics.json`, validated by the JSON Schema shipped here.

A missing file means all defaults. A bad file raises ConfigError listing every problem with its JSON path;
nothing runs and nothing is written.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from repo_automation.config import sections
from repo_automation.config.sections import (
    AlertRules,
    Channel,
    CodeQuality,
    DataSources,
    DependencyUpdates,
    Docs,
    Document,
    IssueTriage,
    Pushgateway,
    Scoring,
    SecurityScanning,
    Slack,
)
from repo_automation.domain import AlertLevel
from repo_automation.errors import ConfigError


@cache
def schema() -> dict[str, Any]:
    """The configuration JSON Schema (draft 2020-12)."""
    text = resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """The validated configuration: typed sections whose every default comes from the schema."""

    path: Path | None
    data_sources: DataSources
    scoring: Scoring
    alerts: Mapping[AlertLevel, AlertRules]
    dependency_updates: DependencyUpdates
    security_scanning: SecurityScanning
    code_quality: CodeQuality
    issue_triage: IssueTriage
    docs: Docs
    slack: Slack
    channels: Mapping[str, Channel]
    pushgateway: Pushgateway

    @classmethod
    def from_document(cls, doc: Document, *, path: Path | None) -> Config:
        auto, integrations = doc.automation, doc.integrations
        return cls(path=path, data_sources=doc.tracking.data_sources, scoring=doc.scoring, alerts=doc.alerts,
                   dependency_updates=auto.dependency_updates, security_scanning=auto.security_scanning,
                   code_quality=auto.code_quality, issue_triage=auto.issue_triage, docs=auto.docs,
                   slack=integrations.slack, channels=integrations.channels,
                   pushgateway=integrations.pushgateway)


def json_path(parts: Any) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def apply_defaults(node: Any, sch: Mapping[str, Any]) -> Any:
    """Fill every missing key that has a default in the schema, recursively (on a copy)."""
    if isinstance(node, dict) and sch.get("type") == "object":
        out = dict(node)
        for key, sub in sch.get("properties", {}).items():
            if key not in out and "default" in sub:
                out[key] = copy.deepcopy(sub["default"])
            if key in out:
                out[key] = apply_defaults(out[key], sub)
        extra = sch.get("additionalProperties")
        if isinstance(extra, dict):
            for key in list(out):
                if key not in sch.get("properties", {}):
                    out[key] = apply_defaults(out[key], extra)
        return out
    if isinstance(node, list) and isinstance(sch.get("items"), dict):
        return [apply_defaults(item, sch["items"]) for item in node]
    return node


def validate(data: Any) -> list[str]:
    """Every schema problem as 'JSON path: message', sorted by path."""
    import jsonschema  # lazily: keeps --help fast

    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    problems = []
    for err in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        problems.append(f"{json_path(err.absolute_path)}: {_message(err)}")
    return problems


_FORMAT_HINTS = {"date": "a date (YYYY-MM-DD)", "uri": "a URL"}


def _message(err: Any) -> str:
    """jsonschema's message, made readable where it shows schema internals (formats, URL patterns)."""
    if err.validator == "format":
        return f"{err.instance!r} is not {_FORMAT_HINTS.get(err.validator_value, repr(err.validator_value))}"
    if err.validator == "pattern" and str(err.validator_value).startswith("^https?://"):
        return f"{err.instance!r} is not an http:// or https:// URL"
    return str(err.message)


def document(data: Any, path: Path | None = None) -> Document:
    """Raw data (already parsed JSON) validated against the schema, its defaults filled in, as typed sections."""
    problems = validate(data)
    if problems:
        where = str(path) if path else "configuration"
        raise ConfigError(f"{where} is not valid ({len(problems)} problem(s)):", problems)
    return sections.from_document(Document, apply_defaults(data, schema()))


def from_data(data: Any, path: Path | None = None) -> Config:
    """Validate raw data (already parsed JSON) against the schema and build the Config, defaults filled in.

    What only the core can check (alert conditions, scoring, required sources) is `core.checks.check_config`,
    which the engine runs right after loading."""
    doc = document(data, path)
    return Config.from_document(doc, path=path)


@cache
def defaults() -> Config:
    """The configuration of a repository without a configuration file: the schema's defaults."""
    return from_data({}, None)


def load(path: Path, *, required: bool = False) -> Config:
    """Load and validate a config file. Missing: defaults (or an error when `required`)."""
    if not path.exists():
        if required:
            raise ConfigError(f"configuration file not found: {path}")
        return defaults()
    if path.is_dir():
        raise ConfigError(f"configuration path is a folder, not a file: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read configuration file {path}: {e}") from None
    data = parse_json(text, path)
    return from_data(data, path)


MAX_DEPTH = 32  # the schema nests 6 levels; anything far deeper is a mistake or an attack, not a config


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows (use a finite number)")


def parse_json(text: str, path: Path) -> Any:
    """Standard JSON only: NaN/Infinity (Python's extension) and nesting deeper than MAX_DEPTH are refused with
    a ConfigError, never a traceback."""
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"{path} is not valid JSON:", [f"$: line {e.lineno}, column {e.colno}: {e.msg}"]
        ) from None
    except ValueError as e:  # parse_constant: NaN, Infinity, -Infinity
        raise ConfigError(f"{path} is not valid JSON:", [f"$: {e}"]) from None
    except RecursionError:
        raise ConfigError(f"{path} is not a usable configuration:",
                          [f"$: nested more than {MAX_DEPTH} levels deep"]) from None
    if _depth(data) > MAX_DEPTH:
        raise ConfigError(f"{path} is not a usable configuration:", [f"$: nested more than {MAX_DEPTH} levels deep"])
    return data


def _depth(data: Any) -> int:
    """How deeply objects and arrays nest (iteratively: a deep document must not exhaust the stack here)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                return level
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest
