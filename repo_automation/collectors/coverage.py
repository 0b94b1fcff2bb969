"""Test coverage from a coverage report an earlier CI step wrote: Cobertura XML, coverage.py JSON or lcov.

The paths come from `tracking.data_sources.coverage.paths` (relative to the workspace); the first one that
exists is read. The format is recognised from the content, not the file name.

`code_quality.coverage` is the figure users read in coverage.py's own `TOTAL` (and SonarQube's
"coverage"): covered lines and branches over measurable lines and branches, in percent. Without branch
data it is line coverage. Beside it, `code_quality.line_coverage` (lines only) and, when the report has
branch data, `code_quality.branch_coverage`. The `coverage_minimum` gate reads `code_quality.coverage`;
its metadata says which basis it has (`basis`: "lines and branches" or "lines") and names the least covered
files (`least_covered`); on a pull request `code_quality.changed_lines_coverage` is the coverage of the lines
it changes (coverage_files.py).
- Cobertura: `lines-covered`/`lines-valid` and `branches-covered`/`branches-valid` on the root element
  (coverage.py writes both), otherwise `line-rate` x 100;
- coverage.py JSON: `totals.covered_lines`/`num_statements` and `covered_branches`/`num_branches`,
  otherwise `totals.percent_covered`;
- lcov (`coverage lcov`, genhtml, istanbul, gcov): the `LF`/`LH` and `BRF`/`BRH` records summed over every
  `SF` record (a record without `LF` counts its `DA` lines).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repo_automation.collectors.coverage_files import changed_lines_coverage, file_lines, least_covered
from repo_automation.context import PullRequest, RunContext
from repo_automation.domain import Metric
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.stages import Collector, Noted

log = logging.getLogger(__name__)

METRIC = "code_quality.coverage"
LINE_METRIC = "code_quality.line_coverage"
BRANCH_METRIC = "code_quality.branch_coverage"


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageReading:
    """What one coverage file says. Counts are None where the format gave only a rate."""

    format: str  # cobertura | coverage.py-json | lcov
    line_percent: float
    covered_lines: int | None = None
    total_lines: int | None = None
    covered_branches: int | None = None
    total_branches: int | None = None
    percent_covered: float | None = None  # the total the file states itself, when it states one

    @property
    def has_branches(self) -> bool:
        return bool(self.total_branches)

    @property
    def branch_percent(self) -> float | None:
        if not self.total_branches or self.covered_branches is None:
            return None
        return 100.0 * self.covered_branches / self.total_branches

    @property
    def percent(self) -> float:
        """Lines and branches together, as coverage.py's TOTAL; line coverage when there is no branch data."""
        if self.has_branches and self.covered_lines is not None and self.total_lines is not None:
            assert self.total_branches is not None and self.covered_branches is not None
            return 100.0 * (self.covered_lines + self.covered_branches) / (self.total_lines + self.total_branches)
        if self.percent_covered is not None:
            return self.percent_covered
        return self.line_percent


class CoverageCollector(Collector):
    name = "coverage"

    def __init__(self, *, workspace: Path, paths: Sequence[str], pull_request: PullRequest | None = None) -> None:
        self._workspace = workspace
        self._paths = tuple(paths)
        self._pull_request = pull_request  # measure the coverage of the lines it changes (coverage_files)

    @classmethod
    def from_context(cls, ctx: RunContext) -> CoverageCollector:
        return cls(workspace=ctx.workspace, paths=ctx.config.data_sources.coverage.paths,
                   pull_request=ctx.pull_request)

    def collect(self, ctx: RunContext) -> list[Metric]:
        path = self._first_existing()
        reading = read_coverage(path)
        rel = _relative(path, self._workspace)
        log.debug("coverage %.2f%% from %s (%s)", reading.percent, rel, reading.format)
        metrics = coverage_metrics(reading, rel, source=self.name)
        files = file_lines(path.read_bytes(), reading.format, self._workspace)
        if not files:
            return metrics
        total = metrics[0]  # code_quality.coverage: the gate names the least covered files
        metrics[0] = dataclasses.replace(total, metadata={**total.metadata, "least_covered": least_covered(files)})
        if self._pull_request is None:
            return metrics
        try:
            metrics.append(changed_lines_coverage(self._workspace, self._pull_request.base_sha, files))
        except SourceFailed as e:
            return Noted(metrics, [f"coverage of the changed lines not measured: the base "
                                   f"{self._pull_request.base_sha[:12]} cannot be read (use fetch-depth: 0): {e}"])
        return metrics

    def _first_existing(self) -> Path:
        if not self._paths:
            raise SourceSkipped("no coverage paths configured (tracking.data_sources.coverage.paths is empty)")
        for p in self._paths:
            candidate = Path(p) if Path(p).is_absolute() else self._workspace / p
            if candidate.is_file():
                return candidate
        raise SourceSkipped(f"no coverage report found (looked for {', '.join(self._paths)})")


def coverage_metrics(reading: CoverageReading, path: str, *, source: str) -> list[Metric]:
    """The total (what the gate reads), line coverage, and branch coverage when the report has branches."""
    base: dict[str, Any] = {"path": path, "format": reading.format}
    lines: dict[str, Any] = dict(base)
    if reading.covered_lines is not None and reading.total_lines is not None:
        lines.update(covered_lines=reading.covered_lines, total_lines=reading.total_lines)
    total: dict[str, Any] = {**lines, "basis": "lines and branches" if reading.has_branches else "lines"}
    line_basis = _counted(reading.covered_lines, reading.total_lines, "lines", path)
    branch_basis = _counted(reading.covered_branches, reading.total_branches, "branches", path)
    total_basis = line_basis if not reading.has_branches else _counted(
        _sum(reading.covered_lines, reading.covered_branches), _sum(reading.total_lines, reading.total_branches),
        "lines and branches", path)
    out = [Metric(name=METRIC, value=round(reading.percent, 2), source=source, unit="%", metadata=total,
                  basis=total_basis),
           Metric(name=LINE_METRIC, value=round(reading.line_percent, 2), source=source, unit="%", metadata=lines,
                  basis=line_basis)]
    branch = reading.branch_percent
    if branch is not None:
        branches = {**base, "covered_branches": reading.covered_branches, "total_branches": reading.total_branches}
        total.update(covered_branches=reading.covered_branches, total_branches=reading.total_branches)
        out.append(Metric(name=BRANCH_METRIC, value=round(branch, 2), source=source, unit="%", metadata=branches,
                          basis=branch_basis))
    return out


def _sum(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


def _counted(covered: int | None, total: int | None, what: str, path: str) -> str:
    """E.g. "412 of 958 lines and branches in coverage.xml" (the file alone when it gives no counts)."""
    return f"{covered} of {total} {what} in {path}" if covered is not None and total is not None else path


def _relative(path: Path, workspace: Path) -> str:
    try:
        return path.resolve().relative_to(workspace.resolve()).as_posix()
    except ValueError:
        return str(path)


def read_coverage(path: Path) -> CoverageReading:
    """Parse one coverage file (Cobertura XML, coverage.py JSON or lcov); SourceFailed with the reason if bad."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SourceFailed(f"cannot read coverage report {path.name}: {e.strerror or e}") from e
    head = data.lstrip()[:1]
    if head == b"<":
        return parse_cobertura(data, path.name)
    if head == b"{":
        return parse_coverage_json(data, path.name)
    if _LCOV_START.match(data.lstrip()):
        return parse_lcov(data, path.name)
    raise SourceFailed(f"{path.name} is neither Cobertura XML, coverage.py JSON nor lcov")


def parse_cobertura(data: bytes, label: str = "coverage.xml") -> CoverageReading:
    import defusedxml  # lazily; refuses entity expansion and external DTDs
    import defusedxml.ElementTree as DET

    try:
        root = DET.fromstring(data)
    except defusedxml.DefusedXmlException as e:
        raise SourceFailed(f"{label} declares XML entities or a DTD, which are refused: {e}") from e
    except DET.ParseError as e:
        raise SourceFailed(f"{label} is not well-formed XML: {e}") from e
    if root.tag != "coverage":
        raise SourceFailed(f"{label} is XML but not a Cobertura report (root element <{root.tag}>)")
    covered = _int_attr(root.attrib, "lines-covered", label)
    valid = _int_attr(root.attrib, "lines-valid", label)
    b_covered = _int_attr(root.attrib, "branches-covered", label)
    b_valid = _int_attr(root.attrib, "branches-valid", label)
    if b_covered is not None and b_valid is not None and b_covered > b_valid:
        raise SourceFailed(f"{label}: branches-covered ({b_covered}) exceeds branches-valid ({b_valid})")
    branches = {"covered_branches": b_covered, "total_branches": b_valid} if b_covered is not None else {}
    if covered is not None and valid:
        if covered > valid:
            raise SourceFailed(f"{label}: lines-covered ({covered}) exceeds lines-valid ({valid})")
        return CoverageReading(line_percent=100.0 * covered / valid, format="cobertura",
                               covered_lines=covered, total_lines=valid, **branches)
    rate = root.attrib.get("line-rate")
    if rate is None:
        raise SourceFailed(f"{label}: the <coverage> element has neither lines-covered/lines-valid nor line-rate")
    value = _number(rate, f"{label}: line-rate")
    if not 0.0 <= value <= 1.0:
        raise SourceFailed(f"{label}: line-rate must be between 0 and 1, got {rate!r}")
    return CoverageReading(line_percent=100.0 * value, format="cobertura", covered_lines=covered, total_lines=valid)


def parse_coverage_json(data: bytes, label: str = "coverage.json") -> CoverageReading:
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SourceFailed(f"{label} is not valid JSON: {e}") from e
    totals = doc.get("totals") if isinstance(doc, dict) else None
    if not isinstance(totals, dict):
        raise SourceFailed(f"{label} is JSON but not a coverage.py report (no 'totals' object)")
    pct_raw = totals.get("percent_covered")
    pct = None if pct_raw is None else _number(pct_raw, f"{label}: totals.percent_covered")
    if pct is not None and not 0.0 <= pct <= 100.0:
        raise SourceFailed(f"{label}: totals.percent_covered must be between 0 and 100, got {pct_raw!r}")
    covered, statements = totals.get("covered_lines"), totals.get("num_statements")
    if isinstance(covered, int) and isinstance(statements, int) and statements > 0 and 0 <= covered <= statements:
        b_covered, b_total = totals.get("covered_branches"), totals.get("num_branches")
        branches = ({"covered_branches": b_covered, "total_branches": b_total}
                    if isinstance(b_covered, int) and isinstance(b_total, int) and 0 <= b_covered <= b_total else {})
        return CoverageReading(line_percent=100.0 * covered / statements, format="coverage.py-json",
                               covered_lines=covered, total_lines=statements, percent_covered=pct, **branches)
    if pct is None:
        raise SourceFailed(f"{label}: totals has neither covered_lines/num_statements nor percent_covered")
    return CoverageReading(line_percent=pct, format="coverage.py-json", percent_covered=pct)


_LCOV_START = re.compile(rb"(TN|SF):")


def parse_lcov(data: bytes, label: str = "lcov.info") -> CoverageReading:
    """Sum the line and branch counts of every record. A record without LF/LH counts its DA lines."""
    text = data.decode("utf-8", errors="replace")
    totals = {"LF": 0, "LH": 0, "BRF": 0, "BRH": 0}
    record: dict[str, int] = {}
    da_found = da_hit = records = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        key, _, value = line.partition(":")
        if key in totals:
            record[key] = _lcov_int(value, f"{label} line {number}: {key}")
        elif key == "DA":
            fields = value.split(",")
            if len(fields) < 2:
                raise SourceFailed(f"{label} line {number}: DA needs a line and a count, got {value!r}")
            da_found += 1
            da_hit += _lcov_int(fields[1], f"{label} line {number}: DA count") > 0
        elif line == "end_of_record":
            records += 1
            for k in ("BRF", "BRH"):
                totals[k] += record.get(k, 0)
            totals["LF"] += record.get("LF", da_found)
            totals["LH"] += record.get("LH", da_hit)
            record, da_found, da_hit = {}, 0, 0
    if not records:
        raise SourceFailed(f"{label} looks like lcov but has no complete record (no end_of_record)")
    if totals["LF"] == 0:
        raise SourceFailed(f"{label}: no measurable lines (every LF is 0)")
    if totals["LH"] > totals["LF"] or totals["BRH"] > totals["BRF"]:
        raise SourceFailed(f"{label}: more lines or branches hit than found (LH > LF or BRH > BRF)")
    branches = {"covered_branches": totals["BRH"], "total_branches": totals["BRF"]} if totals["BRF"] else {}
    return CoverageReading(line_percent=100.0 * totals["LH"] / totals["LF"], format="lcov",
                           covered_lines=totals["LH"], total_lines=totals["LF"], **branches)


def _lcov_int(raw: str, what: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise SourceFailed(f"{what} is not a whole number: {raw.strip()!r}") from None
    if value < 0:
        raise SourceFailed(f"{what} is negative: {raw.strip()!r}")
    return value


def _number(raw: object, what: str) -> float:
    if isinstance(raw, bool):
        raise SourceFailed(f"{what} is not a number: {raw!r}")
    try:
        return float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise SourceFailed(f"{what} is not a number: {raw!r}") from None


def _int_attr(attrs: Mapping[str, str], key: str, label: str) -> int | None:
    raw = attrs.get(key)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise SourceFailed(f"{label}: {key} is not a whole number: {raw!r}") from None
    if value < 0:
        raise SourceFailed(f"{label}: {key} is negative: {raw!r}")
    return value
