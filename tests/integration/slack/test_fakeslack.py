"""The fake Slack webhook refuses what Slack refuses, so a sink that passes against it is within the contract."""

from __future__ import annotations

import requests

from tests.fakeslack import FakeSlack


def section(n: int) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": "x" * n}}


def test_the_fake_enforces_slacks_documented_contract() -> None:
    with FakeSlack(channels=["#a"], archived=["#old"]) as slack:
        def post(payload: object, **kw: object) -> tuple[int, str]:
            resp = requests.post(slack.webhook_url, json=payload, timeout=5, **kw)  # type: ignore[arg-type]
            return resp.status_code, resp.text

        assert post({"text": "hello"}) == (200, "ok")
        assert post({"text": "hi", "blocks": [section(3000)]}) == (200, "ok")
        assert post({"text": "hi", "blocks": [section(3001)]}) == (400, "invalid_blocks")
        assert post({"text": "hi", "blocks": [section(1)] * 51}) == (400, "invalid_blocks")
        assert post({"blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]}) == (
            400, "invalid_blocks")
        assert post({"blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}]}) == (
            400, "invalid_blocks")
        assert post({"text": ""}) == (400, "no_text")
        assert post(["not", "an", "object"]) == (400, "invalid_payload")
        assert post({"text": "hi", "channel": "#nope"}) == (404, "channel_not_found")
        assert post({"text": "hi", "channel": "#old"}) == (410, "channel_is_archived")
        form = requests.post(slack.webhook_url, data={"payload": '{"text": "hi"}'}, timeout=5)
        assert (form.status_code, form.text) == (400, "invalid_payload")
        other = requests.post(slack.base_url + "/services/T/B/wrong", json={"text": "hi"}, timeout=5)
        assert (other.status_code, other.text) == (404, "no_service")
        assert len(slack.messages) == 2
