"""Start-up cost of the CLI and the time of a local run on this repository.

- help_s: `repo-automation --help`, median of several runs, each in a fresh subprocess (target < 0.3 s:
  heavy libraries are imported lazily).
- local_run_s: `repo-automation run --skip-security --dry-run` on this checkout, no token, reports into a temp
  folder, median of a few runs (target < 10 s). Dry run so that upkeep (badges, changelog) never edits
  this checkout. Every service URL points at a closed port on 127.0.0.1, so nothing
  leaves the machine; sources without configuration skip themselves.

When --help misses its target the slowest imports (`python -X importtime`) are printed to stderr.

Usage: .venv/bin/python benchmarks/startup.py [HELP_RUNS] [RUN_RUNS]   (last line: name=value pairs)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELP_TARGET_S, RUN_TARGET_S = 0.3, 10.0
CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens


def cli() -> list[str]:
    """The installed console script when there is one (what users run), else `python -m`."""
    script = Path(sys.executable).parent / "repo-automation"
    return [str(script)] if script.exists() else [sys.executable, "-m", "repo_automation"]


def clean_env(home: str) -> dict[str, str]:
    """No token, no CI variables, no proxies: a local run that talks to nobody."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LANG": "C.UTF-8",
            "GIT_CONFIG_NOSYSTEM": "1", "GITHUB_API_URL": CLOSED, "GITHUB_GRAPHQL_URL": CLOSED + "/graphql",
            "PIP_INDEX_URL": CLOSED + "/simple", "PIP_AUDIT_OSV_URL": CLOSED, "NO_PROXY": "*"}


def timed(args: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> float:
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return elapsed


def slowest_imports(env: dict[str, str], top: int = 8) -> list[tuple[int, str]]:
    """(cumulative microseconds, module) of the costliest imports of `repo_automation.cli`."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import repo_automation.cli"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60, check=True)
    rows = []
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[1].isdigit():
            rows.append((int(parts[1]), parts[2]))
    return sorted(rows, reverse=True)[:top]


def main(argv: list[str]) -> int:
    help_runs = int(argv[0]) if argv else 9
    run_runs = int(argv[1]) if len(argv) > 1 else 3
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        env = clean_env(tmp)
        timed([*cli(), "--help"], env)  # warm the page cache and the bytecode
        help_s = statistics.median(timed([*cli(), "--help"], env) for _ in range(help_runs))
        python_s = statistics.median(timed([sys.executable, "-c", "pass"], env) for _ in range(help_runs))
        if help_s >= HELP_TARGET_S:
            print(f"--help took {help_s:.3f}s (target {HELP_TARGET_S}s); slowest imports:", file=sys.stderr)
            for us, module in slowest_imports(env):
                print(f"  {us / 1e6:.3f}s  {module}", file=sys.stderr)
        runs = []
        for i in range(run_runs):
            out = Path(tmp) / f"out{i}"
            # exit 1 is a policy verdict (e.g. a failed gate on this very code), still a complete run
            runs.append(timed([*cli(), "run", "--workspace", str(ROOT), "--skip-security", "--dry-run",
                              "--output-dir", str(out)],
                              env, ok=(0, 1)))
            if not (out / "project-health-report.json").exists():
                raise SystemExit(f"the local run wrote no report into {out}")
        local_run_s = statistics.median(runs)
    print(f"help runs: {help_runs}, local runs: {run_runs} (targets: help < {HELP_TARGET_S}s, run < {RUN_TARGET_S}s)")
    print(f"help_s={help_s:.3f} local_run_s={local_run_s:.2f} python_s={python_s:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
