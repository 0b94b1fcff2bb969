from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest

from repo_automation.domain import GateResult, RunReport, Severity
from repo_automation.errors import SourceSkipped
from repo_automation.runner import SUMMARY_LIMIT_BYTES
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


def test_at_most_10_annotations_per_level_changed_lines_first_and_the_summary_counts_the_rest(tmp_path: Path
                                                                                              ) -> None:
    many = (*(finding(i, Severity.LOW, line=i + 1) for i in range(80)),
            *(finding(200 + i, Severity.HIGH, line=200 + i) for i in range(15)),
            finding(500, Severity.MEDIUM, line=999, state="new"), finding(501, Severity.LOW, line=998, state="new"))
    stream, env = io.StringIO(), _runner_env(tmp_path)
    actions = _writer(tmp_path, env, stream).deliver(replace(empty_report(), findings=many), context(tmp_path))
    commands = [parse_command(line) for line in stream.getvalue().splitlines()]
    levels = [c[0] for c in commands]
    assert (levels.count("error"), levels.count("warning"), levels.count("notice")) == (10, 1, 10)
    assert [c[1]["line"] for c in commands[:2]] == ["999", "998"]  # on the pull request's changed lines
    left_out = len(many) - len(commands)
    assert left_out == 76
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert f"21 finding(s) annotated in the diff; {left_out} more left out" in summary
    assert any(f"({left_out} left out" in a.description for a in actions)


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


def _thousands_of_findings() -> RunReport:
    severities = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
    many = tuple(finding(i, severities[i % 4], line=i + 1, path=f"src/module_{i % 300}.py",
                         title=f"Problem number {i}: " + "a long explanation of what is wrong " * 6)
                 for i in range(5000))
    return judged(replace(rich_report(), findings=many))


def test_a_summary_with_thousands_of_findings_stays_under_1_mib_and_opens_with_the_verdict(tmp_path: Path) -> None:
    env = _runner_env(tmp_path)
    _writer(tmp_path, env, io.StringIO()).deliver(_thousands_of_findings(), context(tmp_path))
    data = Path(env["GITHUB_STEP_SUMMARY"]).read_bytes()
    assert len(data) < SUMMARY_LIMIT_BYTES
    text = data.decode("utf-8")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings[:2] == ["## Policy", "## Needs attention"]
    assert text.index("**Failed**") < text.index("<details>")
    attention = text[text.index("## Needs attention"):text.index("<details>")]
    assert attention.count("- **critical** (active)") + attention.count("- **high** (active)") == 20
    assert "…and 2480 more critical or high finding(s)" in attention
    assert text.count("<details>") == text.count("</details>")


def test_a_summary_too_large_for_github_is_cut_with_a_note_and_no_open_block(tmp_path: Path) -> None:
    env = _runner_env(tmp_path)
    report = _thousands_of_findings()
    gates = tuple(GateResult(name=f"gate-{i}", passed=i % 100 != 0, actual=1, threshold=2, message="x" * 200,
                             details=tuple("detail " * 30 for _ in range(3))) for i in range(2500))
    report = judged(replace(report, gates=gates))
    _writer(tmp_path, env, io.StringIO()).deliver(report, context(tmp_path))
    data = Path(env["GITHUB_STEP_SUMMARY"]).read_bytes()
    assert SUMMARY_LIMIT_BYTES - 64 * 1024 < len(data) <= SUMMARY_LIMIT_BYTES
    text = data.decode("utf-8")
    assert text.index("## Policy") < text.index("## Needs attention") < text.index("<details>")
    assert "cut to stay under GitHub's 1 MiB limit" in text
    assert "- **Gate failed**: gate\\-0 —" in text and "…and 5 more failed gate(s)" in text
    assert text.count("<details>") == text.count("</details>")


def test_on_a_pull_request_repository_wide_gate_failures_are_context_not_failures(tmp_path: Path) -> None:
    # rich_report's coverage gate fails against the absolute threshold: repository-wide, so on a pull request
    # whose own change gates pass it is context; a workflow step reading gates-failed must not see it
    env, stream = _runner_env(tmp_path), io.StringIO()
    ctx = context(tmp_path)
    report = rich_report()
    report = judged(replace(report, findings=(), alerts=()), pull_request=True)
    assert report.verdict is not None and report.verdict.context_gates == ("coverage",)
    _writer(tmp_path, env, stream).deliver(report, ctx)
    outputs = parse_output_file((tmp_path / "output.txt").read_text(encoding="utf-8"))
    assert (outputs["gates-failed"], outputs["gates-context"]) == ("0", "1")
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "Quality gates (0 failed of 3, 1 repository-wide shown as context)" in summary
    # outside a pull request the same failure is the run's own
    _writer(tmp_path, env, io.StringIO()).deliver(judged(replace(report, verdict=None)), ctx)
    outputs = parse_output_file((tmp_path / "output.txt").read_text(encoding="utf-8"))
    assert (outputs["gates-failed"], outputs["gates-context"]) == ("1", "0")
