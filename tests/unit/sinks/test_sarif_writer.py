"""The SARIF file: never a partial one on a pull request scanned in PR mode (code scanning would close the
alerts of every unchanged file)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from repo_automation.context import PullRequest
from repo_automation.errors import SourceSkipped
from repo_automation.sinks.sarif import FILENAME, SarifWriter
from tests.fakegithub.builders import code_finding, report
from tests.helpers import make_context

PR = PullRequest(number=3, base_sha="b" * 40, head_sha="a" * 40, base_ref="main", head_ref="f", is_fork=False)


def test_a_push_writes_the_sarif_file(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, output_dir=tmp_path / "out")
    [action] = SarifWriter.from_context(ctx).deliver(report((code_finding("B602", "app/run.py", 3),)), ctx)
    assert action.performed and (tmp_path / "out" / FILENAME).is_file()


def test_a_pull_request_in_pr_mode_writes_no_partial_sarif(tmp_path: Path) -> None:
    ctx = dataclasses.replace(make_context(tmp_path, output_dir=tmp_path / "out"), pull_request=PR)
    with pytest.raises(SourceSkipped, match="only the changed files: no SARIF file is written"):
        SarifWriter.from_context(ctx).deliver(report((code_finding("B602", "app/run.py", 3),)), ctx)
    assert not (tmp_path / "out" / FILENAME).exists()


def test_a_pull_request_scanned_whole_writes_it(tmp_path: Path) -> None:
    config = {"automation": {"security_scanning": {"pr_mode": False}}}
    ctx = dataclasses.replace(make_context(tmp_path, config=config, output_dir=tmp_path / "out"),
                              pull_request=PR)
    [action] = SarifWriter.from_context(ctx).deliver(report((code_finding("B602", "app/run.py", 3),)), ctx)
    assert action.performed and (tmp_path / "out" / FILENAME).is_file()
