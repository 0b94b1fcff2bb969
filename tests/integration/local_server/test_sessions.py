"""repo_automation.sessions: the shared session against a scripted server on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from repo_automation.sessions import make_session


class Scripted(ThreadingHTTPServer):
    """Answers each request with the next (status, headers) of its script; records method and user agent."""

    def __init__(self, script: list[tuple[int, dict[str, str]]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = list(script)
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class _Handler(BaseHTTPRequestHandler):
    server: Scripted

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        with self.server.lock:
            self.server.seen.append((self.command, self.headers.get("User-Agent", "")))
            status, headers = self.server.script.pop(0) if self.server.script else (200, {})
        body = f"answer {status}".encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[list[Scripted]]:
    started: list[Scripted] = []
    yield started
    for server in started:
        server.shutdown()
        server.server_close()


def run(serve: list[Scripted], script: list[tuple[int, dict[str, str]]]) -> Scripted:
    server = Scripted(script)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    serve.append(server)
    return server


def test_5xx_is_retried_with_backoff_until_it_succeeds(serve: list[Scripted]) -> None:
    server = run(serve, [(503, {}), (502, {})])
    with make_session(backoff_factor=0.01) as s:
        resp = s.get(server.url)
    assert resp.status_code == 200
    assert len(server.seen) == 3
    assert all(ua.startswith("repo-automation/") for _, ua in server.seen)


def test_after_the_last_retry_the_servers_answer_is_returned(serve: list[Scripted]) -> None:
    server = run(serve, [(503, {})] * 5)
    with make_session(retries=2, backoff_factor=0.01) as s:
        resp = s.get(server.url)
    assert (resp.status_code, resp.text) == (503, "answer 503")
    assert len(server.seen) == 3  # first try + 2 retries


@pytest.mark.timeout(60)
def test_retry_after_is_honoured_but_bounded(serve: list[Scripted]) -> None:
    """A server asking for an hour's wait is retried after the bound (here 0 s), not after an hour."""
    server = run(serve, [(429, {"Retry-After": "3600"}), (429, {"Retry-After": "3600"})])
    with make_session(retry_after_max_s=0, backoff_factor=0.01) as s:
        resp = s.get(server.url)
    assert resp.status_code == 200
    assert len(server.seen) == 3


def test_post_is_not_retried_unless_asked(serve: list[Scripted]) -> None:
    server = run(serve, [(503, {}), (503, {})])
    with make_session(backoff_factor=0.01) as s:
        assert s.post(server.url, data=b"x").status_code == 503
    assert len(server.seen) == 1
    server2 = run(serve, [(503, {})])
    with make_session(backoff_factor=0.01, methods=("POST",)) as s:
        assert s.post(server2.url, data=b"x").status_code == 200
    assert len(server2.seen) == 2


def test_every_request_gets_the_default_timeout() -> None:
    """A server that accepts but never answers: the request ends with a timeout instead of hanging."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        with make_session(timeout_s=0.3, retries=0) as s, pytest.raises(requests.RequestException) as err:
            s.get(f"http://127.0.0.1:{port}/")
    assert "Read timed out. (read timeout=0.3)" in str(err.value)
