"""Check runs (≤ 50 annotations per request, like GitHub), commit statuses and pull requests."""

from __future__ import annotations

from typing import Any

from tests.fakegithub.routes import NOT_FOUND, Reply, unprocessable
from tests.fakegithub.state import BOT, Repo, State, node_id, now_iso

MAX_ANNOTATIONS = 50


def _check_run_json(state: State, repo: Repo, run: dict[str, Any]) -> dict[str, Any]:
    url = f"{state.repo_url(repo)}/check-runs/{run['id']}"
    out = {k: v for k, v in run.items() if not k.startswith("_")}
    out["output"] = dict(run["output"], annotations_count=len(repo.annotations.get(run["id"], [])),
                         annotations_url=url + "/annotations")
    return out


def _apply_output(repo: Repo, run: dict[str, Any], output: dict[str, Any] | None) -> Reply | None:
    if not output:
        return None
    annotations = output.get("annotations") or []
    if len(annotations) > MAX_ANNOTATIONS:
        return unprocessable("CheckRun", "output.annotations", "custom",
                             f"Only {MAX_ANNOTATIONS} annotations may be sent per request")
    for ann in annotations:
        if ann.get("start_line") and ann.get("end_line") and ann["end_line"] < ann["start_line"]:
            return unprocessable("CheckRun", "output.annotations", "custom", "end_line is before start_line")
    repo.annotations.setdefault(run["id"], []).extend(annotations)
    for key in ("title", "summary", "text"):
        if key in output:
            run["output"][key] = output[key]
    return None


def create_check_run(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    if (b.get("status") == "completed" or b.get("completed_at")) and not b.get("conclusion"):
        return unprocessable("CheckRun", "conclusion", "missing_field")
    ident = state.next_id()
    url = f"{state.repo_url(repo)}/check-runs/{ident}"
    run: dict[str, Any] = {
        "id": ident, "node_id": node_id("CheckRun", ident), "name": b["name"], "head_sha": b["head_sha"],
        "external_id": b.get("external_id", ""), "url": url,
        "html_url": f"https://github.com/{repo.full_name}/runs/{ident}", "details_url": b.get("details_url"),
        "status": "completed" if b.get("conclusion") else b.get("status", "queued"),
        "conclusion": b.get("conclusion"), "started_at": b.get("started_at") or now_iso(),
        "completed_at": b.get("completed_at") or (now_iso() if b.get("conclusion") else None),
        "output": {"title": None, "summary": None, "text": None}, "check_suite": {"id": ident + 1},
        "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions", "owner": state.user("github")},
        "pull_requests": [],
    }
    refused = _apply_output(repo, run, b.get("output"))
    if refused:
        return refused
    repo.check_runs[ident] = run
    return 201, _check_run_json(state, repo, run), {}


def update_check_run(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    run = repo.check_runs.get(a["check_run_id"])
    if run is None:
        return NOT_FOUND
    refused = _apply_output(repo, run, b.get("output"))
    if refused:
        return refused
    for key in ("name", "details_url", "external_id", "started_at", "status"):
        if key in b:
            run[key] = b[key]
    if b.get("conclusion"):
        run["conclusion"] = b["conclusion"]
        run["status"] = "completed"
        run["completed_at"] = b.get("completed_at") or now_iso()
    return 200, _check_run_json(state, repo, run), {}


def get_check_run(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    run = repo.check_runs.get(a["check_run_id"])
    return (200, _check_run_json(state, repo, run), {}) if run else NOT_FOUND


def list_annotations(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    if a["check_run_id"] not in repo.check_runs:
        return NOT_FOUND
    return 200, list(repo.annotations.get(a["check_run_id"], [])), {}


def create_status(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    if b.get("description") and len(b["description"]) > 140:
        return unprocessable("Status", "description", "custom", "description is too long (maximum is 140 characters)")
    ident = state.next_id()
    stamp = now_iso()
    status = {
        "url": f"{state.repo_url(repo)}/statuses/{a['sha']}", "id": ident, "node_id": node_id("Status", ident),
        "state": b["state"], "description": b.get("description"), "target_url": b.get("target_url"),
        "context": b.get("context") or "default", "created_at": stamp, "updated_at": stamp,
        "creator": state.user(BOT), "avatar_url": None, "sha": a["sha"],
    }
    repo.statuses.append(status)
    return 201, {k: v for k, v in status.items() if k != "sha"}, {}


# -- pull requests -----------------------------------------------------------------------------
def _branch(state: State, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
    return {"label": f"{repo.owner}:{ref}", "ref": ref, "sha": sha, "user": state.user(repo.owner),
            "repo": {"id": repo.id, "name": repo.name, "full_name": repo.full_name, "fork": False,
                     "url": state.repo_url(repo), "owner": state.user(repo.owner)}}


def get_pull(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    pull = repo.pulls.get(a["pull_number"])
    if pull is None:
        return NOT_FOUND
    issue = repo.issues[a["pull_number"]]
    fields = {k: issue[k] for k in ("id", "number", "title", "body", "state", "user", "labels", "created_at",
                                     "updated_at", "closed_at", "assignee", "assignees", "locked")}
    return 200, dict(
        fields, node_id=node_id("PullRequest", issue["id"]), url=f"{state.repo_url(repo)}/pulls/{issue['number']}",
        html_url=issue["html_url"], issue_url=issue["url"], comments_url=issue["comments_url"],
        head=_branch(state, repo, pull["head_ref"], pull["head_sha"]),
        base=_branch(state, repo, pull["base_ref"], pull["base_sha"]),
        merged=False, mergeable=None, draft=False, changed_files=len(pull["files"]),
    ), {}


def list_pull_files(state: State, repo: Repo | None, a: dict[str, Any], q: dict[str, list[str]], b: Any) -> Reply:
    assert repo is not None
    pull = repo.pulls.get(a["pull_number"])
    if pull is None:
        return NOT_FOUND
    files = []
    for f in pull["files"]:
        files.append({"sha": f.get("sha", "0" * 40), "filename": f["filename"], "status": f.get("status", "modified"),
                      "additions": f.get("additions", 1), "deletions": f.get("deletions", 0),
                      "changes": f.get("additions", 1) + f.get("deletions", 0), "patch": f.get("patch", ""),
                      "blob_url": "", "raw_url": "", "contents_url": ""})
    return 200, files, {}
