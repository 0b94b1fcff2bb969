"""The coverage collector on reports written by a real coverage.py run over a tiny project."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from repo_automation.collectors.coverage import CoverageCollector, read_coverage
from repo_automation.domain import Status
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.pipeline import Stages, measure
from tests.helpers import make_context

# 8 statements; the run executes 5 of them (both defs, the `if`, `return "pos"` and the call): 62.5 %.
PROGRAM = textwrap.dedent('''\
    def used(x):
        if x > 0:
            return "pos"
        return "neg"


    def unused():
        a = 1
        return a


    used(1)
''')


def _coverage(cwd: Path, *args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "coverage", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr


def _measured_project(root: Path, *, branch: bool) -> Path:
    root.mkdir()
    (root / "prog.py").write_text(PROGRAM, encoding="utf-8")
    _coverage(root, "run", *(["--branch"] if branch else []), "prog.py")
    _coverage(root, "xml", "-o", "coverage.xml")
    _coverage(root, "json", "-o", "coverage.json")
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _measured_project(tmp_path_factory.mktemp("cov") / "lines", branch=False)


@pytest.fixture(scope="module")
def branch_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _measured_project(tmp_path_factory.mktemp("cov") / "branches", branch=True)


def _collect(workspace: Path, paths: list[str]) -> list:
    ctx = make_context(workspace, config={"tracking": {"data_sources": {"coverage": {"paths": paths}}}})
    return list(CoverageCollector.from_context(ctx).collect(ctx))


def test_cobertura_xml_from_coverage_py(project: Path) -> None:
    [metric] = _collect(project, ["coverage.xml"])
    assert metric.name == "code_quality.coverage"
    assert metric.value == 62.5
    assert metric.unit == "%"
    assert metric.source == "coverage"
    assert metric.metadata["path"] == "coverage.xml"
    assert metric.metadata["format"] == "cobertura"
    assert (metric.metadata["covered_lines"], metric.metadata["total_lines"]) == (5, 8)


def test_coverage_py_json(project: Path) -> None:
    [metric] = _collect(project, ["coverage.json"])
    assert metric.value == 62.5
    assert metric.metadata["format"] == "coverage.py-json"
    assert metric.metadata["percent_covered"] == 62.5


def test_branch_coverage_json_keeps_line_coverage_and_reports_mixed_total(branch_project: Path) -> None:
    [metric] = _collect(branch_project, ["coverage.json"])
    assert metric.value == 62.5  # lines only, as in the Cobertura report of the same run
    # coverage.py's own total counts the `if`'s two branches as well: (5 + 1) / (8 + 2)
    assert metric.metadata["percent_covered"] == pytest.approx(60.0)
    [xml_metric] = _collect(branch_project, ["coverage.xml"])
    assert xml_metric.value == 62.5


def test_first_existing_path_wins(project: Path) -> None:
    [metric] = _collect(project, ["missing/coverage.xml", "coverage.json", "coverage.xml"])
    assert metric.metadata["path"] == "coverage.json"


def test_default_paths_read_coverage_xml_first(project: Path) -> None:
    ctx = make_context(project)
    [metric] = CoverageCollector.from_context(ctx).collect(ctx)
    assert metric.metadata["path"] == "coverage.xml"


def test_no_report_is_skipped_naming_the_paths(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, config={"tracking": {"data_sources": {"coverage": {"paths": ["a.xml", "b.json"]}}}})
    with pytest.raises(SourceSkipped, match=r"looked for a\.xml, b\.json"):
        CoverageCollector.from_context(ctx).collect(ctx)
    # and through the pipeline it is a skipped source, not a crash
    metrics, _, results = measure(Stages(collectors=[CoverageCollector.from_context(ctx)]), ctx)
    assert metrics == []
    assert results[0].status is Status.SKIPPED
    assert "a.xml" in results[0].reason


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("coverage.xml", b'<?xml version="1.0" ?>\n<coverage line-rate="0.5"', "not well-formed XML"),
    ("coverage.xml", b"<report><x/></report>", "not a Cobertura report"),
    ("coverage.xml", b'<coverage line-rate="lots"/>', "line-rate is not a number"),
    ("coverage.xml", b'<coverage line-rate="1.7"/>', "between 0 and 1"),
    ("coverage.xml", b'<coverage lines-covered="9" lines-valid="4"/>', "exceeds lines-valid"),
    ("coverage.xml", b"<coverage/>", "neither lines-covered/lines-valid nor line-rate"),
    ("coverage.json", b'{"meta": {}, "files": {}', "not valid JSON"),
    ("coverage.json", b'{"meta": {}}', "no 'totals' object"),
    ("coverage.json", b'{"totals": {"percent_covered": "high"}}', "percent_covered is not a number"),
    ("coverage.txt", b"Name  Stmts  Miss  Cover\n", "neither Cobertura XML nor coverage.py JSON"),
])
def test_malformed_report_fails_with_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(SourceFailed, match=reason):
        read_coverage(tmp_path / name)


def test_entity_expansion_is_refused(tmp_path: Path) -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b'<coverage line-rate="&b;"/>')
    (tmp_path / "coverage.xml").write_bytes(bomb)
    with pytest.raises(SourceFailed, match="entities or a DTD, which are refused"):
        read_coverage(tmp_path / "coverage.xml")
