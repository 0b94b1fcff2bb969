"""Replay of real GitHub conversations recorded by @octokit/fixtures (nock recordings of api.github.com).

`ReplayServer(scenario)` serves, on 127.0.0.1, the recorded response for each recorded request — same
method, path, query and JSON body, in any order, each once — with `https://api.github.com` rewritten to its
own address (so PyGithub follows Link headers and URLs back to it). Anything unrecorded gets a 599 and is kept
in `unmatched`; `pending()` lists recorded requests nobody made (like nock's `mock.done()`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

FIXTURES = Path(__file__).resolve().parents[2] / "node_modules" / "@octokit" / "fixtures" / "scenarios"
API = "https://api.github.com"
_PASS_HEADERS = ("content-type", "etag", "link", "location", "last-modified", "retry-after")


def load_scenario(name: str) -> list[dict[str, Any]]:
    """The recorded requests of e.g. 'api.github.com/paginate-issues'."""
    return json.loads((FIXTURES / name / "normalized-fixture.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _rewrite(value: Any, base: str) -> Any:
    if isinstance(value, str):
        return value.replace(API, base)
    if isinstance(value, list):
        return [_rewrite(v, base) for v in value]
    if isinstance(value, dict):
        return {k: _rewrite(v, base) for k, v in value.items()}
    return value


def _same_body(recorded: Any, sent: bytes) -> bool:
    if recorded in (None, ""):
        return not sent
    try:
        return json.loads(sent) == recorded if sent else False
    except ValueError:
        return False


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Recorded in `seen` instead."""


@dataclass
class ReplayServer:
    scenario: str
    records: list[dict[str, Any]] = field(default_factory=list)
    used: list[bool] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    seen: list[tuple[str, str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.records = [r for r in load_scenario(self.scenario) if r["scope"].startswith(API)]
        self.used = [False] * len(self.records)
        self._lock = threading.Lock()
        self._server: Any = None

    def __enter__(self) -> ReplayServer:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_Quiet)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def pending(self) -> list[str]:
        return [f"{r['method'].upper()} {r['path']}" for r, u in zip(self.records, self.used, strict=True) if not u]

    def _match(self, req: Request, body: bytes) -> int | None:
        query = sorted(parse_qsl(req.query_string.decode()))
        auth = req.headers.get("Authorization")
        for i, rec in enumerate(self.records):
            want = urlsplit(rec["path"])
            expected_auth = (rec.get("reqheaders") or {}).get("authorization")
            if (self.used[i] or rec["method"].upper() != req.method or want.path != req.path
                    or sorted(parse_qsl(want.query)) != query or not _same_body(rec.get("body"), body)
                    or (expected_auth is not None and expected_auth != auth)):
                continue
            return i
        return None

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        body = req.get_data()
        with self._lock:
            index = self._match(req, body)
            if index is not None:
                self.used[index] = True
        if index is None:
            self.unmatched.append(f"{req.method} {req.full_path.rstrip('?')} {body[:200]!r}")
            self.seen.append((req.method, req.path, 599))
            resp = Response(json.dumps({"message": "request not in the recording"}), status=599,
                            content_type="application/json")
            return resp(environ, start_response)
        rec = self.records[index]
        headers = {k: _rewrite(str(v), self.url) for k, v in (rec.get("headers") or {}).items()
                   if k.lower() in _PASS_HEADERS or k.lower().startswith("x-ratelimit")}
        payload = rec.get("response")
        empty = payload in (None, "") or rec["status"] == 204
        data = b"" if empty else json.dumps(_rewrite(payload, self.url)).encode()
        self.seen.append((req.method, req.path, rec["status"]))
        return Response(data, status=rec["status"], headers=headers)(environ, start_response)
