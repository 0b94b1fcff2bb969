"""On a pull request: the complexity of the changed functions against the pull request's base.

The Python files the pull request changes (those the complexity collector measures) are analysed at head
(the workspace) and at the merge base (read with `git show`, so the checkout is never touched). A function
counts against the pull request when it is over `complexity_threshold` at head and either did not exist at
the base (same file, same qualified name) or was less complex there. Functions that were already over the
threshold and did not get worse are the repository's legacy, not this change.

Metric `code_quality.changed_complex_functions` (source "complexity"): how many such functions; metadata
`base` (the merge base), `changed_files`, `changed_functions` (the functions in those files at head),
`over_threshold` (those over the threshold, worse or not) and `offenders` (path, line, name, complexity,
base_complexity: None for a new function).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from repo_automation.context import PullRequest
from repo_automation.domain import Metric
from repo_automation.errors import SourceFailed
from repo_automation.gitutil import changed_files, run_git

log = logging.getLogger(__name__)

METRIC = "code_quality.changed_complex_functions"


class Measured(Protocol):
    """One function's complexity, as the collector measured it (collectors.complexity.FunctionComplexity)."""

    @property
    def path(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def complexity(self) -> int: ...


Analyse = Callable[[str, str], Sequence[Measured] | None]  # (source text, repo-relative path) -> functions


def changed_complexity(workspace: Path, pr: PullRequest, *, head: Sequence[Measured], measured: set[str],
                       threshold: int, analyse: Analyse) -> tuple[Metric | None, str | None]:
    """The pull request's metric, or None and why it could not be measured (the base is not in the clone).

    `head` are the functions measured in the workspace; `measured` the repo-relative paths the collector
    measures (so an excluded or deleted file is not compared)."""
    try:
        base = run_git(["merge-base", pr.base_sha, "HEAD"], workspace, timeout=30).strip()
        changed = [p for p in changed_files(workspace, pr.base_sha, "HEAD") if p in measured]
    except (SourceFailed, UnicodeDecodeError) as e:
        return None, (f"complexity of the changed functions not compared: the base {pr.base_sha[:12]} cannot be "
                      f"read (use fetch-depth: 0): {e}")
    at_base: dict[tuple[str, str], int] = {}
    for path in changed:
        for f in _base_functions(workspace, base, path, analyse):
            key = (f.path, f.name)
            at_base[key] = max(at_base.get(key, 0), f.complexity)
    in_changed = [f for f in head if f.path in set(changed)]
    over = [f for f in in_changed if f.complexity > threshold]
    worse = [f for f in over if at_base.get((f.path, f.name), 0) < f.complexity]
    worse.sort(key=lambda f: (-f.complexity, f.path, f.line))
    meta = {
        "base": base, "threshold": threshold, "changed_files": len(changed), "changed_functions": len(in_changed),
        "over_threshold": len(over),
        "offenders": [{"path": f.path, "line": f.line, "name": f.name, "complexity": f.complexity,
                       "base_complexity": at_base.get((f.path, f.name))} for f in worse],
    }
    return Metric(name=METRIC, value=float(len(worse)), source="complexity", unit="count", metadata=meta), None


def _base_functions(workspace: Path, base: str, path: str, analyse: Analyse) -> Sequence[Measured]:
    """The functions of `path` at `base` (none when the file did not exist there or does not parse)."""
    try:
        code = run_git(["show", f"{base}:{path}"], workspace, timeout=30, errors="replace")
    except SourceFailed:
        return ()  # added by the pull request (or not readable at the base)
    return analyse(code, path) or ()
