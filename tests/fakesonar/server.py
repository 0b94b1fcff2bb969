"""A small SonarQube web API on 127.0.0.1 that behaves as Sonar documents and its source shows.

Enforced, as the real server does:
- authentication: `Authorization: Bearer TOKEN` (or HTTP Basic with the token as user name); a missing or
  unknown token on a private project is 401; a valid token without permission on the project is 403
  `Insufficient privileges`;
- `GET api/measures/component?component=KEY&metricKeys=a,b`: both parameters required (400 otherwise);
  an unknown metric key fails the WHOLE call with 404 `The following metric keys are not found: a, b`;
  an unknown component is 404 `Component key 'KEY' not found`; values are strings; a metric the project
  has no value for is simply absent from `measures`;
- `GET api/qualitygates/project_status?projectKey=KEY[&pullRequest=N]`: `projectStatus.status` OK / WARN /
  ERROR / NONE; a pull request Sonar has not analysed is 404;
- only GET; anything else is 405; unknown URLs 404; `unavailable = n` answers the next n requests with
  503 and `Retry-After: 1`, as a server that is restarting.
Every request is recorded (method, path, query, Authorization header) so a test can count and inspect.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# A subset of the metric keys a SonarQube 10 server knows (api/metrics/search).
KNOWN_METRICS = frozenset({
    "coverage", "line_coverage", "branch_coverage", "lines_to_cover", "uncovered_lines", "new_coverage",
    "sqale_rating", "sqale_index", "sqale_debt_ratio", "reliability_rating", "security_rating",
    "security_review_rating", "vulnerabilities", "bugs", "code_smells", "security_hotspots",
    "security_hotspots_reviewed", "duplicated_lines_density", "duplicated_lines", "duplicated_blocks",
    "ncloc", "lines", "files", "functions", "classes", "complexity", "cognitive_complexity",
    "alert_status", "quality_gate_details", "comment_lines_density", "tests", "test_failures",
})


@dataclass
class SonarProject:
    key: str
    measures: dict[str, str] = field(default_factory=dict)  # metric key -> value, as strings
    gate_status: str = "OK"
    gate_conditions: list[dict[str, str]] = field(default_factory=list)
    public: bool = False
    pull_request_gates: dict[str, str] = field(default_factory=dict)  # analysed pull request -> gate status


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None


class FakeSonar:
    """Start with `with FakeSonar(projects=[...], tokens={"tok": {"KEY"}}) as sonar:`; `sonar.url`."""

    def __init__(self, *, projects: list[SonarProject], tokens: dict[str, set[str]] | None = None) -> None:
        self.projects = {p.key: p for p in projects}
        self.tokens = tokens or {}
        self.requests: list[Recorded] = []
        self.unavailable = 0  # answer this many next requests with 503 + Retry-After (a restarting server)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeSonar:
        fake = self

        class Handler(_Handler):
            sonar = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fakesonar", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- the API ---------------------------------------------------------------------------------------
    def token_of(self, authorization: str | None) -> str | None:
        if not authorization:
            return None
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return value.strip()
        if scheme.lower() == "basic":
            try:
                return base64.b64decode(value).decode().partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                return None
        return None

    def authorize(self, authorization: str | None, key: str) -> tuple[int, Any] | None:
        """None when allowed, else the error answer: authentication first (401), then the component (404),
        then the permission on it (403), in the order SonarQube checks them."""
        token = self.token_of(authorization)
        if token is not None and token not in self.tokens:
            return 401, None  # an invalid token is refused whatever the project
        project = self.projects.get(key)
        if project is None:
            return (401, None) if token is None else (404, _errors(f"Component key '{key}' not found"))
        if project.public:
            return None
        if token is None:
            return 401, None
        if key not in self.tokens[token]:
            return 403, _errors("Insufficient privileges")
        return None

    def measures(self, query: dict[str, str], authorization: str | None) -> tuple[int, Any]:
        key = query.get("component")
        if not key:
            return 400, _errors("The 'component' parameter is missing")
        if "metricKeys" not in query:
            return 400, _errors("The 'metricKeys' parameter is missing")
        keys = [k.strip() for k in query["metricKeys"].split(",") if k.strip()]
        if not keys:
            return 400, _errors("At least one metric key must be provided")
        denied = self.authorize(authorization, key)
        if denied:
            return denied
        unknown = [k for k in dict.fromkeys(keys) if k not in KNOWN_METRICS]
        if unknown:
            return 404, _errors(f"The following metric keys are not found: {', '.join(unknown)}")
        project = self.projects[key]
        measures = [{"metric": k, "value": project.measures[k], "bestValue": False}
                    for k in sorted(set(keys)) if k in project.measures]
        return 200, {"component": {"key": key, "name": key, "qualifier": "TRK", "measures": measures}}

    def project_status(self, query: dict[str, str], authorization: str | None) -> tuple[int, Any]:
        key = query.get("projectKey")
        if not key and not query.get("analysisId") and not query.get("projectId"):
            return 400, _errors("Either 'analysisId', 'projectId' or 'projectKey' must be provided")
        assert key is not None
        denied = self.authorize(authorization, key)
        if denied:
            return denied
        project = self.projects[key]
        pr = query.get("pullRequest")
        if pr is not None:
            if pr not in project.pull_request_gates:
                return 404, _errors(f"Pull request '{pr}' in project '{key}' not found")
            return 200, {"projectStatus": {"status": project.pull_request_gates[pr], "conditions": [],
                                           "ignoredConditions": False}}
        return 200, {"projectStatus": {"status": project.gate_status, "conditions": project.gate_conditions,
                                       "ignoredConditions": False}}


def _errors(msg: str) -> dict[str, Any]:
    return {"errors": [{"msg": msg}]}


class _Handler(BaseHTTPRequestHandler):
    sonar: FakeSonar
    server_version = "FakeSonar/10"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _answer(self, status: int, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        auth = self.headers.get("Authorization")
        self.sonar.requests.append(Recorded(method=method, path=parts.path, query=query, authorization=auth))
        if self.sonar.unavailable > 0:
            self.sonar.unavailable -= 1
            self.send_response(503)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        routes = {"/api/measures/component": self.sonar.measures,
                  "/api/qualitygates/project_status": self.sonar.project_status}
        handler = routes.get(parts.path)
        if handler is None:
            self._answer(404, _errors(f"Unknown url : {parts.path}"))
        elif method != "GET":
            self._answer(405, _errors(f"HTTP method {method} is not supported"))
        else:
            self._answer(*handler(query, auth))

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")
