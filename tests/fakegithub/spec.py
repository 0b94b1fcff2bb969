"""GitHub's own REST description (@octokit/openapi) as a request validator.

The description is loaded once per process (about 0.4 s) and each request is checked in milliseconds with
openapi-core: unknown path or method, missing required body fields, wrong types and bad enum values are all
reported. Requests are validated as if sent to https://api.github.com, whatever port the fake listens on.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"
GITHUB_HOST = "https://api.github.com"

_lock = threading.Lock()


@dataclass
class SpecRequest:
    """The shape openapi-core reads (host_url, path, method, body, content_type, parameters)."""

    method: str
    path: str
    body: bytes | None
    query: Sequence[tuple[str, str]] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    host_url: str = GITHUB_HOST

    def __post_init__(self) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.method = self.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(self.query)), header=Headers(dict(self.headers)), cookie={}
        )


@dataclass(frozen=True)
class Invalid:
    """Why GitHub would refuse the request: its status and a message like GitHub's."""

    status: int
    message: str


@cache
def spec_dict() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def openapi() -> Any:
    from jsonschema_path import SchemaPath
    from openapi_core import Config, OpenAPI

    return OpenAPI(SchemaPath.from_dict(spec_dict()), config=Config(spec_validator_cls=None))


@cache
def _greedy_templates() -> tuple[re.Pattern[str], ...]:
    """Paths whose last parameter may hold slashes on the wire (`git/refs/heads/main`, `contents/a/b.py`)."""
    out = []
    for template in spec_dict()["paths"]:
        tail = template.rsplit("/", 1)[-1]
        if tail in ("{ref}", "{path}"):
            head = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template.rsplit("/", 1)[0]))
            out.append(re.compile(f"^({head}/)(.+)$"))
    return tuple(out)


def normalise(path: str) -> str | None:
    """The same request as GitHub routes it, where the description cannot say so; None when nothing applies.

    - a trailing slash is ignored by GitHub;
    - `/repositories/{id}/…` is GitHub's id-based alias of `/repos/{owner}/{repo}/…` (its own Link headers
      use it; the description does not list it);
    - a last `{ref}` or `{path}` parameter holds slashes unencoded (`git/refs/heads/test`).
    """
    new = path.rstrip("/") or "/"
    new = re.sub(r"^/repositories/\d+(?=/|$)", "/repos/by-id/repository", new)
    for pattern in _greedy_templates():
        m = pattern.match(new)
        if m and "/" in m.group(2):
            new = m.group(1) + m.group(2).replace("/", "%2F")
            break
    return new if new != path else None


def check(req: SpecRequest) -> Invalid | None:
    """None when GitHub's description accepts the request, else the 4xx GitHub would answer."""
    invalid = _check(req)
    if invalid is not None and invalid.status in (400, 404):
        other = normalise(req.path)
        if other is not None:
            retry = SpecRequest(req.method, other, req.body, req.query, req.headers, req.content_type)
            return _check(retry)
    return invalid


def _check(req: SpecRequest) -> Invalid | None:
    from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
    from openapi_core.validation.request.exceptions import ParameterValidationError, RequestBodyValidationError

    api = openapi()
    try:
        with _lock:  # openapi-core caches lazily; keep concurrent server threads out of each other's way
            api.validate_request(req)
    except (PathNotFound, OperationNotFound) as e:
        return Invalid(404, f"Not Found ({e})")
    except (RequestBodyValidationError, ParameterValidationError) as e:
        return Invalid(422, f"Invalid request. {str(e)[:80]} — {_details(e)}")
    except Exception as e:  # any other refusal by the description is still a refusal
        return Invalid(400, f"{type(e).__name__}: {e}")
    return None


def _details(e: Exception) -> str:
    """The schema errors behind a refusal, each cut short (a 51-item list would print itself whole)."""
    errors = getattr(e.__cause__, "schema_errors", None) or ()
    parts = []
    for err in errors:
        where = "/".join(str(p) for p in getattr(err, "absolute_path", ())) or "body"
        msg = str(getattr(err, "message", err))
        parts.append(f"{where}: {msg if len(msg) <= 200 else msg[:90] + ' … ' + msg[-90:]}")
    return "; ".join(parts) or str(e)[:300]
