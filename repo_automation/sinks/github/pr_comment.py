"""One sticky pull-request comment with the health diff, edited on each push, never duplicated.

The comment carries the marker `<!-- repo-automation:fingerprint=pr-health -->`; each run lists the pull
request's comments, edits the action's marked comment when its text changed (and writes nothing when it
did not), or creates it once. The diff is this report against the history store: the overall score against
the previous stored run and the metrics that moved. Fork pull requests and dry runs write nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from repo_automation.context import RunContext
from repo_automation.domain import Action, FindingState, GateScope, RunReport
from repo_automation.errors import SourceFailed
from repo_automation.github.client import GitHubClient, GitHubError, http_error
from repo_automation.github.fingerprint import find_fingerprint, with_marker
from repo_automation.report.escape import escape_code, escape_markdown
from repo_automation.runner import run_link
from repo_automation.sinks.github.base import GitHubSink
from repo_automation.sinks.github.checks import conclusion_for, for_pull_request, pr_skip_reason

log = logging.getLogger(__name__)

FINGERPRINT = "pr-health"
MAX_CHANGES = 15
MAX_COMMENT = 65_536


def _signed(x: float) -> str:
    return f"{x:+.1f}" if abs(x) >= 0.05 else "±0"


def _previous_overall(report: RunReport) -> float | None:
    earlier = [p for p in report.history.trend if p.timestamp < report.generated_at and p.overall is not None]
    return max(earlier, key=lambda p: p.timestamp).overall if earlier else None


def render_comment(report: RunReport, ctx: RunContext) -> str:
    """The comment body (pure): verdict, overall score and its change, categories, moved metrics, findings."""
    lines = _verdict_lines(report)
    lines += _overall_lines(report)
    lines += _category_lines(report)
    lines += _moved_metric_lines(report)
    lines += _finding_and_gate_lines(report)
    if (link := run_link(ctx.env)) is not None:
        lines += ["", f"[Full report]({link})"]
    body = "\n".join(lines)
    return with_marker(body[: MAX_COMMENT - 200], FINGERPRINT)


def _verdict_lines(report: RunReport) -> list[str]:
    """The heading, the check's conclusion with its icon, and the reasons for it."""
    conclusion, reasons = conclusion_for(report)
    icon = {"success": "✅", "failure": "❌"}.get(conclusion, "⚠️")
    lines = ["## Repository health", "", f"{icon} **{conclusion}**"]
    lines += [f"- {escape_markdown(r, max_len=300)}" for r in reasons]
    return lines


def _overall_lines(report: RunReport) -> list[str]:
    """The overall score, its grade and its change since the previous stored run (nothing when unknown)."""
    health = report.health
    if health.overall is None:
        return []
    prev = _previous_overall(report)
    diff = f" ({_signed(health.overall - prev)} since the previous run)" if prev is not None else ""
    grade = f" — grade {escape_markdown(health.grade)}" if health.grade else ""
    return ["", f"**Overall: {health.overall:.1f}**{grade}{diff}"]


def _category_lines(report: RunReport) -> list[str]:
    """A table of category scores by name; a category without inputs says so."""
    if not report.health.categories:
        return []
    lines = ["", "| Category | Score |", "|---|---|"]
    for name, cat in sorted(report.health.categories.items()):
        score = f"{cat.score:.1f}" if cat.score is not None else "n/a (missing inputs)"
        lines.append(f"| {escape_markdown(name)} | {score} |")
    return lines


def _moved_metric_lines(report: RunReport) -> list[str]:
    """A table of the metrics that changed since the previous run, largest change first, at most MAX_CHANGES."""
    moved = [c for c in report.history.changes if c.delta_previous not in (None, 0)]
    moved.sort(key=lambda c: -abs(c.delta_previous or 0))
    if not moved:
        return []
    return ["", "| Metric | Now | Change |", "|---|---|---|",
            *(f"| {escape_code(c.name)} | {c.value:g} | {_signed(c.delta_previous or 0)} |"
              for c in moved[:MAX_CHANGES])]


def _finding_and_gate_lines(report: RunReport) -> list[str]:
    """Finding counts by PR state (new, fixed, existing, active), then one line per failed gate."""
    lines: list[str] = []
    states = [f.state for f in report.findings]
    shown = (FindingState.NEW, FindingState.FIXED, FindingState.EXISTING, FindingState.ACTIVE)
    counts = {s: states.count(s) for s in shown if states.count(s)}
    if counts:
        lines += ["", "Findings: " + ", ".join(f"{n} {s}" for s, n in counts.items())]
    failed = [g for g in report.gates if g.passed is False]
    lines += [f"- gate {escape_code(g.name)}{'' if g.scope is GateScope.CHANGE else ' (repository-wide, context)'}: "
              f"{escape_markdown(g.message, max_len=200)}" for g in failed]
    return lines


class PrCommentSink(GitHubSink):
    name: ClassVar[str] = "pr-comment"

    @classmethod
    def from_context(cls, ctx: RunContext, *, client: GitHubClient | None = None,
                     unavailable: str | None = None) -> PrCommentSink:
        """Production wiring: the run's one client, or None and why (`unavailable`)."""
        return for_pull_request(cls, ctx, client=client, unavailable=unavailable)

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        client, repository = self.connected(pr_skip_reason(ctx))
        assert ctx.pull_request is not None
        number = ctx.pull_request.number
        body = render_comment(report, ctx)
        ours = find_ours(client.list_all(f"/repos/{repository}/issues/{number}/comments"))
        if ours is not None and ours.get("body") == body:
            return []
        what = f"{'update' if ours is not None else 'create'} the health comment on pull request #{number}"
        if ctx.dry_run:
            target = str(ours.get("html_url")) if ours else f"{repository}#{number}"
            return [Action(sink=self.name, description=what, performed=False, target=target)]
        try:
            if ours is not None:
                url = client.edit_comment(repository, int(ours["id"]), body).url
            else:
                url = client.comment(repository, number, body).url
        except GitHubError as e:
            raise SourceFailed(f"pull request comment not written: {http_error(e)}") from e
        return [Action(sink=self.name, description=what, performed=True, target=url)]


def find_ours(comments: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The action's marked comment: the oldest one written by a bot (people may quote the marker)."""
    for c in comments:
        user = c.get("user") or {}
        if find_fingerprint(c.get("body")) == FINGERPRINT and isinstance(user, dict) and user.get("type") == "Bot":
            return c
    return None
