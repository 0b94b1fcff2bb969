"""safety: needs the Safety platform and an API key (settings.safety_api_key / SAFETY_API_KEY).

Without a key the source is skipped, not failed. With one, each requirements file is checked with
`safety check -r FILE --output json --save-json OUT` (the key in SAFETY_API_KEY, never on the command
line). Why `check` and not `safety scan`, which Safety recommends since 3.0: `check`'s JSON names the CVE of
each advisory, which is what lets a safety finding and a pip-audit finding of the same advisory become one;
`scan` uploads every report to the Safety platform, a write a dry run must not make; and `scan` walks the
directory by its own rules instead of the files our config selects. `check` is deprecated but still
present in safety 3.8.1 (the newest release on 2026-11-29); if a release drops it, the source fails with
safety's own message rather than reporting nothing. A `safety scan` JSON report (`scan_results` →
projects → files → dependencies) is parsed too, so findings of either shape are read alike.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from repo_automation.context import RunContext
from repo_automation.discover import is_excluded, is_lock, is_manifest, read_lines
from repo_automation.domain import Finding, Location, Severity
from repo_automation.errors import NothingToScan, SourceFailed, SourceSkipped
from repo_automation.manifests import pin_lines
from repo_automation.manifests.read import foreign
from repo_automation.redaction import Secret
from repo_automation.scanners.fingerprint import canonical_package, dependency_fingerprint
from repo_automation.scanners.interface import ToolScanner, run_tool
from repo_automation.scanners.normalise import severity_from_word
from repo_automation.stages import Noted


def _severity(value: Any) -> Severity:
    """Safety's severity: null, a word, or {"cvssv3": {"base_severity": …}, "cvssv2": …}."""
    if isinstance(value, dict):
        for key in ("cvssv3", "cvssv2"):
            sub = value.get(key)
            if isinstance(sub, dict):
                word = severity_from_word(sub.get("base_severity"))
                if word is not Severity.UNKNOWN:
                    return word
        return severity_from_word(value.get("level") or value.get("severity"))
    return severity_from_word(value)


def _check_vulns(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for v in data.get("vulnerabilities") or []:
        if isinstance(v, dict) and v.get("vulnerability_id"):
            yield {
                "package": str(v.get("package_name", "")),
                "version": str(v.get("analyzed_version", "")),
                "id": str(v["vulnerability_id"]),
                "cve": v.get("CVE") or None,
                "advisory": str(v.get("advisory") or ""),
                "severity": _severity(v.get("severity")),
                "fixed": tuple(str(f) for f in v.get("fixed_versions") or []),
                "url": v.get("more_info_url") if str(v.get("more_info_url", "")).startswith("http") else None,
            }


def _scan_specs(data: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(dependency, specification) pairs of a `safety scan` report: projects → files → dependencies → specs."""
    for project in (data.get("scan_results") or {}).get("projects") or []:
        for file in project.get("files") or []:
            for dep in ((file.get("results") or {}).get("dependencies")) or []:
                for spec in dep.get("specifications") or []:
                    yield dep, spec


def _scan_vulns(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for dep, spec in _scan_specs(data):
        known = ((spec.get("vulnerabilities") or {}).get("known_vulnerabilities")) or []
        version = str(spec.get("raw", "")).partition("==")[2]
        for v in known:
            if isinstance(v, dict) and v.get("id") and not v.get("ignored"):
                yield {"package": str(dep.get("name", "")), "version": version, "id": str(v["id"]),
                       "cve": None, "advisory": f"vulnerable spec {v.get('vulnerable_spec', '')}",
                       "severity": Severity.UNKNOWN, "fixed": (), "url": None}


def parse_report(text: str, manifest: str, lines: Sequence[str] = ()) -> list[Finding]:
    """A safety JSON report (`check` 2.x/3.x or `scan` 3.x) -> findings located in `manifest`."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SourceFailed(f"safety wrote output that is not JSON ({e})") from e
    if not isinstance(data, dict) or not ("vulnerabilities" in data or "scan_results" in data):
        raise SourceFailed("safety's JSON report has neither 'vulnerabilities' nor 'scan_results'")
    found = list(_check_vulns(data)) + list(_scan_vulns(data))
    where = pin_lines(manifest, "\n".join(lines))
    out = []
    for v in found:
        ids = (v["id"], v["cve"]) if v["cve"] else (v["id"],)
        safety_id = v["id"] if v["id"].upper().startswith(("CVE-", "GHSA-", "PYSEC-")) else f"SAFETY-{v['id']}"
        ids = (safety_id, *ids[1:])
        line = where.get(canonical_package(v["package"]))
        out.append(Finding(
            tool="safety",
            rule_id=safety_id,
            severity=v["severity"],
            title=f"{v['package']} {v['version']}: {v['cve'] or safety_id}",
            message=v["advisory"],
            fingerprint=dependency_fingerprint(v["package"], ids),
            location=Location(path=manifest, start_line=line, end_line=line),
            package=canonical_package(v["package"]),
            version=v["version"],
            fixed_versions=v["fixed"],
            ids=ids,
            help_uri=v["url"],
        ))
    return out


@dataclass(kw_only=True)
class SafetyScanner(ToolScanner):
    name: ClassVar[str] = "safety"
    api_key: Secret | None = None

    @classmethod
    def from_context(cls, ctx: RunContext, **kwargs: Any) -> SafetyScanner:
        return cls(api_key=ctx.settings.safety_api_key, **kwargs)

    def relevant(self, paths: Sequence[str]) -> list[str]:
        return [p for p in paths if is_manifest(p) and not p.endswith("pyproject.toml") and not is_lock(p)
                and not is_excluded(p, self.exclude)]

    def scan_tree(self, ctx: RunContext, root: Path, paths: Sequence[str] | None) -> list[Finding]:
        if not self.api_key:
            raise SourceSkipped("safety needs a Safety API key (input safety-api-key or SAFETY_API_KEY)")
        files: list[str] = []
        left_out: list[str] = []  # named like requirements files but none (safety would fail on them)
        for m in self.manifests(root, paths):
            if m.endswith("pyproject.toml") or is_lock(m):
                continue
            why = foreign(root / m)
            if why:
                left_out.append(f"left out, {m}: {why}")
            else:
                files.append(m)
        if not files:
            raise NothingToScan("; ".join(["no requirements files to check", *left_out[:5]]))
        exe = self.tool()
        findings: list[Finding] = []
        for manifest in files:
            findings += self._check(ctx, exe, root, manifest)
        return Noted(findings, [self.notice(text) for text in left_out]) if left_out else findings

    def _check(self, ctx: RunContext, exe: str, root: Path, manifest: str) -> list[Finding]:
        timeout = min(self.options.timeout_seconds, ctx.settings.source_timeout_s)
        env = {**os.environ, "SAFETY_API_KEY": self.api_key.reveal() if self.api_key else ""}
        with tempfile.TemporaryDirectory(prefix="ra-safety-") as tmp:
            out = Path(tmp) / "safety.json"
            argv = [exe, "check", "-r", manifest, "--output", "json", "--save-json", str(out)]
            result = run_tool(argv, cwd=root, timeout=timeout, env=env, label="safety")
            # safety exits 64 (3.x) or 255 (2.x) when it found vulnerabilities
            if result.returncode not in (0, 64, 255) or not out.is_file():
                raise SourceFailed(f"safety failed (exit {result.returncode}): {result.stderr_tail()}")
            text = out.read_text(encoding="utf-8", errors="replace")
        return parse_report(text, manifest, read_lines(root, manifest))
