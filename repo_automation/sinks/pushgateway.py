"""PushgatewaySink: the run's metrics, health scores and the automation's totals to Prometheus.

On when `PUSHGATEWAY_URL` (input `pushgateway-url`) or `integrations.pushgateway.url` is set (the setting wins),
or `integrations.pushgateway.textfile` names a `.prom` file. The series and their names: metric_families.py.

- Pushgateway: one PUT per run in the Prometheus text format (prometheus-client's push_to_gateway), to the
  group `job` (`integrations.pushgateway.job`, default `repo_automation`) + `repository` (owner/name): a PUT
  replaces the whole group, so a metric this run did not measure does not linger from an older run. Scrape
  the gateway with `honor_labels: true` so `job` and `repository` stay as pushed.
- Textfile: the same series, each with a `repository` label, written atomically to the file, for
  node_exporter's `--collector.textfile.directory` (one file per repository).

The counters and the duration histogram are totals over every run of the repository in the metrics history
(history/automation.py), read after the history sink stored this run; with `store-db` off, or a history that
cannot be read, they are left out and the action says why. Dry run: no request, no file, no read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from repo_automation.context import RunContext
from repo_automation.domain import Action, RunReport, SourceKind, Status
from repo_automation.errors import SourceFailed, SourceSkipped, UsageError
from repo_automation.history import HistoryError, open_store
from repo_automation.history.automation import Totals, read_totals
from repo_automation.redaction import redact_url
from repo_automation.sessions import make_session
from repo_automation.sinks import metric_families as fam
from repo_automation.sinks.metric_families import prometheus_name
from repo_automation.stages import Sink

if TYPE_CHECKING:
    import requests
    from prometheus_client import CollectorRegistry

__all__ = ["PushgatewaySink", "prometheus_name", "session_handler"]

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0


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

    def __init__(self, *, url: str | None, job: str, textfile: Path | None = None,
                 session: requests.Session | None = None, timeout_s: float = TIMEOUT_S) -> None:
        self.url = (url or "").rstrip("/")
        if self.url and (urlsplit(self.url).scheme not in ("http", "https") or not urlsplit(self.url).netloc):
            raise UsageError("pushgateway-url (PUSHGATEWAY_URL) is not an http(s) URL: "
                             f"{redact_url(self.url)!r}")
        if not job.strip():
            raise UsageError("integrations.pushgateway.job must not be empty")
        self.job = job
        self.textfile = textfile
        self.shown = redact_url(self.url)
        self._session = session
        self.timeout_s = timeout_s

    @classmethod
    def from_context(cls, ctx: RunContext) -> PushgatewaySink:
        cfg = ctx.config.pushgateway
        textfile = ctx.workspace / cfg.textfile if cfg.textfile else None
        return cls(url=ctx.settings.pushgateway_url or cfg.url, job=cfg.job, textfile=textfile)

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        if not self.url and self.textfile is None:
            raise SourceSkipped("no Pushgateway configured (PUSHGATEWAY_URL or integrations.pushgateway.url) and "
                                "no textfile (integrations.pushgateway.textfile)")
        try:
            import prometheus_client  # noqa: F401
        except ImportError as e:
            raise SourceFailed("the Pushgateway sink needs prometheus-client (pip install prometheus-client)") from e
        repository = report.repository or ""
        if ctx.dry_run:
            _, series = self._registry(report, None, {})
            what = f"{series} series, the run timestamp and the automation totals from the metrics history"
            log.info("dry run: would push %s", what)
            return [Action(sink=self.name, description=f"would {verb} {what}", performed=False, target=target)
                    for verb, target in self._targets()]
        totals, why_not = self._totals(report, ctx)
        counted = (f" and the automation totals of {totals.runs} stored runs" if totals is not None
                   else f" (automation totals left out: {why_not})")
        actions = []
        if self.url:
            grouping = {"repository": repository} if repository else {}
            registry, series = self._registry(report, totals, {})
            group = ", ".join(f"{k}={v}" for k, v in {"job": self.job, **grouping}.items())
            what = f"{series} series, the run timestamp{counted} to the Pushgateway group {group}"
            self._push(registry, grouping)
            log.info("pushed %s at %s", what, self.shown)
            actions.append(Action(sink=self.name, description=f"pushed {what}", performed=True, target=self.shown))
        if self.textfile is not None:
            registry, series = self._registry(report, totals, {"repository": repository})
            self._write(registry)
            what = f"{series} series, the run timestamp{counted}"
            log.info("wrote %s to %s", what, self.textfile)
            actions.append(Action(sink=self.name, description=f"wrote {what} for the textfile collector",
                                  performed=True, target=str(self.textfile)))
        return actions

    def _targets(self) -> list[tuple[str, str]]:
        out = [("push", f"{self.shown} (group job={self.job})")] if self.url else []
        return out + ([("write", str(self.textfile))] if self.textfile is not None else [])

    @staticmethod
    def _registry(report: RunReport, totals: Totals | None, labels: dict[str, str]) -> tuple[CollectorRegistry, int]:
        """The registry to hand over, and how many series of measured metrics and health scores it holds."""
        measured = [*fam.gauge_families(report.metrics, labels), fam.health_family(report.health, labels)]
        _, series = fam.registry_of(measured)
        extra = [fam.last_run_family(report.generated_at.timestamp(), labels)]
        if totals is not None:
            extra += fam.total_families(totals, labels)
        registry, _ = fam.registry_of([*measured, *extra])
        return registry, series

    @staticmethod
    def _totals(report: RunReport, ctx: RunContext) -> tuple[Totals | None, str]:
        """The history's totals for this repository, or None and why (store-db off, a store not readable)."""
        stored = [s for s in report.sources if s.kind is SourceKind.SINK and s.name == "history"]
        if not ctx.settings.store_db or any(s.nothing_to_do for s in stored):
            return None, "store-db is off, so the runs are not counted in the metrics history"
        if stored and stored[-1].status is Status.FAILED:
            log.warning("pushgateway: the history did not store this run; the totals read leave it out")
        try:
            with open_store(ctx.settings.history_db, ctx.workspace, readonly=True) as store:
                return read_totals(store, report.repository or ""), ""
        except HistoryError as e:
            log.warning("pushgateway: automation totals left out: %s", e)
            return None, str(e)

    def _write(self, registry: CollectorRegistry) -> None:
        from prometheus_client import write_to_textfile

        assert self.textfile is not None
        try:
            self.textfile.parent.mkdir(parents=True, exist_ok=True)
            write_to_textfile(str(self.textfile), registry)
        except OSError as e:
            raise SourceFailed(f"cannot write {self.textfile}: {e.strerror or e}") from e

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
