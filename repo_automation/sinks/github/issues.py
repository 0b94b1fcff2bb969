"""Issues that never duplicate: a pure planner and the `issues` sink that applies its plan.

`plan_issue_sync(desired, existing)` compares the issues this run wants (one per finding group, fired alert
and failed gate — see issue_content.py) with the action's existing issues, matched by the fingerprint
marker in their bodies, and returns the operations: create, update (only when title, body or labels
changed), close with a comment (the problem is gone), reopen with a comment (it came back), close
duplicates, migrate (an issue of one advisory, from before issues were grouped by package, is closed with a
link to its package's issue), and keep open (the problem was not seen, but a tool that owns the issue
failed this run: the issue says so, and only its owners can close it).

The sink lists the repository's issues once (state=all, paginated, conditional) and keeps those with the
action's marker, whatever their labels and whoever wrote them (a label removed by hand, an issue written
under another token: still ours, never duplicated). It applies the plan through the run's GitHubClient,
and — because a POST retried after a gateway error may have created an issue twice — after any creation
lists once more and closes extra copies. In a dry run it only reads.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from repo_automation.context import RunContext
from repo_automation.domain import Action, ChangeKind, RunReport
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.github.client import GitHubClient, GitHubError, http_error
from repo_automation.github.fingerprint import find_fingerprint, make_fingerprint
from repo_automation.maintenance.deps_plan import DEPS_BRANCH
from repo_automation.package_index import parse_version
from repo_automation.report.escape import escape_markdown
from repo_automation.runner import run_link
from repo_automation.sinks.github.base import GitHubSink
from repo_automation.sinks.github.issue_content import (
    OWNED_LABEL,
    OWNERS_PREFIX,
    DesiredIssue,
    IssuePlanInput,
    aliases_of,
    desired_issues,
    owners_of,
)
from repo_automation.sinks.github.package_issue import UpdatePull

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
    MIGRATE = "migrate"
    KEEP_OPEN = "keep-open"


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueOp:
    kind: OpKind
    fingerprint: str
    number: int | None = None  # None for CREATE
    title: str | None = None
    body: str | None = None
    labels: tuple[str, ...] = ()
    comment: str | None = None
    into: str | None = None  # MIGRATE: the fingerprint of the issue that replaces it
    why: str | None = None  # KEEP_OPEN: which owner failed, and its reason

    @property
    def change(self) -> ChangeKind | None:
        """The kind of change this operation makes, for automation_changes_total (none: an issue kept open
        that already says why is not written)."""
        if self.kind is OpKind.KEEP_OPEN and self.body is None:
            return None
        return {OpKind.CREATE: ChangeKind.ISSUE_CREATED, OpKind.UPDATE: ChangeKind.ISSUE_UPDATED,
                OpKind.CLOSE: ChangeKind.ISSUE_CLOSED, OpKind.REOPEN: ChangeKind.ISSUE_REOPENED,
                OpKind.CLOSE_DUPLICATE: ChangeKind.ISSUE_CLOSED, OpKind.MIGRATE: ChangeKind.ISSUE_CLOSED,
                OpKind.KEEP_OPEN: ChangeKind.ISSUE_UPDATED}[self.kind]

    def describe(self) -> str:
        where = f"#{self.number}" if self.number is not None else "new issue"
        what = {OpKind.CREATE: "create", OpKind.UPDATE: "update", OpKind.CLOSE: "close",
                OpKind.REOPEN: "reopen", OpKind.CLOSE_DUPLICATE: "close duplicate",
                OpKind.MIGRATE: "close (migrated)", OpKind.KEEP_OPEN: "keep open"}[self.kind]
        title = f" {self.title!r}" if self.title else ""
        extra = f" into the issue [{self.into}]" if self.into else f": {self.why}" if self.why else ""
        return f"{what} issue {where}{title} [{self.fingerprint}]{extra}"


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
                    *, protected: Sequence[str] = (), closing_comment: str = "", reopening_comment: str = "",
                    failed: Mapping[str, str] | None = None, scanners: Sequence[str] = ()) -> list[IssueOp]:
    """What to do so that each desired fingerprint has exactly one open issue and the rest are closed.

    `protected` lists fingerprint prefixes whose source was not measured this run: their issues are not
    closed, since absence proves nothing. `failed` names the scanners that failed this run (and why): an
    issue one of its owners failed to re-check is kept open and says why (`scanners`: every scanner of the
    run, the owners of an advisory issue from before owners were recorded). An issue of one advisory that a
    package issue now holds is migrated. An issue closed by a person as "not planned" is left closed:
    someone decided. Among several issues with one fingerprint the open one with the lowest number is kept;
    other open copies are closed as duplicates.
    """
    primary, ops = _primaries(existing)
    wanted = {d.fingerprint: d for d in desired}
    claimed: set[str] = set()  # issues taken over under an alias: not gone
    listed: dict[str, list[ExistingIssue]] = {}  # fingerprint -> the issues whose aliases marker lists it
    for issue in primary.values():
        for alias in aliases_of(issue.body):
            listed.setdefault(alias, []).append(issue)
    for d in wanted.values():
        ops.extend(_plan_one(d, _issue_of(d, primary, listed, wanted, claimed), reopening_comment))
    into = {old: d.fingerprint for d in desired for old in d.supersedes}
    gone = [i for fp, i in primary.items() if fp not in wanted and fp not in claimed and i.state == "open"
            and not fp.startswith(tuple(protected))]
    return ops + [_plan_gone(i, into, failed or {}, scanners, closing_comment) for i in gone]


def _issue_of(d: DesiredIssue, primary: Mapping[str, ExistingIssue], listed: Mapping[str, Sequence[ExistingIssue]],
              wanted: Mapping[str, DesiredIssue], claimed: set[str]) -> ExistingIssue | None:
    """The existing issue a desired one goes to: its own fingerprint's, unless that is missing or closed and
    an issue of the same problem under another tool's fingerprint is open (which is then `claimed`)."""
    have = primary.get(d.fingerprint)
    if have is not None and have.state == "open":
        return have
    alias = _under_alias(d, primary, listed, wanted, claimed)
    if alias is None or (have is not None and alias.state != "open"):
        return have
    claimed.add(alias.fingerprint or "")
    return alias


def _under_alias(d: DesiredIssue, primary: Mapping[str, ExistingIssue], listed: Mapping[str, Sequence[ExistingIssue]],
                 wanted: Mapping[str, DesiredIssue], claimed: set[str]) -> ExistingIssue | None:
    """The issue of the same problem under another tool's fingerprint (bandit's and semgrep's for one line),
    open first, then the lowest number: the desired issue lists it among its aliases, or it lists the
    desired issue among its own. One another desired issue wants, or one already taken, is not taken."""
    candidates = [*(primary[a] for a in d.aliases if a in primary), *listed.get(d.fingerprint, ())]
    found = [i for i in candidates if (i.fingerprint or "") not in wanted and (i.fingerprint or "") not in claimed]
    return min(found, key=lambda i: (i.state != "open", i.number), default=None)


def _primaries(existing: Sequence[ExistingIssue]) -> tuple[dict[str, ExistingIssue], list[IssueOp]]:
    """The issue kept for each fingerprint (open first, then the lowest number), and closing its open copies."""
    by_fp: dict[str, list[ExistingIssue]] = {}
    for issue in existing:
        if issue.fingerprint:
            by_fp.setdefault(issue.fingerprint, []).append(issue)
    ops: list[IssueOp] = []
    primary: dict[str, ExistingIssue] = {}
    for fp, issues in by_fp.items():
        ordered = sorted(issues, key=lambda i: (i.state != "open", i.number))
        primary[fp] = ordered[0]
        ops += [IssueOp(kind=OpKind.CLOSE_DUPLICATE, fingerprint=fp, number=dup.number,
                        comment=f"Duplicate of #{ordered[0].number}.") for dup in ordered[1:] if dup.state == "open"]
    return primary, ops


def _plan_gone(issue: ExistingIssue, into: Mapping[str, str], failed: Mapping[str, str], scanners: Sequence[str],
               closing_comment: str) -> IssueOp:
    """An open issue this run did not find: migrated into its package's issue, kept open (an owner failed),
    or closed."""
    fp = issue.fingerprint or ""
    if fp in into:
        return IssueOp(kind=OpKind.MIGRATE, fingerprint=fp, number=issue.number, title=issue.title, into=into[fp])
    if blocking := [(t, failed[t]) for t in _owners(issue, scanners) if t in failed]:
        return _keep_open(issue, blocking)
    return IssueOp(kind=OpKind.CLOSE, fingerprint=fp, number=issue.number, title=issue.title,
                   comment=closing_comment or "No longer detected: closing.")


def _owners(issue: ExistingIssue, scanners: Sequence[str]) -> tuple[str, ...]:
    """The tools that own an issue: as its body names them, else (an issue from before owners were recorded)
    the tool in its fingerprint, or every scanner for an advisory issue."""
    fp = issue.fingerprint or ""
    named = owners_of(issue.body)
    if named:
        return named
    kind, _, rest = fp.partition(":")
    if kind in ("code", "finding"):
        return (rest.split(":")[0],)
    return tuple(scanners) if kind in ("dep", "pkg") else ()


_STILL_OPEN = re.compile(r"\n> \*\*Still open:\*\*[^\n]*\n")


def _keep_open(issue: ExistingIssue, blocking: Sequence[tuple[str, str]]) -> IssueOp:
    """Keep an issue whose owner failed: its body says which owner failed and why, until the owner runs again."""
    why = "; ".join(f"{tool} failed: {reason}" for tool, reason in blocking)
    line = (f"\n> **Still open:** not seen in the last run, but {escape_markdown(why, max_len=400)}. "
            "Only the tools that found it close it, once they run again.\n")
    body = _STILL_OPEN.sub("", issue.body)
    at = [i for i in (body.rfind(OWNERS_PREFIX), body.rfind("<!-- repo-automation:fingerprint=")) if i >= 0]
    cut = min(at) if at else len(body)
    new_body = f"{body[:cut].rstrip()}\n{line}\n{body[cut:]}"
    return IssueOp(kind=OpKind.KEEP_OPEN, fingerprint=issue.fingerprint or "", number=issue.number,
                   title=issue.title, body=None if new_body == issue.body else new_body, why=why)


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
                           failed=dict(wanted.failed), scanners=wanted.scanners,
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
        packages = [d.fingerprint[len("pkg:"):] for d in wanted.desired if d.fingerprint.startswith("pkg:")]
        if packages:  # link each package's open update pull request
            wanted = desired_issues(report, ctx, self._update_pulls(packages))
        ops, actions = _cap_creates(_plan(wanted, self._list(), ctx))
        failures: list[str] = []
        labels = sorted({lab for op in ops for lab in op.labels}, key=str.lower)
        actions += self._ensure_labels(labels, failures, dry_run=ctx.dry_run)
        if ctx.dry_run:
            if failures:
                raise SourceFailed(f"dry run: {'; '.join(failures)}")
            return actions + [Action(sink=self.name, description=op.describe(), performed=False,
                                     target=self._target(op), change=op.change) for op in ops]
        actions += self._apply(ops, failures, numbers=self._numbers(ops))
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
        """The action's issues, open and closed, found by their marker whatever their labels (a person may
        remove ours): one conditional listing of every issue, so an unchanged repository reads for free."""
        client, repository = self.connected()
        items = client.list_all(f"/repos/{repository}/issues", {"state": "all"})
        found = (existing_from_json(i) for i in items if "pull_request" not in i)
        return [i for i in found if i.fingerprint]

    def _update_pulls(self, packages: Sequence[str]) -> dict[str, UpdatePull]:
        """The open dependency-update pull request of each package, by its deterministic branch or marker."""
        client, repository = self.connected()
        out: dict[str, UpdatePull] = {}
        for item in client.list_all(f"/repos/{repository}/pulls", {"state": "open"}, limit=500):
            head = item.get("head") or {}
            ref = str(head.get("ref") or "") if (head.get("repo") or {}).get("full_name") == repository else ""
            marker = find_fingerprint(str(item.get("body") or "")) or ""
            key = ref[len(DEPS_BRANCH):] if ref.startswith(DEPS_BRANCH) else \
                marker[len("deps:"):].replace(":", "-", 1) if marker.startswith("deps:") else ""
            for name in packages:
                prefix = make_fingerprint(name) + "-"
                if key.startswith(prefix) and parse_version(key[len(prefix):]) and name not in out:
                    out[name] = UpdatePull(number=int(item["number"]), url=str(item.get("html_url") or ""))
        return out

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

    @staticmethod
    def _numbers(ops: Sequence[IssueOp]) -> dict[str, int]:
        """The issue number of each fingerprint the plan touches (creations add theirs when they are made)."""
        return {op.fingerprint: op.number for op in ops if op.number is not None and op.kind is not OpKind.MIGRATE}

    def _apply(self, ops: Sequence[IssueOp], failures: list[str], numbers: dict[str, int] | None = None
               ) -> list[Action]:
        out = []
        numbers = {} if numbers is None else numbers
        for op in ops:
            if op.kind is OpKind.KEEP_OPEN and op.body is None:  # it says why already: nothing to write
                out.append(Action(sink=self.name, description=op.describe(), performed=False,
                                  target=self._target(op)))
                continue
            if op.kind is OpKind.MIGRATE and op.into not in numbers:
                continue  # its package issue was not made this run (capped, failed): migrated next run
            try:
                url = self._apply_one(op, numbers)
            except Exception as e:  # noqa: BLE001 — one failed operation must not stop the others
                log.warning("issue operation failed: %s: %s", op.describe(), http_error(e))
                failures.append(f"{op.describe()}: {http_error(e)}")
                continue
            out.append(Action(sink=self.name, description=op.describe(), performed=True, target=url,
                              change=op.change))
        return out

    def _apply_one(self, op: IssueOp, numbers: dict[str, int]) -> str:
        client, repository = self.connected()
        if op.kind is OpKind.CREATE:
            assert op.title is not None and op.body is not None
            made = client.create_issue(repository, title=op.title, body=op.body, labels=op.labels)
            numbers[op.fingerprint] = made.number
            return made.url
        assert op.number is not None
        if op.kind is OpKind.KEEP_OPEN:
            assert op.body is not None
            return client.edit_issue(repository, op.number, body=op.body).url
        if op.kind is OpKind.MIGRATE:
            assert op.into is not None
            issue = client.edit_issue(repository, op.number, state="closed", state_reason="duplicate")
            client.comment(repository, op.number, f"Issues are now one per vulnerable package: this advisory is "
                                                  f"tracked with the package's other advisories in "
                                                  f"#{numbers[op.into]}. Closing this one.")
            return issue.url
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
