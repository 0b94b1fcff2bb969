"""One finding per problem: merge what several tools (or several manifests) report about one advisory.

Dependency findings are the same when they name the same package (PEP 503) and share an advisory id or
alias (pip-audit's PYSEC-… with alias CVE-…, safety's 39525 with CVE-…, trivy's CVE-…). The merged
finding keeps every tool in `tool` ("pip-audit+safety"), the union of ids (the first tool's id first),
the worst known severity, the union of fixed versions, and the canonical fingerprint. Code findings with
the same fingerprint (one tool, same rule, same snippet and occurrence) are exact duplicates and kept once.
Code findings of different tools on the same line of the same file that share a CWE (bandit's B602 and
semgrep's subprocess-shell-true, both CWE-78) are one problem: the merged finding names every tool in `tool`
("bandit+semgrep"), every tool's rule in `ids` in the order of `tool` (so an ignore of either rule matches
it, and `tool_rules` pairs them again), the union of CWEs, and keeps the first tool's rule id and fingerprint.
PR states merge conservatively: new beats existing beats fixed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import assert_never

from repo_automation.domain import Finding, FindingState, Severity
from repo_automation.scanners.fingerprint import canonical_package, dependency_fingerprint
from repo_automation.scanners.normalise import worst


def _note(tools: Sequence[str], group: Sequence[Finding]) -> str | None:
    """Who reported a merged finding and where, when it is more than one tool or one manifest."""
    locations = sorted({f.location.path for f in group if f.location})
    parts = [f"reported by {', '.join(tools)}"] if len(tools) > 1 else []
    parts += [f"found in {', '.join(locations)}"] if len(locations) > 1 else []
    return "; ".join(parts) or None


def _worst_known(group: Sequence[Finding]) -> Severity:
    known = [f.severity for f in group if f.severity is not Severity.UNKNOWN]
    return worst(known) if known else Severity.UNKNOWN


def _urgency(state: FindingState) -> int:
    """New beats active beats existing beats fixed (policy's ignored/baseline come later, ranked as active)."""
    match state:
        case FindingState.NEW:
            return 0
        case FindingState.ACTIVE | FindingState.IGNORED | FindingState.BASELINE:
            return 1
        case FindingState.EXISTING:
            return 2
        case FindingState.FIXED:
            return 3
        case _:
            assert_never(state)


def _most_urgent_state(group: Sequence[Finding]) -> FindingState:
    return min((f.state for f in group), key=_urgency)


def _union(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _merged_ids(group: Sequence[Finding], *, several_tools: bool) -> tuple[str, ...]:
    """The advisory ids and aliases of a dependency; for a code problem several tools saw, every tool's rule."""
    if group[0].package or not several_tools:
        return _union(i for f in group for i in f.ids)
    return _union(i for f in group for i in (f.ids or (f.rule_id,)))


def _merge(group: list[Finding]) -> Finding:
    first = group[0]
    if len(group) == 1:
        return first
    tools = list(_union(t for f in group for t in f.tool.split("+")))
    ids = _merged_ids(group, several_tools=len(tools) > 1)  # a code problem: one rule per tool, in their order
    return dataclasses.replace(
        first,
        tool="+".join(tools),
        ids=ids,
        severity=_worst_known(group),
        fixed_versions=_union(v for f in group for v in f.fixed_versions),
        cwe=_union(c for f in group for c in f.cwe),
        fingerprint=dependency_fingerprint(first.package or "", ids) if first.package else first.fingerprint,
        message=max((f.message for f in group), key=len),
        help_uri=next((f.help_uri for f in group if f.help_uri), None),
        state=_most_urgent_state(group),
        note=first.note or _note(tools, group),
    )


def _advisory_keys(findings: Iterable[Finding], pkg: str) -> list[tuple[str, str]]:
    return [(pkg, i.upper()) for f in findings for i in f.ids]


def _add_dependency(f: Finding, groups: list[list[Finding]], by_key: dict[tuple[str, str], int]) -> None:
    """Put a dependency finding in the group of any finding sharing package and an advisory id."""
    pkg = canonical_package(f.package or "")
    hits = sorted({by_key[k] for k in _advisory_keys([f], pkg) if k in by_key})
    idx = hits[0] if hits else len(groups)
    if not hits:
        groups.append([])
    for other in hits[1:]:  # this finding links two groups: fold the later into the first
        groups[idx].extend(groups[other])
        for k, v in by_key.items():
            if v == other:
                by_key[k] = idx
        groups[other] = []
    groups[idx].append(f)
    for k in _advisory_keys(groups[idx], pkg):
        by_key[k] = idx


def _line_keys(f: Finding) -> list[tuple[str, int, str]]:
    loc = f.location
    if loc is None or loc.start_line is None or f.package:
        return []
    return [(loc.path, loc.start_line, c) for c in f.cwe]


def _same_line_group(f: Finding, groups: list[list[Finding]], by_line: dict[tuple[str, int, str], int]
                     ) -> int | None:
    """The group of another tool's finding on the same line with a CWE in common, if any."""
    tools = set(f.tool.split("+"))
    for key in _line_keys(f):
        idx = by_line.get(key)
        if idx is not None and not any(tools & set(g.tool.split("+")) for g in groups[idx]):
            return idx
    return None


def tool_rules(f: Finding) -> list[tuple[str, str]]:
    """(tool, rule) of every tool behind a code finding: one pair, or one per tool of a merged one."""
    tools = f.tool.split("+")
    if not f.package and len(tools) > 1 and len(f.ids) == len(tools):
        return list(zip(tools, f.ids, strict=True))
    return [(tools[0], f.rule_id)]


def merge_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Deduplicate across tools, order preserved (a merged finding sits where its first report was)."""
    groups: list[list[Finding]] = []
    by_key: dict[tuple[str, str], int] = {}  # (package, id) -> group index
    by_fp: dict[str, int] = {}
    by_line: dict[tuple[str, int, str], int] = {}  # (path, line, CWE) -> group index
    for f in findings:
        if f.package and f.ids:
            _add_dependency(f, groups, by_key)
            continue
        if f.fingerprint in by_fp:
            idx = by_fp[f.fingerprint]
        elif (same := _same_line_group(f, groups, by_line)) is not None:
            idx = by_fp[f.fingerprint] = same
        else:
            idx = by_fp[f.fingerprint] = len(groups)
            groups.append([])
        groups[idx].append(f)
        for key in _line_keys(f):
            by_line.setdefault(key, idx)
    return [_merge(g) for g in groups if g]
