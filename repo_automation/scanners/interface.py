"""What every scanner adapter shares: options from the config, running the tool, the PR-mode split.

An adapter subclasses ToolScanner and implements `scan_tree(ctx, root, paths)`: run the tool over `root`
(the workspace, or a checkout of the base revision in PR mode), restricted to the repo-relative `paths`
when given, and return normalised Findings with repo-relative POSIX locations. `scan(ctx)` adds PR mode.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from repo_automation.config.sections import SecurityScanning
from repo_automation.context import RunContext
from repo_automation.discover import within
from repo_automation.domain import Finding
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.scanners.prmode import PullRequestScope, Side, scan_pull_request
from repo_automation.stages import Scanner

log = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True, kw_only=True)
class ToolResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float

    def stderr_tail(self, limit: int = 500) -> str:
        """The end of stderr for a reason; the tool's ERROR lines alone when it printed some."""
        lines = self.stderr.strip().splitlines()
        errors = [ln for ln in lines if "ERROR" in ln or "Error" in ln]
        text = "\n".join(errors or lines).strip()
        return text[-limit:] if text else "(no output on stderr)"


def find_tool(name: str, search_path: str | None = None) -> str | None:
    """The executable for `name`: on PATH, else beside this Python (the venv's bin folder)."""
    found = shutil.which(name, path=search_path)
    if found:
        return found
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def run_tool(argv: Sequence[str], *, cwd: Path, timeout: float, env: Mapping[str, str] | None = None,
             label: str | None = None) -> ToolResult:
    """Run a scanner: argument list, time limit, stderr kept. Missing binary -> SourceSkipped.

    The tool runs in its own process group, so a timeout stops it and every helper it started
    (semgrep-core, bandit's workers), not just the top process.
    """
    tool = label or Path(argv[0]).name
    start = time.monotonic()
    try:
        proc = subprocess.Popen(list(argv), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True, env=dict(env) if env is not None else None,
                                start_new_session=True)
    except FileNotFoundError as e:
        raise SourceSkipped(f"{tool} is not installed ({argv[0]} not found)") from e
    except PermissionError as e:
        raise SourceFailed(f"{tool} cannot be executed: {e}") from e
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as e:
        _kill_group(proc)
        raise SourceFailed(f"{tool} timed out after {timeout:g}s") from e
    except BaseException:
        _kill_group(proc)
        raise
    duration = time.monotonic() - start
    log.debug("%s exited %s in %.2fs", tool, proc.returncode, duration)
    return ToolResult(argv=tuple(argv), returncode=proc.returncode, stdout=stdout, stderr=stderr,
                      duration_s=duration)


def load_json_report(text: str, tool: str) -> dict[str, Any]:
    """A tool's JSON report that must hold a `results` list (bandit, semgrep); SourceFailed otherwise."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SourceFailed(f"{tool} wrote output that is not JSON ({e})") from e
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise SourceFailed(f"{tool}'s JSON report has no 'results' list")
    return data


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def _or_skip(scan: Callable[[], list[Finding]]) -> Side:
    try:
        return scan()
    except SourceSkipped as e:  # e.g. every changed file is new (base) or deleted (head)
        return e


def at_once(name: str, head: Callable[[], list[Finding]], base: Callable[[], list[Finding]]) -> tuple[Side, Side]:
    """Run the head's and the base's scan in two threads; a failure of either is raised."""
    with cf.ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"pr-{name}") as pool:
        head_job, base_job = pool.submit(_or_skip, head), pool.submit(_or_skip, base)
        return head_job.result(), base_job.result()


@dataclass(kw_only=True)
class ToolScanner(Scanner):
    """Base of the adapters: options and PR mode. A scan returns its notices (partial skips, tool errors)
    with its findings (stages.Noted)."""

    name: ClassVar[str]
    options: SecurityScanning  # automation.security_scanning
    executable: str | None = None  # None: find the tool on PATH when scanning
    paths: tuple[str, ...] | None = None  # restrict to these repo-relative paths (None: options.paths/all)
    pr_scope: PullRequestScope | None = None  # set by build_scanners on pull requests in PR mode

    def tool(self) -> str:
        exe = self.executable or find_tool(self.name)
        if exe is None:
            raise SourceSkipped(f"{self.name} is not installed")
        return exe

    def scan(self, ctx: RunContext) -> Sequence[Finding]:
        if self.pr_scope is not None:
            relevant = [p for p in self.relevant(self.pr_scope.changed) if within(p, self.options.paths)]
            return scan_pull_request(ctx, self.pr_scope, name=self.name, paths=relevant,
                                     scan_pair=partial(self.scan_pair, ctx))
        return self.scan_tree(ctx, ctx.workspace, self.paths)

    def relevant(self, paths: Sequence[str]) -> list[str]:
        """Of the changed paths, those this tool scans (PR mode). Default: all."""
        return list(paths)

    def scan_pair(self, ctx: RunContext, base_root: Path, paths: Sequence[str]) -> tuple[Side, Side]:
        """PR mode: the head's and the base's findings (or why a side was skipped). Default: the same paths
        scanned in both trees at once, so a tool's start-up (seconds for semgrep) is paid in parallel."""
        return at_once(self.name, partial(self.scan_tree, ctx, ctx.workspace, paths),
                       partial(self.scan_tree, ctx, base_root, paths))

    def notice(self, text: str) -> str:
        """`text` as this scanner's notice for the report (logged); return it with the findings (Noted)."""
        log.warning("%s: %s", self.name, text)
        return f"{self.name}: {text}"

    @abstractmethod
    def scan_tree(self, ctx: RunContext, root: Path, paths: Sequence[str] | None) -> list[Finding]:
        """Scan `root` (restricted to repo-relative `paths` when given); locations relative to root. Notices
        for the report (a partial skip, a tool's own errors) come back with the findings: `Noted`."""
