"""Issues that never duplicate: a pure planner and the `issues` sink that applies its plan.

`plan_issue_sync(desired, existing)` compares the issues this run wants (one per finding group, fired alert
and failed gate — see issue_content.py) with the action's existing issues, matched by the fingerprint
marker in their bodies, and returns the operations: create, update (only when title, body or labels
changed), close with a comment (the problem is gone), reopen with a comment (it came back), and close
duplicates. The sink lists the action's issues once (by its label, state=all, paginated), applies the plan
through the run's GitHubClient, and — because a POST retried after a gateway error may have created an issue
twice — after any creation lists once more and closes extra copies. In a dry run it only reads.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from repo_automation.context import RunContext
from repo_automation.domain import Action, ChangeKind, RunReport
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.github.client import GitHubClient, GitHubError, http_error
from repo_automation.github.fingerprint import find_fingerprint
from repo_automation.runner import run_link
from repo_automation.sinks.github.base import GitHubSink
from repo_automation.sinks.github.issue_content import OWNED_LABEL, DesiredIssue, IssuePlanInput, desired_issues

log = logging.getLogger(__name__)

# GitHub's secondary limits allow about 80 content-creating requests a minute and 500 an hour: a first run on a
# repository with hundreds of findings creates the worst 30 issues and leaves the rest to the next runs.
CREATES_PER_RUN = 30
LABEL_COLORS = {"security": "d73a4a", OWNED_LABEL: "5319e7"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ExistingIssue:
    number: int
    title: str
    body: str
    labels: tuple[str, ...]
    state: str  # open | closed
    state_reason: str | None = None
    fingerprint: str | None = None


class OpKind(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    CLOSE = "close"
    REOPEN = "reopen"
    CLOSE_DUPLICATE = "close-duplicate"


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueOp:
    kind: OpKind
    fingerprint: str
    number: int | None = None  # None for CREATE
    title: str | None = None
    body: str | None = None
    labels: tuple[str, ...] = ()
    comment: str | None = None

    @property
    def change(self) -> ChangeKind:
        """The kind of change this operation makes, for automation_changes_total."""
        return {OpKind.CREATE: ChangeKind.ISSUE_CREATED, OpKind.UPDATE: ChangeKind.ISSUE_UPDATED,
                OpKind.CLOSE: ChangeKind.ISSUE_CLOSED, OpKind.REOPEN: ChangeKind.ISSUE_REOPENED,
                OpKind.CLOSE_DUPLICATE: ChangeKind.ISSUE_CLOSED}[self.kind]

    def describe(self) -> str:
        where = f"#{self.number}" if self.number is not None else "new issue"
        what = {OpKind.CREATE: "create", OpKind.UPDATE: "update", OpKind.CLOSE: "close",
                OpKind.REOPEN: "reopen", OpKind.CLOSE_DUPLICATE: "close duplicate"}[self.kind]
        title = f" {self.title!r}" if self.title else ""
        return f"{what} issue {where}{title} [{self.fingerprint}]"


def _labels_missing(want: Sequence[str], have: Sequence[str]) -> bool:
    have_lower = {x.lower() for x in have}
    return any(x.lower() not in have_lower for x in want)


def _merged_labels(want: Sequence[str], have: Sequence[str]) -> tuple[str, ...]:
    """Keep labels people added; add ours."""
    out = list(have)
    for x in want:
        if x.lower() not in {y.lower() for y in out}:
            out.append(x)
    return tuple(out)


def plan_issue_sync(desired: Sequence[DesiredIssue], existing: Sequence[ExistingIssue],
                    *, protected: Sequence[str] = (), closing_comment: str = "", reopening_comment: str = ""
                    ) -> list[IssueOp]:
    """What to do so that each desired fingerprint has exactly one open issue and the rest are closed.

    `protected` lists fingerprint prefixes whose source was not measured this run (a scanner failed or was
    skipped): their issues are not closed, since absence proves nothing. An issue closed by a person as "not
    planned" is left closed: someone decided. Among several issues with one fingerprint the open one with
    the lowest number is kept; other open copies are closed as duplicates.
    """
    by_fp: dict[str, list[ExistingIssue]] = {}
    for issue in existing:
        if issue.fingerprint:
            by_fp.setdefault(issue.fingerprint, []).append(issue)
    ops: list[IssueOp] = []
    primary: dict[str, ExistingIssue] = {}
    for fp, issues in by_fp.items():
        ordered = sorted(issues, key=lambda i: (i.state != "open", i.number))
        primary[fp] = ordered[0]
        for dup in ordered[1:]:
            if dup.state == "open":
                ops.append(IssueOp(kind=OpKind.CLOSE_DUPLICATE, fingerprint=fp, number=dup.number,
                                   comment=f"Duplicate of #{ordered[0].number}."))
    wanted = {d.fingerprint: d for d in desired}
    for fp, d in wanted.items():
        ops.extend(_plan_one(d, primary.get(fp), reopening_comment))
    for fp, issue in primary.items():
        if fp not in wanted and issue.state == "open" and not fp.startswith(tuple(protected)):
            ops.append(IssueOp(kind=OpKind.CLOSE, fingerprint=fp, number=issue.number, title=issue.title,
                               comment=closing_comment or "No longer detected: closing."))
    return ops


def _plan_one(d: DesiredIssue, have: ExistingIssue | None, reopening_comment: str) -> list[IssueOp]:
    if have is None:
        return [IssueOp(kind=OpKind.CREATE, fingerprint=d.fingerprint, title=d.title, body=d.body, labels=d.labels)]
    changed = have.title != d.title or have.body != d.body or _labels_missing(d.labels, have.labels)
    labels = _merged_labels(d.labels, have.labels)
    if have.state == "open":
        if not changed:
            return []
        return [IssueOp(kind=OpKind.UPDATE, fingerprint=d.fingerprint, number=have.number, title=d.title,
                        body=d.body, labels=labels)]
    if have.state_reason == "not_planned":
        return []
    return [IssueOp(kind=OpKind.REOPEN, fingerprint=d.fingerprint, number=have.number, title=d.title, body=d.body,
                    labels=labels, comment=reopening_comment or "Detected again: reopening.")]


# -- the sink ------------------------------------------------------------------------------------------
def existing_from_json(item: Mapping[str, Any]) -> ExistingIssue:
    body = str(item.get("body") or "")
    return ExistingIssue(number=int(item["number"]), title=str(item.get("title") or ""), body=body,
                         labels=tuple(str(lab["name"]) for lab in item.get("labels") or () if isinstance(lab, dict)),
                         state=str(item.get("state") or "open"), state_reason=item.get("state_reason"),
                         fingerprint=find_fingerprint(body))


def _other_branch(ctx: RunContext) -> str | None:
    """The pushed branch when the event says it is not the default branch (no API call needed)."""
    repo = ctx.event.get("repository")
    default = repo.get("default_branch") if isinstance(repo, Mapping) else None
    if default and ctx.ref and ctx.ref.startswith("refs/heads/") and ctx.ref != f"refs/heads/{default}":
        return ctx.ref[len("refs/heads/"):]
    return None


def _plan(wanted: IssuePlanInput, existing: Sequence[ExistingIssue], ctx: RunContext) -> list[IssueOp]:
    """The sync plan, with closing and reopening comments that name the run's commit and link it."""
    link = run_link(ctx.env)
    at = f" in the run on {ctx.sha[:12]}" if ctx.sha else ""
    more = f" ([run]({link}))" if link else ""
    return plan_issue_sync(wanted.desired, existing, protected=wanted.protected,
                           closing_comment=f"No longer detected{at}{more}: closing. Reopened if it comes back.",
                           reopening_comment=f"Detected again{at}{more}: reopening.")


def _cap_creates(ops: Sequence[IssueOp]) -> tuple[list[IssueOp], list[Action]]:
    creates = [op for op in ops if op.kind is OpKind.CREATE]
    if len(creates) <= CREATES_PER_RUN:
        return list(ops), []
    dropped = {id(op) for op in creates[CREATES_PER_RUN:]}
    note = Action(sink="issues", performed=False,
                  description=f"{len(dropped)} more new issue(s) left for the next runs: GitHub limits how fast "
                              f"content is created, so at most {CREATES_PER_RUN} are opened per run (worst first)")
    return [op for op in ops if id(op) not in dropped], [note]


class IssueSink(GitHubSink):
    """Keeps one issue per finding group, fired alert and failed gate; closes, reopens, never duplicates."""

    name: ClassVar[str] = "issues"

    @classmethod
    def from_context(cls, ctx: RunContext, *, client: GitHubClient | None = None,
                     unavailable: str | None = None) -> IssueSink:
        """Production wiring: the run's one client, or None and why (`unavailable`)."""
        if not ctx.settings.create_issues:
            return cls(client=None, repository=None, skip_reason="issues are off (set create-issues: true)")
        return cls(client=client, repository=ctx.repository, skip_reason=None if client else unavailable)

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        self._require_default_branch_run(ctx)
        wanted = desired_issues(report, ctx)
        ops, actions = _cap_creates(_plan(wanted, self._list(), ctx))
        failures: list[str] = []
        labels = sorted({lab for op in ops for lab in op.labels}, key=str.lower)
        actions += self._ensure_labels(labels, failures, dry_run=ctx.dry_run)
        if ctx.dry_run:
            if failures:
                raise SourceFailed(f"dry run: {'; '.join(failures)}")
            return actions + [Action(sink=self.name, description=op.describe(), performed=False,
                                     target=self._target(op), change=op.change) for op in ops]
        actions += self._apply(ops, failures)
        actions += self._close_duplicates(wanted, ops, failures)
        if failures:
            done = "; ".join(a.description for a in actions) or "nothing"
            raise SourceFailed(f"{len(failures)} issue operation(s) failed: {'; '.join(failures)} (done: {done})")
        return actions

    def _require_default_branch_run(self, ctx: RunContext) -> None:
        """SourceSkipped unless issues are on, connected, and this run is on the default branch."""
        self.connected()
        if ctx.pull_request is not None:
            raise SourceSkipped("issues follow the default branch; a pull request gets a check run and a comment")
        if (branch := _other_branch(ctx)) is not None:
            raise SourceSkipped(f"issues follow the default branch; this run is on {branch!r}")

    def _close_duplicates(self, wanted: IssuePlanInput, ops: Sequence[IssueOp], failures: list[str]
                          ) -> list[Action]:
        """After any creation, list again and close extra copies: a retried POST may have created two."""
        if not any(op.kind is OpKind.CREATE for op in ops):
            return []
        dups = [op for op in plan_issue_sync(wanted.desired, self._list()) if op.kind is OpKind.CLOSE_DUPLICATE]
        return self._apply(dups, failures)

    def _list(self) -> list[ExistingIssue]:
        """The action's issues, open and closed: one conditional listing by the action's label."""
        client, repository = self.connected()
        items = client.list_all(f"/repos/{repository}/issues", {"state": "all", "labels": OWNED_LABEL})
        return [existing_from_json(i) for i in items if "pull_request" not in i]

    def _target(self, op: IssueOp) -> str | None:
        return f"{self.repository}#{op.number}" if op.number is not None else self.repository

    def _ensure_labels(self, names: Sequence[str], failures: list[str], *, dry_run: bool) -> list[Action]:
        """Create the labels the operations need and the repository lacks (a dry run only says so)."""
        if not names:
            return []
        client, repository = self.connected()
        try:
            listed = client.list_all(f"/repos/{repository}/labels")
        except SourceFailed as e:
            failures.append(f"list labels: {e}")
            return []
        have = {str(lab.get("name", "")).lower() for lab in listed}
        out = []
        for name in (n for n in names if n.lower() not in have):
            if not dry_run:
                try:
                    client.create_label(repository, name, LABEL_COLORS.get(name.lower(), "ededed"))
                except GitHubError as e:
                    if e.status != 422:  # 422 already_exists: someone made it meanwhile, which is fine
                        failures.append(f"create label {name!r}: {http_error(e)}")
                    continue
            out.append(Action(sink=self.name, description=f"create label {name!r}", performed=not dry_run,
                              target=self.repository))
        return out

    def _apply(self, ops: Sequence[IssueOp], failures: list[str]) -> list[Action]:
        out = []
        for op in ops:
            try:
                url = self._apply_one(op)
            except Exception as e:  # noqa: BLE001 — one failed operation must not stop the others
                log.warning("issue operation failed: %s: %s", op.describe(), http_error(e))
                failures.append(f"{op.describe()}: {http_error(e)}")
                continue
            out.append(Action(sink=self.name, description=op.describe(), performed=True, target=url,
                              change=op.change))
        return out

    def _apply_one(self, op: IssueOp) -> str:
        client, repository = self.connected()
        if op.kind is OpKind.CREATE:
            assert op.title is not None and op.body is not None
            return client.create_issue(repository, title=op.title, body=op.body, labels=op.labels).url
        assert op.number is not None
        if op.kind is OpKind.UPDATE:
            assert op.title is not None and op.body is not None
            return client.edit_issue(repository, op.number, title=op.title, body=op.body, labels=op.labels).url
        if op.kind is OpKind.REOPEN:
            assert op.title is not None and op.body is not None
            issue = client.edit_issue(repository, op.number, state="open", title=op.title, body=op.body,
                                      labels=op.labels)
            client.comment(repository, op.number, op.comment or "Reopening.")
            return issue.url
        # state first: if the comment then fails, the next run has nothing left to repeat
        reason = "duplicate" if op.kind is OpKind.CLOSE_DUPLICATE else "completed"
        issue = client.edit_issue(repository, op.number, state="closed", state_reason=reason)
        client.comment(repository, op.number, op.comment or "Closing.")
        return issue.url
