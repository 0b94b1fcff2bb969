"""GitHub's own REST description (@octokit/openapi) as a request validator.

The description is loaded once per process (about 0.4 s) and each request is checked in milliseconds with
openapi-core: unknown path or method, missing required body fields, wrong types and bad enum values are all
reported. Requests are validated as if sent to https://api.github.com, whatever port the fake listens on.
"""

from __future__ import annotations

import json
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
def openapi() -> Any:
    from jsonschema_path import SchemaPath
    from openapi_core import Config, OpenAPI

    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return OpenAPI(SchemaPath.from_dict(spec), config=Config(spec_validator_cls=None))


def check(req: SpecRequest) -> Invalid | None:
    """None when GitHub's description accepts the request, else the 4xx GitHub would answer."""
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
