"""We run on ourselves: the complexity gate of our own configuration (.github/project-metrics.json, every
function at most 15) holds on this repository, measured by our own complexity collector and gate."""

from __future__ import annotations

import json
from pathlib import Path

from repo_automation.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_our_own_complexity_gate_holds(tmp_path: Path) -> None:
    out = tmp_path / "out"
    status = main(["run", "-C", str(ROOT), "--config", ".github/project-metrics.json", "--output-dir", str(out),
                   "--skip-security", "--skip-deps", "--skip-docs"], env={"PATH": "/usr/bin:/bin"})
    report = json.loads((out / "project-health-report.json").read_text(encoding="utf-8"))
    gate = next(g for g in report["gates"] if g["name"] == "complexity_threshold")
    assert gate["passed"] is True, gate["message"]
    assert gate["threshold"] == 15
    assert status == 0, report["policy"]["reasons"]
