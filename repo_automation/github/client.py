"""GitHubClient: the one client that talks to GitHub, reads and writes, built once per run by the wiring.

One session built in one place (timeouts, user agent, auth), our own retry loop (so every attempt is counted
and Retry-After is honoured), conditional REST reads through the ETag cache (single answers and paginated
listings), GraphQL always with variables, and every write (writes.py: the typed methods the client inherits)
through the same loop, a pause of `write_interval_s` between writes as GitHub asks of integrations.

Rate limits: a secondary limit (403/429 with Retry-After) or an exhausted primary limit
(x-ratelimit-remaining: 0, wait until x-ratelimit-reset) is waited out when the wait is at most
`max_wait_s`, otherwise the source fails with the time it resets. 5xx answers and timeouts are retried with
exponential backoff; `202 Accepted` (statistics still being computed) is retried a bounded number of times.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import requests

from repo_automation import __version__
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.github.auth import Auth, auth_from_settings
from repo_automation.github.cache import CachedResponse, EtagCache, MemoryEtagCache, cache_from_settings
from repo_automation.github.writes import GitHubWrites

if TYPE_CHECKING:
    from repo_automation.context import RunContext

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
SECONDARY_LIMIT_DEFAULT_WAIT_S = 60.0  # GitHub: "wait at least one minute" when no Retry-After is given
WRITE_INTERVAL_S = 1.0  # GitHub: "wait at least one second between each" mutating request
MAX_PAGES = 50  # 5,000 items at per_page=100: a bound on what one listing reads
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})


class GitHubError(SourceFailed):
    """A GitHub request that failed for good: `status` is the HTTP status (None: no answer), `method` the
    request's, `message` GitHub's own words and `body` its answer (when it answered), `rate_limited` when
    the rate limit (not a permission) refused it."""

    def __init__(self, text: str, *, status: int | None = None, method: str = "GET", message: str = "",
                 body: Any = None, rate_limited: bool = False) -> None:
        super().__init__(text)
        self.status = status
        self.method = method
        self.message = message
        self.body = body
        self.rate_limited = rate_limited


def http_error(e: Exception) -> str:
    """A short reason for the report: a refused write as its HTTP status and GitHub's message, anything else
    (a read, no answer, a rate limit) as what failed."""
    if isinstance(e, GitHubError) and e.method in _WRITES and e.status is not None and not e.rate_limited:
        return f"HTTP {e.status}" + (f" {e.message}" if e.message else "")
    return f"{type(e).__name__}: {e}"


def next_link(link: str | None) -> str | None:
    """The rel="next" URL of a Link header, or None on the last page."""
    m = _NEXT.search(link or "")
    return m.group(1) if m else None


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


class GitHubClient(GitHubWrites):
    """Reads (conditional GETs, listings, GraphQL) here; the typed writes come from GitHubWrites (writes.py)."""

    def __init__(self, *, session: requests.Session, auth: Auth | None, api_url: str = DEFAULT_API_URL,
                 graphql_url: str | None = None, cache: EtagCache | None = None, repository: str | None = None,
                 timeout_s: float = 30.0, max_retries: int = 3, backoff_s: float = 1.0, max_wait_s: float = 60.0,
                 accepted_retries: int = 4, write_interval_s: float = WRITE_INTERVAL_S,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time) -> None:
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
        self.write_interval_s = write_interval_s
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._last_write: float | None = None  # when the last write was sent (clock())
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

    def list_all(self, path: str, params: Mapping[str, str | int] | None = None, *, limit: int | None = None
             ) -> list[dict[str, Any]]:
        """Every item of a paginated listing (per_page=100, following Link rel="next"), at most `limit`; each
        page is a conditional GET, so an unchanged listing reads for free."""
        out: list[dict[str, Any]] = []
        resp = self.get(path, {"per_page": 100, **(params or {})})
        for _ in range(MAX_PAGES):
            out.extend(x for x in (resp.body or []) if isinstance(x, dict))
            if limit is not None and len(out) >= limit:
                return out[:limit]
            url = next_link(resp.link)
            if url is None:
                break
            resp = self.get(url)
        return out

    # -- writes (the typed methods are in writes.py) --------------------------------------------------------
    def send(self, method: str, path: str, body: Mapping[str, Any]) -> Any:
        """One write through the request loop, at least `write_interval_s` after the previous one."""
        self._space_writes()
        resp = self._send(method, self.url(path), json=dict(body), headers={}, graphql=False)
        self._raise_for_status(method, path, resp)
        try:
            return resp.json() if resp.content else None
        except ValueError as e:
            raise GitHubError(f"{method} {path}: the answer is not JSON", status=resp.status_code,
                              method=method) from e

    def _space_writes(self) -> None:
        with self._lock:
            now = self._clock()
            due = now if self._last_write is None else self._last_write + self.write_interval_s
            wait = min(max(0.0, due - now), self.write_interval_s)  # bounded even if the clock steps back
            self._last_write = now + wait
        if wait > 0:
            self._sleep(wait)

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
                    raise GitHubError(f"{what}: no answer after {attempts} attempts ({type(e).__name__})",
                                      method=method) from e
                self._wait(self._backoff(attempts), f"{what}: {type(e).__name__}")
                continue
            self._count(graphql, resp)
            delay = self._rate_limit_delay(resp, method, what, graphql)
            if delay is not None:
                limited += 1
                if limited > self.max_retries:
                    raise GitHubError(f"{what}: still rate limited after {limited - 1} waits; try again later",
                                      status=resp.status_code, method=method, rate_limited=True)
            elif resp.status_code >= 500 and resp.status_code != 501:  # 501 Not Implemented is not transient
                attempts += 1
                if attempts > self.max_retries:
                    return resp
                delay = self._backoff(attempts)
            elif resp.status_code == 202 and method == "GET":
                accepted += 1
                if accepted > self.accepted_retries:
                    raise GitHubError(f"{what}: GitHub is still computing the statistics (202 after "
                                      f"{accepted} attempts); try again later", status=202, method=method)
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

    def _rate_limit_delay(self, resp: requests.Response, method: str, what: str, graphql: bool) -> float | None:
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
                              f"{self.max_wait_s:.0f}s we wait)", status=resp.status_code, method=method,
                              rate_limited=True)
        return delay

    def _raise_for_status(self, method: str, path: str, resp: requests.Response) -> None:
        if resp.status_code < 400:
            return
        try:
            body = resp.json()
            message = str(body.get("message", "")) if isinstance(body, dict) else ""
        except ValueError:
            body, message = None, resp.text[:200]
        hint = {401: " (the token was rejected)", 404: " (not found, or the token cannot see it)"}.get(
            resp.status_code, "")
        raise GitHubError(f"{method} {path}: {resp.status_code} {message}{hint}".rstrip(), status=resp.status_code,
                          method=method, message=message, body=body)

    # -- end of run ------------------------------------------------------------------------------------------
    def close(self) -> None:
        """End of run (the wiring calls it): persist the ETag cache, log what the run cost and the quota left,
        close the session."""
        self.cache.flush()
        self.log_usage()
        self.session.close()

    def log_usage(self) -> None:
        u = self.usage
        log.info("GitHub API: %s requests, %s REST points (%s answered 304), %s GraphQL points; remaining %s",
                 u.requests, u.rest_points, u.not_modified, u.graphql_points,
                 ", ".join(f"{k}={v}" for k, v in sorted(u.remaining.items())) or "unknown")


def connect(ctx: RunContext) -> tuple[GitHubClient | None, str | None]:
    """The run's one client (the wiring builds it and hands it to every GitHub stage), or None and why there
    is none (no repository, no credentials). An incomplete App configuration raises UsageError (exit 2)."""
    try:
        return GitHubClient.from_context(ctx), None
    except SourceSkipped as e:
        return None, str(e)
