"""The report files: project-health-report.md / .json and automation-report-YYYY-MM-DD.md in the output folder.

The output folder is the run's product, so this writer runs in dry runs too. Everything is rendered first
(pure), then each file is written atomically (temp file in the same folder + rename): a reader never sees
half a report, and a rendering error writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from repo_automation.context import RunContext
from repo_automation.domain import Action, RunReport
from repo_automation.errors import SourceFailed
from repo_automation.fileio import write_atomic
from repo_automation.redaction import redact
from repo_automation.report import json_report, markdown, views
from repo_automation.report.escape import escape_markdown
from repo_automation.runner import escape_data, escape_property
from repo_automation.settings import ReportFormat, Settings
from repo_automation.stages import Sink

log = logging.getLogger(__name__)

HEALTH_MD = "project-health-report.md"
HEALTH_JSON = "project-health-report.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportPaths:
    """Where each report goes (absolute); None when the format does not include it."""

    markdown: Path | None
    json: Path | None
    automation: Path | None

    def present(self) -> list[Path]:
        return [p for p in (self.markdown, self.json, self.automation) if p is not None]


def automation_report_name(generated_at: datetime) -> str:
    return f"automation-report-{views.fmt_date(generated_at)}.md"


def report_paths(output_dir: Path, fmt: ReportFormat, generated_at: datetime) -> ReportPaths:
    """The report files for a format; the automation report goes with markdown."""
    md = fmt.markdown
    return ReportPaths(
        markdown=output_dir / HEALTH_MD if md else None,
        json=output_dir / HEALTH_JSON if fmt.json else None,
        automation=output_dir / automation_report_name(generated_at) if md else None,
    )


def settings_report_paths(settings: Settings, generated_at: datetime) -> ReportPaths:
    return report_paths(settings.resolve(settings.output_dir), settings.format, generated_at)


# A secret as a report or the runner's files could hold it, besides as it is and inside a JSON string: a last
# line of defence should a stage ever put a token into a reason or a message.
RENDERED_FORMS: tuple[Callable[[str], str], ...] = (escape_markdown, escape_data, escape_property)


def display_path(path: Path, workspace: Path) -> str:
    """A path relative to the workspace when it is inside it (what a later workflow step can use)."""
    try:
        return path.relative_to(workspace).as_posix()
    except ValueError:
        return str(path)


class ReportFilesWriter(Sink):
    """Writes the report files named by `format` into the output folder and returns one Action per file."""

    name = "reports"

    def __init__(self, *, output_dir: Path, fmt: ReportFormat, workspace: Path,
                 secrets: Collection[str] = ()) -> None:
        self.output_dir = output_dir
        self.fmt = fmt
        self.workspace = workspace
        self.secrets = secrets

    @classmethod
    def from_context(cls, ctx: RunContext) -> ReportFilesWriter:
        s = ctx.settings
        return cls(output_dir=s.resolve(s.output_dir), fmt=s.format, workspace=ctx.workspace, secrets=ctx.secrets)

    def render(self, report: RunReport) -> list[tuple[Path, str, str]]:
        """(path, text, description) for every file, rendered before anything is written."""
        paths = report_paths(self.output_dir, self.fmt, report.generated_at)
        out: list[tuple[Path, str, str]] = []
        if paths.markdown is not None:
            out.append((paths.markdown, markdown.health_report(report), "project health report (Markdown)"))
        if paths.json is not None:
            doc = json_report.to_json(report)
            out.append((paths.json, json_report.dumps(doc), "project health report (JSON)"))
        if paths.automation is not None:
            out.append((paths.automation, markdown.automation_report(report), "automation report (Markdown)"))
        return [(path, redact(text, self.secrets, forms=RENDERED_FORMS), what) for path, text, what in out]

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        rendered = self.render(report)
        actions = []
        for path, text, what in rendered:
            try:
                write_atomic(path, text)
            except OSError as e:
                raise SourceFailed(f"cannot write {path}: {e.strerror or e}") from e
            shown = display_path(path, self.workspace)
            log.info("wrote %s: %s", what, path.absolute())
            actions.append(Action(sink=self.name, description=f"wrote {what}", performed=True, target=shown))
        return actions
