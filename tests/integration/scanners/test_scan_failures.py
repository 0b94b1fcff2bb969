"""Crashes, hangs, garbage and missing tools become failed/skipped sources with a reason; the run goes on."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from repo_automation.domain import Status
from repo_automation.pipeline import Stages, build_report, measure
from repo_automation.scanners import build_scanners, make_scanner, scanner_plan
from tests.fakeosv import FakeOSV
from tests.integration.scanners.scanning import context, fake_tool

DATA = Path(__file__).resolve().parents[2] / "data"


def test_broken_tools_fail_alone_and_the_rest_completes(project: Path, osv: FakeOSV, tmp_path: Path) -> None:
    ctx = context(project, osv, timeout_seconds=2, tools=["bandit", "pip-audit", "safety", "semgrep", "trivy"])
    opts = ctx.config.security_scanning
    bin_dir = tmp_path / "bin"
    scanners = [
        make_scanner("bandit", ctx, options=opts,
                     executable=fake_tool(bin_dir, "bandit-garbage", 'echo "this is not json" >&2; '
                                          'for a; do case "$prev" in -o) echo "<html>oops" > "$a";; esac; '
                                          'prev="$a"; done; exit 1')),
        # the real one, against the local OSV server, with time enough on a busy machine
        make_scanner("pip-audit", ctx, options=dataclasses.replace(opts, osv_url=osv.query_url, timeout_seconds=120)),
        make_scanner("semgrep", ctx, options=opts,
                     executable=fake_tool(bin_dir, "semgrep-crash", 'echo "Segmentation fault" >&2; exit 139')),
        make_scanner("trivy", ctx, options=opts, executable=fake_tool(bin_dir, "trivy-hang", "sleep 30")),
        make_scanner("safety", ctx, options=opts, executable=str(tmp_path / "missing" / "safety")),
    ]
    # rules exist; the tool crashes
    scanners[2].options = dataclasses.replace(opts, semgrep_config=("app",), timeout_seconds=2)
    findings, _metrics_unused, results = _measure(scanners, ctx)
    by_name = {r.name: r for r in results}
    assert by_name["pip-audit"].status is Status.OK and len(findings) == 10
    assert by_name["bandit"].status is Status.FAILED and "not JSON" in by_name["bandit"].reason
    assert by_name["semgrep"].status is Status.FAILED and "exit 139" in by_name["semgrep"].reason
    assert "Segmentation fault" in by_name["semgrep"].reason  # stderr kept for the reason
    assert by_name["trivy"].status is Status.FAILED and "timed out after 2s" in by_name["trivy"].reason
    assert by_name["safety"].status is Status.SKIPPED  # no API key in this context
    assert "API key" in by_name["safety"].reason


def _measure(scanners, ctx):  # type: ignore[no-untyped-def]
    metrics, findings, results = measure(Stages(scanners=scanners), ctx)
    return findings, metrics, results


def test_missing_binaries_are_skipped_with_the_tool_named(project: Path, tmp_path: Path) -> None:
    ctx = context(project, None, semgrep_config=["app"])
    opts = ctx.config.security_scanning
    for tool in ("bandit", "semgrep", "trivy"):
        scanner = make_scanner(tool, ctx, options=opts, executable=str(tmp_path / "nowhere" / tool))
        _, _, (result,) = measure(Stages(scanners=[scanner]), ctx)
        assert result.status is Status.SKIPPED and f"{tool} is not installed" in result.reason


def test_safety_with_a_key_runs_check_with_the_key_in_the_environment(project: Path, tmp_path: Path) -> None:
    recorded = DATA / "safety" / "check-2.3.5.json"
    seen = tmp_path / "seen.txt"
    exe = fake_tool(tmp_path / "bin", "safety",
                    f'echo "$SAFETY_API_KEY $*" > "{seen}"\n'
                    f'while [ $# -gt 0 ]; do if [ "$1" = "--save-json" ]; then cp "{recorded}" "$2"; fi; shift; done\n'
                    'echo "+==== deprecated, use scan ====+"; exit 64')
    ctx = context(project, None, env={"SAFETY_API_KEY": "sk-test-1234"})
    scanner = make_scanner("safety", ctx, options=ctx.config.security_scanning, executable=exe)
    findings = scanner.scan(ctx)
    assert sorted(f.package for f in findings) == ["jinja2", "requests"]
    key, _, argv = seen.read_text(encoding="utf-8").strip().partition(" ")
    assert key == "sk-test-1234" and "sk-test-1234" not in argv  # never on the command line
    assert argv.startswith("check -r requirements.txt --output json --save-json")
    assert "sk-test-1234" not in repr(scanner)


def test_build_scanners_follows_config_and_settings(project: Path) -> None:
    ctx = context(project, None)
    assert [s.name for s in build_scanners(ctx)] == ["bandit", "pip-audit", "safety"]
    assert [s.name for s in build_scanners(context(project, None, tools=["semgrep", "bandit"]))] == ["semgrep",
                                                                                                    "bandit"]
    assert build_scanners(context(project, None, enabled=False)) == []
    from tests.helpers import make_context

    skipped = make_context(project, skip_security=True)
    assert build_scanners(skipped) == []
    assert scanner_plan(ctx)[1] == ()  # not a pull request: nothing to say before the scan


def test_notices_reach_the_report_from_what_the_scan_returned(project: Path, osv: FakeOSV) -> None:
    (project / "requirements-dev.txt").write_text("pytest>=8\n", encoding="utf-8")
    ctx = context(project, osv, tools=["pip-audit"])
    scanners = build_scanners(ctx)
    report = build_report(Stages(scanners=scanners, notices=["shallow clone"]), ctx)
    [source] = report.sources
    said = report.notices
    assert said == ("shallow clone", *source.notices)  # the run's own notices first, then the scanner's
    assert said[0] == "shallow clone"
    assert any("requirements-dev.txt" in n and "not a pin" in n for n in said[1:])
    assert any("click>=8 (not a pin: a range" in n for n in said[1:])
