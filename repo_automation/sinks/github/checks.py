"""The pull-request check: one check run on the head commit, its conclusion from the verdict, annotations
for findings with a location (GitHub takes 50 per request: the first 50 come with the creation, the rest in
PATCHes of 50). Where the token may not create check runs (403), a commit status says the same in one line.
The check judges the change: repository-wide gate failures (`Verdict.context`) are listed in its summary as
neutral context and do not make its conclusion a failure.

A fork's pull request gets a read-only token: nothing is written and the run says so in a notice instead of
failing (`fork_notice`). In a dry run nothing is written either; the would-be writes are described.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

from repo_automation.context import RunContext
from repo_automation.domain import Action, Finding, FindingState, RunReport, Severity
from repo_automation.errors import SourceFailed
from repo_automation.github.client import GitHubClient, GitHubError, http_error
from repo_automation.report.escape import escape_markdown
from repo_automation.runner import run_link
from repo_automation.sinks.github.base import GitHubSink

log = logging.getLogger(__name__)

CHECK_NAME = "repo-automation / health"
STATUS_CONTEXT = "repo-automation/health"
PER_REQUEST = 50  # GitHub's limit of annotations per create/update request
MAX_ANNOTATIONS = 1000  # 20 requests at most, whatever the number of findings
ANNOTATED_STATES = frozenset({FindingState.ACTIVE, FindingState.NEW})
_LEVEL = {Severity.CRITICAL: "failure", Severity.HIGH: "failure", Severity.MEDIUM: "warning",
          Severity.LOW: "notice", Severity.UNKNOWN: "notice"}


def fork_notice(ctx: RunContext) -> str | None:
    """The notice for a fork's pull request (read-only token), or None. The registry adds it to the report."""
    pr = ctx.pull_request
    if pr is not None and pr.is_fork:
        return (f"Pull request #{pr.number} comes from a fork: its token is read-only, so no check run or PR "
                "comment was written. The results are in this job summary.")
    return None


def pr_skip_reason(ctx: RunContext) -> str | None:
    """Why the pull-request sinks have nothing to do here, or None when they should run."""
    if ctx.pull_request is None:
        return "not a pull request event"
    return fork_notice(ctx)


def conclusion_for(report: RunReport) -> tuple[str, tuple[str, ...]]:
    """The report's verdict as a conclusion (success / failure; neutral when the policy failed but is not
    enforced) and its reasons."""
    verdict = report.verdict
    if verdict is None:
        raise SourceFailed("the report carries no verdict (it was not built by the pipeline)")
    return verdict.conclusion, verdict.reasons


def annotations_for(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """Check-run annotations for active/new findings with a location, worst first (plain text, capped)."""
    out: list[dict[str, Any]] = []
    located = [f for f in findings if f.location is not None and f.state in ANNOTATED_STATES]
    for f in sorted(located, key=lambda f: (-f.severity.rank, f.location.path if f.location else "")):
        assert f.location is not None
        start = f.location.start_line or 1
        end = max(start, f.location.end_line or start)
        out.append({"path": f.location.path, "start_line": start, "end_line": end,
                    "annotation_level": _LEVEL[f.severity], "title": f"{f.rule_id}: {f.title}"[:255],
                    "message": (f.message or f.title)[:4000] or f.rule_id,
                    "raw_details": f"{f.tool} · {f.severity.value}"})
    return out[:MAX_ANNOTATIONS]


def summary_for(report: RunReport, conclusion: str, reasons: Sequence[str], annotated: int, total: int) -> str:
    lines = [f"**{conclusion}**" + (f" — {escape_markdown(report.health.grade)}" if report.health.grade else "")]
    if report.health.overall is not None:
        lines.append(f"Health score: {report.health.overall:.1f}")
    lines += [f"- {escape_markdown(r, max_len=300)}" for r in reasons]
    context = report.verdict.context if report.verdict is not None else ()
    if context:  # repository-wide gate failures: neutral context, not this pull request's failure
        lines += ["", "Repository-wide, not judged on this pull request (context):"]
        lines += [f"- {escape_markdown(c, max_len=300)}" for c in context]
    if total > annotated:
        lines.append(f"{annotated} of {total} located findings are annotated; the report lists them all.")
    return "\n".join(lines)[:60_000]


def _output(report: RunReport, conclusion: str, reasons: Sequence[str], annotated: int) -> dict[str, str]:
    """The check run's title and summary (which says when not every located finding is annotated)."""
    located = sum(1 for f in report.findings if f.location is not None and f.state in ANNOTATED_STATES)
    return {"title": f"Health: {conclusion}", "summary": summary_for(report, conclusion, reasons, annotated, located)}


S = TypeVar("S", bound=GitHubSink)


def for_pull_request(cls: type[S], ctx: RunContext, *, client: GitHubClient | None, unavailable: str | None) -> S:
    """A GitHub sink that acts on pull requests only (the check run, the PR comment): skipped, with the
    reason, on any other event, and without a client when there is none."""
    reason = pr_skip_reason(ctx)
    if reason:
        return cls(client=None, repository=None, skip_reason=reason)
    return cls(client=client, repository=ctx.repository, skip_reason=None if client else unavailable)


class CheckRunSink(GitHubSink):
    name: ClassVar[str] = "checks"

    @classmethod
    def from_context(cls, ctx: RunContext, *, client: GitHubClient | None = None,
                     unavailable: str | None = None) -> CheckRunSink:
        """Production wiring: the run's one client, or None and why (`unavailable`)."""
        return for_pull_request(cls, ctx, client=client, unavailable=unavailable)

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        self.connected(pr_skip_reason(ctx))
        assert ctx.pull_request is not None
        sha = ctx.pull_request.head_sha
        conclusion, reasons = conclusion_for(report)
        annotations = annotations_for(report.findings)
        output = _output(report, conclusion, reasons, len(annotations))
        batches = [annotations[i:i + PER_REQUEST] for i in range(0, len(annotations), PER_REQUEST)] or [[]]
        what = (f"check run {CHECK_NAME!r} on {sha[:12]}: {conclusion}, {len(annotations)} annotation(s) in "
                f"{len(batches)} request(s)")
        if ctx.dry_run:
            return [Action(sink=self.name, description=what, performed=False, target=self.repository)]
        context_gates = report.verdict.context_gates if report.verdict is not None else ()
        return [self._write(sha, conclusion, reasons, output, batches, what, ctx, context_gates)]

    def _write(self, sha: str, conclusion: str, reasons: Sequence[str], output: dict[str, str],
               batches: Sequence[list[dict[str, Any]]], what: str, ctx: RunContext,
               context_gates: Sequence[str] = ()) -> Action:
        """Create the check run with the first batch of annotations and add the rest; on 403 (no checks
        permission) write a commit status instead."""
        client, repository = self.connected()
        try:
            run = client.create_check_run(repository, name=CHECK_NAME, head_sha=sha, conclusion=conclusion,
                                          output={**output, "annotations": batches[0]}, details_url=run_link(ctx.env))
        except GitHubError as e:
            if e.rate_limited:
                raise SourceFailed(f"check run not created: rate limited ({e.status})") from e
            if e.status != 403:
                raise SourceFailed(f"check run not created: {http_error(e)}") from e
            log.info("no permission to create check runs (403): writing a commit status instead")
            return self._status(sha, conclusion, reasons, ctx, context_gates)
        try:
            for batch in batches[1:]:
                client.update_check_run(repository, run.id, output={**output, "annotations": batch})
        except GitHubError as e:
            raise SourceFailed(f"check run {run.url} created, but adding annotations failed: "
                               f"{http_error(e)}") from e
        return Action(sink=self.name, description=what, performed=True, target=run.url)

    def _status(self, sha: str, conclusion: str, reasons: Sequence[str], ctx: RunContext,
                context_gates: Sequence[str] = ()) -> Action:
        """One line of at most 140 characters: the reasons, and (like the check run's summary) the
        repository-wide gate failures that are context, not this pull request's failure."""
        client, repository = self.connected()
        state = "failure" if conclusion == "failure" else "success"
        text = "; ".join(reasons) if reasons else "policy satisfied by the change"
        if conclusion == "neutral":
            text = "not enforced: " + text
        if context_gates:
            text += f" (context, repository-wide: gate {', '.join(context_gates)} failed)"
        description = text if len(text) <= 140 else text[:139] + "…"
        try:
            client.create_commit_status(repository, sha, state=state, description=description,
                                        context=STATUS_CONTEXT, target_url=run_link(ctx.env))
        except GitHubError as e:
            raise SourceFailed(f"neither a check run nor a commit status could be written: {http_error(e)}") from e
        return Action(sink=self.name, description=f"commit status {STATUS_CONTEXT!r} on {sha[:12]}: {state} "
                      "(no permission for check runs)", performed=True, target=self.repository)
