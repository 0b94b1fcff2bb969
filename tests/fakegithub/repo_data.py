"""Repository activity for the fake GitHub (github-client's addition): stars, commits, pull requests with
reviews and comments, issues, releases, workflow runs, contributors and a GitHub App installation.

`RepoData` is attached to the github-server helper's `State` (one per repository, `data_for(state, name)`);
the GraphQL executor (graphql.py) resolves from it, and `ClientFakeGitHub` — a FakeGitHub subclass — adds
the REST endpoints the collector and App auth use (every request still validated against GitHub's OpenAPI
description by the base class), GHES paths (/api/v3/...), faults on POST /graphql, and App JWT checks.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tests.fakegithub.routing import RouteTable
from tests.fakegithub.server import FakeGitHub
from tests.fakegithub.state import Repo, State

Reply = tuple[int, Any, dict[str, str]]


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def actor(login: str | None) -> dict[str, Any] | None:
    if login is None:
        return None
    return {"login": login, "__typename": "Bot" if login.endswith("[bot]") else "User"}


@dataclass
class Commit:
    when: datetime
    login: str | None
    email: str


@dataclass
class Event:
    """A comment or a review on an issue / pull request."""

    when: datetime
    login: str


@dataclass
class Item:
    """An issue or a pull request. state: OPEN | CLOSED | MERGED."""

    number: int
    created: datetime
    author: str
    state: str = "OPEN"
    updated: datetime | None = None
    closed: datetime | None = None
    merged: datetime | None = None
    comments: list[Event] = field(default_factory=list)
    reviews: list[Event] = field(default_factory=list)

    @property
    def last_update(self) -> datetime:
        return self.updated or max(t for t in (self.created, self.closed, self.merged) if t is not None)


@dataclass
class Release:
    created: datetime
    draft: bool = False


@dataclass
class RepoData:
    stars: int = 0
    forks: int = 0
    watchers: int = 0
    commits: list[Commit] = field(default_factory=list)  # default branch history
    issues: list[Item] = field(default_factory=list)
    pulls: list[Item] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)  # REST workflow runs (GitHub-shaped)
    contributors: list[tuple[str, int]] = field(default_factory=list)  # (login, contributions)
    installation_id: int | None = None  # the GitHub App's installation on this repository
    rest_commits: list[dict[str, Any]] = field(default_factory=list)  # REST shapes of `commits`, built lazily


def data_for(state: State, full_name: str) -> RepoData:
    """The activity of a repository (created empty on first use)."""
    store: dict[str, RepoData] = state.__dict__.setdefault("repo_data", {})
    return store.setdefault(full_name.lower(), RepoData())


def workflow_run(state: State, repo: Repo, *, run_id: int, started: datetime, minutes: float, conclusion: str,
                 branch: str | None = None, workflow: str = "ci.yml") -> dict[str, Any]:
    url = f"{state.repo_url(repo)}/actions/runs/{run_id}"
    return {
        "id": run_id, "name": "CI", "node_id": f"WFR_{run_id}", "head_branch": branch or repo.default_branch,
        "head_sha": f"{run_id:040x}", "path": f".github/workflows/{workflow}", "run_number": run_id,
        "event": "push", "status": "completed", "conclusion": conclusion, "workflow_id": 1,
        "url": url, "html_url": f"https://github.com/{repo.full_name}/actions/runs/{run_id}",
        "created_at": iso(started), "run_started_at": iso(started),
        "updated_at": iso(started + timedelta(minutes=minutes)), "run_attempt": 1,
    }


# -- REST handlers (same shape as the github-server helper's routes) ------------------------------
def list_contributors(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    rows = sorted(data_for(state, repo.full_name).contributors, key=lambda c: -c[1])
    if not rows:
        return 204, None, {}
    return 200, [{**state.user(login), "contributions": n} for login, n in rows], {}


def _runs(state: State, repo: Repo, q: dict[str, list[str]], workflow: str | None) -> Reply:
    runs = list(data_for(state, repo.full_name).runs)
    if workflow:
        runs = [r for r in runs if r["path"].endswith("/" + workflow)]
    if "branch" in q:
        runs = [r for r in runs if r["head_branch"] == q["branch"][0]]
    if "status" in q:
        wanted = q["status"][0]
        runs = [r for r in runs if wanted in (r["status"], r["conclusion"])]
    created = (q.get("created") or [""])[0]
    if created.startswith(">="):
        runs = [r for r in runs if r["created_at"][:10] >= created[2:12]]
    runs.sort(key=lambda r: r["created_at"], reverse=True)
    per_page = min(100, int((q.get("per_page") or ["30"])[0]))
    page = int((q.get("page") or ["1"])[0])
    return 200, {"total_count": len(runs), "workflow_runs": runs[(page - 1) * per_page: page * per_page]}, {}


def list_runs(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    return _runs(state, repo, q, None)


def list_workflow_runs(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any
                       ) -> Reply:
    assert repo is not None
    return _runs(state, repo, q, str(a["workflow_id"]))


def get_installation(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    inst = data_for(state, repo.full_name).installation_id
    if inst is None:
        return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, {}
    return 200, {"id": inst, "account": state.user(repo.owner), "app_id": APP_ID, "target_type": "Organization",
                 "permissions": {"issues": "write", "checks": "write", "actions": "read"},
                 "access_tokens_url": f"{state.base_url}/app/installations/{inst}/access_tokens"}, {}


def create_access_token(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any
                        ) -> Reply:
    known = {d.installation_id for d in state.__dict__.get("repo_data", {}).values()}
    if a["installation_id"] not in known:
        return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, {}
    token = "ghs_" + secrets.token_hex(18)
    state.__dict__.setdefault("installation_tokens", set()).add(token)
    return 201, {"token": token, "expires_at": "2099-01-01T00:00:00Z",
                 "permissions": {"issues": "write"}, "repository_selection": "all"}, {}


def _rest_pull(state: State, repo: Repo, it: Item) -> dict[str, Any]:
    ident = 500_000 + it.number
    return {"id": ident, "node_id": f"PR_{ident}", "number": it.number, "title": f"Change {it.number}",
            "state": "open" if it.state == "OPEN" else "closed", "user": state.user(it.author),
            "url": f"{state.repo_url(repo)}/pulls/{it.number}",
            "html_url": f"https://github.com/{repo.full_name}/pull/{it.number}",
            "created_at": iso(it.created), "updated_at": iso(it.last_update),
            "closed_at": iso(it.closed) if it.closed else None, "merged_at": iso(it.merged) if it.merged else None,
            "head": {"ref": f"change-{it.number}", "sha": f"{it.number:040x}"},
            "base": {"ref": repo.default_branch, "sha": "0" * 40}}


def _rest_commit(state: State, repo: Repo, i: int, c: Commit) -> dict[str, Any]:
    sha = f"{i + 1:040x}"
    person = {"name": c.login or c.email, "email": c.email, "date": iso(c.when)}
    user = state.user(c.login) if c.login else None
    return {"sha": sha, "node_id": f"C_{sha}", "url": f"{state.repo_url(repo)}/commits/{sha}",
            "html_url": f"https://github.com/{repo.full_name}/commit/{sha}", "author": user, "committer": user,
            "commit": {"author": person, "committer": person, "message": f"Commit {i}",
                       "tree": {"sha": sha, "url": f"{state.repo_url(repo)}/git/trees/{sha}"}}, "parents": []}


def list_pulls(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    wanted = (q.get("state") or ["open"])[0]
    items = [it for it in data_for(state, repo.full_name).pulls
             if wanted == "all" or (wanted == "open") == (it.state == "OPEN")]
    items.sort(key=lambda it: it.created, reverse=(q.get("direction") or ["desc"])[0] == "desc")
    return 200, [_rest_pull(state, repo, it) for it in items], {}


def list_commits(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    d = data_for(state, repo.full_name)
    if len(d.rest_commits) != len(d.commits):  # built once: the naive walk asks for 200 pages
        ordered = sorted(d.commits, key=lambda c: c.when, reverse=True)
        d.rest_commits = [_rest_commit(state, repo, i, c) for i, c in enumerate(ordered)]
    return 200, d.rest_commits, {}


APP_ID = "424242"
R = "/repos/<owner>/<repo>"
RULES: list[tuple[str, str, Any]] = [
    ("GET", R + "/contributors", list_contributors),
    ("GET", R + "/pulls", list_pulls),
    ("GET", R + "/commits", list_commits),
    ("GET", R + "/actions/runs", list_runs),
    ("GET", R + "/actions/workflows/<workflow_id>/runs", list_workflow_runs),
    ("GET", R + "/installation", get_installation),
    ("POST", "/app/installations/<int:installation_id>/access_tokens", create_access_token),
]
ROUTES = RouteTable(RULES)
APP_PATHS = ("/installation", "/app/installations/")


class ClientFakeGitHub(FakeGitHub):
    """FakeGitHub plus the collector's REST endpoints, GHES paths, GraphQL faults and GitHub App auth.

    `app_public_key` (PEM) enables App auth: JWTs on the installation endpoints are verified like GitHub
    does (RS256, iss = the app id, at most 10 minutes of validity); the installation tokens it issues are
    accepted afterwards like the fake's own token.
    """

    def __init__(self, *, validate: bool = True, app_public_key: str | None = None) -> None:
        super().__init__(validate=validate)
        self.app_public_key = app_public_key
        self.raw_paths: list[str] = []  # paths as sent, before the GHES prefix is taken off

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        import json
        import time

        from werkzeug.wrappers import Response

        from tests.fakegithub.server import Recorded

        path = environ.get("PATH_INFO", "")
        with self._lock:
            self.raw_paths.append(path)
        if path.startswith("/api/v3/"):  # GHES serves REST under /api/v3 (and GraphQL at /api/graphql)
            environ["PATH_INFO"] = path = path[len("/api/v3"):]
        if path.rstrip("/") in ("/graphql", "/api/graphql"):
            fault = self._fault_for(environ.get("REQUEST_METHOD", "GET"), path)
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            if fault is not None and fault.status is not None:
                status, payload, headers = fault.reply()
                with self._lock:
                    self.requests.append(Recorded("POST", path, {}, None, status, dict(headers)))
                resp = Response(json.dumps(payload), status=status, headers=headers, content_type="application/json")
                return resp(environ, start_response)
        try:
            return super().wsgi(environ, start_response)
        finally:
            with self.state.lock:
                found = self.state.__dict__.get("graphql_violations") or []
                if found:
                    self.state.__dict__["graphql_violations"] = []
            for text in found:
                self._violation(text)

    def _auth(self, req: Any, method: str) -> Reply | None:
        scheme, _, token = req.headers.get("Authorization", "").partition(" ")
        if any(p in req.path for p in APP_PATHS):
            return self._check_jwt(token if scheme.lower() == "bearer" else "")
        if token and token in self.state.__dict__.get("installation_tokens", set()):
            return None
        return super()._auth(req, method)  # type: ignore[no-any-return]

    def _check_jwt(self, token: str) -> Reply | None:
        import jwt

        denied: Reply = (401, {"message": "A JSON web token could not be decoded",
                               "documentation_url": "https://docs.github.com/rest"}, {})
        if not token or self.app_public_key is None:
            return denied
        try:
            claims = jwt.decode(token, self.app_public_key, algorithms=["RS256"],
                                options={"require": ["iat", "exp", "iss"]}, leeway=60)
        except jwt.PyJWTError:
            return denied
        if str(claims["iss"]) != APP_ID or claims["exp"] - claims["iat"] > 660:
            return (401, {"message": "'Expiration time' claim ('exp') is too far in the future",
                          "documentation_url": "https://docs.github.com/rest"}, {})
        return None

    def _dispatch(self, method: str, path: str, body: Any, query: dict[str, list[str]]) -> Reply:
        reply = ROUTES.dispatch(self.state, method, path, body, query)
        return reply if reply is not None else super()._dispatch(method, path, body, query)
