"""The `docs` sink: the README health badge and the changelog, through one docs pull request.

The pull request lives on the branch `repo-automation/docs`: found again, updated in place, never
duplicated; nothing happens when the default branch already shows the current badge and changelog. Skipped
with skip-docs, when both automation.docs.badges and automation.docs.changelog are false, and on
pull-request runs. The pull request is never merged automatically: a person reads what is published.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import ClassVar

from repo_automation.context import RunContext
from repo_automation.domain import Action, RunReport
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.github.client import GitHubClient
from repo_automation.github.fingerprint import with_marker
from repo_automation.maintenance.changes import BRANCH_PREFIX, Change, FileEdit, other_branch
from repo_automation.maintenance.docs import (
    badge_markdown,
    read_entries,
    render_unreleased,
    with_badge,
    with_unreleased,
)
from repo_automation.report.escape import escape_code
from repo_automation.sinks.github.base import GitHubSink
from repo_automation.sinks.github.pulls import PullRequestPublisher

log = logging.getLogger(__name__)

DOCS_BRANCH = BRANCH_PREFIX + "docs"
TITLE = "docs: update the health badge and changelog"
README = "README.md"
CHANGELOG = "CHANGELOG.md"


class DocsSink(GitHubSink):
    name: ClassVar[str] = "docs"

    def __init__(self, *, client: GitHubClient | None, repository: str | None, badges: bool = True,
                 changelog: bool = False, skip_reason: str | None = None) -> None:
        super().__init__(client=client, repository=repository, skip_reason=skip_reason)
        self.badges = badges
        self.changelog = changelog

    @classmethod
    def from_context(cls, ctx: RunContext, *, client: GitHubClient | None = None,
                     unavailable: str | None = None) -> DocsSink:
        """Production wiring: the run's one client, or None and why (`unavailable`)."""
        badges = ctx.config.docs.badges
        changelog = ctx.config.docs.changelog
        if ctx.settings.skip_docs:
            return cls(client=None, repository=None, skip_reason="skip-docs is set")
        if not badges and not changelog:
            return cls(client=None, repository=None,
                       skip_reason="automation.docs.badges and automation.docs.changelog are both false")
        return cls(client=client, repository=ctx.repository, badges=badges, changelog=changelog,
                   skip_reason=None if client else unavailable)

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        client, repository = self.connected()
        if ctx.pull_request is not None:
            raise SourceSkipped("docs follow the default branch, not a pull request")
        if (branch := other_branch(ctx.event, ctx.ref)) is not None:
            raise SourceSkipped(f"docs follow the default branch; this run is on {branch!r}")

        edits, notes, summary = self._edits(report, ctx)
        if not edits:
            return notes
        body = with_marker("\n".join(["Keeps the repository's documentation current:", "", *summary, "",
                                      "Updated in place by each run; close it to skip these changes."]), "docs")
        change = Change(kind="docs", branch=DOCS_BRANCH, title=TITLE, body=body, edits=tuple(edits), merge=False,
                        merge_reason="docs are reviewed by a person", declined_when_closed=False,
                        labels=("documentation",))
        publisher = PullRequestPublisher(client=client, repository=repository, sink=self.name)
        actions, failures = publisher.publish([change], dry_run=ctx.dry_run)
        if failures:
            raise SourceFailed("docs pull request failed: " + "; ".join(failures))
        return actions + notes

    def _edits(self, report: RunReport, ctx: RunContext) -> tuple[list[FileEdit], list[Action], list[str]]:
        edits: list[FileEdit] = []
        notes: list[Action] = []
        summary: list[str] = []
        if self.badges:
            badge = badge_markdown(report.health)
            if badge is None:
                notes.append(Action(sink=self.name, performed=False,
                                    description="no health score this run: the README badge is left as it is"))
            else:
                edits.append(FileEdit(path=README, transform=lambda text: with_badge(text, badge),
                                      message="docs: update the health badge"))
                summary.append(f"- README badge: health {round(report.health.overall or 0)} "
                               f"(grade {report.health.grade})")
        if self.changelog:
            try:
                entries, tag = read_entries(ctx.workspace)
            except SourceFailed as e:
                notes.append(Action(sink=self.name, performed=False,
                                    description=f"changelog left as it is: the local history cannot be read ({e})"))
            else:
                section = render_unreleased(entries)
                edits.append(FileEdit(path=CHANGELOG, transform=lambda text: with_unreleased(text, section),
                                      message="docs: update the Unreleased section of the changelog"))
                since = f"since {escape_code(tag)}" if tag else "(no tag yet: the whole history)"
                summary.append(f"- {CHANGELOG}: {len(entries)} change(s) {since}")
        return edits, notes, summary
