"""Domain values shared by every stage. All frozen: a RunReport is one immutable value.

Stages convert external data (JSON, tool output, API answers) into these types at the edge.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Higher is worse; UNKNOWN ranks lowest (policy decides how to treat it)."""
        return {"critical": 4, "high": 3, "medium": 2, "low": 1, "unknown": 0}[self.value]


class AlertLevel(enum.StrEnum):
    """The alert levels of `alerts` in the configuration."""

    CRITICAL = "critical"
    WARNING = "warning"


class FindingState(enum.StrEnum):
    """Where a finding stands: PR mode splits active into new / existing / fixed; policy ignores or baselines."""

    ACTIVE = "active"
    NEW = "new"
    EXISTING = "existing"
    FIXED = "fixed"
    IGNORED = "ignored"
    BASELINE = "baseline"


class FindingScope(enum.StrEnum):
    """Which code a finding is in: the package's own, or test code (tests, docs, examples, fixtures:
    `security_scanning.test_paths`), reported apart and not counted unless the config says so."""

    MAIN = "main"
    TEST = "test"


class SourceKind(enum.StrEnum):
    """What kind of stage a SourceResult reports on."""

    COLLECTOR = "collector"
    SCANNER = "scanner"
    GATE = "gate"
    SINK = "sink"
    HISTORY = "history"


class Status(enum.StrEnum):
    """Outcome of one source (collector, scanner, gate, sink)."""

    OK = "ok"
    PARTIAL = "partial"  # ran, and some of its parts failed: what worked is kept, the reason names what did not
    SKIPPED = "skipped"
    FAILED = "failed"


class GateMode(enum.StrEnum):
    """How a coverage or complexity gate judges (`automation.code_quality.gate_modes`)."""

    RATCHET = "ratchet"  # missing the threshold fails only when the measure got worse than the baseline
    ABSOLUTE = "absolute"  # the threshold alone decides


class GateScope(enum.StrEnum):
    """What a gate result judges: the whole repository, or the change a pull request makes."""

    REPOSITORY = "repository"
    CHANGE = "change"


@dataclass(frozen=True, slots=True, kw_only=True)
class Metric:
    """One measured value. `name` is a catalogue name such as `security.critical_vulnerabilities`."""

    name: str
    value: float
    source: str
    unit: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    # what the value rests on, in words: its window and sample size ("2 commits by 1 author in 365 days"),
    # shown beside it in the Markdown and the JSON; the metadata holds the same as numbers
    basis: str = ""


def printable_path(path: str) -> str:
    """A path safe to publish. A file name that is not UTF-8 reaches us with its undecodable bytes as
    surrogates (os.fsdecode, git's output decoded with surrogateescape), which no report, issue or SARIF file
    can hold: each such byte is shown as `\\xNN`. A UTF-8 path is returned unchanged."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    """Where a finding is: a repo-relative POSIX path, lines 1-based (None when unknown)."""

    path: str
    start_line: int | None = None
    end_line: int | None = None
    start_column: int | None = None
    snippet: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One problem found by a scanner, normalised. `fingerprint` is stable across runs."""

    tool: str
    rule_id: str
    severity: Severity
    title: str
    fingerprint: str
    message: str = ""
    confidence: str | None = None
    cwe: tuple[str, ...] = ()
    location: Location | None = None
    package: str | None = None
    version: str | None = None
    fixed_versions: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()  # advisory id first, then aliases (CVE-…, GHSA-…, PYSEC-…)
    help_uri: str | None = None
    state: FindingState = FindingState.ACTIVE  # PR mode and policy change it
    note: str | None = None  # why it is ignored, expired-ignore notice, …
    scope: FindingScope = FindingScope.MAIN  # test code by path (scanners.interface.ToolScanner.scoped)

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", FindingState(self.state))  # "new" given as text is the member
        object.__setattr__(self, "scope", FindingScope(self.scope))


@dataclass(frozen=True, slots=True, kw_only=True)
class GateResult:
    """A quality gate's verdict. `passed` is None when the gate is inconclusive (inputs missing)."""

    name: str
    passed: bool | None
    actual: float | str | None
    threshold: float | str | None
    message: str
    details: tuple[str, ...] = ()  # e.g. the worst offenders of a complexity gate
    mode: GateMode = GateMode.ABSOLUTE
    scope: GateScope = GateScope.REPOSITORY  # on a pull request only CHANGE results can fail its check
    baseline: str | None = None  # what a ratchet compared with, e.g. "last stored run (2026-05-01): 3"
    suggestions: tuple[str, ...] = ()  # concrete next steps (automation.code_quality.improvement_suggestions)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", GateMode(self.mode))
        object.__setattr__(self, "scope", GateScope(self.scope))


REASON_MAX = 300  # characters of a reason: one table cell
DETAIL_MAX = 4096  # characters of a reason's full text, kept in the JSON report only


def one_line(text: str, limit: int = REASON_MAX) -> str:
    """`text` as one line: its first line, with its last one after ` … ` when there are several (a tool's
    traceback ends with the error that matters), within `limit` characters by cutting its middle (the start
    says what failed, the end how it ended)."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    line = lines[0] if len(lines) == 1 else f"{lines[0]} … {lines[-1]}"
    if len(line) <= limit:
        return line
    head = (limit - 3) // 2
    return f"{line[:head]} … {line[-(limit - 3 - head):]}"


def truncated(text: str, limit: int = DETAIL_MAX) -> str:
    """`text` within `limit` characters: its start and its end, with how much was cut between them."""
    text = text.strip()
    if len(text) <= limit:
        return text
    keep = (limit - 40) // 2
    return f"{text[:keep]}\n… [{len(text) - 2 * keep} characters cut] …\n{text[-keep:]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceResult:
    """How one stage went: status, why, and how long it took.

    `reason` is always one line (a table cell); the full text behind it, when there is more (a tool's
    stderr, a traceback, every failed query), is `detail`, truncated to DETAIL_MAX, for the JSON report
    only. A multi-line or overlong reason given here is split that way."""

    name: str
    kind: SourceKind
    status: Status
    reason: str = ""
    detail: str = ""
    duration_s: float = 0.0
    nothing_to_do: bool = False  # skipped because its scope was empty (errors.NothingToScan), not a gap
    notices: tuple[str, ...] = ()  # what it told the reader (stages.Noted); the report lists them in `notices`

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", SourceKind(self.kind))
        object.__setattr__(self, "status", Status(self.status))
        short = one_line(self.reason)
        detail = self.detail or (self.reason if short != self.reason.strip() else "")
        object.__setattr__(self, "reason", short)
        object.__setattr__(self, "detail", truncated(detail) if detail.strip() != short else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """A fired alert rule."""

    level: AlertLevel
    condition: str
    channels: tuple[str, ...]
    values: Mapping[str, float]  # metric name -> value that made the condition true
    escalation_time_minutes: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", AlertLevel(self.level))


@dataclass(frozen=True, slots=True, kw_only=True)
class UnevaluatedRule:
    """An alert rule that ended unknown: a metric it reads was not measured (neither fired nor passed)."""

    level: str
    condition: str
    missing: tuple[str, ...]

    @property
    def message(self) -> str:
        return f"not evaluated: {', '.join(self.missing)} missing"

    @property
    def notice(self) -> str:
        """One line, e.g. `critical alert not evaluated: reliability.uptime missing (…)`."""
        return f"{self.level} alert {self.message} ({self.condition})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """Did the policy hold? Decided once, in the pure core (core/verdict.py), and carried by the RunReport.

    `enforced` False: fail-on-policy is off, so a failed policy is reported but the run still succeeds."""

    passed: bool
    reasons: tuple[str, ...] = ()
    enforced: bool = True
    context: tuple[str, ...] = ()  # on a pull request: repository-wide gate failures, shown but not judged
    context_gates: tuple[str, ...] = ()  # the names of those gates

    @property
    def exit_code(self) -> int:
        """0 when the policy held or is not enforced, else 1."""
        return 0 if self.passed or not self.enforced else 1

    @property
    def conclusion(self) -> str:
        """A check-run conclusion: success, failure, or neutral for a failure that is not enforced."""
        if self.passed:
            return "success"
        return "failure" if self.enforced else "neutral"


@dataclass(frozen=True, slots=True, kw_only=True)
class CategoryScore:
    """One health category. `score` None means inconclusive: `missing` says which inputs were absent."""

    name: str
    score: float | None
    inputs: Mapping[str, float]
    missing: tuple[str, ...] = ()
    formula: str = ""
    notes: tuple[str, ...] = ()  # partial evidence behind a score, e.g. "pip-audit failed: …"


@dataclass(frozen=True, slots=True, kw_only=True)
class Health:
    overall: float | None
    grade: str | None
    categories: Mapping[str, CategoryScore]
    weights: Mapping[str, float] = field(default_factory=dict)
    partial: tuple[str, ...] = ()  # what the scored categories did not see, short: "pip-audit failed"

    def measured(self) -> tuple[int, int, float]:
        """(scored categories, categories that weigh, share of the weight scored 0-1) for the headline; a
        category of weight 0 counts in neither."""
        weighing = [name for name in self.categories if self.weights.get(name, 1.0) > 0]
        scored = [name for name in weighing if self.categories[name].score is not None]
        total = sum(self.weights.get(name, 1.0) for name in weighing)
        share = sum(self.weights.get(name, 1.0) for name in scored) / total if total > 0 else 0.0
        return len(scored), len(weighing), share


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricChange:
    """A metric compared with the history store: previous run and 30 days ago."""

    name: str
    value: float
    previous: float | None
    delta_previous: float | None
    thirty_days_ago: float | None
    delta_30d: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TrendPoint:
    timestamp: datetime
    overall: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    changes: tuple[MetricChange, ...] = ()
    trend: tuple[TrendPoint, ...] = ()  # the stored scored runs, then this run's own point when it was scored
    stored_runs: int = 0  # scored runs the store holds before this one (the trend's stored points)
    storing: bool = False  # this run is stored too (--store-db); without it, nothing is written


class ChangeKind(enum.StrEnum):
    """A change the automation made to the repository, counted by type in `automation_changes_total{type}`."""

    ISSUE_CREATED = "issue_created"
    ISSUE_UPDATED = "issue_updated"
    ISSUE_CLOSED = "issue_closed"
    ISSUE_REOPENED = "issue_reopened"
    ISSUE_TRIAGED = "issue_triaged"
    DEPENDENCY_PULL_REQUEST = "dependency_pull_request"  # opened or updated
    DOCS_PULL_REQUEST = "docs_pull_request"  # opened or updated
    PULL_REQUEST_MERGED = "pull_request_merged"
    PULL_REQUEST_CLOSED = "pull_request_closed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """A write a sink performed, or would perform in a dry run."""

    sink: str
    description: str
    performed: bool
    target: str | None = None  # URL or path
    change: ChangeKind | None = None  # what kind of change to the repository it is, when it is one


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    """Everything one run learned. Renderers and sinks read this; nobody re-queries a source."""

    schema_version: str
    repository: str | None
    generated_at: datetime
    dry_run: bool
    sha: str | None = None
    ref: str | None = None
    event_name: str | None = None
    health: Health
    metrics: tuple[Metric, ...] = ()
    findings: tuple[Finding, ...] = ()
    gates: tuple[GateResult, ...] = ()
    alerts: tuple[Alert, ...] = ()
    rules_not_evaluated: tuple[UnevaluatedRule, ...] = ()
    sources: tuple[SourceResult, ...] = ()
    history: History = field(default_factory=History)
    actions: tuple[Action, ...] = ()
    notices: tuple[str, ...] = ()  # e.g. "shallow clone: use fetch-depth: 0"
    verdict: Verdict | None = None  # set by the pipeline's build_report; None only for a report built by hand

    def metric(self, name: str) -> Metric | None:
        for m in self.metrics:
            if m.name == name:
                return m
        return None

    @property
    def metric_values(self) -> dict[str, float]:
        return {m.name: m.value for m in self.metrics}
