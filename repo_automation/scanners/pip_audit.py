"""pip-audit over the repository's requirements files, pyproject.toml pins and PEP 751 lock files.

Requirements files, constraints files and pyproject.toml (PEP 621, PEP 735 groups, Poetry) are read through
the one manifest model (repo_automation.manifests): their pins (`==` one version, or `===`) go to
`pip-audit -r TMPFILE --no-deps --disable-pip -f json` as written (hashes, markers, the file's global
options kept), nothing installed; every requirement that is not a pin (a range, `==1.*`, no version) is named
as skipped, "not a pin", never a reason to refuse the file. A `-r` include that is not a manifest of its own
is followed. uv.lock and poetry.lock are audited for their exact versions the same way. A PEP 751 lock file
(pylock.toml, pylock.<name>.toml) is audited with `pip-audit --locked` on a folder holding that file alone.

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
import shutil
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from repo_automation.context import RunContext
from repo_automation.discover import is_excluded, is_manifest, is_pylock, read_lines
from repo_automation.domain import Finding, Location, Severity
from repo_automation.errors import ConfigError, NothingToScan, SourceFailed
from repo_automation.manifests import Manifest, parse_manifest, pin_lines
from repo_automation.manifests.requirements_txt import parse as parse_requirements_file
from repo_automation.scanners.fingerprint import canonical_package, dependency_fingerprint
from repo_automation.scanners.interface import ToolScanner, at_once, run_tool
from repo_automation.scanners.osv import STORE_PATH as OSV_STORE
from repo_automation.scanners.osv import OSVSeverity
from repo_automation.scanners.pindiff import Job, plan
from repo_automation.scanners.prmode import Side
from repo_automation.stages import Noted, notices_of


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditResult:
    """One pip-audit run's JSON, parsed: vulnerable dependencies and skipped ones."""

    vulns: list[tuple[str, str, dict[str, Any]]]  # (name, version, vuln)
    skipped: list[str]  # pip-audit's skip reasons
    audited: int  # dependencies actually audited
    foreign: str = ""  # why the manifest was not audited at all: not a requirements file


class ToAudit(NamedTuple):
    """What of one requirements file goes to pip-audit."""

    lines: list[str]  # global options and pins as written
    loose: list[str]  # the requirements that are not pins, each with the reason
    foreign: str = ""  # not a requirements file (why): nothing of it is audited


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


def requirement_lines(path: Path, selection: Sequence[str] | None) -> ToAudit:
    """The lines to audit (global options and pins as written) and the requirements that are not pins.

    pip-audit audits pins as written (`--no-deps`) and rejects a whole file for one requirement that is not
    one version, so the pins (manifests.pinned_version) are audited on their own and the others named.
    A `-r` include that is not a manifest of its own is followed (one that is gets its own audit)."""
    if selection is not None:
        found = parse_requirements_file(path.name, "\n".join(selection))
        return ToAudit([*found.options, *(p.text for p in found.pins)], _loose(found))
    found = _manifest(path)
    if found.foreign:
        return ToAudit([], [], found.foreign)
    lines = [*found.options, *(p.text for p in found.pins)]
    loose = _loose(found)
    for extra in _included(path, found, {path.resolve()}):
        lines += [p.text for p in extra.pins]
        loose += _loose(extra)
    return ToAudit(lines, loose)


def _manifest(path: Path) -> Manifest:
    try:
        return parse_manifest(path.name, path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ConfigError) as e:
        raise SourceFailed(f"{path.name} cannot be read: {e}") from e


def _loose(found: Manifest) -> list[str]:
    return [f"{u.requirement} ({u.reason})" for u in found.unpinned]


def _included(path: Path, found: Manifest, seen: set[Path]) -> list[Manifest]:
    """The requirements files `found` includes with -r that discovery does not audit on their own."""
    out: list[Manifest] = []
    for line in found.includes:
        flag, _, target = line.replace("=", " ", 1).partition(" ")
        if flag not in ("-r", "--requirement") or not target.strip():
            continue
        child = (path.parent / target.strip()).resolve()
        if child in seen or not child.is_file() or is_manifest(child.name):
            continue
        seen.add(child)
        inner = _manifest(child)
        out += [inner, *_included(child, inner, seen)]
    return out


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
        foreign: list[str] = []
        audited = 0
        for manifest, selection in jobs:
            try:
                result = self._audit_manifest(ctx, exe, root, manifest, selection)
            except SourceFailed as e:
                problems.append(f"{manifest}: {e}")
                continue
            if result.foreign:
                foreign.append(f"{manifest}: {result.foreign}")
            audited += result.audited
            skipped += [f"{manifest}: {s}" for s in result.skipped]
            raw += [(manifest, n, v, vuln) for n, v, vuln in result.vulns]
        return self._conclude(ctx, root, raw, problems, skipped, audited, foreign)

    def _conclude(self, ctx: RunContext, root: Path, raw: list[tuple[str, str, str, dict[str, Any]]],
                  problems: list[str], skipped: list[str], audited: int, foreign: Sequence[str] = ()
                  ) -> list[Finding]:
        # a file named like a manifest that is none (a reST page called constraints.txt) is no problem of
        # the audit: it is left out, and said so
        left_out = [f"left out, {text}" for text in foreign]
        if audited == 0:
            reasons = problems + skipped
            if not reasons:
                raise NothingToScan("; ".join(["no pinned dependencies to audit", *left_out[:5]]))
            raise SourceFailed(f"no dependency could be audited ({len(reasons)} problem(s)): " + "; ".join(reasons[:5]))
        notices = [self.notice(text) for text in [*problems, *left_out]]
        if skipped:
            what = "dependency" if len(skipped) == 1 else "dependencies"
            notices.append(self.notice(f"{len(skipped)} {what} skipped, not audited: " + "; ".join(skipped[:10])))
        severities = self._severities(ctx)
        by_id = severities.severities((name, version, v["id"]) for _, name, version, v in raw)
        notices += [self.notice(f"severity lookup: {failure}") for failure in severities.failures[:5]]
        lines: dict[str, dict[str, int]] = {}
        out = []
        for manifest, name, version, v in raw:
            if manifest not in lines:
                lines[manifest] = pin_lines(manifest, "\n".join(read_lines(root, manifest)))
            out.append(self._finding(manifest, name, version, v, by_id.get(v["id"], Severity.UNKNOWN),
                                     lines[manifest].get(canonical_package(name))))
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
            source, loose, foreign = self._source_args(root / manifest, selection, Path(tmp))
            if not source:
                return AuditResult(vulns=[], skipped=loose, audited=0, foreign=foreign)
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
        return AuditResult(vulns=parsed.vulns, skipped=parsed.skipped + loose,
                           audited=parsed.audited)

    @staticmethod
    def _source_args(req: Path, selection: Sequence[str] | None, tmp: Path) -> tuple[list[str], list[str], str]:
        """(pip-audit's arguments naming what to audit, or [] for nothing; the loose requirements named; why
        the file is not a requirements file, or "")."""
        if is_pylock(req.name):  # `--locked DIR` audits the lock files in DIR: give it this one alone
            (tmp / "lock").mkdir()
            shutil.copyfile(req, tmp / "lock" / req.name)
            return ["--locked", str(tmp / "lock")], [], ""
        lines, loose, foreign = requirement_lines(req, selection)
        if not lines:
            return [], loose, foreign
        req = tmp / "requirements.txt"
        req.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return ["-r", str(req), "--no-deps", "--disable-pip"], loose, ""

    @staticmethod
    def _finding(manifest: str, name: str, version: str, v: dict[str, Any], severity: Severity,
                 line: int | None) -> Finding:
        # pip-audit prints aliases from a set, in any order: sorted, two runs give the same finding
        ids = (str(v["id"]), *sorted({str(a) for a in v.get("aliases") or [] if a != v["id"]}))
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
