from __future__ import annotations

import json
from pathlib import Path

import pytest

from repo_automation.errors import SourceFailed
from repo_automation.fileio import write_atomic
from repo_automation.report import json_report
from repo_automation.sinks.files import ReportFilesWriter
from tests.reports import empty_report, rich_report
from tests.unit.conftest import context


def _write(tmp_path: Path, fmt: str, **kw: object) -> list[str]:
    ctx = context(tmp_path, format=fmt, **kw)
    actions = ReportFilesWriter.from_context(ctx).deliver(rich_report(dry_run=ctx.dry_run), ctx)
    return [a.target or "" for a in actions]


def test_both_writes_the_three_reports_named_by_the_run_date(tmp_path: Path) -> None:
    targets = _write(tmp_path, "both")
    assert targets == ["reports/project-health-report.md", "reports/project-health-report.json",
                       "reports/automation-report-2026-11-29.md"]
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "automation-report-2026-11-29.md", "project-health-report.json", "project-health-report.md"]
    doc = json.loads((tmp_path / "reports/project-health-report.json").read_text(encoding="utf-8"))
    assert json_report.validate(doc) == []
    assert (tmp_path / "reports/project-health-report.md").read_text(encoding="utf-8").startswith(
        "# Project health report: octo\\-org/hello\\-world")


def test_json_format_writes_only_the_json(tmp_path: Path) -> None:
    assert _write(tmp_path, "json") == ["reports/project-health-report.json"]
    assert [p.name for p in (tmp_path / "reports").iterdir()] == ["project-health-report.json"]


def test_markdown_format_includes_the_automation_report(tmp_path: Path) -> None:
    assert _write(tmp_path, "markdown", output_dir=Path("out/health")) == [
        "out/health/project-health-report.md", "out/health/automation-report-2026-11-29.md"]


def test_reports_are_written_in_a_dry_run_too(tmp_path: Path) -> None:
    _write(tmp_path, "both", dry_run=True)
    text = (tmp_path / "reports/automation-report-2026-11-29.md").read_text(encoding="utf-8")
    assert "Would (issues)" in text


def test_rewriting_replaces_the_file_and_leaves_no_temp_files(tmp_path: Path) -> None:
    _write(tmp_path, "both")
    ctx = context(tmp_path)
    ReportFilesWriter.from_context(ctx).deliver(empty_report(), ctx)
    assert "No findings." in (tmp_path / "reports/project-health-report.md").read_text(encoding="utf-8")
    assert not [p for p in (tmp_path / "reports").iterdir() if p.name.startswith(".")]


def test_an_unwritable_output_folder_fails_the_source_with_the_path(tmp_path: Path) -> None:
    (tmp_path / "reports").write_text("a file, not a folder", encoding="utf-8")
    ctx = context(tmp_path)
    with pytest.raises(SourceFailed, match=r"cannot write .*project-health-report\.md"):
        ReportFilesWriter.from_context(ctx).deliver(rich_report(), ctx)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "r.md"
    write_atomic(target, "old\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "bad \udc80 surrogate")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["r.md"]


def test_a_secret_that_leaked_into_a_reason_is_redacted_in_every_file(tmp_path: Path) -> None:
    from dataclasses import replace

    from repo_automation.domain import SourceResult, Status
    from repo_automation.redaction import Secret

    token = "ghp_leaky-token_0123456789"
    ctx = context(tmp_path, github_token=Secret(token))
    leak = SourceResult(name="github", kind="collector", status=Status.FAILED, reason=f"401 for token {token}")
    report = replace(rich_report(), sources=(leak,))
    ReportFilesWriter.from_context(ctx).deliver(report, ctx)
    for path in (tmp_path / "reports").iterdir():
        text = path.read_text(encoding="utf-8")
        assert "ghp" not in text, path.name
        assert "401 for token \\*\\*\\*" in text or "401 for token ***" in text, path.name
