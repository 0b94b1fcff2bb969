"""GitHubCollector: repository, community (CHAOSS starter model) and CI metrics at a constant API cost.

Three HTTP requests whatever the repository's size: one GraphQL query (queries.HEALTH_QUERY: aliased
totalCounts and bounded windows), one conditional REST read of the contributors (the count from the Link
header's last page) and one conditional REST read of the completed workflow runs on the default branch
(last 30 days, one page of 100). A warm rerun pays the GraphQL point only: both REST reads answer 304.
Every metric's metadata says its window and sample size, and whether the sample was truncated.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from repo_automation.context import RunContext
from repo_automation.domain import Metric
from repo_automation.errors import SourceSkipped
from repo_automation.github import queries
from repo_automation.github.client import GitHubClient, GitHubError
from repo_automation.stages import Collector

log = logging.getLogger(__name__)

WINDOW = timedelta(weeks=queries.WEEKS)
ABSENCE_WINDOW = timedelta(days=90)
RELEASE_WINDOW = timedelta(days=365)
CI_WINDOW_DAYS = 30
CONTRIBUTORS_PAGE = 100
FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})


def parse_time(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw.replace("Z", "+00:00")) if raw else None


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def percentile(values: Sequence[float], q: int) -> float:
    """The q-th percentile, linear interpolation between closest ranks (inclusive method)."""
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=100, method="inclusive")[q - 1])


def health_variables(owner: str, name: str, now: datetime) -> dict[str, str]:
    """Variables of HEALTH_QUERY: $since (absence window) and the week boundaries $w0 (oldest) … $w12 (now)."""
    variables = {"owner": owner, "name": name, "since": iso(now - ABSENCE_WINDOW)}
    for i in range(queries.WEEKS + 1):
        variables[f"w{i}"] = iso(now - timedelta(weeks=queries.WEEKS - i))
    return variables


def _is_bot(actor: dict[str, Any] | None) -> bool:
    if not actor:
        return True  # a deleted account ("ghost") is not a human response
    return actor.get("__typename") == "Bot" or str(actor.get("login", "")).endswith("[bot]")


def first_response_hours(item: dict[str, Any]) -> float | None:
    """Hours from creation to the first comment or review by someone other than the author and not a bot."""
    created = parse_time(item["createdAt"])
    author = (item.get("author") or {}).get("login")
    times = []
    for ev in (item.get("comments") or {}).get("nodes", []) + (item.get("reviews") or {}).get("nodes", []):
        who = ev.get("author")
        when = parse_time(ev.get("submittedAt") or ev.get("createdAt"))
        if when is not None and not _is_bot(who) and (who or {}).get("login") != author:
            times.append(when)
    if created is None or not times:
        return None
    return max(0.0, (min(times) - created).total_seconds() / 3600)  # imported threads can predate the item


def _m(name: str, value: float, unit: str = "", **metadata: Any) -> Metric:
    return Metric(name=name, value=float(value), source="github", unit=unit, metadata=metadata)


def repository_metrics(repo: dict[str, Any]) -> list[Metric]:
    out = [_m("github.stars", repo["stargazerCount"], "count"), _m("github.forks", repo["forkCount"], "count"),
           _m("github.watchers", repo["watchers"]["totalCount"], "count"),
           _m("github.open_issues", repo["openIssues"]["totalCount"], "count",
              note="issues only, pull requests excluded"),
           _m("github.open_pull_requests", repo["openPullRequests"]["totalCount"], "count"),
           _m("github.releases", repo["releases"]["totalCount"], "count")]
    target = (repo.get("defaultBranchRef") or {}).get("target") or {}
    weekly = [target[f"week{i}"]["totalCount"] for i in range(queries.WEEKS) if f"week{i}" in target]
    if weekly:
        out.append(_m("github.commits_per_week", sum(weekly) / len(weekly), "commits/week",
                      window_weeks=len(weekly), weekly=weekly, branch=repo["defaultBranchRef"]["name"]))
    return out


def pull_request_metrics(conn: dict[str, Any], now: datetime) -> list[Metric]:
    """Merged per week and change-request closure ratio over 12 weeks, or over the span the sample covers."""
    nodes = conn["nodes"]
    start = now - WINDOW
    oldest_update = parse_time(nodes[-1]["updatedAt"]) if nodes else None
    truncated = conn["totalCount"] > len(nodes) and oldest_update is not None and oldest_update > start
    if truncated and oldest_update is not None:
        start = oldest_update  # every PR touched after this instant is in the sample
    weeks = max((now - start).total_seconds() / (7 * 86400), 1 / 7)

    def since(key: str) -> int:
        return sum(1 for n in nodes if (t := parse_time(n[key])) is not None and t >= start)

    merged, opened, closed = since("mergedAt"), since("createdAt"), since("closedAt")
    meta = {"window_start": iso(start), "window_weeks": round(weeks, 2), "sample_size": len(nodes),
            "truncated": truncated}
    out = [_m("github.pull_requests_merged_per_week", merged / weeks, "pull requests/week", merged=merged, **meta)]
    if opened:
        out.append(_m("github.change_request_closure_ratio", closed / opened, "ratio",
                      opened=opened, closed=closed, **meta))
    return out


def response_metrics(repo: dict[str, Any]) -> list[Metric]:
    items = repo["responseIssues"]["nodes"] + repo["responsePullRequests"]["nodes"]
    hours = [h for h in (first_response_hours(i) for i in items) if h is not None]
    if not hours:
        return []
    meta = {"sample_size": len(items), "answered": len(hours), "unanswered": len(items) - len(hours),
            "sample": f"{queries.TTFR_SAMPLE} newest issues and {queries.TTFR_SAMPLE} newest pull requests",
            "excludes": "the author's own comments and bots"}
    return [_m("github.time_to_first_response_median_hours", statistics.median(hours), "hours", **meta),
            _m("github.time_to_first_response_p90_hours", percentile(hours, 90), "hours", **meta)]


def absence_factor(history: dict[str, Any]) -> Metric | None:
    """The fewest authors who made half of the recent commits (CHAOSS contributor absence factor)."""
    counts: Counter[str] = Counter()
    bots = 0
    for node in history["nodes"]:
        author = node.get("author") or {}
        who = (author.get("user") or {}).get("login") or (author.get("email") or author.get("name") or "?").lower()
        if who.endswith("[bot]") or "[bot]@" in who:
            bots += 1  # dependabot and friends are not contributors who can be absent
            continue
        counts[who] += 1
    total = sum(counts.values())
    if not total:
        return None
    running = factor = 0
    for _, n in counts.most_common():
        running += n
        factor += 1
        if running * 2 >= total:
            break
    return _m("github.contributor_absence_factor", factor, "contributors", window_days=ABSENCE_WINDOW.days,
              sample_size=total, bot_commits_left_out=bots, commits_in_window=history["totalCount"],
              authors=len(counts), truncated=history["totalCount"] > total + bots)


def release_metric(conn: dict[str, Any], now: datetime) -> Metric:
    start = now - RELEASE_WINDOW
    published = [parse_time(n["publishedAt"] or n["createdAt"]) for n in conn["nodes"] if not n["isDraft"]]
    recent = [t for t in published if t is not None and t >= start]
    truncated = len(conn["nodes"]) >= queries.RELEASE_WINDOW and len(recent) == len(published)
    return _m("github.releases_per_quarter", len(recent) / 4, "releases/quarter", window_days=RELEASE_WINDOW.days,
              releases_in_window=len(recent), truncated=truncated)


def open_issue_age(repo: dict[str, Any], now: datetime) -> Metric | None:
    """Median age of open issues: exact up to 2 x the window, else the midpoint of its certain bounds."""
    total = repo["openIssues"]["totalCount"]
    oldest = [parse_time(n["createdAt"]) for n in repo["oldestOpenIssues"]["nodes"]]
    newest = [parse_time(n["createdAt"]) for n in repo["newestOpenIssues"]["nodes"]]
    if not total or not oldest:
        return None

    def ages(ts: list[datetime | None]) -> list[float]:
        return [(now - t).total_seconds() / 86400 for t in ts if t is not None]

    if total <= len(oldest) + len(newest):  # the two windows cover every open issue
        sample = ages(oldest) + ages(newest[: max(0, total - len(oldest))])
        return _m("github.open_issue_age_median_days", statistics.median(sample), "days",
                  open_issues=total, sample_size=len(sample), exact=True)
    upper, lower = ages(oldest)[-1], ages(newest)[-1]  # the median lies between these ages
    return _m("github.open_issue_age_median_days", (upper + lower) / 2, "days", open_issues=total,
              sample_size=len(oldest) + len(newest), exact=False, lower_bound=round(lower, 2),
              upper_bound=round(upper, 2))


def contributors_metric(body: Any, link: str | None) -> Metric:
    """Contributors from the first page of 100: exact up to 100; beyond, at least (last page - 1) x 100 + 1.

    (A per_page=1 listing would give the exact count from the Link header, but its ETag follows the body
    only, so a warm rerun would keep answering 304 with a stale count.)
    """
    listed = len(body) if isinstance(body, list) else 0
    m = re.search(r'[?&]page=(\d+)[^>]*>;\s*rel="last"', link or "")
    if not m:
        return _m("github.contributors", listed, "contributors", exact=True,
                  note="accounts with commits on the default branch")
    pages = int(m.group(1))
    return _m("github.contributors", (pages - 1) * CONTRIBUTORS_PAGE + 1, "contributors", exact=False,
              lower_bound=(pages - 1) * CONTRIBUTORS_PAGE + 1, upper_bound=pages * CONTRIBUTORS_PAGE,
              note="at least this many accounts with commits on the default branch")


def ci_metrics(body: dict[str, Any], branch: str, workflow: str, now: datetime) -> list[Metric]:
    """Build time and success rate of the completed runs of the last 30 days in one page (newest first)."""
    start = now - timedelta(days=CI_WINDOW_DAYS)
    page = body.get("workflow_runs") or []
    runs = [r for r in page if (t := parse_time(r.get("created_at"))) is not None and t >= start]
    truncated = len(runs) == len(page) and int(body.get("total_count", 0)) > len(page)
    minutes, ok, failed = _tally_builds(runs)
    meta = {"branch": branch, "window_days": CI_WINDOW_DAYS, "workflow": workflow or "all workflows",
            "sample_size": len(runs), "truncated": truncated,
            "counted": "success vs failure, timed_out, startup_failure (cancelled and skipped runs left out)"}
    out = []
    if minutes:
        out += [_m("performance.build_time", statistics.median(minutes), "minutes", **meta),
                _m("performance.build_time_p95", percentile(minutes, 95), "minutes", **meta)]
    if ok + failed:
        out.append(_m("reliability.build_success_rate", 100 * ok / (ok + failed), "percent",
                      succeeded=ok, failed=failed, **meta))
    return out


def _tally_builds(runs: Sequence[dict[str, Any]]) -> tuple[list[float], int, int]:
    """Durations in minutes, successes and failures of the runs that were builds (not cancelled or skipped)."""
    minutes: list[float] = []
    ok = failed = 0
    for run in runs:
        conclusion = run.get("conclusion")
        if conclusion != "success" and conclusion not in FAILED_CONCLUSIONS:
            continue  # cancelled, skipped, neutral …: not a build
        ok += int(conclusion == "success")
        failed += int(conclusion in FAILED_CONCLUSIONS)
        if (duration := _run_minutes(run)) is not None:
            minutes.append(duration)
    return minutes, ok, failed


def _run_minutes(run: dict[str, Any]) -> float | None:
    """Wall-clock minutes from the run's start (or creation) to its last update; None when unknown."""
    began, ended = parse_time(run.get("run_started_at") or run.get("created_at")), parse_time(run.get("updated_at"))
    if began is not None and ended is not None and ended >= began:
        return (ended - began).total_seconds() / 60
    return None


class GitHubCollector(Collector):
    """Metrics from the GitHub API (3 requests), through the run's one client (the wiring passes it).

    Without a client, `unavailable` says why there is none; with neither, collect() builds a client of its
    own from the context (a collector used on its own)."""

    name: ClassVar[str] = "github"

    def __init__(self, *, client: GitHubClient | None = None, unavailable: str | None = None) -> None:
        self.client = client
        self.unavailable = unavailable

    @classmethod
    def from_context(cls, ctx: RunContext, *, client: GitHubClient | None = None,
                     unavailable: str | None = None) -> GitHubCollector:
        """Production wiring: the run's one client, or None and why (`unavailable`: reported as the skip)."""
        return cls(client=client, unavailable=None if client else unavailable)

    def collect(self, ctx: RunContext) -> Sequence[Metric]:
        if not ctx.config.data_sources.github.enabled:
            raise SourceSkipped("disabled in the configuration (tracking.data_sources.github.enabled)")
        if self.client is None and self.unavailable:
            raise SourceSkipped(self.unavailable)
        client = self.client or GitHubClient.from_context(ctx)
        repository = client.repository or ctx.repository
        if not repository or "/" not in repository:
            raise SourceSkipped("no repository (owner/name): set GITHUB_REPOSITORY or the repository input")
        try:
            metrics = self._collect(client, repository, ctx)
        finally:
            client.cache.flush()
            client.log_usage()
        keep = ctx.config.data_sources.github.metrics
        return [m for m in metrics if not keep or m.name in keep]

    def _collect(self, client: GitHubClient, repository: str, ctx: RunContext) -> list[Metric]:
        owner, name = repository.split("/", 1)
        data = client.graphql(queries.HEALTH_QUERY, health_variables(owner, name, ctx.now))
        repo = data.get("repository")
        if not repo:
            raise GitHubError(f"repository {repository} not found, or the token cannot see it")
        metrics = repository_metrics(repo) + pull_request_metrics(repo["recentPullRequests"], ctx.now)
        metrics += response_metrics(repo)
        metrics.append(release_metric(repo["recentReleases"], ctx.now))
        target = (repo.get("defaultBranchRef") or {}).get("target") or {}
        for metric in (absence_factor(target["recent"]) if "recent" in target else None,
                       open_issue_age(repo, ctx.now)):
            if metric is not None:
                metrics.append(metric)
        metrics += self._rest_metrics(client, repository, repo, ctx)
        return metrics

    def _rest_metrics(self, client: GitHubClient, repository: str, repo: dict[str, Any], ctx: RunContext
                      ) -> list[Metric]:
        """Contributors and CI health: each is conditional (ETag) and optional (a failure omits it, logged)."""
        out: list[Metric] = []
        try:
            resp = client.get(f"/repos/{repository}/contributors", {"per_page": CONTRIBUTORS_PAGE})
            out.append(contributors_metric(resp.body, resp.link))
        except GitHubError as e:
            log.warning("github: contributors not measured: %s", e)
        branch = (repo.get("defaultBranchRef") or {}).get("name")
        if not branch:
            return out
        workflow = ctx.config.data_sources.github.build_workflow
        path = f"/repos/{repository}/actions/" + (f"workflows/{workflow}/runs" if workflow else "runs")
        try:  # `created=>=DATE` would bound the window on GitHub, but its OpenAPI description forbids it
            body = client.get_json(path, {"branch": branch, "status": "completed", "per_page": 100,
                                          "exclude_pull_requests": "true"})
            out += ci_metrics(body or {}, branch, workflow, ctx.now)
        except GitHubError as e:
            log.warning("github: CI health not measured: %s", e)
        return out
