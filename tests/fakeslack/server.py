"""A local Slack incoming webhook that enforces Slack's documented contract and records what it got.

Contract (https://api.slack.com/messaging/webhooks, .../reference/block-kit/blocks, .../changelog/2016-05-17-
changes-to-errors-for-incoming-webhooks):
- POST to the webhook's secret path only; any other path: 404 `no_service`, any other method: 405.
- `Content-Type: application/json` and a JSON object body, else 400 `invalid_payload`.
- `text` or `blocks` must be present and non-empty, else 400 `no_text`.
- `blocks`: at most 50; known block types; a section's text (and each field) at most 3000 characters, a header's
  plain text at most 150, a context at most 10 elements; text objects typed `mrkdwn` or `plain_text` (a header
  only `plain_text`). Anything else: 400 `invalid_blocks`.
- top-level `text` at most 40,000 characters (Slack truncates; we refuse, so an overlong text is noticed).
- a `channel` override naming an archived channel: 410 `channel_is_archived`; a channel the workspace does not
  have (when `channels` is given): 404 `channel_not_found`.
- success: 200 with the body `ok` (text/html, as Slack answers).
Faults queued with `fail(...)` answer the next requests first (429 + Retry-After, 500 `rollup_error`, …).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_TEXT = 40_000
BLOCK_TYPES = frozenset({"section", "header", "context", "divider", "actions", "image", "rich_text"})


@dataclass
class Received:
    method: str
    path: str
    content_type: str
    status: int
    answer: str
    payload: Any = None


@dataclass
class FakeSlack:
    """`with FakeSlack() as slack:` post to `slack.webhook_url`; `slack.messages` are the accepted payloads."""

    channels: Iterable[str] | None = None  # None: any channel exists
    archived: Iterable[str] = ()
    token_path: str = "/services/T0000TEST/B0000TEST/abcdefghijklmnopqrstuvwx"
    requests: list[Received] = field(default_factory=list)
    _faults: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the fake is not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def webhook_url(self) -> str:
        return self.base_url + self.token_path

    @property
    def messages(self) -> list[Any]:
        return [r.payload for r in self.requests if r.status == 200]

    def fail(self, status: int, error: str, *, times: int = 1, headers: dict[str, str] | None = None) -> None:
        """Answer the next `times` valid-path POSTs with this status and error body."""
        with self._lock:
            self._faults.extend([(status, error, dict(headers or {}))] * times)

    def __enter__(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, answer, headers, payload = fake.judge(self.path, self.headers.get("Content-Type", ""), body)
                with fake._lock:
                    fake.requests.append(Received("POST", self.path, self.headers.get("Content-Type", ""),
                                                  status, answer, payload))
                self._send(status, answer, headers)

            def do_GET(self) -> None:
                with fake._lock:
                    fake.requests.append(Received("GET", self.path, "", 405, "invalid_method"))
                self._send(405, "invalid_method", {})

            def _send(self, status: int, answer: str, headers: dict[str, str]) -> None:
                data = answer.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                for k, v in headers.items():
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

    def judge(self, path: str, content_type: str, body: bytes) -> tuple[int, str, dict[str, str], Any]:
        """(status, answer, headers, parsed payload) for one POST, as Slack would answer it."""
        if path != self.token_path:
            return 404, "no_service", {}, None
        if content_type.split(";")[0].strip().lower() != "application/json":
            return 400, "invalid_payload", {}, None
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 400, "invalid_payload", {}, None
        if not isinstance(payload, dict):
            return 400, "invalid_payload", {}, payload
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            return fault[0], fault[1], fault[2], payload
        error = payload_error(payload)
        if error:
            return 400, error, {}, payload
        channel = payload.get("channel")
        if isinstance(channel, str) and channel:
            if channel in set(self.archived):
                return 410, "channel_is_archived", {}, payload
            if self.channels is not None and channel not in set(self.channels):
                return 404, "channel_not_found", {}, payload
        return 200, "ok", {}, payload


def payload_error(payload: dict[str, Any]) -> str | None:
    text, blocks = payload.get("text"), payload.get("blocks")
    if text is not None and not isinstance(text, str):
        return "invalid_payload"
    if isinstance(text, str) and len(text) > MAX_TEXT:
        return "invalid_payload"
    if blocks is not None:
        if not isinstance(blocks, list) or not blocks or len(blocks) > MAX_BLOCKS:
            return "invalid_blocks"
        if any(block_error(b) for b in blocks):
            return "invalid_blocks"
    if not (isinstance(text, str) and text.strip()) and not blocks:
        return "no_text"
    return None


def _text_object(obj: Any, limit: int, kinds: tuple[str, ...] = ("mrkdwn", "plain_text")) -> bool:
    return (isinstance(obj, dict) and obj.get("type") in kinds and isinstance(obj.get("text"), str)
            and 0 < len(obj["text"]) <= limit)


def block_error(block: Any) -> bool:
    if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
        return True
    kind = block["type"]
    if kind == "header":
        return not _text_object(block.get("text"), MAX_HEADER_TEXT, ("plain_text",))
    if kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            return True
        if text is not None and not _text_object(text, MAX_SECTION_TEXT):
            return True
        if fields is not None and (not isinstance(fields, list) or len(fields) > 10
                                   or not all(_text_object(f, 2000) for f in fields)):
            return True
        return False
    if kind == "context":
        elements = block.get("elements")
        return (not isinstance(elements, list) or not 0 < len(elements) <= MAX_CONTEXT_ELEMENTS
                or not all(_text_object(e, MAX_SECTION_TEXT) for e in elements))
    return False
