"""The one place plain HTTP sessions are built (everything but GitHub, which has its own client).

A session from `make_session` carries:
- a user agent `repo-automation/<version>`;
- a default timeout on every request (a call that passes its own `timeout=` keeps it);
- retries with exponential backoff on connection errors and on the given statuses (429 and 5xx by default),
  honouring `Retry-After` but never waiting longer than `retry_after_max_s` for one retry.

After the last retry the final response is returned as it is (`raise_on_status=False`), so the caller can
report what the server said (a 429 with its Retry-After, a 503 body) instead of a bare "too many retries".
Only idempotent methods are retried unless the caller lists others (a webhook POST may be, see sinks/slack.py).

requests and urllib3 are imported inside the functions: importing this module costs nothing for `--help`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from repo_automation import __version__

if TYPE_CHECKING:
    import requests

DEFAULT_TIMEOUT_S = 10.0
RETRY_STATUSES = (429, 500, 502, 503, 504)


def user_agent() -> str:
    return f"repo-automation/{__version__}"


def make_session(*, timeout_s: float = DEFAULT_TIMEOUT_S, retries: int = 2, backoff_factor: float = 0.5,
                 statuses: Collection[int] = RETRY_STATUSES, methods: Collection[str] = ("GET", "HEAD"),
                 retry_after_max_s: float = 30.0) -> requests.Session:
    """A requests session with a user agent, a default timeout and bounded retries (see the module doc)."""
    import requests  # lazily, for start-up time
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    class _TimeoutAdapter(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = timeout_s
            return super().send(request, *args, **kwargs)

    retry = Retry(total=retries, connect=retries, read=0, status=retries, backoff_factor=backoff_factor,
                  status_forcelist=tuple(statuses), allowed_methods=frozenset(m.upper() for m in methods),
                  respect_retry_after_header=True, retry_after_max=max(0, int(retry_after_max_s)),
                  raise_on_status=False)
    session = requests.Session()
    session.headers["User-Agent"] = user_agent()
    adapter = _TimeoutAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def make_slack_client(token: str, *, base_url: str, timeout_s: float = DEFAULT_TIMEOUT_S, retries: int = 2,
                      retry_after_max_s: float = 30.0) -> Any:
    """A slack_sdk WebClient with a user agent, a timeout and slack_sdk's own retry handlers: connection errors,
    and 429 after its Retry-After (not retried when Slack asks for a longer wait than `retry_after_max_s`)."""
    from slack_sdk import WebClient  # lazily, for start-up time
    from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

    class _BoundedRateLimit(RateLimitErrorRetryHandler):
        def _can_retry(self, *, state: Any, request: Any, response: Any = None, error: Any = None) -> bool:
            if response is None or response.status_code != 429:
                return False
            wait = next((v[0] for k, v in response.headers.items() if k.lower() == "retry-after"), "1")
            try:
                return float(wait) <= retry_after_max_s
            except ValueError:
                return False

    return WebClient(token=token, base_url=base_url, timeout=max(1, int(timeout_s)), user_agent_prefix=user_agent(),
                     retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=retries),
                                     _BoundedRateLimit(max_retry_count=retries)])
