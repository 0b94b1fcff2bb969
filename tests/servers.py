"""Real server processes for the tests: a free 127.0.0.1 port, a process started with its output in a log file
and waited on until it answers HTTP 200, and stopping it (terminate, then kill); and `InProcess`, a local
HTTP server in a thread for the stand-ins of services that cannot run here (Slack, PagerDuty, webhooks)."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

STARTUP_S = 20.0
STOP_S = 10.0


def free_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True, slots=True, kw_only=True)
class Server:
    proc: subprocess.Popen[bytes]
    ready_url: str
    log: Path

    @property
    def url(self) -> str:
        """The server's origin, e.g. http://127.0.0.1:9091."""
        parts = urlsplit(self.ready_url)  # without the user:password@ a ready URL may carry
        return f"{parts.scheme}://{parts.hostname}:{parts.port}"


def start_process(argv: list[str], ready_url: str, log: Path, timeout: float = STARTUP_S) -> Server:
    """Start argv (stdout and stderr into `log`: a pipe nobody reads could fill and stall it) and wait until
    `ready_url` answers 200. A process that exits or is not ready in time is stopped and reported with its log."""
    import requests

    with log.open("wb") as out:
        server = Server(proc=subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT), ready_url=ready_url,
                        log=log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{argv[0]} exited with {server.proc.returncode}: {_tail(log)}")
        try:
            if requests.get(ready_url, timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.1)
    stop(server)
    raise RuntimeError(f"{argv[0]} was not ready within {timeout:.0f}s: {_tail(log)}")


def stop(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=STOP_S)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(timeout=STOP_S)


@contextmanager
def running(argv: list[str], ready_url: str, log: Path, timeout: float = STARTUP_S) -> Iterator[Server]:
    """start_process(...) for the length of a with-block, stopped however the block ends."""
    server = start_process(argv, ready_url, log, timeout)
    try:
        yield server
    finally:
        stop(server)


def start_pushgateway(folder: Path) -> Server:
    """A Pushgateway (Debian package prometheus-pushgateway) with its own persistence file in `folder`: Debian's
    default, /var/lib/prometheus/pushgateway.data, is shared by every gateway on the machine and reloaded at start."""
    port = free_port()
    return start_process(["prometheus-pushgateway", f"--web.listen-address=127.0.0.1:{port}",
                          f"--persistence.file={folder / 'pushgateway.data'}"], f"http://127.0.0.1:{port}/-/ready",
                         folder / "pushgateway.log")


def start_prometheus(folder: Path, scrape_configs: str = "", *, web_config: str = "",
                     credentials: str = "") -> Server:
    """A Prometheus 2.x with its config, TSDB and log in `folder`, evaluating every second. `web_config` is a
    web configuration file's YAML (e.g. basic_auth_users); `credentials` (user:password) is what the readiness
    check then authenticates with."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n" + scrape_configs)
    port = free_port()
    argv = ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={folder / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}"]
    if web_config:
        (folder / "web.yml").write_text(web_config)
        argv.append(f"--web.config.file={folder / 'web.yml'}")
    userinfo = f"{credentials}@" if credentials else ""
    return start_process(argv, f"http://{userinfo}127.0.0.1:{port}/-/ready", folder / "prometheus.log")


def scraping(gateway: Server) -> str:
    """scrape_configs for a Prometheus that scrapes `gateway` every second, honouring the pushed labels."""
    return ("scrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n"
            f"    static_configs:\n      - targets: ['{urlsplit(gateway.url).netloc}']\n")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def reply(handler: BaseHTTPRequestHandler, status: int, answer: str, headers: Mapping[str, str],
          content_type: str) -> None:
    """Send one whole response from an http.server handler."""
    data = answer.encode()
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    for k, v in headers.items():
        handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class InProcess:
    """An http.server handler served on 127.0.0.1 (a free port) from a thread of the test process."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
