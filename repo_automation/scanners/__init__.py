"""Security scanners: one small adapter per tool, all producing the one Finding model.

`scanner_plan(ctx)` gives the adapters for config `automation.security_scanning.tools`, each one pipeline
stage, run concurrently by the pipeline, and what building them has to tell the report (PR mode falling
back to a full scan); `build_scanners(ctx)` the adapters alone. Each scan returns its own notices with its
findings (stages.Noted). After the pipeline ran, `merge_findings(findings)` folds what several tools said
about one advisory into one finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from repo_automation.context import RunContext
from repo_automation.scanners.bandit import BanditScanner
from repo_automation.scanners.dedup import merge_findings
from repo_automation.scanners.interface import ToolScanner, scan_exclude
from repo_automation.scanners.pip_audit import PipAuditScanner
from repo_automation.scanners.prmode import PullRequestScope, pull_request_scope
from repo_automation.scanners.safety import SafetyScanner
from repo_automation.scanners.semgrep import SemgrepScanner
from repo_automation.scanners.trivy import TrivyScanner

if TYPE_CHECKING:
    from repo_automation.config.sections import SecurityScanning
    from repo_automation.stages import Scanner

TOOLS = ("bandit", "pip-audit", "safety", "semgrep", "trivy")

__all__ = ["TOOLS", "PullRequestScope", "ToolScanner", "build_scanners", "make_scanner", "merge_findings",
           "scanner_plan"]


def make_scanner(tool: str, ctx: RunContext, *, options: SecurityScanning, paths: Sequence[str] | None = None,
                 pr_scope: PullRequestScope | None = None, executable: str | None = None) -> ToolScanner:
    """One adapter by its config name."""
    common = {"options": options, "paths": tuple(paths) if paths is not None else None, "pr_scope": pr_scope,
              "executable": executable, "scope_exclude": scan_exclude(ctx, options)}
    if tool == "bandit":
        return BanditScanner(**common)  # type: ignore[arg-type]
    if tool == "pip-audit":
        return PipAuditScanner(env=dict(ctx.env), **common)  # type: ignore[arg-type]
    if tool == "safety":
        return SafetyScanner.from_context(ctx, **common)
    if tool == "semgrep":
        return SemgrepScanner(**common)  # type: ignore[arg-type]
    if tool == "trivy":
        return TrivyScanner(**common)  # type: ignore[arg-type]
    raise ValueError(f"unknown scanner {tool!r}; known: {', '.join(TOOLS)}")


def scanner_plan(ctx: RunContext, *, paths: Sequence[str] | None = None) -> tuple[list[Scanner], tuple[str, ...]]:
    """The adapters this run needs (none when security scanning is off or skipped), and the notices for the
    report that choosing them gave (a pull request whose base cannot be read is scanned whole).

    `paths` restricts every adapter to those repo-relative files. On a pull request with `pr_mode` on,
    each adapter scans only its changed files, at head and at the merge base, and marks findings
    new / existing / fixed.
    """
    sec = ctx.config.security_scanning
    if ctx.settings.skip_security or not sec.enabled:
        return [], ()
    scope, fallback = pull_request_scope(ctx, enabled=sec.pr_mode) if paths is None else (None, None)
    tools = [t for t in sec.tools if t in TOOLS]
    scanners: list[Scanner] = [make_scanner(tool, ctx, options=sec, paths=paths, pr_scope=scope) for tool in tools]
    return scanners, ((fallback,) if fallback and scanners else ())


def build_scanners(ctx: RunContext, *, paths: Sequence[str] | None = None) -> list[Scanner]:
    """The adapters of `scanner_plan`, without its notices."""
    return scanner_plan(ctx, paths=paths)[0]
