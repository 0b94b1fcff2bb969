"""A local PagerDuty Events API v2 endpoint (POST /v2/enqueue) that enforces the documented contract.

https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ and .../resolve-events/,
.../api-reference/YXBpOjI3NDgyNjU-pager-duty-v2-events-api (responses):
- JSON body; `routing_key` a 32-character string of the integration; `event_action` one of trigger,
  acknowledge, resolve; `dedup_key` at most 255 characters, required for acknowledge and resolve;
- trigger: `payload.summary` (1..1024 characters), `payload.source` (non-empty), `payload.severity` one of
  critical, error, warning, info; `payload.custom_details` an object when given; `links` a list of
  {href, text};
- 202 `{"status": "success", "message": "Event processed", "dedup_key": …}` (a trigger without dedup_key
  gets one); 400 `{"status": "invalid event", "message": "Event object is invalid", "errors": [...]}`;
  faults queued with `fail()` (429 `{"status": "throttle event", …}`, 500) answer first.
`incidents` holds the open incident of each dedup_key (its last severity), as PagerDuty keeps it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.fakealerts.http import Receiver

ROUTING_KEY = "0123456789abcdef0123456789abcdef"
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")


@dataclass
class FakePagerDuty(Receiver):
    routing_key: str = ROUTING_KEY
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def events_url(self) -> str:
        return self.base_url + "/v2/enqueue"

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.accepted(202)

    def judge(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, dict[str, str], Any]:
        if path != "/v2/enqueue":
            return 404, json.dumps({"status": "not found"}), {}, None
        try:
            event = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 400, invalid(["Event object is not valid JSON"]), {}, None
        if not isinstance(event, dict):
            return 400, invalid(["Event object must be a JSON object"]), {}, event
        fault = self.next_fault()
        if fault is not None:
            return fault[0], fault[1], fault[2], event
        errors = event_errors(event, self.routing_key)
        if errors:
            return 400, invalid(errors), {}, event
        key = event.get("dedup_key") or uuid.uuid4().hex
        if event["event_action"] == "trigger":
            self.incidents[key] = {"severity": event["payload"]["severity"], "summary": event["payload"]["summary"]}
        elif event["event_action"] == "resolve":
            self.incidents.pop(key, None)
        return 202, json.dumps({"status": "success", "message": "Event processed", "dedup_key": key}), {}, event


def invalid(errors: list[str]) -> str:
    return json.dumps({"status": "invalid event", "message": "Event object is invalid", "errors": errors})


def event_errors(event: dict[str, Any], routing_key: str) -> list[str]:
    errors = []
    key = event.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        errors.append("'routing_key' is invalid")
    elif key != routing_key:
        errors.append("'routing_key' does not belong to an integration")  # PagerDuty: 400 as well
    action = event.get("event_action")
    if action not in ACTIONS:
        errors.append("'event_action' is missing or invalid")
    dedup = event.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or not 0 < len(dedup) <= 255):
        errors.append("'dedup_key' must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dedup:
        errors.append("'dedup_key' is required for acknowledge and resolve")
    if action == "trigger":
        errors += payload_errors(event.get("payload"))
    links = event.get("links", [])
    if not isinstance(links, list) or not all(isinstance(x, dict) and isinstance(x.get("href"), str) for x in links):
        errors.append("'links' must be a list of objects with an href")
    return errors


def payload_errors(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or not an object"]
    errors = []
    summary = payload.get("summary")
    if not isinstance(summary, str) or not 0 < len(summary) <= 1024:
        errors.append("'payload.summary' is missing or longer than 1024 characters")
    if not isinstance(payload.get("source"), str) or not payload["source"]:
        errors.append("'payload.source' is missing")
    if payload.get("severity") not in SEVERITIES:
        errors.append("'payload.severity' must be one of critical, error, warning, info")
    if "custom_details" in payload and not isinstance(payload["custom_details"], dict | str):
        errors.append("'payload.custom_details' must be an object")
    return errors
