"""The `dependency-updates` sink: reads the pins, asks the package index, plans, and publishes the PRs.

Skipped with skip-deps, when automation.dependency_updates.enabled is false, on pull-request runs (updates
follow the default branch), and when no manifest or no exact pin is found. `frequency` is honoured from the
owned pull requests: a run sooner than that after the last dependency pull request was opened proposes
security updates only (skipped when there is none) and says when the next run is due. Requirements that are
not pins are reported once, never rewritten; a package the index does not know is reported, the others go
on. At most `pull_request_limit` dependency pull requests are open at once (security updates first).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

from repo_automation.config.sections import DependencyUpdates
from repo_automation.context import RunContext
from repo_automation.domain import Action, RunReport
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.github.client import GitHubClient, GitHubError, http_error
from repo_automation.maintenance.buckets import Advisories, Bucket, Rules
from repo_automation.maintenance.changes import Change, other_branch
from repo_automation.maintenance.deps_plan import DEPS_BRANCH, MergePolicy, Plan, grouped, plan_updates, stale_pulls
from repo_automation.manifests import Manifest, Pin, Unpinned, find_manifests, lock_refresh, parse_manifest
from repo_automation.package_index import PackageIndex, Release
from repo_automation.sinks.github.base import GitHubSink
from repo_automation.sinks.github.pulls import PullRequestPublisher

log = logging.getLogger(__name__)

PERIODS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(days=7),
           "monthly": timedelta(days=30)}


def read_manifests(workspace: Path, paths: Sequence[str]) -> Manifest:
    pins: list[Pin] = []
    other: list[Unpinned] = []
    for rel in paths:
        try:
            found = parse_manifest(rel, (workspace / rel).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            other.append(Unpinned(path=rel, requirement="", reason=f"cannot be read ({e})"))
            continue
        if found.foreign:  # named like a manifest, but none (a reST page called constraints.txt): said, not read
            other.append(Unpinned(path=rel, requirement="", reason=found.foreign))
        pins.extend(found.pins)
        other.extend(found.unpinned)
    return Manifest(pins=tuple(pins), unpinned=tuple(other))


def next_due(created: Sequence[str], frequency: str) -> datetime | None:
    """When the next update run is due: the newest owned pull request's creation plus the period."""
    stamps = [datetime.fromisoformat(c.replace("Z", "+00:00")) for c in created if c]
    return max(stamps) + PERIODS[frequency] if stamps else None


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
                 section: DependencyUpdates, manifests: Sequence[str] = (), skip_reason: str | None = None,
                 advisories: Advisories | None = None) -> None:
        """`client` reads and writes, `index` lists versions, `advisories` says which advisories a version has
        (None: targets are not checked); `manifests` are repo-relative paths (empty: found at delivery)."""
        super().__init__(client=client, repository=repository, skip_reason=skip_reason)
        self.index = index
        self.section = section
        self.manifests = tuple(manifests)
        self.advisories = advisories

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
        scanning = ctx.config.security_scanning
        advisories = None
        if scanning.vulnerability_service == "osv":
            from repo_automation.scanners.osv import OSVSeverity  # lazily: only runs that update dependencies

            advisories = OSVSeverity.for_url(scanning.osv_url).advisories
        return cls(client=client, repository=ctx.repository, index=PackageIndex.from_context(ctx),
                   section=section, manifests=manifests, skip_reason=None if client else unavailable,
                   advisories=advisories)

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        self._skip_unless_applicable(ctx)
        found = self._pinned(ctx.workspace)
        publisher = self._publisher()
        due = next_due([p.created_at for p in publisher.owned_pulls(DEPS_BRANCH)], self.section.frequency)
        early = due is not None and ctx.now < due
        releases, problems = self._releases(found.pins)
        plan = plan_updates(found.pins, releases, self._rules(ctx.now, security_only=early), report.findings)
        if early and not plan.updates:
            raise SourceSkipped(f"frequency {self.section.frequency}: the next dependency update run is due "
                                f"{due:%Y-%m-%d %H:%M} UTC (no security update meanwhile)")
        locks = {p.path: lock_refresh(ctx.workspace, p.path) for p in found.pins}
        changes = grouped(plan.updates, self.section.group, MergePolicy.from_config(self.section), locks)
        actions, failures, left = self._publish(publisher, changes, ctx.dry_run, close=not problems and not early)
        notes = self._notes(found.unpinned, problems, plan, left)
        when = due if early else ctx.now + PERIODS[self.section.frequency]
        notes.append(Action(sink=self.name, performed=False,
                            description=f"next dependency update run due {when:%Y-%m-%d %H:%M} UTC "
                                        f"(frequency {self.section.frequency})"))
        self._raise_if_failed(actions, failures, problems, plan, found.pins)
        return actions + notes

    def _rules(self, now: datetime, *, security_only: bool) -> Rules:
        assert self.index is not None
        return Rules(buckets=() if security_only else tuple(Bucket(b) for b in self.section.buckets),
                     min_age=timedelta(days=self.section.minimum_release_age_days),
                     security_min_age=timedelta(days=self.section.security_updates.minimum_release_age_days),
                     now=now, uploaded=self.index.uploaded, advisories=self.advisories)

    def _skip_unless_applicable(self, ctx: RunContext) -> None:
        """SourceSkipped unless this run can and should propose updates (credentials, index, default branch)."""
        self.connected()
        if self.index is None:
            raise SourceSkipped("no package index configured")
        if ctx.pull_request is not None:
            raise SourceSkipped("dependency updates follow the default branch, not a pull request")
        if (branch := other_branch(ctx.event, ctx.ref)) is not None:
            raise SourceSkipped(f"dependency updates follow the default branch; this run is on {branch!r}")

    def _pinned(self, workspace: Path) -> Manifest:
        """The manifests' requirements; SourceSkipped when there is no manifest or no exact pin to update."""
        paths = list(self.manifests) or find_manifests(workspace, [])
        if not paths:
            raise SourceSkipped("no pyproject.toml, requirements or constraints file in the workspace")
        found = read_manifests(workspace, paths)
        if not found.pins:
            raise SourceSkipped(f"no exact pins (name==version) in {', '.join(paths)}; "
                                f"{len(found.unpinned)} requirement(s) left as they are")
        return found

    def _publisher(self) -> PullRequestPublisher:
        client, repository = self.connected()
        auto = self.section.auto_merge
        return PullRequestPublisher(client=client, repository=repository, sink=self.name, merge_method=auto.method,
                                    merge_without_checks=auto.without_required_checks)

    def _publish(self, publisher: PullRequestPublisher, changes: Sequence[Change], dry_run: bool, *,
                 close: bool) -> tuple[list[Action], list[str], int]:
        """Publish this run's changes within the open pull request limit, then close the open update pull
        requests no change proposes any more. Returns the actions, the failures and the changes left out."""
        open_pulls = publisher.open_pulls(DEPS_BRANCH)
        room = max(self.section.pull_request_limit - len(open_pulls), 0)
        batch: list[Change] = []
        for change in changes:
            if change.branch in open_pulls:
                batch.append(change)
            elif room > 0:
                batch.append(change)
                room -= 1
        actions, failures = publisher.publish(batch, dry_run=dry_run)
        if close:
            for branch, comment in stale_pulls(open_pulls, changes):
                try:
                    actions.append(publisher.close(open_pulls[branch], comment, dry_run=dry_run))
                except GitHubError as e:
                    failures.append(f"close #{open_pulls[branch].number}: {http_error(e)}")
        return actions, failures, len(changes) - len(batch)

    def _notes(self, unpinned: Sequence[Unpinned], problems: Sequence[str], plan: Plan, left: int) -> list[Action]:
        """What was not done, and why: requirements left as they are, index problems, versions not proposed,
        updates left for later."""
        notes = [a for a in (_unpinned_note(unpinned),) if a is not None]
        notes += [Action(sink=self.name, performed=False, description=p) for p in (*problems, *plan.notes)]
        if left:
            limit = self.section.pull_request_limit
            notes.append(Action(sink=self.name, performed=False,
                                description=f"{left} more update(s) left for the next runs (at most {limit} "
                                            "dependency pull requests open at once: pull_request_limit)"))
        return notes

    @staticmethod
    def _raise_if_failed(actions: Sequence[Action], failures: Sequence[str], problems: Sequence[str],
                         plan: Plan, pins: Sequence[Pin]) -> None:
        """SourceFailed when a pull request operation failed (saying what was done), or when the index
        answered for no package at all."""
        if failures:
            done = "; ".join(a.description for a in actions) or "nothing"
            raise SourceFailed(f"{len(failures)} pull request operation(s) failed: {'; '.join(failures)} "
                               f"(done: {done})")
        if problems and not plan.updates and len(problems) == len({p.key for p in pins}):
            raise SourceFailed("the package index answered for no package: " + "; ".join(problems[:3]))

    def _releases(self, pins: Sequence[Pin]) -> tuple[Mapping[str, list[Release]], list[str]]:
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
