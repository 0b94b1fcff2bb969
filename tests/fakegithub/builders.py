"""Builders for the GitHub sink tests: findings, reports and contexts aimed at a FakeGitHub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from repo_automation.context import PullRequest, RunContext
from repo_automation.domain import Alert, Finding, Health, Location, RunReport, Severity, SourceResult, Status
from tests.fakegithub.clients import REPO
from tests.fakegithub.server import FakeGitHub
from tests.helpers import FIXED_NOW, make_context
from tests.reports import judged


def code_finding(rule: str = "B602", path: str = "app/run.py", line: int = 10, *, tool: str = "bandit",
                 severity: Severity = Severity.HIGH, title: str = "subprocess call with shell=True",
                 message: str = "shell=True is dangerous", state: str = "active") -> Finding:
    return Finding(tool=tool, rule_id=rule, severity=severity, title=title, message=message,
                   fingerprint=f"{tool}:{rule}:{path}:{line}", location=Location(path=path, start_line=line),
                   state=state)


def dep_finding(advisory: str = "PYSEC-2021-142", package: str = "pyyaml", version: str = "5.3.1",
                *, severity: Severity = Severity.CRITICAL, tool: str = "pip-audit") -> Finding:
    return Finding(tool=tool, rule_id=advisory, severity=severity, title=f"{package} {version} is vulnerable",
                   fingerprint=f"{tool}:{advisory}:{package}", package=package, version=version,
                   fixed_versions=("5.4",), ids=(advisory, "CVE-2020-14343"))


def report(findings: tuple[Finding, ...] = (), *, alerts: tuple[Alert, ...] = (),
           sources: tuple[SourceResult, ...] | None = None, enforced: bool = True, **kw: Any) -> RunReport:
    """A report with its verdict decided under the default configuration (fail-on-policy as `enforced`)."""
    if sources is None:
        tools = sorted({f.tool for f in findings} | {"bandit", "pip-audit"})
        sources = tuple(SourceResult(name=t, kind="scanner", status=Status.OK) for t in tools)
    return judged(RunReport(schema_version="1.0", repository=REPO, generated_at=FIXED_NOW, dry_run=False,
                            sha="a" * 40, health=Health(overall=None, grade=None, categories={}),
                            findings=findings, alerts=alerts, sources=sources, **kw), enforced=enforced)


def context(tmp: Path, server: FakeGitHub, *, config: dict[str, Any] | None = None,
            pull_request: PullRequest | None = None, **overrides: Any) -> RunContext:
    env = {"GITHUB_TOKEN": server.token, "GITHUB_API_URL": server.url, "GITHUB_REPOSITORY": REPO,
           "GITHUB_SHA": "a" * 40, "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "42"}
    ctx = make_context(tmp, config=config, env=env, **overrides)
    if pull_request is not None:
        import dataclasses

        ctx = dataclasses.replace(ctx, pull_request=pull_request, event_name="pull_request",
                                  sha=pull_request.head_sha)
    return ctx
