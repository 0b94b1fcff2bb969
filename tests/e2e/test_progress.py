"""What a person sees while a run runs: on a terminal (a real pseudo-terminal, through pexpect) the live view
names every stage with its status and time; through a pipe nothing of it; in Actions a `::group::` per stage.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from tests.sample_repo import write_sample_repo

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
STAGES = [("collector", "git"), ("collector", "complexity"), ("scanner", "bandit"), ("history", "history"),
          ("sink", "reports"), ("sink", "sarif")]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "TERM": "xterm-256color", "GIT_CONFIG_NOSYSTEM": "1", "LANG": "C.UTF-8"}
    return env | extra


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return write_sample_repo(tmp_path / "repo")


def _command(workspace: Path) -> list[str]:
    return ["-m", "repo_automation", "run", "-C", str(workspace), "--dry-run"]


def test_a_terminal_sees_each_stage_with_its_status_and_time(tmp_path: Path, workspace: Path) -> None:
    child = pexpect.spawn(sys.executable, _command(workspace), env=_env(tmp_path), encoding="utf-8",
                          dimensions=(60, 140), timeout=60)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus in (0, 1), child.before
    screen = ANSI.sub("", child.before or "")
    for kind, name in STAGES:
        row = re.search(rf"{kind}\s+│\s+{re.escape(name)}\s+│\s+(done|skipped|failed)\s+│\s+\d+\.\d s", screen)
        assert row, f"{kind} {name} not shown as finished in:\n{screen[-3000:]}"
    assert "running" in screen  # drawn while stages were still going, then redrawn as they ended
    assert "repo-automation" in screen  # the view's title


def test_a_pipe_gets_no_live_view(tmp_path: Path, workspace: Path) -> None:
    proc = subprocess.run([sys.executable, *_command(workspace)], env=_env(tmp_path), capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    assert "\x1b[" not in proc.stdout + proc.stderr  # no cursor movement, no colour
    assert "━" not in proc.stderr and "│" not in proc.stderr  # no table drawn
    assert "health" in proc.stderr  # the log itself is still there


def test_actions_gets_a_group_per_stage(tmp_path: Path, workspace: Path) -> None:
    summary = tmp_path / "summary.md"
    env = _env(tmp_path, GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary),
               GITHUB_OUTPUT=str(tmp_path / "out.txt"))
    proc = subprocess.run([sys.executable, *_command(workspace)], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    groups = re.findall(r"^::group::(\w+) (\S+): (ok|skipped|failed) in \d+\.\d s$", proc.stdout, re.M)
    assert {(kind, name) for kind, name, _ in groups} >= set(STAGES), proc.stdout
    assert proc.stdout.count("::group::") == proc.stdout.count("::endgroup::")
    assert "\x1b[" not in proc.stdout + proc.stderr
    text = summary.read_text(encoding="utf-8")
    timing = text[text.index("Step timing"):]
    for kind, name in STAGES[:4]:  # stages that ran before the summary was written
        assert re.search(rf"\| {name} \| {kind} \| \w+ \| \d", timing), (name, timing)
