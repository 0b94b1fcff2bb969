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
    _coverage(root, "lcov", "-o", "coverage.lcov")
    return root


def _report_total(root: Path) -> float:
    """The TOTAL line of coverage.py's own `coverage report`, the figure users read."""
    proc = subprocess.run([sys.executable, "-m", "coverage", "report", "--precision=2"], cwd=root,
                          capture_output=True, text=True, timeout=120, check=True)
    [total] = [line for line in proc.stdout.splitlines() if line.startswith("TOTAL")]
    return float(total.split()[-1].rstrip("%"))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _measured_project(tmp_path_factory.mktemp("cov") / "lines", branch=False)


@pytest.fixture(scope="module")
def branch_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _measured_project(tmp_path_factory.mktemp("cov") / "branches", branch=True)


def _collect(workspace: Path, paths: list[str]) -> list:
    ctx = make_context(workspace, config={"tracking": {"data_sources": {"coverage": {"paths": paths}}}})
    return list(CoverageCollector.from_context(ctx).collect(ctx))


def _by_name(workspace: Path, path: str) -> dict:
    return {m.name: m for m in _collect(workspace, [path])}


def test_cobertura_xml_from_coverage_py(project: Path) -> None:
    metric, lines = _collect(project, ["coverage.xml"])
    assert lines.name == "code_quality.line_coverage" and lines.value == 62.5
    assert metric.name == "code_quality.coverage"
    assert metric.value == 62.5
    assert metric.unit == "%"
    assert metric.source == "coverage"
    assert metric.metadata["path"] == "coverage.xml"
    assert metric.metadata["format"] == "cobertura"
    assert (metric.metadata["covered_lines"], metric.metadata["total_lines"]) == (5, 8)
    assert metric.metadata["basis"] == "lines"


@pytest.mark.parametrize("path", ["coverage.xml", "coverage.json", "coverage.lcov"])
def test_line_only_report_equals_coverage_report_total(project: Path, path: str) -> None:
    got = _by_name(project, path)
    assert got["code_quality.coverage"].value == _report_total(project) == 62.5
    assert "code_quality.branch_coverage" not in got  # no branch data measured, none invented


@pytest.mark.parametrize("path", ["coverage.xml", "coverage.json", "coverage.lcov"])
def test_branch_report_equals_coverage_report_total(branch_project: Path, path: str) -> None:
    """With branches, users read coverage.py's TOTAL: (5 + 1) / (8 + 2) lines and branches = 60 %."""
    got = _by_name(branch_project, path)
    total = got["code_quality.coverage"]
    assert total.value == _report_total(branch_project) == 60.0
    assert total.metadata["basis"] == "lines and branches"
    assert (total.metadata["covered_branches"], total.metadata["total_branches"]) == (1, 2)
    assert got["code_quality.line_coverage"].value == 62.5  # lines alone stay a metric of their own
    assert got["code_quality.branch_coverage"].value == 50.0


def test_coverage_py_json_keeps_its_own_total(project: Path) -> None:
    metric = _by_name(project, "coverage.json")["code_quality.coverage"]
    assert metric.metadata["format"] == "coverage.py-json"
    assert metric.metadata["path"] == "coverage.json"


def test_lcov_from_coverage_py_is_read(branch_project: Path) -> None:
    metric = _by_name(branch_project, "coverage.lcov")["code_quality.coverage"]
    assert metric.metadata["format"] == "lcov"
    assert (metric.metadata["covered_lines"], metric.metadata["total_lines"]) == (5, 8)


def test_lcov_sums_records_and_counts_da_lines_without_lf(tmp_path: Path) -> None:
    """Two records as genhtml/istanbul write them; the second has no LF/LH, so its DA lines count."""
    (tmp_path / "lcov.info").write_text(
        "TN:\nSF:a.py\nDA:1,1\nDA:2,0\nLF:2\nLH:1\nBRF:4\nBRH:3\nend_of_record\n"
        "TN:\nSF:b.py\nDA:1,5\nDA:2,1\nDA:3,0\nend_of_record\n", encoding="utf-8")
    got = _by_name(tmp_path, "lcov.info")
    assert got["code_quality.line_coverage"].value == 60.0  # (1 + 2) / (2 + 3)
    assert got["code_quality.branch_coverage"].value == 75.0
    assert got["code_quality.coverage"].value == round(100 * (3 + 3) / (5 + 4), 2)


def test_first_existing_path_wins(project: Path) -> None:
    metric, _ = _collect(project, ["missing/coverage.xml", "coverage.json", "coverage.xml"])
    assert metric.metadata["path"] == "coverage.json"


def test_default_paths_read_coverage_xml_first(project: Path) -> None:
    ctx = make_context(project)
    metric, _ = CoverageCollector.from_context(ctx).collect(ctx)
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
    ("coverage.txt", b"Name  Stmts  Miss  Cover\n", "neither Cobertura XML, coverage.py JSON nor lcov"),
    ("lcov.info", b"TN:\nSF:a.py\nDA:1,1\n", "no complete record"),
    ("lcov.info", b"SF:a.py\nLF:many\nend_of_record\n", "LF is not a whole number"),
    ("lcov.info", b"SF:a.py\nLF:2\nLH:3\nend_of_record\n", "more lines or branches hit than found"),
    ("lcov.info", b"SF:a.py\nLF:0\nLH:0\nend_of_record\n", "no measurable lines"),
    ("lcov.info", b"SF:a.py\nDA:1\nend_of_record\n", "DA needs a line and a count"),
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


@pytest.mark.parametrize("path", ["coverage.xml", "coverage.json", "coverage.lcov"])
def test_every_format_names_the_same_least_covered_file(project: Path, path: str) -> None:
    """What the coverage gate names: prog.py with the 3 lines of unused() no test ran, whatever the format."""
    total = _by_name(project, path)["code_quality.coverage"]
    assert total.metadata["least_covered"] == [{"path": "prog.py", "percent": 62.5, "missing": 3}]
