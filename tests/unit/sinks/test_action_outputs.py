from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest

from repo_automation.domain import Severity
from repo_automation.errors import SourceSkipped
from repo_automation.sinks.action_outputs import OUTPUT_NAMES, ActionOutputsWriter
from repo_automation.sinks.files import ReportFilesWriter
from tests.reports import empty_report, finding, judged, rich_report
from tests.runner_files import parse_command, parse_output_file
from tests.unit.conftest import context


def _writer(tmp_path: Path, env: dict[str, str], stream: io.StringIO, **settings: object) -> ActionOutputsWriter:
    ctx = context(tmp_path, **settings)
    ctx = replace(ctx, env=env)
    return ActionOutputsWriter.from_context(ctx, stream=stream)


def _runner_env(tmp_path: Path) -> dict[str, str]:
    return {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}


def test_outside_actions_the_writer_skips(tmp_path: Path) -> None:
    w = _writer(tmp_path, {}, io.StringIO())
    with pytest.raises(SourceSkipped, match="not running in GitHub Actions"):
        w.deliver(rich_report(), context(tmp_path))


def test_outputs_summary_and_annotations(tmp_path: Path) -> None:
    env, stream = _runner_env(tmp_path), io.StringIO()
    ctx = context(tmp_path)
    report = judged(rich_report())
    ReportFilesWriter.from_context(ctx).deliver(report, ctx)  # the reports writer runs first
    actions = _writer(tmp_path, env, stream).deliver(report, ctx)
    outputs = parse_output_file((tmp_path / "output.txt").read_text(encoding="utf-8"))
    assert sorted(outputs) == sorted(OUTPUT_NAMES)
    assert outputs["health-score"] == "72.5" and outputs["health-grade"] == "C"
    assert outputs["report-markdown"] == "reports/project-health-report.md"
    assert outputs["report-json"] == "reports/project-health-report.json"
    assert outputs["automation-report"] == "reports/automation-report-2026-11-29.md"
    assert outputs["findings-count"] == "4"  # active + new in package code; test code, ignored, baseline do not count
    assert (outputs["critical-count"], outputs["high-count"]) == ("1", "1")
    assert (outputs["alerts-count"], outputs["gates-failed"], outputs["sources-failed"]) == ("1", "1", "1")
    assert outputs["dry-run"] == "false"
    assert outputs["policy-passed"] == "false"  # a failed gate and critical findings
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    headline = "72.5 (C), from 2 of 3 categories (80% of the weight), partial: pip-audit failed"
    assert outputs["health-headline"] == headline
    assert outputs["health-measured-weight"] == "80"
    assert "**Overall: 72.5 (C), from 2 of 3 categories (80% of the weight), partial: pip\\-audit failed**" in summary
    assert "Full reports: `reports/project-health-report.md`" in summary
    commands = [parse_command(line) for line in stream.getvalue().splitlines()]
    # located active/new findings only (the `new` one has no location), most severe first
    assert [(c[0], c[1]["file"]) for c in commands] == [
        ("error", "src/x|y.py"), ("error", "requirements.txt"), ("warning", "src/app.py")]
    assert commands[0][1]["line"] == "3" and commands[0][1]["title"] == "bandit B102 (critical)"
    assert [a.target for a in actions] == ["$GITHUB_STEP_SUMMARY", "$GITHUB_OUTPUT", None]


def test_missing_reports_give_empty_path_outputs(tmp_path: Path) -> None:
    env = _runner_env(tmp_path)
    _writer(tmp_path, env, io.StringIO()).deliver(empty_report(), context(tmp_path))
    outputs = parse_output_file((tmp_path / "output.txt").read_text(encoding="utf-8"))
    assert outputs["report-markdown"] == "" and outputs["health-score"] == "" and outputs["findings-count"] == "0"


def test_at_most_50_annotations_most_severe_first(tmp_path: Path) -> None:
    many = (*(finding(i, Severity.LOW, line=i + 1) for i in range(80)), finding(500, Severity.HIGH, line=999))
    stream = io.StringIO()
    _writer(tmp_path, _runner_env(tmp_path), stream).deliver(replace(empty_report(), findings=many),
                                                               context(tmp_path))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 50
    assert parse_command(lines[0])[1]["line"] == "999"
    assert parse_command(lines[0])[0] == "error" and parse_command(lines[1])[0] == "notice"


def test_summary_appends_to_what_earlier_steps_wrote(tmp_path: Path) -> None:
    env = _runner_env(tmp_path)
    Path(env["GITHUB_STEP_SUMMARY"]).write_text("# earlier step\n", encoding="utf-8")
    _writer(tmp_path, env, io.StringIO()).deliver(rich_report(dry_run=True), context(tmp_path))
    text = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n# repo-automation: octo\\-org/hello\\-world (dry run)")


def test_a_leaked_secret_is_redacted_in_summary_and_annotations(tmp_path: Path) -> None:
    from repo_automation.redaction import Secret

    token = "xoxb-leaky-token-0123456789"
    ctx = replace(context(tmp_path, slack_webhook_url=Secret(token)), env=_runner_env(tmp_path))
    stream = io.StringIO()
    bad = replace(finding(1, Severity.HIGH), title=f"token {token}, found", message=f"value: {token}")
    ActionOutputsWriter.from_context(ctx, stream=stream).deliver(replace(rich_report(), findings=(bad,)), ctx)
    assert "leaky" not in (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "leaky" not in stream.getvalue() and "***" in stream.getvalue()
