"""Application metrics from Prometheus' HTTP API: one instant query (`GET /api/v1/query`) per metric.

Config `tracking.data_sources.prometheus`: `endpoint` (no endpoint: skipped), `metrics` (which to collect;
empty = all five) and `queries` (PromQL per metric, replacing the built-in one). Both take the catalogue name
(`reliability.uptime`) or the short name (`uptime`, `application_uptime`, `error_rate`, `request_rate`,
`response_time_p95`, `response_time_p99`); any other name is a ConfigError before the run starts.

Every query is evaluated at `ctx.now` (the `time` parameter), so a run and its report agree on "when". The
built-in queries follow the usual instrumentation names; override them when yours differ:

- reliability.uptime (percent): share of scrapes that found the targets up over 7 days;
- performance.request_rate (requests/s) and reliability.error_rate (percent of 5xx responses) from
  `http_requests_total{status}` over 5 minutes;
- performance.response_time_p95 / _p99 (ms) from the `http_request_duration_seconds` histogram.

A query must give one number: a scalar or a single series (aggregate with `sum(...)` otherwise). No data, or
a value that is not a number (0/0 with no traffic), leaves that metric out. A query Prometheus rejects is a
configuration problem: the collector fails, naming each rejected query. Prometheus unreachable: failed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from repo_automation.context import RunContext
from repo_automation.domain import Metric
from repo_automation.errors import ConfigError, SourceFailed, SourceSkipped
from repo_automation.redaction import redact_url
from repo_automation.sessions import make_session
from repo_automation.stages import Collector

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

SOURCE = "prometheus"
TIMEOUT_S = 10.0
_REQUESTS = 'sum(rate(http_requests_total[5m]))'
_LATENCY = "1000 * histogram_quantile({q}, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))"
# catalogue name -> (unit, built-in PromQL)
BUILTIN: dict[str, tuple[str, str]] = {
    "reliability.uptime": ("percent", "100 * avg(avg_over_time(up[7d]))"),
    "reliability.error_rate": ("percent", f'100 * sum(rate(http_requests_total{{status=~"5.."}}[5m])) / {_REQUESTS}'),
    "performance.request_rate": ("requests/s", _REQUESTS),
    "performance.response_time_p95": ("ms", _LATENCY.format(q="0.95")),
    "performance.response_time_p99": ("ms", _LATENCY.format(q="0.99")),
}
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


def plan_queries(metrics: Sequence[str], queries: Mapping[str, str]) -> dict[str, str]:
    """Which metrics to query, and with what PromQL, from the config's `metrics` and `queries`."""
    base = "$.tracking.data_sources.prometheus"
    overrides = {metric_name(k, f"{base}.queries.{k}"): v for k, v in queries.items()}
    wanted = [metric_name(n, f"{base}.metrics[{i}]") for i, n in enumerate(metrics)] or list(BUILTIN)
    return {name: overrides.get(name, BUILTIN[name][1]) for name in dict.fromkeys(wanted)}


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
                 enabled: bool, timeout_s: float = TIMEOUT_S) -> None:
        self.endpoint = (endpoint or "").rstrip("/")
        self._session = session
        self.queries = dict(queries)
        self.enabled = enabled
        self.timeout_s = timeout_s

    @classmethod
    def from_context(cls, ctx: RunContext) -> PrometheusCollector:
        """Production wiring; raises ConfigError for an unknown metric name in the config."""
        cfg = ctx.config.data_sources.prometheus
        queries = plan_queries(list(cfg.metrics), dict(cfg.queries))
        return cls(endpoint=cfg.endpoint, session=make_session(), queries=queries, enabled=cfg.enabled)

    def collect(self, ctx: RunContext) -> Sequence[Metric]:
        if not self.enabled:
            raise SourceSkipped("disabled in configuration (tracking.data_sources.prometheus.enabled)")
        if not self.endpoint:
            raise SourceSkipped("no Prometheus endpoint configured (tracking.data_sources.prometheus.endpoint)")
        metrics: list[Metric] = []
        rejected: list[str] = []
        empty: list[str] = []
        for name, promql in self.queries.items():
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
            raise SourceSkipped(f"Prometheus at {redact_url(self.endpoint)} has no data for {', '.join(empty)}")
        return metrics

    def _query(self, promql: str, ctx: RunContext) -> float | None:
        import requests  # lazily, for start-up time

        url = f"{self.endpoint}/api/v1/query"
        try:
            resp = self._session.get(url, params={"query": promql, "time": f"{ctx.now.timestamp():.3f}"},
                                     timeout=self.timeout_s)
        except requests.RequestException as e:
            raise SourceFailed(f"cannot reach Prometheus at {redact_url(self.endpoint)}: {e}") from e
        try:
            body = resp.json()
        except ValueError:
            body = None
        if resp.status_code in (400, 422) and isinstance(body, Mapping):
            raise ValueError(f"{body.get('errorType', 'error')}: {body.get('error', '')}")
        if resp.status_code != 200 or not isinstance(body, Mapping) or body.get("status") != "success":
            raise SourceFailed(f"Prometheus at {redact_url(self.endpoint)} answered HTTP {resp.status_code} "
                               f"to {redact_url(url)}: "
                               f"{(resp.text or '')[:200]}")
        return parse_result(body)
