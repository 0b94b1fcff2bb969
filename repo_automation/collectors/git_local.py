"""Metrics from the checkout's own git history: no token, no network, three git calls whatever the size.

The calls: `git rev-parse --is-inside-work-tree --is-shallow-repository` (a usable, complete checkout?),
one `git log -z` over HEAD's whole history (committer time, mailmap-aware author name and email, parents)
and one `git for-each-ref refs/tags` (each tag's creator date). Everything else is arithmetic here.

Choices, so the numbers can be checked by hand:

- Every window is counted back from `ctx.now` on the committer date (when a change landed on the branch,
  which survives rebases); commits dated after `now` (clock skew) fall in no window.
- Merge commits move work, they do not add any: they are left out of commit counts and contributor counts,
  but a merge is still "a commit" for days_since_last_commit.
- A person is their author e-mail after .mailmap (%aE), lower-cased. Bots (``[bot]`` in the name or e-mail,
  e.g. dependabot[bot]) are left out of every contributor count and of the absence factor; their commits do
  count in commits_per_week.
- commits_per_week: the mean over the last N seven-day windows (config tracking.data_sources.git.weeks);
  the weekly counts, oldest first, are in the metadata.
- contributor_absence_factor: the fewest authors who made at least half of the non-merge, non-bot commits
  of the last 365 days (a year smooths holidays and release crunches); absent when there were none.
- releases_per_quarter: tags per 91-day window over the last four windows (mean; series in metadata).
  A tag's date is its creator date: the tagger date of an annotated tag, the commit date of a light one.
- A shallow clone (actions/checkout's default depth 1) has no honest history: the collector is SKIPPED with
  the fix in its reason (`fetch-depth: 0`) rather than reporting one commit and one contributor.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from repo_automation.context import RunContext
from repo_automation.domain import Metric
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.gitutil import run_git
from repo_automation.stages import Collector

log = logging.getLogger(__name__)

GitRunner = Callable[..., str]  # run_git(args, cwd, *, timeout=..., errors=...) -> stdout, SourceFailed on error

SOURCE = "git"
ACTIVE_WINDOW_DAYS = 90
ABSENCE_WINDOW_DAYS = 365
QUARTER_DAYS = 91
QUARTERS = 4
SHALLOW_REASON = (
    "shallow clone: the git history metrics need the full history. Set `fetch-depth: 0` on "
    "actions/checkout (or run `git fetch --unshallow`) to measure them."
)
_LOG_FORMAT = "%ct%x1f%aN%x1f%aE%x1f%P"


class Commit(NamedTuple):
    """One commit of HEAD's history (a tuple: the log of a big repository holds hundreds of thousands)."""

    committed: int  # committer time, seconds since the epoch
    author: str  # lower-cased, mailmapped e-mail (the name when the e-mail is empty)
    is_bot: bool
    is_merge: bool


def is_bot(name: str, email: str) -> bool:
    return "[bot]" in name.lower() or "[bot]" in email.lower()


def parse_log(out: str) -> list[Commit]:
    """Parse `git log -z --format=%ct%x1f%aN%x1f%aE%x1f%P` output, newest first."""
    people: dict[tuple[str, str], tuple[str, bool]] = {}
    commits: list[Commit] = []
    for record in out.split("\0"):
        if not record.strip():
            continue
        parts = record.strip("\n").split("\x1f")
        if len(parts) != 4:
            raise SourceFailed(f"unexpected git log record: {record[:120]!r}")
        ts, name, email, parents = parts
        who = people.get((name, email))
        if who is None:
            who = people[(name, email)] = ((email or name).strip().lower(), is_bot(name, email))
        commits.append(Commit(int(ts), who[0], who[1], " " in parents.strip()))
    return commits


def parse_tag_dates(out: str) -> list[int]:
    """Parse `git for-each-ref --format=%(creatordate:unix) refs/tags` output (one epoch per line)."""
    return [int(line) for line in out.split() if line.strip()]


def _windows(now: datetime, count: int, days: int) -> list[tuple[datetime, datetime]]:
    """`count` windows of `days` days ending at now, oldest first; each is (start, end]."""
    span = timedelta(days=days)
    return [(now - span * (i + 1), now - span * i) for i in reversed(range(count))]


def _count_in(sorted_times: Sequence[int], start: datetime, end: datetime) -> int:
    """How many epochs fall in (start, end]; `sorted_times` ascending."""
    return bisect_right(sorted_times, end.timestamp()) - bisect_right(sorted_times, start.timestamp())


def absence_factor(counts: Mapping[str, int]) -> int | None:
    """Fewest authors whose commits reach at least half of all commits (None when there are none)."""
    total = sum(counts.values())
    if total == 0:
        return None
    covered = 0
    for k, n in enumerate(sorted(counts.values(), reverse=True), start=1):
        covered += n
        if covered * 2 >= total:
            return k
    return len(counts)  # pragma: no cover — the loop always reaches half


def compute_metrics(commits: Sequence[Commit], tags: Sequence[int], now: datetime, weeks: int) -> list[Metric]:
    """Every git metric from the parsed history, each with its window and sample size in its `basis` (the
    same as numbers in its metadata). Pure: the tests check each number by hand."""
    stamp = now.timestamp()
    work = [c for c in commits if not c.is_merge and c.committed <= stamp]
    last = _last_commit(commits, now)
    out = [_commits_per_week(work, now, weeks, last)]
    out.extend(_contributor_metrics([c for c in work if not c.is_bot], now))
    if last is not None:
        out.append(_days_since_last_commit(last, now))
    out.append(_releases_per_quarter(tags, now))
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _up_to(now: datetime) -> str:
    """The end of every window: the run's clock (`now`), which is today unless a test or a replay says not."""
    return f"up to today ({now.date().isoformat()})"


def _ago(last: datetime, now: datetime) -> str:
    days = int(max(0.0, (now - last).total_seconds()) // 86400)
    return "today" if days == 0 else f"{_plural(days, 'day')} ago"


def _commits_per_week(work: Sequence[Commit], now: datetime, weeks: int, last: datetime | None) -> Metric:
    """Non-merge commits per week over the window, with the weekly series and the bot commits in it."""
    times = sorted(c.committed for c in work)
    weekly = [(s, _count_in(times, s, e)) for s, e in _windows(now, weeks, 7)]
    window_start = (now - timedelta(weeks=weeks)).timestamp()
    total = sum(n for _, n in weekly)
    basis = f"{_plural(total, 'commit')} over {_plural(weeks, 'week')} {_up_to(now)}"
    basis += f", last commit {_ago(last, now)}" if last is not None else ", no commit yet"
    return _metric("git.commits_per_week", total / weeks, "commits/week", {
        "weeks": weeks,
        "window_days": weeks * 7,
        "sample_size": total,
        "series": [{"week_start": s.isoformat(), "commits": n} for s, n in weekly],
        "bot_commits": sum(1 for c in work if c.is_bot and c.committed > window_start),
    }, basis)


def _contributor_metrics(people: Sequence[Commit], now: datetime) -> list[Metric]:
    """Active (90 days) and total human contributors, and the absence factor over the last year."""
    active_since = (now - timedelta(days=ACTIVE_WINDOW_DAYS)).timestamp()
    recent = [c for c in people if c.committed > active_since]
    out = [_metric("git.active_contributors_90d", len({c.author for c in recent}), "contributors",
                   {"window_days": ACTIVE_WINDOW_DAYS, "sample_size": len(recent)},
                   f"authors of {_plural(len(recent), 'commit')} in {ACTIVE_WINDOW_DAYS} days {_up_to(now)}"),
           _metric("git.contributors_total", len({c.author for c in people}), "contributors",
                   {"sample_size": len(people)},
                   f"authors of {_plural(len(people), 'commit')}, the whole history (merges and bots left out)")]
    year_since = (now - timedelta(days=ABSENCE_WINDOW_DAYS)).timestamp()
    counts = Counter(c.author for c in people if c.committed > year_since)
    factor = absence_factor(counts)
    if factor is not None:
        commits = sum(counts.values())
        out.append(_metric("git.contributor_absence_factor", factor, "contributors", {
            "window_days": ABSENCE_WINDOW_DAYS, "commits": commits, "authors": len(counts)},
            f"{_plural(commits, 'commit')} by {_plural(len(counts), 'author')} in {ABSENCE_WINDOW_DAYS} days "
            f"{_up_to(now)}"))
    return out


def _last_commit(commits: Sequence[Commit], now: datetime) -> datetime | None:
    """The newest commit not in the future (any commit when all are); None without commits."""
    stamp = now.timestamp()
    landed = [c.committed for c in commits if c.committed <= stamp] or [c.committed for c in commits]
    return datetime.fromtimestamp(max(landed), UTC) if landed else None


def _days_since_last_commit(last: datetime, now: datetime) -> Metric:
    days = max(0.0, (now - last).total_seconds() / 86400)
    return _metric("git.days_since_last_commit", round(days, 2), "days", {"last_commit": last.isoformat()},
                   f"last commit on {last.date().isoformat()}, counted {_up_to(now)}")


def _releases_per_quarter(tags: Sequence[int], now: datetime) -> Metric:
    """Tags per quarter over the last QUARTERS quarters, with the per-quarter series."""
    tag_times = sorted(tags)
    quarters = [(s, e, _count_in(tag_times, s, e)) for s, e in _windows(now, QUARTERS, QUARTER_DAYS)]
    counted = sum(n for _, _, n in quarters)
    return _metric("git.releases_per_quarter", counted / QUARTERS, "releases/quarter", {
        "window_days": QUARTER_DAYS,
        "sample_size": counted,
        "series": [{"start": s.isoformat(), "end": e.isoformat(), "tags": n} for s, e, n in quarters],
        "tags_total": len(tags),
    }, f"{_plural(counted, 'tag')} in {QUARTERS} quarters of {QUARTER_DAYS} days {_up_to(now)}")


def _metric(name: str, value: float, unit: str, metadata: Mapping[str, Any], basis: str) -> Metric:
    return Metric(name=name, value=float(value), source=SOURCE, unit=unit, metadata=dict(metadata), basis=basis)


class GitCollector(Collector):
    """The embedded default collector: git.* metrics from the checkout alone."""

    name: ClassVar[str] = "git"

    def __init__(self, *, workspace: Path, weeks: int, enabled: bool,
                 runner: GitRunner = run_git, timeout_s: float = 120.0) -> None:
        self.workspace = workspace
        self.weeks = weeks
        self.enabled = enabled
        self._run = runner
        self.timeout_s = timeout_s

    @classmethod
    def from_context(cls, ctx: RunContext) -> GitCollector:
        git_cfg = ctx.config.data_sources.git
        return cls(
            workspace=ctx.workspace,
            weeks=git_cfg.weeks,
            enabled=git_cfg.enabled,
            timeout_s=min(120.0, ctx.settings.source_timeout_s),
        )

    def collect(self, ctx: RunContext) -> Sequence[Metric]:
        if not self.enabled:
            raise SourceSkipped("disabled in configuration (tracking.data_sources.git.enabled)")
        self._check_checkout()
        commits = self._history()
        tags = parse_tag_dates(self._git(["for-each-ref", "--format=%(creatordate:unix)", "refs/tags"]))
        metrics = compute_metrics(commits, tags, ctx.now, self.weeks)
        log.debug("git: %d commits, %d tags -> %d metrics", len(commits), len(tags), len(metrics))
        return metrics

    def _git(self, args: list[str]) -> str:
        # an old commit may carry an author name in Latin-1: never let one byte fail the whole history
        return self._run(args, self.workspace, timeout=self.timeout_s, errors="replace")

    def _check_checkout(self) -> None:
        if not self.workspace.is_dir():
            raise SourceSkipped(f"not a git checkout: {self.workspace} is not a folder")
        try:
            out = self._git(["rev-parse", "--is-inside-work-tree", "--is-shallow-repository"])
        except SourceFailed as e:
            text = str(e)
            if "dubious ownership" in text:
                raise SourceFailed(
                    f"git refuses the checkout (dubious ownership): run "
                    f"`git config --global --add safe.directory {self.workspace}` first") from e
            if "not a git repository" in text:
                raise SourceSkipped(f"not a git checkout: {self.workspace}") from e
            raise
        lines = out.split()
        if not lines or lines[0] != "true":
            raise SourceSkipped(f"not a git work tree: {self.workspace}")
        if len(lines) > 1 and lines[1] == "true":
            raise SourceSkipped(SHALLOW_REASON)

    def _history(self) -> list[Commit]:
        args = ["log", "--no-show-signature", "-z", f"--format={_LOG_FORMAT}", "HEAD", "--"]
        try:
            out = self._git(args)
        except SourceFailed as e:
            if any(m in str(e) for m in ("does not have any commits", "bad revision 'HEAD'", "unknown revision")):
                raise SourceSkipped("the repository has no commits yet") from e
            raise
        return parse_log(out)


def shallow_notice(workspace: Path) -> str | None:
    """The shallow-clone notice for RunReport.notices when `workspace` is a shallow clone (else None)."""
    try:
        out = run_git(["rev-parse", "--is-shallow-repository"], workspace, timeout=10)
    except SourceFailed:
        return None
    return SHALLOW_REASON if out.strip() == "true" else None
