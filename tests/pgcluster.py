"""A PostgreSQL cluster of the test's own (initdb + pg_ctl on a free port, as ../shared/ENVIRONMENT.md shows),
so that a test can really stop it and start it again; and a TCP proxy in front of a server that the test can
make cut the connection in the middle of a write."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.servers import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
TIMEOUT_S = 60


def _as_postgres(*argv: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True, timeout=TIMEOUT_S)


class Cluster:
    """A stopped-or-running cluster in `root` (owned by postgres), listening on 127.0.0.1:`port`."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        self.data = root / "data"

    def url(self, port: int | None = None) -> str:
        return f"postgresql://postgres@127.0.0.1:{port or self.port}/postgres?sslmode=disable"

    def start(self) -> None:
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-o",
                     f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off", "-w", "start")

    def stop(self) -> None:
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextmanager
def cluster() -> Iterator[Cluster]:
    """A new cluster, started; stopped and removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="ra-pgcluster-"))
    shutil.chown(root, "postgres", "postgres")
    root.chmod(0o755)
    c = Cluster(root, free_port())
    try:
        _as_postgres(str(BIN / "initdb"), "-D", str(c.data), "-A", "trust", "-U", "postgres")
        c.start()
        yield c
    finally:
        if c.running:
            with suppress(subprocess.SubprocessError):
                c.stop()
        shutil.rmtree(root, ignore_errors=True)


class CuttingProxy:
    """Forwards 127.0.0.1:`port` to `upstream`. Armed with a marker, it cuts a connection (closes both ends,
    forwarding nothing more) at the first client packet after one that contains the marker: with b"COPY ",
    after the COPY statement went through and before its data or the commit reach the server."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.marker: bytes | None = None
        self.cuts = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self._server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=TIMEOUT_S)
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, from_client: bool) -> None:
        seen = False
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if from_client and self.marker is not None:
                    if seen:
                        self.cuts += 1
                        break
                    seen = self.marker in data
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(timeout=5)
