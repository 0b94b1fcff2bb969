"""Severity for dependency advisories: pip-audit reports none, so we read the OSV record of each id.

`GET {base}/v1/vulns/{id}` on the same OSV service pip-audit used (the configured mirror, or the public
one), concurrently, a bounded number per run, each answer cached for the run. The severity is the
advisory's `database_specific.severity` (GitHub's words) when present, else the worst CVSS base score of
its `severity` vectors; no data -> Severity.UNKNOWN (policy decides how to treat it).
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from repo_automation.domain import Severity
from repo_automation.scanners.normalise import cvss_base_score, severity_from_score, severity_from_word, worst

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

PUBLIC_OSV = "https://api.osv.dev"
USER_AGENT = "repo-automation (security scanning)"


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
    max_lookups: int = 300
    workers: int = 8
    _cache: dict[str, Severity] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _batch_lock: threading.Lock = field(default_factory=threading.Lock)
    _fetched: int = 0  # lookups made this run, against max_lookups
    failures: list[str] = field(default_factory=list)

    @classmethod
    def for_url(cls, url: str | None, *, timeout_s: float = 10.0) -> OSVSeverity:
        import requests

        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        return cls(base=base_url(url), session=session, timeout_s=timeout_s)

    def lookup_all(self, ids: Iterable[str]) -> dict[str, Severity]:
        wanted = list(dict.fromkeys(i for i in ids if i))
        # one caller fetches at a time: in PR mode head and base ask for mostly the same ids at once, and
        # the second then finds them cached instead of fetching them again
        with self._batch_lock:
            with self._lock:
                todo = [i for i in wanted if i not in self._cache]
            budget = self.max_lookups - self._fetched
            if len(todo) > budget:
                self._fail(f"{len(todo) - max(budget, 0)} advisories not looked up (limit {self.max_lookups} a run)")
                todo = todo[: max(budget, 0)]
            if todo:
                self._fetched += len(todo)
                with cf.ThreadPoolExecutor(max_workers=min(self.workers, len(todo)), thread_name_prefix="osv") as pool:
                    for vid, sev in zip(todo, pool.map(self._fetch, todo), strict=True):
                        with self._lock:
                            self._cache[vid] = sev
        with self._lock:
            return {i: self._cache.get(i, Severity.UNKNOWN) for i in wanted}

    def _fetch(self, vuln_id: str) -> Severity:
        from urllib.parse import quote

        import requests

        url = f"{self.base}/v1/vulns/{quote(vuln_id, safe='')}"
        try:
            resp = self.session.get(url, timeout=self.timeout_s)
        except requests.RequestException as e:
            self._fail(f"{vuln_id}: {type(e).__name__}")
            return Severity.UNKNOWN
        if resp.status_code != 200:
            self._fail(f"{vuln_id}: HTTP {resp.status_code}")
            return Severity.UNKNOWN
        try:
            record = resp.json()
        except ValueError:
            self._fail(f"{vuln_id}: answer is not JSON")
            return Severity.UNKNOWN
        return severity_of(record) if isinstance(record, Mapping) else Severity.UNKNOWN

    def _fail(self, text: str) -> None:
        log.debug("OSV lookup failed: %s", text)
        with self._lock:
            self.failures.append(text)
