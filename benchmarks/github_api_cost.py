"""API cost of the GitHub collector on a large synthetic repository, against the naive PyGithub walk.

The local GitHub (tests/fakegithub, every request validated against GitHub's OpenAPI description and
GraphQL schema) holds 5,000 pull requests, 20,000 commits, 400 contributors and 1,000 issues. We measure:
- our collector, cold: HTTP requests and rate-limit points (REST 1 per non-304 answer, GraphQL its cost);
- our collector again with the ETag cache warm (a new client reading the cache file): points paid;
- the naive walk: PyGithub's get_pulls / get_commits / get_contributors / get_issues iterated to the end.
Targets: requests <= 3; warm rerun 0 REST points and <= 2 GraphQL points.

Run: .venv/bin/python benchmarks/github_api_cost.py   (last line: name=value pairs)
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from repo_automation.collectors.github import GitHubCollector  # noqa: E402
from repo_automation.github.auth import TokenAuth  # noqa: E402
from repo_automation.github.cache import FileEtagCache  # noqa: E402
from repo_automation.github.client import GitHubClient, build_session  # noqa: E402
from repo_automation.redaction import Secret  # noqa: E402
from tests.fakegithub.repo_data import ClientFakeGitHub, Commit, Event, Item, Release, data_for, workflow_run  # noqa: E402
from tests.helpers import FIXED_NOW, make_context  # noqa: E402

REPO = "big-org/monorepo"
PULLS, COMMITS, CONTRIBUTORS, ISSUES = 5000, 20_000, 400, 1000


def seed(fake: ClientFakeGitHub) -> None:
    state = fake.state
    repo = state.add_repo(REPO)
    d = data_for(state, REPO)
    now, hour = FIXED_NOW, timedelta(hours=1)
    logins = [f"dev{i:03d}" for i in range(CONTRIBUTORS)]
    d.stars, d.forks, d.watchers = 12_345, 2_345, 345
    d.commits = [Commit(when=now - i * hour * 0.7, login=logins[(i * 7) % CONTRIBUTORS],
                        email=f"{logins[(i * 7) % CONTRIBUTORS]}@example.com") for i in range(COMMITS)]
    d.contributors = [(login, 1 + (CONTRIBUTORS - i) * 3) for i, login in enumerate(logins)]
    d.pulls = []
    for n in range(1, PULLS + 1):
        created = now - (PULLS - n) * hour * 2
        merged = created + 5 * hour if n % 4 else None
        state_ = "MERGED" if merged else ("OPEN" if n % 8 == 0 and n > PULLS - 200 else "CLOSED")
        d.pulls.append(Item(number=n, created=created, author=logins[n % CONTRIBUTORS], state=state_,
                            merged=merged if merged and merged <= now else None,
                            closed=(merged or created + 9 * hour) if state_ != "OPEN" else None,
                            reviews=[Event(when=created + 3 * hour, login=logins[(n + 1) % CONTRIBUTORS])]))
    d.issues = [Item(number=PULLS + n, created=now - n * hour * 9, author=logins[(n * 3) % CONTRIBUTORS],
                     state="OPEN" if n % 3 else "CLOSED", closed=None if n % 3 else now - n * hour * 8,
                     comments=[Event(when=now - n * hour * 9 + 4 * hour, login=logins[(n * 5) % CONTRIBUTORS])])
                for n in range(1, ISSUES + 1)]
    d.releases = [Release(created=now - timedelta(days=14 * i)) for i in range(60)]
    d.runs = [workflow_run(state, repo, run_id=i, started=now - i * hour * 3, minutes=8 + i % 7,
                           conclusion="failure" if i % 10 == 0 else "success") for i in range(1, 400)]
    for n in range(1, ISSUES + 1):  # the REST issues listing (issues and pull requests, as GitHub lists them)
        state.add_issue(repo, title=f"Issue {n}", user=logins[n % CONTRIBUTORS], state="open" if n % 3 else "closed")
    for n in range(1, PULLS + 1):
        state.add_issue(repo, title=f"Change {n}", user=logins[n % CONTRIBUTORS], pull=True, state="closed")


def ours(fake: ClientFakeGitHub, cache_path: Path) -> tuple[GitHubClient, float, int]:
    client = GitHubClient(session=build_session(), auth=TokenAuth(Secret(fake.token)), api_url=fake.url,
                          cache=FileEtagCache(cache_path), repository=REPO, timeout_s=60)
    ctx = make_context(cache_path.parent, github_repository=REPO)
    start = time.perf_counter()
    metrics = GitHubCollector(client=client).collect(ctx)
    return client, time.perf_counter() - start, len(metrics)


def naive(fake: ClientFakeGitHub) -> tuple[int, float]:
    from github import Auth, Github

    before = len(fake.requests)
    start = time.perf_counter()
    gh = Github(auth=Auth.Token(fake.token), base_url=fake.url, per_page=100, timeout=60,
                seconds_between_requests=None)  # no client-side throttle: count requests, not sleeps
    repo = gh.get_repo(REPO)
    seen = 0
    for listing in (repo.get_pulls(state="all"), repo.get_commits(), repo.get_contributors(),
                    repo.get_issues(state="all")):
        for _item in listing:
            seen += 1
    gh.close()
    return len(fake.requests) - before, time.perf_counter() - start


def main() -> None:
    with ClientFakeGitHub() as fake, tempfile.TemporaryDirectory() as tmp:
        seed(fake)
        cache_path = Path(tmp) / "etag-cache.json"
        ours(fake, Path(tmp) / "throwaway.json")  # warms the fake (schema load, REST shapes), not the cache
        fake.requests.clear()
        cold, cold_s, n_metrics = ours(fake, cache_path)
        warm, warm_s, _ = ours(fake, cache_path)
        naive_requests, naive_s = naive(fake)
        assert not fake.violations, fake.violations
    u, w = cold.usage, warm.usage
    print(f"collector: {n_metrics} metrics, {u.requests} requests ({u.rest_points} REST + {u.graphql_points} GraphQL "
          f"points) in {cold_s:.2f}s; warm rerun {w.requests} requests, {w.rest_points} REST points "
          f"({w.not_modified} answered 304) + {w.graphql_points} GraphQL points in {warm_s:.2f}s")
    print(f"naive PyGithub walk: {naive_requests} requests in {naive_s:.2f}s")
    print(f"requests={u.requests} points={u.points} warm_points={w.points} warm_rest_points={w.rest_points} "
          f"warm_graphql_points={w.graphql_points} naive_requests={naive_requests}")


if __name__ == "__main__":
    main()
