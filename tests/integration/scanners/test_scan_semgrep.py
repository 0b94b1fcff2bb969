"""Real semgrep with local rules only: every result it prints is one finding, ids free of folder prefixes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from repo_automation.domain import Severity
from repo_automation.scanners.semgrep import SemgrepScanner
from tests.integration.scanners.scanning import context, external_tool


def semgrep_binary() -> str:
    return external_tool("semgrep", "SEMGREP", "`python -m venv V && V/bin/pip install semgrep`, then put V/bin "
                         "on PATH or set SEMGREP=V/bin/semgrep")


def test_every_result_semgrep_prints_is_one_finding(project: Path) -> None:
    exe = semgrep_binary()
    ctx = context(project, None, semgrep_config=["semgrep/rules.yml"], paths=["app"])
    findings = SemgrepScanner(options=ctx.config.security_scanning, executable=exe).scan(ctx)
    proc = subprocess.run([exe, "scan", "--json", "--metrics=off", "--disable-version-check", "--no-git-ignore",
                           "--config", "semgrep/rules.yml", "app/__init__.py", "app/shell.py", "app/web.py"],
                          cwd=project, capture_output=True, text=True, timeout=300, check=False)
    direct = json.loads(proc.stdout)["results"]
    assert len(direct) == 4  # three shell=True calls (one under # nosec: semgrep ignores bandit's marker), eval
    ours = sorted((f.location.path, f.location.start_line) for f in findings if f.location)
    assert ours == sorted((r["path"], r["start"]["line"]) for r in direct)
    assert {f.rule_id for f in findings} == {"subprocess-shell-true", "eval-call"}
    shell = [f for f in findings if f.rule_id == "subprocess-shell-true"]
    assert {f.severity for f in shell} == {Severity.HIGH} and shell[0].cwe == ("CWE-78",)
    assert len({f.fingerprint for f in findings}) == 4
