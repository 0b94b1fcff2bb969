"""PullRequestPublisher: carries out Changes on GitHub — branch, commit, pull request, merge — idempotently.

Every request goes through the run's GitHubClient. For each Change it reads (conditional GETs: a settled
rerun reads for free) the file on
the default branch, applies the edits, and compares with what the change's branch already holds:
- nothing to change on the default branch: nothing is done;
- the branch is missing: it is created at the default branch's head and the files are committed
  (contents API, one commit per file);
- the branch exists with other content: it is reset to the default branch's head and recommitted (the
  branch belongs to the action), so the pull request is updated in place;
- the pull request for the branch is found by `head=owner:branch` and updated when its title or body
  changed, else created — never a second one; a pull request closed without merging means "not this one",
  and the change is left alone;
- merge (squash) when the change's policy allows, through the pulls merge endpoint with the head SHA, so
  GitHub's branch protection (required checks, reviews) still decides: a 405/409 leaves it for a later run.
In a dry run only the reads happen and each would-be pull request is described.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from repo_automation.domain import Action, ChangeKind
from repo_automation.errors import SourceFailed
from repo_automation.github.client import GitHubClient, GitHubError, http_error
from repo_automation.maintenance.changes import Change

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteFile:
    text: str | None  # None: no such file
    sha: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Pull:
    number: int
    state: str
    merged: bool
    title: str
    body: str
    url: str
    labels: tuple[str, ...] = ()


def _pull(item: dict[str, Any]) -> Pull:
    return Pull(number=int(item["number"]), state=str(item.get("state") or "open"),
                merged=bool(item.get("merged_at")), title=str(item.get("title") or ""),
                body=str(item.get("body") or ""), url=str(item.get("html_url") or ""),
                labels=tuple(str(x.get("name")) for x in item.get("labels") or () if isinstance(x, dict)))


def _missing_labels(change: Change, pull: Pull | None) -> list[str]:
    have = {x.lower() for x in pull.labels} if pull is not None else set()
    return [x for x in change.labels if x.lower() not in have]


FORBIDDEN_HINT = ("; the token may not write pull requests: give the workflow `permissions: contents: write, "
                  "pull-requests: write` and enable 'Allow GitHub Actions to create and approve pull requests' "
                  "(Settings > Actions), or use a GitHub App token")


def _change_kind(change: Change) -> ChangeKind:
    """A pull request of dependency updates or of docs upkeep (Change.kind), for automation_changes_total."""
    return ChangeKind.DOCS_PULL_REQUEST if change.kind == "docs" else ChangeKind.DEPENDENCY_PULL_REQUEST


def _reason(e: Exception) -> str:
    refused = isinstance(e, GitHubError) and e.method != "GET" and e.status == 403 and not e.rate_limited
    hint = FORBIDDEN_HINT if refused else ""
    return http_error(e) + hint


def merge_method(repo: dict[str, Any]) -> str:
    """The first merge method the repository allows: squash, merge, rebase (GitHub omits the flags for
    tokens without push access; then squash is tried and GitHub's refusal is reported)."""
    for method, flag in (("squash", "allow_squash_merge"), ("merge", "allow_merge_commit"),
                         ("rebase", "allow_rebase_merge")):
        if repo.get(flag) is not False:
            return method
    return "squash"


class PullRequestPublisher:
    def __init__(self, *, client: GitHubClient, repository: str, sink: str) -> None:
        self.client = client
        self.repository = repository
        self.sink = sink
        self.merge_method = "squash"

    # -- reads (conditional GETs) --------------------------------------------------------------------
    def _get(self, path: str, params: dict[str, str | int] | None = None) -> Any | None:
        """The JSON body, or None on 404."""
        try:
            return self.client.get_json(f"/repos/{self.repository}/{path}", params)
        except GitHubError as e:
            if e.status == 404:
                return None
            raise

    def default_branch(self) -> str:
        repo = self._get("")
        if not isinstance(repo, dict) or not repo.get("default_branch"):
            raise SourceFailed(f"{self.repository}: cannot read the repository's default branch")
        self.merge_method = merge_method(repo)
        return str(repo["default_branch"])

    def ref_sha(self, branch: str) -> str | None:
        ref = self._get(f"git/ref/heads/{quote(branch, safe='/')}")
        return str(ref["object"]["sha"]) if isinstance(ref, dict) and "object" in ref else None

    def read(self, path: str, ref: str) -> RemoteFile:
        item = self._get(f"contents/{quote(path, safe='/')}", {"ref": ref})
        if not isinstance(item, dict) or item.get("type") != "file":
            return RemoteFile(text=None, sha=None)
        raw = base64.b64decode(str(item.get("content") or ""))
        return RemoteFile(text=raw.decode("utf-8"), sha=str(item["sha"]))

    def pulls_for(self, branch: str) -> list[Pull]:
        owner = self.repository.split("/", 1)[0]
        items = self.client.list_all(f"/repos/{self.repository}/pulls", {"state": "all", "head": f"{owner}:{branch}"},
                                     limit=100)
        return sorted((_pull(i) for i in items), key=lambda p: (p.state != "open", -p.number))

    def open_pulls(self, prefix: str) -> dict[str, Pull]:
        """Open pull requests from this repository's own branches starting with `prefix`, by branch."""
        items = self.client.list_all(f"/repos/{self.repository}/pulls", {"state": "open"}, limit=500)
        out: dict[str, Pull] = {}
        for item in items:
            head = item.get("head") or {}
            repo = (head.get("repo") or {}).get("full_name") or ""
            ref = str(head.get("ref") or "")
            if ref.startswith(prefix) and repo.lower() == self.repository.lower():
                out[ref] = _pull(item)
        return out

    def close(self, pull: Pull, comment: str, *, dry_run: bool) -> Action:
        """Close a pull request, then say why (closed first: a failed comment is not repeated by later runs)."""
        if dry_run:
            return Action(sink=self.sink, performed=False, target=pull.url,
                          description=f"would close pull request #{pull.number}: {comment}")
        self.client.edit_pull(self.repository, pull.number, state="closed")
        self.client.comment(self.repository, pull.number, comment)
        return Action(sink=self.sink, performed=True, target=pull.url, change=ChangeKind.PULL_REQUEST_CLOSED,
                      description=f"closed pull request #{pull.number}: {comment}")

    # -- one change ------------------------------------------------------------------------------------
    def publish(self, changes: Sequence[Change], *, dry_run: bool) -> tuple[list[Action], list[str]]:
        """Actions done (or, in a dry run, described) and the failures, one line each."""
        if not changes:
            return [], []
        default = self.default_branch()
        actions: list[Action] = []
        failures: list[str] = []
        for change in changes:
            done: list[str] = []  # filled as steps succeed, so a failure can say how far it got
            try:
                actions.extend(self._one(change, default, dry_run, done))
            except SourceFailed as e:  # GitHubError included
                log.warning("%s: %s failed: %s", self.sink, change.describe(), _reason(e))
                after = f" (after: {', '.join(done)})" if done else ""
                failures.append(f"{change.describe()}: {_reason(e)}{after}")
        return actions, failures

    def _one(self, change: Change, default: str, dry_run: bool, done: list[str]) -> list[Action]:
        base_sha = self.ref_sha(default)  # per change: merging the previous one moved it
        if base_sha is None:
            raise SourceFailed(f"{self.repository}: the default branch {default!r} has no commit yet")
        base, desired = self._desired(change, base_sha)
        if not desired:
            return []
        pulls = self.pulls_for(change.branch)
        open_pr = next((p for p in pulls if p.state == "open"), None)
        branch_sha = self.ref_sha(change.branch)
        stale = branch_sha is None or self._stale(change, desired)
        if (left_alone := self._left_alone(change, pulls, open_pr, stale)) is not None:
            return [left_alone]
        steps = self._steps(change, open_pr, branch_sha, stale)
        if not steps:
            return []
        if dry_run:
            return [Action(sink=self.sink, performed=False, target=open_pr.url if open_pr else self.repository,
                           change=_change_kind(change),
                           description="would " + "; ".join(steps) + f" — {change.describe()}")]
        return self._apply(change, open_pr, (default, base_sha), branch_sha, (base, desired), stale, done)

    def _desired(self, change: Change, base_sha: str) -> tuple[dict[str, RemoteFile], dict[str, str]]:
        """The change's files on the default branch, and the new text of each file the change alters."""
        base = {e.path: self.read(e.path, base_sha) for e in change.edits}
        desired: dict[str, str] = {}
        for edit in change.edits:
            new = edit.transform(base[edit.path].text)
            if new is not None and new != base[edit.path].text:
                desired[edit.path] = new
        return base, desired

    def _left_alone(self, change: Change, pulls: Sequence[Pull], open_pr: Pull | None, stale: bool) -> Action | None:
        """A pull request closed without merging (and none open) means "not this one": the change is left alone,
        always when it says so (declined_when_closed), else while its branch still holds it."""
        declined = next((p for p in pulls if p.state == "closed" and not p.merged), None)
        if open_pr is None and declined is not None and (change.declined_when_closed or not stale):
            return Action(sink=self.sink, performed=False, target=declined.url,
                          description=f"left alone: {change.title!r} was closed without merging "
                                      f"(#{declined.number}); delete branch {change.branch} to propose it again")
        return None

    def _stale(self, change: Change, desired: dict[str, str]) -> bool:
        """Must the branch be (re)built? Yes when it lacks an edit; for a change merged automatically, also when
        it is not level with the default branch (what is merged must be what was checked)."""
        edits = {e.path: e for e in change.edits}
        for path, text in desired.items():
            have = self.read(path, change.branch).text
            check = edits[path].satisfied
            if have != text and (change.merge or check is None or not check(have)):
                return True
        return False

    @staticmethod
    def _steps(change: Change, open_pr: Pull | None, branch_sha: str | None, stale: bool) -> list[str]:
        steps = []
        if stale:
            steps.append("create branch" if branch_sha is None else "reset branch to the default branch")
            steps.append("commit " + ", ".join(e.path for e in change.edits))
        if open_pr is None:
            steps.append("open pull request")
        elif open_pr.title != change.title or open_pr.body != change.body:
            steps.append(f"update pull request #{open_pr.number}")
        if open_pr is not None and _missing_labels(change, open_pr):
            steps.append("label " + ", ".join(_missing_labels(change, open_pr)))
        if change.merge:
            steps.append(f"merge ({change.merge_reason})")
        return steps

    def _apply(self, change: Change, open_pr: Pull | None, default: tuple[str, str], branch_sha: str | None,
               files: tuple[dict[str, RemoteFile], dict[str, str]], stale: bool, done: list[str]) -> list[Action]:
        default_branch, base_sha = default
        base, desired = files
        head = branch_sha
        if stale:
            head = self._commit(change, branch_sha, base_sha, base, desired)
            done.append(f"committed to {change.branch}")
        if open_pr is None:
            pull = self._create_pull(change, default_branch)
            done.append(f"opened pull request #{pull.number}")
        else:
            pull = open_pr
            if open_pr.title != change.title or open_pr.body != change.body:
                self.client.edit_pull(self.repository, pull.number, title=change.title, body=change.body)
                done.append(f"updated pull request #{pull.number}")
        number, url = pull.number, pull.url
        if labels := _missing_labels(change, pull):
            self.client.add_labels(self.repository, number, labels)
            if open_pr is not None:
                done.append(f"labelled pull request #{number}")
        actions = [Action(sink=self.sink, performed=True, target=url, change=_change_kind(change),
                          description=f"{'; '.join(done)} — {change.describe()}")] if done else []
        if change.merge:
            actions.append(self._merge(change, number, url, head))
        return actions

    def _create_pull(self, change: Change, default_branch: str) -> Pull:
        """Open the pull request; when GitHub says one exists already (a retried POST whose first answer was
        lost), use that one."""
        try:
            created = self.client.create_pull(self.repository, base=default_branch, head=change.branch,
                                              title=change.title, body=change.body)
        except GitHubError as e:
            if e.status == 422 and "already exists" in str(e.body):
                found = next((p for p in self.pulls_for(change.branch) if p.state == "open"), None)
                if found is not None:
                    return found
            raise
        return Pull(number=created.number, state="open", merged=False, title=change.title, body=change.body,
                    url=created.url)

    def _commit(self, change: Change, branch_sha: str | None, base_sha: str, base: dict[str, RemoteFile],
                desired: dict[str, str]) -> str:
        """Put the branch at the default branch's head, then commit each file; returns the new head SHA."""
        if branch_sha is None:
            self.client.create_branch(self.repository, change.branch, base_sha)
        elif branch_sha != base_sha:
            self.client.reset_branch(self.repository, change.branch, base_sha)
        head = base_sha
        messages = {e.path: e.message for e in change.edits}
        for path, text in desired.items():
            head = self.client.put_file(self.repository, path, text=text, message=messages[path],
                                        branch=change.branch, sha=base[path].sha)
        return head

    def _merge(self, change: Change, number: int, url: str, head: str | None) -> Action:
        assert head is not None  # the branch exists: found, created or reset above
        try:
            status = self.client.merge_pull(self.repository, number, method=self.merge_method, sha=head,
                                            commit_title=f"{change.title} (#{number})")
        except GitHubError as e:
            if e.status in (405, 409, 422):  # not mergeable yet (checks, reviews, conflicts) or head moved
                return Action(sink=self.sink, performed=False, target=url,
                              description=f"not merged yet: #{number} {http_error(e)}; a later run tries again")
            raise
        return Action(sink=self.sink, performed=bool(status.merged), target=url,
                      change=ChangeKind.PULL_REQUEST_MERGED if status.merged else None,
                      description=f"merged pull request #{number} ({change.merge_reason})" if status.merged
                      else f"merge of #{number} refused: {status.message}")
