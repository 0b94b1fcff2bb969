"""Severity for dependency advisories: pip-audit reports none, so we read the advisories' OSV records.

On the same OSV service pip-audit used (the configured mirror, or the public one): one
`POST {base}/v1/query` per vulnerable pin (package and version, as pip-audit asked), whose answer holds the
full records of every advisory for that pin, so a package with five advisories costs one request, not
five. An id that answer does not cover (an id from the PyPI service that OSV files under another name, a
paginated answer) is read on its own with `GET {base}/v1/vulns/{id}`. Requests run concurrently, a bounded
number per run, each answer cached for the run.

The severity is the advisory's `database_specific.severity` (GitHub's words) when present, else the worst
CVSS base score of its `severity` vectors; no data -> Severity.UNKNOWN (policy decides how to treat it).

Across runs (`SeverityStore`, `.repo-automation/osv-severities.json` in the workspace; keep it with
actions/cache like the ETag cache): each advisory's severity is kept with its record's `modified` time.
When the store holds anything, the run first asks `POST {base}/v1/querybatch` for every pin at once (one
request for up to 1000 pins; the answer is each pin's advisory ids and `modified` times only), and a pin
whose every advisory is stored unmodified takes the stored severities. Only the others are queried as
above, so a warm run costs one request, and an advisory that changed is read again. A dry run reads the
store and never writes it.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from repo_automation.domain import Severity
from repo_automation.fileio import write_atomic
from repo_automation.scanners.fingerprint import canonical_package
from repo_automation.scanners.normalise import cvss_base_score, severity_from_score, severity_from_word, worst

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

PUBLIC_OSV = "https://api.osv.dev"
USER_AGENT = "repo-automation (security scanning)"

Pin = tuple[str, str]  # (canonical package name, version)
STORE_PATH = Path(".repo-automation/osv-severities.json")  # relative to the workspace
STORE_VERSION = 1
STORE_MAX = 20_000  # advisories kept (the PyPA database holds about 3,000)
BATCH_MAX = 1000  # queries in one /v1/querybatch request (the service's own limit)


@dataclass(frozen=True, slots=True)
class Stored:
    """One advisory as a run saw it: its severity, its record's `modified` time and its aliases."""

    severity: Severity
    modified: str
    aliases: tuple[str, ...] = ()


@dataclass(kw_only=True)
class SeverityStore:
    """Advisory severities kept between runs, for one OSV service; a file that cannot be read is empty."""

    path: Path
    service: str
    read_only: bool = False

    def load(self) -> dict[str, Stored]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            log.warning("OSV severity store %s is unreadable (%s); starting afresh", self.path, e)
            return {}
        if not isinstance(doc, dict) or doc.get("version") != STORE_VERSION or doc.get("service") != self.service:
            return {}  # another format or another service: its answers are not this one's
        advisories = doc.get("advisories")
        out: dict[str, Stored] = {}
        for vid, entry in (advisories.items() if isinstance(advisories, dict) else ()):
            try:
                out[str(vid)] = Stored(Severity(entry["severity"]), str(entry["modified"]),
                                       tuple(str(a) for a in entry.get("aliases") or ()))
            except (AttributeError, KeyError, TypeError, ValueError):
                continue  # an entry this version cannot read is read again from the service
        return out

    def save(self, entries: Mapping[str, Stored]) -> None:
        if self.read_only:
            return
        kept = dict(sorted(entries.items(), key=lambda kv: kv[1].modified, reverse=True)[:STORE_MAX])
        doc = {"version": STORE_VERSION, "service": self.service, "advisories": {
            vid: {"severity": e.severity.value, "modified": e.modified, "aliases": list(e.aliases)}
            for vid, e in sorted(kept.items())}}
        try:
            write_atomic(self.path, json.dumps(doc, indent=1, sort_keys=True) + "\n")
        except OSError as e:
            log.warning("could not write the OSV severity store %s: %s", self.path, e)


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
    store: SeverityStore | None = None  # severities kept between runs; None: this run's alone
    _stored: dict[str, Stored] | None = None  # the store as loaded, with what this run read added
    _cache: dict[str, Severity] = field(default_factory=dict)  # advisory id -> severity
    _queried: set[Pin] = field(default_factory=set)  # pins whose records were asked for
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _batch_lock: threading.Lock = field(default_factory=threading.Lock)
    _fetched: int = 0  # requests made this run, against max_lookups
    failures: list[str] = field(default_factory=list)

    @classmethod
    def for_url(cls, url: str | None, *, timeout_s: float = 10.0, store_path: Path | None = None,
                read_only: bool = False) -> OSVSeverity:
        """The lookups for the service of `url`; with `store_path`, severities are kept there between runs."""
        import requests  # lazily, for start-up time

        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        base = base_url(url)
        store = SeverityStore(path=store_path, service=base, read_only=read_only) if store_path else None
        return cls(base=base, session=session, timeout_s=timeout_s, store=store)

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
            pins = self._from_store(pins)
            self._run(self._query_pin, self._within_budget(pins), "pins")
            with self._lock:
                single = [vid for vid in wanted if vid not in self._cache]
            self._run(self._fetch_one, self._within_budget(single), "advisories")
            if self.store is not None and self._stored is not None and (pins or single):
                self.store.save(self._stored)
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
    def _from_store(self, pins: list[Pin]) -> list[Pin]:
        """The pins the store cannot answer: those of an advisory it lacks or that was modified since."""
        if self.store is None:
            return pins
        if self._stored is None:
            self._stored = self.store.load()
        if not pins or not self._stored:
            return pins  # a first run: the pins' own queries bring the full records anyway
        left: list[Pin] = []
        for start in range(0, len(pins), BATCH_MAX):
            chunk = pins[start:start + BATCH_MAX]
            answers = self._batch(chunk)
            for pin, answer in zip(chunk, answers or [None] * len(chunk), strict=True):
                if answer is None or not self._take_stored(pin, answer):
                    left.append(pin)
        return left

    def _batch(self, pins: list[Pin]) -> list[Mapping[str, Any] | None] | None:
        """`/v1/querybatch` for `pins`: each pin's answer ({"vulns": [{"id", "modified"}]}), in order."""
        if not self._within_budget([pins]):
            return None
        queries = [{"package": {"name": name, "ecosystem": "PyPI"}, "version": version} for name, version in pins]
        body = self._request("POST", "/v1/querybatch", f"{len(pins)} pins at once", json={"queries": queries})
        results = (body or {}).get("results")
        if not isinstance(results, list) or len(results) != len(pins):
            return None
        return [r if isinstance(r, Mapping) else None for r in results]

    def _take_stored(self, pin: Pin, answer: Mapping[str, Any]) -> bool:
        """The pin's severities from the store, when every advisory of its answer is stored unmodified."""
        fresh = self._fresh(answer)
        if fresh is None:
            return False
        with self._lock:
            self._queried.add(pin)
            for vid, entry in fresh:
                self._cache[vid] = entry.severity
            for _, entry in fresh:
                for alias in entry.aliases:
                    self._cache.setdefault(alias, entry.severity)
        return True

    def _fresh(self, answer: Mapping[str, Any]) -> list[tuple[str, Stored]] | None:
        """(id, stored entry) of each advisory in a batch answer; None when one is missing or was modified."""
        if answer.get("next_page_token") or self._stored is None:
            return None  # more advisories than one answer holds: the pin's own query reads them all
        out = []
        for v in answer.get("vulns") or []:
            vid = v.get("id") if isinstance(v, Mapping) else None
            entry = self._stored.get(vid) if isinstance(vid, str) else None
            if entry is None or entry.modified != str(v.get("modified") or ""):
                return None
            out.append((str(vid), entry))
        return out

    def _remember(self, record: Mapping[str, Any], severity: Severity) -> None:
        """Keep a record's severity for the next run (with the lock held)."""
        if self._stored is not None and isinstance(record.get("modified"), str):
            aliases = tuple(a for a in record.get("aliases") or () if isinstance(a, str))
            self._stored[record["id"]] = Stored(severity, record["modified"], aliases)

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
                self._remember(record, self._cache[record["id"]])
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
            if record is not None and record.get("id") == vuln_id:
                self._remember(record, self._cache[vuln_id])

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
