"""The package index: which versions of a project exist (PEP 503 HTML or PEP 691 JSON, via pypi-simple).

Pre-releases are ignored unless the current pin is one; yanked files never count as a candidate. One GET
per project, with a timeout; an index that does not know a project says so (the package is reported, the
others go on).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from repo_automation import __version__
from repo_automation.errors import SourceFailed
from repo_automation.redaction import redact_url

if TYPE_CHECKING:
    import requests
    from packaging.version import Version

    from repo_automation.context import RunContext

log = logging.getLogger(__name__)


class UnknownProject(SourceFailed):
    """The index has no page for the project (HTTP 404)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    version: str
    yanked: bool


def parse_version(text: str) -> Version | None:
    from packaging.version import InvalidVersion, Version  # lazily, for start-up time

    try:
        return Version(text)
    except InvalidVersion:
        return None


def newest(releases: Iterable[Release], current: str) -> str | None:
    """The newest release above `current` that is neither yanked nor (unless current is one) a pre-release."""
    now = parse_version(current)
    best: tuple[Version, str] | None = None
    for r in releases:
        v = parse_version(r.version)
        if v is None or r.yanked or (v.is_prerelease and not (now is not None and now.is_prerelease)):
            continue
        if now is not None and v <= now:
            continue
        if best is None or v > best[0]:
            best = (v, r.version)
    return best[1] if best else None


def lowest_fixed(releases: Iterable[Release], current: str, fixed: Iterable[str]) -> str | None:
    """The lowest available, not yanked release that is at least one of the advisory's fixed versions."""
    now = parse_version(current)
    fixes = [v for v in (parse_version(f) for f in fixed) if v is not None and (now is None or v > now)]
    if not fixes:
        return None
    floor = min(fixes)
    candidates = [(v, r.version) for r in releases
                  if not r.yanked and (v := parse_version(r.version)) is not None and v >= floor
                  and not v.is_prerelease]
    return min(candidates)[1] if candidates else None


class PackageIndex:
    """Reads a PEP 503 / PEP 691 simple index. `session` is injected (timeouts per call)."""

    def __init__(self, *, index_url: str, session: requests.Session, timeout_s: float = 30.0) -> None:
        self.index_url = index_url.rstrip("/") + "/"
        self.session = session
        self.timeout_s = timeout_s
        self.requests = 0

    @classmethod
    def from_context(cls, ctx: RunContext) -> PackageIndex:
        import requests  # lazily, for start-up time

        session = requests.Session()
        session.headers["User-Agent"] = f"repo-automation/{__version__}"
        return cls(index_url=ctx.config.dependency_updates.index_url, session=session)

    def releases(self, project: str) -> list[Release]:
        """Every version the index lists for `project` (a version is yanked only when all its files are)."""
        import requests  # lazily, for start-up time
        from pypi_simple import NoSuchProjectError, PyPISimple, UnsupportedRepoVersionError

        client = PyPISimple(endpoint=self.index_url, session=self.session)
        self.requests += 1
        try:
            page = client.get_project_page(project, timeout=self.timeout_s)
        except NoSuchProjectError as e:
            raise UnknownProject(f"{project}: not found on the package index {redact_url(self.index_url)}") from e
        except (requests.RequestException, UnsupportedRepoVersionError, ValueError) as e:
            raise SourceFailed(f"{project}: the package index {redact_url(self.index_url)} did not answer usefully "
                               f"({type(e).__name__}: {e})") from e
        files: dict[str, list[bool]] = {}
        for pkg in page.packages:
            if pkg.version:
                files.setdefault(pkg.version, []).append(pkg.is_yanked)
        return [Release(version=v, yanked=all(flags)) for v, flags in files.items()]

    def close(self) -> None:
        self.session.close()
