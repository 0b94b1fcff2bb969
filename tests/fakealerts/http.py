"""A local HTTP receiver (tests.servers.InProcess) that hands each POST to a judge and records the verdict."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.servers import InProcess, reply

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
        self._server: InProcess | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the receiver is not started"
        return self._server.url

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
                reply(self, status, answer, extra, "application/json")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = InProcess(Handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.stop()
