"""SARIF 2.1.0 for GitHub code scanning, written by us from the RunReport: `to_sarif(report, workspace)`.

One run per scanner that ran (an empty run for a scanner that found nothing, so code scanning closes the
alerts it fixed; none for a scanner that failed, so its open alerts are not closed by mistake), each with
its own `automationDetails.id` category `repo-automation/<tool>/`. Rules carry short/full descriptions,
help (text and markdown), `security-severity` and tags (`security`, `external/cwe/cwe-NNN`); results carry
a level from the severity, our fingerprint in `partialFingerprints`, and repo-relative URIs against
`%SRCROOT%`. Dependency findings without a line are placed on the manifest line that pins the package.
Findings that are fixed, ignored or in the baseline are left out: GitHub does not honour SARIF
`suppressions` (a suppressed result still opens an alert), so leaving them out is what closes their alerts.

GitHub's documented limits (code scanning, "SARIF support"): 20 runs per file, 25,000 results per run
(only the top 5,000 by severity are shown), 25,000 rules per run, 1,000 locations per result (100 shown),
20 tags per rule (10 shown), 10 MB per upload. We keep what GitHub shows: at most 5,000 results per run,
the most severe first, 10 tags per rule, one location, and halve the results until the file fits in
10 MB; every cut is said in the run's `toolExecutionNotifications`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from repo_automation.domain import Finding, RunReport, Severity, Status
from repo_automation.report.escape import escape_markdown

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RUNS = 20
MAX_RESULTS_PER_RUN = 5_000
MAX_TAGS_PER_RULE = 10
MAX_BYTES = 10 * 1024 * 1024
FINGERPRINT_KEY = "repoAutomation/v1"
REPORTED_STATES = ("active", "new", "existing")
SRCROOT = "%SRCROOT%"

LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
         Severity.LOW: "note", Severity.UNKNOWN: "warning"}
# GitHub: > 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "2.0"}
PRECISION = {"high": "high", "medium": "medium", "low": "low"}
TOOL_URIS = {
    "bandit": "https://bandit.readthedocs.io/",
    "pip-audit": "https://pypi.org/project/pip-audit/",
    "safety": "https://pypi.org/project/safety/",
    "semgrep": "https://semgrep.dev/",
    "trivy": "https://trivy.dev/",
}
MANIFEST_GLOBS = ("requirements*.txt", "requirements/*.txt", "pyproject.toml", "setup.cfg", "setup.py", "Pipfile",
                  "poetry.lock", "Pipfile.lock", "uv.lock", "pylock.toml", "pylock.*.toml")


def to_sarif(report: RunReport, workspace: Path, *, max_results: int = MAX_RESULTS_PER_RUN,
             max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """The SARIF log of the report's scanner findings, within GitHub's limits."""
    locator = ManifestLocator(workspace)
    cap = max_results
    while True:
        log = _log(report, locator, cap)
        if cap <= 1 or len(json.dumps(log, separators=(",", ":"))) <= max_bytes:
            return log
        cap //= 2


def scanner_tools(report: RunReport) -> list[str]:
    """Tools that get a run: every scanner that ran, plus any tool with findings (sorted)."""
    ok = {s.name for s in report.sources if s.kind == "scanner" and s.status is Status.OK}
    failed = {s.name for s in report.sources if s.kind == "scanner" and s.status is not Status.OK}
    with_findings = {f.tool for f in report.findings if f.state in REPORTED_STATES} - failed
    return sorted(ok | with_findings)


def _log(report: RunReport, locator: ManifestLocator, cap: int) -> dict[str, Any]:
    tools = scanner_tools(report)
    notes: list[str] = []
    if len(tools) > MAX_RUNS:
        notes.append(f"{len(tools) - MAX_RUNS} tool(s) left out: GitHub accepts at most {MAX_RUNS} runs per file "
                     f"({', '.join(tools[MAX_RUNS:])})")
        tools = tools[:MAX_RUNS]
    runs = [_run(tool, [f for f in report.findings if f.tool == tool], locator, cap) for tool in tools]
    if notes and runs:
        runs[0]["invocations"][0].setdefault("toolExecutionNotifications", []).extend(_notification(n) for n in notes)
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": runs}


def _run(tool: str, findings: Sequence[Finding], locator: ManifestLocator, cap: int) -> dict[str, Any]:
    placed, notes = _placed(findings, locator, cap)
    by_rule: dict[str, list[Finding]] = {}
    for f, _ in placed:
        by_rule.setdefault(f.rule_id, []).append(f)
    index = {rule_id: i for i, rule_id in enumerate(by_rule)}
    results = [_result(f, loc, index[f.rule_id]) for f, loc in placed]
    driver: dict[str, Any] = {"name": tool, "rules": [_rule(same[0], same) for same in by_rule.values()]}
    if tool in TOOL_URIS:
        driver["informationUri"] = TOOL_URIS[tool]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notes:
        invocation["toolExecutionNotifications"] = [_notification(n) for n in notes]
    return {"tool": {"driver": driver}, "automationDetails": {"id": f"repo-automation/{tool}/"},
            "invocations": [invocation], "results": results, "columnKind": "unicodeCodePoints"}


def _placed(findings: Sequence[Finding], locator: ManifestLocator, cap: int
            ) -> tuple[list[tuple[Finding, dict[str, Any]]], list[str]]:
    """The reported findings with their locations, most severe first and at most `cap`, and a note for
    each kind left out (suppressed, unlocatable, over the cap)."""
    ordered = sorted((f for f in findings if f.state in REPORTED_STATES), key=_order)
    notes: list[str] = []
    hidden = sum(1 for f in findings if f.state in ("ignored", "baseline"))
    if hidden:
        notes.append(f"{hidden} ignored or baseline finding(s) left out (GitHub does not honour suppressions)")
    located = [(f, _location(f, locator)) for f in ordered]
    placed = [(f, loc) for f, loc in located if loc is not None]
    unplaced = len(located) - len(placed)
    if unplaced:
        notes.append(f"{unplaced} finding(s) left out: no file or manifest line could be found for them")
    if len(placed) > cap:
        notes.append(f"{len(placed) - cap} of {len(placed)} results left out (most severe kept): GitHub shows "
                     f"at most {MAX_RESULTS_PER_RUN} per run and accepts at most {MAX_BYTES // 2**20} MB per file")
        placed = placed[:cap]
    return placed, notes


def _order(f: Finding) -> tuple[int, str, int, str, str]:
    loc = f.location
    return (-f.severity.rank, loc.path if loc else "", (loc.start_line or 0) if loc else 0, f.rule_id,
            f.fingerprint)


def _notification(text: str) -> dict[str, Any]:
    return {"level": "warning", "message": {"text": text}}


def _rule(first: Finding, same: Sequence[Finding]) -> dict[str, Any]:
    worst = max((f.severity for f in same), key=lambda s: s.rank)
    tags = ["security", *(_cwe_tag(c) for c in first.cwe)]
    if first.package:
        tags.append("dependency")
    props: dict[str, Any] = {"tags": list(dict.fromkeys(t for t in tags if t))[:MAX_TAGS_PER_RULE]}
    if worst in SECURITY_SEVERITY:
        props["security-severity"] = SECURITY_SEVERITY[worst]
    if first.confidence and first.confidence.lower() in PRECISION:
        props["precision"] = PRECISION[first.confidence.lower()]
    rule: dict[str, Any] = {
        "id": first.rule_id,
        "shortDescription": {"text": _clip(first.title, 1000)},
        "fullDescription": {"text": _clip(first.message or first.title, 4000)},
        "help": {"text": _help_text(first), "markdown": _help_markdown(first)},
        "defaultConfiguration": {"level": LEVEL[worst]},
        "properties": props,
    }
    if first.help_uri:
        rule["helpUri"] = first.help_uri
    return rule


def _cwe_tag(cwe: str) -> str:
    m = re.search(r"(\d+)", cwe)
    return f"external/cwe/cwe-{m.group(1)}" if m else ""


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split()) or "(no description)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fix_line(f: Finding) -> str | None:
    if not f.package:
        return None
    if f.fixed_versions:
        return f"Upgrade {f.package} from {f.version or 'the pinned version'} to {' or '.join(f.fixed_versions)}."
    return f"No fixed version of {f.package} is known yet."


def _help_text(f: Finding) -> str:
    lines = [f.title]
    if f.message and f.message != f.title:
        lines.append(f.message)
    for extra in (_fix_line(f), f"Advisories: {', '.join(f.ids)}" if f.ids else None,
                  f"More: {f.help_uri}" if f.help_uri else None):
        if extra:
            lines.append(extra)
    return "\n\n".join(lines)


def _help_markdown(f: Finding) -> str:
    parts = [f"**{escape_markdown(f.title, max_len=1000)}**"]
    if f.message and f.message != f.title:
        parts.append(escape_markdown(f.message, max_len=4000))
    fix = _fix_line(f)
    if fix:
        parts.append(escape_markdown(fix))
    if f.ids:
        parts.append("Advisories: " + ", ".join(escape_markdown(i) for i in f.ids))
    if f.help_uri and re.match(r"https?://", f.help_uri):
        parts.append(f"[More information](<{f.help_uri.replace('>', '%3E')}>)")
    return "\n\n".join(parts)


def _result(f: Finding, location: dict[str, Any], rule_index: int) -> dict[str, Any]:
    text = f.message or f.title
    if f.package:
        ident = f.ids[0] if f.ids else f.rule_id
        fixed = f"; fixed in {', '.join(f.fixed_versions)}" if f.fixed_versions else "; no fix released yet"
        text = f"{f.package} {f.version or ''} is vulnerable ({ident}): {f.title}{fixed}".replace("  ", " ")
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[f.severity],
        "message": {"text": _clip(text, 4000)},
        "locations": [location],
    }
    if f.fingerprint:  # otherwise upload-sarif computes GitHub's own line hash
        result["partialFingerprints"] = {FINGERPRINT_KEY: f.fingerprint}
    return result


def _location(f: Finding, locator: ManifestLocator) -> dict[str, Any] | None:
    path, line, end, column = None, None, None, None
    if f.location is not None:
        path, line, end, column = f.location.path, f.location.start_line, f.location.end_line, f.location.start_column
    if f.package and line is None:
        found = locator.find(f.package, f.version, path)
        if found is not None:
            path, line = found
            end = column = None
    if not path:
        return None
    region: dict[str, Any] = {"startLine": max(1, line or 1)}
    if end and line and end >= line:
        region["endLine"] = end
    if column and column >= 1:
        region["startColumn"] = column
    uri = quote(locator.relative(path), safe="/")
    return {"physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": SRCROOT}, "region": region}}


class ManifestLocator:
    """Finds the line of a manifest where a package is named (pinned), reading each file once."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self._lines: dict[str, list[str]] = {}

    def relative(self, path: str) -> str:
        p = Path(path)
        if p.is_absolute():
            try:
                return p.resolve().relative_to(self.workspace.resolve()).as_posix()
            except ValueError:
                return p.as_posix().lstrip("/")
        return p.as_posix().removeprefix("./")

    def candidates(self) -> list[str]:
        found: list[str] = []
        for pattern in MANIFEST_GLOBS:
            found.extend(sorted(p.relative_to(self.workspace).as_posix() for p in self.workspace.glob(pattern)
                                if p.is_file()))
        return found

    def find(self, package: str, version: str | None, path: str | None) -> tuple[str, int] | None:
        """(manifest path, 1-based line) — in `path` if given, else in the usual manifests."""
        files: Iterable[str] = [self.relative(path)] if path else self.candidates()
        name = r"[-_.]+".join(re.escape(part) for part in re.split(r"[-_.]+", package) if part)
        pattern = re.compile(rf"(?<![\w.-]){name}(?![\w.-])", re.IGNORECASE)
        for rel in files:
            hits = [n for n, text in enumerate(self._read(rel), 1)
                    if not text.lstrip().startswith("#") and pattern.search(text)]
            if hits:
                exact = [n for n in hits if version and version in self._read(rel)[n - 1]]
                return rel, (exact or hits)[0]
        return None

    def _read(self, rel: str) -> list[str]:
        if rel not in self._lines:
            try:
                self._lines[rel] = (self.workspace / rel).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                self._lines[rel] = []
        return self._lines[rel]
