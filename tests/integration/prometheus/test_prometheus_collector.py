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
from tests.integration.prometheus.conftest import Backfill


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


# --- scope: the application's job, not every target Prometheus scrapes ---------------------------------------

def test_unscoped_built_in_queries_are_not_averaged_over_several_jobs(backfill: Backfill, tmp_path: Path) -> None:
    """A node exporter beside the app: averaging `up` over all three targets would read 96.67 %, not 95 %."""
    url, at = backfill(other_job=True)
    with pytest.raises(SourceSkipped) as err:
        collect(tmp_path, url, at, metrics=["uptime"])
    assert str(err.value) == (
        f"Prometheus at {url} scrapes 2 jobs (app, node): the built-in queries for reliability.uptime would "
        "average them all; set $.tracking.data_sources.prometheus.job (or selector) to the application's")
    got = collect(tmp_path, url, at, metrics=["uptime"], job="app")
    assert got["reliability.uptime"].value == pytest.approx(95.0)
    assert got["reliability.uptime"].metadata["query"] == '100 * avg(avg_over_time(up{job="app"}[7d]))'


def test_a_selector_scopes_every_built_in_query(backfill: Backfill, tmp_path: Path) -> None:
    url, at = backfill(other_job=True)
    got = collect(tmp_path, url, at, selector='job=~"app|none", instance!="zz"')
    assert got["reliability.uptime"].value == pytest.approx(95.0)
    assert got["performance.request_rate"].value == pytest.approx(10.5)
    assert got["performance.response_time_p95"].value == pytest.approx(375.0)
    assert 'http_requests_total{job=~"app|none", instance!="zz", status=~"5.."}' in (
        got["reliability.error_rate"].metadata["query"])


def test_explicit_queries_still_run_when_unscoped_built_ins_cannot(backfill: Backfill, tmp_path: Path) -> None:
    url, at = backfill(other_job=True)
    got = collect(tmp_path, url, at, metrics=["uptime", "request_rate"],
                  queries={"request_rate": 'sum(rate(http_requests_total{job="app"}[5m]))'})
    assert list(got) == ["performance.request_rate"]  # uptime left out rather than averaged over both jobs


def test_a_healthy_service_without_5xx_series_has_error_rate_zero(backfill: Backfill, tmp_path: Path) -> None:
    url, at = backfill(five_xx=False)
    got = collect(tmp_path, url, at, job="app")
    assert got["reliability.error_rate"].value == 0.0
    assert got["performance.request_rate"].value == pytest.approx(10.0)
    # no traffic series at all (another job): no data, not a made-up 0
    with pytest.raises(SourceSkipped, match=r"has no data for .*reliability\.error_rate"):
        collect(tmp_path, url, at, job="shop", metrics=["error_rate", "request_rate"])


# --- auth: secrets named by environment variable, never shown -------------------------------------------------

PASSWORD = "prom-pw-" + "7c1d9e4b"  # assembled, as a real one would never be written in a test's text


def _basic(backfill: Backfill) -> tuple[str, datetime]:
    import bcrypt

    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    return backfill(web_config=f"basic_auth_users:\n  ci: {hashed}\n", credentials=f"ci:{PASSWORD}")


def _collect_env(tmp_path: Path, url: str, at: datetime, env: dict[str, str], **prom: Any) -> dict[str, Any]:
    ctx = make_context(tmp_path, config={"tracking": {"data_sources": {"prometheus": {"endpoint": url, **prom}}}},
                       now=at, env=env)
    return {m.name: m for m in PrometheusCollector.from_context(ctx).collect(ctx)}


def test_basic_auth_from_an_environment_variable(backfill: Backfill, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    url, at = _basic(backfill)
    auth = {"type": "basic", "username": "ci", "password_env": "PROM_PASSWORD"}
    got = _collect_env(tmp_path, url, at, {"PROM_PASSWORD": PASSWORD}, job="app", auth=auth)
    assert got["reliability.uptime"].value == pytest.approx(95.0)
    with pytest.raises(SourceFailed, match=r"refused the credentials \(HTTP 401\); check .*prometheus\.auth"):
        _collect_env(tmp_path, url, at, {"PROM_PASSWORD": "wrong-password"}, job="app", auth=auth)
    with pytest.raises(SourceSkipped, match="needs a password in PROM_PASSWORD, which is not set"):
        _collect_env(tmp_path, url, at, {}, job="app", auth=auth)
    assert PASSWORD not in caplog.text


def test_credentials_in_the_endpoint_work_and_are_never_shown(backfill: Backfill, tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    url, at = _basic(backfill)
    with_userinfo = url.replace("http://", f"http://ci:{PASSWORD}@")
    ctx = make_context(tmp_path, now=at, config={"tracking": {"data_sources": {"prometheus": {
        "endpoint": with_userinfo, "job": "app", "metrics": ["uptime"]}}}})
    collector = PrometheusCollector.from_context(ctx)
    assert collector.collect(ctx)[0].value == pytest.approx(95.0)
    assert PASSWORD not in repr(collector) and collector.endpoint == url
    early = datetime.fromtimestamp(at.timestamp() - 7200, UTC)  # no data then: the reason names the endpoint
    _, _, [result] = measure(Stages(collectors=[collector]), make_context(tmp_path, now=early))
    assert result.status is Status.SKIPPED and url in result.reason and PASSWORD not in result.reason
    assert PASSWORD not in caplog.text


class _BearerProxy:
    """A reverse proxy in front of the real Prometheus that wants `Authorization: Bearer <token>` (401 else),
    as an authenticating proxy or a managed Prometheus does."""

    def __init__(self, upstream: str, token: str) -> None:
        import http.server
        import threading
        import urllib.request

        expected = f"Bearer {token}"
        self.seen: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy.seen.append(self.headers.get("Authorization") or "")
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Bearer realm="prometheus"')
                    self.end_headers()
                    return
                with urllib.request.urlopen(upstream + self.path, timeout=10) as answer:
                    body = answer.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        proxy = self
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_bearer_auth_from_an_environment_variable(backfill: Backfill, tmp_path: Path) -> None:
    url, at = backfill()
    token = "prom-token-" + "0b5e77aa"
    proxy = _BearerProxy(url, token)
    try:
        auth = {"type": "bearer", "token_env": "PROM_TOKEN"}
        got = _collect_env(tmp_path, proxy.url, at, {"PROM_TOKEN": token}, job="app", auth=auth)
        assert got["performance.request_rate"].value == pytest.approx(10.5)
        assert set(proxy.seen) == {f"Bearer {token}"}
        with pytest.raises(SourceFailed, match=r"refused the credentials \(HTTP 401\)"):
            _collect_env(tmp_path, proxy.url, at, {"PROM_TOKEN": "stale"}, job="app", auth=auth)
    finally:
        proxy.close()


@pytest.mark.parametrize(("auth", "problem"), [
    ({"type": "basic", "password_env": "P"}, "'username' is a required property"),
    ({"type": "bearer"}, "'token_env' is a required property"),
    ({"type": "digest"}, "'digest' is not one of ['basic', 'bearer']"),
    ({"type": "bearer", "token": "written-in-the-file"}, "Additional properties are not allowed"),
])
def test_auth_written_wrong_is_a_configuration_error(tmp_path: Path, auth: dict[str, str], problem: str) -> None:
    from repo_automation import config as config_mod

    with pytest.raises(ConfigError) as err:
        config_mod.from_data({"tracking": {"data_sources": {"prometheus": {"endpoint": "http://p:9090",
                                                                           "auth": auth}}}})
    assert any(p.startswith("$.tracking.data_sources.prometheus.auth") and problem in p for p in err.value.problems)
