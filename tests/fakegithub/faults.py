"""Faults the fake can inject for the next N matching requests: errors, rate limits, slowness, 202."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out "
    "to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000."
)
SECONDARY_DOCS = ("https://docs.github.com/free-pro-team@latest/rest/overview/"
                  "rate-limits-for-the-rest-api#about-secondary-rate-limits")
PRIMARY_DOCS = ("https://docs.github.com/rest/overview/"
                "rate-limits-for-the-rest-api#about-the-rate-limit-for-the-rest-api")


@dataclass
class Fault:
    """Answer the next `times` requests matching method/path (a regex searched in the path) this way.

    status None means "answer normally" (used with delay for a slow answer). apply=True performs the request
    first and then answers with the fault, like a gateway error after GitHub already acted.
    times None means every matching request, for good.
    """

    status: int | None = 500
    times: int | None = 1
    method: str | None = None
    path: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    apply: bool = False
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return not (self.path and not re.search(self.path, path))

    def reply(self) -> tuple[int, Any, dict[str, str]]:
        assert self.status is not None
        body = self.body if self.body is not None else {"message": _default_message(self.status)}
        return self.status, body, dict(self.headers)

    # -- the documented kinds -------------------------------------------------------------------
    @classmethod
    def server_error(cls, status: int = 500, **kw: Any) -> Fault:
        return cls(status=status, **kw)

    @classmethod
    def secondary_rate_limit(cls, retry_after: int = 1, **kw: Any) -> Fault:
        return cls(status=403, headers={"Retry-After": str(retry_after)},
                   body={"message": SECONDARY_MESSAGE, "documentation_url": SECONDARY_DOCS}, **kw)

    @classmethod
    def too_many_requests(cls, retry_after: int = 1, **kw: Any) -> Fault:
        return cls(status=429, headers={"Retry-After": str(retry_after)},
                   body={"message": SECONDARY_MESSAGE, "documentation_url": SECONDARY_DOCS}, **kw)

    @classmethod
    def primary_exhausted(cls, reset_in: int = 1, status: int = 403, **kw: Any) -> Fault:
        reset = int(time.time()) + reset_in
        headers = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000",
                   "x-ratelimit-reset": str(reset), "x-ratelimit-resource": "core"}
        body = {"message": "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, "
                           "please include the request ID 0000:0000:0000000:0000000:00000000.",
                "documentation_url": PRIMARY_DOCS}
        return cls(status=status, headers=headers, body=body, **kw)

    @classmethod
    def slow(cls, seconds: float, **kw: Any) -> Fault:
        return cls(status=None, delay=seconds, **kw)

    @classmethod
    def accepted(cls, **kw: Any) -> Fault:
        """202: GitHub is still computing the statistics; ask again later."""
        return cls(status=202, body={}, **kw)

    @classmethod
    def forbidden(cls, message: str = "Resource not accessible by integration", **kw: Any) -> Fault:
        kw.setdefault("times", None)
        return cls(status=403, body={"message": message, "documentation_url": "https://docs.github.com/rest"},
                   **kw)


def _default_message(status: int) -> str:
    return {500: "Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 202: "",
            401: "Bad credentials", 404: "Not Found"}.get(status, "Error")
