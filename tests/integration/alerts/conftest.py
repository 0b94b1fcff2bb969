"""A real Pushgateway (Debian package prometheus-pushgateway) and Prometheus on ephemeral 127.0.0.1 ports,
started per test and stopped after it."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

STARTUP_S = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(argv: list[str], base: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{argv[0]} exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"{base}/-/ready", timeout=1).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.1)
    stop(proc)
    raise RuntimeError(f"{argv[0]} was not ready within {STARTUP_S:.0f}s: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def pushgateway(tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty Pushgateway. Debian's build persists to /var/lib/prometheus/pushgateway.data by
    default (shared by every gateway on the machine, restored at start): each test gets its own file."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(["prometheus-pushgateway", f"--web.listen-address=127.0.0.1:{port}",
                  f"--persistence.file={tmp_path / 'pushgateway.data'}"], base, tmp_path / "pushgateway.log")
    try:
        yield base
    finally:
        stop(proc)


@pytest.fixture
def prometheus_scraping(tmp_path: Path, pushgateway: str) -> Iterator[str]:
    """The URL of a Prometheus that scrapes `pushgateway` every second, honouring the pushed labels."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    config = folder / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                      "scrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n"
                      f"    static_configs:\n      - targets: ['{pushgateway.removeprefix('http://')}']\n")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={folder / 'tsdb'}",
                  f"--web.listen-address=127.0.0.1:{port}"], base, folder / "prometheus.log")
    try:
        yield base
    finally:
        stop(proc)
