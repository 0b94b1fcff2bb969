"""The ETag cache: conditional REST reads between runs, so a warm rerun pays 0 REST points.

A GET answered 304 Not Modified costs no rate-limit points and the cached body is used instead. Entries are
keyed by the request URL (query string included, sorted) and keep the ETag and the JSON body.

Two stores:
- a JSON file (settings.etag_cache, relative to the workspace; keep it between runs with actions/cache),
  written atomically (temporary file + rename); a corrupt or unreadable file is ignored with a warning;
- Redis when settings.redis_url is set (redis-py, imported lazily), entries expire after 30 days.

Dry runs: the cache is read but never written. A dry run promises to write nothing outside the output
folder, and the price is small (the next run pays the few REST points once).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repo_automation.errors import UsageError
from repo_automation.fileio import make_folder

if TYPE_CHECKING:
    from repo_automation.settings import Settings

log = logging.getLogger(__name__)

FILE_FORMAT_VERSION = 1
MAX_FILE_ENTRIES = 500  # the oldest entries are dropped beyond this
REDIS_TTL_S = 30 * 24 * 3600
DEFAULT_REDIS_PREFIX = "repo-automation:etag:"


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedResponse:
    etag: str
    body: Any
    link: str | None = None  # the Link header (pagination) of the cached answer


class EtagCache(ABC):
    """Where ETags and bodies live between runs. `read_only` caches never store (dry runs)."""

    read_only: bool = False

    @abstractmethod
    def get(self, key: str) -> CachedResponse | None: ...

    @abstractmethod
    def _store(self, key: str, entry: CachedResponse) -> None: ...

    def put(self, key: str, entry: CachedResponse) -> None:
        if not self.read_only:
            self._store(key, entry)

    def flush(self) -> None:  # noqa: B027 — a no-op default: stores that write through need nothing
        """Persist what was stored (no-op for stores that write through)."""


class MemoryEtagCache(EtagCache):
    """Within one process only (no persistence): the default when no cache is configured."""

    def __init__(self) -> None:
        self._entries: dict[str, CachedResponse] = {}

    def get(self, key: str) -> CachedResponse | None:
        return self._entries.get(key)

    def _store(self, key: str, entry: CachedResponse) -> None:
        self._entries[key] = entry


class FileEtagCache(EtagCache):
    """A JSON file, loaded once, written atomically by flush() when something changed."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._lock = threading.Lock()
        self._dirty = False
        self._entries: dict[str, dict[str, Any]] = self._load()

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as e:
            log.warning("ETag cache %s is unreadable (%s); starting with an empty cache", self.path, e)
            return {}
        try:
            data = json.loads(text)
            if data.get("version") != FILE_FORMAT_VERSION or not isinstance(data.get("entries"), dict):
                raise ValueError("unknown format")
            entries = {k: v for k, v in data["entries"].items()
                       if isinstance(v, dict) and isinstance(v.get("etag"), str) and "body" in v}
        except (ValueError, AttributeError) as e:
            log.warning("ETag cache %s is corrupt (%s); ignoring it", self.path, e)
            return {}
        return entries

    def get(self, key: str) -> CachedResponse | None:
        with self._lock:
            raw = self._entries.get(key)
        return CachedResponse(etag=raw["etag"], body=raw["body"], link=raw.get("link")) if raw else None

    def _store(self, key: str, entry: CachedResponse) -> None:
        with self._lock:
            self._entries.pop(key, None)  # re-insert: dict order is the age order
            self._entries[key] = {"etag": entry.etag, "body": entry.body, "link": entry.link}
            while len(self._entries) > MAX_FILE_ENTRIES:
                self._entries.pop(next(iter(self._entries)))
            self._dirty = True

    def flush(self) -> None:
        if self.read_only:
            return
        with self._lock:
            if not self._dirty:
                return
            payload = json.dumps({"version": FILE_FORMAT_VERSION, "entries": self._entries}, separators=(",", ":"))
            self._dirty = False
        try:
            make_folder(self.path.parent)
            fd, tmp = tempfile.mkstemp(prefix=".etag-cache-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(payload)
                os.replace(tmp, self.path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError as e:
            log.warning("could not write the ETag cache %s: %s", self.path, e)


class RedisEtagCache(EtagCache):
    """Redis (redis-py): one key per entry, under a prefix, expiring after 30 days. Writes through."""

    def __init__(self, client: Any, *, prefix: str = DEFAULT_REDIS_PREFIX, read_only: bool = False,
                 ttl_s: int = REDIS_TTL_S) -> None:
        self._redis = client
        self.prefix = prefix
        self.read_only = read_only
        self.ttl_s = ttl_s

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisEtagCache:
        import redis  # here, not at the top: an optional dependency, and only a Redis cache needs it

        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return cls(client, **kwargs)

    def _key(self, key: str) -> str:
        return self.prefix + hashlib.sha256(key.encode()).hexdigest()

    def get(self, key: str) -> CachedResponse | None:
        import redis  # the optional dependency (see from_url)

        try:
            raw = self._redis.get(self._key(key))
        except redis.RedisError as e:
            log.warning("ETag cache (Redis) unavailable: %s", e)
            return None
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return CachedResponse(etag=str(data["etag"]), body=data["body"], link=data.get("link"))
        except (ValueError, KeyError, TypeError) as e:
            log.warning("ETag cache (Redis) entry for %s is corrupt (%s); ignoring it", key, e)
            return None

    def _store(self, key: str, entry: CachedResponse) -> None:
        import redis  # the optional dependency (see from_url)

        try:
            value = json.dumps({"etag": entry.etag, "body": entry.body, "link": entry.link})
            self._redis.set(self._key(key), value, ex=self.ttl_s)
        except redis.RedisError as e:
            log.warning("ETag cache (Redis) unavailable: %s", e)


def cache_from_settings(settings: Settings) -> EtagCache:
    """Redis when REDIS_URL is set, else the JSON file; read-only in dry runs."""
    if settings.redis_url:
        try:
            return RedisEtagCache.from_url(settings.redis_url.reveal(), read_only=settings.dry_run)
        except ValueError as e:  # redis-py's message names the schemes it accepts, never the password
            raise UsageError(f"REDIS_URL is not a Redis URL: {e}") from None
    return FileEtagCache(settings.resolve(settings.etag_cache), read_only=settings.dry_run)
