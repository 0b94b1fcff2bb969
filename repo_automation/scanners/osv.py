"""Severity for dependency advisories: pip-audit reports none, so we read the advisories' OSV records.

On the same OSV service pip-audit used (the configured mirror, or the public one): one
`POST {base}/v1/query` per vulnerable pin (package and version, as pip-audit asked), whose answer holds the
full records of every advisory for that pin, so a package with five advisories costs one request, not
five. An id that answer does not cover (an id from the PyPI service that OSV files under another name, a
paginated answer) is read on its own with `GET {base}/v1/vulns/{id}`. Requests run concurrently, a bounded
number per run, each answer cached for the run.

The severity is the advisory's `database_specific.severity` (GitHub's words) when present, else the worst
CVSS base score of its `severity` vectors; no data -> Severity.UNKNOWN (policy decides how to treat it).
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from repo_automation.domain import Severity
from repo_automation.scanners.fingerprint import canonical_package
from repo_automation.scanners.normalise import cvss_base_score, severity_from_score, severity_from_word, worst

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

PUBLIC_OSV = "https://api.osv.dev"
USER_AGENT = "repo-automation (security scanning)"

Pin = tuple[str, str]  # (canonical package name, version)


def base_url(url: str | None) -> str:
    """The service root from a pip-audit style query URL (…/v1/query) or a plain base URL."""
    if not url:
        return PUBLIC_OSV
    u = url.rstrip("/")
    for suffix in ("/v1/query", "/v1/querybatch", "/v1"):
        if u.endswith(suffix):
            return u[: -len(suffix)]
    return u


def severity_of(record: Mapping[str, Any]) -> Severity:
    db = record.get("database_specific")
    if isinstance(db, Mapping):
        word = severity_from_word(db.get("severity"))
        if word is not Severity.UNKNOWN:
            return word
    scores = []
    entries = list(record.get("severity") or [])
    for aff in record.get("affected") or []:
        if isinstance(aff, Mapping):
            entries += list(aff.get("severity") or [])
    for entry in entries:
        if isinstance(entry, Mapping) and isinstance(entry.get("score"), str):
            score = cvss_base_score(entry["score"])
            if score is not None:
                scores.append(severity_from_score(score))
    return worst(scores)


@dataclass(kw_only=True)
class OSVSeverity:
    """Looks up advisory severities; one instance per run (its cache is the run's cache)."""

    base: str
    session: requests.Session
    timeout_s: float = 10.0
    max_lookups: int = 300  # requests a run, package queries and single reads together
    workers: int = 8
    _cache: dict[str, Severity] = field(default_factory=dict)  # advisory id -> severity
    _queried: set[Pin] = field(default_factory=set)  # pins whose records were asked for
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _batch_lock: threading.Lock = field(default_factory=threading.Lock)
    _fetched: int = 0  # requests made this run, against max_lookups
    failures: list[str] = field(default_factory=list)

    @classmethod
    def for_url(cls, url: str | None, *, timeout_s: float = 10.0) -> OSVSeverity:
        import requests  # lazily, for start-up time

        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        return cls(base=base_url(url), session=session, timeout_s=timeout_s)

    def severities(self, found: Iterable[tuple[str, str, str]]) -> dict[str, Severity]:
        """Severity of each advisory id in (package, version, id) triples, as pip-audit reported them."""
        found = [(canonical_package(name), version, vid) for name, version, vid in found if vid]
        wanted = list(dict.fromkeys(vid for _, _, vid in found))
        # one caller fetches at a time: in PR mode head and base ask for mostly the same pins at once, and
        # the second then finds them cached instead of fetching them again
        with self._batch_lock:
            with self._lock:
                pins = list(dict.fromkeys((n, v) for n, v, vid in found
                                          if vid not in self._cache and (n, v) not in self._queried))
            self._run(self._query_pin, self._within_budget(pins), "pins")
            with self._lock:
                single = [vid for vid in wanted if vid not in self._cache]
            self._run(self._fetch_one, self._within_budget(single), "advisories")
        with self._lock:
            return {vid: self._cache.get(vid, Severity.UNKNOWN) for vid in wanted}

    def advisories(self, package: str, version: str) -> tuple[str, ...] | None:
        """The ids of the advisories that affect `package` at `version` (one POST /v1/query); None when the
        service did not answer (the failure is kept in `failures`)."""
        body = self._request("POST", "/v1/query", f"{package} {version}",
                             json={"package": {"name": canonical_package(package), "ecosystem": "PyPI"},
                                   "version": version})
        if body is None:
            return None
        return tuple(sorted(str(r["id"]) for r in body.get("vulns") or []
                            if isinstance(r, Mapping) and isinstance(r.get("id"), str)))

    def _within_budget(self, todo: list[Any]) -> list[Any]:
        budget = max(self.max_lookups - self._fetched, 0)
        if len(todo) > budget:
            self._fail(f"{len(todo) - budget} severity look-ups not made (limit {self.max_lookups} a run)")
            todo = todo[:budget]
        self._fetched += len(todo)
        return todo

    def _run(self, job: Any, todo: list[Any], what: str) -> None:
        if not todo:
            return
        log.debug("OSV: reading %d %s", len(todo), what)
        with cf.ThreadPoolExecutor(max_workers=min(self.workers, len(todo)), thread_name_prefix="osv") as pool:
            list(pool.map(job, todo))

    def _query_pin(self, pin: Pin) -> None:
        name, version = pin
        body = self._request("POST", "/v1/query", f"{name} {version}",
                             json={"package": {"name": name, "ecosystem": "PyPI"}, "version": version})
        records = [r for r in (body or {}).get("vulns") or []
                   if isinstance(r, Mapping) and isinstance(r.get("id"), str)]
        with self._lock:
            self._queried.add(pin)
            for record in records:
                self._cache[record["id"]] = severity_of(record)
            # an id pip-audit reported under an alias (the PyPI service's PYSEC id for a GHSA record) is
            # the same advisory: it takes the record's severity unless it has a record of its own
            for record in records:
                for alias in record.get("aliases") or []:
                    if isinstance(alias, str):
                        self._cache.setdefault(alias, self._cache[record["id"]])

    def _fetch_one(self, vuln_id: str) -> None:
        record = self._request("GET", f"/v1/vulns/{quote(vuln_id, safe='')}", vuln_id)
        with self._lock:
            self._cache[vuln_id] = severity_of(record) if record is not None else Severity.UNKNOWN

    def _request(self, method: str, path: str, what: str, **kw: Any) -> Mapping[str, Any] | None:
        import requests  # lazily, for start-up time

        try:
            resp = self.session.request(method, self.base + path, timeout=self.timeout_s, **kw)
        except requests.RequestException as e:
            self._fail(f"{what}: {type(e).__name__}")
            return None
        if resp.status_code != 200:
            self._fail(f"{what}: HTTP {resp.status_code}")
            return None
        try:
            body = resp.json()
        except ValueError:
            self._fail(f"{what}: answer is not JSON")
            return None
        return body if isinstance(body, Mapping) else None

    def _fail(self, text: str) -> None:
        log.debug("OSV lookup failed: %s", text)
        with self._lock:
            self.failures.append(text)
