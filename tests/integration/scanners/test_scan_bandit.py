"""Real bandit over the fixture project: nothing lost or duplicated, the repo's config and # nosec honoured."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from repo_automation.domain import Severity
from repo_automation.scanners.bandit import BanditScanner
from tests.integration.scanners.scanning import context, tool_path


def bandit_directly(project: Path) -> list[dict]:
    """bandit as a user would run it on the fixture: its config, the same exclusions (venv)."""
    proc = subprocess.run(
        [tool_path("bandit"), "-r", ".", "-f", "json", "-q", "-c", "pyproject.toml", "-x", "./venv"],
        cwd=project, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["results"]


def test_every_issue_bandit_prints_is_one_finding(project: Path) -> None:
    ctx = context(project)
    findings = BanditScanner(options=ctx.config.security_scanning).scan(ctx)
    direct = bandit_directly(project)
    assert len(direct) == 11  # the fixture's known issues
    ours = sorted((f.rule_id, f.location.path, f.location.start_line) for f in findings if f.location)
    theirs = sorted((r["test_id"], r["filename"].removeprefix("./"), r["line_number"]) for r in direct)
    assert ours == theirs
    assert len({f.fingerprint for f in findings}) == len(findings)  # two identical B602 calls stay two


def test_findings_are_normalised(project: Path) -> None:
    ctx = context(project)
    findings = BanditScanner(options=ctx.config.security_scanning).scan(ctx)
    shell = [f for f in findings if f.rule_id == "B602"]
    assert len(shell) == 2
    f = shell[0]
    assert f.tool == "bandit" and f.severity is Severity.HIGH and f.confidence == "high"
    assert f.cwe == ("CWE-78",)
    assert f.location is not None and f.location.path == "app/shell.py" and f.location.start_line == 8
    assert f.location.snippet == "return subprocess.call(cmd, shell=True)"
    assert f.help_uri and f.help_uri.startswith("https://")
    assert f.state == "active"


def test_repo_config_nosec_and_exclude_are_honoured(project: Path) -> None:
    ctx = context(project)
    findings = BanditScanner(options=ctx.config.security_scanning).scan(ctx)
    rules = {f.rule_id for f in findings}
    assert "B101" not in rules  # skipped by [tool.bandit] in the fixture's pyproject.toml
    assert not [f for f in findings if f.location and f.location.start_line == 25]  # the `# nosec` line
    assert not [f for f in findings if f.location and f.location.path.startswith("venv/")]  # default exclude
    # without the repository's [tool.bandit], the assert is reported: the config really is read
    (project / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n', encoding="utf-8")
    again = BanditScanner(options=ctx.config.security_scanning).scan(ctx)
    assert "B101" in {f.rule_id for f in again}


def test_paths_and_exclude_from_config(project: Path) -> None:
    ctx = context(project, paths=["app"], exclude=["web.py"])
    findings = BanditScanner(options=ctx.config.security_scanning).scan(ctx)
    assert findings and {f.location.path for f in findings if f.location} == {"app/shell.py"}


def test_fingerprint_survives_moved_code(project: Path) -> None:
    ctx = context(project)
    before = BanditScanner(options=ctx.config.security_scanning).scan(ctx)
    shell = project / "app" / "shell.py"
    shell.write_text("# a new header line\n\n\n" + shell.read_text(encoding="utf-8"), encoding="utf-8")
    after = BanditScanner(options=ctx.config.security_scanning).scan(ctx)
    assert {f.fingerprint for f in before} == {f.fingerprint for f in after}
    moved = {f.fingerprint: f.location.start_line for f in after if f.location}
    assert all(moved[f.fingerprint] == f.location.start_line + 3 for f in before
               if f.location and f.location.path == "app/shell.py")


def test_a_long_file_list_is_split_without_losing_or_doubling_findings(project: Path) -> None:
    from repo_automation.scanners.bandit import chunks

    ctx = context(project)
    whole = BanditScanner(options=ctx.config.security_scanning).scan(ctx)
    split = BanditScanner(options=ctx.config.security_scanning, max_args_chars=20).scan(ctx)  # a file per run
    assert sorted(f.fingerprint for f in split) == sorted(f.fingerprint for f in whole)
    parallel = BanditScanner(options=ctx.config.security_scanning, workers=2).scan(ctx)  # two at once
    assert sorted(f.fingerprint for f in parallel) == sorted(f.fingerprint for f in whole)
    assert chunks(["a.py", "b.py", "c.py"], 10) == [["a.py", "b.py"], ["c.py"]]
