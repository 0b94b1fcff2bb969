"""Authentication for the GitHub client: a token, or a GitHub App installation.

App auth: the app id and its private key (PEM) sign a short JWT (RS256, PyJWT); the JWT finds the
repository's installation (GET /repos/{owner}/{repo}/installation) and buys an installation token
(POST /app/installations/{id}/access_tokens), refreshed a few minutes before it expires.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import requests

from repo_automation.errors import SourceFailed, UsageError
from repo_automation.redaction import Secret, register

if TYPE_CHECKING:
    from repo_automation.settings import Settings

log = logging.getLogger(__name__)

JWT_LIFETIME_S = 540  # GitHub allows at most 10 minutes
JWT_CLOCK_SKEW_S = 60
REFRESH_MARGIN_S = 300


class Auth(ABC):
    """Gives the token for the Authorization header."""

    @abstractmethod
    def token(self) -> str: ...

    def header(self) -> str:
        return f"Bearer {self.token()}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(***)"


class TokenAuth(Auth):
    def __init__(self, token: Secret) -> None:
        self._token = token

    def token(self) -> str:
        return self._token.reveal()


def make_jwt(app_id: str, private_key: str, *, now: float) -> str:
    """The app's JWT: issued a minute in the past (clock skew), valid 9 minutes."""
    import jwt  # here for start-up time: PyJWT loads cryptography, and only App auth needs it

    payload = {"iat": int(now) - JWT_CLOCK_SKEW_S, "exp": int(now) + JWT_LIFETIME_S, "iss": str(app_id)}
    try:
        return jwt.encode(payload, private_key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError) as e:
        raise UsageError(f"github-app-private-key is not a usable RSA private key (PEM): {e}") from None


class AppAuth(Auth):
    """A GitHub App installation token for one repository, fetched lazily and refreshed before expiry."""

    def __init__(self, *, app_id: str, private_key: Secret, repository: str, api_url: str,
                 session: requests.Session, timeout_s: float = 30.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.app_id = app_id
        self._key = private_key
        self.repository = repository
        self.api_url = api_url.rstrip("/")
        self._session = session
        self._timeout = timeout_s
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() > self._expires_at - REFRESH_MARGIN_S:
                self._token, self._expires_at = self._fetch()
            return self._token

    def _call(self, method: str, path: str, app_jwt: str) -> dict[str, Any]:
        url = self.api_url + path
        headers = {"Authorization": f"Bearer {app_jwt}", "Accept": "application/vnd.github+json"}
        try:
            resp = self._session.request(method, url, headers=headers, timeout=self._timeout)
        except requests.RequestException as e:
            raise SourceFailed(f"GitHub App authentication: {method} {path} failed: {e}") from e
        if resp.status_code >= 400:
            try:
                message = str(resp.json().get("message", ""))
            except ValueError:
                message = resp.text[:200]
            hint = " (is the app installed on this repository?)" if resp.status_code == 404 else ""
            raise SourceFailed(f"GitHub App authentication: {method} {path} answered "
                               f"{resp.status_code} {message}{hint}")
        data = resp.json()
        if not isinstance(data, dict):
            raise SourceFailed(f"GitHub App authentication: {method} {path} answered an unexpected body")
        return data

    def _fetch(self) -> tuple[str, float]:
        app_jwt = make_jwt(self.app_id, self._key.reveal(), now=self._clock())
        installation = self._call("GET", f"/repos/{self.repository}/installation", app_jwt)
        inst_id = installation.get("id")
        if not isinstance(inst_id, int):
            raise SourceFailed("GitHub App authentication: the installation has no id")
        data = self._call("POST", f"/app/installations/{inst_id}/access_tokens", app_jwt)
        token = data.get("token")
        if not isinstance(token, str) or not token:
            raise SourceFailed("GitHub App authentication: no token in the access_tokens answer")
        expires = self._clock() + 3600.0
        raw_exp = data.get("expires_at")
        if isinstance(raw_exp, str):
            try:
                expires = datetime.fromisoformat(raw_exp.replace("Z", "+00:00")).timestamp()
            except ValueError:
                log.debug("unparsable expires_at %r; assuming one hour", raw_exp)
        register(token)  # the run's secret from now on: masked in the log and, on a runner, ::add-mask::
        log.info("GitHub App %s: installation %s token obtained for %s", self.app_id, inst_id, self.repository)
        return token, expires


def check_settings(settings: Settings) -> None:
    """Raise UsageError for an incomplete App configuration (call at start-up: exit status 2)."""
    if settings.github_app_id and not settings.github_app_private_key:
        raise UsageError("github-app-id is set but github-app-private-key is empty: give both, or a token")
    if settings.github_app_private_key and not settings.github_app_id:
        raise UsageError("github-app-private-key is set but github-app-id is empty: give both, or a token")
    if settings.github_app_id and not str(settings.github_app_id).strip().isdigit():
        raise UsageError(f"github-app-id must be the app's numeric id, got {settings.github_app_id!r}")


def auth_from_settings(settings: Settings, repository: str, session: requests.Session) -> Auth | None:
    """App auth when an app id and key are set (it wins over the token), else the token, else None."""
    check_settings(settings)
    if settings.github_app_id and settings.github_app_private_key:
        return AppAuth(app_id=settings.github_app_id, private_key=settings.github_app_private_key,
                       repository=repository, api_url=settings.github_api_url, session=session)
    if settings.github_token:
        return TokenAuth(settings.github_token)
    return None
