"""Security scanners: one small adapter per tool, all producing the one Finding model.

`build_scanners(ctx)` gives the adapters for config `automation.security_scanning.tools` (default bandit,
pip-audit, safety), each one pipeline stage, run concurrently by the pipeline. After the pipeline ran,
`merge_findings(findings)` folds what several tools said about one advisory into one finding, and
`scan_notices(scanners)` lists what the scanners want the report to say (partial skips, fallbacks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, overload

from repo_automation.context import RunContext
from repo_automation.scanners.dedup import merge_findings
from repo_automation.scanners.interface import ScanOptions, ToolScanner
from repo_automation.scanners.prmode import PullRequestScope, pull_request_scope

if TYPE_CHECKING:
    from repo_automation.stages import Scanner

TOOLS = ("bandit", "pip-audit", "safety", "semgrep", "trivy")
DEFAULT_TOOLS = ("bandit", "pip-audit", "safety")

__all__ = ["DEFAULT_TOOLS", "TOOLS", "LiveNotices", "PullRequestScope", "ScanOptions", "ToolScanner", "build_scanners",
           "make_scanner", "merge_findings", "scan_notices"]


def make_scanner(tool: str, ctx: RunContext, *, options: ScanOptions, paths: Sequence[str] | None = None,
                 pr_scope: PullRequestScope | None = None, executable: str | None = None) -> ToolScanner:
    """One adapter by its config name."""
    from repo_automation.scanners.bandit import BanditScanner
    from repo_automation.scanners.pip_audit import PipAuditScanner
    from repo_automation.scanners.safety import SafetyScanner
    from repo_automation.scanners.semgrep import SemgrepScanner
    from repo_automation.scanners.trivy import TrivyScanner

    common = {"options": options, "paths": tuple(paths) if paths is not None else None, "pr_scope": pr_scope,
              "executable": executable}
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


def build_scanners(ctx: RunContext, *, paths: Sequence[str] | None = None) -> list[Scanner]:
    """The adapters this run needs: none when security scanning is off or skipped.

    `paths` restricts every adapter to those repo-relative files. On a pull request with `pr_mode` on,
    each adapter scans only its changed files, at head and at the merge base, and marks findings
    new / existing / fixed.
    """
    sec = ctx.config.get("automation", "security_scanning", default={}) or {}
    if ctx.settings.skip_security or not sec.get("enabled", True):
        return []
    options = ScanOptions.from_context(ctx)
    scope, fallback = pull_request_scope(ctx, enabled=options.pr_mode) if paths is None else (None, None)
    tools = [t for t in sec.get("tools", DEFAULT_TOOLS) if t in TOOLS]
    scanners: list[Scanner] = []
    for tool in tools:
        scanner = make_scanner(tool, ctx, options=options, paths=paths, pr_scope=scope)
        if fallback and not scanners:
            scanner.notices.append(fallback)
        scanners.append(scanner)
    return scanners


def scan_notices(scanners: Sequence[Scanner]) -> list[str]:
    """What the scanners asked to tell the reader (partial skips, tool errors, PR-mode fallback)."""
    return [n for s in scanners for n in getattr(s, "notices", [])]


class LiveNotices(Sequence[str]):
    """`extra` then the scanners' notices, read when iterated: pass it as Stages.notices before the run,
    and the RunReport built after the scan holds what the scanners said."""

    def __init__(self, scanners: Sequence[Scanner], extra: Sequence[str] = ()) -> None:
        self._scanners = scanners
        self._extra = tuple(extra)

    def _items(self) -> list[str]:
        return [*self._extra, *scan_notices(self._scanners)]

    def __len__(self) -> int:
        return len(self._items())

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._items()[index]
