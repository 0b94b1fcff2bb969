"""Step outputs, the job summary and finding annotations, for a run inside GitHub Actions.

Active when GITHUB_ACTIONS=true or GITHUB_OUTPUT is set. It runs in dry runs too: the outputs and summary
are this step's own files, the way a workflow_dispatch dry run shows what would happen. It is a writer, so
the summary is written before the policy verdict: a failing run still gets its summary.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from repo_automation import runner
from repo_automation.context import RunContext
from repo_automation.domain import Action, Finding, FindingScope, FindingState, RunReport, Severity
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.redaction import redact
from repo_automation.report import markdown, views
from repo_automation.settings import ReportFormat
from repo_automation.sinks.files import RENDERED_FORMS, display_path, report_paths
from repo_automation.stages import Sink

log = logging.getLogger(__name__)

PER_LEVEL = 10  # GitHub shows at most 10 annotations of each level (error, warning, notice) per step
OUTPUTS: dict[str, str] = {  # name -> description (action.yml declares exactly these)
    "health-score": "Overall health score 0-100 (empty when inconclusive).",
    "health-grade": "Letter grade of the health score (empty when inconclusive).",
    "health-headline": ("The score with how much of it was measured, e.g. `100 (A), from 1 of 4 categories "
                        "(25% of the weight), partial: pip-audit failed`."),
    "health-measured-weight": ("Share of the scoring weight the overall score rests on, 0-100 (categories that "
                               "could be scored)."),
    "report-markdown": "Path of project-health-report.md, relative to the workspace (empty when not written).",
    "report-json": "Path of project-health-report.json, relative to the workspace (empty when not written).",
    "automation-report": "Path of automation-report-YYYY-MM-DD.md, relative to the workspace (empty when not written).",
    "findings-count": ("Active and new findings in package code (test code, ignored, baseline and fixed ones are "
                       "not counted)."),
    "critical-count": "Active and new findings of critical severity in package code.",
    "high-count": "Active and new findings of high severity in package code.",
    "alerts-count": "Alert rules that fired.",
    "gates-failed": ("Quality gates that failed (inconclusive ones are not counted); on a pull request, those that "
                     "judge the change."),
    "gates-context": ("On a pull request: repository-wide quality gates that failed, shown as context and not "
                      "counted in gates-failed."),
    "sources-failed": "Collectors, scanners, gates and sinks that failed.",
    "dry-run": "true when this was a dry run.",
    "policy-passed": "true when the policy held (no failed gate, blocking alert or blocking finding).",
}
OUTPUT_NAMES = tuple(OUTPUTS)
_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
          Severity.LOW: "notice", Severity.UNKNOWN: "notice"}


def annotated(findings: Sequence[Finding], per_level: int = PER_LEVEL) -> tuple[list[Finding], int]:
    """The active/new findings with a location that get an annotation, and how many are left out.

    At most `per_level` of each level: those on the changed lines of a pull request (state new) first, then
    the most severe."""
    package_code = views.in_scope(findings, FindingScope.MAIN)  # test code is reported apart, in the summary
    located = [f for f in views.sorted_findings(views.counted(package_code)) if f.location is not None]
    located.sort(key=lambda f: f.state != FindingState.NEW)  # stable: severity order kept within each part
    taken: dict[str, int] = {}
    chosen = []
    for f in located:
        level = _LEVEL[f.severity]
        if taken.get(level, 0) < per_level:
            taken[level] = taken.get(level, 0) + 1
            chosen.append(f)
    return chosen, len(located) - len(chosen)


def annotation_lines(findings: Sequence[Finding]) -> list[str]:
    """One ::error / ::warning / ::notice line per finding, in the order given."""
    out = []
    for f in findings:
        loc = f.location
        assert loc is not None
        title = f"{f.tool} {f.rule_id} ({f.severity.value})"
        message = f.title if not f.message or f.message == f.title else f"{f.title}: {f.message}"
        out.append(runner.annotation(_LEVEL[f.severity], message, file=loc.path, line=loc.start_line,
                                     end_line=loc.end_line, col=loc.start_column, title=title))
    return out


def outputs(report: RunReport, files: Mapping[str, str]) -> dict[str, str]:
    """The step outputs (all strings; an empty string when unknown, e.g. a report without a verdict)."""
    verdict = report.verdict
    package_code = views.in_scope(report.findings, FindingScope.MAIN)
    counts = dict(views.severity_counts(package_code))
    h = report.health
    return {
        "health-score": views.fmt_number(h.overall, 1) if h.overall is not None else "",
        "health-grade": h.grade or "",
        "health-headline": views.headline(h),
        "health-measured-weight": views.fmt_number(h.measured()[2] * 100, 1) if h.overall is not None else "",
        "report-markdown": files.get("markdown", ""),
        "report-json": files.get("json", ""),
        "automation-report": files.get("automation", ""),
        "findings-count": str(len(views.counted(package_code))),
        "critical-count": str(counts["critical"]),
        "high-count": str(counts["high"]),
        "alerts-count": str(len(report.alerts)),
        "gates-failed": str(views.gate_failed_count(report)),
        "gates-context": str(views.gate_context_count(report)),
        "sources-failed": str(sum(1 for s in report.sources if s.status.value == "failed")),
        "dry-run": "true" if report.dry_run else "false",
        "policy-passed": "" if verdict is None else ("true" if verdict.passed else "false"),
    }


class ActionOutputsWriter(Sink):
    name = "action-outputs"

    def __init__(self, *, active: bool, output_file: Path | None, summary_file: Path | None, output_dir: Path,
                 fmt: ReportFormat, workspace: Path, stream: TextIO, secrets: Collection[str] = ()) -> None:
        self.active = active
        self.output_file = output_file
        self.summary_file = summary_file
        self.output_dir = output_dir
        self.fmt = fmt
        self.workspace = workspace
        self.stream = stream
        self.secrets = secrets

    @classmethod
    def from_context(cls, ctx: RunContext, *, stream: TextIO | None = None) -> ActionOutputsWriter:
        env, s = ctx.env, ctx.settings
        return cls(active=runner.is_actions(env),
                   output_file=Path(env["GITHUB_OUTPUT"]) if env.get("GITHUB_OUTPUT") else None,
                   summary_file=Path(env["GITHUB_STEP_SUMMARY"]) if env.get("GITHUB_STEP_SUMMARY") else None,
                   output_dir=s.resolve(s.output_dir), fmt=s.format, workspace=ctx.workspace,
                   stream=stream or sys.stdout, secrets=ctx.secrets)

    def _written_files(self, report: RunReport) -> dict[str, str]:
        """Report files that exist now (written by the reports writer), relative to the workspace."""
        paths = report_paths(self.output_dir, self.fmt, report.generated_at)
        found = {"markdown": paths.markdown, "json": paths.json, "automation": paths.automation}
        return {k: display_path(p, self.workspace) for k, p in found.items() if p is not None and p.is_file()}

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        if not self.active:
            raise SourceSkipped("not running in GitHub Actions (no GITHUB_OUTPUT)")
        files = self._written_files(report)
        chosen, left_out = annotated(report.findings)
        actions: list[Action] = []
        try:
            if self.summary_file is not None:
                text = markdown.job_summary(report, report_files=list(files.values()),
                                            annotations=(len(chosen), left_out))
                n = runner.write_summary(self.summary_file, redact(text, self.secrets, forms=RENDERED_FORMS))
                actions.append(Action(sink=self.name, description=f"wrote the job summary ({n} bytes)",
                                      performed=True, target="$GITHUB_STEP_SUMMARY"))
            if self.output_file is not None:
                values = {k: redact(v, self.secrets, forms=RENDERED_FORMS) for k, v in outputs(report, files).items()}
                runner.write_outputs(self.output_file, values)
                actions.append(Action(sink=self.name, description=f"set {len(values)} step outputs",
                                      performed=True, target="$GITHUB_OUTPUT"))
        except OSError as e:
            raise SourceFailed(f"cannot write the runner's files: {e}") from e
        lines = annotation_lines(chosen)
        for line in lines:
            self.stream.write(redact(line, self.secrets, forms=RENDERED_FORMS) + "\n")
        self.stream.flush()
        if lines:
            more = f" ({left_out} left out: {PER_LEVEL} per level per step)" if left_out else ""
            actions.append(Action(sink=self.name, description=f"annotated {len(lines)} finding(s){more}",
                                  performed=True))
        return actions
