"""Git data, contents and pull requests for the fake: branches, one-file commits, open/update/merge PRs.

A small git model per repository (commits hold a whole tree of path -> bytes, refs map branch -> commit) so
the maintenance sinks meet GitHub's own rules: a branch that exists cannot be created again (422), a file
update needs the blob SHA it replaces (422 without, 409 when stale), a ref moves backwards only with
`force`, one open pull request per head and base (422 "A pull request already exists"), no pull request
without commits (422), and merging checks the head SHA (409), the state (405) and conflicts (405).
`GitData.merge_blocked` makes merges answer 405 like a branch protection with a pending required check.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

from tests.fakegithub.routes import NOT_FOUND, Reply, unprocessable
from tests.fakegithub.routes_checks import _branch
from tests.fakegithub.state import BOT, Repo, State, node_id, now_iso

_counter = itertools.count(1)
DOC = "https://docs.github.com/rest"


@dataclass
class GitData:
    commits: dict[str, dict[str, Any]] = field(default_factory=dict)  # sha -> tree, parents, message
    refs: dict[str, str] = field(default_factory=dict)  # branch -> commit sha
    merge_blocked: str | None = None  # a message: merges answer 405 with it (branch protection)
    allow_auto_merge: bool = True  # the repository setting "Allow auto-merge"
    required_checks: list[str] = field(default_factory=lambda: ["tests"])  # the default branch's protection


def git(repo: Repo) -> GitData:
    return repo.__dict__.setdefault("_git", GitData())  # type: ignore[no-any-return]


def blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # git's object id


def _commit(g: GitData, tree: dict[str, bytes], parents: list[str], message: str) -> str:
    raw = repr((sorted(tree.items()), parents, message, next(_counter))).encode()
    sha = hashlib.sha1(raw).hexdigest()
    g.commits[sha] = {"tree": dict(tree), "parents": parents, "message": message}
    return sha


def seed(state: State, repo: Repo, files: dict[str, str], *, branch: str | None = None,
         message: str = "Initial commit") -> str:
    """Commit `files` (on top of the branch when it exists) and move the branch: returns the commit SHA."""
    with state.lock:
        g = git(repo)
        branch = branch or repo.default_branch
        parent = g.refs.get(branch)
        tree = dict(g.commits[parent]["tree"]) if parent else {}
        tree.update({k: v.encode() for k, v in files.items()})
        sha = _commit(g, tree, [parent] if parent else [], message)
        _move(repo, branch, sha)
        return sha


def files_at(repo: Repo, branch: str) -> dict[str, str]:
    g = git(repo)
    return {k: v.decode() for k, v in g.commits[g.refs[branch]]["tree"].items()}


def _move(repo: Repo, branch: str, sha: str) -> None:
    git(repo).refs[branch] = sha
    for pull in repo.pulls.values():
        if pull["head_ref"] == branch and not pull.get("merged_at"):
            pull["head_sha"] = sha


def _ancestors(g: GitData, sha: str) -> list[str]:
    out, todo = [], [sha]
    while todo:
        s = todo.pop()
        if s not in out:
            out.append(s)
            todo.extend(g.commits[s]["parents"])
    return out


# -- refs -------------------------------------------------------------------------------------------
def _ref_json(state: State, repo: Repo, branch: str, sha: str) -> dict[str, Any]:
    url = f"{state.repo_url(repo)}/git/refs/heads/{branch}"
    return {"ref": f"refs/heads/{branch}", "node_id": node_id("Ref", abs(hash(branch)) % 10**6), "url": url,
            "object": {"type": "commit", "sha": sha, "url": f"{state.repo_url(repo)}/git/commits/{sha}"}}


def get_ref(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    ref = a["ref"]
    sha = git(repo).refs.get(ref.removeprefix("heads/")) if ref.startswith("heads/") else None
    return (200, _ref_json(state, repo, ref.removeprefix("heads/"), sha), {}) if sha else NOT_FOUND


def create_ref(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    g, ref = git(repo), b["ref"]
    if not ref.startswith("refs/") or ref.count("/") < 2:
        return 422, {"message": "Reference name is invalid", "documentation_url": "https://docs.github.com/rest"}, {}
    branch = ref.removeprefix("refs/heads/")
    if branch in g.refs:
        return 422, {"message": "Reference already exists", "documentation_url": "https://docs.github.com/rest"}, {}
    if b["sha"] not in g.commits:
        return 422, {"message": "Object does not exist", "documentation_url": "https://docs.github.com/rest"}, {}
    _move(repo, branch, b["sha"])
    return 201, _ref_json(state, repo, branch, b["sha"]), {}


def update_ref(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    g, branch = git(repo), a["ref"].removeprefix("heads/")
    if branch not in g.refs:
        return 422, {"message": "Reference does not exist", "documentation_url": "https://docs.github.com/rest"}, {}
    if b["sha"] not in g.commits:
        return 422, {"message": "Object does not exist", "documentation_url": "https://docs.github.com/rest"}, {}
    if not b.get("force") and g.refs[branch] not in _ancestors(g, b["sha"]):
        return 422, {"message": "Update is not a fast forward", "documentation_url": "https://docs.github.com/rest"}, {}
    _move(repo, branch, b["sha"])
    return 200, _ref_json(state, repo, branch, b["sha"]), {}


# -- contents ---------------------------------------------------------------------------------------
def _resolve(repo: Repo, ref: str | None) -> str | None:
    g = git(repo)
    ref = ref or repo.default_branch
    return g.refs.get(ref.removeprefix("refs/heads/")) or (ref if ref in g.commits else None)


def _content_json(state: State, repo: Repo, path: str, data: bytes, with_content: bool = True) -> dict[str, Any]:
    sha = blob_sha(data)
    url = f"{state.repo_url(repo)}/contents/{path}"
    out: dict[str, Any] = {
        "type": "file", "name": path.rsplit("/", 1)[-1], "path": path, "sha": sha, "size": len(data), "url": url,
        "git_url": f"{state.repo_url(repo)}/git/blobs/{sha}", "html_url": f"https://github.com/{repo.full_name}/blob/{path}",
        "download_url": None, "_links": {"self": url, "git": None, "html": None},
    }
    if with_content:
        encoded = base64.b64encode(data).decode()
        out.update(encoding="base64", content="\n".join(encoded[i:i + 60] for i in range(0, len(encoded), 60)) + "\n")
    return out


def get_contents(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    sha = _resolve(repo, (q.get("ref") or [None])[0])
    tree = git(repo).commits[sha]["tree"] if sha else {}
    if a["path"] not in tree:
        return NOT_FOUND
    return 200, _content_json(state, repo, a["path"], tree[a["path"]]), {}


def put_contents(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    g, path = git(repo), a["path"]
    branch = b.get("branch") or repo.default_branch
    head = g.refs.get(branch)
    if head is None:
        return 404, {"message": f"Branch {branch} not found", "documentation_url": "https://docs.github.com/rest"}, {}
    tree = dict(g.commits[head]["tree"])
    if path in tree and not b.get("sha"):
        return unprocessable("Contents", "sha", "missing_field", '"sha" wasn\'t supplied.')
    if path in tree and b["sha"] != blob_sha(tree[path]):
        return 409, {"message": f"{path} does not match {b['sha']}", "documentation_url": DOC}, {}
    try:
        data = base64.b64decode(b["content"], validate=True)
    except ValueError:
        return unprocessable("Contents", "content", "invalid", "content is not valid Base64")
    created = path not in tree
    tree[path] = data
    sha = _commit(g, tree, [head], b["message"])
    _move(repo, branch, sha)
    commit = {"sha": sha, "node_id": node_id("Commit", len(g.commits)),
              "url": f"{state.repo_url(repo)}/git/commits/{sha}",
              "html_url": f"https://github.com/{repo.full_name}/commit/{sha}", "message": b["message"],
              "author": {"name": BOT, "email": "bot@example.invalid", "date": now_iso()},
              "committer": {"name": BOT, "email": "bot@example.invalid", "date": now_iso()},
              "tree": {"sha": sha, "url": ""}, "parents": [{"sha": head, "url": "", "html_url": ""}]}
    return (201 if created else 200), {"content": _content_json(state, repo, path, data, False), "commit": commit}, {}


# -- pull requests ----------------------------------------------------------------------------------
def pull_json(state: State, repo: Repo, number: int) -> dict[str, Any]:
    issue, pull = repo.issues[number], repo.pulls[number]
    fields = {k: issue[k] for k in ("id", "number", "title", "body", "state", "user", "labels", "created_at",
                                     "updated_at", "closed_at", "assignee", "assignees", "locked")}
    return dict(fields, node_id=node_id("PullRequest", issue["id"]), url=f"{state.repo_url(repo)}/pulls/{number}",
                html_url=issue["html_url"], issue_url=issue["url"], comments_url=issue["comments_url"],
                head=_branch(state, repo, pull["head_ref"], pull["head_sha"]),
                base=_branch(state, repo, pull["base_ref"], pull["base_sha"]),
                merged=bool(pull.get("merged_at")), merged_at=pull.get("merged_at"),
                merge_commit_sha=pull.get("merge_commit_sha"), draft=False, auto_merge=pull.get("auto_merge"))


def list_pulls(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    wanted = (q.get("state") or ["open"])[0]
    head = (q.get("head") or [None])[0]
    base = (q.get("base") or [None])[0]
    out = []
    for number in sorted(repo.pulls, reverse=True):
        pull, issue = repo.pulls[number], repo.issues[number]
        if wanted != "all" and issue["state"] != wanted:
            continue
        if head and head != f"{repo.owner}:{pull['head_ref']}":
            continue
        if base and base != pull["base_ref"]:
            continue
        out.append(pull_json(state, repo, number))
    return 200, out, {}


def create_pull(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    g = git(repo)
    head = b["head"].split(":", 1)[-1]
    if head not in g.refs:
        return unprocessable("PullRequest", "head", "invalid")
    if b["base"] not in g.refs:
        return unprocessable("PullRequest", "base", "invalid")
    if g.refs[head] in _ancestors(g, g.refs[b["base"]]):
        return unprocessable("PullRequest", "base", "custom", f"No commits between {b['base']} and {head}")
    for number, pull in repo.pulls.items():
        if pull["head_ref"] == head and pull["base_ref"] == b["base"] and repo.issues[number]["state"] == "open":
            return unprocessable("PullRequest", "head", "custom",
                                 f"A pull request already exists for {repo.owner}:{head}.")
    issue = state.add_issue(repo, title=b["title"], body=b.get("body"), pull=True)
    repo.pulls[issue["number"]] = {"head_sha": g.refs[head], "base_sha": g.refs[b["base"]], "head_ref": head,
                                   "base_ref": b["base"], "files": []}
    return 201, pull_json(state, repo, issue["number"]), {}


def update_pull(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    number = a["pull_number"]
    if number not in repo.pulls:
        return NOT_FOUND
    issue = repo.issues[number]
    for key in ("title", "body", "state"):
        if key in b:
            issue[key] = b[key]
    issue["updated_at"] = now_iso()
    return 200, pull_json(state, repo, number), {}


def merge_pull(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    g, number = git(repo), a["pull_number"]
    if number not in repo.pulls:
        return NOT_FOUND
    pull, issue = repo.pulls[number], repo.issues[number]
    doc = "https://docs.github.com/rest"
    if issue["state"] != "open" or pull.get("merged_at"):
        return 405, {"message": "Pull Request is not mergeable", "documentation_url": doc}, {}
    if g.merge_blocked:
        return 405, {"message": g.merge_blocked, "documentation_url": doc}, {}
    head, base = g.refs[pull["head_ref"]], g.refs[pull["base_ref"]]
    if b.get("sha") and b["sha"] != head:
        return 409, {"message": "Head branch was modified. Review and try the merge again.",
                     "documentation_url": doc}, {}
    merged_tree = _merge_trees(g, head, base)
    if merged_tree is None:
        return 405, {"message": "Merge conflict", "documentation_url": doc}, {}
    sha = _commit(g, merged_tree, [base], b.get("commit_title") or issue["title"])
    _move(repo, pull["base_ref"], sha)
    pull.update(merged_at=now_iso(), merge_commit_sha=sha)
    issue.update(state="closed", closed_at=now_iso())
    return 200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}, {}


def _merge_trees(g: GitData, head: str, base: str) -> dict[str, bytes] | None:
    """Base's tree plus what the head changed since the merge base; None when both changed one file."""
    base_line = set(_ancestors(g, base))
    fork = next(s for s in _ancestors(g, head) if s in base_line)
    old, ours, theirs = (g.commits[s]["tree"] for s in (fork, head, base))
    out = dict(theirs)
    for path in set(old) | set(ours):
        if old.get(path) == ours.get(path):
            continue
        if theirs.get(path) != old.get(path) and theirs.get(path) != ours.get(path):
            return None
        if path in ours:
            out[path] = ours[path]
        else:
            out.pop(path, None)
    return out


RULES: list[tuple[str, str, Any]] = [
    ("GET", "/git/ref/<path:ref>", get_ref),
    ("POST", "/git/refs", create_ref),
    ("PATCH", "/git/refs/<path:ref>", update_ref),
    ("GET", "/contents/<path:path>", get_contents),
    ("PUT", "/contents/<path:path>", put_contents),
    ("GET", "/pulls", list_pulls),
    ("POST", "/pulls", create_pull),
    ("PATCH", "/pulls/<int:pull_number>", update_pull),
    ("PUT", "/pulls/<int:pull_number>/merge", merge_pull),
]
