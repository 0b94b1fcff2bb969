"""`-C` with a relative `--output-dir`: the reports go to the current folder, never into the measured
repository, and the log names them by their absolute path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repo_automation.cli import main
from tests.sample_repo import write_sample_repo


def test_a_relative_output_dir_is_taken_from_the_current_folder(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    repo = write_sample_repo(tmp_path / "repo")
    here = tmp_path / "elsewhere"
    here.mkdir()
    monkeypatch.chdir(here)
    log = tmp_path / "run.log"
    status = main(["metrics", "-C", str(repo), "--output-dir", "out", "--log-file", str(log)], env={})
    assert status == 0
    written = here / "out" / "project-health-report.json"
    assert json.loads(written.read_text(encoding="utf-8"))["metrics"]
    assert not (repo / "out").exists()  # the next scan of the repository never meets its own reports
    text = log.read_text(encoding="utf-8")
    assert f"wrote project health report (JSON): {written}" in text
    assert f"wrote project health report (Markdown): {here / 'out' / 'project-health-report.md'}" in text
    # with no store-db, nothing is stored and the report does not say it was
    md = (here / "out" / "project-health-report.md").read_text(encoding="utf-8")
    assert "this run is not stored (`store-db` is off)" in md and "1 scored run stored" not in md
    assert "last commit" in md  # commits per week says when the last commit was
