"""Real Prometheus 2.x and Pushgateway servers on ephemeral 127.0.0.1 ports (Debian packages `prometheus`,
`prometheus-pushgateway`), started per test and stopped after it.

`backfilled_prometheus` serves exact samples written with `promtool tsdb create-blocks-from openmetrics`, so
rates and quantiles can be checked by hand; `pushed_prometheus` scrapes a Pushgateway every second, the way a
CI job hands numbers to Prometheus.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.servers import Server, free_port, scraping, start_prometheus, start_pushgateway, stop


@pytest.fixture
def pushgateway_server(tmp_path: Path) -> Iterator[Server]:
    """A fresh, empty Pushgateway with a persistence file of its own."""
    server = start_pushgateway(tmp_path)
    try:
        yield server
    finally:
        stop(server)


@pytest.fixture
def pushgateway(pushgateway_server: Server) -> str:
    """The URL of a fresh, empty Pushgateway."""
    return pushgateway_server.url


@pytest.fixture
def prometheus_scraping(tmp_path: Path, pushgateway_server: Server) -> Iterator[str]:
    """The URL of a Prometheus that scrapes `pushgateway` every second, honouring the pushed labels."""
    server = start_prometheus(tmp_path / "prometheus", scraping(pushgateway_server))
    try:
        yield server.url
    finally:
        stop(server)



@pytest.fixture
def unused_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    return free_port()


def openmetrics(at: int, *, five_xx: bool = True, other_job: bool = False) -> str:
    """Samples ending at epoch `at`, one a minute, all of job "app". By hand, at `at`:

    up: instance a up for all 60 minutes, b down for the first 6 → mean 0.95 → uptime 95 %.
    http_requests_total: 200s grow 600 a minute (10/s), 500s 30 a minute (0.5/s) → 10.5 req/s, errors 0.5/10.5.
    latency histogram, per minute 60 requests: 30 ≤ 0.1 s, 54 ≤ 0.25 s, 60 ≤ 0.5 s → p95 = 0.25 + 0.25 * (0.95 -
    0.9)/(1 - 0.9) = 0.375 s, p99 = 0.25 + 0.25 * 0.9 = 0.475 s.
    five_xx=False: no 500 series at all (a healthy service) → 10 req/s, error rate 0.
    other_job=True: a second job "node" with one target up all along, as a node exporter beside the app → the
    mean over every target would be (1 + 0.9 + 1) / 3 = 96.67 %, not the app's 95 %.
    """
    lines = ["# TYPE up gauge"]
    targets = [("app", "a", 0), ("app", "b", 6)] + ([("node", "n", 0)] if other_job else [])
    for job, instance, down in targets:
        lines += [f'up{{job="{job}",instance="{instance}"}} {0 if i < down else 1} {at - (59 - i) * 60}'
                  for i in range(60)]
    lines.append("# TYPE http_requests counter")
    for status, per_minute in (("200", 600), ("500", 30))[: 2 if five_xx else 1]:
        lines += [f'http_requests_total{{job="app",status="{status}"}} {100000 + i * per_minute} {at - (30 - i) * 60}'
                  for i in range(31)]
    lines.append("# TYPE http_request_duration_seconds histogram")
    for i in range(31):
        ts = at - (30 - i) * 60
        for le, per_minute in (("0.1", 30), ("0.25", 54), ("0.5", 60), ("+Inf", 60)):
            lines.append(f'http_request_duration_seconds_bucket{{job="app",le="{le}"}} {50000 + i * per_minute} {ts}')
        lines.append(f'http_request_duration_seconds_count{{job="app"}} {50000 + i * 60} {ts}')
        lines.append(f'http_request_duration_seconds_sum{{job="app"}} {1000 + i * 12.0} {ts}')
    return "\n".join([*lines, "# EOF", ""])


Backfill = Callable[..., tuple[str, datetime]]


@pytest.fixture
def backfill(tmp_path: Path) -> Iterator[Backfill]:
    """backfill(**openmetrics options, web_config=YAML) -> (URL, the instant the samples end at): a Prometheus
    serving those exact samples and scraping nothing; each call starts one, all stopped after the test."""
    started: list[Server] = []

    def start(*, web_config: str = "", credentials: str = "", **options: bool) -> tuple[str, datetime]:
        at = int(time.time()) // 60 * 60 - 600  # recent, so within the default retention
        folder = tmp_path / f"prometheus-{len(started)}"
        folder.mkdir()
        (folder / "data.om").write_text(openmetrics(at, **options))
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(folder / "data.om"),
                        str(folder / "tsdb")], check=True, capture_output=True, timeout=60)
        server = start_prometheus(folder, web_config=web_config, credentials=credentials)
        started.append(server)
        return server.url, datetime.fromtimestamp(at, UTC)

    try:
        yield start
    finally:
        for server in started:
            stop(server)


@pytest.fixture
def backfilled_prometheus(backfill: Backfill) -> tuple[str, datetime]:
    """(URL, the instant the samples end at): a Prometheus serving `openmetrics(at)`, scraping nothing."""
    return backfill()


@pytest.fixture
def pushed_prometheus(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(Prometheus URL, Pushgateway URL): Prometheus scrapes the gateway every second, honouring its labels."""
    gateway = start_pushgateway(tmp_path)
    try:
        prometheus = start_prometheus(tmp_path / "prometheus", scraping(gateway))
        try:
            yield prometheus.url, gateway.url
        finally:
            stop(prometheus)
    finally:
        stop(gateway)
