"""Auto-merge and branch protection for the fake's git-backed repositories.

GitHub's rules, as the maintenance sinks meet them:
- `GET /repos/{o}/{r}` says `allow_auto_merge` (the repository setting, `GitData.allow_auto_merge`);
- `GET /repos/{o}/{r}/branches/{branch}` gives the branch's protection and its required status checks
  (`GitData.required_checks`, on the default branch);
- `GET /repos/{o}/{r}/pulls/{n}` says `mergeable` (false on a conflict with the base) and `auto_merge`;
- the GraphQL mutation `enablePullRequestAutoMerge` (validated against GitHub's schema by graphql.py) is
  refused as GitHub refuses it: "Auto merge is not allowed for this repository" when the setting is off,
  "Pull request is in clean status" when nothing is required (GitHub would merge at once), and for a pull
  request that is not open. `ci_passes` plays the required checks passing: GitHub then merges every pull
  request that has auto-merge on, with its merge method.
"""

from __future__ import annotations

from typing import Any

from tests.fakegithub import routes_checks as c
from tests.fakegithub.routes import NOT_FOUND, Reply
from tests.fakegithub.routes_git import _commit, _merge_trees, _move, git, pull_json
from tests.fakegithub.state import Repo, State, node_id, now_iso


class Refused(Exception):
    """A GraphQL mutation GitHub refuses: the answer carries its message in `errors`."""


def branch(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    g = git(repo)
    name = a["branch"]
    if name not in g.refs:
        return 404, {"message": "Branch not found", "documentation_url": "https://docs.github.com/rest"}, {}
    required = list(g.required_checks) if name == repo.default_branch else []
    url = f"{state.repo_url(repo)}/branches/{name}"
    body: dict[str, Any] = {
        "name": name, "commit": {"sha": g.refs[name], "url": f"{state.repo_url(repo)}/commits/{g.refs[name]}"},
        "_links": {"self": url, "html": f"https://github.com/{repo.full_name}/tree/{name}"},
        "protected": bool(required), "protection_url": url + "/protection",
        "protection": {"enabled": bool(required), "required_status_checks": {
            "enforcement_level": "non_admins" if required else "off", "contexts": required,
            "checks": [{"context": x, "app_id": None} for x in required]}},
    }
    return 200, body, {}


def _mergeable(repo: Repo, pull: dict[str, Any]) -> bool | None:
    g = git(repo)
    head, base = g.refs.get(pull["head_ref"]), g.refs.get(pull["base_ref"])
    if head is None or base is None:
        return None
    return _merge_trees(g, head, base) is not None


def get_pull(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    """A git-backed pull request with `mergeable`; a seeded PR-mode pull request as routes_checks has it."""
    assert repo is not None
    number = a["pull_number"]
    if number not in repo.pulls:
        return NOT_FOUND
    if not git(repo).commits:
        return c.get_pull(state, repo, a, q, b)
    body = pull_json(state, repo, number)
    body["mergeable"] = _mergeable(repo, repo.pulls[number])
    body["mergeable_state"] = {True: "clean", False: "dirty", None: "unknown"}[body["mergeable"]]
    return 200, body, {}


def _pull_by_node(state: State, ident: str) -> tuple[Repo, int]:
    for repo in state.repos.values():
        for number in repo.pulls:
            if node_id("PullRequest", repo.issues[number]["id"]) == ident:
                return repo, number
    raise Refused(f"Could not resolve to a node with the global id of '{ident}'")


def enable_auto_merge(state: State, info: Any, input: dict[str, Any]) -> dict[str, Any]:
    repo, number = _pull_by_node(state, input["pullRequestId"])
    g, issue, pull = git(repo), repo.issues[number], repo.pulls[number]
    if not g.allow_auto_merge:
        raise Refused("Auto merge is not allowed for this repository")
    if issue["state"] != "open":
        raise Refused("Pull request is not open")
    if not g.required_checks:
        raise Refused("Pull request is in clean status")
    method = input.get("mergeMethod") or "MERGE"
    pull["auto_merge"] = {"merge_method": method.lower(), "enabled_by": state.user(), "commit_title": issue["title"],
                          "commit_message": "", "enabled_at": now_iso()}
    state.__dict__.setdefault("auto_merge_calls", []).append((repo.full_name, number, method))
    return {"pullRequest": {"number": number, "autoMergeRequest": {"enabledAt": pull["auto_merge"]["enabled_at"],
                                                                  "mergeMethod": method}}}


def ci_passes(state: State, repo: Repo) -> list[int]:
    """The required checks pass on every open pull request: GitHub merges those with auto-merge on."""
    g = git(repo)
    merged = []
    for number, pull in sorted(repo.pulls.items()):
        issue = repo.issues[number]
        if not pull.get("auto_merge") or issue["state"] != "open":
            continue
        head, base = g.refs[pull["head_ref"]], g.refs[pull["base_ref"]]
        tree = _merge_trees(g, head, base)
        if tree is None:
            continue  # a conflict: GitHub waits
        sha = _commit(g, tree, [base], f"{issue['title']} (#{number})")
        _move(repo, pull["base_ref"], sha)
        pull.update(merged_at=now_iso(), merge_commit_sha=sha)
        issue.update(state="closed", closed_at=now_iso())
        merged.append(number)
    return merged


RULES: list[tuple[str, str, Any]] = [
    ("GET", "/branches/<path:branch>", branch),
    ("GET", "/pulls/<int:pull_number>", get_pull),
]
