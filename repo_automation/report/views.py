"""Pure helpers that shape a RunReport for display: ordering, counts, number formats, the trend chart."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from repo_automation.domain import Finding, FindingScope, Health, RunReport, Severity, TrendPoint

SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.UNKNOWN)
COUNTED_STATES = ("active", "new")  # what the policy can fail on
_STATE_ORDER = {"new": 0, "active": 1, "existing": 2, "baseline": 3, "ignored": 4, "fixed": 5}


def fmt_number(value: float | int | None, digits: int = 2) -> str:
    """85 → '85', 85.456 → '85.46', None → '—', NaN → 'n/a'."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return "n/a"
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt_delta(value: float | None, digits: int = 2) -> str:
    """A signed change: '+1.5', '-2', '0'; '—' when there is nothing to compare with."""
    if value is None:
        return "—"
    text = fmt_number(value, digits)
    return text if text.startswith("-") or text in ("0", "n/a") else "+" + text


def fmt_date(ts: datetime) -> str:
    aware = ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d")


def fmt_datetime(ts: datetime) -> str:
    aware = ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def fmt_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def finding_sort_key(f: Finding) -> tuple[bool, int, int, str, int, str]:
    """Counted (active/new) findings first, most severe first, then state, path and line (a stable order)."""
    loc = f.location
    return (f.state not in COUNTED_STATES, -f.severity.rank, _STATE_ORDER.get(f.state, 9),
            loc.path if loc else "", (loc.start_line or 0) if loc else 0, f.fingerprint)


def sorted_findings(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=finding_sort_key)


def counted(findings: Sequence[Finding]) -> list[Finding]:
    """The findings that count against the run (active or new)."""
    return [f for f in findings if f.state in COUNTED_STATES]


URGENT_SEVERITIES = ("critical", "high")


def attention_findings(findings: Sequence[Finding]) -> list[Finding]:
    """The new (or, outside a pull request, active) critical and high findings, most severe first."""
    return [f for f in sorted_findings(counted(findings)) if f.severity.value in URGENT_SEVERITIES]


def severity_counts(findings: Sequence[Finding]) -> list[tuple[str, int]]:
    """(severity, count) of the counted findings, most severe first, every severity listed."""
    c = Counter(f.severity for f in counted(findings))
    return [(s.value, c.get(s, 0)) for s in SEVERITY_ORDER]


def state_counts(findings: Sequence[Finding]) -> list[tuple[str, int]]:
    """How many findings are in each state other than the counted ones (ignored, baseline, fixed …)."""
    c = Counter(f.state for f in findings if f.state not in COUNTED_STATES)
    return sorted(c.items(), key=lambda kv: _STATE_ORDER.get(kv[0], 9))


def location_text(f: Finding) -> str:
    if f.location is None:
        return ""
    loc = f.location
    return f"{loc.path}:{loc.start_line}" if loc.start_line else loc.path


def package_text(f: Finding) -> str:
    if not f.package:
        return ""
    text = f"{f.package} {f.version}" if f.version else f.package
    if f.fixed_versions:
        text += " → " + ", ".join(f.fixed_versions)
    return text


def trend_points(trend: Sequence[TrendPoint]) -> list[TrendPoint]:
    """Scored points in time order (inconclusive runs are left out of the chart)."""
    pts = [p for p in trend if p.overall is not None and math.isfinite(p.overall)]
    return sorted(pts, key=lambda p: p.timestamp)


def mermaid_trend(trend: Sequence[TrendPoint]) -> str | None:
    """A Mermaid xychart-beta line chart of the overall score, or None with fewer than 2 points.

    Only our own formatted dates and numbers go into the chart, so nothing needs escaping.
    """
    pts = trend_points(trend)
    if len(pts) < 2:
        return None
    labels = ", ".join(f'"{p.timestamp.astimezone(UTC).strftime("%m-%d %H:%M")}"' for p in pts)
    values = ", ".join(fmt_number(p.overall, 1) for p in pts)
    return "\n".join([
        "```mermaid",
        "xychart-beta",
        '    title "Overall health"',
        f"    x-axis [{labels}]",
        '    y-axis "Score" 0 --> 100',
        f"    line [{values}]",
        "```",
    ])


def gate_failed_count(report: RunReport) -> int:
    """Failed gates that judge this run: on a pull request, repository-wide failures are context, not these."""
    return sum(1 for g in report.gates if g.passed is False) - gate_context_count(report)


def gate_context_count(report: RunReport) -> int:
    """On a pull request: the repository-wide gates that failed, shown as context and not judged."""
    return len(report.verdict.context_gates) if report.verdict else 0


def in_scope(findings: Sequence[Finding], scope: FindingScope) -> list[Finding]:
    """The findings in package code (MAIN) or in test code (TEST: tests, docs, examples, fixtures)."""
    return [f for f in findings if f.scope is scope]


def headline(health: Health, *, quote: Callable[[str], str] = str) -> str:
    """The overall score with how much of it was measured: "100 (A), from 1 of 4 categories (25% of the
    weight), partial: pip-audit failed"; every category scored and nothing missing: "87.5 (B), from 4 of 4
    categories". `quote` escapes the source names (Markdown)."""
    if health.overall is None or health.grade is None:
        return "inconclusive: no category had the inputs it needs"
    return f"{fmt_number(health.overall, 1)} ({quote(health.grade)}), {measured_text(health, quote=quote)}"


def measured_text(health: Health, *, quote: Callable[[str], str] = str) -> str:
    """The headline's second half: "from 1 of 4 categories (25% of the weight), partial: pip-audit failed"."""
    scored, weighing, share = health.measured()
    text = f"from {scored} of {_plural(weighing, 'category', 'categories')}"
    if scored < weighing:
        text += f" ({round(share * 100)}% of the weight)"
    if health.partial:
        text += ", partial: " + ", ".join(quote(p) for p in health.partial)
    return text


def fully_measured(health: Health) -> bool:
    """Every category that weighs was scored, on full evidence."""
    scored, weighing, _ = health.measured()
    return scored == weighing and not health.partial


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def security_basis(report: RunReport) -> str | None:
    """What went into the security score's inputs, from the counts' metadata (None when they were not
    derived from findings, e.g. Sonar's)."""
    metric = next((m for m in report.metrics if m.name == "security.vulnerabilities"), None)
    if metric is None or not isinstance(metric.metadata.get("counted"), dict):
        return None
    counted, unknown = metric.metadata["counted"], int(metric.metadata.get("unknown_severity") or 0)
    advisories = _plural(counted["dependency_advisories"], "dependency advisory", "dependency advisories")
    code = _plural(counted["code_high_or_critical"], "high/critical code finding")
    parts = [f"vulnerabilities = {advisories} + {code}",
             f"hotspots = {_plural(counted['code_medium'], 'medium code finding')}"]
    neither = [_plural(counted["code_low"], "low code finding")]
    if counted["test_code_not_counted"]:
        neither.append(f"{_plural(counted['test_code_not_counted'], 'finding')} in test code "
                       "(`count_test_findings` is off)")
    parts.append("in neither: " + ", ".join(neither))
    if unknown:
        parts.append(f"{_plural(unknown, 'finding')} without a severity counted as "
                     f"{metric.metadata.get('unknown_counted_as')} (`unknown_severity`)")
    return "; ".join(parts)
