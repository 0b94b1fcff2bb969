"""Clients aimed at the fake: PyGithub (without its write throttling) and raw requests."""

from __future__ import annotations

from typing import Any

from tests.fakegithub.server import FakeGitHub

REPO = "octo-org/hello-world"  # the repository the `fake_github` fixture creates


def pygithub_for(server: FakeGitHub, **kw: Any) -> Any:
    """A PyGithub client aimed at the fake, without PyGithub's write throttling (1 s per write by default)."""
    import github

    kw.setdefault("seconds_between_requests", 0)
    kw.setdefault("seconds_between_writes", 0)
    return github.Github(base_url=server.url, auth=github.Auth.Token(server.token), timeout=10, **kw)


def raw(server: FakeGitHub, method: str, path: str, **kw: Any) -> Any:
    """One authenticated request with `requests`, for tests that need exact control of the bytes sent."""
    import requests

    headers = {"Authorization": f"token {server.token}", "Accept": "application/vnd.github+json"}
    headers.update(kw.pop("headers", {}))
    kw.setdefault("timeout", 10)
    return requests.request(method, server.url + path, headers=headers, **kw)
