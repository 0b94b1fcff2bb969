"""PushgatewaySink: the run's metrics and health scores to a Prometheus Pushgateway.

On when `PUSHGATEWAY_URL` (input `pushgateway-url`) or `integrations.pushgateway.url` is set (the setting wins).
One PUT per run in the Prometheus text format (prometheus-client's CollectorRegistry and push_to_gateway), to the
group `job` (`integrations.pushgateway.job`, default `repo_automation`) + `repository` (owner/name): a PUT
replaces the whole group, so a metric this run did not measure does not linger from an older run.

Names: `repo_automation_` + the metric name with every character Prometheus does not allow (dots included)
turned into `_` — `security.critical_vulnerabilities` becomes `repo_automation_security_critical_vulnerabilities`,
health scores `repo_automation_health_overall` and `repo_automation_health_<category>`. Each series carries a
`source` label (the collector that measured it). `repo_automation_last_run_timestamp_seconds` says when the run
was made, so a dashboard can tell stale numbers. Values that are not finite are left out.

Scrape the gateway with `honor_labels: true` so `job` and `repository` stay as pushed. Dry run: no request.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from repo_automation.catalogue import info
from repo_automation.context import RunContext
from repo_automation.domain import Action, Metric, RunReport
from repo_automation.errors import SourceFailed, SourceSkipped, UsageError
from repo_automation.history import health_metrics
from repo_automation.redaction import redact_url
from repo_automation.sessions import make_session
from repo_automation.stages import Sink

if TYPE_CHECKING:
    import requests
    from prometheus_client import CollectorRegistry

log = logging.getLogger(__name__)

PREFIX = "repo_automation_"
TIMEOUT_S = 10.0
_INVALID = re.compile(r"[^a-zA-Z0-9_:]")


def prometheus_name(metric: str) -> str:
    """`security.critical_vulnerabilities` -> `repo_automation_security_critical_vulnerabilities`."""
    return PREFIX + _INVALID.sub("_", metric)


def build_registry(metrics: Sequence[Metric], generated_at: float) -> tuple[CollectorRegistry, int]:
    """A registry with one gauge per metric name (a series per source), and how many series it holds."""
    from prometheus_client import CollectorRegistry, Gauge  # lazily, for start-up time

    registry = CollectorRegistry()
    gauges: dict[str, Any] = {}
    series = 0
    for m in metrics:
        if not math.isfinite(m.value):
            continue
        name = prometheus_name(m.name)
        if name not in gauges:
            meta = info(m.name)
            doc = f"{m.name}: {meta.description}" if meta else m.name
            gauges[name] = Gauge(name, doc, labelnames=["source"], registry=registry)
        gauges[name].labels(source=m.source).set(m.value)
        series += 1
    stamp = Gauge(PREFIX + "last_run_timestamp_seconds", "When the run that pushed these metrics was made.",
                  registry=registry)
    stamp.set(generated_at)
    return registry, series


def session_handler(session: requests.Session) -> Callable[..., Callable[[], None]]:
    """A push_to_gateway handler that sends through our session (user agent, retries) and names a refusal."""

    def handler(url: str, method: str, timeout: float | None, headers: list[tuple[str, str]],
                data: bytes) -> Callable[[], None]:
        def send() -> None:
            resp = session.request(method, url, data=data, headers=dict(headers), timeout=timeout)
            if resp.status_code >= 400:
                answer = (resp.text or "").strip()[:300]
                raise SourceFailed(f"the Pushgateway answered HTTP {resp.status_code}: {answer}")

        return send

    return handler


class PushgatewaySink(Sink):
    name: ClassVar[str] = "pushgateway"

    def __init__(self, *, url: str | None, job: str, session: requests.Session | None = None,
                 timeout_s: float = TIMEOUT_S) -> None:
        self.url = (url or "").rstrip("/")
        if self.url and (urlsplit(self.url).scheme not in ("http", "https") or not urlsplit(self.url).netloc):
            raise UsageError("pushgateway-url (PUSHGATEWAY_URL) is not an http(s) URL: "
                             f"{redact_url(self.url)!r}")
        if not job.strip():
            raise UsageError("integrations.pushgateway.job must not be empty")
        self.job = job
        self.shown = redact_url(self.url)
        self._session = session
        self.timeout_s = timeout_s

    @classmethod
    def from_context(cls, ctx: RunContext) -> PushgatewaySink:
        cfg = ctx.config.pushgateway
        return cls(url=ctx.settings.pushgateway_url or cfg.url, job=cfg.job)

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        if not self.url:
            raise SourceSkipped("no Pushgateway configured (PUSHGATEWAY_URL or integrations.pushgateway.url)")

        try:
            import prometheus_client  # noqa: F401
        except ImportError as e:
            raise SourceFailed("the Pushgateway sink needs prometheus-client (pip install prometheus-client)") from e
        rows = [*report.metrics, *health_metrics(report.health)]
        registry, series = build_registry(rows, report.generated_at.timestamp())
        grouping = {"repository": report.repository} if report.repository else {}
        group = ", ".join(f"{k}={v}" for k, v in {"job": self.job, **grouping}.items())
        what = f"{series} series and the run timestamp to the Pushgateway group {group}"
        if ctx.dry_run:
            log.info("dry run: would push %s at %s", what, self.shown)
            return [Action(sink=self.name, description=f"would push {what}", performed=False, target=self.shown)]
        self._push(registry, grouping)
        log.info("pushed %s at %s", what, self.shown)
        return [Action(sink=self.name, description=f"pushed {what}", performed=True, target=self.shown)]

    def _push(self, registry: CollectorRegistry, grouping: dict[str, str]) -> None:
        import requests  # lazily, for start-up time
        from prometheus_client import push_to_gateway

        session = self._session or make_session(methods=("PUT",), timeout_s=self.timeout_s)
        try:
            push_to_gateway(self.url, job=self.job, registry=registry, grouping_key=grouping,
                            timeout=self.timeout_s, handler=session_handler(session))
        except requests.RequestException as e:
            raise SourceFailed(f"cannot reach the Pushgateway at {self.shown}: {type(e).__name__}") from e
        finally:
            if self._session is None:
                session.close()
