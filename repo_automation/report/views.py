"""Pure helpers that shape a RunReport for display: ordering, counts, number formats, the trend chart."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from repo_automation.domain import Finding, RunReport, Severity, TrendPoint

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
    return sum(1 for g in report.gates if g.passed is False)
