"""The scan scope: anchored excludes, the output folder, trivy's own skip flags, test code by convention."""

from __future__ import annotations

import subprocess
from pathlib import Path

from repo_automation.discover import gitignored, is_excluded, walk
from repo_automation.domain import Finding, FindingScope, Location, Severity
from repo_automation.scanners import make_scanner
from repo_automation.scanners.interface import scan_exclude
from repo_automation.scanners.trivy import skip_args
from repo_automation.stages import Noted, notices_of
from tests.helpers import make_context


def _finding(rule: str, path: str) -> Finding:
    return Finding(tool="bandit", rule_id=rule, severity=Severity.MEDIUM, title=rule, fingerprint=f"{rule}{path}",
                   location=Location(path=path, start_line=1))


def test_a_leading_slash_anchors_a_pattern_at_the_top() -> None:
    assert is_excluded("reports/project-health-report.json", ["/reports"])
    assert not is_excluded("pkg/reports/model.py", ["/reports"])  # a package module of the same name is code
    assert is_excluded("pkg/reports/model.py", ["reports"])  # without the slash: any component


def test_the_output_folder_inside_the_workspace_is_left_out_and_the_extras_add_to_the_defaults(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, config={"automation": {"security_scanning": {"exclude_extra": ["vendor"]}}})
    sec = ctx.config.security_scanning
    excluded = scan_exclude(ctx, sec)
    assert "/reports" in excluded and "vendor" in excluded
    assert {".venv", "node_modules", ".repo-automation", "build"} <= set(excluded)  # the defaults stay
    outside = make_context(tmp_path / "ws", output_dir=tmp_path / "elsewhere")
    assert not any(p.startswith("/") for p in scan_exclude(outside, outside.config.security_scanning))
    off = make_context(tmp_path, config={"automation": {"security_scanning": {"exclude_output_dir": False}}})
    assert "/reports" not in scan_exclude(off, off.config.security_scanning)


def test_trivy_gets_the_scope_as_its_own_skip_flags() -> None:
    args = skip_args(["node_modules", "/reports", "src/gen"], ["generated/", "notes.log"])
    pairs = list(zip(args[::2], args[1::2], strict=True))
    assert ("--skip-dirs", "**/node_modules") in pairs and ("--skip-files", "**/node_modules") in pairs
    assert ("--skip-dirs", "reports") in pairs and ("--skip-dirs", "src/gen") in pairs
    assert ("--skip-dirs", "generated") in pairs and ("--skip-files", "notes.log") in pairs
    assert ("--skip-dirs", "generated") not in [("--skip-files", f) for _, f in pairs]
    # a narrower target: paths are relative to it, and what lies outside it is dropped
    inside = list(zip(*[iter(skip_args(["/src/gen", "/reports"], ["src/cache/"], "src"))] * 2, strict=True))
    assert ("--skip-dirs", "gen") in inside and ("--skip-dirs", "cache") in inside
    assert all(value != "reports" for _, value in inside)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def test_gitignored_paths_are_out_of_scope_unless_asked_for(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("generated/\n*.log\n", encoding="utf-8")
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "x.py").write_text("", encoding="utf-8")
    (tmp_path / "run.log").write_text("", encoding="utf-8")
    (tmp_path / "app.py").write_text("", encoding="utf-8")
    assert gitignored(tmp_path) == ["generated/", "run.log"]
    assert walk(tmp_path, [], []) == [".gitignore", "app.py"]
    assert walk(tmp_path, [], [], with_gitignored=True) == [".gitignore", "app.py", "generated/x.py", "run.log"]


def test_test_code_is_marked_and_b101_there_is_no_finding(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, config={"automation": {"security_scanning": {"test_paths_extra": ["qa"]}}})
    scanner = make_scanner("bandit", ctx, options=ctx.config.security_scanning)
    found = [_finding("B101", "pkg/core.py"), _finding("B101", "tests/test_core.py"),
             _finding("B113", "tests/test_core.py"), _finding("B113", "pkg/conftest.py"),
             _finding("B113", "pkg/core_test.py"), _finding("B113", "docs/conf.py"), _finding("B113", "qa/smoke.py"),
             _finding("B113", "pkg/testing_tools.py")]
    scoped = scanner.scoped(Noted(found, ["bandit: a notice"]))
    assert notices_of(scoped) == ("bandit: a notice",)
    by_path = {(f.rule_id, f.location.path): f.scope for f in scoped if f.location}
    assert by_path == {
        ("B101", "pkg/core.py"): FindingScope.MAIN,  # assert in package code is still a finding
        ("B113", "tests/test_core.py"): FindingScope.TEST,
        ("B113", "pkg/conftest.py"): FindingScope.TEST,
        ("B113", "pkg/core_test.py"): FindingScope.TEST,
        ("B113", "docs/conf.py"): FindingScope.TEST,
        ("B113", "qa/smoke.py"): FindingScope.TEST,  # test_paths_extra adds to the defaults
        ("B113", "pkg/testing_tools.py"): FindingScope.MAIN,  # a name that merely starts with "test"
    }
