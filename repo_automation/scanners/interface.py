"""What every scanner adapter shares: options from the config, the scan scope, running the tool, PR mode.

An adapter subclasses ToolScanner and implements `scan_tree(ctx, root, paths)`: run the tool over `root`
(the workspace, or a checkout of the base revision in PR mode), restricted to the repo-relative `paths`
when given, and return normalised Findings with repo-relative POSIX locations. `scan(ctx)` adds PR mode
and the scope of each finding (`scoped`).

The scope (`scan_exclude`): `exclude` plus `exclude_extra`, the run's output folder (`exclude_output_dir`)
and what `.gitignore` ignores (`exclude_gitignored`) are never scanned; the adapters list files through
`python_files` / `manifests` / `walk` here, and tools that walk a tree themselves (trivy) are given the
same scope as their own skip flags. Findings in test code (`test_paths` plus `test_paths_extra`) are marked
`scope: test`; a rule of `test_ignore_rules` (bandit's B101) there is no finding at all.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
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
from repo_automation.discover import is_excluded, manifests, python_files, walk, within
from repo_automation.domain import Finding, FindingScope
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.scanners.prmode import PullRequestScope, Side, scan_pull_request
from repo_automation.stages import Noted, Scanner, notices_of

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


def scan_exclude(ctx: RunContext, sec: SecurityScanning) -> tuple[str, ...]:
    """Every exclude glob of this run: `exclude`, `exclude_extra` and, with `exclude_output_dir`, the output
    folder when it lies inside the workspace (anchored at the top: `/reports`)."""
    out = list(sec.excluded)
    if sec.exclude_output_dir:
        output = ctx.settings.resolve(ctx.settings.output_dir).resolve()
        workspace = ctx.workspace.resolve()
        if output != workspace and output.is_relative_to(workspace):
            out.append("/" + output.relative_to(workspace).as_posix())
    return tuple(out)


@dataclass(kw_only=True)
class ToolScanner(Scanner):
    """Base of the adapters: options and PR mode. A scan returns its notices (partial skips, tool errors)
    with its findings (stages.Noted)."""

    name: ClassVar[str]
    options: SecurityScanning  # automation.security_scanning
    executable: str | None = None  # None: find the tool on PATH when scanning
    paths: tuple[str, ...] | None = None  # restrict to these repo-relative paths (None: options.paths/all)
    pr_scope: PullRequestScope | None = None  # set by build_scanners on pull requests in PR mode
    scope_exclude: tuple[str, ...] | None = None  # scan_exclude(ctx), set by make_scanner; None: the options'

    @property
    def exclude(self) -> tuple[str, ...]:
        return self.scope_exclude if self.scope_exclude is not None else self.options.excluded

    @property
    def with_gitignored(self) -> bool:
        return not self.options.exclude_gitignored

    def python_files(self, root: Path, paths: Sequence[str] | None) -> list[str]:
        return python_files(root, paths, self.options.paths, self.exclude, with_gitignored=self.with_gitignored)

    def manifests(self, root: Path, paths: Sequence[str] | None) -> list[str]:
        return manifests(root, paths, self.options.paths, self.exclude, with_gitignored=self.with_gitignored)

    def walk(self, root: Path) -> list[str]:
        return walk(root, self.options.paths, self.exclude, with_gitignored=self.with_gitignored)

    def tool(self) -> str:
        exe = self.executable or find_tool(self.name)
        if exe is None:
            raise SourceSkipped(f"{self.name} is not installed")
        return exe

    def scan(self, ctx: RunContext) -> Sequence[Finding]:
        if self.pr_scope is not None:
            relevant = [p for p in self.relevant(self.pr_scope.changed) if within(p, self.options.paths)]
            return self.scoped(scan_pull_request(ctx, self.pr_scope, name=self.name, paths=relevant,
                                                 scan_pair=partial(self.scan_pair, ctx)))
        return self.scoped(self.scan_tree(ctx, ctx.workspace, self.paths))

    def scoped(self, findings: Sequence[Finding]) -> Noted[Finding]:
        """The findings with their scope: `test` for a location in test code, where a rule of
        `test_ignore_rules` is dropped; notices kept."""
        globs, dropped = self.options.test_globs, frozenset(self.options.test_ignore_rules)
        out: list[Finding] = []
        for f in findings:
            if f.location is not None and f.location.path and is_excluded(f.location.path, globs):
                if f.rule_id in dropped:
                    continue
                f = dataclasses.replace(f, scope=FindingScope.TEST)
            out.append(f)
        return Noted(out, notices_of(findings))

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
