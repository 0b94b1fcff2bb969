"""The package index client against pypiserver (PEP 503 HTML) and a PEP 691 JSON index on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from repo_automation.errors import SourceFailed
from repo_automation.maintenance.buckets import candidates
from repo_automation.package_index import PackageIndex, Release, UnknownProject
from tests.servers import free_port

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
# PEP 691: a project page lists files; "yanked" is false or a reason string (PEP 592)
PROJECT = {"meta": {"api-version": "1.1"}, "name": "demo", "versions": ["1.0.0", "1.1.0", "1.2.0", "2.0.0b1"],
           "files": [
               {"filename": "demo-1.0.0-py3-none-any.whl", "url": "/files/demo-1.0.0-py3-none-any.whl",
                "hashes": {"sha256": "00" * 32}},
               {"filename": "demo-1.1.0-py3-none-any.whl", "url": "/files/demo-1.1.0-py3-none-any.whl",
                "hashes": {"sha256": "11" * 32}, "yanked": False},
               {"filename": "demo-1.2.0-py3-none-any.whl", "url": "/files/demo-1.2.0-py3-none-any.whl",
                "hashes": {"sha256": "22" * 32}, "yanked": "broken wheel"},
               {"filename": "demo-2.0.0b1-py3-none-any.whl", "url": "/files/demo-2.0.0b1-py3-none-any.whl",
                "hashes": {"sha256": "33" * 32}},
           ]}


class _JsonIndex(BaseHTTPRequestHandler):
    """Serves only PEP 691 JSON, and only to clients that ask for it (406 otherwise, like a JSON-only index)."""

    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        if JSON_TYPE not in self.headers.get("Accept", ""):
            self._send(406, "text/plain", b"only PEP 691 JSON here")
        elif self.path.rstrip("/") == "/simple/demo":
            self._send(200, JSON_TYPE, json.dumps(PROJECT).encode())
        else:
            self._send(404, JSON_TYPE, json.dumps({"message": "not found"}).encode())

    def _send(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def json_index() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _JsonIndex)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/simple/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def newest(releases: list[Release], current: str) -> str | None:
    found = candidates(releases, current)
    return found[-1][1].version if found else None


def _index(url: str) -> PackageIndex:
    return PackageIndex(index_url=url, session=requests.Session(), timeout_s=5)


def test_pep691_json_yanked_files_and_prereleases_are_not_candidates(json_index: str) -> None:
    releases = {r.version: r.yanked for r in _index(json_index).releases("Demo")}
    assert releases == {"1.0.0": False, "1.1.0": False, "1.2.0": True, "2.0.0b1": False}
    assert newest(_index(json_index).releases("demo"), "1.0.0") == "1.1.0"
    assert _JsonIndex.seen[-1] == "/simple/demo/"  # the PEP 503 normalised name


def test_pep503_html_from_pypiserver(package_index: str) -> None:
    index = _index(package_index)
    versions = sorted(r.version for r in index.releases("PyParsing"))
    assert versions == ["3.1.2", "3.1.4", "3.2.0rc1"]
    assert newest(index.releases("pyparsing"), "3.1.2") == "3.1.4"
    assert index.requests == 2


def test_hashes_and_upload_times_from_pypiserver(live_index: Any) -> None:
    import hashlib
    from datetime import UTC, datetime

    index = _index(live_index.url)
    [release] = [r for r in index.releases("six") if r.version == "1.17.0"]
    wheel = next(live_index.folder.glob("six-1.17.0-*.whl"))
    assert release.hashes == (hashlib.sha256(wheel.read_bytes()).hexdigest(),)  # to renew --hash pins
    assert release.uploaded is None  # an HTML index does not say: the file's Last-Modified does
    assert index.uploaded(release) == datetime(2024, 1, 15, tzinfo=UTC)


def test_unknown_project_and_unreachable_index_are_reasons_not_tracebacks(package_index: str) -> None:
    with pytest.raises(UnknownProject, match="not-on-this-index: not found on the package index"):
        _index(package_index).releases("not-on-this-index")
    port = free_port()  # a port nobody listens on
    with pytest.raises(SourceFailed, match="did not answer usefully"):
        _index(f"http://127.0.0.1:{port}/simple/").releases("six")
