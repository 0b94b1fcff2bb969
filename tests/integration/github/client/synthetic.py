"""A synthetic repository with numbers small enough to check by hand (see EXPECTED and the comments).

Times are relative to tests.helpers.FIXED_NOW (2026-11-29 12:00 UTC), the RunContext's `now`.
"""

from __future__ import annotations

from datetime import timedelta

from tests.fakegithub.repo_data import Commit, Event, Item, Release, data_for, workflow_run
from tests.fakegithub.state import State
from tests.helpers import FIXED_NOW

REPO = "octo-org/hello-world"
NOW = FIXED_NOW
D = timedelta(days=1)
H = timedelta(hours=1)

# Hand-computed expectations.
EXPECTED = {
    "github.stars": 42, "github.forks": 7, "github.watchers": 5,
    "github.open_issues": 3,  # I1, I2, I4
    "github.open_pull_requests": 2,  # #4, #6
    "github.releases": 4,  # the draft counts in totalCount
    "github.commits_per_week": 6.5,  # 1 + 2 + … + 12 = 78 commits in 12 weeks; 10 older ones left out
    "github.pull_requests_merged_per_week": 2 / 12,  # #1 and #2 merged within 12 weeks; #5 100 days ago
    "github.change_request_closure_ratio": 0.6,  # closed #1 #2 #3 / opened #1 #2 #3 #4 #6
    # first responses (h): PRs 2, 5, 24, 1, 10; issues 30, 3, 48 → sorted 1 2 3 5 10 24 30 48
    "github.time_to_first_response_median_hours": 7.5,  # (5 + 10) / 2
    "github.time_to_first_response_p90_hours": 35.4,  # 30 + 0.3 x (48 - 30)
    "github.contributor_absence_factor": 2,  # alice 30 + bob 25 ≥ half of 78
    "github.releases_per_quarter": 0.5,  # 2 published within 365 days / 4
    "github.open_issue_age_median_days": 50,  # ages 10, 50, 200
    "github.contributors": 5,
    "performance.build_time": 16,  # success/failure runs on main, last 30 days: 10, 20, 30, 12 minutes
    "performance.build_time_p95": 28.5,  # 20 + 0.85 x (30 - 20)
    "reliability.build_success_rate": 75,  # 3 success, 1 failure (the cancelled run is left out)
}


def _commits() -> list[Commit]:
    authors = ["alice"] * 30 + ["bob"] * 25 + ["carol"] * 23
    out = []
    for week in range(12):  # week 0 is the oldest; it holds 1 commit, week 11 holds 12
        start = NOW - timedelta(weeks=12 - week)
        for k in range(week + 1):
            login = authors.pop()
            out.append(Commit(when=start + D + k * H, login=login, email=f"{login}@example.com"))
    out += [Commit(when=NOW - 100 * D + k * H, login="old", email="old@example.com") for k in range(10)]
    return out


def _pulls() -> list[Item]:
    return [
        Item(number=1, created=NOW - 12 * D, author="bob", state="MERGED", merged=NOW - 10 * D,
             closed=NOW - 10 * D, reviews=[Event(when=NOW - 12 * D + 2 * H, login="alice")]),
        Item(number=2, created=NOW - 21 * D, author="carol", state="MERGED", merged=NOW - 20 * D,
             closed=NOW - 20 * D,
             comments=[Event(when=NOW - 21 * D + H, login="carol"),  # the author: not a response
                       Event(when=NOW - 21 * D + 2 * H, login="dependabot[bot]")],  # a bot: not a response
             reviews=[Event(when=NOW - 21 * D + 5 * H, login="bob")]),
        Item(number=3, created=NOW - 30 * D, author="dave", state="CLOSED", closed=NOW - 5 * D,
             comments=[Event(when=NOW - 29 * D, login="alice")]),
        Item(number=4, created=NOW - 3 * D, author="erin"),
        Item(number=5, created=NOW - 101 * D, author="bob", state="MERGED", merged=NOW - 100 * D,
             closed=NOW - 100 * D, reviews=[Event(when=NOW - 101 * D + H, login="alice")]),
        Item(number=6, created=NOW - 2 * D, author="frank", comments=[Event(when=NOW - 2 * D + 10 * H, login="bob")]),
    ]


def _issues() -> list[Item]:
    return [
        Item(number=11, created=NOW - 50 * D, author="gina",
             comments=[Event(when=NOW - 50 * D + H, login="gina"),
                       Event(when=NOW - 50 * D + 2 * H, login="github-actions[bot]"),
                       Event(when=NOW - 50 * D + 30 * H, login="alice")]),
        Item(number=12, created=NOW - 10 * D, author="hank"),
        Item(number=13, created=NOW - 40 * D, author="ivan", state="CLOSED", closed=NOW - 35 * D,
             comments=[Event(when=NOW - 40 * D + 3 * H, login="bob")]),
        Item(number=14, created=NOW - 200 * D, author="judy", comments=[Event(when=NOW - 198 * D, login="carol")]),
    ]


def seed(state: State, full_name: str = REPO) -> None:
    repo = state.repo(*full_name.split("/")) or state.add_repo(full_name)
    d = data_for(state, full_name)
    d.stars, d.forks, d.watchers = 42, 7, 5
    d.commits, d.pulls, d.issues = _commits(), _pulls(), _issues()
    d.releases = [Release(created=NOW - 30 * D), Release(created=NOW - 200 * D), Release(created=NOW - 400 * D),
                  Release(created=NOW - 10 * D, draft=True)]
    d.contributors = [("alice", 300), ("bob", 200), ("carol", 100), ("dave", 5), ("erin", 1)]
    run = lambda i, days, minutes, conclusion, **kw: workflow_run(  # noqa: E731
        state, repo, run_id=i, started=NOW - days * D, minutes=minutes, conclusion=conclusion, **kw)
    d.runs = [run(1, 1, 10, "success"), run(2, 3, 20, "success"), run(3, 5, 30, "failure"),
              run(4, 6, 2, "cancelled"), run(5, 8, 12, "success"),
              run(6, 2, 50, "failure", branch="feature"),  # another branch: left out
              run(7, 40, 99, "success")]  # older than 30 days: left out
