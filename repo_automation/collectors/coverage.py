"""Line coverage from a coverage report an earlier CI step wrote: Cobertura XML or coverage.py JSON.

The paths come from `tracking.data_sources.coverage.paths` (relative to the workspace); the first one that
exists is read. The format is recognised from the content, not the file name.

Line coverage means covered lines / measurable lines, in percent:
- Cobertura: `lines-covered / lines-valid` on the root element when both are there (and lines-valid > 0),
  otherwise `line-rate` x 100;
- coverage.py JSON: `totals.covered_lines / totals.num_statements`, otherwise `totals.percent_covered`.
  With branch coverage on, coverage.py's `percent_covered` mixes lines and branches; it is kept in the
  metadata (`percent_covered`) so both numbers stay explainable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repo_automation.context import RunContext
from repo_automation.domain import Metric
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.stages import Collector

log = logging.getLogger(__name__)

METRIC = "code_quality.coverage"


@dataclass(frozen=True, slots=True, kw_only=True)
class CoverageReading:
    """What one coverage file says."""

    percent: float
    format: str  # cobertura | coverage.py-json
    covered_lines: int | None = None
    total_lines: int | None = None
    percent_covered: float | None = None  # coverage.py's own total (lines and branches when enabled)


class CoverageCollector(Collector):
    name = "coverage"

    def __init__(self, *, workspace: Path, paths: Sequence[str]) -> None:
        self._workspace = workspace
        self._paths = tuple(paths)

    @classmethod
    def from_context(cls, ctx: RunContext) -> CoverageCollector:
        return cls(workspace=ctx.workspace, paths=ctx.config.data_sources.coverage.paths)

    def collect(self, ctx: RunContext) -> list[Metric]:
        path = self._first_existing()
        reading = read_coverage(path)
        rel = _relative(path, self._workspace)
        log.debug("coverage %.2f%% from %s (%s)", reading.percent, rel, reading.format)
        meta: dict[str, Any] = {"path": rel, "format": reading.format}
        if reading.covered_lines is not None and reading.total_lines is not None:
            meta["covered_lines"] = reading.covered_lines
            meta["total_lines"] = reading.total_lines
        if reading.percent_covered is not None:
            meta["percent_covered"] = reading.percent_covered
        return [Metric(name=METRIC, value=round(reading.percent, 2), source=self.name, unit="%", metadata=meta)]

    def _first_existing(self) -> Path:
        if not self._paths:
            raise SourceSkipped("no coverage paths configured (tracking.data_sources.coverage.paths is empty)")
        for p in self._paths:
            candidate = Path(p) if Path(p).is_absolute() else self._workspace / p
            if candidate.is_file():
                return candidate
        raise SourceSkipped(f"no coverage report found (looked for {', '.join(self._paths)})")


def _relative(path: Path, workspace: Path) -> str:
    try:
        return path.resolve().relative_to(workspace.resolve()).as_posix()
    except ValueError:
        return str(path)


def read_coverage(path: Path) -> CoverageReading:
    """Parse one coverage file (Cobertura XML or coverage.py JSON); SourceFailed with the reason if bad."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SourceFailed(f"cannot read coverage report {path.name}: {e.strerror or e}") from e
    head = data.lstrip()[:1]
    if head == b"<":
        return parse_cobertura(data, path.name)
    if head == b"{":
        return parse_coverage_json(data, path.name)
    raise SourceFailed(f"{path.name} is neither Cobertura XML nor coverage.py JSON")


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
    if covered is not None and valid:
        if covered > valid:
            raise SourceFailed(f"{label}: lines-covered ({covered}) exceeds lines-valid ({valid})")
        return CoverageReading(percent=100.0 * covered / valid, format="cobertura",
                               covered_lines=covered, total_lines=valid)
    rate = root.attrib.get("line-rate")
    if rate is None:
        raise SourceFailed(f"{label}: the <coverage> element has neither lines-covered/lines-valid nor line-rate")
    value = _number(rate, f"{label}: line-rate")
    if not 0.0 <= value <= 1.0:
        raise SourceFailed(f"{label}: line-rate must be between 0 and 1, got {rate!r}")
    return CoverageReading(percent=100.0 * value, format="cobertura", covered_lines=covered, total_lines=valid)


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
    covered, statements = totals.get("covered_lines"), totals.get("num_statements")
    if isinstance(covered, int) and isinstance(statements, int) and statements > 0 and 0 <= covered <= statements:
        return CoverageReading(percent=100.0 * covered / statements, format="coverage.py-json",
                               covered_lines=covered, total_lines=statements, percent_covered=pct)
    if pct is None:
        raise SourceFailed(f"{label}: totals has neither covered_lines/num_statements nor percent_covered")
    if not 0.0 <= pct <= 100.0:
        raise SourceFailed(f"{label}: totals.percent_covered must be between 0 and 100, got {pct_raw!r}")
    return CoverageReading(percent=pct, format="coverage.py-json", percent_covered=pct)


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
