"""Local git collector on a large synthetic history, and the history store's read path.

- git_collector_s: GitCollector.collect on a repository of N commits (default 300,000, 500 authors, a tag
  every 1,000 commits) built with `git fast-import`; the collector makes three git calls whatever N is, so the
  time is `git log` over the history plus parsing. Also reported per 100k commits.
- git_log_s: the bare `git log` the collector runs, for comparison (the parse overhead is the difference).
- history_read_ms: build_history for 40 metrics of one repository against a SQLite store holding 365 daily
  runs of them for each of four repositories (a shared store: every read is scoped to one repository).

Usage: .venv/bin/python benchmarks/git_history.py [COMMITS]   (last line: name=value pairs)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from repo_automation.collectors.git_local import GitCollector  # noqa: E402
from repo_automation.domain import Metric  # noqa: E402
from repo_automation.history import build_history, open_store  # noqa: E402
from tests.helpers import make_context  # noqa: E402

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def fast_import_stream(commits: int) -> bytes:
    start = int((NOW - timedelta(days=3 * 365)).timestamp())
    step = max(1, (3 * 365 * 86400) // commits)
    out = []
    for i in range(commits):
        who = f"user{i % 500}"
        ts = start + i * step
        msg = f"change {i}"
        out.append(f"commit refs/heads/main\nmark :{i + 1}\nauthor {who} <{who}@example.com> {ts} +0000\n"
                   f"committer {who} <{who}@example.com> {ts} +0000\ndata {len(msg)}\n{msg}\n")
        if i:
            out.append(f"from :{i}\n")
        out.append("\n")
        if i % 1000 == 0:
            out.append(f"reset refs/tags/t{i}\nfrom :{i + 1}\n\n")
    return "".join(out).encode()


def build_repo(path: Path, commits: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, timeout=60)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=fast_import_stream(commits), check=True,
                   timeout=1800)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=path, check=True, timeout=600)


def bench_git(path: Path) -> tuple[float, float]:
    ctx = make_context(path, now=NOW)
    collector = GitCollector.from_context(ctx)
    collector.collect(ctx)  # warm the page cache
    t = time.perf_counter()
    collector.collect(ctx)
    collect_s = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run(["git", "log", "--no-show-signature", "-z", "--format=%ct%x1f%aN%x1f%aE%x1f%P", "HEAD", "--"],
                   cwd=path, check=True, capture_output=True, timeout=1800)
    return collect_s, time.perf_counter() - t


def bench_history(folder: Path) -> float:
    names = [f"bench.metric_{i}" for i in range(40)]
    with open_store("history.sqlite", folder) as store:
        for day in range(365, 0, -1):
            for repo in range(4):
                store.record([Metric(name=n, value=float(day + i + repo), source="bench")
                              for i, n in enumerate(names)], NOW - timedelta(days=day, minutes=repo),
                             repository=f"acme/repo{repo}")
        current = [Metric(name=n, value=1.0, source="bench") for n in names]
        t = time.perf_counter()
        for _ in range(10):
            history = build_history(store, current, NOW, repository="acme/repo1")
        elapsed = (time.perf_counter() - t) / 10 * 1000
    first = history.changes[0]
    assert first.previous == 1.0 + 0 + 1, first  # day 1, metric 0, repo1: its own value, not a neighbour's
    return elapsed


def main() -> None:
    commits = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    with tempfile.TemporaryDirectory(prefix="git-history-bench-") as tmp:
        repo = Path(tmp) / "repo"
        t = time.perf_counter()
        build_repo(repo, commits)
        print(f"built {commits} commits in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        collect_s, log_s = bench_git(repo)
        read_ms = bench_history(Path(tmp))
    per_100k = collect_s / commits * 100_000
    print(f"commits={commits} git_collector_s={collect_s:.2f} git_collector_s_per_100k={per_100k:.2f} "
          f"git_log_s={log_s:.2f} history_read_ms={read_ms:.1f}")


if __name__ == "__main__":
    main()
