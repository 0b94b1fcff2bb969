"""bandit: Python code scanning, JSON output, the repository's own bandit config and `# nosec` honoured.

We list the Python files ourselves (the config `paths`, minus the `exclude` globs) and hand bandit that
explicit list: the same files in a full scan, a PR scan and the base-revision scan. The repository's config
is passed on: `pyproject.toml` with a [tool.bandit] table (`-c`), or a `.bandit` INI file (`--ini`).
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import os
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from repo_automation.context import RunContext
from repo_automation.discover import is_excluded, is_python, read_lines
from repo_automation.domain import Finding, Location
from repo_automation.errors import NothingToScan, SourceFailed
from repo_automation.scanners.fingerprint import snippet_from_lines, with_code_fingerprints
from repo_automation.scanners.interface import ToolScanner, load_json_report, run_tool
from repo_automation.scanners.normalise import confidence_word, cwe_ids, severity_from_word
from repo_automation.scanners.prmode import Side
from repo_automation.stages import Noted

log = logging.getLogger(__name__)

PARALLEL_FROM = 40  # files: below this, one bandit process (start-up costs more than it saves)
ARG_BUDGET = 1_000_000  # characters of file names per bandit run: half of what Linux allows (ARG_MAX, 2 MB)


def config_args(root: Path) -> list[str]:
    """bandit's own configuration in the repository, if any."""
    args: list[str] = []
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
            data = {}
        if isinstance(data.get("tool"), dict) and "bandit" in data["tool"]:
            args += ["-c", str(pyproject)]
    if (root / ".bandit").is_file():
        args += ["--ini", str(root / ".bandit")]
    return args


def parse_report(text: str, root: Path) -> tuple[list[Finding], list[str]]:
    """bandit's JSON report -> findings (fingerprinted) and the files it could not scan."""
    data = load_json_report(text, "bandit")
    lines_cache: dict[str, list[str]] = {}
    findings = [_finding(r, root, lines_cache) for r in data["results"] if isinstance(r, dict)]
    errors = [f"{e.get('filename')}: {e.get('reason')}" for e in data.get("errors", []) if isinstance(e, dict)]
    return with_code_fingerprints(findings), errors


def _relpath(filename: str, root: Path) -> str:
    p = Path(filename)
    if p.is_absolute():
        try:
            p = p.relative_to(root)
        except ValueError:
            return p.as_posix()
    return p.as_posix().removeprefix("./")


def _finding(r: dict[str, Any], root: Path, cache: dict[str, list[str]]) -> Finding:
    path = _relpath(str(r.get("filename", "")), root)
    if path not in cache:
        cache[path] = read_lines(root, path)
    line_range = [n for n in r.get("line_range") or [] if isinstance(n, int)]
    start = int(r.get("line_number") or (line_range[0] if line_range else 0)) or None
    end = max(line_range) if line_range else start
    snippet = snippet_from_lines(cache[path], start, end) or str(r.get("code") or "")
    return Finding(
        tool="bandit",
        rule_id=str(r.get("test_id", "")),
        severity=severity_from_word(r.get("issue_severity")),
        title=str(r.get("test_name") or r.get("test_id") or "bandit issue"),
        message=str(r.get("issue_text", "")),
        fingerprint="",
        confidence=confidence_word(r.get("issue_confidence")),
        cwe=cwe_ids(r.get("issue_cwe")),
        location=Location(path=path, start_line=start, end_line=end,
                          start_column=(int(r["col_offset"]) + 1) if isinstance(r.get("col_offset"), int) else None,
                          snippet=snippet),
        help_uri=r.get("more_info") or None,
    )


@dataclass(kw_only=True)
class BanditScanner(ToolScanner):
    name: ClassVar[str] = "bandit"
    max_args_chars: int = ARG_BUDGET
    workers: int = 0  # bandit processes at once; 0: one per core (at most 4) for large trees

    def relevant(self, paths: Sequence[str]) -> list[str]:
        return [p for p in paths if is_python(p) and not is_excluded(p, self.exclude)]

    def scan_tree(self, ctx: RunContext, root: Path, paths: Sequence[str] | None) -> list[Finding]:
        files = self.python_files(root, paths)
        if not files:
            raise NothingToScan("no Python files to scan")
        exe = self.tool()
        deadline = time.monotonic() + min(self.options.timeout_seconds, ctx.settings.source_timeout_s)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        # bandit uses one core: a large tree is split into one batch per core, run at once; every batch
        # also fits one command line. A file is never split, so occurrence counting stays per file.
        workers = self.workers or (min(4, os.cpu_count() or 1) if len(files) >= PARALLEL_FROM else 1)
        batches = [c for part in split(files, workers) for c in chunks(part, self.max_args_chars)]
        with cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bandit") as pool:
            for report in pool.map(lambda batch: self._run(ctx, exe, root, batch, deadline), batches):
                results += report.get("results") or []
                errors += report.get("errors") or []
        findings, unscanned = parse_report(json.dumps({"results": results, "errors": errors}), root)
        return Noted(findings, [self.notice(f"could not scan {err}") for err in unscanned])

    def scan_pair(self, ctx: RunContext, base_root: Path, paths: Sequence[str]) -> tuple[Side, Side]:
        """PR mode: one bandit process for the head's and the base's files, split by tree after.

        Both sides are judged by the head's config anyway, so one run gives what two would, and bandit's
        start-up is paid once. Base files are named by absolute path; bandit's own excludes match path
        strings, so when its report shows it left out any file, each side is scanned on its own instead.
        """
        head_files = self.python_files(ctx.workspace, paths)
        base_files = self.python_files(base_root, paths)
        prefix = f"{base_root}{os.sep}"
        argv_files = [*head_files, *(prefix + f for f in base_files)]
        if not (head_files and base_files and self._one_run_fits(argv_files)):
            return super().scan_pair(ctx, base_root, paths)
        report = self._run(ctx, self.tool(), ctx.workspace, argv_files,
                           time.monotonic() + min(self.options.timeout_seconds, ctx.settings.source_timeout_s))
        if scanned(report, ctx.workspace) != set(argv_files):
            log.info("bandit left out files of one tree; scanning head and base separately")
            return super().scan_pair(ctx, base_root, paths)
        return self._side(report, ctx.workspace, lambda name: not name.startswith(prefix)), \
            self._side(report, base_root, lambda name: name.startswith(prefix))

    def _one_run_fits(self, files: Sequence[str]) -> bool:
        """A small change fits one process and one command line (a large one is split per core anyway)."""
        return len(files) < PARALLEL_FROM and sum(len(f) + 1 for f in files) <= self.max_args_chars

    def _side(self, report: dict[str, Any], root: Path, mine: Callable[[str], bool]) -> list[Finding]:
        side = {key: [r for r in report.get(key) or [] if isinstance(r, dict) and mine(str(r.get("filename", "")))]
                for key in ("results", "errors")}
        findings, unscanned = parse_report(json.dumps(side), root)
        return Noted(findings, [self.notice(f"could not scan {err}") for err in unscanned])

    def _run(self, ctx: RunContext, exe: str, root: Path, files: Sequence[str], deadline: float) -> dict[str, Any]:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            limit = min(self.options.timeout_seconds, ctx.settings.source_timeout_s)
            raise SourceFailed(f"bandit timed out after {limit:g}s")
        with tempfile.TemporaryDirectory(prefix="ra-bandit-") as tmp:
            out = Path(tmp) / "bandit.json"
            # the head's bandit config, also for the base revision in PR mode: both sides judged alike
            argv = [exe, "-f", "json", "-o", str(out), "-q", *config_args(ctx.workspace), *files]
            result = run_tool(argv, cwd=root, timeout=timeout, label="bandit")
            # bandit exits 1 when it found issues; anything else but 0 is a crash
            if result.returncode not in (0, 1) or not out.is_file():
                raise SourceFailed(f"bandit failed (exit {result.returncode}): {result.stderr_tail()}")
            text = out.read_text(encoding="utf-8", errors="replace")
        return load_json_report(text, "bandit")


def scanned(report: dict[str, Any], root: Path) -> set[str]:
    """The files a bandit report covers (its per-file metrics, and the files it could not parse)."""
    names = {str(e.get("filename", "")) for e in report.get("errors") or [] if isinstance(e, dict)}
    names |= {k for k in report.get("metrics") or {} if k != "_totals"}
    return {_relpath(n, root) for n in names}


def split(files: Sequence[str], parts: int) -> list[list[str]]:
    """Interleave files into `parts` batches of similar size (neighbouring files differ in size)."""
    parts = max(1, min(parts, len(files)))
    return [list(files[i::parts]) for i in range(parts)]


def chunks(files: Sequence[str], max_chars: int = ARG_BUDGET) -> list[list[str]]:
    """Split a file list so that no command line exceeds max_chars."""
    out: list[list[str]] = [[]]
    size = 0
    for f in files:
        if out[-1] and size + len(f) + 1 > max_chars:
            out.append([])
            size = 0
        out[-1].append(f)
        size += len(f) + 1
    return out
