"""The fake's memory: repositories, issues, labels, comments, check runs, statuses and pull requests.

Objects are kept as GitHub-shaped dicts (the fields PyGithub reads, absolute URLs pointing back at the
fake). Everything is guarded by one lock: the server handles requests on several threads.
"""

from __future__ import annotations

import base64
import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

BOT = "github-actions[bot]"
BOT_ID = 41898282


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, ident: int) -> str:
    return base64.b64encode(f"0:{kind}{ident}".encode()).decode()


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    default_branch: str = "main"
    private: bool = False
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)  # number -> issue (PRs included)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # lower-case name -> label
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> issue comment
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    annotations: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # check run id -> annotations
    statuses: list[dict[str, Any]] = field(default_factory=list)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)  # number -> pull fields + "files"
    stats: dict[str, Any] = field(default_factory=dict)  # contributors | commit_activity | … -> answer

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class State:
    """All data of the fake. Tests seed it (add_repo, add_issue, add_pull) and read it back."""

    def __init__(self, base_url: str = "http://127.0.0.1") -> None:
        self.base_url = base_url.rstrip("/")
        self.lock = threading.RLock()
        self.repos: dict[str, Repo] = {}
        self._ids = itertools.count(1001)
        self.rate_limit = 5000
        self.rate_used = 0
        self.graphql_used = 0
        self.token = "ghs_fake_token_for_tests"

    # -- helpers -------------------------------------------------------------------------------
    def next_id(self) -> int:
        return next(self._ids)

    def user(self, login: str = BOT, uid: int | None = None) -> dict[str, Any]:
        uid = BOT_ID if login == BOT else (uid or (abs(hash(login)) % 10_000_000))
        return {
            "login": login, "id": uid, "node_id": node_id("User", uid), "type": "Bot" if login == BOT else "User",
            "url": f"{self.base_url}/users/{login}", "html_url": f"https://github.com/{login}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}", "site_admin": False,
        }

    def repo(self, owner: str, name: str) -> Repo | None:
        return self.repos.get(f"{owner}/{name}".lower())

    def repo_url(self, repo: Repo) -> str:
        return f"{self.base_url}/repos/{repo.full_name}"

    # -- seeding -------------------------------------------------------------------------------
    def add_repo(self, full_name: str, *, default_branch: str = "main", private: bool = False) -> Repo:
        owner, name = full_name.split("/", 1)
        repo = Repo(owner=owner, name=name, id=self.next_id(), default_branch=default_branch, private=private)
        self.repos[full_name.lower()] = repo
        return repo

    def add_label(self, repo: Repo, name: str, color: str = "ededed", description: str | None = None
                  ) -> dict[str, Any]:
        ident = self.next_id()
        label = {
            "id": ident, "node_id": node_id("Label", ident), "url": f"{self.repo_url(repo)}/labels/{name}",
            "name": name, "color": color, "default": False, "description": description,
        }
        repo.labels[name.lower()] = label
        return label

    def add_issue(self, repo: Repo, *, title: str, body: str | None = None, labels: list[str] | tuple[str, ...] = (),
                  user: str = BOT, state: str = "open", assignees: list[str] | tuple[str, ...] = (),
                  pull: bool = False) -> dict[str, Any]:
        with self.lock:
            number = max([0, *repo.issues]) + 1
            ident = self.next_id()
            url = f"{self.repo_url(repo)}/issues/{number}"
            kind = "pull" if pull else "issues"
            stamp = now_iso()
            issue: dict[str, Any] = {
                "id": ident, "node_id": node_id("Issue", ident), "number": number, "url": url,
                "repository_url": self.repo_url(repo), "labels_url": url + "/labels{/name}",
                "comments_url": url + "/comments", "events_url": url + "/events",
                "html_url": f"https://github.com/{repo.full_name}/{kind}/{number}",
                "title": title, "body": body, "state": state, "state_reason": None, "locked": False,
                "user": self.user(user), "labels": [self.ensure_label(repo, n) for n in labels],
                "assignee": None, "assignees": [], "milestone": None, "comments": 0,
                "created_at": stamp, "updated_at": stamp, "closed_at": stamp if state == "closed" else None,
                "author_association": "NONE" if user != BOT else "CONTRIBUTOR",
            }
            self.set_assignees(issue, assignees)
            if pull:
                issue["pull_request"] = {"url": f"{self.repo_url(repo)}/pulls/{number}",
                                         "html_url": issue["html_url"], "diff_url": None, "patch_url": None}
            repo.issues[number] = issue
            return issue

    def add_pull(self, repo: Repo, *, title: str, head_sha: str, base_sha: str, head_ref: str = "feature",
                 base_ref: str = "main", files: list[dict[str, Any]] | None = None, user: str = "octocat"
                 ) -> dict[str, Any]:
        issue = self.add_issue(repo, title=title, user=user, pull=True)
        repo.pulls[issue["number"]] = {
            "head_sha": head_sha, "base_sha": base_sha, "head_ref": head_ref, "base_ref": base_ref,
            "files": list(files or []),
        }
        return issue

    def ensure_label(self, repo: Repo, name: str) -> dict[str, Any]:
        """Issues created with an unknown label create it, as GitHub does."""
        return repo.labels.get(name.lower()) or self.add_label(repo, name)

    def set_assignees(self, issue: dict[str, Any], logins: list[str] | tuple[str, ...]) -> None:
        issue["assignees"] = [self.user(x) for x in logins]
        issue["assignee"] = issue["assignees"][0] if issue["assignees"] else None

    # -- reading back --------------------------------------------------------------------------
    def issues(self, full_name: str, *, include_pulls: bool = False) -> list[dict[str, Any]]:
        repo = self.repos[full_name.lower()]
        return [i for n, i in sorted(repo.issues.items()) if include_pulls or "pull_request" not in i]

    def comments(self, full_name: str, number: int) -> list[dict[str, Any]]:
        repo = self.repos[full_name.lower()]
        url = f"{self.repo_url(repo)}/issues/{number}"
        return [c for _, c in sorted(repo.comments.items()) if c["issue_url"] == url]
