"""A threaded HTTP server on 127.0.0.1 (a free port) that hands each POST to a judge and records the verdict."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Judge = Callable[[str, dict[str, str], bytes], tuple[int, str, dict[str, str], Any]]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    answer: str
    payload: Any = None


@dataclass
class Receiver:
    """Start with `with`; `requests` are every POST with the status it got; `fail()` queues faults."""

    requests: list[Received] = field(default_factory=list)
    _faults: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the receiver is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail(self, status: int, answer: str, *, times: int = 1, headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self._faults.extend([(status, answer, dict(headers or {}))] * times)

    def next_fault(self) -> tuple[int, str, dict[str, str]] | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def judge(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, dict[str, str], Any]:
        raise NotImplementedError

    def accepted(self, status: int = 200) -> list[Any]:
        return [r.payload for r in self.requests if r.status == status]

    def __enter__(self) -> Receiver:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer, extra, payload = fake.judge(self.path, headers, body)
                with fake._lock:
                    fake.requests.append(Received(self.path, headers, body, status, answer, payload))
                data = answer.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
