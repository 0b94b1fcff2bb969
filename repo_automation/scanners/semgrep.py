"""semgrep, with local rules only (config `semgrep_config`: rule files or folders in the repository).

Runs offline: `--metrics=off --disable-version-check`, never the registry. We pass the file list ourselves
(`--no-git-ignore`, so semgrep's default ignores do not silently drop files we chose) and read `--json`.
Rule ids: semgrep prefixes them with the rule file's folder as dotted path; that prefix is removed so a rule
keeps its id (and its findings their fingerprints) wherever the checkout lives.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from repo_automation.context import RunContext
from repo_automation.discover import is_excluded, read_lines
from repo_automation.domain import Finding, Location
from repo_automation.errors import NothingToScan, SourceFailed, SourceSkipped
from repo_automation.scanners.fingerprint import snippet_from_lines, with_code_fingerprints
from repo_automation.scanners.interface import ToolScanner, load_json_report, run_tool
from repo_automation.scanners.normalise import confidence_word, cwe_ids, severity_from_word
from repo_automation.stages import Noted

CODE_SUFFIXES = (".py", ".pyi", ".js", ".ts", ".go", ".java", ".rb", ".sh", ".yml", ".yaml", ".json", ".tf")


def rule_prefixes(configs: Sequence[Path], cwd: Path) -> list[str]:
    """The dotted prefixes semgrep may have put before the rule ids of these config paths."""
    out: list[str] = []
    for c in configs:
        folder = c if c.is_dir() else c.parent
        for base in (folder, folder.relative_to(cwd) if folder.is_relative_to(cwd) else None):
            if base is not None:
                dotted = ".".join(p for p in base.parts if p not in ("/", ""))
                if dotted and dotted != ".":
                    out.append(dotted + ".")
    return sorted(set(out), key=len, reverse=True)


def parse_report(text: str, root: Path, prefixes: Sequence[str] = ()) -> list[Finding]:
    data = load_json_report(text, "semgrep")
    cache: dict[str, list[str]] = {}
    findings = [_finding(r, root, prefixes, cache) for r in data["results"] if isinstance(r, dict)]
    return with_code_fingerprints(findings)


def _finding(r: dict[str, Any], root: Path, prefixes: Sequence[str], cache: dict[str, list[str]]) -> Finding:
    rule = str(r.get("check_id", ""))
    for p in prefixes:
        if rule.startswith(p):
            rule = rule[len(p):]
            break
    path = Path(str(r.get("path", "")))
    rel = (path.relative_to(root) if path.is_absolute() and path.is_relative_to(root) else path).as_posix()
    if rel not in cache:
        cache[rel] = read_lines(root, rel)
    start = (r.get("start") or {}).get("line")
    end = (r.get("end") or {}).get("line")
    extra = r.get("extra") or {}
    meta = extra.get("metadata") or {}
    refs = meta.get("references")
    return Finding(
        tool="semgrep",
        rule_id=rule,
        severity=severity_from_word(meta.get("impact") or extra.get("severity")),
        title=rule.rsplit(".", 1)[-1] or "semgrep finding",
        message=str(extra.get("message", "")),
        fingerprint="",
        confidence=confidence_word(meta.get("confidence")),
        cwe=cwe_ids(meta.get("cwe")),
        location=Location(path=rel, start_line=start, end_line=end, start_column=(r.get("start") or {}).get("col"),
                          snippet=snippet_from_lines(cache[rel], start, end)),
        help_uri=refs[0] if isinstance(refs, list) and refs else meta.get("source"),
    )


@dataclass(kw_only=True)
class SemgrepScanner(ToolScanner):
    name: ClassVar[str] = "semgrep"

    def relevant(self, paths: Sequence[str]) -> list[str]:
        return [p for p in paths if p.endswith(CODE_SUFFIXES) and not is_excluded(p, self.exclude)]

    def scan_tree(self, ctx: RunContext, root: Path, paths: Sequence[str] | None) -> list[Finding]:
        configs = self._configs(ctx)
        files = self._files(root, paths)
        exe = self.tool()
        argv = [exe, "scan", "--json", "--metrics=off", "--disable-version-check", "--no-git-ignore", "--quiet",
                *[a for c in configs for a in ("--config", str(c))], *files]
        timeout = min(self.options.timeout_seconds, ctx.settings.source_timeout_s)
        result = run_tool(argv, cwd=root, timeout=timeout, label="semgrep")
        if result.returncode not in (0, 1):  # 1: findings with --error; other codes are failures
            raise SourceFailed(f"semgrep failed (exit {result.returncode}): {result.stderr_tail()}")
        findings = parse_report(result.stdout, root, rule_prefixes(configs, root))
        return Noted(findings, self._errors(result.stdout))

    def _configs(self, ctx: RunContext) -> list[Path]:
        """The local rule paths: none configured skips semgrep, one that does not exist fails it."""
        if not self.options.semgrep_config:
            raise SourceSkipped("semgrep has no local rules (set automation.security_scanning.semgrep_config)")
        configs = [ctx.workspace / c for c in self.options.semgrep_config]  # the head's rules, also for the base
        missing = [str(c) for c in configs if not c.exists()]
        if missing:
            raise SourceFailed(f"semgrep rule paths not found: {', '.join(missing)}")
        return configs

    def _files(self, root: Path, paths: Sequence[str] | None) -> list[str]:
        """The changed files semgrep reads (or, without a change list, the tree's); none skips semgrep."""
        if paths is not None:
            files = [p for p in self.relevant(paths) if (root / p).is_file()]
        else:
            files = [p for p in self.walk(root) if p.endswith(CODE_SUFFIXES)]
        if not files:
            raise NothingToScan("no files for semgrep to scan")
        return files

    def _errors(self, stdout: str) -> list[str]:
        """semgrep's own errors (a rule it could not parse, a file it could not read): the first five, as notices."""
        out = []
        for err in (json.loads(stdout).get("errors") or [])[:5]:
            text = f"{err.get('type', 'error')}: {err.get('message', '')}" if isinstance(err, dict) else str(err)
            out.append(self.notice(text[:300]))
        return out
