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

More webhooks, one per channel as Slack app webhooks are (`add_webhook("#alerts")` gives its URL): a message
to one is recorded with that channel (`Received.channel`), and its `channel` field is ignored, as Slack does.

The Web API's `chat.postMessage` (https://api.slack.com/methods/chat.postMessage, .../web#responses), at
`api_url`: POST only; `Authorization: Bearer <bot_token>` (else 200 `{"ok": false, "error": "not_authed"}` or
`invalid_auth`); a JSON body (`application/json`) or a form; `channel` required (`channel_not_found` for
one the workspace lacks, `is_archived` for an archived one), `text` or `blocks` (`no_text`), blocks within
Block Kit's limits (`invalid_blocks`). Errors come as HTTP 200 with `ok: false`, as Slack answers them;
a queued fault answers with its status (429 with Retry-After and `ratelimited`). Success: `{"ok": true,
"channel": …, "ts": …, "message": …}`.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.servers import InProcess, reply

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
    channel: str | None = None  # the channel of the webhook it reached, or chat.postMessage's channel


@dataclass
class FakeSlack:
    """`with FakeSlack() as slack:` post to `slack.webhook_url`; `slack.messages` are the accepted payloads."""

    channels: Iterable[str] | None = None  # None: any channel exists
    archived: Iterable[str] = ()
    token_path: str = "/services/T0000TEST/B0000TEST/abcdefghijklmnopqrstuvwx"
    bot_token: str = "xoxb-0000-test-bot-token"
    requests: list[Received] = field(default_factory=list)
    _hooks: dict[str, str] = field(default_factory=dict)
    _faults: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._server: InProcess | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the fake is not started"
        return self._server.url

    @property
    def webhook_url(self) -> str:
        return self.base_url + self.token_path

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    @property
    def messages(self) -> list[Any]:
        return [r.payload for r in self.requests if r.status == 200 and r.path != API_PATH]

    @property
    def api_messages(self) -> list[Any]:
        return [r.payload for r in self.requests if r.path == API_PATH and r.answer.startswith('{"ok": true')]

    def delivered(self, channel: str) -> list[Any]:
        """The payloads accepted for one channel, by its webhook or by chat.postMessage."""
        return [r.payload for r in self.requests if r.channel == channel
                and (r.status == 200 and (r.path != API_PATH or r.answer.startswith('{"ok": true')))]

    def add_webhook(self, channel: str) -> str:
        """A further incoming webhook, bound to `channel`; its URL."""
        path = f"/services/T0000TEST/B{len(self._hooks) + 1:07d}/hook{len(self._hooks) + 1:020d}"
        self._hooks[path] = channel
        return self.base_url + path

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
                content_type = self.headers.get("Content-Type", "")
                if self.path == API_PATH:
                    status, answer, headers, payload = fake.judge_api(
                        self.headers.get("Authorization", ""), content_type, body)
                    channel = payload.get("channel") if isinstance(payload, dict) else None
                else:
                    status, answer, headers, payload = fake.judge(self.path, content_type, body)
                    channel = fake._hooks.get(self.path, payload.get("channel") if isinstance(payload, dict)
                                              else None)
                with fake._lock:
                    fake.requests.append(Received("POST", self.path, content_type, status, answer, payload,
                                                  channel if isinstance(channel, str) else None))
                self._send(status, answer, headers, "application/json" if self.path == API_PATH else "text/html")

            def do_GET(self) -> None:
                with fake._lock:
                    fake.requests.append(Received("GET", self.path, "", 405, "invalid_method"))
                self._send(405, "invalid_method", {})

            def _send(self, status: int, answer: str, headers: dict[str, str], kind: str = "text/html") -> None:
                reply(self, status, answer, headers, kind)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = InProcess(Handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.stop()

    def judge(self, path: str, content_type: str, body: bytes) -> tuple[int, str, dict[str, str], Any]:
        """(status, answer, headers, parsed payload) for one POST, as Slack would answer it."""
        if path != self.token_path and path not in self._hooks:
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
        if isinstance(channel, str) and channel and path not in self._hooks:  # an app webhook ignores it
            if channel in set(self.archived):
                return 410, "channel_is_archived", {}, payload
            if self.channels is not None and channel not in set(self.channels):
                return 404, "channel_not_found", {}, payload
        return 200, "ok", {}, payload


    def judge_api(self, authorization: str, content_type: str, body: bytes
                  ) -> tuple[int, str, dict[str, str], Any]:
        """(status, answer, headers, parsed payload) for one chat.postMessage, as the Web API answers it."""
        def answer(**fields: Any) -> str:
            return json.dumps(fields)

        if not authorization.startswith("Bearer "):
            return 200, answer(ok=False, error="not_authed"), {}, None
        if authorization.removeprefix("Bearer ") != self.bot_token:
            return 200, answer(ok=False, error="invalid_auth"), {}, None
        kind = content_type.split(";")[0].strip().lower()
        try:
            if kind == "application/json":
                payload = json.loads(body.decode("utf-8"))
            elif kind == "application/x-www-form-urlencoded":
                payload = dict(urllib.parse.parse_qsl(body.decode("utf-8")))
                if isinstance(payload.get("blocks"), str):
                    payload["blocks"] = json.loads(payload["blocks"])
            else:
                return 200, answer(ok=False, error="invalid_arguments"), {}, None
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 200, answer(ok=False, error="invalid_json"), {}, None
        if not isinstance(payload, dict):
            return 200, answer(ok=False, error="invalid_json"), {}, payload
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            return fault[0], answer(ok=False, error=fault[1]), fault[2], payload
        channel = payload.get("channel")
        if not isinstance(channel, str) or not channel:
            return 200, answer(ok=False, error="channel_not_found"), {}, payload
        if channel in set(self.archived):
            return 200, answer(ok=False, error="is_archived"), {}, payload
        if self.channels is not None and channel not in set(self.channels):
            return 200, answer(ok=False, error="channel_not_found"), {}, payload
        error = payload_error(payload)
        if error:
            return 200, answer(ok=False, error=error), {}, payload
        ts = f"{time.time():.6f}"
        sent = answer(ok=True, channel=channel, ts=ts, message={"text": payload.get("text"), "ts": ts})
        return 200, sent, {}, payload


API_PATH = "/api/chat.postMessage"


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
