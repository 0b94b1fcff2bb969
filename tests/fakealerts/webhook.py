"""A local receiver of repo-automation's generic webhook (README: Alert channels), checking its contract:

- POST with `Content-Type: application/json`, a JSON object (else 400);
- with a key: `X-Repo-Automation-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body, compared in
  constant time (missing or wrong: 401);
- the documented fields and types (version 1; else 422 naming the first bad field);
- 200 `{"ok": true}`; faults queued with `fail()` answer first.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from tests.fakealerts.http import Receiver

FIELDS: dict[str, tuple[type, ...]] = {
    "version": (int,), "event": (str,), "fingerprint": (str,), "repository": (str, type(None)), "level": (str,),
    "severity": (str,), "condition": (str,), "values": (dict,), "escalated": (bool,), "first_fired_at": (str,),
    "sent_at": (str,), "sha": (str, type(None)), "run_url": (str, type(None)),
}
CHOICES = {"event": ("fire", "remind", "escalate", "resolve"), "level": ("critical", "warning"),
           "severity": ("critical", "error", "warning")}


@dataclass
class FakeWebhook(Receiver):
    key: str | None = None

    @property
    def url(self) -> str:
        return self.base_url + "/hooks/alerts"

    def judge(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, dict[str, str], Any]:
        if path != "/hooks/alerts":
            return 404, '{"error": "not found"}', {}, None
        if headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return 400, '{"error": "expected application/json"}', {}, None
        if self.key is not None:
            wanted = "sha256=" + hmac.new(self.key.encode(), body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(headers.get("x-repo-automation-signature", ""), wanted):
                return 401, '{"error": "bad signature"}', {}, None
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 400, '{"error": "not JSON"}', {}, None
        fault = self.next_fault()
        if fault is not None:
            return fault[0], fault[1], fault[2], payload
        bad = field_error(payload)
        if bad:
            return 422, json.dumps({"error": bad}), {}, payload
        return 200, '{"ok": true}', {}, payload


def field_error(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return "not an object"
    for name, types in FIELDS.items():
        if name not in payload or not isinstance(payload[name], types):
            return f"{name}: missing or of the wrong type"
        if name in CHOICES and payload[name] not in CHOICES[name]:
            return f"{name}: {payload[name]!r} is not one of {CHOICES[name]}"
    if payload["version"] != 1:
        return "version: not 1"
    if set(payload) - set(FIELDS):
        return f"unknown fields: {sorted(set(payload) - set(FIELDS))}"
    return None
