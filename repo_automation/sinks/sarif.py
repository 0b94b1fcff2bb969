"""Writes `<output-dir>/repo-automation.sarif` for GitHub code scanning when scanners ran.

The output folder is the run's product, so this writer runs in dry runs too (it writes nothing elsewhere).
No scanner ran (all skipped or failed, or --skip-security): no file, SourceSkipped — an empty upload
would close every open alert. On a pull request scanned in PR mode (`security_scanning.pr_mode`, the
default) only the changed files were scanned, so no file is written either: code scanning takes every upload
as the complete picture and would close the alerts of the unchanged files. The file is written atomically.
Upload it in the workflow with `github/codeql-action/upload-sarif` (`sarif_file: reports/repo-automation.sarif`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from repo_automation.context import RunContext
from repo_automation.domain import Action, RunReport
from repo_automation.errors import SourceSkipped
from repo_automation.fileio import write_atomic
from repo_automation.report.sarif import to_sarif
from repo_automation.sinks.files import display_path
from repo_automation.stages import Sink

log = logging.getLogger(__name__)

FILENAME = "repo-automation.sarif"
PARTIAL = ("pull-request mode scans only the changed files: no SARIF file is written, because code scanning "
           "would take a partial upload as complete and close the alerts of every unchanged file "
           "(security_scanning.pr_mode: false scans the whole repository and writes it)")


class SarifWriter(Sink):
    name = "sarif"

    def __init__(self, *, output_dir: Path, workspace: Path, partial: bool = False) -> None:
        self.output_dir = output_dir
        self.workspace = workspace
        self.partial = partial  # a pull request scanned in PR mode: only its changed files

    @classmethod
    def from_context(cls, ctx: RunContext) -> SarifWriter:
        partial = ctx.pull_request is not None and ctx.config.security_scanning.pr_mode
        return cls(output_dir=ctx.settings.resolve(ctx.settings.output_dir), workspace=ctx.workspace,
                   partial=partial)

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        if self.partial:
            raise SourceSkipped(PARTIAL)
        sarif = to_sarif(report, self.workspace)
        if not sarif["runs"]:
            raise SourceSkipped("no scanner results: no SARIF file written")
        path = self.output_dir / FILENAME
        write_atomic(path, json.dumps(sarif, separators=(",", ":"), ensure_ascii=False) + "\n")
        results = sum(len(run["results"]) for run in sarif["runs"])
        notes = [n["message"]["text"] for run in sarif["runs"] for inv in run["invocations"]
                 for n in inv.get("toolExecutionNotifications", [])]
        for note in notes:
            log.warning("SARIF: %s", note)
        where = display_path(path, self.workspace)
        log.info("wrote SARIF (%d results): %s", results, path.absolute())
        tools = ", ".join(run["tool"]["driver"]["name"] for run in sarif["runs"])
        desc = f"wrote {where}: {results} result(s) from {tools}"
        if notes:
            desc += f" ({len(notes)} notice(s): {notes[0]})"
        return [Action(sink=self.name, description=desc, performed=True, target=str(path))]
