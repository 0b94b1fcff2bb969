"""PrometheusCollector against a real Prometheus: the built-in PromQL on exact backfilled samples (numbers worked
out by hand in conftest.openmetrics), overrides fed through a real Pushgateway, and every way it goes wrong."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from repo_automation.collectors.prometheus import PrometheusCollector
from repo_automation.domain import Status
from repo_automation.errors import ConfigError, SourceFailed, SourceSkipped
from repo_automation.pipeline import Stages, measure
from tests.helpers import make_context


def collect(tmp_path: Path, endpoint: str | None, at: datetime, **prom: Any) -> dict[str, Any]:
    source: dict[str, Any] = {**prom, **({"endpoint": endpoint} if endpoint else {})}
    ctx = make_context(tmp_path, config={"tracking": {"data_sources": {"prometheus": source}}}, now=at)
    return {m.name: m for m in PrometheusCollector.from_context(ctx).collect(ctx)}


def test_built_in_queries_give_the_numbers_worked_out_by_hand(backfilled_prometheus: tuple[str, datetime],
                                                              tmp_path: Path) -> None:
    url, at = backfilled_prometheus
    got = collect(tmp_path, url, at)
    assert {k: (m.value, m.unit) for k, m in got.items()} == {
        "reliability.uptime": (pytest.approx(95.0), "percent"),
        "performance.request_rate": (pytest.approx(10.5), "requests/s"),
        "reliability.error_rate": (pytest.approx(100 * 0.5 / 10.5), "percent"),
        "performance.response_time_p95": (pytest.approx(375.0), "ms"),
        "performance.response_time_p99": (pytest.approx(475.0), "ms"),
    }
    assert all(m.source == "prometheus" for m in got.values())
    assert got["performance.request_rate"].metadata == {"query": "sum(rate(http_requests_total[5m]))"}


def test_queries_are_evaluated_at_the_run_time(backfilled_prometheus: tuple[str, datetime], tmp_path: Path) -> None:
    url, at = backfilled_prometheus
    # two hours before the samples end there is no data at all: the collector says so instead of inventing it
    early = datetime.fromtimestamp(at.timestamp() - 7200, UTC)
    with pytest.raises(SourceSkipped, match=r"has no data for reliability\.uptime, reliability\.error_rate"):
        collect(tmp_path, url, early)


def test_config_selects_metrics_by_short_name_and_overrides_queries(backfilled_prometheus: tuple[str, datetime],
                                                                   tmp_path: Path) -> None:
    url, at = backfilled_prometheus
    got = collect(tmp_path, url, at, metrics=["application_uptime", "error_rate", "request_rate"],
                  queries={"error_rate": 'sum(rate(http_requests_total{status="500"}[5m]))',
                           "reliability.uptime": 'min(avg_over_time(up[1h])) * 100'})
    assert {k: m.value for k, m in got.items()} == {
        "reliability.uptime": pytest.approx(90.0),  # instance b: 54 of 60 minutes
        "reliability.error_rate": pytest.approx(0.5),
        "performance.request_rate": pytest.approx(10.5),
    }


def test_a_query_without_data_leaves_only_that_metric_out(backfilled_prometheus: tuple[str, datetime],
                                                          tmp_path: Path) -> None:
    url, at = backfilled_prometheus
    got = collect(tmp_path, url, at, metrics=["uptime", "request_rate"],
                  queries={"request_rate": 'sum(rate(http_requests_total{status="404"}[5m]))'})
    assert list(got) == ["reliability.uptime"]


def test_queries_that_give_no_single_number_fail_the_source_naming_each(
        backfilled_prometheus: tuple[str, datetime], tmp_path: Path) -> None:
    url, at = backfilled_prometheus
    with pytest.raises(SourceFailed) as exc:
        collect(tmp_path, url, at, queries={"uptime": "up", "request_rate": "sum(rate(http_requests_total[5m]"})
    message = str(exc.value)
    assert "reliability.uptime (up): the query returned 2 series; aggregate it to one, e.g. sum(...)" in message
    assert "performance.request_rate (sum(rate(http_requests_total[5m]): bad_data: " in message


def test_values_pushed_through_a_pushgateway_are_collected(pushed_prometheus: tuple[str, str],
                                                           tmp_path: Path) -> None:
    prometheus, gateway = pushed_prometheus
    body = ("# TYPE app_availability_ratio gauge\napp_availability_ratio 0.9975\n"
            "# TYPE app_requests_per_second gauge\napp_requests_per_second 12.5\n")
    requests.put(f"{gateway}/metrics/job/app/instance/ci", data=body, timeout=10).raise_for_status()
    _wait_for(prometheus, "app_requests_per_second")
    got = collect(tmp_path, prometheus, datetime.now(UTC), metrics=["uptime", "request_rate"],
                  queries={"uptime": "100 * app_availability_ratio", "request_rate": "app_requests_per_second"})
    assert {k: m.value for k, m in got.items()} == {"reliability.uptime": pytest.approx(99.75),
                                                    "performance.request_rate": pytest.approx(12.5)}
    # the built-in uptime query sees the gateway itself, scraped and up since Prometheus started
    assert collect(tmp_path, prometheus, datetime.now(UTC), metrics=["uptime"])["reliability.uptime"].value == 100.0


def test_prometheus_that_is_down_fails_the_source(tmp_path: Path, unused_port: int) -> None:
    url = f"http://127.0.0.1:{unused_port}"
    ctx = make_context(tmp_path, config={"tracking": {"data_sources": {"prometheus": {"endpoint": url}}}})
    _, _, [result] = measure(Stages(collectors=[PrometheusCollector.from_context(ctx)]), ctx)
    assert result.status is Status.FAILED
    assert result.reason.startswith(f"cannot reach Prometheus at {url}: ")


def test_an_endpoint_that_is_not_prometheus_fails_the_source(pushed_prometheus: tuple[str, str],
                                                             tmp_path: Path) -> None:
    _, gateway = pushed_prometheus  # a real HTTP server without /api/v1/query
    with pytest.raises(SourceFailed, match=f"Prometheus at {gateway} answered HTTP 404"):
        collect(tmp_path, gateway, datetime.now(UTC), metrics=["uptime"])


def test_no_endpoint_or_disabled_is_skipped(tmp_path: Path) -> None:
    with pytest.raises(SourceSkipped, match="no Prometheus endpoint configured"):
        collect(tmp_path, None, datetime.now(UTC))
    with pytest.raises(SourceSkipped, match="disabled"):
        collect(tmp_path, "http://127.0.0.1:9", datetime.now(UTC), enabled=False)


def test_an_unknown_metric_name_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        collect(tmp_path, "http://127.0.0.1:9", datetime.now(UTC), queries={"latency": "x"})
    assert exc.value.problems[0].startswith(
        "$.tracking.data_sources.prometheus.queries.latency: 'latency' is not one of reliability.uptime, ")
    with pytest.raises(ConfigError, match="unknown Prometheus metric"):
        collect(tmp_path, "http://127.0.0.1:9", datetime.now(UTC), metrics=["uptime", "p50"])


def _wait_for(prometheus: str, series: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = requests.get(f"{prometheus}/api/v1/query", params={"query": series}, timeout=5).json()
        if answer["data"]["result"]:
            return
        time.sleep(0.25)
    raise AssertionError(f"{series} was not scraped from the Pushgateway within {timeout_s:.0f}s")


def test_every_metric_is_in_the_catalogue_with_its_unit(backfilled_prometheus: tuple[str, datetime],
                                                        tmp_path: Path) -> None:
    from repo_automation.catalogue import info

    url, at = backfilled_prometheus
    got = collect(tmp_path, url, at)
    assert len(got) == 5
    for name, metric in got.items():
        entry = info(name)
        assert entry is not None, name
        assert metric.unit == entry.unit, name
