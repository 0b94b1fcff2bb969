"""The Pushgateway sink against a real Pushgateway, read back from its /metrics, and once through Prometheus."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from repo_automation.context import RunContext
from repo_automation.core.scoring import score
from repo_automation.domain import Metric, RunReport
from repo_automation.errors import SourceFailed, SourceSkipped, UsageError
from repo_automation.sinks.pushgateway import PushgatewaySink, prometheus_name
from tests.helpers import make_context
from tests.servers import free_port

ENV = {"GITHUB_REPOSITORY": "acme/widgets"}
VALUES = {"security.critical_vulnerabilities": 2.0, "code_quality.coverage": 71.5, "git.commits_per_week": 12.0,
          "security.vulnerabilities": 3.0, "security.hotspots": 1.0, "code_quality.maintainability_rating": 2.0}


def context(tmp_path: Path, config: Mapping[str, Any] | None = None, **overrides: Any) -> RunContext:
    return make_context(tmp_path, config=config or {}, env=ENV, **overrides)


def run_report(ctx: RunContext, values: Mapping[str, float] = VALUES) -> RunReport:
    metrics = [Metric(name=k, value=v, source=k.split(".")[0]) for k, v in values.items()]
    metrics.append(Metric(name="reliability.uptime", value=float("nan"), source="prometheus"))
    return RunReport(schema_version="1.0", repository=ctx.repository, generated_at=ctx.now, dry_run=ctx.dry_run,
                     health=score(metrics, ctx.config), metrics=tuple(metrics))


def gateway_samples(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = requests.get(f"{url}/metrics", timeout=5).text
    return {(s.name, frozenset(s.labels.items())): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples
            if s.name.startswith(("repo_automation_", "project_", "automation_"))}


def labels(source: str, job: str = "repo_automation") -> frozenset[tuple[str, str]]:
    return frozenset({"job": job, "repository": "acme/widgets", "instance": "", "source": source}.items())


def test_names_are_prefixed_and_sanitised() -> None:
    assert prometheus_name("security.critical_vulnerabilities") == "repo_automation_security_critical_vulnerabilities"
    assert prometheus_name("app.p95-latency ms") == "repo_automation_app_p95_latency_ms"


def test_metrics_and_health_are_pushed_to_the_repositorys_group(tmp_path: Path, pushgateway: str) -> None:
    ctx = context(tmp_path, {"integrations": {"pushgateway": {"url": pushgateway, "job": "health"}}})
    [action] = PushgatewaySink.from_context(ctx).deliver(run_report(ctx), ctx)
    got = gateway_samples(pushgateway)
    assert got[("repo_automation_security_critical_vulnerabilities", labels("security", "health"))] == 2.0
    assert got[("repo_automation_code_quality_coverage", labels("code_quality", "health"))] == 71.5
    health = {dict(lbl)["category"]: v for (name, lbl), v in got.items() if name == "project_health_score"}
    report = run_report(ctx)
    assert health == {"overall": report.health.overall,
                      "security": report.health.categories["security"].score,
                      "code_quality": report.health.categories["code_quality"].score}
    stamp = [v for (name, _), v in got.items() if name == "repo_automation_last_run_timestamp_seconds"]
    assert stamp == [ctx.now.timestamp()]
    assert not any(name == "repo_automation_reliability_uptime" for name, _ in got)  # NaN left out
    assert action.performed and "group job=health, repository=acme/widgets" in action.description
    # without store-db no run is counted in the history: no counter pretends to be a total
    assert not any(name.startswith("automation_") for name, _ in got)
    assert "automation totals left out: store-db is off" in action.description


def test_a_later_push_replaces_the_group(tmp_path: Path, pushgateway: str) -> None:
    ctx = context(tmp_path, pushgateway_url=pushgateway)
    sink = PushgatewaySink.from_context(ctx)
    sink.deliver(run_report(ctx), ctx)
    sink.deliver(run_report(ctx, {"code_quality.coverage": 90.0}), ctx)
    got = gateway_samples(pushgateway)
    assert got[("repo_automation_code_quality_coverage", labels("code_quality"))] == 90.0
    assert not any(name == "repo_automation_security_critical_vulnerabilities" for name, _ in got)


def test_dry_run_pushes_nothing(tmp_path: Path, pushgateway: str) -> None:
    ctx = context(tmp_path, pushgateway_url=pushgateway, dry_run=True)
    [action] = PushgatewaySink.from_context(ctx).deliver(run_report(ctx), ctx)
    assert not action.performed and action.description.startswith("would push 9 series")  # 6 finite + 3 health
    assert gateway_samples(pushgateway) == {}


def test_a_push_the_gateway_refuses_fails_with_its_reason(tmp_path: Path, pushgateway: str) -> None:
    """Another job already pushed the same name as a counter: the Pushgateway refuses an inconsistent gauge."""
    other = "# TYPE repo_automation_code_quality_coverage counter\nrepo_automation_code_quality_coverage 1\n"
    assert requests.put(f"{pushgateway}/metrics/job/other", data=other, timeout=5).status_code == 200
    ctx = context(tmp_path, pushgateway_url=pushgateway)
    with pytest.raises(SourceFailed, match=r"the Pushgateway answered HTTP 400: .*repo_automation_code_quality_cov"):
        PushgatewaySink.from_context(ctx).deliver(run_report(ctx), ctx)


def test_an_unreachable_gateway_fails_and_an_unset_one_is_skipped(tmp_path: Path) -> None:
    port = free_port()  # a port nobody listens on
    ctx = context(tmp_path, pushgateway_url=f"http://user:hunter22@127.0.0.1:{port}")
    shown = re.escape(f"http://user:***@127.0.0.1:{port}")  # the URL as every URL is shown: no password
    with pytest.raises(SourceFailed, match=f"cannot reach the Pushgateway at {shown}") as err:
        PushgatewaySink.from_context(ctx).deliver(run_report(ctx), ctx)
    assert "hunter22" not in str(err.value)
    ctx = context(tmp_path)
    with pytest.raises(SourceSkipped, match="no Pushgateway configured"):
        PushgatewaySink.from_context(ctx).deliver(run_report(ctx), ctx)
    with pytest.raises(UsageError, match="not an http"):
        PushgatewaySink.from_context(context(tmp_path, pushgateway_url="pushgateway:9091"))


@pytest.mark.timeout(60)
def test_prometheus_scraping_the_gateway_sees_the_pushed_values(tmp_path: Path, pushgateway: str,
                                                                prometheus_scraping: str) -> None:
    ctx = context(tmp_path, pushgateway_url=pushgateway)
    PushgatewaySink.from_context(ctx).deliver(run_report(ctx), ctx)
    query = 'repo_automation_security_critical_vulnerabilities{repository="acme/widgets"}'
    result: list[Any] = []
    deadline = time.monotonic() + 30
    while not result and time.monotonic() < deadline:
        time.sleep(0.5)
        body = requests.get(f"{prometheus_scraping}/api/v1/query", params={"query": query}, timeout=5).json()
        result = body["data"]["result"]
    [series] = result
    assert series["metric"]["job"] == "repo_automation" and series["metric"]["source"] == "security"
    assert float(series["value"][1]) == 2.0


def test_without_prometheus_client_the_sink_says_what_to_install(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "prometheus_client", None)
    ctx = context(tmp_path, pushgateway_url="http://127.0.0.1:9")
    with pytest.raises(SourceFailed, match="needs prometheus-client"):
        PushgatewaySink.from_context(ctx).deliver(run_report(ctx), ctx)
