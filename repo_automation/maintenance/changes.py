"""What maintenance proposes: a Change is one pull request on a deterministic branch.

A Change is planned purely (dependency updates, docs upkeep) and carried out by the PullRequestPublisher.
Its edits are functions of the file's current content on the default branch (`None`: no such file), so a
change planned from the checkout is applied to what the repository holds when the sink runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

BRANCH_PREFIX = "repo-automation/"

Transform = Callable[[str | None], str | None]  # current content -> new content (None: leave the file alone)


@dataclass(frozen=True, slots=True, kw_only=True)
class FileEdit:
    path: str  # repo-relative POSIX path
    transform: Transform
    message: str  # the commit message for this file
    # Does the file on the change's branch already carry this edit? None: only when it equals the new content.
    # Used for changes that are not merged automatically: their branch is not rebuilt merely because the
    # default branch moved on (a merged change's branch is kept level with the default branch).
    satisfied: Callable[[str | None], bool] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One pull request the action owns: found again by its branch, updated in place, never duplicated."""

    kind: str  # dependencies | docs
    branch: str
    title: str
    body: str
    edits: tuple[FileEdit, ...]
    merge: bool = False  # merge it (squash) once GitHub allows
    merge_reason: str = ""  # why it is (or is not) merged, for the report
    declined_when_closed: bool = True  # a PR on this branch closed unmerged means "not this one": leave it
    labels: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{self.title} ({self.branch})"


def other_branch(event: Mapping[str, Any], ref: str | None) -> str | None:
    """The pushed branch when the event says it is not the default branch (maintenance follows the default)."""
    repo = event.get("repository")
    default = repo.get("default_branch") if isinstance(repo, Mapping) else None
    if default and ref and ref.startswith("refs/heads/") and ref != f"refs/heads/{default}":
        return ref[len("refs/heads/"):]
    return None
