"""PR mode: scan only what the pull request changed, at head and at the merge base, and say what is new.

Each adapter scans its relevant changed files (code for bandit/semgrep, manifests for pip-audit/safety) in
the workspace (head) and the same paths at the merge base, extracted with `git archive` into a temporary
folder (only those files: cheap, and nothing touches the user's checkout). A changed manifest is audited
only for the pins that changed (see scanners/pindiff.py); unchanged pins are the full scan's. Findings
are then marked by fingerprint: at head and base -> "existing", only at head -> "new", only at base ->
"fixed". The verdict gates on new ones. When the base cannot be read (a shallow clone without it), the scan
falls back to the whole repository with every finding active, and says so.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from repo_automation.context import RunContext
from repo_automation.domain import Finding, FindingState
from repo_automation.errors import NothingToScan, SourceFailed, SourceSkipped
from repo_automation.gitutil import changed_files, run_git
from repo_automation.stages import Noted, notices_of

log = logging.getLogger(__name__)

Side = list[Finding] | SourceSkipped  # one side's findings, or why it had nothing to scan


@dataclass(frozen=True, slots=True, kw_only=True)
class PullRequestScope:
    """PR mode: compare the head's changed files with the same files at the merge base."""

    base: str  # merge-base commit
    changed: tuple[str, ...]  # repo-relative paths changed by the pull request


def pull_request_scope(ctx: RunContext, *, enabled: bool = True) -> tuple[PullRequestScope | None, str | None]:
    """The PR scope of this run, or None with the reason PR mode does not apply (None: not a PR at all)."""
    pr = ctx.pull_request
    if pr is None or not enabled:
        return None, None
    try:
        base = run_git(["merge-base", pr.base_sha, "HEAD"], ctx.workspace, timeout=30).strip()
        changed = changed_files(ctx.workspace, pr.base_sha, "HEAD")
    except SourceFailed as e:
        reason = (f"PR mode needs the base commit {pr.base_sha[:12]} (use fetch-depth: 0); "
                  f"scanning the whole repository instead: {e}")
        log.warning("%s", reason)
        return None, reason
    return PullRequestScope(base=base, changed=tuple(changed)), None


@contextmanager
def base_checkout(workspace: Path, revision: str, paths: Sequence[str], *, timeout: float = 120.0) -> Iterator[Path]:
    """A temporary folder holding `paths` as they were at `revision` (those that existed), removed after."""
    with tempfile.TemporaryDirectory(prefix="ra-base-") as tmp:
        root = Path(tmp)
        existing = [p for p in run_git(["ls-tree", "-r", "-z", "--name-only", revision, "--", *paths], workspace,
                                       timeout=timeout).split("\0") if p] if paths else []
        if existing:
            try:
                proc = subprocess.run(["git", "archive", "--format=tar", revision, "--", *existing], cwd=workspace,
                                      capture_output=True, timeout=timeout, check=False)
            except subprocess.TimeoutExpired as e:
                raise SourceFailed(f"git archive timed out after {timeout:g}s") from e
            if proc.returncode != 0:
                raise SourceFailed(f"git archive failed: {proc.stderr.decode(errors='replace').strip()[:500]}")
            with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
                tar.extractall(root, filter="data")
        yield root


def mark(head: Sequence[Finding], base: Sequence[Finding]) -> list[Finding]:
    """new / existing at head, fixed for base findings that are gone."""
    base_fps = {f.fingerprint for f in base}
    head_fps = {f.fingerprint for f in head}
    out = [dataclasses.replace(f, state=FindingState.EXISTING if f.fingerprint in base_fps else FindingState.NEW)
           for f in head]
    out += [dataclasses.replace(f, state=FindingState.FIXED) for f in base if f.fingerprint not in head_fps]
    return out


def scan_pull_request(ctx: RunContext, scope: PullRequestScope, *, name: str, paths: Sequence[str],
                      scan_pair: Callable[[Path, Sequence[str]], tuple[Side, Side]]) -> list[Finding]:
    """Scanner `name`'s findings on the changed `paths` it scans, marked: `scan_pair(base_root, paths)` scans
    them at head (the workspace) and in a checkout of the merge base."""
    if not paths:
        raise NothingToScan(f"the pull request changes no file {name} scans")
    with base_checkout(ctx.workspace, scope.base, paths) as base_root:
        head, base = scan_pair(base_root, paths)
    if isinstance(head, SourceSkipped) and isinstance(base, SourceSkipped):
        raise head  # the head's reason: "not installed", "no API key", "no Python files", …
    sides = [side for side in (head, base) if isinstance(side, list)]
    return Noted(mark(head if isinstance(head, list) else [], base if isinstance(base, list) else []),
                 [n for side in sides for n in notices_of(side)])
