"""Markdown renderers (Jinja): the health report, the automation report and the job summary.

Every value a template prints is escaped with `escape_markdown` by default (Jinja `finalize`), so a template
cannot forget it. Our own Markdown is marked `Trusted` — by the filters below (`code`, `num`, `delta`,
`date`, `trusted`) or in Python — and only then printed as is. Numbers are formatted, None prints empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from repo_automation.domain import FindingScope, RunReport
from repo_automation.report import views
from repo_automation.report.escape import escape_code, escape_markdown

if TYPE_CHECKING:
    import jinja2

HEALTH_TEMPLATE = "project-health-report.md.j2"
AUTOMATION_TEMPLATE = "automation-report.md.j2"
SUMMARY_TEMPLATE = "job-summary.md.j2"

REPORT_FINDINGS_LIMIT = 200  # rows in a report file; the JSON report has all
SUMMARY_FINDINGS_LIMIT = 25
ATTENTION_LIMIT = 20  # failed gates, and new critical and high findings, named at the top of the summary
TITLE_MAX = 160


class Trusted(str):
    """Markdown we wrote ourselves: printed as is. Never wrap outside text in it without escaping first."""

    __slots__ = ()


def finalize(value: Any) -> str:
    """Jinja's last step for every `{{ … }}`: escape unless Trusted; numbers formatted; None empty."""
    if isinstance(value, Trusted):
        return value
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return views.fmt_number(value)
    return escape_markdown(value)


def _code(value: Any) -> Trusted:
    """An inline code span; a pipe is escaped too, since GFM splits table cells before parsing code."""
    if value is None or value == "":
        return Trusted("")
    return Trusted(escape_code(value).replace("|", "\\|"))


def _cut(value: Any, max_len: int = TITLE_MAX) -> Trusted:
    return Trusted(escape_markdown(value, max_len=max_len))


def _num(value: Any, digits: int = 2) -> Trusted:
    return Trusted(views.fmt_number(value, digits))


def _delta(value: Any, digits: int = 2) -> Trusted:
    return Trusted(views.fmt_delta(value, digits))


@cache
def environment() -> jinja2.Environment:
    import jinja2  # lazily: keeps --help fast

    # Markdown, not HTML: `finalize` escapes every value for Markdown, so HTML autoescaping is off on purpose.
    env = jinja2.Environment(  # nosec B701
        loader=jinja2.PackageLoader("repo_automation.report", "templates"),
        autoescape=False,  # noqa: S701
        finalize=finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        code=_code, cut=_cut, num=_num, delta=_delta, trusted=Trusted,
        date=lambda ts: Trusted(views.fmt_date(ts)), datetime=lambda ts: Trusted(views.fmt_datetime(ts)),
        duration=lambda s: Trusted(views.fmt_duration(s)),
        location=lambda f: _code(views.location_text(f)), package=lambda f: _code(views.package_text(f)),
    )
    return env


def _model(report: RunReport, report_files: Sequence[str], findings_limit: int) -> dict[str, Any]:
    findings = views.sorted_findings(views.in_scope(report.findings, FindingScope.MAIN))
    test_findings = views.sorted_findings(views.in_scope(report.findings, FindingScope.TEST))
    changes = {c.name: c for c in report.history.changes}
    chart = views.mermaid_trend(report.history.trend)
    return {
        "r": report,
        "health": report.health,
        "categories": [report.health.categories[k] for k in sorted(report.health.categories)],
        "metrics": sorted(report.metrics, key=lambda m: m.name),
        "changes": changes,
        "has_history": bool(report.history.changes),
        "trend_chart": Trusted(chart) if chart else None,
        "findings": findings[:findings_limit],
        "findings_hidden": max(0, len(findings) - findings_limit),
        "findings_total": len(findings),
        "counted_total": len(views.counted(findings)),
        "severity_counts": views.severity_counts(findings),
        "state_counts": views.state_counts(findings),
        "test_findings": test_findings[:findings_limit],
        "test_findings_hidden": max(0, len(test_findings) - findings_limit),
        "test_severity_counts": [(s, n) for s, n in views.severity_counts(test_findings) if n],
        "headline": Trusted(views.headline(report.health, quote=escape_markdown)),
        "security_basis": Trusted(basis) if (basis := views.security_basis(report)) else None,  # our own words
        "gates": report.gates,
        "gates_failed": views.gate_failed_count(report),
        "gates_context": views.gate_context_count(report),
        "alerts": report.alerts,
        "not_evaluated": list(report.rules_not_evaluated),
        "sources": report.sources,
        "problem_sources": [s for s in report.sources if s.status.value != "ok"],
        "actions": report.actions,
        "notices": report.notices,
        "report_files": list(report_files),
        "policy": report.verdict,
    }


def render(template: str, report: RunReport, *, report_files: Sequence[str] = (),
           findings_limit: int = REPORT_FINDINGS_LIMIT, extra: Mapping[str, Any] | None = None) -> str:
    """`template` on the report; the policy section shows `report.verdict` (none when it has none)."""
    model = _model(report, report_files, findings_limit) | dict(extra or {})
    text = environment().get_template(template).render(model)
    return text.rstrip("\n") + "\n"  # one final newline: a later step can append to the same summary


def health_report(report: RunReport) -> str:
    """project-health-report.md: score, categories, trend, metrics, findings, gates, alerts, sources."""
    return render(HEALTH_TEMPLATE, report)


def automation_report(report: RunReport) -> str:
    """automation-report-YYYY-MM-DD.md: findings, gates and the actions taken (or that would be taken)."""
    return render(AUTOMATION_TEMPLATE, report)


def job_summary(report: RunReport, *, report_files: Sequence[str] = (), annotations: tuple[int, int] = (0, 0)) -> str:
    """The step summary: what needs attention first (verdict, failed gates, new critical and high findings,
    alerts), then the detail folded in <details> blocks, pointing at the report files for the rest.
    `annotations` is (shown, left out) of the findings' annotations (GitHub shows 10 per level per step)."""
    urgent = views.attention_findings(report.findings)
    failed = [g for g in report.gates if g.passed is False]
    extra = {
        "failed_gates": failed[:ATTENTION_LIMIT],
        "failed_gates_hidden": max(0, len(failed) - ATTENTION_LIMIT),
        "urgent": urgent[:ATTENTION_LIMIT],
        "urgent_hidden": max(0, len(urgent) - ATTENTION_LIMIT),
        "annotations_shown": annotations[0],
        "annotations_left_out": annotations[1],
        "timings": list(report.sources),
        "timing_total": sum(s.duration_s for s in report.sources),
    }
    return render(SUMMARY_TEMPLATE, report, report_files=report_files, findings_limit=SUMMARY_FINDINGS_LIMIT,
                  extra=extra)


ROLLUP_TEMPLATE = "rollup-report.md.j2"


def rollup_report(rows: Sequence[Any], *, generated_at: Any, store: str) -> str:
    """rollup-report.md: one table row per repository (history.rollup.RepositoryHealth), escaped cell by cell."""
    categories = sorted({name for r in rows for name in r.categories})
    header = ["Repository", "Last run", "Health", "Grade", "Δ previous", "Δ 30 days",
              *(escape_markdown(c) for c in categories)]
    align = ["---", "---", "--:", ":-:", "--:", "--:", *("--:" for _ in categories)]
    table = [[_code(r.repository), Trusted(views.fmt_datetime(r.timestamp)), _num(r.overall, 1),
              Trusted(escape_markdown(r.grade or "")), _delta(r.delta_previous, 1), _delta(r.delta_30d, 1),
              *(_num(r.categories.get(c), 1) for c in categories)] for r in rows]
    text = environment().get_template(ROLLUP_TEMPLATE).render(
        count=len(rows), store=store, generated_at=generated_at, header=header, align=align, rows=table)
    return text.rstrip("\n") + "\n"
