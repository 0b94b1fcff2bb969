"""Coverage file by file, from the same report the total comes from: which lines each file has that tests
can run, and which of them ran.

- Cobertura: every `<class filename=…>` with its `<line number= hits=>`; a relative filename is taken
  relative to the report's first `<source>` (coverage.py writes the checkout there) and then to the workspace;
- coverage.py JSON: `files.<path>.executed_lines` and `missing_lines`;
- lcov: every `SF:` record with its `DA:line,count` lines.

Two things are made of it: the least covered files (`least_covered` in `code_quality.coverage`'s metadata,
what the coverage gate names), and on a pull request the coverage of the lines it adds or changes
(`code_quality.changed_lines_coverage`, from `git diff -U0` between the merge base and HEAD). Per-file data
that cannot be read never fails the coverage source: the totals stand, and the per-file parts are left out.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from repo_automation.domain import Metric
from repo_automation.gitutil import run_git

log = logging.getLogger(__name__)

CHANGED_METRIC = "code_quality.changed_lines_coverage"
LEAST_COVERED = 5
UNCOVERED_LISTED = 20
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True, slots=True, kw_only=True)
class FileLines:
    measured: frozenset[int]  # lines a test could run
    covered: frozenset[int]  # of those, lines that ran

    @property
    def percent(self) -> float:
        return 100.0 * len(self.covered) / len(self.measured) if self.measured else 100.0


def file_lines(data: bytes, fmt: str, workspace: Path) -> dict[str, FileLines]:
    """Per repo-relative path, the measured and covered lines the report holds ({} when it holds none)."""
    try:
        if fmt == "cobertura":
            return _cobertura(data, workspace)
        if fmt == "coverage.py-json":
            return _coverage_json(data, workspace)
        if fmt == "lcov":
            return _lcov(data, workspace)
    except (ValueError, KeyError, TypeError, AttributeError) as e:  # the totals were read: keep them
        log.info("coverage: no per-file data (%s)", e)
    return {}


def least_covered(files: Mapping[str, FileLines], limit: int = LEAST_COVERED) -> list[dict[str, Any]]:
    """The files with lines no test ran, least covered first (then most lines missing)."""
    gaps = [(f.percent, -(len(f.measured) - len(f.covered)), path) for path, f in files.items()
            if len(f.covered) < len(f.measured)]
    return [{"path": path, "percent": round(pct, 1), "missing": -missing}
            for pct, missing, path in sorted(gaps)[:limit]]


def changed_lines_coverage(workspace: Path, base_sha: str, files: Mapping[str, FileLines]) -> Metric:
    """The coverage of the lines the pull request adds or changes (those the report measures).
    SourceFailed when the base cannot be read."""
    base = run_git(["merge-base", base_sha, "HEAD"], workspace, timeout=30).strip()
    diff = run_git(["diff", "-U0", "--no-renames", "--no-color", base, "HEAD"], workspace, errors="replace")
    changed = _added_lines(diff)
    measured = covered = 0
    uncovered: list[str] = []
    for path, lines in sorted(changed.items()):
        f = files.get(path)
        if f is None:
            continue
        for line in sorted(lines & f.measured):
            measured += 1
            if line in f.covered:
                covered += 1
            elif len(uncovered) < UNCOVERED_LISTED:
                uncovered.append(f"{path}:{line}")
    pct = 100.0 * covered / measured if measured else 100.0
    return Metric(name=CHANGED_METRIC, value=round(pct, 2), source="coverage", unit="%",
                  metadata={"base": base, "covered_lines": covered, "total_lines": measured,
                            "changed_files": len(changed), "uncovered": uncovered})


def _added_lines(diff: str) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            target = line[4:]
            current = out.setdefault(target[2:], set()) if target.startswith("b/") else None
        elif current is not None and (m := _HUNK.match(line)):
            start, count = int(m.group(1)), int(m.group(2) if m.group(2) is not None else 1)
            current.update(range(start, start + count))
    return out


def _relative(name: str, workspace: Path, source: str | None = None) -> str:
    path = PurePosixPath(name.replace("\\", "/"))
    if not path.is_absolute() and source:
        path = PurePosixPath(source.replace("\\", "/")) / path
    if path.is_absolute():
        try:
            return path.relative_to(PurePosixPath(workspace.resolve().as_posix())).as_posix()
        except ValueError:
            return path.as_posix()
    return path.as_posix()


def _add(out: dict[str, FileLines], path: str, measured: set[int], covered: set[int]) -> None:
    old = out.get(path)
    if old is not None:
        measured, covered = measured | old.measured, covered | old.covered
    out[path] = FileLines(measured=frozenset(measured), covered=frozenset(covered & measured))


def _cobertura(data: bytes, workspace: Path) -> dict[str, FileLines]:
    import defusedxml.ElementTree as DET  # lazily, as the total's parser

    root = DET.fromstring(data)
    sources = [s.text.strip() for s in root.iter("source") if s.text and s.text.strip()]
    out: dict[str, FileLines] = {}
    for cls in root.iter("class"):
        name = cls.attrib.get("filename")
        if not name:
            continue
        measured, covered = set(), set()
        for line in cls.iter("line"):
            number = int(line.attrib["number"])
            measured.add(number)
            if int(line.attrib.get("hits", "0")) > 0:
                covered.add(number)
        source = next((s for s in sources if (Path(s) / name).exists()), sources[0] if sources else None)
        _add(out, _relative(name, workspace, source), measured, covered)
    return out


def _coverage_json(data: bytes, workspace: Path) -> dict[str, FileLines]:
    doc = json.loads(data)
    out: dict[str, FileLines] = {}
    for name, entry in (doc.get("files") or {}).items():
        executed = {int(n) for n in entry.get("executed_lines", [])}
        missing = {int(n) for n in entry.get("missing_lines", [])}
        _add(out, _relative(name, workspace), executed | missing, executed)
    return out


def _lcov(data: bytes, workspace: Path) -> dict[str, FileLines]:
    out: dict[str, FileLines] = {}
    name: str | None = None
    measured: set[int] = set()
    covered: set[int] = set()
    for raw in data.decode("utf-8", errors="replace").splitlines():
        key, _, value = raw.strip().partition(":")
        if key == "SF":
            name, measured, covered = value, set(), set()
        elif key == "DA" and name is not None:
            number, _, rest = value.partition(",")
            measured.add(int(number))
            if int(rest.split(",")[0]) > 0:
                covered.add(int(number))
        elif raw.strip() == "end_of_record" and name is not None:
            _add(out, _relative(name, workspace), measured, covered)
            name = None
    return out

