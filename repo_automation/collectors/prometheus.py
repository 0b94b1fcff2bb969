"""Application metrics from Prometheus' HTTP API: one instant query (`GET /api/v1/query`) per metric.

Config `tracking.data_sources.prometheus`: `endpoint` (no endpoint: skipped), `metrics` (which to collect;
empty = all five) and `queries` (PromQL per metric, replacing the built-in one). Both take the catalogue name
(`reliability.uptime`) or the short name (`uptime`, `application_uptime`, `error_rate`, `request_rate`,
`response_time_p95`, `response_time_p99`); any other name is a ConfigError before the run starts.
`job` and `selector` (label matchers, e.g. `env="prod"`) scope every built-in query to the application.
`auth` is `{"type": "basic", "username": …, "password_env": VAR}` or `{"type": "bearer", "token_env": VAR}`:
the secret comes from the named environment variable, never from the file. A `user:password@` in the
endpoint is basic auth too; the endpoint is only ever shown without it.

Every query is evaluated at `ctx.now` (the `time` parameter), so a run and its report agree on "when". The
built-in queries follow the usual instrumentation names; override them when yours differ:

- reliability.uptime (percent): share of scrapes that found the application's targets up over 7 days;
- performance.request_rate (requests/s) and reliability.error_rate (percent of 5xx responses) from
  `http_requests_total{status}` over 5 minutes; with traffic but no 5xx series the error rate is 0
  (`or vector(0)`), without the traffic series it is no data;
- performance.response_time_p95 / _p99 (ms) from the `http_request_duration_seconds` histogram.

Unscoped (no `job`, no `selector`), the built-in queries would mix every target Prometheus scrapes (its own,
node exporters, …): when `up` shows more than one job they are not run, and the source says which jobs
answered and how to choose one, rather than reporting an average of all of them.

A query must give one number: a scalar or a single series (aggregate with `sum(...)` otherwise). No data, or
a value that is not a number (0/0 with no traffic), leaves that metric out. A query Prometheus rejects is a
configuration problem: the collector fails, naming each rejected query. Prometheus unreachable: failed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote, urlsplit, urlunsplit

from repo_automation.context import RunContext
from repo_automation.domain import Metric
from repo_automation.errors import ConfigError, SourceFailed, SourceSkipped
from repo_automation.redaction import Secret
from repo_automation.sessions import make_session
from repo_automation.stages import Collector

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

SOURCE = "prometheus"
TIMEOUT_S = 10.0
CONFIG_PATH = "$.tracking.data_sources.prometheus"
# catalogue name -> (unit, built-in PromQL). {sel} and {sel5xx} stand for the label matchers of `job` and
# `selector` (with braces, or nothing); {sel5xx} adds the 5xx status matcher.
_REQUESTS = "sum(rate(http_requests_total{sel}[5m]))"
_LATENCY = "1000 * histogram_quantile({q}, sum by (le) (rate(http_request_duration_seconds_bucket{sel}[5m])))"
BUILTIN: dict[str, tuple[str, str]] = {
    "reliability.uptime": ("percent", "100 * avg(avg_over_time(up{sel}[7d]))"),
    "reliability.error_rate": ("percent",
                               f"100 * (sum(rate(http_requests_total{{sel5xx}}[5m])) or vector(0)) / {_REQUESTS}"),
    "performance.request_rate": ("requests/s", _REQUESTS),
    "performance.response_time_p95": ("ms", _LATENCY.replace("{q}", "0.95")),
    "performance.response_time_p99": ("ms", _LATENCY.replace("{q}", "0.99")),
}
JOBS_QUERY = "count by (job) (up)"
ALIASES = {
    "uptime": "reliability.uptime", "application_uptime": "reliability.uptime",
    "error_rate": "reliability.error_rate", "request_rate": "performance.request_rate",
    "response_time_p95": "performance.response_time_p95", "response_time_p99": "performance.response_time_p99",
}


def metric_name(name: str, where: str) -> str:
    """The catalogue name for a configured name, or a ConfigError naming the accepted ones."""
    full = ALIASES.get(name, name)
    if full not in BUILTIN:
        accepted = ", ".join([*BUILTIN, *ALIASES])
        raise ConfigError("configuration has an unknown Prometheus metric:",
                          [f"{where}: {name!r} is not one of {accepted}"])
    return full


def matchers(job: str | None, selector: str | None) -> str:
    """The label matchers of `job` and `selector`, comma-joined, without braces ('' when unscoped)."""
    parts = [f'job="{_quote(job)}"'] if job else []
    if selector and selector.strip().strip("{}").strip():
        parts.append(selector.strip().strip("{}").strip())
    return ", ".join(parts)


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def builtin_query(name: str, scope: str) -> str:
    """The built-in PromQL of `name`, scoped to the label matchers `scope`."""
    with_5xx = ", ".join(p for p in (scope, 'status=~"5.."') if p)
    return (BUILTIN[name][1].replace("{sel5xx}", "{" + with_5xx + "}")
            .replace("{sel}", "{" + scope + "}" if scope else ""))


def plan_queries(metrics: Sequence[str], queries: Mapping[str, str], scope: str = "") -> dict[str, str]:
    """Which metrics to query, and with what PromQL, from the config's `metrics` and `queries`."""
    overrides = {metric_name(k, f"{CONFIG_PATH}.queries.{k}"): v for k, v in queries.items()}
    wanted = [metric_name(n, f"{CONFIG_PATH}.metrics[{i}]") for i, n in enumerate(metrics)] or list(BUILTIN)
    return {name: overrides.get(name, builtin_query(name, scope)) for name in dict.fromkeys(wanted)}


def display_url(url: str) -> str:
    """The URL without its `user:password@`, as it may be shown in logs and reports."""
    parts = urlsplit(url)
    if not (parts.username or parts.password):
        return url
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def credentials(auth: Mapping[str, Any], endpoint: str, env: Mapping[str, str]) -> tuple[str, Any]:
    """How to authenticate: ("none"|"basic"|"bearer", the value); SourceSkipped when a named variable is unset."""
    kind = str(auth.get("type") or "")
    if kind == "basic":
        var = str(auth["password_env"])
        if not env.get(var):
            raise SourceSkipped(f"Prometheus basic auth needs a password in {var}, which is not set")
        return "basic", (str(auth["username"]), Secret(env[var]))
    if kind == "bearer":
        var = str(auth["token_env"])
        if not env.get(var):
            raise SourceSkipped(f"Prometheus bearer auth needs a token in {var}, which is not set")
        return "bearer", Secret(env[var])
    parts = urlsplit(endpoint)
    if parts.username or parts.password:
        return "basic", (unquote(parts.username or ""), Secret(unquote(parts.password or "")))
    return "none", None


def parse_result(body: Any) -> float | None:
    """The one number in a successful /api/v1/query answer (None: no data or not a number)."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, Mapping):
        raise ValueError("the answer has no data")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar" and isinstance(result, list) and len(result) == 2:
        raw = result[1]
    elif kind == "vector" and isinstance(result, list):
        if not result:
            return None
        if len(result) > 1:
            raise ValueError(f"the query returned {len(result)} series; aggregate it to one, e.g. sum(...)")
        try:
            raw = result[0]["value"][1]
        except (KeyError, IndexError, TypeError) as e:
            raise ValueError("the answer's series has no value") from e
    else:
        raise ValueError(f"the query returned a {kind}; an instant vector or a scalar is needed")
    try:
        value = float(raw)
    except (TypeError, ValueError) as e:
        raise ValueError(f"the value {raw!r} is not a number") from e
    return value if math.isfinite(value) else None


class PrometheusCollector(Collector):
    name: ClassVar[str] = "prometheus"

    def __init__(self, *, endpoint: str | None, session: requests.Session, queries: Mapping[str, str],
                 enabled: bool = True, timeout_s: float = TIMEOUT_S, scoped: bool = True,
                 builtin: Sequence[str] = ()) -> None:
        """`session` carries the auth; `scoped` False with `builtin` (the metrics left on built-in queries)
        makes the collector check first that only one job answers."""
        self.endpoint = display_url((endpoint or "").rstrip("/"))
        self._base = (endpoint or "").rstrip("/")
        self._session = session
        self.queries = dict(queries)
        self.enabled = enabled
        self.timeout_s = timeout_s
        self.scoped = scoped
        self.builtin = tuple(builtin)

    def __repr__(self) -> str:
        return f"PrometheusCollector(endpoint={self.endpoint!r}, metrics={list(self.queries)!r})"

    @classmethod
    def from_context(cls, ctx: RunContext) -> PrometheusCollector:
        """Production wiring; raises ConfigError for an unknown metric name in the config, SourceSkipped when the
        auth's secret variable is not set (the wiring reports it as the source's reason)."""
        cfg = ctx.config.data_sources.prometheus
        scope = matchers(cfg.job, cfg.selector)
        overrides = dict(cfg.queries)
        queries = plan_queries(list(cfg.metrics), overrides, scope)
        custom = {metric_name(k, f"{CONFIG_PATH}.queries.{k}") for k in overrides}
        auth = {} if cfg.auth is None else {"type": cfg.auth.type, "username": cfg.auth.username,
                                            "password_env": cfg.auth.password_env, "token_env": cfg.auth.token_env}
        kind, value = credentials(auth, cfg.endpoint or "", ctx.env)
        session = make_session()
        if kind == "basic":
            user, password = value
            session.auth = (user, password.reveal())
        elif kind == "bearer":
            session.headers["Authorization"] = f"Bearer {value.reveal()}"
        return cls(endpoint=cfg.endpoint, session=session, queries=queries, enabled=cfg.enabled,
                   scoped=bool(scope), builtin=[n for n in queries if n not in custom])

    def collect(self, ctx: RunContext) -> Sequence[Metric]:
        if not self.enabled:
            raise SourceSkipped("disabled in configuration (tracking.data_sources.prometheus.enabled)")
        if not self.endpoint:
            raise SourceSkipped("no Prometheus endpoint configured (tracking.data_sources.prometheus.endpoint)")
        queries, unscoped = self.queries, ""
        if not self.scoped and self.builtin:
            unscoped = self._several_jobs(ctx)
            if unscoped:
                queries = {k: v for k, v in queries.items() if k not in self.builtin}
                if not queries:
                    raise SourceSkipped(unscoped)
                log.warning("prometheus: %s", unscoped)
        metrics: list[Metric] = []
        rejected: list[str] = []
        empty: list[str] = []
        for name, promql in queries.items():
            try:
                value = self._query(promql, ctx)
            except ValueError as e:
                rejected.append(f"{name} ({promql}): {e}")
                continue
            if value is None:
                empty.append(name)
                continue
            metrics.append(Metric(name=name, value=value, source=SOURCE, unit=BUILTIN[name][0],
                                  metadata={"query": promql}))
        if rejected:
            raise SourceFailed("Prometheus queries that give no number: " + "; ".join(rejected))
        if empty:
            log.info("prometheus: no data for %s", ", ".join(empty))
        if not metrics:
            raise SourceSkipped(f"Prometheus at {self.endpoint} has no data for {', '.join(empty)}")
        return metrics

    def _several_jobs(self, ctx: RunContext) -> str:
        """Why the built-in queries cannot run unscoped ('' when one job or none answers)."""
        jobs = sorted(str(s.get("metric", {}).get("job", "")) for s in self._vector(JOBS_QUERY, ctx))
        if len(jobs) <= 1:
            return ""
        return (f"Prometheus at {self.endpoint} scrapes {len(jobs)} jobs ({', '.join(jobs)}): the built-in "
                f"queries for {', '.join(self.builtin)} would average them all; set "
                f"{CONFIG_PATH}.job (or selector) to the application's")

    def _vector(self, promql: str, ctx: RunContext) -> list[dict[str, Any]]:
        body = self._get(promql, ctx)
        result = body.get("data", {}).get("result") if isinstance(body.get("data"), Mapping) else None
        return [s for s in result if isinstance(s, dict)] if isinstance(result, list) else []

    def _query(self, promql: str, ctx: RunContext) -> float | None:
        return parse_result(self._get(promql, ctx))

    def _get(self, promql: str, ctx: RunContext) -> Mapping[str, Any]:
        import requests  # lazily, for start-up time

        url = f"{self._base}/api/v1/query"
        try:
            resp = self._session.get(url, params={"query": promql, "time": f"{ctx.now.timestamp():.3f}"},
                                     timeout=self.timeout_s)
        except requests.RequestException as e:
            raise SourceFailed(f"cannot reach Prometheus at {self.endpoint}: {e}") from e  # names host and path only
        try:
            body = resp.json()
        except ValueError:
            body = None
        if resp.status_code in (400, 422) and isinstance(body, Mapping):
            raise ValueError(f"{body.get('errorType', 'error')}: {body.get('error', '')}")
        if resp.status_code in (401, 403):
            raise SourceFailed(f"Prometheus at {self.endpoint} refused the credentials (HTTP {resp.status_code}); "
                               f"check {CONFIG_PATH}.auth")
        if resp.status_code != 200 or not isinstance(body, Mapping) or body.get("status") != "success":
            raise SourceFailed(f"Prometheus at {self.endpoint} answered HTTP {resp.status_code} to "
                               f"{self.endpoint}/api/v1/query: {(resp.text or '')[:200]}")
        return body

