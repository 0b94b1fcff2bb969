"""RunContext: what this run is about (repository, commit, event, pull request), read once at start."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from repo_automation.config import Config
from repo_automation.errors import UsageError
from repo_automation.redaction import Secrets, gather
from repo_automation.settings import SECRET_VARIABLES, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class PullRequest:
    number: int
    base_sha: str
    head_sha: str
    base_ref: str
    head_ref: str
    is_fork: bool  # head repository differs from base: the token is read-only


@dataclass(frozen=True, slots=True, kw_only=True)
class RunContext:
    settings: Settings
    config: Config
    workspace: Path
    repository: str | None
    sha: str | None
    ref: str | None
    event_name: str | None
    event: Mapping[str, Any] = field(default_factory=dict)
    pull_request: PullRequest | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # holds GITHUB_TOKEN and the like
    secrets: Secrets = field(default_factory=Secrets)  # the run's: what a sink writes is redacted with them
    started: float = field(default_factory=time.monotonic, repr=False, compare=False)  # for the run's duration

    def elapsed_s(self) -> float:
        """Seconds since the run started (a monotonic clock: a test's fixed `now` does not change it)."""
        return time.monotonic() - self.started

    def __post_init__(self) -> None:
        self.secrets.add(*gather(self.env, SECRET_VARIABLES, [self.settings, self.config]))

    def __repr__(self) -> str:
        """The fields but env, every secret the run knows (a password in a configured URL) as ***."""
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
        return self.secrets.redact(f"{type(self).__name__}({shown})")

    @property
    def dry_run(self) -> bool:
        return self.settings.dry_run


def read_event(path: str | None) -> dict[str, Any]:
    """The webhook payload at $GITHUB_EVENT_PATH (empty when absent)."""
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise UsageError(f"GITHUB_EVENT_PATH points to a missing file: {path}") from None
    except (OSError, json.JSONDecodeError) as e:
        raise UsageError(f"GITHUB_EVENT_PATH is not a readable JSON file ({path}): {e}") from None
    if not isinstance(data, dict):
        raise UsageError(f"GITHUB_EVENT_PATH does not hold a JSON object: {path}")
    return data


def pull_request_from_event(event: Mapping[str, Any]) -> PullRequest | None:
    pr = event.get("pull_request")
    if not isinstance(pr, dict):
        return None
    try:
        head_repo = (pr.get("head") or {}).get("repo") or {}
        base_repo = (pr.get("base") or {}).get("repo") or {}
        return PullRequest(
            number=int(pr["number"]),
            base_sha=str(pr["base"]["sha"]),
            head_sha=str(pr["head"]["sha"]),
            base_ref=str(pr["base"].get("ref", "")),
            head_ref=str(pr["head"].get("ref", "")),
            is_fork=bool(head_repo.get("fork")) or (
                bool(head_repo.get("full_name")) and head_repo.get("full_name") != base_repo.get("full_name")
            ),
        )
    except (KeyError, TypeError, ValueError) as e:
        log.warning("pull_request payload is incomplete (%s); treating the run as a push", e)
        return None


def build_context(settings: Settings, config: Config, env: Mapping[str, str],
                  *, now: datetime | None = None, secrets: Secrets | None = None) -> RunContext:
    event = read_event(env.get("GITHUB_EVENT_PATH"))
    repository = settings.github_repository
    if not repository:
        repo_obj = event.get("repository")
        if isinstance(repo_obj, dict) and repo_obj.get("full_name"):
            repository = str(repo_obj["full_name"])
    return RunContext(
        settings=settings,
        config=config,
        workspace=settings.workspace,
        repository=repository,
        sha=env.get("GITHUB_SHA") or None,
        ref=env.get("GITHUB_REF") or None,
        event_name=env.get("GITHUB_EVENT_NAME") or None,
        event=event,
        pull_request=pull_request_from_event(event),
        now=now or datetime.now(UTC),
        env=dict(env),
        secrets=secrets if secrets is not None else Secrets(),
    )
