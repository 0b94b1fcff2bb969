"""Every write the action makes on GitHub, as small typed methods of the one client (GitHubClient inherits
them): issues, labels and comments; check runs and commit statuses; branches, file commits, pull requests,
merges and native auto-merge. Each is one REST request (auto-merge: one GraphQL mutation) sent through the
client's request loop (retries, Retry-After, rate limits, a pause between writes, every request counted in
ApiUsage); a refusal raises GitHubError with the HTTP status and GitHub's message. Arguments and results are
plain values, never PyGithub objects.
"""

from __future__ import annotations

import base64
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueRef:
    """An issue or pull request GitHub answered about (a pull request is an issue too)."""

    number: int
    url: str  # html_url
    node_id: str = ""  # the GraphQL id


@dataclass(frozen=True, slots=True, kw_only=True)
class CommentRef:
    id: int
    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckRunRef:
    id: int
    url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeResult:
    merged: bool
    message: str


def _repo(repository: str) -> str:
    return f"/repos/{repository}"


def _branch_ref(branch: str) -> str:
    return "git/refs/heads/" + quote(branch, safe="/")


def _issue(body: Any) -> IssueRef:
    return IssueRef(number=int(body["number"]), url=str(body.get("html_url") or ""),
                    node_id=str(body.get("node_id") or ""))


def _comment(body: Any) -> CommentRef:
    return CommentRef(id=int(body["id"]), url=str(body.get("html_url") or ""))


def _given(**fields: Any) -> dict[str, Any]:
    """The fields that were given (None: leave as it is)."""
    return {k: v for k, v in fields.items() if v is not None}


class GitHubWrites(ABC):
    """The write methods; `send` is the client's request loop for one JSON request."""

    @abstractmethod
    def send(self, method: str, path: str, body: Mapping[str, Any]) -> Any:
        """Send one write and return the JSON answer (GitHubError when GitHub refuses it)."""

    @abstractmethod
    def graphql(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """Run one GraphQL document with variables (GitHubError with GitHub's messages when it refuses)."""

    # -- issues, labels, comments ----------------------------------------------------------------------
    def create_issue(self, repository: str, *, title: str, body: str, labels: Sequence[str]) -> IssueRef:
        return _issue(self.send("POST", f"{_repo(repository)}/issues",
                                {"title": title, "body": body, "labels": list(labels)}))

    def edit_issue(self, repository: str, number: int, *, title: str | None = None, body: str | None = None,
                   labels: Sequence[str] | None = None, state: str | None = None,
                   state_reason: str | None = None) -> IssueRef:
        """Change what is given; `state` open/closed, `state_reason` completed/not_planned/duplicate/reopened."""
        fields = _given(title=title, body=body, labels=list(labels) if labels is not None else None, state=state,
                        state_reason=state_reason)
        return _issue(self.send("PATCH", f"{_repo(repository)}/issues/{number}", fields))

    def comment(self, repository: str, number: int, body: str) -> CommentRef:
        """A new comment on an issue or pull request."""
        return _comment(self.send("POST", f"{_repo(repository)}/issues/{number}/comments", {"body": body}))

    def edit_comment(self, repository: str, comment_id: int, body: str) -> CommentRef:
        return _comment(self.send("PATCH", f"{_repo(repository)}/issues/comments/{comment_id}", {"body": body}))

    def create_label(self, repository: str, name: str, color: str) -> None:
        self.send("POST", f"{_repo(repository)}/labels", {"name": name, "color": color})

    def add_labels(self, repository: str, number: int, labels: Sequence[str]) -> None:
        """Add labels to an issue or pull request (the documented {"labels": [...]} form)."""
        self.send("POST", f"{_repo(repository)}/issues/{number}/labels", {"labels": list(labels)})

    def add_assignees(self, repository: str, number: int, assignees: Sequence[str]) -> None:
        self.send("POST", f"{_repo(repository)}/issues/{number}/assignees", {"assignees": list(assignees)})

    # -- check runs and commit statuses ------------------------------------------------------------------
    def create_check_run(self, repository: str, *, name: str, head_sha: str, conclusion: str,
                         output: Mapping[str, Any], details_url: str | None = None) -> CheckRunRef:
        """A completed check run on a commit."""
        body = _given(name=name, head_sha=head_sha, status="completed", conclusion=conclusion, output=dict(output),
                      details_url=details_url)
        answer = self.send("POST", f"{_repo(repository)}/check-runs", body)
        return CheckRunRef(id=int(answer["id"]), url=str(answer.get("html_url") or ""))

    def update_check_run(self, repository: str, run_id: int, *, output: Mapping[str, Any]) -> None:
        self.send("PATCH", f"{_repo(repository)}/check-runs/{run_id}", {"output": dict(output)})

    def create_commit_status(self, repository: str, sha: str, *, state: str, description: str, context: str,
                             target_url: str | None = None) -> None:
        self.send("POST", f"{_repo(repository)}/statuses/{sha}",
                  _given(state=state, description=description, context=context, target_url=target_url))

    # -- branches, commits, pull requests ------------------------------------------------------------------
    def create_branch(self, repository: str, branch: str, sha: str) -> None:
        self.send("POST", f"{_repo(repository)}/git/refs", {"ref": f"refs/heads/{branch}", "sha": sha})

    def reset_branch(self, repository: str, branch: str, sha: str) -> None:
        """Force the branch to `sha` (it belongs to the action)."""
        self.send("PATCH", f"{_repo(repository)}/{_branch_ref(branch)}", {"sha": sha, "force": True})

    def put_file(self, repository: str, path: str, *, text: str, message: str, branch: str,
                 sha: str | None = None) -> str:
        """Create (sha None) or replace (sha: the blob it replaces) one file in one commit; the commit's SHA."""
        content = base64.b64encode(text.encode("utf-8")).decode("ascii")
        answer = self.send("PUT", f"{_repo(repository)}/contents/{quote(path, safe='/')}",
                           _given(message=message, content=content, branch=branch, sha=sha))
        return str(answer["commit"]["sha"])

    def create_pull(self, repository: str, *, base: str, head: str, title: str, body: str) -> IssueRef:
        return _issue(self.send("POST", f"{_repo(repository)}/pulls",
                                {"base": base, "head": head, "title": title, "body": body}))

    def edit_pull(self, repository: str, number: int, *, title: str | None = None, body: str | None = None,
                  state: str | None = None) -> None:
        self.send("PATCH", f"{_repo(repository)}/pulls/{number}", _given(title=title, body=body, state=state))

    def merge_pull(self, repository: str, number: int, *, method: str, sha: str, commit_title: str) -> MergeResult:
        """Merge when the head is still `sha`; GitHub's branch protection decides (405/409 when not yet)."""
        answer = self.send("PUT", f"{_repo(repository)}/pulls/{number}/merge",
                           {"merge_method": method, "sha": sha, "commit_title": commit_title})
        return MergeResult(merged=bool(answer.get("merged")), message=str(answer.get("message") or ""))

    def enable_auto_merge(self, pull_node_id: str, *, method: str) -> str | None:
        """GitHub's native auto-merge on a pull request (GraphQL enablePullRequestAutoMerge): GitHub merges
        it once the base branch's requirements are met. `method` squash | merge | rebase. Returns the merge
        method GitHub recorded."""
        answer = self.graphql(ENABLE_AUTO_MERGE, {"pullRequestId": pull_node_id, "mergeMethod": method.upper()})
        pull = ((answer.get("enablePullRequestAutoMerge") or {}).get("pullRequest") or {})
        request = pull.get("autoMergeRequest") or {}
        return str(request["mergeMethod"]) if request.get("mergeMethod") else None


ENABLE_AUTO_MERGE = """
mutation EnableAutoMerge($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod!) {
  enablePullRequestAutoMerge(input: {pullRequestId: $pullRequestId, mergeMethod: $mergeMethod}) {
    pullRequest { number autoMergeRequest { enabledAt mergeMethod } }
  }
}
"""
