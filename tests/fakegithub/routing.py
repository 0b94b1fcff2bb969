"""A table of REST routes for the local GitHub: (method, werkzeug path, handler) rules, and the dispatch every
handler expects — the `<owner>/<repo>` of the path resolved (404 as GitHub answers when there is no such
repository), the handler called under the state's lock with a JSON body of {} when none was sent."""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule

from tests.fakegithub.routes import NOT_FOUND, Reply
from tests.fakegithub.state import State


class RouteTable:
    def __init__(self, rules: list[tuple[str, str, Any]]) -> None:
        self._handlers = [handler for _, _, handler in rules]
        self._map = Map([Rule(path, methods=[method], endpoint=i) for i, (method, path, _) in enumerate(rules)],
                        strict_slashes=False)

    def dispatch(self, state: State, method: str, path: str, body: Any, query: dict[str, list[str]]) -> Reply | None:
        """The handler's reply, or None when no rule matches method and path."""
        try:
            index, args = self._map.bind("fake").match(path, method)
        except (NotFound, MethodNotAllowed):
            return None
        with state.lock:
            repo = None
            if "owner" in args:
                repo = state.repo(args["owner"], args["repo"])
                if repo is None:
                    return NOT_FOUND
            return self._handlers[index](state, repo, args, query, body if body is not None else {})  # type: ignore[no-any-return]
