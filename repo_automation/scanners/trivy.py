"""trivy: `trivy fs --format json --quiet [trivy_args] ROOT`, when installed and listed in `tools`.

Vulnerabilities (Results[].Vulnerabilities[]) become dependency findings, fingerprinted like pip-audit's and
safety's (package + canonical advisory id), so trivy agrees with them; misconfigurations and secrets
(Results[].Misconfigurations[] / Secrets[]) become code findings at their target file.

The vulnerability scan needs trivy's database, downloaded from a registry (ghcr.io / mirror.gcr.io): where
it cannot be reached, trivy runs again with its other scanners (secrets, misconfigurations: offline) and
the report says the vulnerability scan was skipped and why; asked for vulnerabilities alone, trivy is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from repo_automation.context import RunContext
from repo_automation.discover import gitignored, is_excluded
from repo_automation.domain import Finding, Location
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.scanners.fingerprint import canonical_package, dependency_fingerprint, with_code_fingerprints
from repo_automation.scanners.interface import ToolScanner, run_tool
from repo_automation.scanners.normalise import cwe_ids, severity_from_word
from repo_automation.stages import Noted


def _vuln(target: str, v: dict[str, Any]) -> Finding:
    vid = str(v.get("VulnerabilityID", ""))
    name = str(v.get("PkgName", ""))
    ids = (vid, *[str(a) for a in v.get("VendorIDs") or [] if a != vid])
    fixed = tuple(s.strip() for s in str(v.get("FixedVersion") or "").split(",") if s.strip())
    return Finding(
        tool="trivy", rule_id=vid, severity=severity_from_word(v.get("Severity")),
        title=f"{name} {v.get('InstalledVersion', '')}: {v.get('Title') or vid}",
        message=str(v.get("Description") or ""), fingerprint=dependency_fingerprint(name, ids),
        cwe=cwe_ids(v.get("CweIDs")), location=Location(path=target), package=canonical_package(name),
        version=str(v.get("InstalledVersion", "")), fixed_versions=fixed, ids=ids,
        help_uri=v.get("PrimaryURL") or None,
    )


def _code(target: str, kind: str, item: dict[str, Any]) -> Finding:
    cause = item.get("CauseMetadata") or {}
    start = item.get("StartLine") or cause.get("StartLine")
    end = item.get("EndLine") or cause.get("EndLine")
    rule = str(item.get("ID") or item.get("RuleID") or kind)
    return Finding(
        tool="trivy", rule_id=rule, severity=severity_from_word(item.get("Severity")),
        title=str(item.get("Title") or rule), message=str(item.get("Message") or item.get("Description") or ""),
        fingerprint="", location=Location(path=target, start_line=start, end_line=end, snippet=_snippet(item, cause)),
        help_uri=item.get("PrimaryURL") or None,
    )


def _snippet(item: dict[str, Any], cause: dict[str, Any]) -> str:
    """The offending lines trivy quotes (CauseMetadata.Code.Lines), else the secret's masked Match."""
    lines = (cause.get("Code") or {}).get("Lines") or []
    quoted = "\n".join(str(line.get("Content", "")) for line in lines if isinstance(line, dict))
    return quoted or str(item.get("Match") or "")


def _results(text: str) -> list[Any]:
    """The report's Results list; output that is not a trivy JSON report fails the source."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SourceFailed(f"trivy wrote output that is not JSON ({e})") from e
    if not isinstance(data, dict) or not isinstance(data.get("Results", []), list | type(None)):
        raise SourceFailed("trivy's JSON report has no 'Results' list")
    return data.get("Results") or []


def _code_findings(target: str, res: dict[str, Any]) -> list[Finding]:
    """A target's failed misconfiguration checks, then its secrets (fingerprinted by the caller)."""
    misconfigurations = [_code(target, "misconfiguration", m) for m in res.get("Misconfigurations") or []
                         if isinstance(m, dict) and m.get("Status", "FAIL") == "FAIL"]
    return misconfigurations + [_code(target, "secret", s) for s in res.get("Secrets") or [] if isinstance(s, dict)]


def parse_report(text: str) -> list[Finding]:
    deps: list[Finding] = []
    code: list[Finding] = []
    for res in _results(text):
        if not isinstance(res, dict):
            continue
        target = str(res.get("Target", "")).removeprefix("./")
        deps += [_vuln(target, v) for v in res.get("Vulnerabilities") or [] if isinstance(v, dict)]
        code += _code_findings(target, res)
    return deps + with_code_fingerprints(code)


DB_UNREACHABLE = "failed to download vulnerability DB"  # trivy's message when its database (ghcr.io) is out of reach
DEFAULT_SCANNERS = ("vuln", "secret")  # `trivy fs` without --scanners


def without_vulnerabilities(args: Sequence[str]) -> list[str] | None:
    """`args` with the vulnerability scanner taken out of --scanners; None when it was the only one."""
    rest: list[str] = []
    scanners: Sequence[str] = DEFAULT_SCANNERS
    it = iter(args)
    for arg in it:
        if arg == "--scanners":
            scanners = next(it, "").split(",")
        elif arg.startswith("--scanners="):
            scanners = arg.partition("=")[2].split(",")
        else:
            rest.append(arg)
    offline = [s for s in scanners if s and s != "vuln"]
    return [*rest, "--scanners", ",".join(offline)] if offline else None


def skip_args(exclude: Sequence[str], ignored: Sequence[str], target: str = ".") -> list[str]:
    """trivy's own --skip-dirs / --skip-files for the scan scope, relative to `target` (trivy walks the tree
    itself): a component glob anywhere (`**/node_modules`), a path glob from the top, and what git ignores
    (folders end in `/`)."""
    prefix = "" if target in (".", "") else target.strip("/") + "/"

    def under_target(path: str) -> str | None:
        return path if not prefix else (path[len(prefix):] if path.startswith(prefix) else None)

    dirs: list[str] = []
    files: list[str] = []
    for raw in exclude:
        pattern = raw.strip().rstrip("/")
        if not pattern:
            continue
        if "/" not in pattern:
            dirs.append(f"**/{pattern}")
            files.append(f"**/{pattern}")
        elif (rel := under_target(pattern.lstrip("/"))) is not None:
            dirs.append(rel)
            files.append(rel)
    for path in ignored:
        rel = under_target(path)
        if rel:
            (dirs if rel.endswith("/") else files).append(rel.rstrip("/"))
    return [a for d in dict.fromkeys(dirs) for a in ("--skip-dirs", d)] + \
        [a for f in dict.fromkeys(files) for a in ("--skip-files", f)]


def _cause(stderr: str) -> str:
    """The innermost reason trivy gives (its last line, e.g. `Get "https://mirror.gcr.io/v2/": dial tcp: …`)."""
    lines = [line.strip().removeprefix("* ") for line in stderr.splitlines() if line.strip()]
    return lines[-1][-300:] if lines else "no reason given"


@dataclass(kw_only=True)
class TrivyScanner(ToolScanner):
    name: ClassVar[str] = "trivy"

    def relevant(self, paths: Sequence[str]) -> list[str]:
        return [p for p in paths if not is_excluded(p, self.exclude)]

    def scan_tree(self, ctx: RunContext, root: Path, paths: Sequence[str] | None) -> list[Finding]:
        exe = self.tool()
        targets = list(paths) if paths is not None else (list(self.options.paths) or ["."])
        timeout = min(self.options.timeout_seconds, ctx.settings.source_timeout_s)
        args = list(self.options.trivy_args)
        findings: list[Finding] = []
        notices: list[str] = []
        ignored = [] if self.with_gitignored else gitignored(root)
        for target in targets:
            if not (root / target).exists() or is_excluded(target, self.exclude):
                continue
            skips = skip_args(self.exclude, ignored, target)
            result = run_tool([exe, "fs", "--format", "json", "--quiet", *args, *skips, target], cwd=root,
                              timeout=timeout, label="trivy")
            if result.returncode != 0 and DB_UNREACHABLE in result.stderr:
                args, notice = self._offline(args, _cause(result.stderr))
                notices.append(notice)
                result = run_tool([exe, "fs", "--format", "json", "--quiet", *args, *skips, target], cwd=root,
                                  timeout=timeout, label="trivy")
            if result.returncode != 0:
                raise SourceFailed(f"trivy failed (exit {result.returncode}): {result.stderr_tail()}")
            findings += parse_report(result.stdout)
        return Noted(findings, notices)

    def _offline(self, args: Sequence[str], cause: str) -> tuple[list[str], str]:
        """The vulnerability database needs the network: go on with the offline scanners, saying so once;
        with no other scanner asked for, trivy is skipped for that reason."""
        reason = f"trivy's vulnerability database needs the network and could not be downloaded ({cause})"
        offline = without_vulnerabilities(args)
        if offline is None:
            raise SourceSkipped(reason)
        return offline, self.notice(f"vulnerability scan skipped: {reason}; the {offline[-1]} scans ran")
