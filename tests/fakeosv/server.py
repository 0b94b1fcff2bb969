"""An OSV-compatible vulnerability server on 127.0.0.1, for pip-audit and our severity enrichment.

Follows the documented OSV API (https://google.github.io/osv.dev/api/):
- POST /v1/query        {"package": {"name", "ecosystem"}, "version"}  -> {"vulns": [full records]} or {}
- POST /v1/querybatch   {"queries": [query, ...]}                      -> {"results": [{"vulns": [{id, modified}]}]}
- GET  /v1/vulns/{id}                                                  -> the record, or 404
Like the real service it rejects what it cannot answer: a body that is not JSON, a query without a package,
a query with both `version` and `commit`, more than 1000 batch queries, unknown paths and methods.

Version matching is the OSV rule: a version is affected when it is listed in `versions` or falls inside an
ECOSYSTEM range (introduced <= v < fixed, or <= last_affected), compared with PEP 440 via `packaging`.
Package names compare in PEP 503 normal form, as OSV does for PyPI.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

DATA = Path(__file__).resolve().parents[1] / "data" / "osv" / "pypa-advisories.jsonl"
MAX_BATCH = 1000


def load_records(path: Path = DATA) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        return [json.loads(line) for line in fh if line.strip()]


def _in_range(events: list[dict[str, str]], version: Version) -> bool:
    introduced: Version | None = None
    for ev in sorted_events(events):
        if "introduced" in ev:
            introduced = Version("0") if ev["introduced"] == "0" else Version(ev["introduced"])
        elif "fixed" in ev and introduced is not None:
            if introduced <= version < Version(ev["fixed"]):
                return True
            introduced = None
        elif "last_affected" in ev and introduced is not None:
            if introduced <= version <= Version(ev["last_affected"]):
                return True
            introduced = None
        elif "limit" in ev and introduced is not None and version >= Version(ev["limit"]):
            introduced = None
    return introduced is not None and version >= introduced


def sorted_events(events: list[dict[str, str]]) -> list[dict[str, str]]:
    """OSV does not promise order: sort events by their version (introduced before fixed on a tie)."""
    def key(ev: dict[str, str]) -> tuple[Version, int]:
        kind, raw = next(iter(ev.items()))
        return (Version("0") if raw == "0" else Version(raw), 0 if kind == "introduced" else 1)
    try:
        return sorted(events, key=key)
    except InvalidVersion:
        return events


def affects(record: dict[str, Any], name: str, version: str) -> bool:
    wanted = canonicalize_name(name)
    for aff in record.get("affected", []):
        pkg = aff.get("package", {})
        if pkg.get("ecosystem") != "PyPI" or canonicalize_name(pkg.get("name", "")) != wanted:
            continue
        if version in aff.get("versions", []):
            return True
        try:
            parsed = Version(version)
        except InvalidVersion:
            continue
        for rng in aff.get("ranges", []):
            if rng.get("type") == "ECOSYSTEM" and _in_range(rng.get("events", []), parsed):
                return True
    return False


class BadRequest(Exception):
    pass


@dataclass
class OSVIndex:
    records: list[dict[str, Any]]
    by_id: dict[str, dict[str, Any]] = field(init=False)
    by_package: dict[str, list[dict[str, Any]]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {r["id"]: r for r in self.records}
        self.by_package = {}
        for r in self.records:
            names = {canonicalize_name(a["package"]["name"]) for a in r.get("affected", [])
                     if a.get("package", {}).get("ecosystem") == "PyPI"}
            for n in names:
                self.by_package.setdefault(n, []).append(r)

    def query(self, q: Any) -> list[dict[str, Any]]:
        if not isinstance(q, dict):
            raise BadRequest("query must be a JSON object")
        if "version" in q and "commit" in q:
            raise BadRequest("Only one of version or commit may be specified")
        if "commit" in q:
            return []  # no GIT ranges are served: a commit never matches here
        pkg = q.get("package")
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str) or not pkg.get("name"):
            raise BadRequest("Invalid query: package name is required")
        if pkg.get("ecosystem") not in (None, "PyPI"):
            return []
        version = q.get("version")
        candidates = self.by_package.get(canonicalize_name(pkg["name"]), [])
        if version is None:
            return list(candidates)
        if not isinstance(version, str):
            raise BadRequest("version must be a string")
        return [r for r in candidates if affects(r, pkg["name"], version)]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as the real service: clients reuse their connections
    _raw: bytes = b""
    timeout = 5  # an idle kept-alive connection is closed after 5 s, so no handler outlives a test for long

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        try:
            return json.loads(self._raw or b"null")
        except json.JSONDecodeError as e:
            raise BadRequest(f"Invalid JSON: {e}") from e

    def do_POST(self) -> None:
        self.server.record(self.command, self.path, self.headers.get("User-Agent", ""))
        # read the whole body first, whatever the path: the connection is kept alive for the next request
        self._raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            if self.path == "/v1/query":
                body = self._body()
                self.server.record_query(body, self.headers.get("User-Agent", ""))
                vulns = self.server.index.query(body)
                self._send(200, {"vulns": vulns} if vulns else {})
            elif self.path == "/v1/querybatch":
                body = self._body()
                queries = body.get("queries") if isinstance(body, dict) else None
                if not isinstance(queries, list):
                    raise BadRequest("queries must be a list")
                if len(queries) > MAX_BATCH:
                    raise BadRequest(f"Too many queries: at most {MAX_BATCH}")
                results = []
                for q in queries:
                    vulns = [{"id": r["id"], "modified": r.get("modified", "")} for r in self.server.index.query(q)]
                    results.append({"vulns": vulns} if vulns else {})
                self._send(200, {"results": results})
            else:
                self._send(404, {"code": 5, "message": "Not Found"})
        except BadRequest as e:
            self._send(400, {"code": 3, "message": str(e)})

    def do_GET(self) -> None:
        self.server.record(self.command, self.path, self.headers.get("User-Agent", ""))
        prefix = "/v1/vulns/"
        if self.path.startswith(prefix) and len(self.path) > len(prefix):
            record = self.server.index.by_id.get(self.path[len(prefix):])
            if record is None:
                self._send(404, {"code": 5, "message": "Bug not found."})
            else:
                self._send(200, record)
        else:
            self._send(404, {"code": 5, "message": "Not Found"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, index: OSVIndex) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.index = index
        self.requests: list[tuple[str, str]] = []
        self.agents: list[str] = []  # the User-Agent of each request, in the same order
        self.queries: list[tuple[str, str, str]] = []  # (package name, version, User-Agent) of each POST /v1/query
        self._lock = threading.Lock()

    def record(self, method: str, path: str, agent: str) -> None:
        with self._lock:
            self.requests.append((method, path))
            self.agents.append(agent)

    def record_query(self, body: Any, agent: str) -> None:
        pkg = body.get("package") if isinstance(body, dict) else None
        if isinstance(pkg, dict):
            with self._lock:
                self.queries.append((str(pkg.get("name", "")), str(body.get("version", "")), agent))


class FakeOSV:
    """The server, running in a thread. Use as a context manager; `url` is the base (no /v1)."""

    def __init__(self, records: Iterable[dict[str, Any]] | None = None) -> None:
        self._server = _Server(OSVIndex(list(records) if records is not None else load_records()))
        self._thread = threading.Thread(target=self._server.serve_forever, name="fakeosv", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def query_url(self) -> str:
        return self.url + "/v1/query"

    @property
    def requests(self) -> list[tuple[str, str]]:
        return list(self._server.requests)

    def requests_from(self, agent_prefix: str, *, others: bool = False) -> list[tuple[str, str]]:
        """The requests whose User-Agent starts with `agent_prefix` (or, with others=True, those whose does not)."""
        return [r for r, a in zip(self._server.requests, self._server.agents, strict=True)
                if a.startswith(agent_prefix) != others]

    @property
    def queries(self) -> list[tuple[str, str]]:
        """(package, version) of every single query: which pins a client asked about."""
        return [(name, version) for name, version, _ in self._server.queries]

    def queries_from(self, agent_prefix: str, *, others: bool = False) -> list[tuple[str, str]]:
        """(package, version) of the queries whose User-Agent starts with `agent_prefix` (others=True: does not)."""
        return [(name, version) for name, version, agent in self._server.queries
                if agent.startswith(agent_prefix) != others]

    def update(self, records: Iterable[dict[str, Any]]) -> None:
        """Serve these records from now on (an advisory revised upstream: a new `modified`, a new severity)."""
        self._server.index = OSVIndex(list(records))

    def start(self) -> FakeOSV:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOSV:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(records: Iterable[dict[str, Any]] | None = None) -> Iterator[FakeOSV]:
    """A generator for pytest fixtures: yields a started server and stops it afterwards."""
    with FakeOSV(records) as srv:
        yield srv


def main() -> None:
    """`python -m tests.fakeosv [--records FILE]`: serve in this process, print the URL, run until killed.

    The benchmark runs the server in its own process, as the real service is: it must not share our GIL.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=Path, default=DATA, help="OSV records, JSON lines (.gz allowed)")
    args = parser.parse_args()
    server = _Server(OSVIndex(load_records(args.records)))
    host, port = server.server_address[:2]
    print(f"http://{host!s}:{port}", flush=True)
    sys.stdout.close()
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
