"""GitHubClient: the only code that talks to GitHub.

One session built in one place (timeouts, user agent, auth), our own retry loop (so every attempt is counted
and Retry-After is honoured), conditional REST reads through the ETag cache, GraphQL always with variables,
and PyGithub (`client.rest`) configured with the same base URL, timeout and retries for the sinks.

Rate limits: a secondary limit (403/429 with Retry-After) or an exhausted primary limit
(x-ratelimit-remaining: 0, wait until x-ratelimit-reset) is waited out when the wait is at most
`max_wait_s`, otherwise the source fails with the time it resets. 5xx answers and timeouts are retried with
exponential backoff; `202 Accepted` (statistics still being computed) is retried a bounded number of times.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.github.auth import Auth, auth_from_settings
from repo_automation.github.cache import CachedResponse, EtagCache, MemoryEtagCache, cache_from_settings

if TYPE_CHECKING:
    import requests
    from github import Github

    from repo_automation.context import RunContext

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
SECONDARY_LIMIT_DEFAULT_WAIT_S = 60.0  # GitHub: "wait at least one minute" when no Retry-After is given
_SHARED: list[tuple[Any, GitHubClient]] = []  # (RunContext, client) of the last few runs in this process
_SHARED_MAX = 4
_SHARED_LOCK = threading.Lock()


class GitHubError(SourceFailed):
    """A GitHub request that failed for good; `status` is the HTTP status (None: no answer)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(slots=True)
class ApiUsage:
    """What this run cost: HTTP requests sent and rate-limit points paid (REST and GraphQL separately)."""

    requests: int = 0  # every HTTP request sent, retries included
    rest_requests: int = 0
    rest_points: int = 0  # 1 per REST answer other than 304
    not_modified: int = 0  # REST answers 304 served from the ETag cache (free)
    graphql_requests: int = 0
    graphql_points: int = 0  # the queries' rateLimit.cost
    retries: int = 0
    waited_s: float = 0.0
    remaining: dict[str, int] = field(default_factory=dict)  # rate-limit resource -> remaining
    reset_at: dict[str, int] = field(default_factory=dict)  # resource -> epoch seconds

    @property
    def points(self) -> int:
        return self.rest_points + self.graphql_points

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "rest_requests": self.rest_requests, "rest_points": self.rest_points,
                "not_modified": self.not_modified, "graphql_requests": self.graphql_requests,
                "graphql_points": self.graphql_points, "retries": self.retries, "waited_s": round(self.waited_s, 2),
                "remaining": dict(self.remaining)}


@dataclass(frozen=True, slots=True, kw_only=True)
class RestResponse:
    body: Any
    link: str | None  # the Link header (pagination), kept in the cache too
    from_cache: bool


def build_session(user_agent: str | None = None) -> requests.Session:
    """The one place sessions are built: JSON media type, API version, user agent. Auth is per request."""
    import requests

    from repo_automation import __version__

    session = requests.Session()
    session.headers.update({
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
        "User-Agent": user_agent or f"repo-automation/{__version__}",
    })
    return session


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    try:
        return int(float(raw)) if raw is not None else None
    except ValueError:
        return None


class GitHubClient:
    def __init__(self, *, session: requests.Session, auth: Auth | None, api_url: str = DEFAULT_API_URL,
                 graphql_url: str | None = None, cache: EtagCache | None = None, repository: str | None = None,
                 timeout_s: float = 30.0, max_retries: int = 3, backoff_s: float = 1.0, max_wait_s: float = 60.0,
                 accepted_retries: int = 4, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time) -> None:
        self.session = session
        self.auth = auth
        self.api_url = api_url.rstrip("/")
        self.graphql_url = graphql_url or self.api_url + "/graphql"
        self.cache: EtagCache = cache if cache is not None else MemoryEtagCache()
        self.repository = repository
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_wait_s = max_wait_s
        self.accepted_retries = accepted_retries
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._rest: Github | None = None
        self.usage = ApiUsage()

    @classmethod
    def from_context(cls, ctx: RunContext) -> GitHubClient:
        """Production wiring. Raises SourceSkipped when there is no repository or no credentials."""
        if not ctx.repository:
            raise SourceSkipped("no repository: set GITHUB_REPOSITORY or the repository input")
        settings = ctx.settings
        configured = ctx.config.data_sources.github.api_endpoint
        if settings.github_api_url == DEFAULT_API_URL and isinstance(configured, str) and configured:
            # GITHUB_API_URL wins when set; otherwise the configuration's endpoint (GraphQL derived from it)
            settings = dataclasses.replace(settings, github_api_url=configured.rstrip("/"))
        api_url, graphql_url = settings.github_api_url, settings.graphql_url
        session = build_session()
        auth = auth_from_settings(settings, ctx.repository, session)
        if auth is None:
            session.close()
            raise SourceSkipped("no GitHub credentials: set github-token (GITHUB_TOKEN) or a GitHub App id and key")
        return cls(session=session, auth=auth, api_url=api_url, graphql_url=graphql_url,
                   cache=cache_from_settings(settings), repository=ctx.repository)

    @classmethod
    def shared(cls, ctx: RunContext) -> GitHubClient:
        """One client per run (same RunContext): one App installation token, one cache, one usage count.

        Use it from the collector and the sinks alike; call `close()` once at the end of the run.
        """
        with _SHARED_LOCK:
            for held_ctx, client in _SHARED:
                if held_ctx is ctx:
                    return client
        client = cls.from_context(ctx)
        with _SHARED_LOCK:
            _SHARED.append((ctx, client))
            del _SHARED[:-_SHARED_MAX]
        return client

    @classmethod
    def release_shared(cls, ctx: RunContext) -> None:
        """End of run: close this run's shared client, if one was made (saves the ETag cache, logs quota)."""
        with _SHARED_LOCK:
            held = [client for held_ctx, client in _SHARED if held_ctx is ctx]
            _SHARED[:] = [(c, client) for c, client in _SHARED if c is not ctx]
        for client in held:
            client.close()

    # -- PyGithub, for the sinks ---------------------------------------------------------------------------
    @property
    def rest(self) -> Github:
        """A PyGithub client with our base URL, timeout, retries and user agent."""
        if self._rest is None:
            from github import Auth as GhAuth
            from github import Github, GithubRetry

            gh_auth = GhAuth.Token(self.auth.token()) if self.auth is not None else None
            retry = GithubRetry(total=self.max_retries, backoff_factor=self.backoff_s,
                                secondary_rate_wait=min(SECONDARY_LIMIT_DEFAULT_WAIT_S, self.max_wait_s),
                                max_rate_limit_wait=self.max_wait_s)  # never an hour's sleep in a sink
            self._rest = Github(auth=gh_auth, base_url=self.api_url, timeout=max(1, round(self.timeout_s)),
                                user_agent=str(self.session.headers.get("User-Agent", "repo-automation")),
                                retry=retry, per_page=100)
        return self._rest

    # -- REST ------------------------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.api_url + "/" + path.lstrip("/")

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> RestResponse:
        """A conditional GET: If-None-Match from the ETag cache; a 304 returns the cached body for free."""
        url = self.url(path)
        key = url + ("?" + urlencode(sorted((k, str(v)) for k, v in params.items())) if params else "")
        cached = self.cache.get(key)
        headers = {"If-None-Match": cached.etag} if cached else {}
        resp = self._send("GET", url, params=dict(params or {}), headers=headers, graphql=False)
        if resp.status_code == 304 and cached is not None:
            return RestResponse(body=cached.body, link=cached.link, from_cache=True)
        self._raise_for_status("GET", path, resp)
        try:
            body = resp.json() if resp.content else None
        except ValueError as e:
            raise GitHubError(f"GET {path}: the answer is not JSON", status=resp.status_code) from e
        link = resp.headers.get("Link")
        etag = resp.headers.get("ETag")
        if etag and resp.status_code == 200:
            self.cache.put(key, CachedResponse(etag=etag, body=body, link=link))
        return RestResponse(body=body, link=link, from_cache=False)

    def get_json(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        return self.get(path, params).body

    # -- GraphQL ---------------------------------------------------------------------------------------------
    def graphql(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """Run one GraphQL document with variables; GraphQL errors fail with their messages."""
        resp = self._send("POST", self.graphql_url, json={"query": query, "variables": dict(variables)},
                          headers={}, graphql=True)
        self._raise_for_status("POST", "graphql", resp)
        try:
            payload = resp.json()
        except ValueError as e:
            raise GitHubError("GraphQL: the answer is not JSON", status=resp.status_code) from e
        data = payload.get("data") if isinstance(payload, dict) else None
        cost = ((data or {}).get("rateLimit") or {}).get("cost") if isinstance(data, dict) else None
        with self._lock:
            self.usage.graphql_points += int(cost) if isinstance(cost, int) else 1
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if errors:
            messages = "; ".join(str(e.get("message", e)) for e in errors[:3] if isinstance(e, dict))
            raise GitHubError(f"GraphQL query failed: {messages or errors!r}", status=resp.status_code)
        if not isinstance(data, dict):
            raise GitHubError("GraphQL: the answer has no data", status=resp.status_code)
        return data

    # -- the request loop ------------------------------------------------------------------------------------
    def _send(self, method: str, url: str, *, headers: dict[str, str], graphql: bool,
              params: dict[str, Any] | None = None, json: Any = None) -> requests.Response:
        import requests

        attempts = accepted = limited = 0
        what = "GraphQL" if graphql else f"{method} {url.removeprefix(self.api_url)}"
        while True:
            if self.auth is not None:
                headers["Authorization"] = self.auth.header()
            try:
                resp = self.session.request(method, url, params=params, json=json, headers=headers,
                                            timeout=self.timeout_s)
            except (requests.Timeout, requests.ConnectionError) as e:
                self._count(graphql, None)
                attempts += 1
                if attempts > self.max_retries:
                    raise GitHubError(f"{what}: no answer after {attempts} attempts ({type(e).__name__})") from e
                self._wait(self._backoff(attempts), f"{what}: {type(e).__name__}")
                continue
            self._count(graphql, resp)
            delay = self._rate_limit_delay(resp, what, graphql)
            if delay is not None:
                limited += 1
                if limited > self.max_retries:
                    raise GitHubError(f"{what}: still rate limited after {limited - 1} waits; try again later",
                                      status=resp.status_code)
            elif resp.status_code >= 500 and resp.status_code != 501:  # 501 Not Implemented is not transient
                attempts += 1
                if attempts > self.max_retries:
                    return resp
                delay = self._backoff(attempts)
            elif resp.status_code == 202 and method == "GET":
                accepted += 1
                if accepted > self.accepted_retries:
                    raise GitHubError(f"{what}: GitHub is still computing the statistics (202 after "
                                      f"{accepted} attempts); try again later", status=202)
                delay = self._backoff(accepted)
            if delay is None:
                return resp
            self._wait(delay, f"{what}: {resp.status_code}")

    def _count(self, graphql: bool, resp: requests.Response | None) -> None:
        with self._lock:
            u = self.usage
            u.requests += 1
            if graphql:
                u.graphql_requests += 1
            else:
                u.rest_requests += 1
                if resp is not None and resp.status_code == 304:
                    u.not_modified += 1
                elif resp is not None:
                    u.rest_points += 1
            if resp is not None:
                remaining = _int_header(resp.headers, "x-ratelimit-remaining")
                resource = resp.headers.get("x-ratelimit-resource", "graphql" if graphql else "core")
                reset = _int_header(resp.headers, "x-ratelimit-reset")
                if remaining is not None:
                    u.remaining[resource] = remaining
                if reset is not None:
                    u.reset_at[resource] = reset

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff_s * 2 ** (attempt - 1), self.max_wait_s))

    def _wait(self, seconds: float, why: str) -> None:
        log.info("GitHub: waiting %.1fs before retrying (%s)", seconds, why)
        with self._lock:
            self.usage.retries += 1
            self.usage.waited_s += seconds
        self._sleep(seconds)

    def _rate_limit_delay(self, resp: requests.Response, what: str, graphql: bool) -> float | None:
        """Seconds to wait for a rate limit (None: not rate limited); fails when the wait is too long."""
        graphql_limited = graphql and resp.status_code == 200 and b'"RATE_LIMITED"' in resp.content
        if resp.status_code not in (403, 429) and not graphql_limited:
            return None
        retry_after = _int_header(resp.headers, "retry-after")
        remaining = _int_header(resp.headers, "x-ratelimit-remaining")
        reset = _int_header(resp.headers, "x-ratelimit-reset")
        if retry_after is not None:
            delay, kind = float(retry_after), "secondary rate limit"
        elif remaining == 0 and reset is not None:
            delay, kind = max(0.0, reset - self._clock()) + 1.0, "primary rate limit exhausted"
        elif b"secondary rate limit" in resp.content.lower():
            delay, kind = SECONDARY_LIMIT_DEFAULT_WAIT_S, "secondary rate limit"
        elif resp.status_code == 429:
            delay, kind = self._backoff(1), "too many requests"
        else:
            return None  # a plain 403 (permissions): the caller reports it
        if delay > self.max_wait_s:
            when = datetime.fromtimestamp(self._clock() + delay, UTC).strftime("%H:%M:%S UTC")
            raise GitHubError(f"{what}: {kind}; it resets at {when} ({delay:.0f}s, longer than the "
                              f"{self.max_wait_s:.0f}s we wait)", status=resp.status_code)
        return delay

    def _raise_for_status(self, method: str, path: str, resp: requests.Response) -> None:
        if resp.status_code < 400:
            return
        try:
            body = resp.json()
            message = str(body.get("message", "")) if isinstance(body, dict) else ""
        except ValueError:
            message = resp.text[:200]
        hint = {401: " (the token was rejected)", 404: " (not found, or the token cannot see it)"}.get(
            resp.status_code, "")
        raise GitHubError(f"{method} {path}: {resp.status_code} {message}{hint}".rstrip(), status=resp.status_code)

    # -- end of run ------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Persist the ETag cache and log what the run cost and the quota left."""
        self.cache.flush()
        self.log_usage()

    def log_usage(self) -> None:
        u = self.usage
        if self._rest is not None:  # what PyGithub (the sinks) last saw; read without a request
            remaining, limit = self._rest.requester.rate_limiting
            if limit >= 0:
                with self._lock:
                    u.remaining["core"] = min(remaining, u.remaining.get("core", remaining))
        log.info("GitHub API: %s requests, %s REST points (%s answered 304), %s GraphQL points; remaining %s",
                 u.requests, u.rest_points, u.not_modified, u.graphql_points,
                 ", ".join(f"{k}={v}" for k, v in sorted(u.remaining.items())) or "unknown")
