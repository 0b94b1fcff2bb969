"""FakeGitHub: a stateful GitHub REST stand-in on 127.0.0.1 that validates every request.

Each request is (1) checked against GitHub's own OpenAPI description — a request GitHub would refuse gets
GitHub's 4xx *and* is recorded in `violations`, which the pytest fixture turns into a failed test — then
(2) answered from the in-memory State, with pagination (Link headers), ETags (If-None-Match → 304, free),
and rate-limit headers. Faults can be injected for the next N matching requests.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.fakegithub import routes as r
from tests.fakegithub import routes_automerge as am
from tests.fakegithub import routes_checks as c
from tests.fakegithub import routes_git as g
from tests.fakegithub.faults import Fault
from tests.fakegithub.routing import RouteTable
from tests.fakegithub.spec import SpecRequest, check
from tests.fakegithub.state import State

R = "/repos/<owner>/<repo>"
RULES: list[tuple[str, str, Any]] = [
    ("GET", "/rate_limit", r.rate_limit),
    ("GET", R, r.get_repo),
    ("GET", R + "/stats/<kind>", r.repo_stats),
    ("GET", R + "/issues", r.list_issues),
    ("POST", R + "/issues", r.create_issue),
    ("GET", R + "/issues/<int:number>", r.get_issue),
    ("PATCH", R + "/issues/<int:number>", r.update_issue),
    ("POST", R + "/issues/<int:number>/labels", r.add_labels),
    ("POST", R + "/issues/<int:number>/assignees", r.add_assignees),
    ("GET", R + "/issues/<int:number>/comments", r.list_comments),
    ("POST", R + "/issues/<int:number>/comments", r.create_comment),
    ("GET", R + "/issues/comments/<int:comment_id>", r.get_comment),
    ("PATCH", R + "/issues/comments/<int:comment_id>", r.update_comment),
    ("GET", R + "/labels", r.list_labels),
    ("POST", R + "/labels", r.create_label),
    ("GET", R + "/labels/<path:name>", r.get_label),
    ("POST", R + "/check-runs", c.create_check_run),
    ("GET", R + "/check-runs/<int:check_run_id>", c.get_check_run),
    ("PATCH", R + "/check-runs/<int:check_run_id>", c.update_check_run),
    ("GET", R + "/check-runs/<int:check_run_id>/annotations", c.list_annotations),
    ("POST", R + "/statuses/<sha>", c.create_status),
    ("GET", R + "/pulls/<int:pull_number>", am.get_pull),
    ("GET", R + "/pulls/<int:pull_number>/files", c.list_pull_files),
]
RULES += [(method, R + path, handler) for method, path, handler in g.RULES]  # git data, contents, pulls
RULES += [(method, R + path, handler) for method, path, handler in am.RULES if path.startswith("/branches")]
ROUTES = RouteTable(RULES)
MUTATING = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def _reads_only(body: Any) -> bool:
    from graphql import OperationDefinitionNode, OperationType, parse

    doc = parse(body["query"]) if isinstance(body, dict) and isinstance(body.get("query"), str) else None
    return doc is not None and all(d.operation is OperationType.QUERY for d in doc.definitions
                                   if isinstance(d, OperationDefinitionNode))


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """The fake records requests itself; keep the test output clean."""


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    headers: dict[str, str]


class FakeGitHub:
    """Start with `with FakeGitHub() as gh:` (or the `fake_github` fixture); `gh.url` is the API base URL."""

    def __init__(self, *, validate: bool = True) -> None:
        self.state = State()
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.faults: list[Fault] = []
        self.validate = validate
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- life cycle -------------------------------------------------------------------------------
    def start(self) -> FakeGitHub:
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True, request_handler=_QuietHandler)
        self.state.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fakegithub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.state.base_url

    @property
    def token(self) -> str:
        return self.state.token

    # -- for tests --------------------------------------------------------------------------------
    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def mutating_requests(self) -> list[Recorded]:
        return [x for x in self.requests if x.method in MUTATING]

    def writes(self) -> list[str]:
        """Requests that change something on GitHub: mutating methods, except GraphQL documents that only
        query (a GraphQL query is a POST too, but it only reads)."""
        return [f"{x.method} {x.path}" for x in self.mutating_requests()
                if not (x.path.rstrip("/").endswith("/graphql") and _reads_only(x.body))]

    def count(self, method: str, path_contains: str = "") -> int:
        return sum(1 for x in self.requests if x.method == method and path_contains in x.path)

    def take_violations(self) -> list[str]:
        """Return and forget the recorded violations (for tests that send invalid requests on purpose)."""
        with self._lock:
            out, self.violations = self.violations, []
        return out

    # -- the WSGI application ---------------------------------------------------------------------
    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        raw = req.get_data()
        query = req.args.to_dict(flat=False)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
            status, payload, headers = 400, {"message": "Problems parsing JSON"}, {}
            self._violation(f"{req.method} {req.path}: body is not JSON")
        else:
            status, payload, headers = self._handle(req, body, query)
        with self._lock:
            self.requests.append(Recorded(req.method, req.path, query, body, status, dict(headers)))
        resp = Response(status=status, headers=headers)
        if status != 304 and payload is not None:
            resp.set_data(json.dumps(payload))
            resp.content_type = "application/json; charset=utf-8"
        return resp(environ, start_response)

    def _violation(self, text: str) -> None:
        with self._lock:
            self.violations.append(text)

    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.matches(method, path):
                    f.hits += 1
                    return f
        return None

    def _handle(self, req: Request, body: Any, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        method, path = req.method, req.path
        denied = self._auth(req, method)
        if denied is not None:
            return denied
        if path.rstrip("/") in ("/graphql", "/api/graphql") and method == "POST":
            return self._graphql(body)
        if self.validate:
            invalid = check(SpecRequest(method, path, req.get_data() or None, list(req.args.items(multi=True)),
                                        dict(req.headers), req.content_type or "application/json"))
            if invalid is not None:
                self._violation(f"{method} {path}: {invalid.message}")
                return invalid.status, {"message": invalid.message,
                                        "documentation_url": "https://docs.github.com/rest"}, {}
        fault = self._fault_for(method, path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status is not None and not fault.apply:
            return fault.reply()
        reply = self._dispatch(method, path, body, query)
        if fault is not None and fault.status is not None:
            return fault.reply()
        return self._finish(req, reply, query)

    def _auth(self, req: Request, method: str) -> tuple[int, Any, dict[str, str]] | None:
        auth = req.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if auth and (scheme.lower() not in ("token", "bearer") or token != self.state.token):
            return 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}, {}
        if not auth and method in MUTATING:
            return 401, {"message": "Requires authentication", "documentation_url": "https://docs.github.com/rest"}, {}
        return None

    def _graphql(self, body: Any) -> tuple[int, Any, dict[str, str]]:
        try:
            from tests.fakegithub import graphql
        except ImportError:
            return 501, {"message": "GraphQL is not implemented by the fake yet"}, {}
        with self.state.lock:
            status, payload = graphql.handle(self.state, body)
        return status, payload, {}

    def _dispatch(self, method: str, path: str, body: Any, query: dict[str, list[str]]
                  ) -> tuple[int, Any, dict[str, str]]:
        reply = ROUTES.dispatch(self.state, method, path, body, query)
        if reply is None:
            self._violation(f"{method} {path}: valid for GitHub but not implemented by the fake")
            return 501, {"message": "not implemented by the fake"}, {}
        return reply

    def _finish(self, req: Request, reply: tuple[int, Any, dict[str, str]], query: dict[str, list[str]]
                ) -> tuple[int, Any, dict[str, str]]:
        status, payload, headers = reply
        headers = dict(headers)
        if req.method == "GET" and status == 200 and isinstance(payload, list):
            payload, link = self._paginate(req.path, payload, query)
            if link:
                headers["Link"] = link
        if req.method == "GET" and status == 200:
            etag = 'W/"' + hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:40] + '"'
            headers["ETag"] = etag
            if etag in [x.strip() for x in req.headers.get("If-None-Match", "").split(",")]:
                return 304, None, {**self._rate_headers(), "ETag": etag}
        self.state.rate_used += 1
        headers.update(self._rate_headers())
        return status, payload, headers

    def _rate_headers(self) -> dict[str, str]:
        s = self.state
        return {"x-ratelimit-limit": str(s.rate_limit),
                "x-ratelimit-remaining": str(max(0, s.rate_limit - s.rate_used)),
                "x-ratelimit-used": str(s.rate_used), "x-ratelimit-reset": "4102444800", "x-ratelimit-resource": "core"}

    def _paginate(self, path: str, items: list[Any], query: dict[str, list[str]]) -> tuple[list[Any], str]:
        per_page = min(100, max(1, int((query.get("per_page") or ["30"])[0])))
        page = max(1, int((query.get("page") or ["1"])[0]))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]

        def link(p: int, rel: str) -> str:
            q = {k: v[0] for k, v in query.items()}
            q.update(page=str(p), per_page=str(per_page))
            return f'<{self.url}{path}?{urlencode(q)}>; rel="{rel}"'

        links = []
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        return chunk, ", ".join(links)
