"""pip-audit over the repository's requirements files, pyproject.toml pins and PEP 751 lock files.

Requirements files: `pip-audit -r FILE --no-deps --disable-pip -f json` (pins audited as written, nothing
installed). pip-audit refuses a whole file for one requirement that is not pinned to one version, so such
a file is audited for its pins alone (through a temporary requirements file of those lines and the file's
options) and the others are named as skipped. pyproject.toml: its [project] dependencies and
optional-dependencies that are pinned with `==` are audited the same way through a temporary requirements
file; unpinned ones cannot be audited without resolving (which installs), so they are named as skipped.
A lock file (pylock.toml, pylock.<name>.toml) is audited with `pip-audit --locked` on a folder holding
that file alone: the exact versions a library's ranges resolved to.

Service: config `vulnerability_service` (default osv) and `osv_url`. pip-audit's own environment variables
win when the user set them: PIP_AUDIT_VULNERABILITY_SERVICE, PIP_AUDIT_OSV_URL (and every other
PIP_AUDIT_* variable pip-audit reads is passed through untouched).

Skips are never "no vulnerabilities": pip-audit's JSON names each dependency it could not audit (the PyPI
service answers only for the latest release of a package, for one). If nothing could be audited the source
FAILS with pip-audit's reasons; partial skips are named in the scanner's notices.

PR mode audits only the pins the pull request changed (scanners/pindiff.py): at head the added and changed
requirements, at base the removed and changed ones, each side through a temporary requirements file of
those lines; a notice says how many unchanged pins were left to the full scan.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from repo_automation.context import RunContext
from repo_automation.discover import is_excluded, is_manifest, is_pylock, read_lines
from repo_automation.domain import Finding, Location, Severity
from repo_automation.errors import NothingToScan, SourceFailed
from repo_automation.scanners.fingerprint import canonical_package, dependency_fingerprint
from repo_automation.scanners.interface import ToolScanner, at_once, run_tool
from repo_automation.scanners.osv import STORE_PATH as OSV_STORE
from repo_automation.scanners.osv import OSVSeverity
from repo_automation.scanners.pindiff import (
    PIN,
    Job,
    Requirements,
    parse_requirements,
    plan,
    pyproject_pins,
    requirement_text,
    unpinned,
)
from repo_automation.scanners.prmode import Side
from repo_automation.stages import Noted, notices_of

_LOCK_NAME = re.compile(r"""^\s*name\s*=\s*["']([A-Za-z0-9][A-Za-z0-9._-]*)["']\s*$""")  # pylock [[packages]]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditResult:
    """One pip-audit run's JSON, parsed: vulnerable dependencies and skipped ones."""

    vulns: list[tuple[str, str, dict[str, Any]]]  # (name, version, vuln)
    skipped: list[str]  # pip-audit's skip reasons
    audited: int  # dependencies actually audited


def parse_audit(text: str) -> AuditResult:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SourceFailed(f"pip-audit wrote output that is not JSON ({e})") from e
    deps = data.get("dependencies") if isinstance(data, dict) else None
    if not isinstance(deps, list):
        raise SourceFailed("pip-audit's JSON report has no 'dependencies' list")
    vulns: list[tuple[str, str, dict[str, Any]]] = []
    skipped: list[str] = []
    audited = 0
    for dep in deps:
        if not isinstance(dep, dict):
            continue
        if dep.get("skip_reason"):
            skipped.append(str(dep["skip_reason"]))
            continue
        audited += 1
        for v in dep.get("vulns") or []:
            if isinstance(v, dict) and v.get("id"):
                vulns.append((str(dep.get("name", "")), str(dep.get("version", "")), v))
    return AuditResult(vulns=vulns, skipped=skipped, audited=audited)


def requirement_lines(path: Path, selection: Sequence[str] | None) -> tuple[list[str] | None, list[str]]:
    """(lines to audit, or None for the file as it is; requirements that are not pinned, named as skipped).

    pip-audit audits pins as written (`--no-deps`) and rejects a whole file for one unpinned line, so the
    pinned requirements are audited on their own and the others named. A file that includes others (`-r`,
    `-c`, `-e`) is handed to pip-audit as it is."""
    if path.name == "pyproject.toml":
        if selection is None:
            return pyproject_pins(path)
        return [r for r in selection if PIN.match(r)], [r for r in selection if not PIN.match(r)]
    reqs = _read_requirements(path, selection)
    split = _pins_only(reqs) if reqs is not None else None
    if split is None:
        return (None if selection is None else list(selection)), []
    return split


def _read_requirements(path: Path, selection: Sequence[str] | None) -> Requirements | None:
    """The selected lines, or the file, parsed; None when the file cannot be read (pip-audit names why)."""
    if selection is not None:
        return parse_requirements("\n".join(selection))
    try:
        return parse_requirements(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None


def _pins_only(reqs: Requirements) -> tuple[list[str], list[str]] | None:
    """(the option lines and pinned requirements, the loose requirements' text), or None when the lines can
    go to pip-audit as they are (all pinned, or the file includes others)."""
    loose = [e for e in reqs.entries if unpinned(e)]
    if reqs.whole or not loose:
        return None
    pinned = [e.text for e in reqs.entries if not unpinned(e)]
    return ([*reqs.options, *pinned] if pinned else []), [requirement_text(e) for e in loose]


def pin_line(lines: Sequence[str], package: str) -> int | None:
    """The line that pins `package`: `name==…` in a requirements file or pyproject, `name = "…"` in a lock."""
    want = canonical_package(package)
    for n, line in enumerate(lines, 1):
        m = re.match(r"\s*\"?([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        if m and canonical_package(m.group(1)) == want and ("==" in line):
            return n
        lock = _LOCK_NAME.match(line)
        if lock and canonical_package(lock.group(1)) == want:
            return n
    return None


def _with_notices(side: Side, notices: Sequence[str]) -> Side:
    """A side's findings with `notices` before its own; a skipped side stays as it is."""
    return Noted(side, (*notices, *notices_of(side))) if isinstance(side, list) and notices else side


@dataclass(kw_only=True)
class PipAuditScanner(ToolScanner):
    name: ClassVar[str] = "pip-audit"
    severities: OSVSeverity | None = None  # None: built from the service URL on first use
    env: Mapping[str, str] = field(default_factory=dict)  # the user's environment (PIP_AUDIT_* wins)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # PR mode scans head and base at once

    def relevant(self, paths: Sequence[str]) -> list[str]:
        return [p for p in paths if is_manifest(p) and not is_excluded(p, self.exclude)]

    def service_args(self) -> list[str]:
        env = {**os.environ, **self.env}
        args: list[str] = []
        if not env.get("PIP_AUDIT_VULNERABILITY_SERVICE"):
            args += ["-s", self.options.vulnerability_service]
        if not env.get("PIP_AUDIT_OSV_URL") and self.options.osv_url:
            args += ["--osv-url", self.options.osv_url]
        return args

    def osv_query_url(self) -> str | None:
        return ({**os.environ, **self.env}.get("PIP_AUDIT_OSV_URL") or self.options.osv_url) or None

    def scan_tree(self, ctx: RunContext, root: Path, paths: Sequence[str] | None) -> list[Finding]:
        files = self.manifests(root, paths)
        if not files:
            raise NothingToScan("no requirements files or pyproject.toml to audit")
        return self._audit(ctx, root, [(m, None) for m in files])

    def scan_pair(self, ctx: RunContext, base_root: Path, paths: Sequence[str]) -> tuple[Side, Side]:
        """Only the pins the pull request changed: added/changed at head, removed/changed at base."""
        self.tool()  # not installed: skipped here, not an empty audit on both sides
        files = sorted({*self.manifests(ctx.workspace, paths), *self.manifests(base_root, paths)})
        if not files:
            raise NothingToScan("no requirements files or pyproject.toml to audit")
        head: list[Job] = []
        base: list[Job] = []
        notices: list[str] = []
        for manifest in files:
            head_jobs, base_jobs, text = plan(manifest, ctx.workspace, base_root)
            head += head_jobs
            base += base_jobs
            if text:
                notices.append(self.notice(text))
        if not head and not base:
            raise NothingToScan(f"the pull request changes no pin in {', '.join(files)} (unchanged pins are "
                                "covered by the full scan)")
        head_side, base_side = at_once(self.name, partial(self._audit, ctx, ctx.workspace, head),
                                       partial(self._audit, ctx, base_root, base))
        if isinstance(head_side, list):  # what PR mode audited goes with the head's findings
            return _with_notices(head_side, notices), base_side
        return head_side, _with_notices(base_side, notices)

    def _audit(self, ctx: RunContext, root: Path, jobs: Sequence[Job]) -> list[Finding]:
        """Audit each (manifest, its lines to audit or None for the whole file) in `root`."""
        if not jobs:
            return []  # PR mode: nothing of this side changed
        exe = self.tool()
        raw: list[tuple[str, str, str, dict[str, Any]]] = []  # (manifest, name, version, vuln)
        problems: list[str] = []
        skipped: list[str] = []
        audited = 0
        for manifest, selection in jobs:
            try:
                result = self._audit_manifest(ctx, exe, root, manifest, selection)
            except SourceFailed as e:
                problems.append(f"{manifest}: {e}")
                continue
            audited += result.audited
            skipped += [f"{manifest}: {s}" for s in result.skipped]
            raw += [(manifest, n, v, vuln) for n, v, vuln in result.vulns]
        return self._conclude(ctx, root, raw, problems, skipped, audited)

    def _conclude(self, ctx: RunContext, root: Path, raw: list[tuple[str, str, str, dict[str, Any]]],
                  problems: list[str], skipped: list[str], audited: int) -> list[Finding]:
        if audited == 0:
            reasons = problems + skipped
            if not reasons:
                raise NothingToScan("no pinned dependencies to audit")
            raise SourceFailed(f"no dependency could be audited ({len(reasons)} problem(s)): " + "; ".join(reasons[:5]))
        notices = [self.notice(text) for text in problems]
        if skipped:
            what = "dependency" if len(skipped) == 1 else "dependencies"
            notices.append(self.notice(f"{len(skipped)} {what} skipped, not audited: " + "; ".join(skipped[:10])))
        severities = self._severities(ctx)
        by_id = severities.severities((name, version, v["id"]) for _, name, version, v in raw)
        notices += [self.notice(f"severity lookup: {failure}") for failure in severities.failures[:5]]
        lines: dict[str, list[str]] = {}
        out = []
        for manifest, name, version, v in raw:
            if manifest not in lines:
                lines[manifest] = read_lines(root, manifest)
            out.append(self._finding(manifest, name, version, v, by_id.get(v["id"], Severity.UNKNOWN),
                                     pin_line(lines[manifest], name)))
        return Noted(out, notices)

    def _severities(self, ctx: RunContext) -> OSVSeverity:
        with self._lock:  # one lookup cache for the run, also when head and base are scanned at once
            if self.severities is None:  # kept between runs in the workspace; a dry run only reads it
                self.severities = OSVSeverity.for_url(self.osv_query_url(), read_only=ctx.dry_run,
                                                      store_path=ctx.settings.resolve(OSV_STORE))
            return self.severities

    def _audit_manifest(self, ctx: RunContext, exe: str, root: Path, manifest: str,
                        selection: Sequence[str] | None = None) -> AuditResult:
        with tempfile.TemporaryDirectory(prefix="ra-pip-audit-") as tmp:
            source, loose = self._source_args(root / manifest, selection, Path(tmp))
            if not source:
                return AuditResult(vulns=[], skipped=[f"{u} (not pinned)" for u in loose], audited=0)
            out = Path(tmp) / "audit.json"
            argv = [exe, *source, "-f", "json", "-o", str(out), "--progress-spinner", "off", "--aliases", "on",
                    "--desc", "on", "--cache-dir", str(Path(tmp) / "cache"), *self.service_args()]
            env = {**os.environ, **{k: v for k, v in self.env.items() if k.startswith("PIP_AUDIT_")}}
            timeout = min(self.options.timeout_seconds, ctx.settings.source_timeout_s)
            result = run_tool(argv, cwd=root, timeout=timeout, env=env, label="pip-audit")
            # pip-audit exits 1 when it found vulnerabilities; without a report it failed
            if result.returncode not in (0, 1) or not out.is_file():
                raise SourceFailed(f"pip-audit failed (exit {result.returncode}): {result.stderr_tail()}")
            parsed = parse_audit(out.read_text(encoding="utf-8", errors="replace"))
        return AuditResult(vulns=parsed.vulns, skipped=parsed.skipped + [f"{u} (not pinned)" for u in loose],
                           audited=parsed.audited)

    @staticmethod
    def _source_args(req: Path, selection: Sequence[str] | None, tmp: Path) -> tuple[list[str], list[str]]:
        """(pip-audit's arguments naming what to audit, or [] for nothing; the loose requirements named)."""
        if is_pylock(req.name):  # `--locked DIR` audits the lock files in DIR: give it this one alone
            (tmp / "lock").mkdir()
            shutil.copyfile(req, tmp / "lock" / req.name)
            return ["--locked", str(tmp / "lock")], []
        lines, loose = requirement_lines(req, selection)
        if lines is not None:  # pins of pyproject or of a file with loose requirements, or PR mode's lines
            if not lines:
                return [], loose
            req = tmp / "requirements.txt"
            req.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return ["-r", str(req), "--no-deps", "--disable-pip"], loose

    @staticmethod
    def _finding(manifest: str, name: str, version: str, v: dict[str, Any], severity: Severity,
                 line: int | None) -> Finding:
        ids = (str(v["id"]), *[str(a) for a in v.get("aliases") or [] if a != v["id"]])
        description = str(v.get("description") or "")
        return Finding(
            tool="pip-audit",
            rule_id=ids[0],
            severity=severity,
            title=f"{name} {version}: {ids[0]}",
            message=description,
            fingerprint=dependency_fingerprint(name, ids),
            location=Location(path=manifest, start_line=line, end_line=line),
            package=canonical_package(name),
            version=version,
            fixed_versions=tuple(str(f) for f in v.get("fix_versions") or []),
            ids=ids,
            help_uri=f"https://osv.dev/vulnerability/{ids[0]}",
        )
