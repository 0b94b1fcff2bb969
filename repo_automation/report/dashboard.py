"""The health dashboard: one self-contained HTML page from the RunReport and the stored history. Pure.

`build_dashboard(report, history)` shapes what the page shows; `render_dashboard(...)` and
`render_rollup_dashboard(...)` turn it into HTML (Jinja, autoescaped). The page has no script, no external
style sheet, font or image, and makes no request when it is opened: every chart is SVG drawn here
(report/svg.py). `history` maps a metric name (`health.overall`, `health.<category>`, any catalogue name)
to its stored values, oldest first; this run's own value is added at the report's time when the history
does not hold it yet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from repo_automation.domain import FindingScope, RunReport
from repo_automation.report import svg, views
from repo_automation.report.svg import Point

if TYPE_CHECKING:
    import jinja2

DASHBOARD_TEMPLATE = "dashboard.html.j2"
ROLLUP_TEMPLATE = "rollup-dashboard.html.j2"
OVERALL = "health.overall"
SEVERITY_METRICS = {"critical": "security.critical_vulnerabilities", "high": "security.high_vulnerabilities",
                    "medium": "security.medium_vulnerabilities", "low": "security.low_vulnerabilities"}
History = Mapping[str, Sequence[tuple[datetime, float]]]


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricRow:
    name: str
    value: float
    unit: str
    spark: str  # SVG, empty without history
    points: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Dashboard:
    repository: str
    generated_at: datetime
    overall: float | None
    grade: str | None
    categories: Mapping[str, float | None]
    measured: int  # categories with a score
    gauge: str
    categories_chart: str
    findings_chart: str
    finding_counts: Sequence[tuple[str, int]]
    metrics: Sequence[MetricRow]
    gates: Sequence[tuple[str, str, str]]  # name, passed | failed | inconclusive, message
    sources: Sequence[tuple[str, str, str, str]]  # kind, name, status, reason
    verdict: str = ""
    notes: Sequence[str] = field(default_factory=tuple)


def _points(history: History, name: str, now: datetime, current: float | None) -> list[Point]:
    pts = [Point(at=t, value=v) for t, v in history.get(name, ()) if math.isfinite(v)]
    pts.sort(key=lambda p: p.at)
    if current is not None and math.isfinite(current) and (not pts or pts[-1].at < now):
        pts.append(Point(at=now, value=current))
    return pts


def _finding_columns(report: RunReport, history: History, counts: Sequence[tuple[str, int]]
                     ) -> list[tuple[datetime, dict[str, float]]]:
    """One column a stored run (and this one), its counted findings by severity."""
    current = dict(counts)
    runs: dict[datetime, dict[str, float]] = {}
    for severity, metric in SEVERITY_METRICS.items():
        now_value = float(current.get(severity, 0)) if report.metric(metric) else None
        for p in _points(history, metric, report.generated_at, now_value):
            runs.setdefault(p.at, {})[severity] = p.value
    return sorted(runs.items())


def _metric_rows(report: RunReport, history: History) -> list[MetricRow]:
    rows = []
    for m in sorted(report.metrics, key=lambda m: m.name):
        pts = _points(history, m.name, report.generated_at, m.value)
        rows.append(MetricRow(name=m.name, value=m.value, unit=m.unit, points=len(pts),
                              spark=svg.sparkline(pts, label=m.name)))
    return rows


def _gate_result(passed: bool | None) -> str:
    return "inconclusive" if passed is None else "passed" if passed else "failed"


def build_dashboard(report: RunReport, history: History) -> Dashboard:
    now = report.generated_at
    cats = {name: c.score for name, c in sorted(report.health.categories.items())}
    category_series = {name: _points(history, f"health.{name}", now, score) for name, score in cats.items()}
    counts = views.severity_counts(views.in_scope(report.findings, FindingScope.MAIN))  # test code: apart
    columns = _finding_columns(report, history, counts)
    metrics = _metric_rows(report, history)
    gates = [(g.name, _gate_result(g.passed), g.message) for g in report.gates]
    sources = [(s.kind, s.name, s.status.value, s.reason) for s in report.sources]
    verdict = "" if report.verdict is None else _gate_result(report.verdict.passed)
    notes = [f"{name}: {n}" for name, c in sorted(report.health.categories.items()) for n in c.notes]
    return Dashboard(
        repository=report.repository or "this repository", generated_at=now, overall=report.health.overall,
        grade=report.health.grade, categories=cats, measured=sum(s is not None for s in cats.values()),
        gauge=svg.gauge(report.health.overall, label="overall health"),
        categories_chart=svg.line_chart(category_series, label="health by category over time"),
        findings_chart=svg.stacked_bars(columns, order=("low", "medium", "high", "critical"),
                                        label="findings by severity over time"),
        finding_counts=counts, metrics=metrics, gates=gates, sources=sources, verdict=verdict, notes=notes)


@dataclass(frozen=True, slots=True, kw_only=True)
class RepositoryRow:
    """One repository of the roll-up page: its newest scored run and its overall score over time."""

    repository: str
    timestamp: datetime
    overall: float
    grade: str | None
    categories: Mapping[str, float]
    trend: Sequence[tuple[datetime, float]] = ()


@cache
def _environment() -> jinja2.Environment:
    import jinja2  # lazily: keeps --help fast

    env = jinja2.Environment(loader=jinja2.PackageLoader("repo_automation.report", "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["num"] = views.fmt_number
    env.filters["when"] = views.fmt_datetime
    env.filters["colour"] = svg.band_colour
    return env


def _markup(text: str) -> object:
    """Our own SVG, printed as is (every outside text in it was escaped by report/svg.py)."""
    import markupsafe

    return markupsafe.Markup(text)  # noqa: S704 — drawn and escaped by report/svg.py


def render_dashboard(report: RunReport, history: History) -> str:
    board = build_dashboard(report, history)
    return _environment().get_template(DASHBOARD_TEMPLATE).render(board=board, svg=_markup)


def render_rollup_dashboard(rows: Sequence[RepositoryRow], *, generated_at: datetime) -> str:
    table = [(r, _markup(svg.sparkline([Point(at=t, value=v) for t, v in r.trend], label=f"{r.repository} overall")))
             for r in sorted(rows, key=lambda r: r.repository)]
    categories = sorted({name for r in rows for name in r.categories})
    return _environment().get_template(ROLLUP_TEMPLATE).render(rows=table, categories=categories,
                                                               generated_at=generated_at)
