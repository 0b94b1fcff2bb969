"""The GraphQL side of the fake GitHub: executes our documents against GitHub's real schema.

`handle(state, body) -> (status, json)` validates the document against node_modules/@octokit/graphql-schema
first (a document GitHub would reject gets GitHub's errors answer and is recorded in
`state.graphql_violations`, which ClientFakeGitHub turns into a failed test), insists that values travel as
variables (a string literal argument is a violation), then executes with graphql-core, resolving from the
repository activity in repo_data.RepoData. Dict values that are functions receive (info, **args), so a
connection resolves its own arguments (first/last, orderBy, states, since/until).

`rateLimit { cost }` follows GitHub's published formula: every connection costs one request per parent
node it is fetched for (assuming first/last is reached), the sum divided by 100 and rounded, at least 1.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from tests.fakegithub.repo_data import Commit, Item, Release, RepoData, actor, data_for, iso
from tests.fakegithub.routes_automerge import Refused
from tests.fakegithub.state import State

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "node_modules" / "@octokit" / "graphql-schema" / "schema.graphql"
GRAPHQL_LIMIT = 5000


@cache
def schema() -> Any:
    from graphql import build_schema

    return build_schema(SCHEMA_PATH.read_text(encoding="utf-8"), assume_valid_sdl=True, assume_valid=True)


class NotFound(Exception):
    """GitHub's NOT_FOUND: data.repository is null and the errors say which name could not be resolved."""


def _violation(state: State, text: str) -> None:
    state.__dict__.setdefault("graphql_violations", []).append(text)


def _errors(messages: list[str]) -> dict[str, Any]:
    return {"errors": [{"message": m} for m in messages]}


def query_cost(document: Any, variables: dict[str, Any]) -> int:
    """GitHub's formula over the operation's connections (fields whose type name ends in Connection)."""
    from graphql import FieldNode, TypeInfo, TypeInfoVisitor, Visitor, get_named_type, visit
    from graphql.utilities import value_from_ast_untyped

    total = 0
    stack: list[int] = [1]
    info = TypeInfo(schema())

    class Cost(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            nonlocal total
            named = get_named_type(info.get_type())
            mult = stack[-1]
            if named is not None and named.name.endswith("Connection"):
                total += mult
                args = {a.name.value: value_from_ast_untyped(a.value, variables) for a in node.arguments or ()}
                mult *= int(args.get("first") or args.get("last") or 1)
            stack.append(mult)

        def leave_field(self, *_: Any) -> None:
            stack.pop()

    visit(document, TypeInfoVisitor(info, Cost()))
    return max(1, round(total / 100))


def _literal_strings(document: Any) -> list[str]:
    from graphql import ArgumentNode, StringValueNode, Visitor, visit

    found: list[str] = []

    class Finder(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            if isinstance(node.value, StringValueNode):
                found.append(node.name.value)

    visit(document, Finder())
    return found


def handle(state: State, body: Any) -> tuple[int, dict[str, Any]]:
    from graphql import GraphQLError, execute, parse, validate

    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        _violation(state, "POST /graphql: the body needs a query string")
        return 400, {"message": "Problems parsing JSON"}
    variables = body.get("variables") or {}
    try:
        document = parse(body["query"])
    except GraphQLError as e:
        _violation(state, f"POST /graphql: {e.message}")
        return 200, _errors([e.message])
    problems = [e.message for e in validate(schema(), document)]
    problems += [f"argument {name!r} is a string literal: pass values as variables" for name in
                 _literal_strings(document)]
    if problems:
        _violation(state, "POST /graphql: " + "; ".join(problems))
        return 200, _errors(problems)
    cost = query_cost(document, variables)
    state.graphql_used += cost
    root = {"rateLimit": {"cost": cost, "limit": GRAPHQL_LIMIT, "used": state.graphql_used,
                          "remaining": max(0, GRAPHQL_LIMIT - state.graphql_used), "resetAt": "2099-01-01T00:00:00Z",
                          "nodeCount": 0},
            "repository": lambda info, owner, name, **_: _repository(state, owner, name),
            "enablePullRequestAutoMerge": lambda info, input: _auto_merge(state, info, input)}
    result = execute(schema(), document, root_value=root, variable_values=variables)
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        bugs = [e.message for e in result.errors if not isinstance(e.original_error, (NotFound, Refused))]
        if bugs:  # the fake could not resolve what the schema allows: a defect of the fake or its data
            _violation(state, "POST /graphql: " + "; ".join(bugs))
        payload["errors"] = [{**e.formatted, **({"type": "NOT_FOUND"} if isinstance(e.original_error, NotFound)
                                                else {"type": "UNPROCESSABLE"} if isinstance(e.original_error, Refused)
                                                else {})} for e in result.errors]
    return 200, payload


def _auto_merge(state: State, info: Any, input: dict[str, Any]) -> dict[str, Any]:
    from tests.fakegithub.routes_automerge import enable_auto_merge

    with state.lock:
        return enable_auto_merge(state, info, input)


# -- resolving from RepoData ---------------------------------------------------------------------
def _ts(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None


def _connection(items: list[Any], render: Callable[[Any], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """A connection resolver: first/last windows, ordered by orderBy (CREATED_AT/UPDATED_AT), states filter."""

    def resolve(info: Any, first: int | None = None, last: int | None = None, orderBy: Any = None,
                states: list[str] | None = None, **_: Any) -> dict[str, Any]:
        chosen = [i for i in items if not states or getattr(i, "state", "OPEN") in states]
        if orderBy:
            key = {"CREATED_AT": "created", "UPDATED_AT": "last_update"}[orderBy["field"]]
            chosen.sort(key=lambda i: getattr(i, key), reverse=orderBy["direction"] == "DESC")
        window = chosen[:first] if first is not None else chosen[-last:] if last is not None else []
        return {"totalCount": len(chosen), "nodes": [render(i) for i in window]}

    return resolve


def _events(events: list[Any], with_submitted: bool = False) -> Callable[..., dict[str, Any]]:
    def render(e: Any) -> dict[str, Any]:
        out = {"createdAt": iso(e.when), "author": actor(e.login)}
        if with_submitted:
            out["submittedAt"] = iso(e.when)
        return out

    return _connection(sorted(events, key=lambda e: e.when), render)


def _item(it: Item) -> dict[str, Any]:
    return {"createdAt": iso(it.created), "updatedAt": iso(it.last_update),
            "closedAt": iso(it.closed) if it.closed else None, "mergedAt": iso(it.merged) if it.merged else None,
            "state": it.state, "author": actor(it.author), "comments": _events(it.comments),
            "reviews": _events(it.reviews, with_submitted=True)}


def _history(commits: list[Commit]) -> Callable[..., dict[str, Any]]:
    def resolve(info: Any, since: str | None = None, until: str | None = None, first: int | None = None,
                **_: Any) -> dict[str, Any]:
        lo, hi = _ts(since), _ts(until)
        chosen = [c for c in commits if (lo is None or c.when >= lo) and (hi is None or c.when < hi)]
        chosen.sort(key=lambda c: c.when, reverse=True)
        nodes = [{"committedDate": iso(c.when), "author": {"email": c.email, "name": c.login or c.email,
                                                             "user": {"login": c.login} if c.login else None}}
                 for c in chosen[: first or 0]]
        return {"totalCount": len(chosen), "nodes": nodes}

    return resolve


def _release(r: Release) -> dict[str, Any]:
    return {"createdAt": iso(r.created), "publishedAt": None if r.draft else iso(r.created), "isDraft": r.draft}


def _repository(state: State, owner: str, name: str) -> dict[str, Any]:
    repo = state.repo(owner, name)
    if repo is None:
        raise NotFound(f"Could not resolve to a Repository with the name '{owner}/{name}'.")
    d: RepoData = data_for(state, repo.full_name)
    releases = sorted(d.releases, key=lambda r: r.created)
    return {
        "nameWithOwner": repo.full_name, "stargazerCount": d.stars, "forkCount": d.forks,
        "watchers": {"totalCount": d.watchers},
        "issues": _connection(d.issues, _item), "pullRequests": _connection(d.pulls, _item),
        "releases": _connection(releases, _release),
        "defaultBranchRef": {"name": repo.default_branch,
                             "target": {"__typename": "Commit", "history": _history(d.commits)}},
    }
