"""Settings' closed sets (command, report format) are enums read from plain text, and say what a run does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repo_automation import wiring
from repo_automation.errors import UsageError
from repo_automation.settings import Command, ReportFormat, Settings, from_environment
from repo_automation.sinks.files import report_paths
from tests.helpers import FIXED_NOW, make_context


def test_inputs_become_members_and_members_stay_their_text(tmp_path: Path) -> None:
    s = from_environment({"INPUT_COMMAND": "metrics", "INPUT_FORMAT": "json"}, workspace=tmp_path)
    assert s.command is Command.METRICS and s.format is ReportFormat.JSON
    # what users see (outputs, JSON, logs) is unchanged: a member is its string
    assert json.dumps({"command": s.command, "format": s.format}) == '{"command": "metrics", "format": "json"}'
    assert f"{s.command} {s.format}" == "metrics json"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("format", "xml", "format must be one of markdown, json, both, got 'xml'"),
    ("command", "deploy", "command must be one of run, metrics, maintain, rollup, dashboard, got 'deploy'"),
])
def test_a_value_outside_the_set_is_a_usage_error(tmp_path: Path, field: str, value: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Settings(workspace=tmp_path, **{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(("fmt", "written"), [
    (ReportFormat.MARKDOWN, ["project-health-report.md", "automation-report-2026-11-29.md"]),
    (ReportFormat.JSON, ["project-health-report.json"]),
    (ReportFormat.BOTH, ["project-health-report.md", "project-health-report.json", "automation-report-2026-11-29.md"]),
])
def test_the_format_decides_the_report_files(tmp_path: Path, fmt: ReportFormat, written: list[str]) -> None:
    assert [p.name for p in report_paths(tmp_path, fmt, FIXED_NOW).present()] == written


@pytest.mark.parametrize(("command", "measures", "maintains"), [
    (Command.RUN, True, True), (Command.METRICS, True, False), (Command.MAINTAIN, False, True),
])
def test_the_command_decides_the_stages(tmp_path: Path, command: Command, measures: bool, maintains: bool) -> None:
    stages = wiring.build_stages(make_context(tmp_path, command=command))
    collectors = {c.name for c in stages.collectors}
    assert ("git" in collectors) is measures and ("github" in collectors) is measures
    assert bool(stages.scanners) is maintains and bool(stages.gates) is maintains
    sinks = {s.name for s in stages.sinks}
    assert ("dependency-updates" in sinks) is maintains and ("docs" in sinks) is maintains
