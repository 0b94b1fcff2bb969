"""The `dependency-updates` sink: reads the pins, asks the package index, plans, and publishes the PRs.

Skipped with skip-deps, when automation.dependency_updates.enabled is false, on pull-request runs (updates
follow the default branch), and when no manifest or no exact pin is found. Ranges and hashed pins are
reported once, never rewritten. A package the index does not know is reported; the others go on.
At most MAX_PULLS_PER_RUN pull requests are touched per run, security updates first.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from repo_automation.config.sections import DependencyUpdates
from repo_automation.context import RunContext
from repo_automation.domain import Action, RunReport
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.github.client import GitHubClient, GitHubError, http_error
from repo_automation.maintenance.changes import other_branch
from repo_automation.maintenance.deps_plan import (
    DEPS_BRANCH,
    MergePolicy,
    Update,
    change_for,
    plan_updates,
    stale_pulls,
)
from repo_automation.maintenance.manifests import Manifests, Pin, Unpinned, find_manifests, parse_manifest
from repo_automation.package_index import PackageIndex, Release
from repo_automation.sinks.github.base import GitHubSink
from repo_automation.sinks.github.pulls import PullRequestPublisher

log = logging.getLogger(__name__)

MAX_PULLS_PER_RUN = 10


def read_manifests(workspace: Path, paths: Sequence[str]) -> Manifests:
    pins: list[Pin] = []
    other: list[Unpinned] = []
    for rel in paths:
        try:
            text = (workspace / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            other.append(Unpinned(path=rel, requirement="", reason=f"cannot be read ({e})"))
            continue
        found = parse_manifest(rel, text)
        pins.extend(found.pins)
        other.extend(found.unpinned)
    return Manifests(pins=tuple(pins), unpinned=tuple(other))


def _unpinned_note(unpinned: Sequence[Unpinned]) -> Action | None:
    if not unpinned:
        return None
    shown = "; ".join(f"{u.path}: {u.requirement or '(file)'} — {u.reason}" for u in unpinned[:10])
    more = f" (and {len(unpinned) - 10} more)" if len(unpinned) > 10 else ""
    return Action(sink=DependencyUpdateSink.name, performed=False,
                  description=f"{len(unpinned)} requirement(s) not updated: {shown}{more}")


class DependencyUpdateSink(GitHubSink):
    name: ClassVar[str] = "dependency-updates"

    def __init__(self, *, client: GitHubClient | None, repository: str | None, index: PackageIndex | None,
                 section: DependencyUpdates, manifests: Sequence[str] = (), skip_reason: str | None = None) -> None:
        """`client` reads and writes, `index` lists versions; `manifests` are repo-relative paths (empty: found
        in the workspace at delivery)."""
        super().__init__(client=client, repository=repository, skip_reason=skip_reason)
        self.index = index
        self.section = section
        self.manifests = tuple(manifests)

    @classmethod
    def from_context(cls, ctx: RunContext, *, client: GitHubClient | None = None,
                     unavailable: str | None = None) -> DependencyUpdateSink:
        """Production wiring: the run's one client, or None and why (`unavailable`). Configured
        requirements_files must exist (ConfigError: exit 2, nothing run)."""
        section = ctx.config.dependency_updates
        if ctx.settings.skip_deps:
            return cls(client=None, repository=None, index=None, section=section, skip_reason="skip-deps is set")
        if not section.enabled:
            return cls(client=None, repository=None, index=None, section=section,
                       skip_reason="automation.dependency_updates.enabled is false")
        configured = list(section.requirements_files)
        manifests = find_manifests(ctx.workspace, configured) if configured else []
        return cls(client=client, repository=ctx.repository, index=PackageIndex.from_context(ctx),
                   section=section, manifests=manifests, skip_reason=None if client else unavailable)

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        self._skip_unless_applicable(ctx)
        found = self._pinned(ctx.workspace)
        releases, problems = self._releases(found.pins)
        updates = self._plan(found.pins, releases, report)
        actions, failures = self._publish(updates[:MAX_PULLS_PER_RUN], found.pins, ctx.dry_run)
        notes = self._notes(found.unpinned, problems, len(updates))
        self._raise_if_failed(actions, failures, problems, updates, found.pins)
        return actions + notes

    def _skip_unless_applicable(self, ctx: RunContext) -> None:
        """SourceSkipped unless this run can and should propose updates (credentials, index, default branch)."""
        self.connected()
        if self.index is None:
            raise SourceSkipped("no package index configured")
        if ctx.pull_request is not None:
            raise SourceSkipped("dependency updates follow the default branch, not a pull request")
        if (branch := other_branch(ctx.event, ctx.ref)) is not None:
            raise SourceSkipped(f"dependency updates follow the default branch; this run is on {branch!r}")

    def _pinned(self, workspace: Path) -> Manifests:
        """The manifests' requirements; SourceSkipped when there is no manifest or no exact pin to update."""
        paths = list(self.manifests) or find_manifests(workspace, [])
        if not paths:
            raise SourceSkipped("no requirements*.txt or pyproject.toml in the workspace")
        found = read_manifests(workspace, paths)
        if not found.pins:
            raise SourceSkipped(f"no exact pins (name==version) in {', '.join(paths)}; "
                                f"{len(found.unpinned)} requirement(s) left as they are")
        return found

    @staticmethod
    def _plan(pins: Sequence[Pin], releases: Mapping[str, Sequence[Release]], report: RunReport) -> list[Update]:
        """Every update the index offers, security updates first (they get the run's pull requests first)."""
        updates = plan_updates(pins, releases, report.findings)
        updates.sort(key=lambda u: (not u.advisories, u.key))
        return updates

    def _publish(self, batch: Sequence[Update], pins: Sequence[Pin],
                 dry_run: bool) -> tuple[list[Action], list[str]]:
        """Publish this run's updates, then close the open update PRs they (or the default branch) supersede."""
        policy = MergePolicy.from_config(self.section)
        changes = [change_for(u, policy) for u in batch]
        publisher = self._publisher()
        actions, failures = publisher.publish(changes, dry_run=dry_run)
        published = [u for u in batch if not any(u.branch in f for f in failures)]
        actions += self._close_stale(publisher, pins, published, failures, dry_run)
        return actions, failures

    def _publisher(self) -> PullRequestPublisher:
        client, repository = self.connected()
        return PullRequestPublisher(client=client, repository=repository, sink=self.name)

    def _notes(self, unpinned: Sequence[Unpinned], problems: Sequence[str], planned: int) -> list[Action]:
        """What was not done, and why: requirements left as they are, index problems, updates left for later."""
        notes = [a for a in (_unpinned_note(unpinned),) if a is not None]
        notes += [Action(sink=self.name, performed=False, description=p) for p in problems]
        if planned > MAX_PULLS_PER_RUN:
            notes.append(Action(sink=self.name, performed=False,
                                description=f"{planned - MAX_PULLS_PER_RUN} more update(s) left for the next "
                                            f"runs (at most {MAX_PULLS_PER_RUN} pull requests per run)"))
        return notes

    @staticmethod
    def _raise_if_failed(actions: Sequence[Action], failures: Sequence[str], problems: Sequence[str],
                         updates: Sequence[Update], pins: Sequence[Pin]) -> None:
        """SourceFailed when a pull request operation failed (saying what was done), or when the index
        answered for no package at all."""
        if failures:
            done = "; ".join(a.description for a in actions) or "nothing"
            raise SourceFailed(f"{len(failures)} pull request operation(s) failed: {'; '.join(failures)} "
                               f"(done: {done})")
        if problems and not updates and len(problems) == len({p.key for p in pins}):
            raise SourceFailed("the package index answered for no package: " + "; ".join(problems[:3]))

    @staticmethod
    def _close_stale(publisher: PullRequestPublisher, pins: Sequence[Pin], updates: Sequence[Update],
                     failures: list[str], dry_run: bool) -> list[Action]:
        """Close open update PRs that a newer proposal supersedes or that the default branch has caught up with."""
        open_pulls = publisher.open_pulls(DEPS_BRANCH)
        out = []
        for branch, comment in stale_pulls(open_pulls, pins, updates):
            try:
                out.append(publisher.close(open_pulls[branch], comment, dry_run=dry_run))
            except GitHubError as e:
                failures.append(f"close #{open_pulls[branch].number}: {http_error(e)}")
        return out

    def _releases(self, pins: Sequence[Pin]) -> tuple[dict[str, list[Release]], list[str]]:
        assert self.index is not None
        out: dict[str, list[Release]] = {}
        problems: list[str] = []
        for pin in pins:
            if pin.key in out:
                continue
            try:
                out[pin.key] = self.index.releases(pin.name)
            except SourceFailed as e:
                problems.append(str(e))
                out[pin.key] = []
        return out, problems
