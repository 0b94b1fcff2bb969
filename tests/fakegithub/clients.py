"""Clients aimed at the fake: our GitHubClient (fast retries, no pause between writes), PyGithub (without its
write throttling: the naive walk and the fake's own tests) and raw requests."""

from __future__ import annotations

from typing import Any

from repo_automation.github.auth import TokenAuth
from repo_automation.github.cache import MemoryEtagCache
from repo_automation.github.client import GitHubClient, build_session
from repo_automation.redaction import Secret
from tests.fakegithub.server import FakeGitHub

REPO = "octo-org/hello-world"  # the repository the `fake_github` fixture creates


def client_for(server: FakeGitHub, **kw: Any) -> GitHubClient:
    """A GitHubClient aimed at the fake with an in-memory ETag cache, short bounded retries and no pause
    between writes; keyword arguments override."""
    options: dict[str, Any] = {"session": build_session(), "auth": TokenAuth(Secret(server.token)),
                               "api_url": server.url, "cache": MemoryEtagCache(), "repository": REPO,
                               "timeout_s": 5.0, "backoff_s": 0.05, "max_wait_s": 5.0, "write_interval_s": 0.0}
    options.update(kw)
    return GitHubClient(**options)


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
