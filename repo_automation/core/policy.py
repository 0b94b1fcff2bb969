"""Finding policy (pure, apart from reading the baseline file): ignores, baseline, unknown severities, blocking.

Configured under `automation.security_scanning`:

- `ignore`: entries {id, reason, expires?}. `id` matches a finding's rule id, any advisory id or alias, or its
  fingerprint. A match sets state "ignored" with the reason in `note`. An entry whose `expires` date is
  before the run's date no longer ignores; the finding stays active and its note says the ignore expired.
- `baseline`: a JSON file (path relative to the workspace) holding a list of fingerprints, or an object
  with a "fingerprints" list. Matching findings get state "baseline": still counted, never blocking.
- `unknown_severity`: how findings whose source gives no severity count (counts, score, fail_on_*). Their
  `severity` stays `unknown`, so every report shows what the source said, and `note` says how it counted:
  "severity: unknown in the source; counted as high (unknown_severity)". `counted_severity` is the one place
  that reads it.
- `count_test_findings`: findings in test code (`scope: test`) count toward fail_on_* only when it is on.

Only findings in state active, new or existing are changed; fixed/ignored/baseline ones are left alone.
`blocking_findings` is what fails a run: active or new findings at or above the lowest enabled of
fail_on_high (high and critical) and fail_on_critical (critical).
- `required_tools`: scanners that must run; `tracking.data_sources.<name>.required`: collectors that must
  measure (`history`: the metrics history must be read and, with store-db, written). `unmet_requirements`
  names each that failed, or skipped for a reason other than an empty scope (errors.NothingToScan): not
  installed, no API key, no rules, not configured, no data.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repo_automation.domain import Finding, FindingScope, FindingState, Severity, SourceKind, SourceResult, Status
from repo_automation.errors import ConfigError

if TYPE_CHECKING:
    from repo_automation.config import Config
    from repo_automation.config.sections import DataSource, DataSources, SecurityScanning
    from repo_automation.context import RunContext

OPEN_STATES = frozenset({FindingState.ACTIVE, FindingState.NEW, FindingState.EXISTING})
BLOCKING_STATES = frozenset({FindingState.ACTIVE, FindingState.NEW})
_KEY = "$.automation.security_scanning"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class IgnoreEntry:
    id: str
    reason: str
    expires: date | None = None

    def matches(self, f: Finding) -> bool:
        return self.id in (f.rule_id, f.fingerprint) or self.id in f.ids

    def expired(self, today: date) -> bool:
        return self.expires is not None and self.expires < today


def _join(note: str | None, extra: str) -> str:
    return f"{note}; {extra}" if note else extra


def ignore_entries(section: SecurityScanning) -> list[IgnoreEntry]:
    out = []
    for i, raw in enumerate(section.ignore):
        expires = raw.expires
        try:
            when = date.fromisoformat(expires) if expires else None
        except ValueError:
            raise ConfigError(f"{_KEY}.ignore[{i}].expires: {expires!r} is not a date (YYYY-MM-DD)") from None
        out.append(IgnoreEntry(id=raw.id, reason=raw.reason, expires=when))
    return out


def load_baseline(path: Path) -> frozenset[str]:
    """The fingerprints in a baseline file; ConfigError naming the file when it is missing or malformed."""
    where = f"{_KEY}.baseline"
    if not path.is_file():
        kind = "a folder, not a file" if path.is_dir() else "missing"
        raise ConfigError(f"{where}: baseline file {path} is {kind}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"{where}: baseline file {path} is not readable JSON: {e}") from None
    items = data.get("fingerprints") if isinstance(data, dict) else data
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise ConfigError(f"{where}: baseline file {path} must hold a JSON list of fingerprint strings "
                          '(or {"fingerprints": [...]})')
    return frozenset(items)


def _apply_one(f: Finding, ignores: Sequence[IgnoreEntry], baseline: frozenset[str], today: date,
               unknown_as: Severity) -> Finding:
    if f.state not in OPEN_STATES:
        return f
    changes: dict[str, Any] = {}
    note = f.note
    if f.severity is Severity.UNKNOWN and unknown_as is not Severity.UNKNOWN:
        note = _join(note, f"severity: unknown in the source; counted as {unknown_as.value} (unknown_severity)")
    matching = [e for e in ignores if e.matches(f)]
    live = [e for e in matching if not e.expired(today)]
    if live:
        changes["state"] = FindingState.IGNORED
        note = _join(note, f"ignored ({live[0].id}): {live[0].reason}")
    else:
        for e in matching:  # every one of them expired: say so, and keep the finding open
            assert e.expires is not None
            note = _join(note, f"ignore of {e.id} expired on {e.expires.isoformat()} (was: {e.reason})")
        if f.fingerprint in baseline:
            changes["state"] = FindingState.BASELINE
            note = _join(note, "in the baseline")
    if note != f.note:
        changes["note"] = note
    return dataclasses.replace(f, **changes) if changes else f


def check_policy(ctx: RunContext) -> None:
    """Raise ConfigError now for a bad ignore date or baseline file, before any stage runs."""
    section = ctx.config.security_scanning
    ignore_entries(section)
    if section.baseline:
        load_baseline(ctx.settings.resolve(Path(section.baseline)))


def apply_finding_policy(findings: Sequence[Finding], ctx: RunContext) -> list[Finding]:
    """The findings with ignores, the baseline and the unknown-severity policy applied (order kept)."""
    section = ctx.config.security_scanning
    ignores = ignore_entries(section)
    baseline_path = section.baseline
    baseline = load_baseline(ctx.settings.resolve(Path(baseline_path))) if baseline_path else frozenset()
    unknown_as = section.unknown_severity
    today = ctx.now.date()
    return [_apply_one(f, ignores, baseline, today, unknown_as) for f in findings]


def blocking_threshold(config: Config) -> Severity | None:
    """The lowest severity that fails the run, or None when neither fail_on_* is enabled."""
    if config.security_scanning.fail_on_high:
        return Severity.HIGH
    if config.security_scanning.fail_on_critical:
        return Severity.CRITICAL
    return None


def counted_severity(f: Finding, unknown_as: Severity) -> Severity:
    """The severity a finding counts as: its own, or `unknown_severity` when its source gave none."""
    return unknown_as if f.severity is Severity.UNKNOWN else f.severity


def counts_toward_policy(f: Finding, section: SecurityScanning) -> bool:
    """Package code always counts; test code (`scope: test`) only with `count_test_findings`."""
    return f.scope is FindingScope.MAIN or section.count_test_findings


def blocking_findings(findings: Sequence[Finding], config: Config) -> list[Finding]:
    """Active or new findings at or above the blocking severity (unknown severities as configured), test
    code left out unless `count_test_findings`."""
    threshold = blocking_threshold(config)
    if threshold is None:
        return []
    section = config.security_scanning
    return [f for f in findings if f.state in BLOCKING_STATES and counts_toward_policy(f, section)
            and counted_severity(f, section.unknown_severity).rank >= threshold.rank]


def required_problems(sec: SecurityScanning, sources: DataSources) -> list[str]:
    """Configuration problems of the `required` settings: what is required must also be something that runs."""
    tools = set(sec.tools)
    problems = [f"$.automation.security_scanning.required_tools[{i}]: {tool!r} is required but not listed in "
                f"automation.security_scanning.tools" for i, tool in enumerate(sec.required_tools)
                if tool not in tools]
    for name, source in sorted(sources.named().items()):
        if source.required:
            problems += _required_source_problems(name, source, sources)
    return problems


def _required_source_problems(name: str, source: DataSource, sources: DataSources) -> list[str]:
    where = f"$.tracking.data_sources.{name}.required"
    if source.disabled:
        return [f"{where}: {name} is required but disabled (enabled: false)"]
    if source is sources.database and not sources.database.queries:
        return [f"{where}: the database is required but has no queries to run"]
    return []


def required_sources(config: Config) -> dict[SourceKind, set[str]]:
    """Names of the required sources by kind: scanners from required_tools, collectors from their data source,
    and the metrics history (`tracking.data_sources.history`: its read, and its sink when store-db is on)."""
    history = {"history"} if config.data_sources.history.required else set()
    return {
        SourceKind.SCANNER: set(config.security_scanning.required_tools),
        SourceKind.COLLECTOR: {name for name, s in config.data_sources.named().items()
                               if s.required and name != "history"},
        SourceKind.HISTORY: history,
        SourceKind.SINK: history,
    }


def unmet_requirements(sources: Sequence[SourceResult], config: Config) -> list[str]:
    """A reason for each required source that failed, or skipped for anything but an empty scope."""
    required = required_sources(config)
    out = []
    for s in sources:
        if s.name not in required.get(s.kind, ()):
            continue
        if s.status is Status.FAILED or (s.status is Status.SKIPPED and not s.nothing_to_do):
            out.append(f"required {s.kind} {s.name} {s.status.value}: {s.reason}")
    return out
