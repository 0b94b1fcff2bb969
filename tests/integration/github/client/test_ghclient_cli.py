"""The GitHub collector as the user runs it: `repo-automation metrics` against the local GitHub."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from repo_automation.cli import main
from tests.fakegithub.repo_data import ClientFakeGitHub
from tests.integration.github.client import synthetic

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The CLI configures the package logger; leave it as the other tests expect it."""
    logger = logging.getLogger("repo_automation")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    yield
    for h in list(logger.handlers):
        logger.removeHandler(h)
    for h in saved[0]:
        logger.addHandler(h)
    logger.propagate, logger.level = saved[1], saved[2]


def test_metrics_command_reports_github_metrics_and_reruns_warm(fake: ClientFakeGitHub, tmp_path: Path) -> None:
    env = {"GITHUB_API_URL": fake.url, "GITHUB_TOKEN": fake.token, "GITHUB_REPOSITORY": synthetic.REPO}
    assert main(["metrics", "--workspace", str(tmp_path)], env=env) == 0
    report = json.loads((tmp_path / "reports" / "project-health-report.json").read_text(encoding="utf-8"))
    github = {m["name"]: m["value"] for m in report["metrics"] if m["source"] == "github"}
    assert github["github.stars"] == 42 and github["github.contributors"] == 5
    assert github["reliability.build_success_rate"] == 75
    (source,) = [s for s in report["sources"] if s["name"] == "github"]
    assert source["status"] == "ok"
    assert len(fake.requests) == 3 and (tmp_path / ".repo-automation" / "etag-cache.json").is_file()

    assert main(["metrics", "--workspace", str(tmp_path)], env=env) == 0
    assert [r.status for r in fake.requests[3:]] == [200, 304, 304]  # GraphQL, then both REST reads free
