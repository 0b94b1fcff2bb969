"""The endpoints the fake implements, each a small function of (state, repo, args, query, body).

A handler returns (status, json body, extra headers). Validation against GitHub's description happens
before a handler runs; handlers add the rules the description cannot express (422 already_exists, 50
annotations per request, 404 for unknown numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakegithub.state import BOT, Repo, State, node_id, now_iso

Reply = tuple[int, Any, dict[str, str]]
Handler = Callable[[State, Repo | None, dict[str, Any], dict[str, list[str]], Any], Reply]

NOT_FOUND: Reply = (404, {"message": "Not Found",
                          "documentation_url": "https://docs.github.com/rest"}, {})


def unprocessable(resource: str, field: str, code: str, message: str | None = None) -> Reply:
    error: dict[str, Any] = {"resource": resource, "code": code, "field": field}
    if message:
        error["message"] = message
    return (422, {"message": "Validation Failed", "errors": [error],
                  "documentation_url": "https://docs.github.com/rest"}, {})


# -- repository, rate limit --------------------------------------------------------------------
def get_repo(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    url = state.repo_url(repo)
    return 200, {
        "id": repo.id, "node_id": node_id("Repository", repo.id), "name": repo.name, "full_name": repo.full_name,
        "owner": state.user(repo.owner), "private": repo.private, "url": url,
        "html_url": f"https://github.com/{repo.full_name}", "default_branch": repo.default_branch,
        "issues_url": url + "/issues{/number}", "labels_url": url + "/labels{/name}",
        "pulls_url": url + "/pulls{/number}", "statuses_url": url + "/statuses/{sha}",
        "open_issues_count": sum(1 for i in repo.issues.values() if i["state"] == "open"),
        "has_issues": True, "archived": False, "fork": False, "visibility": "private" if repo.private else "public",
        "stargazers_count": 0, "forks_count": 0, "watchers_count": 0, "subscribers_count": 0,
        "allow_auto_merge": bool(getattr(repo.__dict__.get("_git"), "allow_auto_merge", False)),
        "allow_squash_merge": True, "allow_merge_commit": True, "allow_rebase_merge": True,
    }, {}


def rate_limit(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    core = {"limit": state.rate_limit, "used": state.rate_used,
            "remaining": max(0, state.rate_limit - state.rate_used), "reset": 4102444800}
    graphql = {"limit": 5000, "used": state.graphql_used, "remaining": 5000 - state.graphql_used,
               "reset": 4102444800}
    search = {"limit": 30, "used": 0, "remaining": 30, "reset": 4102444800}
    return 200, {"resources": {"core": core, "graphql": graphql, "search": search}, "rate": core}, {}


def repo_stats(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    """GET …/stats/{kind}: what the test put in repo.stats (GitHub's 202 "computing" is a Fault.accepted())."""
    assert repo is not None
    default: Any = {"all": [], "owner": []} if a["kind"] == "participation" else []
    return 200, repo.stats.get(a["kind"], default), {}


# -- issues ------------------------------------------------------------------------------------
def _issue(repo: Repo, number: int) -> dict[str, Any] | None:
    return repo.issues.get(number)


def list_issues(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    wanted_state = (q.get("state") or ["open"])[0]
    labels = [x.strip().lower() for x in (q.get("labels") or [""])[0].split(",") if x.strip()]
    creator = (q.get("creator") or [None])[0]
    out = []
    for issue in repo.issues.values():
        if wanted_state != "all" and issue["state"] != wanted_state:
            continue
        names = {lab["name"].lower() for lab in issue["labels"]}
        if any(lab not in names for lab in labels):
            continue
        if creator and issue["user"]["login"] != creator:
            continue
        out.append(issue)
    key = "updated_at" if (q.get("sort") or ["created"])[0] == "updated" else "number"
    out.sort(key=lambda i: (i[key], i["number"]), reverse=(q.get("direction") or ["desc"])[0] == "desc")
    return 200, out, {}


def get_issue(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    issue = _issue(repo, a["number"])
    return (200, issue, {}) if issue else NOT_FOUND


def create_issue(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    labels = [x if isinstance(x, str) else x.get("name", "") for x in b.get("labels") or []]
    if len(b.get("body") or "") > 65536:
        return unprocessable("Issue", "body", "custom", "body is too long (maximum is 65536 characters)")
    if len(b["title"]) > 256:
        return unprocessable("Issue", "title", "custom", "title is too long (maximum is 256 characters)")
    issue = state.add_issue(repo, title=str(b["title"]), body=b.get("body"), labels=labels,
                            assignees=b.get("assignees") or [])
    return 201, issue, {"Location": issue["url"]}


def update_issue(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    issue = _issue(repo, a["number"])
    if issue is None:
        return NOT_FOUND
    if len(b.get("body") or "") > 65536:
        return unprocessable("Issue", "body", "custom", "body is too long (maximum is 65536 characters)")
    for key in ("title", "body"):
        if key in b:
            issue[key] = b[key]
    if "labels" in b:
        issue["labels"] = [state.ensure_label(repo, x if isinstance(x, str) else x["name"]) for x in b["labels"]]
    if "assignees" in b:
        state.set_assignees(issue, b["assignees"] or [])
    if "state" in b and b["state"] != issue["state"]:
        issue["state"] = b["state"]
        issue["closed_at"] = now_iso() if b["state"] == "closed" else None
        issue["state_reason"] = b.get("state_reason") or ("completed" if b["state"] == "closed" else "reopened")
    elif "state_reason" in b:
        issue["state_reason"] = b["state_reason"]
    issue["updated_at"] = now_iso()
    return 200, issue, {}


def add_labels(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    issue = _issue(repo, a["number"])
    if issue is None:
        return NOT_FOUND
    names = b.get("labels", []) if isinstance(b, dict) else b
    have = {lab["name"].lower() for lab in issue["labels"]}
    for n in names:
        n = n if isinstance(n, str) else n["name"]
        if n.lower() not in have:
            issue["labels"].append(state.ensure_label(repo, n))
            have.add(n.lower())
    issue["updated_at"] = now_iso()
    return 200, issue["labels"], {}


def add_assignees(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    issue = _issue(repo, a["number"])
    if issue is None:
        return NOT_FOUND
    logins = [u["login"] for u in issue["assignees"]]
    state.set_assignees(issue, logins + [x for x in b.get("assignees", []) if x not in logins])
    return 201, issue, {}


# -- comments ----------------------------------------------------------------------------------
def list_comments(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    if _issue(repo, a["number"]) is None:
        return NOT_FOUND
    return 200, state.comments(repo.full_name, a["number"]), {}


def create_comment(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    issue = _issue(repo, a["number"])
    if issue is None:
        return NOT_FOUND
    if len(b["body"]) > 65536:
        return unprocessable("IssueComment", "body", "custom", "body is too long (maximum is 65536 characters)")
    ident = state.next_id()
    stamp = now_iso()
    comment = {
        "id": ident, "node_id": node_id("IssueComment", ident),
        "url": f"{state.repo_url(repo)}/issues/comments/{ident}",
        "html_url": f"{issue['html_url']}#issuecomment-{ident}", "body": b["body"], "user": state.user(BOT),
        "created_at": stamp, "updated_at": stamp, "issue_url": issue["url"], "author_association": "CONTRIBUTOR",
    }
    repo.comments[ident] = comment
    issue["comments"] += 1
    return 201, comment, {"Location": comment["url"]}


def update_comment(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    comment = repo.comments.get(a["comment_id"])
    if comment is None:
        return NOT_FOUND
    if len(b["body"]) > 65536:
        return unprocessable("IssueComment", "body", "custom", "body is too long (maximum is 65536 characters)")
    comment["body"] = b["body"]
    comment["updated_at"] = now_iso()
    return 200, comment, {}


def get_comment(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    comment = repo.comments.get(a["comment_id"])
    return (200, comment, {}) if comment else NOT_FOUND


# -- labels ------------------------------------------------------------------------------------
def list_labels(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    return 200, sorted(repo.labels.values(), key=lambda x: x["id"]), {}


def get_label(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    label = repo.labels.get(a["name"].lower())
    return (200, label, {}) if label else NOT_FOUND


def create_label(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    if b["name"].lower() in repo.labels:
        return unprocessable("Label", "name", "already_exists")
    color = str(b.get("color") or "ededed").lstrip("#")
    if len(color) != 6 or any(c not in "0123456789abcdefABCDEF" for c in color):
        return unprocessable("Label", "color", "invalid")
    label = state.add_label(repo, b["name"], color, b.get("description"))
    return 201, label, {"Location": label["url"]}
