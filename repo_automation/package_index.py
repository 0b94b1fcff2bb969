"""The package index: which versions of a project exist (PEP 503 HTML or PEP 691 JSON, via pypi-simple).

Each version comes with its files' sha256 digests (to renew `--hash` pins) and its upload time: PEP 700's
`upload-time` when the index gives it (PyPI's JSON form), else the Last-Modified header of one of its files,
asked only for the versions about to be proposed (the minimum release age). One GET per project, with a
timeout; an index that does not know a project says so (the package is reported, the others go on).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

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
    hashes: tuple[str, ...] = ()  # sha256 digests of the release's files that are not yanked
    uploaded: datetime | None = None  # the first upload (PEP 700), when the index says
    url: str = ""  # one of its files, for the upload time of an index that does not say it (Last-Modified)


def parse_version(text: str) -> Version | None:
    from packaging.version import InvalidVersion, Version  # lazily, for start-up time

    try:
        return Version(text)
    except InvalidVersion:
        return None


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
        files: dict[str, list[Any]] = {}
        for pkg in page.packages:
            if pkg.version:
                files.setdefault(pkg.version, []).append(pkg)
        return [_release(v, pkgs) for v, pkgs in files.items()]

    def uploaded(self, release: Release) -> datetime | None:
        """When the release was published: the index's upload time, else its file's Last-Modified header
        (one HEAD request); None when neither is known."""
        if release.uploaded is not None or not release.url:
            return release.uploaded
        import requests  # lazily, for start-up time

        self.requests += 1
        try:
            answer = self.session.head(release.url, timeout=self.timeout_s, allow_redirects=True)
        except requests.RequestException as e:
            log.info("upload time of %s unknown: %s", redact_url(release.url), type(e).__name__)
            return None
        stamp = answer.headers.get("Last-Modified") if answer.ok else None
        try:
            return parsedate_to_datetime(stamp).astimezone(UTC) if stamp else None
        except (TypeError, ValueError):
            return None

    def close(self) -> None:
        self.session.close()


def _release(version: str, files: list[Any]) -> Release:
    """One version from its files (pypi-simple DistributionPackages): yanked only when all of them are."""
    live = [f for f in files if not f.is_yanked]
    hashes = tuple(sorted({str(f.digests["sha256"]) for f in live if f.digests.get("sha256")}))
    times = [f.upload_time for f in files if getattr(f, "upload_time", None) is not None]
    return Release(version=version, yanked=not live, hashes=hashes, uploaded=min(times) if times else None,
                   url=str((live or files)[0].url))
