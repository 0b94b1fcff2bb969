"""A real Pushgateway (Debian package prometheus-pushgateway) and Prometheus on ephemeral 127.0.0.1 ports,
started per test and stopped after it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Server, scraping, start_prometheus, start_pushgateway, stop


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
