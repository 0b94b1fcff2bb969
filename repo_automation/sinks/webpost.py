"""One JSON POST to a web service that may refuse it: the Slack sink and the alert channels (webhooks,
PagerDuty) send through it, so a refusal or an unreachable service reads the same wherever it happens and
never names the URL (which is often the secret)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from repo_automation.redaction import Secret

if TYPE_CHECKING:
    import requests

TIMEOUT_S = 10.0


class DeliveryError(Exception):
    """A message that was not delivered; the text is the reason (never a secret)."""


def post_json(session: requests.Session, url: Secret, data: bytes, *, service: str,
              headers: dict[str, str] | None = None, timeout_s: float = TIMEOUT_S) -> requests.Response:
    """POST `data` (JSON, UTF-8) to `url`; DeliveryError when the service cannot be reached."""
    import requests  # lazily, for start-up time

    try:
        return session.post(url.reveal(), data=data, timeout=timeout_s,
                            headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})})
    except requests.RequestException as e:
        raise DeliveryError(f"cannot reach {service} ({type(e).__name__})") from None  # the text names the URL


def refusal(resp: requests.Response, service: str) -> str:
    """Why `service` refused a POST, in one line: its answer, or the wait it asked for after retries."""
    answer = " ".join((resp.text or "").split())[:300] or resp.reason
    if resp.status_code == 429:
        return (f"rate limited by {service} (HTTP 429, Retry-After {resp.headers.get('Retry-After', '?')} s), "
                "still after retries")
    return f"HTTP {resp.status_code} {answer}"
