"""The checks STYLE.md asks of the code, run with the suite so they hold on every change: ruff over the
package, the tests, the dev tools and the benchmarks, and mypy (strict) over the package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_ruff_finds_nothing() -> None:
    proc = _run(str(BIN / "ruff"), "check", "--no-cache", "repo_automation", "tests", "devtools", "benchmarks",
                "entrypoint.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict_on_the_package_finds_nothing() -> None:
    proc = _run(str(BIN / "mypy"), "--no-incremental", "--cache-dir", os.devnull)
    assert proc.returncode == 0, proc.stdout + proc.stderr
