"""The configuration as typed, frozen sections, built once from the validated document.

Every field is named after its key in the schema and has no default here: `from_document` reads the
document after the schema's defaults were filled in, so the schema is the only place a default lives.
A field the schema gives no default for is optional (`X | None`) and is None when the file leaves it out.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from repo_automation.domain import AlertLevel, GateMode, Severity

T = TypeVar("T")


# tracking.data_sources ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSource:
    required: bool

    @property
    def disabled(self) -> bool:
        """Switched off in the configuration (`enabled: false`)."""
        return False


@dataclass(frozen=True, slots=True, kw_only=True)
class SwitchableSource(DataSource):
    """A data source with an `enabled` switch (coverage has none: it reads files when they exist)."""

    enabled: bool

    @property
    def disabled(self) -> bool:
        return not self.enabled


@dataclass(frozen=True, slots=True, kw_only=True)
class GitSource(SwitchableSource):
    weeks: int


@dataclass(frozen=True, slots=True, kw_only=True)
class GitHubSource(SwitchableSource):
    api_endpoint: str
    metrics: tuple[str, ...]
    build_workflow: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PrometheusAuth:
    type: str
    username: str | None
    password_env: str | None
    token_env: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PrometheusSource(SwitchableSource):
    endpoint: str | None
    metrics: tuple[str, ...]
    queries: Mapping[str, str]
    job: str | None
    selector: str | None
    auth: PrometheusAuth | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SonarQubeSource(SwitchableSource):
    host: str | None
    project_key: str | None
    organization: str | None
    metrics: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseSource(SwitchableSource):
    url_env: str
    queries: Mapping[str, str]
    statement_timeout_seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageSource(DataSource):
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class HistorySource(DataSource):
    """The metrics history: not a collector, but `required` makes its read and, with store-db, its write count."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSources:
    git: GitSource
    github: GitHubSource
    prometheus: PrometheusSource
    sonarqube: SonarQubeSource
    database: DatabaseSource
    coverage: CoverageSource
    history: HistorySource

    def named(self) -> dict[str, DataSource]:
        """Every data source by its key under tracking.data_sources."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Tracking:
    data_sources: DataSources


# scoring, alerts ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Scoring:
    weights: Mapping[str, float]  # category -> weight
    grades: Mapping[str, float]  # letter (A-D) -> lowest overall score


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRules:
    """alerts.critical / alerts.warning."""

    conditions: tuple[str, ...]
    notification_channels: tuple[str, ...]
    escalation_time_minutes: int
    blocking: bool


# automation -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AutoMerge:
    patch: bool
    minor: bool
    major: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityUpdates:
    auto_merge: bool
    notification_channels: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DependencyUpdates:
    enabled: bool
    frequency: str
    auto_merge: AutoMerge
    security_updates: SecurityUpdates
    requirements_files: tuple[str, ...]
    index_url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IgnoreRule:
    id: str
    reason: str
    expires: str | None  # YYYY-MM-DD


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityScanning:
    enabled: bool
    frequency: str
    tools: tuple[str, ...]
    required_tools: tuple[str, ...]
    fail_on_high: bool
    fail_on_critical: bool
    unknown_severity: Severity
    auto_create_issues: bool
    issue_labels: tuple[str, ...]
    paths: tuple[str, ...]
    exclude: tuple[str, ...]
    exclude_extra: tuple[str, ...]
    exclude_output_dir: bool
    exclude_gitignored: bool
    test_paths: tuple[str, ...]
    test_paths_extra: tuple[str, ...]
    count_test_findings: bool
    test_ignore_rules: tuple[str, ...]
    vulnerability_service: str
    osv_url: str | None
    semgrep_config: tuple[str, ...]
    trivy_args: tuple[str, ...]
    timeout_seconds: float
    ignore: tuple[IgnoreRule, ...]
    baseline: str
    pr_mode: bool

    @property
    def excluded(self) -> tuple[str, ...]:
        """Every exclude glob: `exclude` (the defaults, unless replaced) and `exclude_extra`."""
        return (*self.exclude, *self.exclude_extra)

    @property
    def test_globs(self) -> tuple[str, ...]:
        """Every test-code glob: `test_paths` (the defaults, unless replaced) and `test_paths_extra`."""
        return (*self.test_paths, *self.test_paths_extra)


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityGates:
    coverage_minimum: float
    maintainability_rating: str
    reliability_rating: str
    security_rating: str
    complexity_threshold: int


@dataclass(frozen=True, slots=True, kw_only=True)
class GateModes:
    coverage_minimum: GateMode
    complexity_threshold: GateMode


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeQuality:
    enabled: bool
    quality_gates: QualityGates
    auto_create_issues: bool
    improvement_suggestions: bool
    gate_modes: GateModes
    exclude: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TriageRuleSpec:
    keywords: tuple[str, ...]
    paths: tuple[str, ...]
    labels: tuple[str, ...]
    assignees: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueTriage:
    enabled: bool
    rules: tuple[TriageRuleSpec, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Docs:
    badges: bool
    changelog: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Automation:
    dependency_updates: DependencyUpdates
    security_scanning: SecurityScanning
    code_quality: CodeQuality
    issue_triage: IssueTriage
    docs: Docs


# integrations ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Slack:
    enabled: bool
    channels: Mapping[str, str]  # purpose (alerts, deployments, metrics, security) -> channel


@dataclass(frozen=True, slots=True, kw_only=True)
class Pushgateway:
    url: str | None
    job: str
    textfile: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Integrations:
    slack: Slack
    pushgateway: Pushgateway


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """The whole file (`$schema` aside), section by section."""

    tracking: Tracking
    scoring: Scoring
    alerts: Mapping[AlertLevel, AlertRules]
    automation: Automation
    integrations: Integrations


# building -------------------------------------------------------------------------------------------------


class SectionError(LookupError):
    """The schema and these sections disagree (a key without a default read as required): a bug, not input."""


def from_document(cls: type[T], node: Mapping[str, Any], where: str = "$") -> T:
    """`cls` (a section dataclass) from its part of the validated, defaults-filled document."""
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        tp = hints[f.name]
        path = f"{where}.{f.name}"
        if f.name in node:
            values[f.name] = _convert(tp, node[f.name], path)
        elif _optional(tp):
            values[f.name] = None
        else:
            raise SectionError(f"{path}: the schema gives no default, and the code reads it as required")
    return cls(**values)


def _optional(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in args if a is not type(None)]
        return None if value is None else _convert(inner, value, where)
    if origin is tuple:
        return tuple(_convert(args[0], item, f"{where}[{i}]") for i, item in enumerate(value))
    if origin is Mapping:
        key_type, value_type = args
        return types.MappingProxyType({_convert(key_type, k, where): _convert(value_type, v, f"{where}.{k}")
                                       for k, v in value.items()})
    if dataclasses.is_dataclass(tp):
        return from_document(tp, value, where)  # type: ignore[arg-type]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if tp is float:
        return float(value)
    if tp in (str, int, bool) and isinstance(value, tp):
        return value
    raise SectionError(f"{where}: {value!r} is not a {tp}")
