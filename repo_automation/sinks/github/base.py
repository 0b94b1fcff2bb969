"""Listings for the GitHub sinks through GitHubClient's conditional GETs: an unchanged listing answers 304
from the ETag cache and costs no rate-limit point, so a warm rerun of the sinks pays nothing to read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from repo_automation.stages import Sink

if TYPE_CHECKING:
    from github import Github

    from repo_automation.context import RunContext
    from repo_automation.github.client import GitHubClient

_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
MAX_PAGES = 50  # 5,000 items at per_page=100: a bound on what one run reads


def next_link(link: str | None) -> str | None:
    m = _NEXT.search(link or "")
    return m.group(1) if m else None


def list_json(client: GitHubClient, path: str, params: Mapping[str, str | int], *, limit: int | None = None
              ) -> list[dict[str, Any]]:
    """Every item of a paginated listing (following Link rel="next"), at most `limit`."""
    out: list[dict[str, Any]] = []
    resp = client.get(path, {"per_page": 100, **params})
    for _ in range(MAX_PAGES):
        out.extend(x for x in (resp.body or []) if isinstance(x, dict))
        if limit is not None and len(out) >= limit:
            return out[:limit]
        url = next_link(resp.link)
        if url is None:
            break
        resp = client.get(url)
    return out


def http_error(e: Exception) -> str:
    """A short reason for the report: HTTP status and GitHub's message."""
    from github import GithubException

    if isinstance(e, GithubException):
        message = e.data.get("message") if isinstance(e.data, dict) else None
        return f"HTTP {e.status}" + (f" {message}" if message else "")
    return f"{type(e).__name__}: {e}"


def connect(ctx: RunContext, client: GitHubClient | None = None) -> tuple[GitHubClient | None, str | None]:
    """The run's GitHubClient (the one given, shared by all GitHub stages, or a new one) or why there is none."""
    if client is not None:
        return client, None
    from repo_automation.errors import SourceSkipped
    from repo_automation.github.client import GitHubClient

    try:
        return GitHubClient.shared(ctx), None  # the collector's client: one token, one cache, one usage count
    except SourceSkipped as e:
        return None, str(e)


class GitHubSink(Sink):
    """A sink that reads through the run's GitHubClient (conditional GETs) and writes through PyGithub.

    Built with `skip_reason` when it has nothing to do here; delivering then reports it skipped."""

    def __init__(self, *, client: GitHubClient | None, repository: str | None, github: Github | None = None,
                 skip_reason: str | None = None) -> None:
        """`client` reads (conditional GETs), `github` (PyGithub; client.rest by default) writes."""
        self.client = client
        self.github = github if github is not None or client is None else client.rest
        self.repository = repository
        self.skip_reason = skip_reason
